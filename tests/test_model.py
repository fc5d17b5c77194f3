"""Typed views: pod specs of every workload kind, effective command lines and environments; the indexes rules
share."""

from __future__ import annotations

from pathlib import Path

import pytest

from servegate.findings import Confidence
from servegate.model.k8s import Inventory, objects_in
from servegate.model.mounts import mounted_files, parse_properties
from servegate.model.servers import identify
from servegate.model.workloads import pod_specs
from servegate.scan import ScanOptions, scan, select_rules
from servegate.sources.yaml_loader import load_documents


def inventory_of(text: str) -> Inventory:
    documents, error = load_documents(text)
    assert error is None
    return Inventory.of(obj for doc in documents for obj in objects_in("m.yaml", doc.data))


def pods(text: str):
    inventory = inventory_of(text)
    return [pod for obj in inventory.objects for pod in pod_specs(obj, inventory)]


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n"
         "      containers: [{name: a}]\n", [("", ("spec", "template", "spec"), ["a"])]),
        ("apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  jobTemplate:\n    spec:\n"
         "      template:\n        spec:\n          containers: [{name: a}]\n",
         [("", ("spec", "jobTemplate", "spec", "template", "spec"), ["a"])]),
        ("apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec:\n  template:\n    spec:\n"
         "      containers: [{name: a}]\n", [("", ("spec", "template", "spec"), ["a"])]),
        ("apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: i}\nspec:\n"
         "  predictor:\n    model: {modelFormat: {name: sklearn}, storageUri: 's3://m/x'}\n"
         "  transformer:\n    containers: [{name: t, image: acme/t:1}]\n",
         [("predictor", ("spec", "predictor"), ["kserve-container"]),
          ("transformer", ("spec", "transformer"), ["t"])]),
        ("apiVersion: serving.kserve.io/v1alpha1\nkind: ServingRuntime\nmetadata: {name: s}\nspec:\n"
         "  containers: [{name: kserve-container, image: nvcr.io/nvidia/tritonserver:24.01-py3}]\n",
         [("", ("spec",), ["kserve-container"])]),
        ("apiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\nmetadata: {name: s}\nspec:\n"
         "  predictors:\n  - name: main\n    componentSpecs:\n    - spec:\n        containers: [{name: clf}]\n",
         [("predictor main", ("spec", "predictors", 0, "componentSpecs", 0, "spec"), ["clf"])]),
        ("apiVersion: ray.io/v1\nkind: RayService\nmetadata: {name: r}\nspec:\n  rayClusterConfig:\n"
         "    headGroupSpec:\n      template:\n        spec:\n          containers: [{name: head}]\n"
         "    workerGroupSpecs:\n    - groupName: gpu\n      template:\n        spec:\n"
         "          containers: [{name: worker}]\n",
         [("head", ("spec", "rayClusterConfig", "headGroupSpec", "template", "spec"), ["head"]),
          ("worker gpu", ("spec", "rayClusterConfig", "workerGroupSpecs", 0, "template", "spec"), ["worker"])]),
        ("apiVersion: kubeflow.org/v1\nkind: PyTorchJob\nmetadata: {name: p}\nspec:\n  pytorchReplicaSpecs:\n"
         "    Master:\n      template:\n        spec:\n          containers: [{name: pytorch}]\n",
         [("Master", ("spec", "pytorchReplicaSpecs", "Master", "template", "spec"), ["pytorch"])]),
    ],
)
def test_pod_specs_of_every_kind(manifest: str, expected):
    found = [(p.role, p.path, [c.name for c in p.containers]) for p in pods(manifest)]
    assert found == expected


def test_ml_crds_and_gpu_pods_are_inference_workloads():
    manifest = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: gpu}\nspec:\n  containers:\n"
        "  - {name: a, image: acme/app:1, resources: {limits: {nvidia.com/gpu: 1}}}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: a, image: nginx:1}]\n"
    )
    assert [p.is_inference for p in pods(manifest)] == [True, False]


MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: serving-env, namespace: ml}
data:
  MODEL_REPO: s3://acme-models/triton
  MODE: explicit
---
apiVersion: v1
kind: ConfigMap
metadata: {name: ts-config, namespace: ml}
data:
  config.properties: |
    inference_address=http://0.0.0.0:8080
    # a comment
    enable_model_api=true
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: triton, namespace: ml}
spec:
  template:
    spec:
      volumes:
      - name: cfg
        configMap: {name: ts-config}
      containers:
      - name: triton
        image: nvcr.io/nvidia/tritonserver:24.01-py3
        envFrom:
        - configMapRef: {name: serving-env}
        env:
        - {name: ADMIN_KEY, valueFrom: {secretKeyRef: {name: k, key: k}}}
        - {name: MODE, value: poll}
        command: ["/bin/sh", "-c"]
        args:
        - >-
          tritonserver --model-repository=$(MODEL_REPO) --model-control-mode $(MODE)
          --http-restricted-api=model-repository:admin-key=$(ADMIN_KEY) && echo $$(HOME)
        volumeMounts:
        - {name: cfg, mountPath: /home/model-server/config}
