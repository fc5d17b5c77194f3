"""The resource graph: exposure paths, RBAC, cloud identities across layers, canary pairs, and `servegate graph`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from servegate.cli import main
from servegate.model.canary import canary_pairs, extra_privileges
from servegate.model.cloud import parse_storage_uri
from servegate.model.graph import EdgeKind
from servegate.model.rbac import dangerous_powers, rule_allows
from servegate.scan import ScanOptions, scan, select_rules

FIXTURES = Path(__file__).parent / "fixtures" / "rules"


def graph_of(tmp_path: Path, files: dict[str, str]):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    result = scan([tmp_path], ScanOptions(rules=()))
    assert result.errors == []
    return result.inventory.graph


def pod_named(graph, display: str):
    return next(p for p in graph.pods if p.display == display)


SERVING = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: triton, namespace: ml}
spec:
  selector: {matchLabels: {app: triton}}
  template:
    metadata: {labels: {app: triton}}
    spec:
      serviceAccountName: triton
      containers:
      - name: triton
        image: nvcr.io/nvidia/tritonserver:25.08-py3
        ports: [{containerPort: 8000, name: http}]
---
apiVersion: v1
kind: Service
metadata: {name: triton, namespace: ml}
spec:
  selector: {app: triton}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: models, namespace: ml}
spec:
  rules:
  - http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: triton, port: {number: 80}}}}
"""


def test_ingress_service_and_named_port_make_one_way_in(tmp_path):
    graph = graph_of(tmp_path, {"serving.yaml": SERVING})
    pod = pod_named(graph, "Deployment/ml/triton")
    ways = [(r.source, r.text, r.port, r.authenticated) for r in graph.reach(pod)]
    assert ways == [
        ("cluster", "Service/ml/triton port 80 -> container `triton` in Deployment/ml/triton port 8000", 8000, None),
        ("internet", "Ingress/ml/models (/) -> Service/ml/triton port 80 -> container `triton` in "
                     "Deployment/ml/triton port 8000", 8000, None),
    ]
    outside = graph.external_reach(pod)[0]
    assert [(h.obj.ref, h.obj.locate(h.path).line) for h in outside.hops] == [
        ("Ingress/ml/models", 29), ("Service/ml/triton", 20), ("Deployment/ml/triton", 13)]
    kinds = sorted({(e.kind.value, getattr(e.source, "ref", ""), getattr(e.target, "ref", "")) for e in graph.edges
                    if e.kind in (EdgeKind.ROUTES_TO, EdgeKind.RUNS_AS)})
    assert kinds == [("routes-to", "Ingress/ml/models", "Service/ml/triton"),
                     ("runs-as", "", "ServiceAccount/ml/triton")]


def test_selectors_respect_namespaces_and_unrelated_folders(tmp_path):
    service = "apiVersion: v1\nkind: Service\nmetadata: {name: triton%s}\nspec:\n  selector: {app: triton}\n" \
              "  ports: [{port: 8000}]\n"
    graph = graph_of(tmp_path, {
        "repo-a/app/serving.yaml": SERVING.split("---")[0],
        "repo-a/app/other-namespace.yaml": service % ", namespace: batch",
        "repo-b/deploy/service.yaml": service % "",  # the default namespace, chosen at deploy time
    })
    pod = pod_named(graph, "Deployment/ml/triton")
    assert graph.reach(pod) == []
    unlabelled = graph_of(tmp_path / "together", {"app.yaml": SERVING.split("---")[0].replace("namespace: ml", ""),
                                                   "svc.yaml": service % ""})
    assert [r.service.ref for r in unlabelled.reach(unlabelled.pods[0])] == ["Service/triton"]


RBAC = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: model-ops}
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {acme.io/aggregate-to-model-ops: "true"}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: model-ops-secrets
  labels: {acme.io/aggregate-to-model-ops: "true"}
