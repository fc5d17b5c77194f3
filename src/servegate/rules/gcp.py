"""GCP: Vertex AI, Workbench, GKE, Cloud Storage, Cloud KMS and IAM, as Terraform declares them.

Two kinds of rules live here:

- the catalogue's GCP rules (``MLS-GCP-*``, ``MLS-IAM-006``) and the GCP sides of catalogue rules that
  span several platforms. A catalogue id that another platform's family already registers carries a
  platform suffix here (``MLS-ART-001-GCP``, ``MLS-LOG-002-GKE``, ``MLS-K8S-015-GKE``), so
  ``--select MLS-ART-001`` selects every side of the rule;
- ``TF-GCP-*``, a baseline of general GCP hygiene (GKE, IAM, GCS, KMS, Compute) so no second scanner is
  needed. A catalogue rule supersedes its baseline counterpart where both flag the same line.

A *model bucket* is a GCS bucket a model location points at (an ``artifact_uri``, a model URI or
``storageUri`` in a resource, a ``MODEL_*`` environment variable), or one whose name says it holds
models. An *accelerated* node pool has GPUs (``guest_accelerator``) or TPUs, or an accelerator machine
type (a2/a3/g2, ct*); a GPU cluster has at least one.

Attributes left out mean the provider default; a value the configuration does not determine
statically is reported at low confidence, never silently passed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from servegate.findings import Confidence, Severity
from servegate.model.terraform.config import TfResource
from servegate.model.terraform.defaults import DEFAULTS
from servegate.model.terraform.inventory import TfInventory
from servegate.model.terraform.values import Unknown, is_known
from servegate.rules.base import Hit, RelatedHit, RuleSet, Scope
from servegate.sources import hcl_ast as ast
from servegate.sources.embedded import decode_json

rules = RuleSet("gcp")


def _rule(**metadata: Any):
    """``rules.rule`` for managed resources only: a data source describes something this configuration
    reads, not something it creates."""
    def register(check):
        def managed_only(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
            if resource.mode != "managed":
                return
            yield from check(resource, inventory)
        managed_only.__name__, managed_only.__doc__ = check.__name__, check.__doc__
        return rules.rule(**metadata)(managed_only)
    return register

CIS_GCP = "CIS Google Cloud Platform Foundation Benchmark v3.0.0"
CIS_GKE = "CIS Google Kubernetes Engine (GKE) Benchmark v1.6.0"
ML05 = "OWASP ML05:2023 Model Theft"
ML06 = "OWASP ML06:2023 AI Supply Chain Attacks"
ML08 = "OWASP ML08:2023 Model Skewing"
ML10 = "OWASP ML10:2023 Model Poisoning"
LLM02 = "OWASP LLM02:2025 Sensitive Information Disclosure"
LLM03 = "OWASP LLM03:2025 Supply Chain"
LLM06 = "OWASP LLM06:2025 Excessive Agency"
LLM10 = "OWASP LLM10:2025 Unbounded Consumption"
TF_GOOGLE = "https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/"


def atlas(*ids: str) -> str:
    return "MITRE ATLAS " + ", ".join(ids)


# --- resource types ----------------------------------------------------------------------------------

CLUSTER = "google_container_cluster"
NODE_POOL = "google_container_node_pool"
GKE_TYPES = (CLUSTER, NODE_POOL)
BUCKET = "google_storage_bucket"
WORKBENCH = "google_workbench_instance"
NOTEBOOK = "google_notebooks_instance"
RUNTIME = "google_notebooks_runtime"
NOTEBOOK_TYPES = (WORKBENCH, NOTEBOOK, RUNTIME)
ENDPOINT = "google_vertex_ai_endpoint"
INDEX_ENDPOINT = "google_vertex_ai_index_endpoint"
COMPUTE_VM_TYPES = ("google_compute_instance", "google_compute_instance_template",
                    "google_compute_region_instance_template", "google_compute_instance_from_template")
IAM_FORMS = ("_iam_member", "_iam_binding", "_iam_policy")
HIERARCHY_IAM = tuple(f"google_{base}{form}" for base in ("project", "folder", "organization") for form in IAM_FORMS)
GCS_IAM = tuple(f"google_{base}{form}" for base in ("storage_bucket", "storage_managed_folder") for form in IAM_FORMS)
# Resource-level IAM of other services (resources taking a member/members/policy_data the same way).
_IAM_SERVICES = (
    "service_account", "kms_crypto_key", "kms_key_ring", "bigquery_dataset", "bigquery_table", "pubsub_topic",
    "pubsub_subscription", "secret_manager_secret", "artifact_registry_repository", "cloud_run_service",
    "cloud_run_v2_service", "cloud_run_v2_job", "cloudfunctions_function", "cloudfunctions2_function",
    "compute_instance", "compute_subnetwork", "compute_image", "compute_disk", "compute_region_disk",
    "compute_snapshot", "compute_machine_image", "sourcerepo_repository", "spanner_instance", "spanner_database",
    "dataproc_cluster", "dataproc_job", "notebooks_instance", "notebooks_runtime", "workbench_instance",
    "vertex_ai_endpoint", "vertex_ai_featurestore", "vertex_ai_featurestore_entitytype", "vertex_ai_feature_group",
    "vertex_ai_feature_online_store", "vertex_ai_feature_online_store_featureview", "healthcare_dataset",
    "healthcare_fhir_store", "healthcare_dicom_store", "iap_web", "iap_web_backend_service", "iap_tunnel_instance",
    "billing_account", "api_gateway_api", "api_gateway_gateway", "endpoints_service", "bigtable_instance",
    "bigtable_table", "dns_managed_zone", "cloud_tasks_queue", "data_catalog_entry_group", "data_catalog_tag_template",
    "dataplex_lake", "dataplex_zone", "dataplex_asset", "service_directory_namespace", "service_directory_service",
    "tags_tag_key", "tags_tag_value", "colab_runtime_template", "container_analysis_note",
    "binary_authorization_attestor", "runtimeconfig_config", "dataform_repository", "composer_environment",
    "workstations_workstation", "workstations_workstation_config", "gke_hub_membership", "apigee_environment",
    "cloud_run_v2_worker_pool", "secure_source_manager_repository", "storage_insights_report_config",
    "bigquery_analytics_hub_listing", "bigquery_analytics_hub_data_exchange", "bigquery_connection",
    "bigquery_datapolicy_data_policy", "dataproc_metastore_service", "pubsub_schema", "logging_log_view",
    "cloud_tasks_queue", "data_fusion_instance", "privateca_ca_pool", "privateca_certificate_template",
    "access_context_manager_access_policy", "endpoints_service_consumers", "scc_source",
    "network_security_address_group",
)
OTHER_IAM = tuple(dict.fromkeys(f"google_{base}{form}" for base in _IAM_SERVICES for form in IAM_FORMS))
BUCKET_ACL_TYPES = ("google_storage_bucket_acl", "google_storage_default_object_acl", "google_storage_object_acl",
                    "google_storage_bucket_access_control", "google_storage_default_object_access_control",
                    "google_storage_object_access_control")
BIGQUERY_ACCESS = ("google_bigquery_dataset", "google_bigquery_dataset_access")
VERTEX_CMEK_TYPES = ("google_vertex_ai_endpoint", "google_vertex_ai_index_endpoint", "google_vertex_ai_index",
                     "google_vertex_ai_featurestore", "google_vertex_ai_dataset", "google_vertex_ai_tensorboard",
                     "google_vertex_ai_metadata_store", "google_vertex_ai_reasoning_engine",
                     "google_colab_runtime_template")
VERTEX_DATA_TYPES = ("google_vertex_ai_dataset", "google_vertex_ai_metadata_store", "google_vertex_ai_featurestore",
                     "google_vertex_ai_tensorboard")
VERTEX_ANCHORS = ("google_vertex_ai_endpoint", "google_vertex_ai_index_endpoint", "google_vertex_ai_index",
                  "google_vertex_ai_featurestore", "google_vertex_ai_feature_online_store", "google_vertex_ai_dataset",
                  "google_vertex_ai_metadata_store", "google_vertex_ai_tensorboard",
                  "google_vertex_ai_reasoning_engine") + NOTEBOOK_TYPES
PERIMETER_TYPES = ("google_access_context_manager_service_perimeter",
                   "google_access_context_manager_service_perimeters",
                   "google_access_context_manager_service_perimeter_resource",
                   "google_access_context_manager_service_perimeter_dry_run_resource")
DISK_TYPES = ("google_compute_disk", "google_compute_region_disk") + COMPUTE_VM_TYPES

PUBLIC_MEMBERS = {"allusers": "allUsers (anyone on the internet, unauthenticated)",
                  "allauthenticatedusers": "allAuthenticatedUsers (any Google account)"}
BASIC_ROLES = {"roles/owner": Severity.HIGH, "roles/editor": Severity.HIGH, "roles/viewer": Severity.MEDIUM}
# Roles that let the member act as (or mint credentials for) every service account below the grant.
IMPERSONATION_ROLES = ("roles/iam.serviceaccountuser", "roles/iam.serviceaccounttokencreator",
                       "roles/iam.serviceaccountkeyadmin", "roles/iam.workloadidentityuser",
                       "roles/iam.serviceaccountopenidtokencreator")
DEFAULT_SA = re.compile(r"^(?:serviceAccount:)?(?:\d+-compute@developer\.gserviceaccount\.com|"
                        r"[a-z0-9-]+@appspot\.gserviceaccount\.com|default)$", re.IGNORECASE)
CLOUD_PLATFORM = re.compile(r"(^|/)cloud-platform$")
ACCELERATOR_MACHINE = re.compile(r"^(a2|a3|a4|g2|g4|ct\d|tpu)", re.IGNORECASE)
MODEL_HINT = re.compile(r"model", re.IGNORECASE)
# Attribute (or environment variable) names whose gs:// values locate model artifacts.
MODEL_KEY = re.compile(r"artifact|model|storage_?uri|pickle", re.IGNORECASE)
GS_URI = re.compile(r"gs://([a-z0-9][a-z0-9._-]{1,220})", re.IGNORECASE)
STORAGE_HTTPS = re.compile(r"^https://storage\.(?:googleapis|cloud\.google)\.com/([a-z0-9][a-z0-9._-]{1,220})/",
                           re.IGNORECASE)
DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")
NINETY_DAYS = 90 * 24 * 3600
STARTUP_KEYS = ("post-startup-script", "startup-script-url")
ML_ADMIN_ROLES = ("roles/owner", "roles/editor", "roles/aiplatform.admin", "roles/storage.admin",
                "roles/notebooks.admin", "roles/ml.admin", "roles/iam.serviceaccountadmin",
                "roles/resourcemanager.projectiamadmin")
VPC_SC_SERVICES = ("aiplatform.googleapis.com", "storage.googleapis.com")
NOTEBOOK_SC_SERVICE = "notebooks.googleapis.com"
_MISSING = object()


# --- reading values ----------------------------------------------------------------------------------

def _get(resource: TfResource, *path: str | int) -> Any:
    """The value at ``path``; a nested block written as an object attribute (``versioning = {...}``) counts
    as block 0. ``_MISSING`` when absent; an Unknown part of the path is returned as is."""
    node: Any = resource.values
    for step in path:
        if isinstance(node, Unknown):
            return node
        if isinstance(step, int):
            if isinstance(node, list):
                if 0 <= step < len(node):
                    node = node[step]
                    continue
                return _MISSING
            if isinstance(node, dict) and step == 0:
                continue
            return _MISSING
        if isinstance(node, dict) and step in node:
            node = node[step]
        else:
            return _MISSING
    return node


@dataclass(frozen=True)
class _Value:
    value: Any
    written: bool

    @property
    def unknown(self) -> bool:
        return isinstance(self.value, Unknown)


def _value(resource: TfResource, *path: str | int) -> _Value:
    """The attribute's value, or the provider default (``DEFAULTS``) when left out or null."""
    raw = _get(resource, *path)
    if raw is _MISSING or raw is None:
        return _Value(DEFAULTS.get((resource.type, tuple(path))), False)
    if isinstance(raw, Unknown):
        literal = _capitalised_bool(resource, path)
        if literal is not None:
            return _Value(literal, True)
    return _Value(raw, True)


def _capitalised_bool(resource: TfResource, path: tuple) -> bool | None:
    """``True``/``False`` written capitalised: Terraform rejects them, but the intent is unambiguous."""
    expr = resource.expressions.get(tuple(path))
    if isinstance(expr, ast.Variable) and expr.name in ("True", "False"):
        return expr.name == "True"
    return None


