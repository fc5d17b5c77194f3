"""Rules across resources and layers (the catalogue's graph section G-01..G-10), on the resource graph.

Where the catalogue says a graph walk drives an existing rule, the walk's logic lives with that rule:

- G-01 (effective RBAC of inference pods) is MLS-IAM-008 here.
- G-02 (external exposure path) is ``ResourceGraph.reach``: it raises severity in this module and in
  ``mesh`` and drives MLS-MESH-008.
- G-03 (workload identity -> storage) extends MLS-IAM-001/002/003 of ``aws_cloud`` to roles that Kubernetes
  workloads assume (IRSA, EKS Pod Identity), and is MLS-IAM-001-GCP/-AZ and MLS-IAM-003-GCP/-AZ here for GKE
  and Azure Workload Identity; MLS-IAM-003-K8S is its counterpart for volumes.
- G-04 (SageMaker serving chain) and G-07 (model-bucket classification) are edges of the graph (endpoint ->
  configuration -> model -> role -> bucket) used by MLS-K8S-013, the ``aws_cloud`` rules and ``servegate graph``.
- G-05 (managed-platform chains) stays with MLS-IAM-006/007 and the Vertex/Azure ML rules in ``gcp``/``azure``.
- G-06 (canary vs stable) is MLS-K8S-013 here.
- G-09 (ingress controller blast radius) raises MLS-MESH-006 to critical in ``mesh``.
- G-08 and G-10 report facts no catalogue rule owns, as MLS-G-008 and MLS-G-010.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterator

from servegate.findings import Confidence, Severity
from servegate.model.canary import canary_pairs, extra_privileges, model_name
from servegate.model.cloud import ADMIN, READ, WRITE, IdentityLink, StoreAccess
from servegate.model.graph import Hop, ModelLocation, Reach, ResourceGraph, VolumeUse, pod_key
from servegate.model.rbac import dangerous_powers, describe_rule
from servegate.model.workloads import Container, PodSpec
from servegate.rules.base import Hit, RelatedHit, RuleSet, Scope
from servegate.sources.located import get_path

rules = RuleSet("graph")

CIS = "CIS Kubernetes Benchmark v1.9"
NSA = "NSA/CISA Kubernetes Hardening Guidance v1.2"
ML05 = "OWASP ML05:2023 Model Theft"
ML10 = "OWASP ML10:2023 Model Poisoning"
LLM04 = "OWASP LLM04:2025 Data and Model Poisoning"
SHARED_SOURCES = ("persistentVolumeClaim", "hostPath", "nfs", "csi", "azureFile", "cephfs", "glusterfs")


def _related(hops: tuple[Hop, ...] | list[Hop], limit: int = 6) -> tuple[RelatedHit, ...]:
    return tuple(RelatedHit(h.obj, h.path, h.text) for h in list(hops)[:limit])


def _open_reach(graph: ResourceGraph, pod: PodSpec) -> Reach | None:
    return next((r for r in graph.external_reach(pod) if not r.authenticated), None)


def _reach_related(reach: Reach | None) -> tuple[RelatedHit, ...]:
    if reach is None:
        return ()
    return tuple(RelatedHit(h.obj, h.path, f"{h.text} (reachable from outside the cluster)" if i == 0 else h.text)
                 for i, h in enumerate(reach.hops))


# --- MLS-IAM-008 (G-01) -------------------------------------------------------------------------------------

def _ray_autoscaler(pod: PodSpec) -> bool:
    """A KubeRay head with the in-tree autoscaler creates and deletes its worker pods itself."""
    spec = get_path(pod.obj.doc, pod.group_path[:-1]) if pod.role == "head" else None
    return isinstance(spec, dict) and spec.get("enableInTreeAutoscaling") is True


def _role(grant: Any) -> str:
    if grant.aggregated_from is not None:
        return f"{grant.aggregated_from.ref}, which aggregates {grant.role.ref}"
    return grant.role.ref


@rules.rule(
    id="MLS-IAM-008", name="inference-account-cluster-powers",
    title="Inference pods' Kubernetes ServiceAccount can read Secrets, exec into pods or create workloads",
    severity=Severity.HIGH, scope=Scope.GRAPH,
    rationale="""
        Model servers face the internet and often run code that came with the model (pickles, custom handlers,
        `trust_remote_code`). A service-account token that can read Secrets, exec into pods, create workloads,
        mint tokens or bind roles turns one compromised model server into a compromised cluster.""",
    remediation="""
        Give each model server its own ServiceAccount with no RoleBinding at all (KServe and Seldon fetch storage
        credentials through their controllers), set `automountServiceAccountToken: false`, and mount a Secret
        as a volume when the server needs one. If it must call the API, bind a Role with `resourceNames` and the
        single verb it uses.""",
    bad="""
        kind: Role
        rules: [{apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"]}]
        ---
        kind: RoleBinding
        subjects: [{kind: ServiceAccount, name: vllm, namespace: llm}]
        roleRef: {kind: Role, name: read-secrets}""",
    good="""
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: vllm, namespace: llm}
        automountServiceAccountToken: false   # and no RoleBinding naming it""",
    references=(f"{CIS} 5.1.2", f"{CIS} 5.1.3", f"{CIS} 5.1.4", f"{CIS} 5.1.6", f"{NSA}: Authentication and "
                "authorization", "Triton Inference Server: Secure Deployment Considerations",
                "MITRE ATLAS AML.T0055", "MITRE ATLAS AML.T0106"),
)
def inference_account_powers(graph: ResourceGraph) -> Iterator[Hit]:
    for pod in graph.serving_pods():
        found: list[tuple[Any, list[str]]] = []
        for grant in graph.grants(pod):
            powers = dangerous_powers(grant)
            if _ray_autoscaler(pod):
                powers = [p for p in powers if not p.startswith("create or change")]
            if powers:
                found.append((grant, powers))
        if not found:
            continue
        account = graph.account(pod)
        mounted = graph.token_mounted(pod)
        reach = _open_reach(graph, pod) if mounted else None
        powers_text = "; ".join(f"{', '.join(powers)} {grant.where} (through {grant.binding.ref} -> {_role(grant)})"
                                for grant, powers in found[:4])
        related: list[RelatedHit] = []
        for grant, _ in found[:4]:
            related.append(RelatedHit(grant.binding, grant.subject_path, f"{grant.binding.ref} binds {account.ref}"))
            if grant.rule_path is not None:
                related.append(RelatedHit(grant.role, grant.rule_path, f"{grant.role.ref}: {describe_rule(grant.rule)}"))
        if not mounted:
            severity, tail = Severity.MEDIUM, "; the token is not automounted, so only a pod that mounts it gets them"
        elif reach is not None:
            severity, tail = Severity.CRITICAL, f"; the pod is reachable from outside the cluster ({reach.text})"
        else:
            severity, tail = None, "; its token is mounted in the pod"
        yield Hit(graph.account_path(pod), f"{pod.display} runs as {account.ref}, which may {powers_text}{tail}",
                  obj=pod.obj, severity=severity, related=tuple(related) + _reach_related(reach))