rules:
- {apiGroups: [""], resources: ["secrets"], verbs: ["list"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: everyone, namespace: ml}
subjects: [{kind: Group, name: "system:serviceaccounts:ml", apiGroup: rbac.authorization.k8s.io}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: model-ops}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: triton-view}
subjects: [{kind: User, name: "system:serviceaccount:ml:triton", apiGroup: rbac.authorization.k8s.io}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
"""


def test_effective_rbac_through_groups_users_aggregation_and_built_in_roles(tmp_path):
    graph = graph_of(tmp_path, {"serving.yaml": SERVING, "rbac.yaml": RBAC})
    grants = graph.grants(pod_named(graph, "Deployment/ml/triton"))
    summary = sorted((g.binding.ref, g.role.ref, g.scope, getattr(g.aggregated_from, "ref", None)) for g in grants)
    assert summary[0] == ("ClusterRoleBinding/triton-view", "ClusterRole/edit", "", None)
    assert summary[-1] == ("RoleBinding/ml/everyone", "ClusterRole/model-ops-secrets", "ml", "ClusterRole/model-ops")
    assert len(summary) == 6  # five rules of the built-in edit role, one aggregated rule
    secrets = next(g for g in grants if g.role.ref == "ClusterRole/model-ops-secrets")
    assert dangerous_powers(secrets) == ["list secrets"]


@pytest.mark.parametrize(("rule", "verb", "resource", "group", "allowed"), [
    ({"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}, "create", "pods/exec", "", False),
    ({"apiGroups": [""], "resources": ["pods/*"], "verbs": ["create"]}, "create", "pods/exec", "", True),
    ({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, "get", "secrets", "", True),
    ({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["patch"]}, "patch", "deployments", "", False),
    ({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}, "list", "secrets", "", False),
])
def test_rule_allows_follows_kubernetes_wildcards(rule, verb, resource, group, allowed):
    assert rule_allows(rule, verb, resource, group) is allowed


POLICIES = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: ml}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: triton-egress, namespace: ml}
spec:
  podSelector: {matchLabels: {app: triton}}
  policyTypes: [Egress]
  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}}]}]
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: ml}
spec: {selector: {matchLabels: {app: triton}}, jwtRules: [{issuer: "https://idp.example.com"}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: require-jwt, namespace: ml}
spec:
  selector: {matchLabels: {app: triton}}
  rules: [{from: [{source: {requestPrincipals: ["*"]}}]}]
"""


def test_network_policy_coverage_and_istio_policies(tmp_path):
    graph = graph_of(tmp_path, {"serving.yaml": SERVING, "policies.yaml": POLICIES})
    pod = pod_named(graph, "Deployment/ml/triton")
    network = graph.network(pod)
    assert [p.name for p in network.ingress] == ["default-deny"]
    assert [p.name for p in network.egress] == ["default-deny", "triton-egress"]
    assert (network.ingress_open, network.egress_open) == (False, True)
    assert (network.default_deny_ingress.name, network.default_deny_egress.name) == ("default-deny", "default-deny")
    assert [p.ref for p in graph.istio_policies(pod, "PeerAuthentication")] == ["PeerAuthentication/istio-system/default"]
    assert graph.istio_auth(pod) == "Istio AuthorizationPolicy/ml/require-jwt"
    assert {r.authenticated for r in graph.reach(pod)} == {"Istio AuthorizationPolicy/ml/require-jwt"}


WORKLOAD_POLICIES = """\
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: whole-namespace, namespace: ml}
spec: {action: ALLOW}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: gateway-only, namespace: ml}
spec: {targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: edge}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: not-a-selector, namespace: ml}
spec: {selector: [app, triton]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: other-app, namespace: ml}
spec: {selector: {matchLabels: {app: vllm}}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: mesh-triton, namespace: istio-system}
spec: {selector: {matchLabels: {app: triton}}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: mesh-gateway, namespace: istio-system}
spec: {targetRef: {kind: Gateway, group: gateway.networking.k8s.io, name: edge}}
"""


def test_istio_policies_apply_by_workload_selector_only(tmp_path):
    # Worked out once per namespace and kind (``_workload_selectors``), then matched against each pod's labels.
    graph = graph_of(tmp_path, {"serving.yaml": SERVING, "policies.yaml": POLICIES, "workload.yaml": WORKLOAD_POLICIES})
    pod = pod_named(graph, "Deployment/ml/triton")
    assert [p.ref for p in graph.istio_policies(pod, "AuthorizationPolicy")] == [
        "AuthorizationPolicy/ml/require-jwt", "AuthorizationPolicy/ml/whole-namespace",
        "AuthorizationPolicy/istio-system/mesh-triton"]


ACCOUNTS = """\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: %s
  namespace: ml
  annotations: {%s: "%s"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: %s, namespace: ml}
spec:
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s}}
    spec:
      serviceAccountName: %s
      containers: [{name: server, image: "vllm/vllm-openai:v0.10.1", args: ["--model", "%s"]}]
"""


def account(name: str, annotation: str, value: str, uri: str) -> str:
    return ACCOUNTS % (name, annotation, value, name, name, name, name, uri)


CLOUD = """\
resource "aws_s3_bucket" "models" { bucket = "acme-models" }
resource "aws_iam_role" "fraud" {
  name               = "fraud-app"
  assume_role_policy = "{}"
  managed_policy_arns = ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
}
resource "aws_iam_role_policy" "fraud" {
  role   = aws_iam_role.fraud.name
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "s3:PutObject", Resource = "${aws_s3_bucket.models.arn}/fraud/*" }] })
}
resource "aws_iam_role" "churn" {
  name               = "churn-app"
  assume_role_policy = "{}"
}
resource "aws_eks_pod_identity_association" "churn" {
  cluster_name    = "gpu"
  namespace       = "ml"
  service_account = "churn"
  role_arn        = aws_iam_role.churn.arn
}
resource "google_service_account" "ranker" {
  project    = "acme-prod"
  account_id = "ranker"
}
resource "google_storage_bucket_iam_member" "ranker" {
  bucket = "acme-gcs-models"
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.ranker.email}"
}
resource "azurerm_user_assigned_identity" "vision" {
  name                = "vision"
  location            = "westeurope"
  resource_group_name = "ml"
}
resource "azurerm_federated_identity_credential" "vision" {
  name                = "vision"
  resource_group_name = "ml"
  parent_id           = azurerm_user_assigned_identity.vision.id
  audience            = ["api://AzureADTokenExchange"]
  issuer              = "https://oidc.example.com"
  subject             = "system:serviceaccount:ml:vision"
}
resource "azurerm_role_assignment" "vision" {
  scope                = "/subscriptions/0000/resourceGroups/ml"
  role_definition_name = "Storage Blob Data Owner"
  principal_id         = azurerm_user_assigned_identity.vision.principal_id
}
resource "azurerm_storage_account" "models" {
  name                     = "acmeblobmodels"
  resource_group_name      = "ml"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "ZRS"
}
"""


def test_identities_across_layers_and_what_they_reach(tmp_path):
    graph = graph_of(tmp_path, {
        "k8s/fraud.yaml": account("fraud", "eks.amazonaws.com/role-arn", "arn:aws:iam::123456789012:role/fraud-app",
                                  "s3://acme-models/fraud/v3"),
        "k8s/churn.yaml": account("churn", "app", "churn", "s3://acme-models/churn/v7"),
        "k8s/ranker.yaml": account("ranker", "iam.gke.io/gcp-service-account",
                                   "ranker@acme-prod.iam.gserviceaccount.com", "gs://acme-gcs-models/ranker"),
        "k8s/vision.yaml": account("vision", "azure.workload.identity/client-id", "0000-1111",
                                   "https://acmeblobmodels.blob.core.windows.net/vision/v1"),
        "infra/main.tf": CLOUD,
    })
    found = {}
    for name in ("fraud", "churn", "ranker", "vision"):
        pod = pod_named(graph, f"Deployment/ml/{name}")
        found[name] = ([(link.identity.ref, link.via.ref) for link in graph.identities(pod)],
                       sorted((a.target, tuple(sorted(a.access))) for a in graph.store_access(pod)))
    assert found["fraud"] == (
        [("aws_iam_role.fraud", "ServiceAccount/ml/fraud")],
        [("every bucket", ("read",)), ("s3://acme-models", ("read",)), ("s3://acme-models/fraud/*", ("write",))])
    assert found["churn"] == ([("aws_iam_role.churn", "aws_eks_pod_identity_association.churn")], [])
    assert found["ranker"] == ([("google_service_account.ranker", "ServiceAccount/ml/ranker")],
                               [("gs://acme-gcs-models", ("read",))])
    assert found["vision"][0][-1] == ("azurerm_user_assigned_identity.vision",
                                      "azurerm_federated_identity_credential.vision")
    assert found["vision"][1] == [("every bucket", ("admin", "read", "write")),
                                  ("https://acmeblobmodels.blob.core.windows.net", ("admin", "read", "write"))]
    fraud = pod_named(graph, "Deployment/ml/fraud")
    assert [(loc.store.ref, loc.key, loc.own_prefix) for loc in graph.locations(fraud)] == [
        ("s3://acme-models", "fraud/v3", "fraud/")]


def test_identity_from_a_kubernetes_service_account_declared_in_terraform(tmp_path):
    graph = graph_of(tmp_path, {"main.tf": """\
resource "aws_iam_role" "serve" {
  name               = "serve"
  assume_role_policy = "{}"
}
resource "kubernetes_service_account_v1" "serve" {
  metadata {
    name        = "serve"
    namespace   = "ml"
    annotations = { "eks.amazonaws.com/role-arn" = aws_iam_role.serve.arn }
  }
}
resource "kubernetes_deployment_v1" "serve" {
  metadata {
    name      = "serve"
    namespace = "ml"
  }
  spec {
    template {
      metadata { labels = { app = "serve" } }
      spec {
        service_account_name = "serve"
        container {
          name  = "vllm"
          image = "vllm/vllm-openai:v0.10.1"
        }
      }
    }
  }
}
"""})
    pod = graph.serving_pods()[0]
    assert [(link.identity.ref, link.how) for link in graph.identities(pod)] == [
        ("aws_iam_role.serve", "IRSA annotation on kubernetes_service_account_v1.serve")]


def test_sagemaker_serving_chain(tmp_path):
    source = FIXTURES / "MLS-K8S-013" / "fail_sagemaker_variants.tf"
    graph = graph_of(tmp_path, {"main.tf": source.read_text()})
    chain = sorted((e.kind.value, e.source.address, getattr(e.target, "address", getattr(e.target, "ref", "")))
                   for e in graph.edges if e.kind in (EdgeKind.ROUTES_TO, EdgeKind.RUNS_AS))
    assert chain == [
        ("routes-to", "aws_sagemaker_endpoint_configuration.fraud", "aws_sagemaker_model.fraud_v3"),
        ("routes-to", "aws_sagemaker_endpoint_configuration.fraud", "aws_sagemaker_model.fraud_v4"),
        ("runs-as", "aws_sagemaker_model.fraud_v3", "aws_iam_role.fraud_v3"),
        ("runs-as", "aws_sagemaker_model.fraud_v4", "aws_iam_role.fraud_v4"),
    ]


def pairs(graph) -> list[tuple[str, str]]:
    return [(pair.stable.label, pair.canary.label) for pair in canary_pairs(graph)]


DEPLOYMENT = """\
apiVersion: %s
kind: %s
metadata: {name: %s, namespace: ml}
spec:
  selector: {matchLabels: {app: fraud, version: %s}}
  %s
  template:
    metadata: {labels: {app: fraud, version: %s}}
    spec:
      serviceAccountName: %s
      containers: [{name: server, image: "vllm/vllm-openai:v0.10.1"}]
"""


def deployment(name: str, version: str, account: str = "fraud", kind: str = "Deployment", extra: str = "") -> str:
    api = "argoproj.io/v1alpha1" if kind == "Rollout" else "apps/v1"
    return DEPLOYMENT % (api, kind, name, version, extra or "replicas: 2", version, account)


def test_canary_pairs_from_rollouts_kserve_seldon_and_version_labels(tmp_path):
    rollout = deployment("fraud-rollout", "v4", kind="Rollout",
                         extra="strategy: {canary: {stableService: fraud-stable, canaryService: fraud-canary}}")
    stable_service = "apiVersion: v1\nkind: Service\nmetadata: {name: fraud-stable, namespace: ml}\n" \
                     "spec: {selector: {app: fraud, version: v3}, ports: [{port: 80}]}\n"
    graph = graph_of(tmp_path / "rollout", {"r.yaml": rollout + "---\n" + deployment("fraud", "v3") + "---\n" +
                                            stable_service})
    assert pairs(graph) == [("Deployment/ml/fraud (stable, behind Service/ml/fraud-stable)",
                             "Rollout/ml/fraud-rollout (canary strategy)")]  # found twice, reported once
    isvc = "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: fraud, namespace: ml}\n" \
           "spec:\n  predictor:\n%s    model: {modelFormat: {name: sklearn}, storageUri: 's3://m/fraud/%s'}\n"
    graph = graph_of(tmp_path / "kserve", {"stable/isvc.yaml": isvc % ("", "v3"),
                                           "canary/isvc.yaml": isvc % ("    canaryTrafficPercent: 10\n", "v4")})
    assert [p.how for p in canary_pairs(graph)] == [
        "InferenceService/ml/fraud in canary/isvc.yaml takes 10% of the traffic of the revision in stable/isvc.yaml "
        "(canaryTrafficPercent)"]
    seldon = """\
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: fraud, namespace: ml}
spec:
  predictors:
  - name: main
    traffic: 75
    graph: {name: model, implementation: SKLEARN_SERVER, modelUri: "gs://m/fraud/v3"}
    componentSpecs: [{spec: {containers: [{name: model, image: "seldonio/sklearnserver:1.18.0"}]}}]
  - name: candidate
    traffic: 25
    graph: {name: model, implementation: SKLEARN_SERVER, modelUri: "gs://m/fraud/v4"}
    componentSpecs: [{spec: {containers: [{name: model, image: "seldonio/sklearnserver:1.18.0"}]}}]
"""
    graph = graph_of(tmp_path / "seldon", {"sdep.yaml": seldon})
    assert [p.how for p in canary_pairs(graph)] == ["SeldonDeployment/ml/fraud sends 25% to predictor candidate"]
    assert extra_privileges(graph, canary_pairs(graph)[0]) == []


def test_a_clean_canary_has_no_extra_privileges_and_a_broad_one_lists_each(tmp_path):
    clean = graph_of(tmp_path / "clean", {"d.yaml": deployment("fraud-v3", "v3") + "---\n" +
                                          deployment("fraud-v4-canary", "v4")})
    assert len(canary_pairs(clean)) == 1 and extra_privileges(clean, canary_pairs(clean)[0]) == []
    broad = graph_of(tmp_path / "broad", {"d.yaml": deployment("fraud-v3", "v3") + "---\n" +
                                          deployment("fraud-v4-canary", "v4", account="ml-admin") + "---\n" +
                                          "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n"
                                          "metadata: {name: admin, namespace: ml}\n"
                                          "subjects: [{kind: ServiceAccount, name: ml-admin}]\n"
                                          "roleRef: {kind: ClusterRole, name: cluster-admin}\n"})
    extra = extra_privileges(broad, canary_pairs(broad)[0])
    assert [(p.category, p.text, p.dangerous) for p in extra] == [
        ("RBAC", "holds ClusterRole/cluster-admin in namespace ml through RoleBinding/ml/admin (* on *)", True)]


@pytest.mark.parametrize(("uri", "expected"), [
    ("s3://acme-models/fraud/v3/model.tar.gz", ("s3", "acme-models", "fraud/v3/model.tar.gz")),
    ("https://acme-models.s3.eu-west-1.amazonaws.com/fraud/v3", ("s3", "acme-models", "fraud/v3")),
    ("gs://acme/ranker", ("gcs", "acme", "ranker")),
    ("https://storage.googleapis.com/acme/ranker/v1", ("gcs", "acme", "ranker/v1")),
    ("https://acct.blob.core.windows.net/models/vision", ("azure-blob", "acct", "models/vision")),
    ("abfss://models@acct.dfs.core.windows.net/vision/v1", ("azure-blob", "acct", "models/vision/v1")),
    ("hf://meta-llama/Llama-3.1-8B", None),
    ("/models/fraud", None),
])
def test_storage_uris(uri, expected):
    assert parse_storage_uri(uri) == expected


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_graph_command_text_json_and_dot(capsys):
    target = str(FIXTURES / "MLS-IAM-001" / "fail_irsa_from_manifest")
    code, out, _ = run(capsys, "graph", target)
    assert code == 0
    assert out.splitlines()[:9] == [
        "Deployment/ml/fraud  (k8s/fraud.yaml:22)",
        "  reached from: nothing in the scan routes to it",
        "  runs as: ServiceAccount/ml/fraud (token not mounted)",
        "    assumes aws_iam_role.fraud (IRSA annotation on ServiceAccount/ml/fraud)",
        "  may, in the cloud:",
        "    s3:GetObject, s3:PutObject on arn:aws:s3:::acme-artifacts/fraud/* (as aws_iam_role.fraud, "
        "data.aws_iam_policy_document.fraud)",
        "  artifact stores:",
        "    loads: s3://acme-artifacts/fraud/v3",
        "    read, write: s3://acme-artifacts/fraud/*",
    ]
    code, out, _ = run(capsys, "graph", target, "--format", "json")
    document = json.loads(out)
    workload = document["workloads"][0]
    assert (document["version"], workload["workload"], workload["identity"]["cloud"]) == (
        1, "Deployment/ml/fraud", [{"provider": "aws", "identity": "aws_iam_role.fraud",
                                    "how": "IRSA annotation on ServiceAccount/ml/fraud", "file": "k8s/fraud.yaml",
                                    "line": 8}])
    assert workload["cloud_permissions"] == [{"identity": "aws_iam_role.fraud",
                                              "grant": "s3:GetObject, s3:PutObject on arn:aws:s3:::acme-artifacts/fraud/*",
                                              "via": "data.aws_iam_policy_document.fraud", "file": "infra/main.tf",
                                              "line": 17}]
    assert {"kind": "assumes", "source": "ServiceAccount/ml/fraud", "target": "aws_iam_role.fraud",
            "note": "IRSA annotation on ServiceAccount/ml/fraud", "file": "k8s/fraud.yaml", "line": 8} \
        in document["edges"]
    code, out, _ = run(capsys, "graph", target, "-f", "dot")
    assert out.startswith("digraph servegate {\n") and out.endswith("}\n")
    assert 'n0 [label="Deployment/ml/fraud", shape=ellipse, style=bold];' in out
    assert 'n1 -> n2 [label="assumes\\nIRSA annotation on ServiceAccount/ml/fraud"];' in out


def test_graph_command_fails_closed_on_unreadable_input(tmp_path, capsys):
    (tmp_path / "broken.yaml").write_text("kind: [\n")
    code, out, err = run(capsys, "graph", str(tmp_path))
    assert code == 2 and out == "No model-serving workload in the scan.\n"
    assert "broken.yaml" in err


def test_graph_findings_carry_the_path_as_related_locations_in_json_and_sarif(capsys):
    target = str(FIXTURES / "MLS-IAM-008" / "fail_rbac.yaml")
    _, out, _ = run(capsys, "scan", target, "--select", "MLS-IAM-008", "-f", "json")
    finding = json.loads(out)["findings"][0]
    assert (finding["line"], finding["severity"]) == (23, "critical")
    assert [(r["line"], r["message"]) for r in finding["related"]] == [
        (12, "RoleBinding/llm/vllm-secrets binds ServiceAccount/llm/vllm"),
        (7, "Role/llm/read-secrets: get,list on secrets"),
        (45, "Ingress/llm/vllm (/v1/chat/completions) (reachable from outside the cluster)"),
        (35, "Service/llm/vllm port 80"),
        (28, "container `vllm` in Deployment/llm/vllm port 8000"),
    ]
    _, out, _ = run(capsys, "scan", target, "--select", "MLS-IAM-008", "-f", "sarif")
    result = json.loads(out)["runs"][0]["results"][0]
    related = result["relatedLocations"]
    assert [r["physicalLocation"]["region"]["startLine"] for r in related] == [12, 7, 45, 35, 28]
    assert related[2]["message"]["text"] == "Ingress/llm/vllm (/v1/chat/completions) (reachable from outside the cluster)"


def test_graph_rules_run_only_when_selected_and_build_the_graph_once(tmp_path):
    (tmp_path / "serving.yaml").write_text(SERVING)
    result = scan([tmp_path], ScanOptions(rules=select_rules(["MLS-MESH-008", "MLS-IAM-008"])))
    graph = result.inventory.graph
    assert [f.rule_id for f in result.findings] == ["MLS-MESH-008"]
    assert result.inventory.graph is graph
