"""One normalised pod-spec view for every workload kind, including the ML CRDs.

A ``PodSpec`` is a mapping with Kubernetes PodSpec fields wherever it sits: ``spec`` of a Pod,
``spec.template.spec`` of a Deployment, ``spec.predictor`` of a KServe InferenceService (whose
model-format shorthand is a container), ``spec.headGroupSpec.template.spec`` of a RayCluster, ...
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterator

from servegate.model.cmdline import Argv, EnvVar, expand_vars
from servegate.model.k8s import Inventory, K8sObject
from servegate.model.servers import fingerprint
from servegate.sources.located import Path, get_path

TEMPLATE_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "Rollout", "Notebook"}
)
KSERVE_COMPONENTS = ("predictor", "transformer", "explainer")
# Model-format shorthand keys of a KServe component: each is a container without a name.
KSERVE_SHORTHANDS = (
    "model", "sklearn", "xgboost", "tensorflow", "pytorch", "triton", "onnx", "pmml", "lightgbm", "paddle",
    "huggingface", "alibi", "art",
)
RAY_KINDS = {"RayCluster": (), "RayService": ("rayClusterConfig",), "RayJob": ("rayClusterSpec",)}
ML_CRD_KINDS = frozenset(
    {"InferenceService", "LLMInferenceService", "ServingRuntime", "ClusterServingRuntime", "SeldonDeployment",
     "RayCluster", "RayService", "RayJob", "Notebook", "ServerConfig"}
)
GPU_RESOURCE_PREFIXES = ("nvidia.com/", "amd.com/gpu", "gpu.intel.com/", "google.com/tpu", "habana.ai/", "aws.amazon.com/neuron")


@dataclass(frozen=True, eq=False)
class PodSpec:
    """A pod template of some object, with where it sits and what produced it."""

    obj: K8sObject
    path: Path  # absolute path of the PodSpec mapping inside the document
    meta_path: Path | None  # absolute path of the pod template's metadata, when there is one
    role: str  # "" for plain workloads; "predictor", "head", "worker[gpu-group]", ...
    group_path: Path  # the CRD section that produced the pod (holds rayStartParams, traffic, ...)
    inventory: Inventory

    @cached_property
    def spec(self) -> dict:
        value = get_path(self.obj.doc, self.path)
        return value if isinstance(value, dict) else {}

    def at(self, *steps: str | int) -> Path:
        return self.path + steps

    def get(self, *steps: str | int, default: Any = None) -> Any:
        return get_path(self.spec, steps, default)

    @property
    def display(self) -> str:
        return f"{self.obj.ref} ({self.role})" if self.role else self.obj.ref

    @property
    def metadata(self) -> dict:
        value = get_path(self.obj.doc, self.meta_path) if self.meta_path else None
        return value if isinstance(value, dict) else {}

    @property
    def labels(self) -> dict:
        labels = self.metadata.get("labels")
        labels = dict(labels) if isinstance(labels, dict) else {}
        if self.obj.kind in RAY_KINDS:  # KubeRay labels the pods it creates
            node_type = "head" if self.role == "head" else "worker"
            labels.setdefault("ray.io/cluster", self.obj.name)
            labels.setdefault("ray.io/node-type", node_type)
            if node_type == "worker":
                labels.setdefault("ray.io/group", self.role.removeprefix("worker "))
        return labels

    @property
    def annotations(self) -> dict:
        merged = dict(self.obj.annotations) if self.obj.kind in ML_CRD_KINDS else {}
        own = self.metadata.get("annotations")
        if isinstance(own, dict):
            merged.update(own)
        return merged

    @cached_property
    def containers(self) -> tuple[Container, ...]:
        return tuple(_containers(self))

    @property
    def main_containers(self) -> tuple[Container, ...]:
        return tuple(c for c in self.containers if not c.init)

    @property
    def service_account(self) -> str:
        name = self.get("serviceAccountName") or self.get("serviceAccount")
        return str(name) if name else "default"

    @cached_property
    def volumes(self) -> tuple[tuple[int, dict], ...]:
        """(index, volume) for every volume mapping, named or not."""
        volumes = self.get("volumes")
        return tuple((i, v) for i, v in enumerate(volumes if isinstance(volumes, list) else ()) if isinstance(v, dict))

    def volume(self, name: str) -> tuple[int, dict] | None:
        return next(((i, v) for i, v in self.volumes if v.get("name") == name), None)

    @property
    def ml_kind(self) -> str:
        return self.obj.kind if self.obj.kind in ML_CRD_KINDS else ""

    @cached_property
    def is_inference(self) -> bool:
        """Serves or hosts models: an ML CRD, a GPU request, an NVIDIA runtime or a model-server image."""
        if self.ml_kind:
            return True
        if "nvidia" in str(self.get("runtimeClassName") or "").lower():
            return True
        return any(c.requests_gpu or c.servers for c in self.containers)


@dataclass(frozen=True, eq=False)
class Container:
    pod: PodSpec
    path: Path  # absolute path of the container mapping
    init: bool
    default_name: str = ""

    @cached_property
    def spec(self) -> dict:
        value = get_path(self.pod.obj.doc, self.path)
        return value if isinstance(value, dict) else {}

    @property
    def obj(self) -> K8sObject:
        return self.pod.obj

    @property
    def name(self) -> str:
        return str(self.spec.get("name") or self.default_name or "?")

    @property
    def image(self) -> str:
        image = self.spec.get("image")
        return image if isinstance(image, str) else ""

    @property
    def display(self) -> str:
        kind = "init container" if self.init else "container"
        return f"{kind} `{self.name}` in {self.pod.display}"

    def at(self, *steps: str | int) -> Path:
        return self.path + steps

    def get(self, *steps: str | int, default: Any = None) -> Any:
        return get_path(self.spec, steps, default)

    def resources(self, section: str) -> dict:
        value = self.get("resources", section)
        return value if isinstance(value, dict) else {}

    @property
    def requests_gpu(self) -> bool:
        """Asks the device plugin for an accelerator (a quantity of 0 asks for none)."""
        for section in ("limits", "requests"):
            for name, quantity in self.resources(section).items():
                if isinstance(name, str) and name.startswith(GPU_RESOURCE_PREFIXES) and str(quantity).strip() not in ("0", ""):
                    return True
        return False

    def security(self, field: str) -> tuple[Any, Path | None]:
        """A securityContext field as the kubelet applies it: the container's, else the pod's."""
        value = self.get("securityContext", field)
        if value is not None:
            return value, self.at("securityContext", field)
        if field in POD_LEVEL_SECURITY_FIELDS:
            value = self.pod.get("securityContext", field)
            if value is not None:
                return value, self.pod.at("securityContext", field)
        return None, None

    @cached_property
    def env(self) -> dict[str, EnvVar]:
        return _environment(self)

    @cached_property
    def argv(self) -> Argv:
        items: list[tuple[str, Path]] = []
        for key in ("command", "args"):
            values = self.get(key)
            if isinstance(values, list):
                items.extend((str(v), self.at(key, i)) for i, v in enumerate(values) if v is not None)
            elif isinstance(values, str):  # not valid Kubernetes, but common in CRD shorthands
                items.append((values, self.at(key)))
        return Argv.build(items, self.env)

    @cached_property
    def servers(self) -> frozenset[str]:
        """The model servers or ML applications this container runs (see ``servers.identify``)."""
        return fingerprint(self)

    @property
    def is_fragment(self) -> bool:
        """Completed elsewhere, so a missing setting may not be missing: a KServe model-format shorthand
        (merged with its ServingRuntime's container), a container without an image (completed by a patch
        or a controller), or a container of a Kustomize patch that the patched object already has."""
        if self.default_name or not self.spec.get("image"):
            return True
        inventory = self.pod.inventory
        if not inventory.is_patch(self.obj):
            return False
        bases = [o for o in inventory.named(self.obj.kind, self.obj.name) if not inventory.is_patch(o)]
        # A container the patched object lacks is a whole new one (a sidecar), not a fragment.
        return not bases or any(other.name == self.name for base in bases for pod in pod_specs(base, inventory)
                                for other in pod.containers)

    def mounts(self) -> Iterator[tuple[int, dict]]:
        mounts = self.get("volumeMounts")
        for index, mount in enumerate(mounts if isinstance(mounts, list) else ()):
            if isinstance(mount, dict):
                yield index, mount


POD_LEVEL_SECURITY_FIELDS = frozenset(
    {"runAsNonRoot", "runAsUser", "runAsGroup", "seccompProfile", "seLinuxOptions", "windowsOptions", "appArmorProfile"}
)


def _environment(container: Container) -> dict[str, EnvVar]:
    """envFrom ConfigMaps from the scan first, then ``env`` entries, which override them."""
    obj = container.obj
    env: dict[str, EnvVar] = {}
    sources = container.get("envFrom")
    for source in sources if isinstance(sources, list) else ():
        if not isinstance(source, dict):
            continue
        prefix = str(source.get("prefix") or "")
        ref = source.get("configMapRef")
        if isinstance(ref, dict) and ref.get("name"):
            configmap = container.pod.inventory.find("ConfigMap", obj.effective_namespace, str(ref["name"]))
            data = configmap.get("data") if configmap else None
            if isinstance(data, dict) and configmap is not None:
                for key, value in data.items():
                    name = prefix + str(key)
                    env[name] = EnvVar(name, _text(value), configmap.at("data", key), configmap.file, "configmap",
                                       configmap.doc)
    entries = container.get("env")
    for index, entry in enumerate(entries if isinstance(entries, list) else ()):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        name = entry["name"]
        path = container.at("env", index)
        if "value" in entry:
            value = expand_known(_text(entry.get("value")), env)
            env[name] = EnvVar(name, value, container.at("env", index, "value"), obj.file, "value", obj.doc)
            continue
        ref = entry.get("valueFrom", {}).get("configMapKeyRef") if isinstance(entry.get("valueFrom"), dict) else None
        configmap = container.pod.inventory.find("ConfigMap", obj.effective_namespace, str(ref.get("name"))) \
            if isinstance(ref, dict) else None
        data = configmap.get("data") if configmap is not None else None
        if configmap is not None and isinstance(data, dict) and ref.get("key") in data:
            env[name] = EnvVar(name, _text(data[ref["key"]]), configmap.at("data", ref["key"]), configmap.file,
                               "configmap", configmap.doc)
        else:
            env[name] = EnvVar(name, None, path, obj.file, _value_from_kind(entry.get("valueFrom")), obj.doc)
    return env


def expand_known(value: str | None, env: dict[str, EnvVar]) -> str | None:
    return expand_vars(value, env) if value is not None else None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _value_from_kind(value_from: Any) -> str:
    if not isinstance(value_from, dict):
        return "unknown"
    for key, kind in (("secretKeyRef", "secret"), ("configMapKeyRef", "configmap"), ("fieldRef", "field"),
                      ("resourceFieldRef", "resource")):
        if key in value_from:
            return kind
    return "unknown"


def _containers(pod: PodSpec) -> Iterator[Container]:
    for key, init in (("initContainers", True), ("containers", False), ("ephemeralContainers", False)):
        items = pod.get(key)
        for index, item in enumerate(items if isinstance(items, list) else ()):
            if isinstance(item, dict):
                yield Container(pod, pod.at(key, index), init)
    if pod.obj.kind in ("InferenceService", "LLMInferenceService") and pod.role in KSERVE_COMPONENTS:
        for key in KSERVE_SHORTHANDS:
            if isinstance(pod.get(key), dict):
                yield Container(pod, pod.at(key), False, default_name="kserve-container")


def pod_specs(obj: K8sObject, inventory: Inventory) -> tuple[PodSpec, ...]:
    """Every pod template of an object, in document order; built once per inventory, so the containers' derived
    facts (environment, command line, model servers) are too, whichever rules ask."""
    def build() -> tuple[K8sObject, tuple[PodSpec, ...]]:  # the object is kept so that its id stays its own
        return obj, tuple(PodSpec(obj, obj.at(*spec), obj.at(*meta) if meta is not None else None, role,
                                  obj.at(*group), inventory) for spec, meta, role, group in _templates(obj))

    return inventory.memo(("pod_specs", id(obj)), build)[1]


Template = tuple[Path, Path | None, str, Path]


def _template_at(prefix: Path, role: str = "") -> Template:
    return prefix + ("template", "spec"), prefix + ("template", "metadata"), role, prefix


def _templates(obj: K8sObject) -> Iterator[Template]:
    kind, data = obj.kind, obj.data
    if kind == "Pod":
        yield ("spec",), ("metadata",), "", ()
    elif kind in TEMPLATE_KINDS or (kind in ("Service", "Configuration") and obj.group == "serving.knative.dev"):
        if isinstance(get_path(data, ("spec", "template")), dict):
            yield _template_at(("spec",))
    elif kind == "PodTemplate":
        yield ("template", "spec"), ("template", "metadata"), "", ()
    elif kind == "CronJob":
        yield _template_at(("spec", "jobTemplate", "spec"))
    elif kind == "LLMInferenceService":
        yield from _llm_inference_service(data)
    elif kind == "InferenceService":
        for component in KSERVE_COMPONENTS:
            if isinstance(get_path(data, ("spec", component)), dict):
                yield ("spec", component), None, component, ("spec", component)
    elif kind in ("ServingRuntime", "ClusterServingRuntime"):
        yield ("spec",), None, "", ("spec",)
    elif kind == "SeldonDeployment":
        yield from _seldon(data)
    elif kind in RAY_KINDS:
        yield from _ray(data, ("spec",) + RAY_KINDS[kind])
        if kind == "RayJob" and isinstance(get_path(data, ("spec", "submitterPodTemplate")), dict):
            yield ("spec", "submitterPodTemplate", "spec"), ("spec", "submitterPodTemplate", "metadata"), \
                "submitter", ("spec",)
    elif kind == "ServerConfig" and isinstance(get_path(data, ("spec", "podSpec")), dict):  # Seldon Core v2
        yield ("spec", "podSpec"), None, "", ("spec",)
    elif kind == "LeaderWorkerSet":
        for part in ("leaderTemplate", "workerTemplate"):
            prefix = ("spec", "leaderWorkerTemplate", part)
            if isinstance(get_path(data, prefix), dict):
                yield prefix + ("spec",), prefix + ("metadata",), part, prefix
    elif kind.endswith("Job") and isinstance(get_path(data, ("spec",)), dict):
        yield from _training_job(data)


def _llm_inference_service(data: dict) -> Iterator[Template]:
    """KServe LLMInferenceService: ``spec.template`` and ``spec.worker`` pods, and the same under ``prefill``."""
    for prefix, role in ((("spec",), "decode"), (("spec", "prefill"), "prefill")):
        for part in ("template", "worker"):
            if isinstance(get_path(data, prefix + (part,)), dict):
                yield prefix + (part,), None, f"{role} {part}", prefix


def _seldon(data: dict) -> Iterator[Template]:
    predictors = get_path(data, ("spec", "predictors"))
    for i, predictor in enumerate(predictors if isinstance(predictors, list) else ()):
        specs = predictor.get("componentSpecs") if isinstance(predictor, dict) else None
        name = predictor.get("name", i) if isinstance(predictor, dict) else i
        for j, component in enumerate(specs if isinstance(specs, list) else ()):
            if isinstance(component, dict) and isinstance(component.get("spec"), dict):
                base = ("spec", "predictors", i, "componentSpecs", j)
                yield base + ("spec",), base + ("metadata",), f"predictor {name}", ("spec", "predictors", i)


def _ray(data: dict, prefix: Path) -> Iterator[Template]:
    if isinstance(get_path(data, prefix + ("headGroupSpec", "template")), dict):
        yield _template_at(prefix + ("headGroupSpec",), "head")
    workers = get_path(data, prefix + ("workerGroupSpecs",))
    for i, group in enumerate(workers if isinstance(workers, list) else ()):
        if isinstance(group, dict) and isinstance(group.get("template"), dict):
            yield _template_at(prefix + ("workerGroupSpecs", i), f"worker {group.get('groupName', i)}")


def _training_job(data: dict) -> Iterator[Template]:
    """Kubeflow training jobs: ``spec.<x>ReplicaSpecs.<Role>.template``."""
    spec = data["spec"]
    for key, replicas in spec.items():
        if isinstance(key, str) and key.endswith("ReplicaSpecs") and isinstance(replicas, dict):
            for role, replica in replicas.items():
                if isinstance(replica, dict) and isinstance(replica.get("template"), dict):
                    yield _template_at(("spec", key, role), str(role))