# --- MLS-K8S-013 (G-06) -------------------------------------------------------------------------------------

@rules.rule(
    id="MLS-K8S-013", name="canary-broader-than-stable",
    title="Canary/shadow model revision runs with broader privileges than the stable revision",
    severity=Severity.HIGH, scope=Scope.GRAPH,
    rationale="""
        A canary or shadow revision receives real user traffic, but its manifest is often copied from an
        experimental branch: a broader ServiceAccount or cloud role (write access to the model bucket), extra
        volumes with other models, added capabilities, host access, open egress or extra Secrets. Whatever the
        canary may do, an attacker who reaches it through the traffic split may do.""",
    remediation="""
        Give the canary exactly the stable revision's privileges, changing only the model it loads: a dedicated
        ServiceAccount (and IAM role) that reads only the canary's model prefix, only its own model volume,
        the stable's securityContext, NetworkPolicies and Secrets.""",
    bad="""
        # stable: serviceAccountName: fraud-v3-serve      canary:
        spec: {template: {spec: {serviceAccountName: ml-admin,
          volumes: [{name: all-models, persistentVolumeClaim: {claimName: shared-models}}]}}}""",
    good="""
        spec: {template: {spec: {serviceAccountName: fraud-v4-serve,   # reads s3://models/fraud/v4/* only
          volumes: [{name: model, persistentVolumeClaim: {claimName: fraud-v4-model, readOnly: true}}]}}}""",
    references=("KServe docs: Canary rollout (canaryTrafficPercent)", "Istio docs: Traffic Shifting",
                "Argo Rollouts docs: Canary", ML10, ML05, "MITRE ATLAS AML.T0018.000", "MITRE ATLAS AML.T0035"),
)
def canary_broader(graph: ResourceGraph) -> Iterator[Hit]:
    for pair in canary_pairs(graph):
        reach = next((r for pod in pair.canary.pods for r in graph.external_reach(pod)), None)
        for privilege in extra_privileges(graph, pair):
            severity = Severity.CRITICAL if privilege.dangerous and reach is not None else None
            related = (RelatedHit(pair.split.obj, pair.split.path, pair.how),
                       RelatedHit(pair.stable.anchor, pair.stable.path, f"the stable revision {pair.stable.label}"))
            yield Hit(privilege.path, f"canary {pair.canary.label} {privilege.text}; the stable revision "
                                      f"{pair.stable.label} does not ({pair.how})",
                      obj=privilege.obj, severity=severity,
                      related=related + _related(privilege.related) + _reach_related(reach)[:1])