def _flag(value: Any) -> Any:
    """True/False for booleans and their string spellings, the Unknown itself, else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value if isinstance(value, Unknown) else None


def _each(value: Any) -> Iterator[tuple[int, dict]]:
    """(index, block) for a nested block list, or a single object written as an attribute."""
    if isinstance(value, dict):
        yield 0, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


def _strings(value: Any) -> list[tuple[int | None, Any]]:
    """(index, item) of a string or list of strings (Unknown items kept); index None for a single value."""
    if isinstance(value, (str, Unknown)):
        return [(None, value)]
    if isinstance(value, list):
        return [(i, v) for i, v in enumerate(value) if isinstance(v, (str, Unknown))]
    return []


def _show(value: Any) -> str:
    if isinstance(value, Unknown):
        return f"a value not known statically ({value.reason})"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if is_known(value) else "a partly unknown value"


def _reason(value: Any) -> str:
    return value.reason if isinstance(value, Unknown) else "not known statically"


def _set_by_reference(resource: TfResource, path: tuple) -> bool:
    """The expression at ``path`` names a resource, data source or module output (not only variables): an
    unknown value there is a real object chosen in the configuration, e.g. a KMS key or a service account."""
    return any(root not in ("var", "local", "each", "count", "path", "terraform")
               for root, _ in resource.references_of(tuple(path)))


def _literal_text(expr: Any) -> str:
    """The literal string parts of an expression, for names built from templates ("${var.env}-models")."""
    parts: list[str] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Literal):
            if isinstance(node.value, str):
                parts.append(node.value)
            continue
        if isinstance(node, str):
            parts.append(node)
            continue
        if isinstance(node, tuple):
            stack.extend(node)
            continue
        if node is None or isinstance(node, (int, float, bool)):
            continue
        for name in getattr(node, "__slots__", ()):
            if name != "span":
                stack.append(getattr(node, name))
    return " ".join(parts)


def _managed(resource: TfResource) -> bool:
    return resource.mode == "managed"


def _name(resource: TfResource) -> str | None:
    value = resource.values.get("name")
    return value if isinstance(value, str) else None


# --- IAM grants --------------------------------------------------------------------------------------

@dataclass
class _Grant:
    """One (role, member) pair granted by an IAM resource."""

    role: Any
    member: Any
    path: tuple  # where the member is written on the checked resource
    role_path: tuple  # where the role is written on the checked resource
    source: TfResource | None = None  # a data.google_iam_policy holding the binding
    source_path: tuple = ()

    @property
    def member_key(self) -> str | None:
        return self.member.lower() if isinstance(self.member, str) else None

    @property
    def role_key(self) -> str | None:
        return self.role.lower() if isinstance(self.role, str) else None

    @property
    def public(self) -> str | None:
        return PUBLIC_MEMBERS.get(self.member_key or "")

    def related(self) -> tuple[RelatedHit, ...]:
        if self.source is None:
            return ()
        return (RelatedHit(self.source, self.source_path, f"{self.source.address} holds the binding"),)


def _grants(resource: TfResource, inventory: TfInventory) -> list[_Grant]:
    """Every (role, member) of an IAM member, binding or policy resource (policies through
    ``data.google_iam_policy`` or literal JSON)."""
    out: list[_Grant] = []
    if resource.type.endswith("_iam_policy"):
        for data in inventory.referenced(resource, ("policy_data",), "google_iam_policy"):
            for index, binding in _each(data.values.get("binding")):
                for key in ("members", "member"):
                    for i, member in _strings(binding.get(key)):
                        out.append(_Grant(binding.get("role"), member, ("policy_data",), ("policy_data",), data,
                                          ("binding", index, key) + (() if i is None else (i,))))
        document = resource.values.get("policy_data")
        if isinstance(document, str):
            try:
                parsed = decode_json(document)
            except ValueError:
                parsed = None
            for binding in (parsed or {}).get("bindings", []) if isinstance(parsed, dict) else []:
                if isinstance(binding, dict):
                    for _, member in _strings(binding.get("members")):
                        out.append(_Grant(binding.get("role"), member, ("policy_data",), ("policy_data",)))
        return out
    for key in ("member", "members"):
        for i, member in _strings(resource.values.get(key)):
            out.append(_Grant(resource.values.get("role"), member, (key,) if i is None else (key, i), ("role",)))
    return out


@dataclass
class _RoleGrant:
    """One role granted by an IAM resource, with its members (possibly none written)."""

    role: Any
    role_path: tuple
    members: list[str]
    related: tuple[RelatedHit, ...] = ()

    @property
    def role_key(self) -> str | None:
        return self.role.lower() if isinstance(self.role, str) else None

    def to_text(self) -> str:
        shown = ", ".join(self.members[:3]) + (f" and {len(self.members) - 3} more" if len(self.members) > 3 else "")
        return f" to {shown}" if shown else ""


def _role_grants(resource: TfResource, inventory: TfInventory) -> list[_RoleGrant]:
    """Each role an IAM resource grants: the role of a member/binding resource (even with no member written),
    or each binding of a policy."""
    if not resource.type.endswith("_iam_policy"):
        members = [g.member for g in _grants(resource, inventory) if isinstance(g.member, str)]
        return [_RoleGrant(resource.values.get("role"), ("role",), members)]
    out: dict[tuple, _RoleGrant] = {}
    for grant in _grants(resource, inventory):
        key = (grant.role_key, id(grant.source), grant.source_path[:2])
        entry = out.setdefault(key, _RoleGrant(grant.role, grant.role_path, [], grant.related()))
        if isinstance(grant.member, str):
            entry.members.append(grant.member)
    return list(out.values())


def _scope_text(resource: TfResource) -> str:
    for level in ("project", "folder", "organization"):
        if resource.type.startswith(f"google_{level}_iam_"):
            target = resource.values.get({"organization": "org_id"}.get(level, level))
            return f"on {level} {_show(target)}" if isinstance(target, str) else f"at {level} level"
    return "on the resource"


# --- GKE ---------------------------------------------------------------------------------------------

def _autopilot(cluster: TfResource) -> bool:
    return _flag(cluster.values.get("enable_autopilot")) is True


def _keeps_default_pool(cluster: TfResource) -> bool:
    return not _autopilot(cluster) and _flag(cluster.values.get("remove_default_node_pool")) is not True \
        and not any(True for _ in _each(cluster.values.get("node_pool")))


@dataclass(frozen=True)
class _NodeConfig:
    path: tuple  # path of the node_config block (index 0 when it is not written)
    values: dict | None  # None when no node_config is written (provider defaults)
    what: str
    implicit: bool = False  # the cluster's default node pool, configured by nothing at all


def _node_configs(resource: TfResource) -> Iterator[_NodeConfig]:
    if resource.type == NODE_POOL:
        blocks = list(_each(resource.values.get("node_config")))
        for index, block in blocks or [(0, None)]:
            yield _NodeConfig(("node_config", index), block, f"node pool {resource.address}")
        return
    if _autopilot(resource):
        return
    written = list(_each(resource.values.get("node_config")))
    for index, block in written:
        yield _NodeConfig(("node_config", index), block, f"the default node pool of {resource.address}")
    for index, pool in _each(resource.values.get("node_pool")):
        label = pool.get("name") if isinstance(pool.get("name"), str) else str(index)
        blocks = list(_each(pool.get("node_config")))
        for j, block in blocks or [(0, None)]:
            yield _NodeConfig(("node_pool", index, "node_config", j), block,
                              f"node pool \"{label}\" of {resource.address}")
    if not written and _keeps_default_pool(resource):
        yield _NodeConfig(("node_config", 0), None, f"the default node pool of {resource.address}", implicit=True)


def _accelerated(config: dict | None) -> bool:
    if not config:
        return False
    for _, accelerator in _each(config.get("guest_accelerator")):
        count = accelerator.get("count")
        if not (isinstance(count, int) and count == 0):
            return True
    machine = config.get("machine_type")
    return isinstance(machine, str) and bool(ACCELERATOR_MACHINE.match(machine))


def _pool_accelerated(pool: TfResource) -> bool:
    if any(_accelerated(c.values) for c in _node_configs(pool)):
        return True
    return any(isinstance(p.get("tpu_topology"), str) for _, p in _each(pool.values.get("placement_policy")))


def _pools_of(cluster: TfResource, inventory: TfInventory) -> list[TfResource]:
    return [p for p in inventory.attached(cluster, (NODE_POOL,), "cluster", by_value=("id", "name")) if _managed(p)]


def _cluster_of(pool: TfResource, inventory: TfInventory) -> TfResource | None:
    """The cluster a node pool belongs to; None when it is not in the configuration."""
    found = inventory.referenced(pool, ("cluster",), CLUSTER)
    if not found:
        name = pool.values.get("cluster")
        if isinstance(name, str):
            found = [c for c in inventory.of_type(CLUSTER) if _managed(c) and name in (_name(c), c.values.get("id"))]
    return found[0] if found else None


def _gpu_cluster(cluster: TfResource, inventory: TfInventory) -> str | None:
    """Why the cluster counts as a GPU/TPU cluster, or None."""
    for config in _node_configs(cluster):
        if _accelerated(config.values):
            return f"{config.what} has accelerators"
    for pool in _pools_of(cluster, inventory):
        if _pool_accelerated(pool):
            return f"node pool {pool.address} has accelerators"
    for _, autoscaling in _each(cluster.values.get("cluster_autoscaling")):
        for _, limit in _each(autoscaling.get("resource_limits")):
            kind = limit.get("resource_type")
            if isinstance(kind, str) and re.search(r"nvidia|gpu|tpu", kind, re.IGNORECASE):
                return f"node auto-provisioning may create {kind} nodes"
    return None


def _workload_identity(cluster: TfResource) -> Any:
    """True/False, or the Unknown, for Workload Identity on a cluster."""
    if _autopilot(cluster):
        return True
    for _, config in _each(cluster.values.get("workload_identity_config")):
        pool = config.get("workload_pool", config.get("identity_namespace"))
        if pool is not None and pool != "":
            return True
    value = cluster.values.get("workload_identity_config")
    return value if isinstance(value, Unknown) else False


# --- GCS ---------------------------------------------------------------------------------------------

def _bucket_name(bucket: TfResource) -> str | None:
    return _name(bucket)


def _target_bucket_name(resource: TfResource) -> Any:
    value = resource.values.get("bucket")
    if isinstance(value, str):
        return value.removeprefix("b/")
    return value


def _buckets(inventory: TfInventory) -> list[TfResource]:
    return [b for b in inventory.of_type(BUCKET) if _managed(b)]


def _target_buckets(resource: TfResource, inventory: TfInventory) -> list[TfResource]:
    found = inventory.referenced(resource, ("bucket",), BUCKET)
    if found:
        key = resource.values.get("bucket")
        exact = [b for b in found if isinstance(key, str) and _bucket_name(b) == key.removeprefix("b/")]
        return exact or found
    name = _target_bucket_name(resource)
    return [b for b in _buckets(inventory) if isinstance(name, str) and _bucket_name(b) == name]


@dataclass
class _ModelIndex:
    names: dict[str, str] = field(default_factory=dict)  # bucket name -> why it holds models
    resources: dict[int, str] = field(default_factory=dict)  # id(bucket resource) -> why


def _model_index(inventory: TfInventory) -> _ModelIndex:
    return inventory.memo("gcp.models", lambda: _index_models(inventory))


def _index_models(inventory: TfInventory) -> _ModelIndex:
    index = _ModelIndex()
    for resource in inventory.resources:
        for key, text in _model_locations(resource.values):
            for match in GS_URI.finditer(text):
                index.names.setdefault(match.group(1), f"{resource.address} loads models from it ({key})")
        for path in resource.expressions:
            steps = [s for s in path if isinstance(s, str)]
            if steps and MODEL_KEY.search(steps[-1]):
                for bucket in inventory.referenced(resource, path, BUCKET):
                    index.resources.setdefault(id(bucket),
                                               f"{resource.address} loads models from it ({steps[-1]})")
    return index


def _model_locations(values: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """(attribute name, text) of strings under model-location attribute names, and of ``value`` entries of
    ``{name = "MODEL_URI", value = ...}`` environment lists."""
    if isinstance(values, dict):
        env_name = values.get("name")
        model_env = isinstance(env_name, str) and MODEL_KEY.search(env_name)
        for k, v in values.items():
            if model_env and k == "value" and isinstance(v, str):
                yield str(env_name), v
            else:
                yield from _model_locations(v, str(k))
    elif isinstance(values, list):
        for item in values:
            yield from _model_locations(item, key)
    elif isinstance(values, str) and key and MODEL_KEY.search(key) and "gs://" in values:
        yield key, values


def _model_bucket(bucket: TfResource, inventory: TfInventory) -> str | None:
    """Why the bucket holds models, or None."""
    index = _model_index(inventory)
    if id(bucket) in index.resources:
        return index.resources[id(bucket)]
    name = _bucket_name(bucket)
    if name is not None and name in index.names:
        return index.names[name]
    if name is not None and MODEL_HINT.search(name):
        return f"its name \"{name}\" says it holds models"
    expr = bucket.expressions.get(("name",))
    if name is None and expr is not None and MODEL_HINT.search(_literal_text(expr)):
        return "its name says it holds models"
    if MODEL_HINT.search(bucket.name):
        return f"it is declared as {bucket.type}.{bucket.name}"
    return None


def _model_target(resource: TfResource, inventory: TfInventory) -> tuple[str, TfResource | None] | None:
    """For a bucket IAM/ACL resource: (why the target holds models, the bucket resource) or None."""
    targets = _target_buckets(resource, inventory)
    for bucket in targets:
        why = _model_bucket(bucket, inventory)
        if why:
            return f"{bucket.address} holds models: {why}", bucket
    if not targets:
        name = _target_bucket_name(resource)
        index = _model_index(inventory)
        if isinstance(name, str) and name in index.names:
            return f"bucket \"{name}\" holds models: {index.names[name]}", None
        if isinstance(name, str) and MODEL_HINT.search(name):
            return f"bucket \"{name}\" holds models (its name says so)", None
    return None


@dataclass(frozen=True)
class _PublicGrant:
    path: tuple
    what: str
    write: bool
    related: tuple[RelatedHit, ...] = ()


WRITE_ROLE = re.compile(r"admin|writer|creator|owner|editor|objectuser", re.IGNORECASE)
PUBLIC_ACLS = {"publicread": ("publicRead (anyone can read)", False),
               "publicreadwrite": ("publicReadWrite (anyone can read and write)", True),
               "authenticatedread": ("authenticatedRead (any Google account can read)", False),
               "bucketownerread": None, "private": None, "projectprivate": None}


def _storage_public(resource: TfResource, inventory: TfInventory) -> Iterator[_PublicGrant]:
    """Public grants made by a GCS IAM or ACL resource (or a bucket's own predefined ACL)."""
    if resource.type in GCS_IAM:
        for grant in _grants(resource, inventory):
            if grant.public:
                write = isinstance(grant.role, str) and bool(WRITE_ROLE.search(grant.role))
                yield _PublicGrant(grant.path, f"{_show(grant.role)} to {grant.public}", write, grant.related())
        return
    acl = resource.values.get("predefined_acl")
    if isinstance(acl, str) and PUBLIC_ACLS.get(acl.lower()):
        what, write = PUBLIC_ACLS[acl.lower()]
        yield _PublicGrant(("predefined_acl",), f"the predefined ACL {what}", write)
    for i, entry in _strings(resource.values.get("role_entity")):
        if isinstance(entry, str) and ":" in entry:
            role, entity = entry.split(":", 1)
            if entity.lower() in PUBLIC_MEMBERS:
                yield _PublicGrant(("role_entity",) if i is None else ("role_entity", i),
                                   f"{role} to {PUBLIC_MEMBERS[entity.lower()]}", role.upper() in ("WRITER", "OWNER"))
    entity = resource.values.get("entity")
    if isinstance(entity, str) and entity.lower() in PUBLIC_MEMBERS:
        role = resource.values.get("role")
        yield _PublicGrant(("entity",), f"{_show(role)} to {PUBLIC_MEMBERS[entity.lower()]}",
                           isinstance(role, str) and role.upper() in ("WRITER", "OWNER"))


def _bucket_public(bucket: TfResource, inventory: TfInventory) -> list[tuple[TfResource, _PublicGrant]]:
    """Public grants on a declared bucket, from every IAM/ACL resource that targets it."""
    out = [(bucket, g) for g in _storage_public(bucket, inventory)]
    for holder in inventory.of_type(*GCS_IAM, *BUCKET_ACL_TYPES):
        if holder.type.startswith("google_storage_managed_folder"):
            continue
        if bucket in _target_buckets(holder, inventory):
            out.extend((holder, g) for g in _storage_public(holder, inventory))
    return out


def _hierarchical(bucket: TfResource) -> bool:
    return _flag(_get(bucket, "hierarchical_namespace", 0, "enabled")) is True


def _log_sink_bucket(bucket: TfResource, inventory: TfInventory) -> bool:
    """Another bucket delivers its access logs here: logging this bucket too would loop."""
    name = _bucket_name(bucket)
    for other in _buckets(inventory):
        if other is bucket:
            continue
        for index, logging in _each(other.values.get("logging")):
            target = logging.get("log_bucket")
            if (isinstance(target, str) and target == name) or \
                    bucket in inventory.referenced(other, ("logging", index, "log_bucket"), BUCKET):
                return True
    return False


# --- service accounts --------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Account:
    """A verdict on the service account a VM or node pool runs as."""

    state: str  # "default", "custom", "unknown", "none"
    detail: str
    confidence: Confidence | None = None


def _account(resource: TfResource, path: tuple, inventory: TfInventory, missing: str) -> _Account:
    """Is the service-account email at ``path`` the Compute Engine default service account?"""
    raw = _get(resource, *path)
    if raw is _MISSING or raw is None or raw == "":
        return _Account("default", missing)
    if isinstance(raw, str):
        if DEFAULT_SA.match(raw):
            return _Account("default", f"the default compute service account {_show(raw)}")
        return _Account("custom", raw)
    refs = resource.references_of(tuple(path))
    for root, steps in refs:
        if root == "data" and steps and steps[0] == "google_compute_default_service_account":
            return _Account("default", "the default compute service account "
                                       f"(data.google_compute_default_service_account.{'.'.join(steps[1:2])})")
    for root, steps in refs:
        if root == "google_service_account" and steps:
            declared = inventory.referenced(resource, tuple(path), "google_service_account")
            if declared:
                return _Account("custom", declared[0].address)
            if steps[0] == "default":
                return _Account("default", "google_service_account.default, which this configuration does not "
                                           "declare (the name suggests the project's default compute service "
                                           "account)", Confidence.LOW)
    if _set_by_reference(resource, tuple(path)):
        return _Account("custom", "a service account chosen elsewhere in the configuration")
    return _Account("unknown", f"a service account not known statically ({_reason(raw)})", Confidence.LOW)


# --- Vertex AI and notebooks --------------------------------------------------------------------------

def _cmek_gaps(resource: TfResource) -> Iterator[tuple[tuple, str, Confidence | None]]:
    """(path, message, confidence) for each store of a Vertex AI / notebook resource without a CMEK."""
    address = resource.address
    if resource.type in VERTEX_CMEK_TYPES:
        path = ("encryption_spec", 0, "kms_key_name")
        key = _value(resource, *path)
        if key.unknown and not _set_by_reference(resource, path):
            yield path, f"{address} sets encryption_spec.kms_key_name to {_show(key.value)}", Confidence.LOW
        elif not key.unknown and not key.value:
            yield path, (f"{address} has no encryption_spec.kms_key_name: its data is encrypted with a Google-managed "
                         "key, not a customer-managed Cloud KMS key"), None
        return
    disks: list[tuple[tuple, str]] = []
    if resource.type == NOTEBOOK:
        disks = [((), "boot and data disks")]
    elif resource.type == WORKBENCH:
        disks = [(("gce_setup", 0, "boot_disk", 0), "boot disk")]
        disks += [(("gce_setup", 0, "data_disks", i), f"data disk {i}")
                  for i, _ in _each(_get(resource, "gce_setup", 0, "data_disks"))]
    elif resource.type == RUNTIME:
        path = ("virtual_machine", 0, "virtual_machine_config", 0, "encryption_config", 0, "kms_key")
        key = _value(resource, *path)
        if key.unknown and not _set_by_reference(resource, path):
            yield path, f"{address} sets its disk kms_key to {_show(key.value)}", Confidence.LOW
        elif not key.unknown and not key.value:
            yield path, f"{address} has no encryption_config.kms_key: its disks use a Google-managed key", None
        return
    for prefix, label in disks:
        mode = _value(resource, *prefix, "disk_encryption")
        key = _value(resource, *prefix, "kms_key")
        if isinstance(mode.value, str) and mode.value.upper() == "CMEK" and (key.written or key.unknown):
            if key.unknown and not _set_by_reference(resource, prefix + ("kms_key",)):
                yield prefix + ("kms_key",), f"{address} sets the {label} kms_key to {_show(key.value)}", \
                    Confidence.LOW
            continue
        if mode.unknown:
            yield prefix + ("disk_encryption",), f"{address} sets the {label} disk_encryption to {_show(mode.value)}", \
                Confidence.LOW
            continue
        shown = f"sets disk_encryption = {_show(mode.value)}" if mode.written else \
            "sets no disk_encryption (default: GMEK)"
        yield prefix + ("disk_encryption",), (f"{address} {shown} for its {label}: Google-managed keys, not a "
                                              "customer-managed Cloud KMS key, protect them"), None


def _public_ip(resource: TfResource) -> Iterator[tuple[tuple, str, Confidence | None]]:
    """(path, message, confidence) when a notebook or VM gets an external IP address."""
    address = resource.address
    if resource.type in (NOTEBOOK, WORKBENCH, RUNTIME):
        path, attribute, good = {
            NOTEBOOK: (("no_public_ip",), "no_public_ip", True),
            WORKBENCH: (("gce_setup", 0, "disable_public_ip"), "gce_setup.disable_public_ip", True),
            RUNTIME: (("virtual_machine", 0, "virtual_machine_config", 0, "internal_ip_only"),
                      "virtual_machine_config.internal_ip_only", True),
        }[resource.type]
        setting = _value(resource, *path)
        value = _flag(setting.value)
        if isinstance(value, Unknown):
            yield path, f"{address} sets {attribute} to {_show(value)}", Confidence.LOW
        elif value is not good:
            shown = f"sets {attribute} = {_show(setting.value)}" if setting.written else \
                f"leaves {attribute} unset (provider default: false)"
            yield path, (f"{address} {shown}: the notebook VM gets an external IP address and is reachable from the "
                         "internet"), None
        return
    for i, interface in _each(resource.values.get("network_interface")):
        for key in ("access_config", "ipv6_access_config"):
            for j, _ in _each(interface.get(key)):
                kind = "an external IPv6 address" if key.startswith("ipv6") else "an external IP address"
                yield ("network_interface", i, key, j), (f"{address} gives network interface {i} {kind} "
                                                         f"({key} block): the VM is reachable from the internet"), None


def _shielded(resource: TfResource, prefix: tuple) -> Iterator[tuple[tuple, str, Confidence | None]]:
    """vTPM / integrity monitoring / Secure Boot explicitly turned off on a VM-like resource."""
    what = {
        "enable_vtpm": "the virtual TPM (Shielded VM) is off, so boot integrity cannot be measured",
        "enable_integrity_monitoring": "integrity monitoring is off, so a tampered boot chain raises no alert",
        "enable_secure_boot": "Secure Boot is off, so unsigned boot components and kernel modules load",
    }
    for attribute, meaning in what.items():
        path = prefix + ("shielded_instance_config", 0, attribute)
        setting = _value(resource, *path)
        value = _flag(setting.value)
        if setting.written and value is False:
            yield path, f"{resource.address} sets {attribute} = false: {meaning}", None
        elif setting.written and isinstance(value, Unknown):
            yield path, f"{resource.address} sets {attribute} to {_show(value)}", Confidence.LOW


def _notebook_shielded(resource: TfResource) -> Iterator[tuple[tuple, str, Confidence | None]]:
    if resource.type == NOTEBOOK:
        yield from _shielded(resource, ())
    elif resource.type == WORKBENCH:
        yield from _shielded(resource, ("gce_setup", 0))


def _startup_scripts(resource: TfResource) -> Iterator[tuple[tuple, Any]]:
    """(path, value) of the post-startup scripts a notebook runs."""
    if resource.type == NOTEBOOK:
        if resource.values.get("post_startup_script") is not None:
            yield ("post_startup_script",), resource.values["post_startup_script"]
        metadata: Any = resource.values.get("metadata")
        prefix: tuple = ("metadata",)
    elif resource.type == WORKBENCH:
        metadata = _get(resource, "gce_setup", 0, "metadata")
        prefix = ("gce_setup", 0, "metadata")
    elif resource.type == RUNTIME:
        path = ("virtual_machine", 0, "virtual_machine_config", 0, "software_config", 0, "post_startup_script")
        value = _get(resource, *path)
        if value is _MISSING:
            path = ("software_config", 0, "post_startup_script")
            value = _get(resource, *path)
        if value is not _MISSING and value is not None:
            yield path, value
        return
    else:
        return
    if isinstance(metadata, dict):
        for key in STARTUP_KEYS:
            if metadata.get(key) is not None:
                yield prefix + (key,), metadata[key]


# --- rules: Vertex AI (catalogue GCP) ------------------------------------------------------------------

@_rule(
    id="MLS-GCP-001", name="vertex-endpoint-public", title="Vertex AI endpoint or index endpoint reachable publicly",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=(ENDPOINT, INDEX_ENDPOINT),
    rationale="""
        A Vertex AI endpoint without VPC peering (`network`) or Private Service Connect is served on a public
        Google API address: anyone holding a token with `aiplatform.endpoints.predict` (a leaked key of any
        service account in the project, a phished user) can query the model from anywhere, which is how model
        extraction and cost-harvesting attacks start. `dedicated_endpoint_enabled` gives it a dedicated public
        DNS name; an index endpoint with `public_endpoint_enabled` exposes the vector index the same way.""",
    remediation="""
        Put the endpoint on Private Service Connect (`private_service_connect_config { enable_private_service_connect
        = true, project_allowlist = [...] }`) or peer it into your VPC with `network`; for index endpoints drop
        `public_endpoint_enabled` and use `network` or PSC. Keep callers inside a VPC Service Controls
        perimeter.""",
    bad="""
        resource "google_vertex_ai_endpoint" "fraud" {
          name                       = "fraud"
          display_name               = "fraud"
          location                   = "europe-west4"
          dedicated_endpoint_enabled = true
        }""",
    good="""
        resource "google_vertex_ai_endpoint" "fraud" {
          name         = "fraud"
          display_name = "fraud"
          location     = "europe-west4"
          private_service_connect_config {
            enable_private_service_connect = true
            project_allowlist              = ["acme-fraud-consumer"]
          }
        }""",
    references=(ML05, LLM10, atlas("AML.T0040", "AML.T0024.002"), f"{TF_GOOGLE}vertex_ai_endpoint",
                "https://cloud.google.com/vertex-ai/docs/predictions/private-service-connect"),
)
def vertex_endpoint_public(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    address = resource.address
    if resource.type == INDEX_ENDPOINT:
        setting = _value(resource, "public_endpoint_enabled")
        value = _flag(setting.value)
        if value is True:
            yield Hit(("public_endpoint_enabled",), f"{address} sets public_endpoint_enabled = true: the vector index "
                                                    "is queryable on a public endpoint from anywhere")
        elif isinstance(value, Unknown):
            yield Hit(("public_endpoint_enabled",), f"{address} sets public_endpoint_enabled to {_show(value)}",
                      confidence=Confidence.LOW)
        return
    psc = _flag(_value(resource, "private_service_connect_config", 0, "enable_private_service_connect").value)
    network = _value(resource, "network")
    if psc is True or (network.written and not network.unknown and network.value):
        return
    dedicated = _flag(resource.values.get("dedicated_endpoint_enabled")) is True
    if isinstance(psc, Unknown) or (network.unknown and not _set_by_reference(resource, ("network",))):
        unknown = psc if isinstance(psc, Unknown) else network.value
        yield Hit(("network",), f"{address} is private only if its network or Private Service Connect setting is, and "
                                f"that is {_show(unknown)}", confidence=Confidence.LOW)
        return
    if network.unknown:
        return
    extra = " and dedicated_endpoint_enabled = true gives it its own public DNS name" if dedicated else ""
    yield Hit(("dedicated_endpoint_enabled",) if dedicated else ("network",),
              f"{address} has no network (VPC peering) and no Private Service Connect{extra}: the model is served on "
              "a public endpoint, callable from anywhere with any token that holds aiplatform.endpoints.predict")


@_rule(
    id="MLS-GCP-002", name="vertex-psc-no-allowlist", title="Private Service Connect endpoint without a consumer "
                                                          "project allow-list",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(ENDPOINT, INDEX_ENDPOINT),
    rationale="""
        With Private Service Connect but no `project_allowlist`, any Google Cloud project can create a PSC
        consumer endpoint that connects to the model's service attachment: the endpoint is private to the VPC
        that connects, but anyone may connect.""",
    remediation="List the consumer projects allowed to connect in `private_service_connect_config.project_allowlist`.",
    bad="""
        private_service_connect_config {
          enable_private_service_connect = true
        }""",
    good="""
        private_service_connect_config {
          enable_private_service_connect = true
          project_allowlist              = ["acme-fraud-consumer"]
        }""",
    references=(ML05, "https://cloud.google.com/vertex-ai/docs/predictions/private-service-connect",
                f"{TF_GOOGLE}vertex_ai_endpoint#project_allowlist"),
)
def vertex_psc_allowlist(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for index, psc in _each(resource.values.get("private_service_connect_config")):
        if _flag(psc.get("enable_private_service_connect")) is not True:
            continue
        path = ("private_service_connect_config", index, "project_allowlist")
        allow = psc.get("project_allowlist")
        if isinstance(allow, Unknown):
            if not _set_by_reference(resource, path):
                yield Hit(path, f"{resource.address} sets project_allowlist to {_show(allow)}",
                          confidence=Confidence.LOW)
        elif not allow:
            yield Hit(path, f"{resource.address} enables Private Service Connect without a project_allowlist: any "
                            "project can create a consumer endpoint that connects to the model")


@_rule(
    id="MLS-GCP-003", name="vertex-no-cmek", title="Vertex AI resources without CMEK",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=VERTEX_CMEK_TYPES + NOTEBOOK_TYPES,
    rationale="""
        Endpoints, indexes, featurestores, datasets, tensorboards, metadata stores, agent engines and
        Workbench disks hold models, embeddings, features and training data. With Google-managed keys every
        principal with the resource permission can read them and nothing can be revoked centrally; a
        customer-managed Cloud KMS key adds an audited decrypt permission and a kill switch.""",
    remediation="""
        Set `encryption_spec { kms_key_name = google_kms_crypto_key.vertex.id }` on Vertex AI resources (the key
        must be in the resource's region, and the Vertex AI service agent needs
        `roles/cloudkms.cryptoKeyEncrypterDecrypter`); for Workbench set `disk_encryption = "CMEK"` and
        `kms_key` on the boot and data disks.""",
    bad="""
        resource "google_vertex_ai_featurestore" "fraud" {
          name   = "fraud_features"
          region = "europe-west4"
        }""",
    good="""
        resource "google_vertex_ai_featurestore" "fraud" {
          name   = "fraud_features"
          region = "europe-west4"
          encryption_spec {
            kms_key_name = google_kms_crypto_key.vertex.id
          }
        }""",
    references=(ML05, LLM02, "https://cloud.google.com/vertex-ai/docs/general/cmek", f"{TF_GOOGLE}workbench_instance"),
    supersedes=("TF-GCP-023",),
)
def vertex_no_cmek(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for path, message, confidence in _cmek_gaps(resource):
        yield Hit(path, message, confidence=confidence)


@_rule(
    id="MLS-GCP-004", name="notebook-hardening", title="Vertex AI Workbench / notebook with public IP, unverified "
                                                       "startup script or no Shielded VM",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=NOTEBOOK_TYPES,
    rationale="""
        Workbench notebooks are GPU VMs holding user credentials, the notebook service account's token, data
        and models. With an external IP they are a common entry point for cryptomining and credential theft; a
        post-startup script fetched from a URL or from a bucket others can write runs as root with the
        notebook's service account on every boot, so whoever controls the script controls the notebook; and
        without Shielded VM (vTPM, integrity monitoring) a persistent bootkit goes unnoticed.""",
    remediation="""
        Set `disable_public_ip = true` (Workbench `gce_setup`) / `no_public_ip = true` (legacy notebooks) and
        reach the notebook through the Jupyter proxy or IAP; keep post-startup scripts in a bucket of the
        platform project that only administrators can write (uniform access, versioned); leave vTPM and
        integrity monitoring on in `shielded_instance_config`.""",
    bad="""
        resource "google_workbench_instance" "ds" {
          name     = "ds-nb"
          location = "europe-west4-a"
          gce_setup {
            machine_type = "n1-standard-8"
            metadata     = { "post-startup-script" = "https://raw.githubusercontent.com/someone/setup/main/nb.sh" }
          }
        }""",
    good="""
        resource "google_workbench_instance" "ds" {
          name     = "ds-nb"
          location = "europe-west4-a"
          gce_setup {
            machine_type      = "n1-standard-8"
            disable_public_ip = true
            service_accounts { email = google_service_account.nb.email }
            shielded_instance_config {
              enable_secure_boot          = true
              enable_vtpm                 = true
              enable_integrity_monitoring = true
            }
            metadata = { "post-startup-script" = "gs://acme-platform-scripts/nb/v3.sh" }
          }
        }""",
    references=(ML06, atlas("AML.T0049", "AML.T0010.001", "AML.T0034"), f"{CIS_GCP} 4.8", f"{CIS_GCP} 4.9",
                "https://cloud.google.com/vertex-ai/docs/workbench/instances/create"),
    supersedes=("TF-GCP-024", "TF-GCP-025"),
)
def notebook_hardening(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for path, message, confidence in _public_ip(resource):
        yield Hit(path, message, confidence=confidence)
    for path, message, confidence in _notebook_shielded(resource):
        yield Hit(path, message, confidence=confidence, severity=Severity.MEDIUM)
    for path, script in _startup_scripts(resource):
        yield from _script_hits(resource, path, script, inventory)


def _script_hits(resource: TfResource, path: tuple, script: Any, inventory: TfInventory) -> Iterator[Hit]:
    address = resource.address
    if isinstance(script, Unknown):
        if not _set_by_reference(resource, path[:3] if len(path) > 3 else path):
            yield Hit(path, f"{address} runs a post-startup script whose location is {_show(script)}; who can change "
                            "that script cannot be checked", confidence=Confidence.LOW)
        return
    if not isinstance(script, str):
        return
    text = script.strip()
    bucket_name: str | None = None
    if text.lower().startswith("gs://"):
        bucket_name = text[5:].split("/", 1)[0]
    else:
        match = STORAGE_HTTPS.match(text)
        if match:
            bucket_name = match.group(1)
        elif text.lower().startswith("http://"):
            yield Hit(path, f"{address} fetches its post-startup script over plain HTTP ({text}): anyone on the path "
                            "can replace the code that runs as root with the notebook's service account")
            return
        elif text.lower().startswith("https://"):
            host = text[8:].split("/", 1)[0]
            yield Hit(path, f"{address} runs a post-startup script downloaded from {host} ({text}), outside the "
                            "platform's buckets and unpinned: whoever controls that URL runs code as root with the "
                            "notebook's service account on every boot")
            return
    if bucket_name is None:
        return
    declared = [b for b in _buckets(inventory) if _bucket_name(b) == bucket_name]
    if not declared:
        yield Hit(path, f"{address} runs the post-startup script {text} from bucket \"{bucket_name}\", which this "
                        "configuration does not manage: who can write that script is not known statically",
                  confidence=Confidence.LOW, severity=Severity.MEDIUM)
        return
    for bucket in declared:
        public = _bucket_public(bucket, inventory)
        if public:
            holder, grant = public[0]
            yield Hit(path, f"{address} runs the post-startup script {text} from {bucket.address}, which "
                            f"{holder.address} opens to the public ({grant.what}): whoever can write it runs code "
                            "as root with the notebook's service account",
                      related=(RelatedHit(holder, grant.path, f"{holder.address} grants {grant.what}"),))


@_rule(
    id="MLS-GCP-005", name="vertex-no-vpc-sc", title="ML project not inside a VPC Service Controls perimeter",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=VERTEX_ANCHORS + PERIMETER_TYPES[:2],
    confidence=Confidence.MEDIUM,
    rationale="""
        IAM decides who may call Vertex AI and Cloud Storage, not from where: stolen service-account
        credentials can copy models, datasets and features to an attacker's project (`gsutil cp`,
        `models.export`). A VPC Service Controls perimeter that restricts `aiplatform.googleapis.com`,
        `storage.googleapis.com` (and `notebooks.googleapis.com` for Workbench) blocks those copies across the
        perimeter boundary.""",
    remediation="""
        Put the ML project into a `google_access_context_manager_service_perimeter` whose
        `status.restricted_services` include `aiplatform.googleapis.com`, `storage.googleapis.com`,
        `notebooks.googleapis.com` and `artifactregistry.googleapis.com`.""",
    bad="""
        resource "google_access_context_manager_service_perimeter" "ml" {
          parent = "accessPolicies/${var.policy}"
          name   = "accessPolicies/${var.policy}/servicePerimeters/ml"
          title  = "ml"
          status {
            resources           = ["projects/${var.ml_project_number}"]
            restricted_services = ["bigquery.googleapis.com"]
          }
        }""",
    good="""
        status {
          resources           = ["projects/${var.ml_project_number}"]
          restricted_services = ["aiplatform.googleapis.com", "storage.googleapis.com",
                                 "notebooks.googleapis.com", "artifactregistry.googleapis.com"]
        }""",
    references=(ML05, LLM02, atlas("AML.T0025"),
                "https://cloud.google.com/vpc-service-controls/docs/supported-products"),
)
def vertex_vpc_sc(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(resource):
        return
    anchors = [r for r in inventory.of_type(*VERTEX_ANCHORS) if _managed(r)]
    if not anchors:
        return
    if resource.type in PERIMETER_TYPES:
        notebooks = any(a.type in NOTEBOOK_TYPES for a in anchors)
        wanted = VPC_SC_SERVICES + ((NOTEBOOK_SC_SERVICE,) if notebooks else ())
        for path, status in _perimeter_statuses(resource):
            services = status.get("restricted_services")
            if isinstance(services, Unknown) or not is_known(services):
                continue
            listed = {s for _, s in _strings(services) if isinstance(s, str)}
            if "*" in listed or "ALL-SERVICES" in listed:
                continue
            missing = [s for s in wanted if s not in listed]
            if missing:
                yield Hit(path + ("restricted_services",),
                          f"{resource.address} does not restrict {', '.join(missing)}, so the perimeter does not stop "
                          f"copying models and data out of the ML project ({anchors[0].address} and "
                          f"{len(anchors) - 1} more Vertex AI resources are declared)"
                          if len(anchors) > 1 else
                          f"{resource.address} does not restrict {', '.join(missing)}, so the perimeter does not stop "
                          f"copying models and data out of the ML project ({anchors[0].address} is declared)")
        return
    if any(_managed(p) for p in inventory.of_type(*PERIMETER_TYPES)):
        return
    project = _project_key(resource)
    first = next(a for a in anchors if _project_key(a) == project)
    if first is not resource:
        return
    others = [a for a in anchors if _project_key(a) == project and a is not resource]
    more = f" and {len(others)} more Vertex AI / Workbench resources" if others else ""
    where = f"project {_show(project)}" if project else "the provider's project"
    yield Hit(("project",), f"{resource.address}{more} live in {where}, and no VPC Service Controls perimeter is "
                            "declared in this configuration: unless a perimeter managed elsewhere restricts "
                            "aiplatform.googleapis.com and storage.googleapis.com there, stolen credentials can copy "
                            "models and data out of the project", confidence=Confidence.LOW,
              related=tuple(RelatedHit(o, (), f"{o.address} is in the same project") for o in others[:5]))


def _project_key(resource: TfResource) -> str:
    project = resource.values.get("project")
    return project if isinstance(project, str) else ""


def _perimeter_statuses(resource: TfResource) -> Iterator[tuple[tuple, dict]]:
    if resource.type == "google_access_context_manager_service_perimeter":
        for index, status in _each(resource.values.get("status")):
            yield ("status", index), status
    else:
        for i, perimeter in _each(resource.values.get("service_perimeters")):
            for j, status in _each(perimeter.get("status")):
                yield ("service_perimeters", i, "status", j), status


@_rule(
    id="MLS-IAM-006", name="vertex-default-sa-or-primitive-role",
    title="Vertex AI / Workbench runs as the default compute SA or with primitive roles",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=(WORKBENCH, NOTEBOOK) + HIERARCHY_IAM,
    rationale="""
        The Compute Engine default service account usually holds `roles/editor` on the project. A Workbench
        notebook without its own service account runs as it, so every notebook user (and any code a notebook
        runs) can rewrite models, read every bucket and deploy endpoints. The same holds when the service
        account a notebook or agent runs as is granted owner, editor or an admin role on the project.""",
    remediation="""
        Create a dedicated `google_service_account` per notebook or workload, set it in
        `gce_setup.service_accounts` (Workbench) or `service_account` (legacy notebooks), and grant it only the
        roles it needs on the buckets and datasets it uses (e.g. `roles/storage.objectViewer` on one bucket,
        `roles/aiplatform.user`).""",
    bad="""
        resource "google_workbench_instance" "nb" {
          name     = "ds-nb"
          location = "europe-west4-a"
          gce_setup {
            machine_type = "a2-highgpu-1g"   # no service_accounts: the default compute SA
          }
        }""",
    good="""
        resource "google_service_account" "nb" { account_id = "ds-nb" }
        resource "google_workbench_instance" "nb" {
          name     = "ds-nb"
          location = "europe-west4-a"
          gce_setup {
            machine_type      = "a2-highgpu-1g"
            disable_public_ip = true
            service_accounts { email = google_service_account.nb.email }
          }
        }""",
    references=(ML05, LLM06, atlas("AML.T0012", "AML.T0075"), f"{CIS_GCP} 4.1",
                "https://cloud.google.com/vertex-ai/docs/workbench/instances/manage-access"),
    supersedes=("TF-GCP-011", "TF-GCP-012", "TF-GCP-014"),
)
def vertex_default_sa(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if resource.type in (WORKBENCH, NOTEBOOK):
        for path, verdict in _notebook_accounts(resource, inventory):
            if verdict.state in ("default", "unknown"):
                yield Hit(path, f"{resource.address} runs as {verdict.detail}, which usually holds roles/editor on the "
                                "project: notebook users and their code can rewrite models and read every bucket",
                          confidence=verdict.confidence)
        return
    users = _ml_accounts(inventory)
    if not users:
        return
    for grant in _grants(resource, inventory):
        if grant.role_key not in ML_ADMIN_ROLES:
            continue
        user = _account_user(resource, grant, users, inventory)
        if user is None:
            continue
        yield Hit(grant.role_path, f"{resource.address} grants {grant.role} {_scope_text(resource)} to "
                                   f"{_show(grant.member) if isinstance(grant.member, str) else 'the service account'}"
                                   f", which {user.address} runs as: the notebook or agent can rewrite models and "
                                   "data across the project",
                  related=(RelatedHit(user, (), f"{user.address} runs as this service account"),) + grant.related())


def _notebook_accounts(resource: TfResource, inventory: TfInventory) -> Iterator[tuple[tuple, _Account]]:
    if resource.type == NOTEBOOK:
        yield ("service_account",), _account(resource, ("service_account",), inventory,
                                             "the default compute service account (no service_account set)")
        return
    accounts = list(_each(_get(resource, "gce_setup", 0, "service_accounts")))
    if not accounts:
        yield ("gce_setup", 0, "service_accounts"), _Account(
            "default", "the default compute service account (no gce_setup.service_accounts block)")
    for index, _ in accounts:
        path = ("gce_setup", 0, "service_accounts", index, "email")
        yield path, _account(resource, path, inventory, "the default compute service account (no email set)")


def _ml_accounts(inventory: TfInventory) -> list[tuple[TfResource, set[str], list[TfResource]]]:
    """(user, emails, google_service_account resources) for each notebook or agent engine's service account."""
    return inventory.memo("gcp.accounts", lambda: _find_ml_accounts(inventory))


def _find_ml_accounts(inventory: TfInventory) -> list[tuple[TfResource, set[str], list[TfResource]]]:
    out = []
    for user in inventory.of_type(WORKBENCH, NOTEBOOK, "google_vertex_ai_reasoning_engine"):
        paths: list[tuple] = []
        if user.type == NOTEBOOK:
            paths = [("service_account",)]
        elif user.type == WORKBENCH:
            paths = [("gce_setup", 0, "service_accounts", i, "email")
                     for i, _ in _each(_get(user, "gce_setup", 0, "service_accounts"))]
        else:
            paths = [("spec", 0, "service_account")]
        emails: set[str] = set()
        accounts: list[TfResource] = []
        for path in paths:
            value = _get(user, *path)
            if isinstance(value, str):
                emails.add(value.lower())
            accounts.extend(inventory.referenced(user, path, "google_service_account"))
        if emails or accounts:
            out.append((user, emails, accounts))
    return out


def _account_user(resource: TfResource, grant: _Grant, users: list, inventory: TfInventory) -> TfResource | None:
    member = grant.member_key or ""
    email = member.removeprefix("serviceaccount:")
    referenced = inventory.referenced(resource, grant.path[:1], "google_service_account") \
        if grant.source is None else inventory.referenced(grant.source, grant.source_path[:3], "google_service_account")
    for user, emails, accounts in users:
        if (member.startswith("serviceaccount:") and email in emails) or any(a in referenced for a in accounts):
            return user
        for account in accounts:
            derived = account.values.get("account_id")
            if isinstance(derived, str) and member.startswith(f"serviceaccount:{derived.lower()}@"):
                return user
    return None


# --- rules: model buckets, request logging, GKE sides of catalogue rules -------------------------------

def _as_model_bucket(bucket: TfResource, why: str) -> str:
    return f"{bucket.address} holds models ({why})"


@_rule(
    id="MLS-ART-001-GCP", name="model-bucket-public-gcs", title="Model bucket publicly readable or writable (GCS)",
    severity=Severity.CRITICAL, scope=Scope.RESOURCE, kinds=(BUCKET,) + GCS_IAM + BUCKET_ACL_TYPES,
    rationale="""
        Public read of a model bucket hands out the weights (model theft); public write lets anyone replace
        them with a poisoned model that the next deployment loads. On GCS a bucket becomes public through an
        IAM binding or ACL for `allUsers` / `allAuthenticatedUsers`; public access prevention (enforced) and
        uniform bucket-level access (no per-object ACLs) are the guardrails that stop a later mistake from
        doing so.""",
    remediation="""
        Remove `allUsers` / `allAuthenticatedUsers` bindings and public ACLs; set `public_access_prevention =
        "enforced"` and `uniform_bucket_level_access = true` on every bucket that holds models, and grant read
        access to the serving service accounts only.""",
    bad="""
        resource "google_storage_bucket_iam_member" "models_public" {
          bucket = google_storage_bucket.models.name
          role   = "roles/storage.objectViewer"
          member = "allUsers"
        }""",
    good="""
        resource "google_storage_bucket" "models" {
          name                        = "acme-ml-models-prod"
          location                    = "EU"
          uniform_bucket_level_access = true
          public_access_prevention    = "enforced"
        }""",
    references=(ML05, ML10, LLM03, atlas("AML.T0035", "AML.T0018.000", "AML.T0010.003"), f"{CIS_GCP} 5.1",
                f"{CIS_GCP} 5.2", "https://cloud.google.com/storage/docs/public-access-prevention"),
    supersedes=("TF-GCP-016", "TF-GCP-017", "TF-GCP-018"),
)
def model_bucket_public(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if resource.type != BUCKET:
        target = _model_target(resource, inventory)
        if target is None:
            return
        why, bucket = target
        related = (RelatedHit(bucket, (), f"{bucket.address} is the model bucket"),) if bucket is not None else ()
        for grant in _storage_public(resource, inventory):
            verb = "replace or delete the models" if grant.write else "download the models"
            yield Hit(grant.path, f"{resource.address} grants {grant.what}: anyone can {verb} ({why})",
                      related=grant.related + related)
        return
    why = _model_bucket(resource, inventory)
    if why is None:
        return
    for grant in _storage_public(resource, inventory):
        yield Hit(grant.path, f"{_as_model_bucket(resource, why)} and grants {grant.what}")
    for path, message, confidence in (*_pap_gaps(resource), *_ubla_gaps(resource)):
        yield Hit(path, f"{_as_model_bucket(resource, why)} and {message}", confidence=confidence,
                  severity=Severity.HIGH)


def _pap_gaps(bucket: TfResource) -> Iterator[tuple[tuple, str, Confidence | None]]:
    """(path, verb phrase, confidence) when public access prevention is not enforced."""
    setting = _value(bucket, "public_access_prevention")
    if setting.unknown:
        yield ("public_access_prevention",), f"sets public_access_prevention to {_show(setting.value)}", Confidence.LOW
    elif not (isinstance(setting.value, str) and setting.value.lower() == "enforced"):
        shown = f"sets public_access_prevention = {_show(setting.value)}" if setting.written else \
            "leaves public_access_prevention unset (provider default: inherited)"
        yield ("public_access_prevention",), (f"{shown}: nothing in the bucket stops an allUsers or "
                                              "allAuthenticatedUsers grant (only an organization policy would)"), None


def _ubla_gaps(bucket: TfResource) -> Iterator[tuple[tuple, str, Confidence | None]]:
    """(path, verb phrase, confidence) when uniform bucket-level access is off."""
    setting = _value(bucket, "uniform_bucket_level_access")
    value = _flag(setting.value)
    if value is True or _flag(bucket.values.get("bucket_policy_only")) is True:
        return
    if isinstance(value, Unknown):
        yield ("uniform_bucket_level_access",), f"sets uniform_bucket_level_access to {_show(value)}", Confidence.LOW
        return
    shown = f"sets uniform_bucket_level_access = {_show(setting.value)}" if setting.written else \
        "leaves uniform_bucket_level_access unset (provider default: false)"
    yield ("uniform_bucket_level_access",), (f"{shown}: per-object ACLs can make single objects public, out of sight "
                                             "of the bucket's IAM policy"), None


@_rule(
    id="MLS-ART-002-GCP", name="model-bucket-unversioned-gcs",
    title="Model bucket without versioning or retention (GCS)",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=(BUCKET,),
    rationale="""
        Silently overwriting the weights in place is the cheapest way to poison a served model. With object
        versioning every overwrite keeps the previous generation, so tampering is visible and a rollback is one
        copy away; a (locked) retention policy additionally stops anyone, including a compromised pipeline,
        from deleting or replacing released models.""",
    remediation="""
        Set `versioning { enabled = true }` on model buckets; for released-model buckets also add a
        `retention_policy` (with `is_locked = true` once the period is agreed), and keep soft delete on.""",
    bad='resource "google_storage_bucket" "models" { name = "acme-ml-models-prod"  location = "EU" }',
    good="""
        resource "google_storage_bucket" "models" {
          name     = "acme-ml-models-prod"
          location = "EU"
          versioning {
            enabled = true
          }
        }""",
    references=(ML10, "OWASP ML02:2023 Data Poisoning", "OWASP LLM04:2025 Data and Model Poisoning",
                atlas("AML.T0018.000", "AML.T0076"), "https://cloud.google.com/storage/docs/object-versioning"),
    supersedes=("TF-GCP-019",),
)
def model_bucket_unversioned(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    why = _model_bucket(resource, inventory)
    if why is None:
        return
    path = ("versioning", 0, "enabled")
    setting = _value(resource, *path)
    value = _flag(setting.value)
    soft = _get(resource, "soft_delete_policy", 0, "retention_duration_seconds")
    if _hierarchical(resource):
        if soft == 0:
            yield Hit(("soft_delete_policy", 0, "retention_duration_seconds"),
                      f"{_as_model_bucket(resource, why)}, has a hierarchical namespace (no object versioning) and "
                      "turns soft delete off: an overwritten or deleted model cannot be recovered")
        return
    if value is True:
        return
    if isinstance(value, Unknown):
        yield Hit(path, f"{_as_model_bucket(resource, why)}; versioning is {_show(value)}", confidence=Confidence.LOW)
        return
    if any(True for _ in _each(resource.values.get("retention_policy"))):
        return
    extra = " and soft delete is off (retention_duration_seconds = 0)" if soft == 0 else ""
    shown = "sets versioning.enabled = false" if setting.written else "has no versioning"
    yield Hit(path, f"{_as_model_bucket(resource, why)} but {shown}, no retention_policy{extra}: an overwritten "
                    "model can be neither detected nor rolled back")


@_rule(
    id="MLS-ART-003-GCP", name="model-bucket-no-cmek-gcs",
    title="Model artifacts not encrypted with a customer-managed key (GCS)",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(BUCKET,),
    rationale="""
        With Google-managed encryption anyone with `storage.objects.get` on the bucket can read the weights and
        there is no separate key to revoke or audit. A customer-managed Cloud KMS key as the bucket's default
        key adds an audited decrypt permission in front of proprietary models.""",
    remediation="""
        Add `encryption { default_kms_key_name = google_kms_crypto_key.models.id }` (and grant the Cloud
        Storage service agent `roles/cloudkms.cryptoKeyEncrypterDecrypter` on the key).""",
    bad='resource "google_storage_bucket" "models" { name = "acme-ml-models"  location = "EU" }',
    good="""
        resource "google_storage_bucket" "models" {
          name     = "acme-ml-models"
          location = "EU"
          encryption {
            default_kms_key_name = google_kms_crypto_key.models.id
          }
        }""",
    references=(ML05, LLM02, atlas("AML.T0035", "AML.T0025"),
                "https://cloud.google.com/storage/docs/encryption/customer-managed-keys"),
    supersedes=("TF-GCP-021",),
)
def model_bucket_no_cmek(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    why = _model_bucket(resource, inventory)
    if why is None:
        return
    for path, message, confidence in _bucket_cmek_gaps(resource):
        yield Hit(path, f"{_as_model_bucket(resource, why)} but {message}", confidence=confidence)


def _bucket_cmek_gaps(bucket: TfResource) -> Iterator[tuple[tuple, str, Confidence | None]]:
    path = ("encryption", 0, "default_kms_key_name")
    key = _value(bucket, *path)
    if key.unknown:
        if not _set_by_reference(bucket, path):
            yield path, f"sets encryption.default_kms_key_name to {_show(key.value)}", Confidence.LOW
        return
    if not key.value:
        yield path, ("has no encryption.default_kms_key_name: objects are encrypted with Google-managed keys, not "
                     "a customer-managed Cloud KMS key"), None


@_rule(
    id="MLS-LOG-002-GKE", name="gpu-cluster-logging-gke", title="GPU cluster control-plane / system logging "
                                                                 "incomplete (GKE)",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(CLUSTER,),
    rationale="""
        Without Cloud Logging for system components and workloads (and Cloud Monitoring) there is no trace of
        who changed an InferenceService, read a model secret or exec'd into a GPU pod, and no signal when a GPU
        node starts mining. GPU clusters run the most valuable and most abused workloads.""",
    remediation="""
        Leave `logging_service` / `monitoring_service` at their defaults (`logging.googleapis.com/kubernetes`,
        `monitoring.googleapis.com/kubernetes`) and, when `logging_config` is set, include
        `SYSTEM_COMPONENTS` and `WORKLOADS` (plus `APISERVER`, `CONTROLLER_MANAGER`, `SCHEDULER` for
        control-plane logs).""",
    bad="""
        resource "google_container_cluster" "gpu" {
          name            = "gpu-serving"
          location        = "europe-west4"
          logging_service = "none"
        }""",
    good="""
        logging_config {
          enable_components = ["SYSTEM_COMPONENTS", "WORKLOADS", "APISERVER", "CONTROLLER_MANAGER", "SCHEDULER"]
        }""",
    references=(f"{CIS_GKE} 5.7.1", "NSA/CISA Kubernetes Hardening Guidance v1.2: Audit logging and threat detection",
                "https://cloud.google.com/kubernetes-engine/docs/concepts/about-logs"),
    supersedes=("TF-GCP-009",),
)
def gpu_cluster_logging(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    why = _gpu_cluster(resource, inventory)
    if why is None:
        return
    for path, message, confidence in _gke_logging_gaps(resource, require_workloads=True):
        yield Hit(path, f"{message} on a GPU cluster ({why})", confidence=confidence)


def _gke_logging_gaps(cluster: TfResource, require_workloads: bool = False) \
        -> Iterator[tuple[tuple, str, Confidence | None]]:
    address = cluster.address
    legacy = {"logging_service": ("logging.googleapis.com", "Cloud Logging"),
              "monitoring_service": ("monitoring.googleapis.com", "Cloud Monitoring")}
    for attribute, (old, product) in legacy.items():
        setting = _value(cluster, attribute)
        value = setting.value
        if isinstance(value, Unknown):
            if not _set_by_reference(cluster, (attribute,)):
                yield (attribute,), f"{address} sets {attribute} to {_show(value)}", Confidence.LOW
        elif isinstance(value, str) and value.lower() == "none":
            yield (attribute,), f"{address} sets {attribute} = \"none\": {product} is off for the cluster", None
        elif isinstance(value, str) and value.lower() == old:
            yield (attribute,), (f"{address} sets {attribute} = \"{value}\", the legacy {product} integration that "
                                 "no longer collects Kubernetes logs and metrics"), None
    for index, config in _each(cluster.values.get("logging_config")):
        path = ("logging_config", index, "enable_components")
        components = config.get("enable_components")
        if isinstance(components, Unknown) or not isinstance(components, list):
            continue
        names = {c for c in components if isinstance(c, str)}
        if not components:
            yield path, f"{address} sets logging_config.enable_components = []: Cloud Logging is off", None
        elif not is_known(components):
            continue
        else:
            missing = [c for c in ("SYSTEM_COMPONENTS",) + (("WORKLOADS",) if require_workloads else ())
                       if c not in names]
            if missing:
                yield path, (f"{address} logs only {', '.join(sorted(names))}: {' and '.join(missing)} logs are "
                             "not collected"), None
    for index, config in _each(cluster.values.get("monitoring_config")):
        components = config.get("enable_components")
        if isinstance(components, list) and not components:
            yield ("monitoring_config", index, "enable_components"), \
                f"{address} sets monitoring_config.enable_components = []: Cloud Monitoring is off", None


@_rule(
    id="MLS-LOG-004-GCP", name="vertex-request-logging-disabled",
    title="Vertex AI endpoint without request/response logging",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(ENDPOINT,),
    rationale="""
        Prediction request/response logs are the only evidence for model-extraction attempts, prompt injection
        and abuse investigations, and they feed drift and skew monitoring. A Vertex AI endpoint logs nothing of
        the traffic it serves unless request/response logging is switched on.""",
    remediation="""
        Add `predict_request_response_logging_config { enabled = true, sampling_rate = 0.1, bigquery_destination
        { output_uri = "bq://project.dataset.table" } }` (redact or limit personal data per policy).""",
    bad="""
        resource "google_vertex_ai_endpoint" "fraud" {
          name         = "fraud"
          display_name = "fraud"
          location     = "europe-west4"
        }""",
    good="""
        predict_request_response_logging_config {
          enabled       = true
          sampling_rate = 0.1
          bigquery_destination {
            output_uri = "bq://acme-ml.vertex_logs.fraud"
          }
        }""",
    references=(ML08, "OWASP ML01:2023 Input Manipulation Attack", "OWASP LLM01:2025 Prompt Injection", LLM10,
                atlas("AML.T0024.002", "AML.T0051"), f"{TF_GOOGLE}vertex_ai_endpoint"),
)
def vertex_request_logging(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    address = resource.address
    configs = list(_each(resource.values.get("predict_request_response_logging_config")))
    if not configs:
        yield Hit(("predict_request_response_logging_config",),
                  f"{address} has no predict_request_response_logging_config: no record of who sent which "
                  "prediction requests")
        return
    for index, config in configs:
        enabled = _flag(config.get("enabled"))
        path = ("predict_request_response_logging_config", index)
        if isinstance(enabled, Unknown):
            yield Hit(path + ("enabled",), f"{address} sets request/response logging to {_show(enabled)}",
                      confidence=Confidence.LOW)
        elif enabled is not True:
            shown = "sets enabled = false" if enabled is False else "leaves enabled unset (default: false)"
            yield Hit(path + ("enabled",), f"{address} {shown} in predict_request_response_logging_config: "
                                           "prediction traffic is not logged")
        elif config.get("sampling_rate") == 0:
            yield Hit(path + ("sampling_rate",), f"{address} logs requests with sampling_rate = 0: nothing is logged")


@_rule(
    id="MLS-K8S-015-GKE", name="gke-gpu-node-metadata-exposed",
    title="Cloud metadata endpoint reachable from GKE GPU/TPU node pools",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=GKE_TYPES,
    rationale="""
        Model servers fetch URLs they are given and notebooks run arbitrary code. On a GKE node pool without the
        GKE metadata server (`workload_metadata_config { mode = "GKE_METADATA" }`) any pod, through a
        server-side request forgery or a notebook cell, reads the node service account's token from
        169.254.169.254 — on GPU pools typically a broadly privileged account able to pull images and read
        model buckets.""",
    remediation="""
        Enable Workload Identity on the cluster (`workload_identity_config { workload_pool =
        "PROJECT.svc.id.goog" }`) and set `workload_metadata_config { mode = "GKE_METADATA" }` on every GPU/TPU
        node pool; keep `disable-legacy-endpoints = "true"` in the node metadata.""",
    bad="""
        node_config {
          machine_type = "g2-standard-8"
          guest_accelerator {
            type  = "nvidia-l4"
            count = 1
          }
          workload_metadata_config {
            mode = "GCE_METADATA"
          }
        }""",
    good="""
        node_config {
          machine_type = "g2-standard-8"
          workload_metadata_config {
            mode = "GKE_METADATA"
          }
        }""",
    references=(f"{CIS_GKE} 5.4.2", atlas("AML.T0106", "AML.T0055"), ML05,
                "https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity"),
    supersedes=("TF-GCP-008",),
)
def gke_gpu_metadata(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for path, message, confidence, config in _metadata_gaps(resource, inventory):
        if _accelerated(config.values) or (resource.type == NODE_POOL and _pool_accelerated(resource)):
            yield Hit(path, f"{message} (GPU/TPU nodes serve models)", confidence=confidence)


def _metadata_gaps(resource: TfResource, inventory: TfInventory) \
        -> Iterator[tuple[tuple, str, Confidence | None, _NodeConfig]]:
    if resource.type == CLUSTER and _autopilot(resource):
        return
    if resource.type == CLUSTER:
        cluster: Any = resource
        version = resource.values.get("min_master_version")
        match = re.match(r"^(\d+)\.(\d+)", str(version)) if isinstance(version, (str, int, float)) else None
        if match and (int(match.group(1)), int(match.group(2))) < (1, 12):
            metadata = [c.values.get("metadata") for c in _node_configs(resource) if c.values]
            if not any(isinstance(m, dict) and _flag(m.get("disable-legacy-endpoints")) is True for m in metadata):
                yield ("min_master_version",), (
                    f"{resource.address} sets min_master_version = {_show(version)}: before GKE 1.12 the legacy "
                    "metadata endpoints (no Metadata-Flavor header needed) are on unless disable-legacy-endpoints "
                    "is set"), None, _NodeConfig(("min_master_version",), None, resource.address)
    else:
        cluster = _cluster_of(resource, inventory)
    identity = _workload_identity(cluster) if isinstance(cluster, TfResource) else None
    for config in _node_configs(resource):
        values = config.values or {}
        wmc = next(iter(_each(values.get("workload_metadata_config"))), None)
        if wmc is not None:
            index, block = wmc
            base = config.path + ("workload_metadata_config", index)
            mode, legacy = block.get("mode"), block.get("node_metadata")
            if isinstance(mode, str) and mode.upper() == "GKE_METADATA" or \
                    isinstance(legacy, str) and legacy.upper() in ("GKE_METADATA_SERVER", "SECURE"):
                pass
            elif isinstance(mode, str) and mode.upper() in ("GCE_METADATA", "MODE_UNSPECIFIED"):
                yield base + ("mode",), (f"{config.what} sets workload_metadata_config.mode = \"{mode}\": pods reach "
                                         "the node's metadata server and its service-account token"), None, config
            elif isinstance(legacy, str) and legacy.upper() in ("EXPOSE", "UNSPECIFIED", "GCE_METADATA"):
                yield base + ("node_metadata",), (f"{config.what} sets node_metadata = \"{legacy}\": pods reach the "
                                                  "node's metadata server and its service-account token"), None, config
            elif isinstance(mode, Unknown) or isinstance(legacy, Unknown):
                unknown = mode if isinstance(mode, Unknown) else legacy
                yield base, f"{config.what} sets its workload metadata mode to {_show(unknown)}", Confidence.LOW, config
        elif identity is False:
            yield config.path + ("workload_metadata_config",), (
                f"{config.what} sets no workload_metadata_config and {cluster.address} has no Workload Identity: "
                "pods reach the node's metadata server (GCE_METADATA) and its service-account token"), None, config
        elif identity is None or isinstance(identity, Unknown):
            what = "is not in this configuration" if identity is None else f"has Workload Identity set to " \
                                                                           f"{_show(identity)}"
            yield config.path + ("workload_metadata_config",), (
                f"{config.what} sets no workload_metadata_config and its cluster {what}: unless Workload Identity "
                "is on, pods reach the node's metadata server"), Confidence.LOW, config
        metadata = values.get("metadata")
        if isinstance(metadata, dict):
            flag = _flag(metadata.get("disable-legacy-endpoints"))
            if flag is False:
                yield config.path + ("metadata", "disable-legacy-endpoints"), (
                    f"{config.what} sets disable-legacy-endpoints = false: the legacy v0.1/v1beta1 metadata "
                    "endpoints answer without the Metadata-Flavor header, so a plain SSRF reads node credentials"), \
                    None, config


# --- rules: GKE baseline -------------------------------------------------------------------------------

@_rule(
    id="TF-GCP-001", name="gke-private-nodes-disabled", title="GKE cluster is not private",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(CLUSTER,),
    rationale="""
        Without a private cluster configuration the nodes get external IP addresses and the cluster is built
        around a public control-plane endpoint: every node and its kubelet is one firewall mistake away from
        the internet.""",
    remediation="""
        Add `private_cluster_config { enable_private_nodes = true, master_ipv4_cidr_block = "172.16.0.0/28" }`
        (and `enable_private_endpoint = true` when administrators reach the cluster from inside the VPC).""",
    bad="""
        resource "google_container_cluster" "ml" {
          name     = "ml"
          location = "europe-west4"
        }""",
    good="""
        private_cluster_config {
          enable_private_nodes    = true
          enable_private_endpoint = true
          master_ipv4_cidr_block  = "172.16.0.0/28"
        }""",
    references=(f"{CIS_GKE} 5.6.5", f"{CIS_GKE} 5.6.4",
                "https://cloud.google.com/kubernetes-engine/docs/concepts/private-cluster-concept"),
)
def gke_private_nodes(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    configs = list(_each(resource.values.get("private_cluster_config")))
    if not configs:
        if isinstance(resource.values.get("private_cluster_config"), Unknown):
            yield Hit(("private_cluster_config",), f"{resource.address} sets private_cluster_config to a value not "
                                                   "known statically", confidence=Confidence.LOW)
            return
        yield Hit(("private_cluster_config",), f"{resource.address} has no private_cluster_config: nodes get "
                                               "external IP addresses and the control plane has a public endpoint")
        return
    for index, _ in configs:
        path = ("private_cluster_config", index, "enable_private_nodes")
        setting = _value(resource, *path)
        value = _flag(setting.value)
        if isinstance(value, Unknown):
            yield Hit(path, f"{resource.address} sets enable_private_nodes to {_show(value)}",
                      confidence=Confidence.LOW)
        elif value is not True:
            shown = "sets enable_private_nodes = false" if setting.written else \
                "leaves enable_private_nodes unset (provider default: false)"
            yield Hit(path, f"{resource.address} {shown}: nodes get external IP addresses")


@_rule(
    id="TF-GCP-002", name="gke-control-plane-open", title="GKE control plane without authorized networks, or open "
                                                         "to 0.0.0.0/0",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(CLUSTER,),
    rationale="""
        The Kubernetes API server of a cluster with a public endpoint answers anyone on the internet unless
        master authorized networks restrict the source addresses: every API server vulnerability and every
        leaked credential is then exploitable from anywhere. An authorized network of 0.0.0.0/0 restricts
        nothing.""",
    remediation="""
        Add `master_authorized_networks_config` with the CIDR ranges of your administrators and CI runners (never
        0.0.0.0/0), or make the endpoint private (`private_cluster_config.enable_private_endpoint = true`).""",
    bad="""
        master_authorized_networks_config {
          cidr_blocks {
            cidr_block   = "0.0.0.0/0"
            display_name = "anyone"
          }
        }""",
    good="""
        master_authorized_networks_config {
          cidr_blocks {
            cidr_block   = "10.20.0.0/16"
            display_name = "corp-vpn"
          }
        }""",
    references=(f"{CIS_GKE} 5.6.3", "https://cloud.google.com/kubernetes-engine/docs/how-to/authorized-networks"),
)
def gke_authorized_networks(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    address = resource.address
    private = _flag(_value(resource, "private_cluster_config", 0, "enable_private_endpoint").value)
    ip_endpoint = _flag(_get(resource, "control_plane_endpoints_config", 0, "ip_endpoints_config", 0, "enabled"))
    if private is True or ip_endpoint is False:
        return
    configs = list(_each(resource.values.get("master_authorized_networks_config")))
    if not configs:
        if isinstance(private, Unknown) and not _set_by_reference(resource, ("private_cluster_config", 0,
                                                                             "enable_private_endpoint")):
            yield Hit(("master_authorized_networks_config",),
                      f"{address} has no master_authorized_networks_config and its control plane is private only if "
                      f"enable_private_endpoint is true, which is {_show(private)}", confidence=Confidence.LOW)
            return
        if isinstance(resource.values.get("master_authorized_networks_config"), Unknown):
            yield Hit(("master_authorized_networks_config",),
                      f"{address} sets master_authorized_networks_config to a value not known statically",
                      confidence=Confidence.LOW)
            return
        yield Hit(("master_authorized_networks_config",),
                  f"{address} has a public control-plane endpoint and no master_authorized_networks_config: the "
                  "Kubernetes API answers any address on the internet")
        return
    for index, config in configs:
        for j, block in _each(config.get("cidr_blocks")):
            cidr = block.get("cidr_block")
            path = ("master_authorized_networks_config", index, "cidr_blocks", j, "cidr_block")
            if isinstance(cidr, str) and cidr.strip() in ("0.0.0.0/0", "::/0"):
                yield Hit(path, f"{address} authorizes {cidr} to reach the control plane: the Kubernetes API answers "
                                "any address on the internet", severity=Severity.HIGH)
            elif isinstance(cidr, Unknown) and not _set_by_reference(resource, path):
                yield Hit(path, f"{address} authorizes the control-plane network {_show(cidr)}",
                          confidence=Confidence.LOW)
        if _flag(config.get("gcp_public_cidrs_access_enabled")) is True:
            yield Hit(("master_authorized_networks_config", index, "gcp_public_cidrs_access_enabled"),
                      f"{address} sets gcp_public_cidrs_access_enabled = true: any Google Cloud VM's public address "
                      "(any customer's) can reach the control plane")


@_rule(
    id="TF-GCP-003", name="gke-legacy-abac", title="GKE legacy ABAC authorization enabled",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=(CLUSTER,),
    rationale="""
        Legacy attribute-based access control grants broad static permissions that bypass Kubernetes RBAC:
        with it on, RBAC roles and bindings no longer bound what a service account or user can do.""",
    remediation="Remove `enable_legacy_abac` (or set it to `false`) and grant access through RBAC.",
    bad="enable_legacy_abac = true",
    good="enable_legacy_abac = false",
    references=(f"{CIS_GKE} 5.8.4", "https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster"),
)
def gke_legacy_abac(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    value = _flag(_value(resource, "enable_legacy_abac").value)
    if value is True:
        yield Hit(("enable_legacy_abac",), f"{resource.address} sets enable_legacy_abac = true: legacy ABAC grants "
                                           "permissions that RBAC cannot restrict")
    elif isinstance(value, Unknown):
        yield Hit(("enable_legacy_abac",), f"{resource.address} sets enable_legacy_abac to {_show(value)}",
                  confidence=Confidence.LOW)


@_rule(
    id="TF-GCP-004", name="gke-legacy-credentials", title="GKE basic authentication or client certificates enabled",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=(CLUSTER,),
    rationale="""
        A static username/password (basic authentication) or an issued client certificate is a long-lived
        cluster-admin credential that cannot be revoked through IAM: whoever copies it from state, CI logs or a
        laptop keeps full access to the cluster.""",
    remediation="""
        Remove `master_auth.username`/`password` and set `master_auth { client_certificate_config {
        issue_client_certificate = false } }` (the default); authenticate with Google identities.""",
    bad="""
        master_auth {
          client_certificate_config {
            issue_client_certificate = true
          }
        }""",
    good="""
        master_auth {
          client_certificate_config {
            issue_client_certificate = false
          }
        }""",
    references=(f"{CIS_GKE} 5.8.1", f"{CIS_GKE} 5.8.2",
                "https://cloud.google.com/kubernetes-engine/docs/how-to/api-server-authentication"),
)
def gke_legacy_credentials(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    address = resource.address
    for index, auth in _each(resource.values.get("master_auth")):
        for key in ("username", "password"):
            value = auth.get(key)
            if isinstance(value, str) and value:
                yield Hit(("master_auth", index, key), f"{address} sets master_auth.{key}: basic authentication "
                                                       "gives a static, unrevocable cluster credential")
                break
        for j, certificate in _each(auth.get("client_certificate_config")):
            path = ("master_auth", index, "client_certificate_config", j, "issue_client_certificate")
            value = _flag(_value(resource, *path).value)
            if value is True:
                yield Hit(path, f"{address} sets issue_client_certificate = true: the cluster issues a client "
                                "certificate, a static credential IAM cannot revoke")
            elif isinstance(value, Unknown):
                yield Hit(path, f"{address} sets issue_client_certificate to {_show(value)}",
                          confidence=Confidence.LOW)


@_rule(
    id="TF-GCP-005", name="gke-network-policy-disabled", title="GKE network policy enforcement disabled",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(CLUSTER,),
    rationale="""
        Kubernetes NetworkPolicies are only enforced when the cluster runs a network-policy provider (Calico
        via `network_policy`, or GKE Dataplane V2). Without one, every policy is silently ignored and any pod can
        reach any other pod, including model servers' admin ports.""",
    remediation="""
        Use Dataplane V2 (`datapath_provider = "ADVANCED_DATAPATH"`), or set `network_policy { enabled = true,
        provider = "CALICO" }` and keep the `network_policy_config` add-on enabled.""",
    bad="""
        network_policy {
          enabled = false
        }""",
    good='datapath_provider = "ADVANCED_DATAPATH"',
    references=(f"{CIS_GKE} 5.6.7", "https://cloud.google.com/kubernetes-engine/docs/how-to/network-policy"),
)
def gke_network_policy(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    address = resource.address
    if _autopilot(resource):
        return
    datapath = resource.values.get("datapath_provider")
    if isinstance(datapath, str) and datapath.upper() == "ADVANCED_DATAPATH":
        return
    if isinstance(datapath, Unknown) and not _set_by_reference(resource, ("datapath_provider",)):
        yield Hit(("datapath_provider",), f"{address} sets datapath_provider to {_show(datapath)}; network policy "
                                          "enforcement depends on it", confidence=Confidence.LOW)
        return
    policies = list(_each(resource.values.get("network_policy")))
    if not policies:
        yield Hit(("network_policy",), f"{address} has no network_policy and does not use Dataplane V2: "
                                       "NetworkPolicies are not enforced")
    for index, _ in policies:
        path = ("network_policy", index, "enabled")
        setting = _value(resource, *path)
        value = _flag(setting.value)
        if isinstance(value, Unknown):
            yield Hit(path, f"{address} sets network_policy.enabled to {_show(value)}", confidence=Confidence.LOW)
        elif value is not True:
            shown = "sets network_policy.enabled = false" if setting.written else "leaves network_policy.enabled unset"
            yield Hit(path, f"{address} {shown} and does not use Dataplane V2: NetworkPolicies are not enforced")
    for index, addons in _each(resource.values.get("addons_config")):
        for j, addon in _each(addons.get("network_policy_config")):
            if _flag(addon.get("disabled")) is True and policies:
                yield Hit(("addons_config", index, "network_policy_config", j, "disabled"),
                          f"{address} disables the network_policy_config add-on: policies are not enforced")


@_rule(
    id="TF-GCP-006", name="gke-shielded-nodes-disabled", title="GKE Shielded Nodes disabled",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(CLUSTER,),
    rationale="""
        Shielded GKE Nodes give every node a verifiable identity and integrity (vTPM, measured boot). Without
        them an attacker who gets a pod onto the node network can impersonate a node to the control plane and
        obtain node credentials.""",
    remediation="Remove `enable_shielded_nodes = false` (the default is `true`).",
    bad="enable_shielded_nodes = false",
    good="enable_shielded_nodes = true",
    references=(f"{CIS_GKE} 5.5.5", "https://cloud.google.com/kubernetes-engine/docs/how-to/shielded-gke-nodes"),
)
def gke_shielded_nodes(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if _autopilot(resource):
        return
    value = _flag(_value(resource, "enable_shielded_nodes").value)
    if value is False:
        yield Hit(("enable_shielded_nodes",), f"{resource.address} sets enable_shielded_nodes = false: nodes have no "
                                              "verifiable identity or boot integrity")
    elif isinstance(value, Unknown):
        yield Hit(("enable_shielded_nodes",), f"{resource.address} sets enable_shielded_nodes to {_show(value)}",
                  confidence=Confidence.LOW)


@_rule(
    id="TF-GCP-007", name="gke-node-secure-boot-off", title="GKE nodes with Secure Boot or integrity monitoring "
                                                            "turned off",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=GKE_TYPES,
    rationale="""
        Secure Boot refuses unsigned bootloaders, kernels and kernel modules, and integrity monitoring alerts
        when a node's boot measurements change: together they stop and reveal rootkits on nodes that hold GPU
        workloads and their credentials. A node configuration that switches either off removes that
        protection on purpose; the rule reports those opt-outs. (Node pools leave Secure Boot off unless asked
        for — CIS GKE 5.5.7, a Level 2 recommendation, asks for it everywhere.)""",
    remediation="""
        Set `shielded_instance_config { enable_secure_boot = true, enable_integrity_monitoring = true }` in the
        `node_config` of every node pool (GPU nodes on Container-Optimized OS load signed drivers).""",
    bad="""
        node_config {
          machine_type = "n2-standard-8"
          shielded_instance_config {
            enable_secure_boot          = false
            enable_integrity_monitoring = false
          }
        }""",
    good="""
        node_config {
          machine_type = "n2-standard-8"
          shielded_instance_config {
            enable_secure_boot          = true
            enable_integrity_monitoring = true
          }
        }""",
    references=(f"{CIS_GKE} 5.5.7", f"{CIS_GKE} 5.5.6",
                "https://cloud.google.com/kubernetes-engine/docs/how-to/shielded-gke-nodes#secure_boot"),
)
def gke_node_secure_boot(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for config in _node_configs(resource):
        if config.implicit:
            continue
        values = config.values or {}
        shielded = next(iter(_each(values.get("shielded_instance_config"))), (0, {}))
        base = config.path + ("shielded_instance_config", shielded[0])
        boot = _flag(shielded[1].get("enable_secure_boot"))
        if isinstance(boot, Unknown) and not _set_by_reference(resource, base + ("enable_secure_boot",)):
            yield Hit(base + ("enable_secure_boot",), f"{config.what} sets enable_secure_boot to {_show(boot)}",
                      confidence=Confidence.LOW)
        elif boot is False:
            yield Hit(base + ("enable_secure_boot",), f"{config.what} sets enable_secure_boot = false: unsigned boot "
                                                      "components and kernel modules load on the nodes")
        if _flag(shielded[1].get("enable_integrity_monitoring")) is False:
            yield Hit(base + ("enable_integrity_monitoring",),
                      f"{config.what} sets enable_integrity_monitoring = false: a tampered boot chain raises no alert")


@_rule(
    id="TF-GCP-008", name="gke-node-metadata-exposed", title="GKE node metadata exposed to pods",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=GKE_TYPES,
    rationale="""
        Without the GKE metadata server (Workload Identity) or metadata concealment, every pod can read the
        node's metadata: the node service account's OAuth token and, through the legacy endpoints, kubelet
        bootstrap credentials. A single SSRF in any workload then becomes the node's cloud identity.""",
    remediation="""
        Enable Workload Identity (`workload_identity_config { workload_pool = "PROJECT.svc.id.goog" }`) and set
        `workload_metadata_config { mode = "GKE_METADATA" }` in every `node_config`; never set
        `disable-legacy-endpoints = "false"`.""",
    bad="""
        node_config {
          workload_metadata_config {
            mode = "GCE_METADATA"
          }
        }""",
    good="""
        node_config {
          workload_metadata_config {
            mode = "GKE_METADATA"
          }
        }""",
    references=(f"{CIS_GKE} 5.4.1", f"{CIS_GKE} 5.4.2",
                "https://cloud.google.com/kubernetes-engine/docs/how-to/protecting-cluster-metadata"),
)
def gke_node_metadata(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for path, message, confidence, _ in _metadata_gaps(resource, inventory):
        yield Hit(path, message, confidence=confidence)


@_rule(
    id="TF-GCP-009", name="gke-logging-disabled", title="GKE Cloud Logging or Monitoring disabled",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(CLUSTER,),
    rationale="""
        With `logging_service`/`monitoring_service` set to "none" or to the retired legacy integration, or with
        system components left out of `logging_config`, the cluster's system and control-plane activity is not
        recorded: intrusions, crash loops and abuse leave no trace.""",
    remediation="""
        Leave `logging_service` and `monitoring_service` at `logging.googleapis.com/kubernetes` /
        `monitoring.googleapis.com/kubernetes`, and include `SYSTEM_COMPONENTS` in
        `logging_config.enable_components`.""",
    bad='logging_service = "none"',
    good='logging_service = "logging.googleapis.com/kubernetes"',
    references=(f"{CIS_GKE} 5.7.1", "https://cloud.google.com/kubernetes-engine/docs/concepts/about-logs"),
)
def gke_logging(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for path, message, confidence in _gke_logging_gaps(resource):
        yield Hit(path, message, confidence=confidence)


@_rule(
    id="TF-GCP-010", name="gke-secrets-not-encrypted", title="GKE Secrets not encrypted with a Cloud KMS key",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(CLUSTER,),
    rationale="""
        Kubernetes Secrets (registry credentials, model-hub tokens, API keys) sit in etcd protected only by
        Google's storage-level encryption unless application-layer secrets encryption wraps them with a Cloud
        KMS key you control, audit and can revoke.""",
    remediation="""
        Add `database_encryption { state = "ENCRYPTED", key_name = google_kms_crypto_key.gke.id }` (the GKE
        service agent needs `roles/cloudkms.cryptoKeyEncrypterDecrypter` on the key).""",
    bad="""
        resource "google_container_cluster" "ml" {
          name     = "ml"
          location = "europe-west4"
        }""",
    good="""
        database_encryption {
          state    = "ENCRYPTED"
          key_name = google_kms_crypto_key.gke.id
        }""",
    references=(f"{CIS_GKE} 5.3.1", "https://cloud.google.com/kubernetes-engine/docs/how-to/encrypting-secrets"),
)
def gke_secrets_encryption(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    address = resource.address
    configs = list(_each(resource.values.get("database_encryption")))
    if not configs:
        yield Hit(("database_encryption",), f"{address} has no database_encryption: Secrets in etcd are not "
                                            "encrypted with a Cloud KMS key (application-layer secrets encryption)")
        return
    for index, config in configs:
        state = config.get("state")
        path = ("database_encryption", index, "state")
        if isinstance(state, Unknown):
            if not _set_by_reference(resource, path):
                yield Hit(path, f"{address} sets database_encryption.state to {_show(state)}",
                          confidence=Confidence.LOW)
        elif not (isinstance(state, str) and state.upper() == "ENCRYPTED"):
            yield Hit(path, f"{address} sets database_encryption.state = {_show(state)}: Secrets in etcd are not "
                            "encrypted with a Cloud KMS key")


# --- rules: IAM baseline -------------------------------------------------------------------------------

@_rule(
    id="TF-GCP-011", name="iam-basic-role", title="Basic (primitive) role granted",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=HIERARCHY_IAM + OTHER_IAM + GCS_IAM,
    rationale="""
        The basic roles Owner, Editor and Viewer predate IAM: they grant thousands of permissions across every
        service in the project (Editor can rewrite any model, bucket or endpoint; Owner can also grant itself
        anything). They are never least privilege.""",
    remediation="Grant predefined or custom roles scoped to the resources the principal needs instead.",
    bad="""
        resource "google_project_iam_member" "ci" {
          project = var.project
          role    = "roles/editor"
          member  = "serviceAccount:${google_service_account.ci.email}"
        }""",
    good="""
        resource "google_project_iam_member" "ci" {
          project = var.project
          role    = "roles/aiplatform.user"
          member  = "serviceAccount:${google_service_account.ci.email}"
        }""",
    references=(f"{CIS_GCP} 1.5", "https://cloud.google.com/iam/docs/understanding-roles#basic"),
)
def iam_basic_role(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for grant in _role_grants(resource, inventory):
        severity = BASIC_ROLES.get(grant.role_key or "")
        if severity is not None:
            yield Hit(grant.role_path, f"{resource.address} grants the basic role {grant.role} "
                                       f"{_scope_text(resource)}{grant.to_text()}", severity=severity,
                      related=grant.related)


@_rule(
    id="TF-GCP-012", name="iam-service-account-admin-role", title="Service account granted an admin role",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=HIERARCHY_IAM,
    rationale="""
        A service account's key or token is far easier to steal than a person's session (it sits in CI, on VMs
        and in notebooks). Admin roles at project, folder or organization level (Service Account Admin, Storage
        Admin, Project IAM Admin...) let whoever holds it take over the project.""",
    remediation="Grant service accounts the narrow predefined roles they need, on the resources they use.",
    bad="""
        resource "google_project_iam_member" "pipeline" {
          project = var.project
          role    = "roles/iam.serviceAccountAdmin"
          member  = "serviceAccount:pipeline@acme-ml.iam.gserviceaccount.com"
        }""",
    good="""
        resource "google_storage_bucket_iam_member" "pipeline" {
          bucket = google_storage_bucket.models.name
          role   = "roles/storage.objectCreator"
          member = "serviceAccount:pipeline@acme-ml.iam.gserviceaccount.com"
        }""",
    references=(f"{CIS_GCP} 1.5", "https://cloud.google.com/iam/docs/service-account-overview"),
)
def iam_sa_admin(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for grant in _grants(resource, inventory):
        role = re.sub(r"\.v\d+$", "", grant.role_key or "")
        if not role.endswith("admin") or role in BASIC_ROLES:
            continue
        if not (grant.member_key or "").startswith("serviceaccount:"):
            continue
        yield Hit(grant.role_path, f"{resource.address} grants the admin role {grant.role} {_scope_text(resource)} to "
                                   f"{grant.member}", related=grant.related())


@_rule(
    id="TF-GCP-013", name="iam-impersonation-role-project", title="Service-account impersonation role granted on "
                                                                  "the whole project",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=HIERARCHY_IAM,
    rationale="""
        Service Account User, Service Account Token Creator, Service Account Key Admin or Workload Identity
        User at project (folder, organization) level lets the member act as every service account in it,
        including the default compute account with Editor and the accounts models are deployed with: a
        privilege escalation to the most powerful identity around.""",
    remediation="""
        Grant these roles on the one service account that must be impersonated
        (`google_service_account_iam_member`), never on the project.""",
    bad="""
        resource "google_project_iam_member" "ds" {
          project = var.project
          role    = "roles/iam.serviceAccountUser"
          member  = "group:data-science@acme.com"
        }""",
    good="""
        resource "google_service_account_iam_member" "ds" {
          service_account_id = google_service_account.training.name
          role               = "roles/iam.serviceAccountUser"
          member             = "group:data-science@acme.com"
        }""",
    references=(f"{CIS_GCP} 1.6", "https://cloud.google.com/iam/docs/service-account-permissions"),
)
def iam_impersonation(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for grant in _role_grants(resource, inventory):
        if grant.role_key in IMPERSONATION_ROLES:
            yield Hit(grant.role_path, f"{resource.address} grants {grant.role} {_scope_text(resource)}"
                                       f"{grant.to_text()}: the members can act as every service account there",
                      related=grant.related)


@_rule(
    id="TF-GCP-014", name="default-compute-service-account", title="Nodes or VMs run as the default compute "
                                                                   "service account",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=GKE_TYPES + COMPUTE_VM_TYPES + (WORKBENCH, NOTEBOOK),
    rationale="""
        The Compute Engine default service account holds the Editor role on the project unless that grant was
        removed. GKE nodes, VMs and notebooks running as it hand every workload on them (and any SSRF in it) a
        token that can modify almost everything in the project.""",
    remediation="""
        Create a minimal `google_service_account` for each node pool or VM (for GKE nodes:
        `roles/logging.logWriter`, `roles/monitoring.metricWriter`, `roles/artifactregistry.reader`) and set it
        as `node_config.service_account` / `service_account.email`.""",
    bad="""
        node_config {
          machine_type = "n2-standard-8"
          oauth_scopes = ["https://www.googleapis.com/auth/cloud-platform"]
        }""",
    good="""
        node_config {
          machine_type    = "n2-standard-8"
          service_account = google_service_account.gke_nodes.email
          oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]
        }""",
    references=(f"{CIS_GKE} 5.2.1", f"{CIS_GCP} 4.1", f"{CIS_GCP} 4.2",
                "https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster#use_least_privilege_sa"),
)
def default_service_account(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if resource.type in (WORKBENCH, NOTEBOOK):
        for path, verdict in _notebook_accounts(resource, inventory):
            if verdict.state in ("default", "unknown"):
                yield Hit(path, f"{resource.address} runs as {verdict.detail}", confidence=verdict.confidence)
        return
    if resource.type in COMPUTE_VM_TYPES:
        for index, account in _each(resource.values.get("service_account")):
            path = ("service_account", index, "email")
            verdict = _account(resource, path, inventory, "the default compute service account (no email set)")
            if verdict.state in ("default", "unknown"):
                scopes = [s for _, s in _strings(account.get("scopes")) if isinstance(s, str)]
                full = any(CLOUD_PLATFORM.search(s) for s in scopes)
                yield Hit(path, f"{resource.address} runs as {verdict.detail}"
                                + (" with the cloud-platform scope (full access to all Cloud APIs)" if full else ""),
                          confidence=verdict.confidence, severity=Severity.HIGH if full else None)
        return
    for config in _node_configs(resource):
        path = config.path + ("service_account",)
        if config.values is None:
            verdict = _Account("default", "the default compute service account (no node_config.service_account)")
        else:
            verdict = _account(resource, path, inventory,
                               "the default compute service account (no service_account in node_config)")
        if verdict.state in ("default", "unknown"):
            yield Hit(path, f"{config.what} runs as {verdict.detail}", confidence=verdict.confidence)
    if resource.type == CLUSTER:
        if _autopilot(resource) and not any(True for _ in _each(resource.values.get("cluster_autoscaling"))):
            yield Hit(("cluster_autoscaling",), f"the Autopilot nodes of {resource.address} run as the default compute "
                                                "service account (no cluster_autoscaling.auto_provisioning_defaults."
                                                "service_account)")
        for index, autoscaling in _each(resource.values.get("cluster_autoscaling")):
            if not (_autopilot(resource) or _flag(autoscaling.get("enabled")) is True):
                continue
            defaults = next(iter(_each(autoscaling.get("auto_provisioning_defaults"))), (0, {}))
            path = ("cluster_autoscaling", index, "auto_provisioning_defaults", defaults[0], "service_account")
            verdict = _account(resource, path, inventory, "the default compute service account (no "
                                                          "auto_provisioning_defaults.service_account)")
            if verdict.state in ("default", "unknown"):
                yield Hit(path, f"node pools auto-provisioned by {resource.address} run as {verdict.detail}",
                          confidence=verdict.confidence)


@_rule(
    id="TF-GCP-015", name="iam-public-principal", title="Resource IAM policy grants access to allUsers or "
                                                        "allAuthenticatedUsers",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=HIERARCHY_IAM + OTHER_IAM + BIGQUERY_ACCESS,
    rationale="""
        `allUsers` is anyone on the internet, unauthenticated; `allAuthenticatedUsers` is anyone with any Google
        account. Granting either a role on a KMS key, dataset, topic, secret or service makes it usable by the
        whole world (a public KMS key lets anyone decrypt the data it protects).""",
    remediation="Grant the role to the specific users, groups or service accounts that need it.",
    bad="""
        resource "google_kms_crypto_key_iam_member" "models" {
          crypto_key_id = google_kms_crypto_key.models.id
          role          = "roles/cloudkms.cryptoKeyDecrypter"
          member        = "allAuthenticatedUsers"
        }""",
    good="""
        resource "google_kms_crypto_key_iam_member" "models" {
          crypto_key_id = google_kms_crypto_key.models.id
          role          = "roles/cloudkms.cryptoKeyDecrypter"
          member        = "serviceAccount:${google_service_account.serving.email}"
        }""",
    references=(f"{CIS_GCP} 1.9", f"{CIS_GCP} 7.1", "https://cloud.google.com/iam/docs/principals-overview"),
)
def iam_public_principal(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    address = resource.address
    if resource.type in BIGQUERY_ACCESS:
        blocks = [(("access", i), block) for i, block in _each(resource.values.get("access"))] \
            if resource.type == "google_bigquery_dataset" else [((), resource.values)]
        for prefix, block in blocks:
            for key in ("special_group", "iam_member"):
                value = block.get(key)
                if isinstance(value, str) and value.lower() in PUBLIC_MEMBERS:
                    yield Hit(prefix + (key,), f"{address} grants {_show(block.get('role'))} on the dataset to "
                                               f"{PUBLIC_MEMBERS[value.lower()]}")
        return
    for grant in _grants(resource, inventory):
        if grant.public:
            yield Hit(grant.path, f"{address} grants {_show(grant.role)} to {grant.public}", related=grant.related())


# --- rules: GCS baseline -------------------------------------------------------------------------------

@_rule(
    id="TF-GCP-016", name="gcs-public-access", title="Cloud Storage bucket or objects publicly accessible",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=GCS_IAM + BUCKET_ACL_TYPES + (BUCKET,),
    rationale="""
        An IAM binding or ACL for `allUsers` or `allAuthenticatedUsers` makes a bucket's objects readable (or
        writable) by anyone on the internet or any Google account; bucket contents get scraped within hours of
        becoming public.""",
    remediation="Remove the public binding or ACL; grant access to specific principals and enforce public access "
                "prevention on the bucket.",
    bad="""
        resource "google_storage_bucket_iam_binding" "reports" {
          bucket  = google_storage_bucket.reports.name
          role    = "roles/storage.objectViewer"
          members = ["allAuthenticatedUsers"]
        }""",
    good="""
        resource "google_storage_bucket_iam_binding" "reports" {
          bucket  = google_storage_bucket.reports.name
          role    = "roles/storage.objectViewer"
          members = ["group:analysts@acme.com"]
        }""",
    references=(f"{CIS_GCP} 5.1", "https://cloud.google.com/storage/docs/access-control/making-data-public"),
)
def gcs_public(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for grant in _storage_public(resource, inventory):
        target = "" if resource.type == BUCKET else f" on bucket {_show(_target_bucket_name(resource))}"
        yield Hit(grant.path, f"{resource.address} grants {grant.what}{target}",
                  severity=Severity.CRITICAL if grant.write else None, related=grant.related)


@_rule(
    id="TF-GCP-017", name="gcs-public-access-prevention-off", title="Cloud Storage public access prevention not "
                                                                    "enforced",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(BUCKET,),
    rationale="""
        Public access prevention is the bucket-level guardrail that rejects any `allUsers` /
        `allAuthenticatedUsers` grant or public ACL, whoever tries to add it later. Left at "inherited", only an
        organization policy (if any) stands between a mistaken binding and a public bucket.""",
    remediation='Set `public_access_prevention = "enforced"` on every bucket that is not meant to be public.',
    bad='resource "google_storage_bucket" "data" { name = "acme-data"  location = "EU" }',
    good="""
        resource "google_storage_bucket" "data" {
          name                     = "acme-data"
          location                 = "EU"
          public_access_prevention = "enforced"
        }""",
    references=("https://cloud.google.com/storage/docs/public-access-prevention", f"{CIS_GCP} 5.1"),
)
def gcs_public_access_prevention(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for path, message, confidence in _pap_gaps(resource):
        yield Hit(path, f"{resource.address} {message}", confidence=confidence)


@_rule(
    id="TF-GCP-018", name="gcs-uniform-access-off", title="Cloud Storage uniform bucket-level access disabled",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(BUCKET,),
    rationale="""
        Without uniform bucket-level access every object can carry its own ACL: a single object can be made
        public or shared out of sight of the bucket's IAM policy, and access reviews of the bucket miss it.""",
    remediation="Set `uniform_bucket_level_access = true`.",
    bad="uniform_bucket_level_access = false",
    good="uniform_bucket_level_access = true",
    references=(f"{CIS_GCP} 5.2", "https://cloud.google.com/storage/docs/uniform-bucket-level-access"),
)
def gcs_uniform_access(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for path, message, confidence in _ubla_gaps(resource):
        yield Hit(path, f"{resource.address} {message}", confidence=confidence)


@_rule(
    id="TF-GCP-019", name="gcs-versioning-off", title="Cloud Storage bucket without object versioning",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(BUCKET,),
    rationale="""
        Without object versioning an overwrite or delete (a mistake, ransomware, a compromised pipeline)
        destroys the previous data for good; with it the previous generation stays recoverable.""",
    remediation="Add `versioning { enabled = true }` (with a lifecycle rule that expires old noncurrent versions).",
    bad="""
        versioning {
          enabled = false
        }""",
    good="""
        versioning {
          enabled = true
        }""",
    references=("https://cloud.google.com/storage/docs/object-versioning",),
)
def gcs_versioning(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if _hierarchical(resource):
        return  # buckets with a hierarchical namespace cannot enable object versioning
    path = ("versioning", 0, "enabled")
    setting = _value(resource, *path)
    value = _flag(setting.value)
    if value is True:
        return
    if isinstance(value, Unknown):
        yield Hit(path, f"{resource.address} sets versioning.enabled to {_show(value)}", confidence=Confidence.LOW)
    elif setting.written:
        yield Hit(path, f"{resource.address} sets versioning.enabled = {_show(setting.value)}: overwritten or deleted "
                        "objects cannot be recovered")
    else:
        yield Hit(path, f"{resource.address} has no versioning: overwritten or deleted objects cannot be recovered")


@_rule(
    id="TF-GCP-020", name="gcs-access-logging-off", title="Cloud Storage bucket without access logging",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=(BUCKET,),
    rationale="""
        Usage logs record every request to the bucket's objects (who, what, when, from where). Without them (or
        Data Access audit logs), a download of the data or an overwrite leaves no trace to investigate.""",
    remediation="""
        Add `logging { log_bucket = google_storage_bucket.access_logs.name }` (or enable Cloud Audit Logs
        DATA_READ/DATA_WRITE for storage.googleapis.com).""",
    bad='resource "google_storage_bucket" "data" { name = "acme-data"  location = "EU" }',
    good="""
        logging {
          log_bucket = google_storage_bucket.access_logs.name
        }""",
    references=("https://cloud.google.com/storage/docs/access-logs",),
)
def gcs_access_logging(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    logging = resource.values.get("logging")
    for index, block in _each(logging):
        target = block.get("log_bucket")
        if isinstance(target, str) and target == _bucket_name(resource) or \
                resource in inventory.referenced(resource, ("logging", index, "log_bucket"), BUCKET):
            yield Hit(("logging", index, "log_bucket"), f"{resource.address} writes its usage logs into itself: "
                                                        "whoever can delete its objects can erase the record too")
    if any(True for _ in _each(logging)) or isinstance(logging, Unknown):
        return
    if _log_sink_bucket(resource, inventory):
        return
    yield Hit(("logging",), f"{resource.address} has no logging block: requests to its objects are not recorded in "
                            "usage logs")


@_rule(
    id="TF-GCP-021", name="gcs-no-cmek", title="Cloud Storage bucket not encrypted with a customer-managed key",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=(BUCKET,),
    rationale="""
        With Google-managed encryption keys, access to the data is governed by bucket IAM alone; a
        customer-managed Cloud KMS key adds a separately controlled, audited and revocable decrypt permission.""",
    remediation="Add `encryption { default_kms_key_name = google_kms_crypto_key.data.id }`.",
    bad='resource "google_storage_bucket" "data" { name = "acme-data"  location = "EU" }',
    good="""
        encryption {
          default_kms_key_name = google_kms_crypto_key.data.id
        }""",
    references=("https://cloud.google.com/storage/docs/encryption/customer-managed-keys",),
)
def gcs_cmek(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for path, message, confidence in _bucket_cmek_gaps(resource):
        yield Hit(path, f"{resource.address} {message}", confidence=confidence)


# --- rules: KMS, CMEK, Compute, TLS baseline ---------------------------------------------------------------

@_rule(
    id="TF-GCP-022", name="kms-rotation-period", title="Cloud KMS key not rotated within 90 days",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=("google_kms_crypto_key",),
    rationale="""
        Automatic rotation limits how much data one key version protects and how long a leaked version stays
        useful. A symmetric key without `rotation_period` is never rotated; one rotated less often than every
        90 days exceeds the common compliance bar.""",
    remediation='Set `rotation_period = "7776000s"` (90 days) or shorter on every symmetric encryption key.',
    bad="""
        resource "google_kms_crypto_key" "models" {
          name     = "models"
          key_ring = google_kms_key_ring.ml.id
        }""",
    good="""
        resource "google_kms_crypto_key" "models" {
          name            = "models"
          key_ring        = google_kms_key_ring.ml.id
          rotation_period = "7776000s"
        }""",
    references=(f"{CIS_GCP} 1.10", "https://cloud.google.com/kms/docs/key-rotation"),
)
def kms_rotation(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    address = resource.address
    purpose = _value(resource, "purpose").value
    if isinstance(purpose, str) and purpose.upper() not in ("ENCRYPT_DECRYPT", ""):
        return  # asymmetric and MAC keys cannot rotate automatically
    if purpose is not None and isinstance(purpose, Unknown):
        return
    setting = _value(resource, "rotation_period")
    period = setting.value
    if not setting.written:
        yield Hit(("rotation_period",), f"{address} has no rotation_period: the key is never rotated automatically")
        return
    if isinstance(period, Unknown):
        yield Hit(("rotation_period",), f"{address} sets rotation_period to {_show(period)}",
                  confidence=Confidence.LOW)
        return
    match = DURATION.match(period.strip()) if isinstance(period, str) else None
    if match is None:
        yield Hit(("rotation_period",), f"{address} sets rotation_period = {_show(period)}, not a duration in seconds "
                                        "such as \"7776000s\": the key is not rotated as intended")
        return
    seconds = float(match.group(1))
    if seconds > NINETY_DAYS:
        yield Hit(("rotation_period",), f"{address} rotates every {seconds / 86400:g} days ({period}), more than 90 "
                                        "days")


@_rule(
    id="TF-GCP-023", name="data-at-rest-no-cmek", title="Disks or Vertex AI data stores not encrypted with a "
                                                        "customer-managed key",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=DISK_TYPES + VERTEX_DATA_TYPES + GKE_TYPES,
    rationale="""
        Persistent disks (VM and GKE node boot disks holding model caches and credentials) and Vertex AI
        datasets, metadata stores, featurestores and tensorboards are encrypted with Google-managed keys unless
        a customer-managed Cloud KMS key is set; with one, decrypting the data needs a separately granted,
        audited and revocable permission.""",
    remediation="""
        Set `disk_encryption_key { kms_key_self_link = ... }` on disks, `boot_disk.kms_key_self_link` on VMs,
        `boot_disk_kms_key` in GKE `node_config`, and `encryption_spec { kms_key_name = ... }` on Vertex AI data
        stores.""",
    bad="""
        resource "google_vertex_ai_dataset" "claims" {
          display_name        = "claims"
          metadata_schema_uri = "gs://google-cloud-aiplatform/schema/dataset/metadata/image_1.0.0.yaml"
          region              = "europe-west4"
        }""",
    good="""
        encryption_spec {
          kms_key_name = google_kms_crypto_key.vertex.id
        }""",
    references=("https://cloud.google.com/compute/docs/disks/customer-managed-encryption",
                "https://cloud.google.com/vertex-ai/docs/general/cmek"),
)
def data_at_rest_cmek(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    address = resource.address
    if resource.type in VERTEX_DATA_TYPES:
        for path, message, confidence in _cmek_gaps(resource):
            yield Hit(path, message, confidence=confidence)
        return
    if resource.type in GKE_TYPES:
        for config in _node_configs(resource):
            if config.values is None and resource.type == CLUSTER:
                continue
            path = config.path + ("boot_disk_kms_key",)
            yield from _key_hit(resource, path, f"{config.what} has no boot_disk_kms_key: node boot disks use a "
                                                "Google-managed key")
        return
    if resource.type in ("google_compute_disk", "google_compute_region_disk"):
        path = ("disk_encryption_key", 0, "kms_key_self_link")
        if any(_get(resource, "disk_encryption_key", 0, k) not in (_MISSING, None)
               for k in ("raw_key", "rsa_encrypted_key")):
            return
        yield from _key_hit(resource, path, f"{address} has no disk_encryption_key: the disk uses a Google-managed key")
        return
    if resource.type == "google_compute_instance":
        if any(_get(resource, "boot_disk", 0, k) not in (_MISSING, None)
               for k in ("disk_encryption_key_raw", "disk_encryption_key_rsa")):
            return
        yield from _key_hit(resource, ("boot_disk", 0, "kms_key_self_link"),
                            f"{address} has no boot_disk.kms_key_self_link: the boot disk uses a Google-managed key")
        return
    for index, disk in _each(resource.values.get("disk")):
        if disk.get("source") is not None:
            continue
        yield from _key_hit(resource, ("disk", index, "disk_encryption_key", 0, "kms_key_self_link"),
                            f"{address} creates disk {index} without disk_encryption_key: it uses a Google-managed key")


def _key_hit(resource: TfResource, path: tuple, message: str) -> Iterator[Hit]:
    key = _value(resource, *path)
    if key.unknown:
        if not _set_by_reference(resource, path):
            yield Hit(path, f"{resource.address} sets {path[-1]} to {_show(key.value)}", confidence=Confidence.LOW)
    elif not key.value:
        yield Hit(path, message)


@_rule(
    id="TF-GCP-024", name="vm-public-ip", title="VM or notebook with an external IP address",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=COMPUTE_VM_TYPES + NOTEBOOK_TYPES,
    rationale="""
        An external IP address puts the VM's open ports (SSH, Jupyter, model servers, node exporters) one
        firewall rule away from the internet and lets anything on it reach out directly; VMs should be reached
        through IAP, a load balancer or Cloud NAT instead.""",
    remediation="""
        Remove `access_config` blocks from `network_interface` (use Cloud NAT for egress and IAP for SSH); for
        notebooks set `no_public_ip = true` / `gce_setup.disable_public_ip = true`.""",
    bad="""
        network_interface {
          network = "default"
          access_config {}
        }""",
    good="""
        network_interface {
          subnetwork = google_compute_subnetwork.private.id
        }""",
    references=(f"{CIS_GCP} 4.9",
                "https://cloud.google.com/compute/docs/ip-addresses/reserve-static-external-ip-address"),
)
def vm_public_ip(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for path, message, confidence in _public_ip(resource):
        yield Hit(path, message, confidence=confidence)


@_rule(
    id="TF-GCP-025", name="vm-shielded-vm-off", title="VM or notebook with Shielded VM features turned off",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=COMPUTE_VM_TYPES + (WORKBENCH, NOTEBOOK),
    rationale="""
        Shielded VM's virtual TPM and integrity monitoring measure the boot chain and alert when it changes;
        Secure Boot refuses unsigned boot components. Turning them off removes the only signal of a persistent
        bootkit on a VM. (Secure Boot is off by default on VMs because GPU images may load unsigned drivers, so
        only an explicit `enable_secure_boot = false` is reported.)""",
    remediation="""
        Keep `shielded_instance_config { enable_vtpm = true, enable_integrity_monitoring = true }` and enable
        Secure Boot where the image's drivers are signed.""",
    bad="""
        shielded_instance_config {
          enable_vtpm                 = false
          enable_integrity_monitoring = false
        }""",
    good="""
        shielded_instance_config {
          enable_secure_boot          = true
          enable_vtpm                 = true
          enable_integrity_monitoring = true
        }""",
    references=(f"{CIS_GCP} 4.8", "https://cloud.google.com/compute/shielded-vm/docs/shielded-vm"),
)
def vm_shielded(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    hits = _notebook_shielded(resource) if resource.type in (WORKBENCH, NOTEBOOK) else _shielded(resource, ())
    for path, message, confidence in hits:
        yield Hit(path, message, confidence=confidence)


@_rule(
    id="TF-GCP-026", name="ssl-policy-weak-tls", title="Load balancer SSL policy allows TLS below 1.2",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=("google_compute_ssl_policy",
                                                            "google_compute_region_ssl_policy"),
    rationale="""
        An SSL policy whose minimum version is TLS 1.0 or 1.1 (the default is TLS 1.0) lets clients negotiate
        protocol versions with known weaknesses for traffic to the load balancer, including model APIs.""",
    remediation='Set `min_tls_version = "TLS_1_2"` with the `MODERN` or `RESTRICTED` profile.',
    bad="""
        resource "google_compute_ssl_policy" "api" {
          name    = "model-api"
          profile = "MODERN"
        }""",
    good="""
        resource "google_compute_ssl_policy" "api" {
          name            = "model-api"
          profile         = "MODERN"
          min_tls_version = "TLS_1_2"
        }""",
    references=("https://cloud.google.com/load-balancing/docs/ssl-policies-concepts",),
)
def ssl_policy_tls(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    setting = _value(resource, "min_tls_version")
    value = setting.value
    if isinstance(value, Unknown):
        if not _set_by_reference(resource, ("min_tls_version",)):
            yield Hit(("min_tls_version",), f"{resource.address} sets min_tls_version to {_show(value)}",
                      confidence=Confidence.LOW)
        return
    if not setting.written:
        yield Hit(("min_tls_version",), f"{resource.address} leaves min_tls_version unset (provider default: TLS_1_0): "
                                        "clients can negotiate TLS 1.0 and 1.1")
    elif isinstance(value, str) and value.upper() in ("TLS_1_0", "TLS_1_1"):
        yield Hit(("min_tls_version",), f"{resource.address} sets min_tls_version = \"{value}\": clients can "
                                        "negotiate TLS versions below 1.2")



@_rule(
    id="TF-GCP-027", name="default-service-account-granted-role", title="Role granted to a default service account",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=HIERARCHY_IAM,
    rationale="""
        The Compute Engine (`PROJECT_NUMBER-compute@developer.gserviceaccount.com`) and App Engine
        (`PROJECT_ID@appspot.gserviceaccount.com`) default service accounts are shared by every VM, node pool,
        notebook and function that does not name its own account. A role granted to them is granted to all of
        those workloads at once, and to anyone who can start one.""",
    remediation="""
        Create a dedicated `google_service_account` for the workload that needs the role and grant it there;
        leave the default service accounts without project-level roles (or disable them).""",
    bad="""
        resource "google_project_iam_member" "nodes_storage" {
          project = "acme-ml-prod"
          role    = "roles/storage.objectAdmin"
          member  = "serviceAccount:123456789012-compute@developer.gserviceaccount.com"
        }""",
    good="""
        resource "google_project_iam_member" "nodes_logs" {
          project = "acme-ml-prod"
          role    = "roles/logging.logWriter"
          member  = "serviceAccount:${google_service_account.gke_nodes.email}"
        }""",
    references=(f"{CIS_GCP} 4.1", "https://cloud.google.com/iam/docs/service-account-types#default"),
)
def default_sa_granted(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for grant in _grants(resource, inventory):
        member = grant.member_key or ""
        holder, path = (grant.source, grant.source_path) if grant.source is not None else (resource, grant.path)
        by_reference = any(root == "data" and steps and steps[0] == "google_compute_default_service_account"
                           for root, steps in holder.references_of(tuple(path[:3] if grant.source else path[:1])))
        if (DEFAULT_SA.match(member) and member.split(":")[-1] != "default") or by_reference:
            who = grant.member if isinstance(grant.member, str) else "data.google_compute_default_service_account"
            yield Hit(grant.path, f"{resource.address} grants {_show(grant.role)} {_scope_text(resource)} to the "
                                  f"default service account {who}: every workload without its own account gets it",
                      related=grant.related())


AUDIT_CONFIG_TYPES = ("google_project_iam_audit_config", "google_folder_iam_audit_config",
                      "google_organization_iam_audit_config")


@_rule(
    id="TF-GCP-028", name="audit-logging-incomplete", title="Cloud Audit Logs data access logging incomplete or "
                                                           "exempting principals",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=AUDIT_CONFIG_TYPES,
    rationale="""
        Admin Activity logs record configuration changes only; reads and writes of data (downloading a model
        from a bucket, reading features, calling an endpoint) appear in Data Access audit logs, which are off
        unless enabled. An `allServices` audit configuration without DATA_READ and DATA_WRITE leaves data access
        unrecorded, and `exempted_members` switch audit logging off for exactly the principals listed.""",
    remediation="""
        Configure `service = "allServices"` with `audit_log_config` entries for `ADMIN_READ`, `DATA_READ` and
        `DATA_WRITE`, and no `exempted_members`.""",
    bad="""
        resource "google_project_iam_audit_config" "all" {
          project = "acme-ml-prod"
          service = "allServices"
          audit_log_config {
            log_type         = "DATA_WRITE"
            exempted_members = ["serviceAccount:etl@acme-ml-prod.iam.gserviceaccount.com"]
          }
        }""",
    good="""
        resource "google_project_iam_audit_config" "all" {
          project = "acme-ml-prod"
          service = "allServices"
          audit_log_config { log_type = "ADMIN_READ" }
          audit_log_config { log_type = "DATA_READ" }
          audit_log_config { log_type = "DATA_WRITE" }
        }""",
    references=(f"{CIS_GCP} 2.1", "https://cloud.google.com/logging/docs/audit/configure-data-access"),
)
def audit_logging(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    address = resource.address
    configs = list(_each(resource.values.get("audit_log_config")))
    for index, config in configs:
        exempted = config.get("exempted_members")
        if isinstance(exempted, list) and exempted:
            shown = ", ".join(str(m) for m in exempted[:3] if isinstance(m, str))
            yield Hit(("audit_log_config", index, "exempted_members"),
                      f"{address} exempts {shown or 'members'} from {_show(config.get('log_type'))} audit logging: "
                      "their data access is not recorded")
    service = resource.values.get("service")
    if not (isinstance(service, str) and service == "allServices"):
        return
    types = [c.get("log_type") for _, c in configs]
    if any(isinstance(t, Unknown) for t in types) or isinstance(resource.values.get("audit_log_config"), Unknown):
        return
    missing = [t for t in ("DATA_READ", "DATA_WRITE") if t not in types]
    if missing:
        yield Hit(("service",),
                  f"{address} enables audit logging for allServices without {' and '.join(missing)}: data reads and "
                  "writes (model downloads, overwrites) are not recorded")


@_rule(
    id="TF-GCP-029", name="subnet-flow-logs-off", title="VPC subnetwork without flow logs",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=("google_compute_subnetwork",),
    rationale="""
        VPC flow logs record the connections to and from every VM, node and notebook in the subnetwork: without
        them an exfiltration of model weights or a connection from an unexpected address leaves no network
        trace.""",
    remediation="Add `log_config { aggregation_interval = \"INTERVAL_5_SEC\", flow_sampling = 0.5, metadata = "
                "\"INCLUDE_ALL_METADATA\" }`.",
    bad="""
        resource "google_compute_subnetwork" "ml" {
          name          = "ml"
          ip_cidr_range = "10.10.0.0/20"
          network       = google_compute_network.ml.id
        }""",
    good="""
        resource "google_compute_subnetwork" "ml" {
          name          = "ml"
          ip_cidr_range = "10.10.0.0/20"
          network       = google_compute_network.ml.id
          log_config {
            aggregation_interval = "INTERVAL_5_SEC"
            flow_sampling        = 0.5
            metadata             = "INCLUDE_ALL_METADATA"
          }
        }""",
    references=(f"{CIS_GCP} 3.8", "https://cloud.google.com/vpc/docs/flow-logs"),
)
def subnet_flow_logs(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    purpose = resource.values.get("purpose")
    if isinstance(purpose, str) and purpose.upper() not in ("PRIVATE", "PRIVATE_RFC_1918"):
        return  # proxy-only, PSC and NAT subnetworks carry no VM traffic and take no log_config
    logs = resource.values.get("log_config")
    if isinstance(logs, Unknown) or any(True for _ in _each(logs)):
        return
    yield Hit(("log_config",), f"{resource.address} has no log_config: VPC flow logs are off for the subnetwork")