"""


def test_effective_command_line_splits_shell_scripts_and_expands_variables():
    container = pods(MANIFEST)[0].containers[0]
    argv = container.argv
    assert argv.value("--model-repository")[0] == "s3://acme-models/triton"
    assert argv.value("--model-control-mode")[0] == "poll"  # env overrides envFrom
    # A Secret's value is unknown: the reference stays as written.
    assert argv.value("--http-restricted-api")[0] == "model-repository:admin-key=$(ADMIN_KEY)"
    assert "$(HOME)" in argv.text
    word = argv.find("--model-control-mode")
    assert word.path[-2:] == ("args", 0)
    assert argv.has_program("tritonserver") is not None
    assert identify(container) == {"triton"}


def test_environment_records_where_each_value_comes_from():
    env = pods(MANIFEST)[0].containers[0].env
    assert (env["MODEL_REPO"].value, env["MODEL_REPO"].source) == ("s3://acme-models/triton", "configmap")
    assert (env["ADMIN_KEY"].value, env["ADMIN_KEY"].source) == (None, "secret")
    assert env["MODE"].path[-1] == "value"


def test_files_mounted_from_configmaps():
    container = pods(MANIFEST)[0].containers[0]
    (config,) = mounted_files(container)
    assert config.path == "/home/model-server/config/config.properties"
    properties = parse_properties(config.text)
    assert properties["enable_model_api"] == ("true", 2)


def test_python_module_programs_are_recognised():
    manifest = ("apiVersion: v1\nkind: Pod\nmetadata: {name: v}\nspec:\n  containers:\n"
                "  - name: llm\n    image: acme/llm:1\n"
                "    command: [python3, -m, vllm.entrypoints.openai.api_server, --model, org/m]\n")
    container = pods(manifest)[0].containers[0]
    assert identify(container) == {"vllm"}
    assert container.argv.value("--model")[0] == "org/m"


def test_objects_near_one_include_every_object_deployed_with_it_either_way():
    """``Inventory.near`` stands in for pairing an object with every other (quadratic in a monorepo): it must
    never miss one that ``deployed_together`` accepts, in either order."""
    files = ["root.yaml", "app/a.yaml", "app/b.yaml", "app/sub/c.yaml", "repo/config/manager/m.yaml",
             "repo/config/rbac/r.yaml", "repo/config/default/kustomization.yaml", "repo/other/deep/x/o.yaml",
             "repo/base/s.yaml", "elsewhere/z.yaml", "/abs/dir/f.yaml"]
    kustomization = ("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../manager, "
                     "../rbac, ../../base/s.yaml]\n")
    objects = []
    for index, file in enumerate(files):
        text = kustomization if file.endswith("kustomization.yaml") else \
            f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{index}}}\n"
        for document in load_documents(text)[0]:
            objects.extend(objects_in(file, document.data))
    inventory = Inventory.of(objects)
    checked = 0
    for obj in objects:
        near = inventory.near(obj, "ConfigMap")
        assert near == [o for o in objects if o in near]  # in inventory order
        for other in objects:
            if other.kind == "ConfigMap" and (inventory.deployed_together(obj, other) or
                                              inventory.deployed_together(other, obj)):
                assert other in near, (obj.file, other.file)
                checked += 1
    assert checked > len(files)  # kustomize builds and shared folders made pairs, not only each object alone
    manager = next(o for o in objects if o.file == "repo/config/manager/m.yaml")
    assert {o.file for o in inventory.near(manager, "ConfigMap")} >= {"repo/config/rbac/r.yaml"}
    assert "elsewhere/z.yaml" not in {o.file for o in inventory.near(manager, "ConfigMap")}


def test_a_bound_account_names_the_binding_of_its_own_namespace():
    # KUBE-015 finds the account's binding through an index of ServiceAccount subjects: the binding of another
    # namespace and a User subject of the same name must not be taken for it.
    fixture = Path(__file__).parent / "fixtures" / "rules" / "KUBE-015" / "fail_token_automount.yaml"
    result = scan([fixture], ScanOptions(rules=select_rules(("KUBE-015",))))
    (bound,) = [f for f in result.findings if f.resource == "ServiceAccount/ml/trainer"]
    assert (bound.rule_id, bound.location.line, bound.confidence) == ("KUBE-015", 60, Confidence.LOW)
    assert "RoleBinding/ml/trainer-reads grants it a role" in bound.message