# --- cross-model reads and model writes through workload identity (G-03) --------------------------------------

def _model_store(graph: ResourceGraph, access: StoreAccess) -> list[ModelLocation]:
    if access.store is None:
        return []
    return [loc for loc in graph.locations_in(access.store) if access.covers(loc.key)]


def _identity_related(link: Any, pod: PodSpec, graph: ResourceGraph) -> tuple[RelatedHit, ...]:
    return (RelatedHit(pod.obj, graph.account_path(pod), f"{pod.display} runs as {graph.account(pod).ref}"),
            RelatedHit(link.via, link.path, link.how))


def _writes_models(graph: ResourceGraph, provider: str) -> Iterator[Hit]:
    seen: set[tuple[int, tuple, int]] = set()
    for pod in graph.serving_pods():
        reach = _open_reach(graph, pod)
        for link in graph.identities(pod):
            if link.identity.provider != provider:
                continue
            for access in graph.cloud.store_access(link.identity):
                if not access.access & {WRITE, ADMIN}:
                    continue
                models = _model_store(graph, access)
                if not models:
                    continue
                permission = access.permission
                key = (id(permission.via), permission.path, id(pod.obj))
                if key in seen:
                    continue
                seen.add(key)
                kinds = " and ".join(sorted(access.access & {WRITE, ADMIN}))
                shown = ", ".join(dict.fromkeys(m.uri for m in models[:3]))
                yield Hit(permission.path, f"{permission.via.ref} gives {link.identity.ref}, the identity of serving "
                                           f"pod {pod.display}, {kinds} access ({permission.text}) to "
                                           f"{access.target}, which holds the models {shown}",
                          obj=permission.via, severity=Severity.CRITICAL if reach is not None else None,
                          related=_identity_related(link, pod, graph) +
                          tuple(RelatedHit(m.obj, m.path, f"{m.uri} is loaded here") for m in models[:2]) +
                          _reach_related(reach)[:1])


def _reads_other_models(graph: ResourceGraph, provider: str) -> Iterator[Hit]:
    seen: set[tuple[int, tuple, int]] = set()
    for pod in graph.serving_pods():
        links = [link for link in graph.identities(pod) if link.identity.provider == provider]
        if not links:
            continue
        mine = model_name(pod, graph)
        own = {(loc.store, loc.own_prefix) for loc in graph.locations(pod)}
        for link in links:
            for access in graph.cloud.store_access(link.identity):
                if READ not in access.access or access.store is None:
                    continue
                exposed = [loc for loc in graph.locations_in(access.store)
                           if loc.pod is not None and model_name(loc.pod, graph) != mine and access.covers(loc.key)
                           and (loc.store, loc.own_prefix) not in own]
                if not exposed:
                    continue
                permission = access.permission
                key = (id(permission.via), permission.path, id(pod.obj))
                if key in seen:
                    continue
                seen.add(key)
                other = exposed[0]
                assert other.pod is not None
                yield Hit(permission.path, f"{permission.via.ref} lets {link.identity.ref}, the identity of "
                                           f"{pod.display} (model {model_name(pod, graph)}), read {access.target}, "
                                           f"which holds {other.uri} of model {model_name(other.pod, graph)}",
                          obj=permission.via,
                          related=_identity_related(link, pod, graph) +
                          (RelatedHit(other.obj, other.path, f"{other.pod.display} loads {other.uri}"),))


_WRITE_METADATA = dict(
    severity=Severity.HIGH, scope=Scope.GRAPH,
    references=(ML10, "OWASP ML02:2023 Data Poisoning", LLM04, "MITRE ATLAS AML.T0018.000", "MITRE ATLAS AML.T0076"),
)


@rules.rule(
    id="MLS-IAM-001-GCP", name="serving-identity-writes-models-gcp",
    title="Serving identity (GKE Workload Identity) can write, delete or re-ACL model artifacts",
    rationale="""
        A model server needs to read its model, nothing more. When the Google service account its Kubernetes
        service account impersonates may create, overwrite or delete objects in the model bucket, any code
        execution in the server becomes persistent model poisoning for every replica that loads the model.""",
    remediation="""
        Bind `roles/storage.objectViewer` on the model bucket (or a managed folder) to the serving Google
        service account; let a separate CI identity hold `objectCreator`/`objectAdmin`.""",
    bad="""
        resource "google_storage_bucket_iam_member" "serve" {
          bucket = google_storage_bucket.models.name
          role   = "roles/storage.objectAdmin"
          member = "serviceAccount:${google_service_account.fraud_serve.email}"
        }""",
    good="""
        resource "google_storage_bucket_iam_member" "serve" {
          bucket = google_storage_bucket.models.name
          role   = "roles/storage.objectViewer"
          member = "serviceAccount:${google_service_account.fraud_serve.email}"
        }""",
    **_WRITE_METADATA,
)
def serving_identity_writes_gcp(graph: ResourceGraph) -> Iterator[Hit]:
    yield from _writes_models(graph, "gcp")


@rules.rule(
    id="MLS-IAM-001-AZ", name="serving-identity-writes-models-azure",
    title="Serving identity (Azure Workload Identity) can write, delete or re-ACL model artifacts",
    rationale="""
        A model server needs to read its model, nothing more. When the managed identity its Kubernetes service
        account federates with holds `Storage Blob Data Contributor`/`Owner` (or `Contributor`) on the model
        storage, any code execution in the server becomes persistent model poisoning.""",
    remediation="""
        Assign `Storage Blob Data Reader` on the model container only
        (`${azurerm_storage_account.models.id}/blobServices/default/containers/fraud`); let CI hold the
        contributor role.""",
    bad="""
        resource "azurerm_role_assignment" "serve" {
          scope                = azurerm_storage_account.models.id
          role_definition_name = "Storage Blob Data Contributor"
          principal_id         = azurerm_user_assigned_identity.fraud.principal_id
        }""",
    good="""
        resource "azurerm_role_assignment" "serve" {
          scope                = azurerm_storage_container.fraud.resource_manager_id
          role_definition_name = "Storage Blob Data Reader"
          principal_id         = azurerm_user_assigned_identity.fraud.principal_id
        }""",
    **_WRITE_METADATA,
)
def serving_identity_writes_azure(graph: ResourceGraph) -> Iterator[Hit]:
    yield from _writes_models(graph, "azure")


_CROSS_METADATA = dict(
    severity=Severity.MEDIUM, scope=Scope.GRAPH,
    references=(ML05, "OWASP LLM02:2025 Sensitive Information Disclosure", "MITRE ATLAS AML.T0035",
                "MITRE ATLAS AML.T0044"),
)


@rules.rule(
    id="MLS-IAM-003-GCP", name="serving-identity-cross-model-read-gcp",
    title="Serving identity (GKE Workload Identity) can read other models' artifacts",
    rationale="""
        A bucket-level role reaches every object of the bucket. When several models share a bucket, the
        serving identity of one model reads the weights of all of them, so one compromised model server
        exposes every model stored there.""",
    remediation="""
        Give each model its own bucket or managed folder and bind the serving account there, or add an IAM
        condition `resource.name.startsWith("projects/_/buckets/<bucket>/objects/<model>/")`.""",
    bad='role = "roles/storage.objectViewer"   # on the whole bucket shared by fraud and churn',
    good='google_storage_managed_folder_iam_member { managed_folder = "fraud/" role = "roles/storage.objectViewer" }',
    **_CROSS_METADATA,
)
def cross_model_read_gcp(graph: ResourceGraph) -> Iterator[Hit]:
    yield from _reads_other_models(graph, "gcp")


@rules.rule(
    id="MLS-IAM-003-AZ", name="serving-identity-cross-model-read-azure",
    title="Serving identity (Azure Workload Identity) can read other models' artifacts",
    rationale="""
        A role assignment on a storage account (or a resource group) reaches every container and blob in it.
        When several models share the account, the serving identity of one model reads the weights of all of
        them.""",
    remediation="Assign `Storage Blob Data Reader` at the scope of the model's own container.",
    bad='scope = azurerm_storage_account.models.id   # fraud and churn models both live in this account',
    good='scope = "${azurerm_storage_account.models.id}/blobServices/default/containers/fraud"',
    **_CROSS_METADATA,
)
def cross_model_read_azure(graph: ResourceGraph) -> Iterator[Hit]:
    yield from _reads_other_models(graph, "azure")


def _shared(use: VolumeUse) -> bool:
    return use.kind in SHARED_SOURCES


@rules.rule(
    id="MLS-IAM-003-K8S", name="serving-pod-mounts-other-model-volume",
    title="Serving pod mounts a volume that holds another model's artifacts",
    severity=Severity.MEDIUM, scope=Scope.GRAPH,
    rationale="""
        A PersistentVolumeClaim, host path or network share mounted by the servers of two different models
        gives each of them the other's weights (and, when mounted writable, the means to replace them). One
        compromised model server then exposes every model on the volume.""",
    remediation="""
        Give each model its own claim (or KServe storage-initializer volume), mounted `readOnly: true` by that
        model's server only.""",
    bad="""
        # fraud and churn servers both mount claim shared-models
        volumes: [{name: models, persistentVolumeClaim: {claimName: shared-models}}]""",
    good="volumes: [{name: model, persistentVolumeClaim: {claimName: fraud-v3-model, readOnly: true}}]",
    references=_CROSS_METADATA["references"],
)
def cross_model_volume(graph: ResourceGraph) -> Iterator[Hit]:
    users: dict[tuple, list[VolumeUse]] = defaultdict(list)
    for pod in graph.serving_pods():
        for use in graph.volumes(pod):
            if _shared(use):
                users[use.source].append(use)
    for uses in users.values():
        for use in uses:
            mine = model_name(use.pod, graph)
            others = [o for o in uses if model_name(o.pod, graph) != mine and graph.linked(use.pod.obj, o.pod.obj)]
            if not others:
                continue
            other = others[0]
            access = "read-write" if use.writable else "read-only"
            yield Hit(use.path, f"{use.pod.display} (model {mine}) mounts {use.label} {access}, which "
                                f"{other.pod.display} (model {model_name(other.pod, graph)}) also mounts for its "
                                "model", obj=use.pod.obj, severity=Severity.HIGH if use.writable else None,
                      related=tuple(RelatedHit(o.pod.obj, o.path, f"{o.pod.display} mounts it") for o in others[:3]))


# --- MLS-G-008 ----------------------------------------------------------------------------------------------

def _interactive_identities(graph: ResourceGraph) -> Iterator[tuple[Any, Any, str]]:
    """(identity link, anchor pod or resource, who) for notebooks and training jobs, in Kubernetes and
    Terraform (SageMaker notebooks and domains, Vertex Workbench)."""
    for pod in graph.interactive_pods():
        for link in graph.identities(pod):
            yield link, pod, pod.display
    cloud = graph.cloud
    for notebook in cloud.managed("aws_sagemaker_notebook_instance"):
        for identity in cloud.aws_role(notebook.values.get("role_arn"), notebook):
            yield _link(identity, notebook, ("role_arn",), "notebook role"), notebook, notebook.address
    for kind, path in (("aws_sagemaker_domain", ("default_user_settings", 0, "execution_role")),
                       ("aws_sagemaker_user_profile", ("user_settings", 0, "execution_role"))):
        for holder in cloud.managed(kind):
            for identity in cloud.aws_role(holder.get(*path), holder):
                yield _link(identity, holder, path, "Studio execution role"), holder, holder.address
    for kind, path in (("google_workbench_instance", ("gce_setup", 0, "service_accounts", 0, "email")),
                       ("google_notebooks_instance", ("service_account",))):
        for holder in cloud.managed(kind):
            for identity in cloud.gcp_account(holder.get(*path), holder):
                yield _link(identity, holder, path, "notebook service account"), holder, holder.address


def _link(identity: Any, holder: Any, path: tuple, how: str) -> IdentityLink:
    return IdentityLink(identity, holder, path, f"{how} of {holder.address}")


@rules.rule(
    id="MLS-G-008", name="interactive-identity-writes-production-models",
    title="Notebook or training identity can modify the models production servers load",
    severity=Severity.HIGH, scope=Scope.GRAPH,
    rationale="""
        Notebooks and training jobs run people's code with broad access. When their identity (or a volume they
        mount writable) can write where serving workloads load models from, a compromised notebook, a leaked
        notebook token or a careless experiment replaces a production model without going through the
        pipeline that tests, scans and signs it.""",
    remediation="""
        Let notebooks and training jobs write to a staging prefix only; publish to the serving prefix from a
        CI/registry identity after evaluation and scanning, and mount model volumes read-only outside that
        pipeline.""",
    bad='statement { actions = ["s3:PutObject"] resources = ["arn:aws:s3:::acme-models/*"] }   # notebook role',
    good='statement { actions = ["s3:PutObject"] resources = ["arn:aws:s3:::acme-models-staging/${user}/*"] }',
    references=(ML10, LLM04, "OWASP ML06:2023 AI Supply Chain Attacks", "MITRE ATLAS AML.T0018.000",
                "MITRE ATLAS AML.T0058"),
)
def interactive_writes_production(graph: ResourceGraph) -> Iterator[Hit]:
    serving_keys = {pod_key(p) for p in graph.serving_pods()}
    seen: set[tuple[int, tuple]] = set()
    for link, holder, who in _interactive_identities(graph):
        for access in graph.cloud.store_access(link.identity):
            if not access.access & {WRITE, ADMIN} or access.store is None:
                continue
            hit_locations = [loc for loc in graph.locations_in(access.store)
                             if (loc.pod is None or pod_key(loc.pod) in serving_keys) and access.covers(loc.key)]
            if not hit_locations:
                continue
            permission = access.permission
            if (id(permission.via), permission.path) in seen:
                continue
            seen.add((id(permission.via), permission.path))
            target = hit_locations[0]
            user = target.pod.display if target.pod is not None else getattr(target.user, "address", target.user)
            yield Hit(permission.path, f"{permission.via.ref} lets {link.identity.ref} ({who}) write "
                                       f"{access.target}, where {user} loads models ({target.uri})",
                      obj=permission.via,
                      related=(RelatedHit(link.via, link.path, link.how),
                               RelatedHit(target.obj, target.path, f"{user} loads {target.uri}")))
    served: dict[tuple, list[VolumeUse]] = defaultdict(list)
    for pod in graph.serving_pods():
        for use in graph.volumes(pod):
            if _shared(use):
                served[use.source].append(use)
    for pod in graph.interactive_pods():
        for use in graph.volumes(pod):
            target = next((t for t in served.get(use.source, ()) if graph.linked(pod.obj, t.pod.obj)), None)
            if target is not None and use.writable and _shared(use):
                mount = next((m for m in use.mounts if m[2].get("readOnly") is not True), None)
                path = mount[0].at("volumeMounts", mount[1]) if mount is not None else use.path
                yield Hit(path, f"{pod.display} mounts {use.label} writable; {target.pod.display} serves models "
                                "from it", obj=pod.obj,
                          related=(RelatedHit(target.pod.obj, target.path, f"{target.pod.display} mounts it"),))


# --- MLS-G-010 ----------------------------------------------------------------------------------------------

def _dynamic_repository(c: Container) -> tuple[str, Any, str] | None:
    """(repository, the word naming it, how the server loads from it, with ``{}`` for the repository) for a
    server that loads whatever appears in its model repository."""
    argv = c.argv
    servers = c.servers
    if "triton" in servers:
        mode = argv.value("--model-control-mode")
        repository = argv.value("--model-repository", "--model-store")
        if mode and mode[0] in ("poll", "explicit") and repository:
            why = "polls {} and loads every changed model" if mode[0] == "poll" else \
                "loads any model of {} on request (--model-control-mode=explicit)"
            return repository[0], repository[1], why
    if "tfserving" in servers:
        base = argv.value("--model_base_path")
        poll = argv.value("--file_system_poll_wait_seconds")
        if base and (poll is None or poll[0] not in ("0", "-1")):
            return base[0], base[1], "polls {} and serves every new version it finds"
    if "torchserve" in servers:
        store = argv.value("--model-store")
        if store and (argv.find("--enable-model-api") is not None or
                      str((c.env.get("TS_ENABLE_MODEL_API").value if c.env.get("TS_ENABLE_MODEL_API") else "")).lower()
                      == "true"):
            return store[0], store[1], "registers archives from {} through the model API (handlers are code)"
    return None


def _volume_at(pod: PodSpec, c: Container, path: str) -> VolumeUse | None:
    best: tuple[int, VolumeUse] | None = None
    for use in pod.inventory.graph.volumes(pod):
        for container, _, mount in use.mounts:
            mount_path = str(mount.get("mountPath") or "").rstrip("/")
            if container is c and mount_path and (path == mount_path or path.startswith(mount_path + "/")):
                if best is None or len(mount_path) > best[0]:
                    best = (len(mount_path), use)
    return best[1] if best is not None else None


@rules.rule(
    id="MLS-G-010", name="writable-repository-feeds-dynamic-loading",
    title="Model repository of a dynamically loading server is writable by other workloads or identities",
    severity=Severity.CRITICAL, scope=Scope.GRAPH,
    rationale="""
        Triton in poll or explicit mode, TF Serving's version polling and TorchServe's model API load whatever
        appears in the model repository, and loading a model runs code (Python backends, TorchServe handlers,
        custom ops). Write access to that repository, from another workload's writable mount or a cloud
        identity, is remote code execution in the model server.""",
    remediation="""
        Serve from a repository only the publishing pipeline can write: mount it read-only everywhere else,
        remove write grants on the model prefix from other identities, and prefer `--model-control-mode=none`
        (Triton) or a fixed model list.""",
    bad="""
        args: ["tritonserver", "--model-repository=/models", "--model-control-mode=poll"]
        # /models is PVC shared-models, also mounted writable by the notebook""",
    good="""
        args: ["tritonserver", "--model-repository=/models", "--model-control-mode=none"]
        volumes: [{name: models, persistentVolumeClaim: {claimName: triton-models, readOnly: true}}]""",
    references=("Triton Inference Server: Model Management", "TF Serving: serving config and file system polling",
                "TorchServe SECURITY.md", ML10, LLM04, "MITRE ATLAS AML.T0018.000", "MITRE ATLAS AML.T0050"),
)
def writable_dynamic_repository(graph: ResourceGraph) -> Iterator[Hit]:
    writers_by_source: dict[tuple, list[VolumeUse]] = defaultdict(list)
    for pod in graph.pods:
        for use in graph.volumes(pod):
            if use.writable and _shared(use):
                writers_by_source[use.source].append(use)
    for pod in graph.serving_pods():
        own = {link.identity for link in graph.identities(pod)}
        for c in pod.main_containers:
            found = _dynamic_repository(c)
            if found is None:
                continue
            repository, word, why = found
            related: list[RelatedHit] = []
            writers: list[str] = []
            location = graph.location_of(repository, pod.obj, word.path, pod.obj, pod)
            if location is not None:
                for link, holder, who in _all_identities(graph):
                    if link.identity in own:
                        continue
                    for access in graph.cloud.store_access(link.identity):
                        if access.store == location.store and access.access & {WRITE, ADMIN} and \
                                access.covers(location.key):
                            writers.append(f"{link.identity.ref} ({who})")
                            related.append(RelatedHit(access.permission.via, access.permission.path,
                                                      f"{access.permission.via.ref} grants write on it"))
                            break
            else:
                use = _volume_at(pod, c, repository)
                for other in writers_by_source.get(use.source, ()) if use is not None else ():
                    if other.pod.obj is not pod.obj and graph.linked(pod.obj, other.pod.obj):
                        writers.append(f"{other.pod.display} (writable {other.label})")
                        related.append(RelatedHit(other.pod.obj, other.path, f"{other.pod.display} mounts it writable"))
            if writers:
                yield Hit(word.path, f"{c.display} {why.format(repository)}, and {', '.join(writers[:3])} can write "
                                     "there: writing a model is running code in the server",
                          obj=pod.obj, related=tuple(related[:4]), confidence=Confidence.HIGH)


def _all_identities(graph: ResourceGraph) -> Iterator[tuple[Any, Any, str]]:
    for pod in graph.pods:
        for link in graph.identities(pod):
            yield link, pod, pod.display
    yield from _interactive_identities(graph)
