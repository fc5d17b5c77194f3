"""Azure: Azure Machine Learning (workspaces, computes, online endpoints, their identities and logs) and
the Azure model storage behind them (the catalogue's AZ, IAM-007, LOG-002/003 and ART ids), plus
``TF-AZ-*``, a baseline for the Azure services an ML platform is built from (AKS, storage, Key Vault,
ACR, Cognitive Services, AI Search, role assignments, logging) so no second scanner is needed.

Azure ML resources come from azurerm (``azurerm_machine_learning_*``) or from azapi
(``azapi_resource`` with ``type = "Microsoft.MachineLearningServices/workspaces[/...]@<api>"`` and a
``body`` holding the ARM ``properties``; ``jsonencode(...)`` bodies are read too). ARM property names
are matched case-insensitively, as ARM does. A finding inside an azapi ``body`` points at the property
(or at the object that should hold it).

*Model storage* is a storage account (or blob container) that an Azure ML workspace uses as its
default storage (``storage_account_id`` / ``properties.storageAccount``), that backs an Azure ML blob
datastore, or whose name says it holds models (``models``, ``mlflow``, ``checkpoints``, ``weights``).
Findings on it say why it counts as model storage. The catalogue rules supersede their generic
``TF-AZ`` counterparts where both flag the same line.

Catalogue rules that span clouds (ART-001/002/003, LOG-002, SEC-004) have their Azure side here under the
catalogue id with a platform suffix (``MLS-ART-001-AZ``, ``MLS-LOG-002-AKS``, ``MLS-SEC-004-AZ``): the
registry holds one rule per id, and the AWS and Kubernetes sides are other families' rules.

NSG rules (``azurerm_network_security_rule`` and inline ``security_rule``) are ``cloud_network``'s.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from servegate.findings import Confidence, Location, Severity
from servegate.model.terraform.config import TfResource
from servegate.model.terraform.defaults import Setting, setting
from servegate.model.terraform.evaluator import evaluate_safely
from servegate.model.terraform.inventory import TfInventory
from servegate.model.terraform.values import Unknown, is_known
from servegate.rules.base import Hit, RelatedHit, RuleSet, Scope
from servegate.sources import hcl_ast as ast
from servegate.sources.embedded import decode_json
from servegate.sources.located import format_path

rules = RuleSet("azure")


def _managed_only(check: Callable[..., Iterable[Hit]]) -> Callable[..., Iterable[Hit]]:
    """Data sources describe existing resources configured elsewhere: they are not judged here."""

    def run(resource: TfResource, inventory: TfInventory) -> Iterable[Hit]:
        return check(resource, inventory) if resource.mode == "managed" else ()

    run.__name__, run.__doc__ = check.__name__, check.__doc__
    return run

CIS_AZ = "CIS Microsoft Azure Foundations Benchmark v2.1.0"
CIS_AKS = "CIS Azure Kubernetes Service (AKS) Benchmark v1.5.0"
MCSB = "Microsoft cloud security benchmark"
ML05 = "OWASP ML05:2023 Model Theft"
ML06 = "OWASP ML06:2023 AI Supply Chain Attacks"
ML10 = "OWASP ML10:2023 Model Poisoning"
AZML_DOCS = "https://learn.microsoft.com/azure/machine-learning/"
TF_AZURERM = "https://registry.terraform.io/providers/hashicorp/azurerm/latest/docs/resources/"

WORKSPACE = "azurerm_machine_learning_workspace"
COMPUTE_INSTANCE = "azurerm_machine_learning_compute_instance"
COMPUTE_CLUSTER = "azurerm_machine_learning_compute_cluster"
INFERENCE_CLUSTER = "azurerm_machine_learning_inference_cluster"
AZAPI = "azapi_resource"
AKS = "azurerm_kubernetes_cluster"
NODE_POOL = "azurerm_kubernetes_cluster_node_pool"
STORAGE = "azurerm_storage_account"
CONTAINER = "azurerm_storage_container"
DIAG = "azurerm_monitor_diagnostic_setting"
KEY_VAULT = "azurerm_key_vault"
ROLE_ASSIGNMENT = "azurerm_role_assignment"
NETWORK_RULES = "azurerm_storage_account_network_rules"

ARM_WORKSPACE = "microsoft.machinelearningservices/workspaces"
ARM_COMPUTE = "microsoft.machinelearningservices/workspaces/computes"
ARM_ONLINE_ENDPOINT = "microsoft.machinelearningservices/workspaces/onlineendpoints"
ARM_DATASTORE = "microsoft.machinelearningservices/workspaces/datastores"
ARM_ML_PREFIX = "microsoft.machinelearningservices/"

MODEL_HINT = re.compile(r"model|mlflow|checkpoint|weights", re.IGNORECASE)
GPU_VM = re.compile(r"^standard_n", re.IGNORECASE)  # NC, ND, NV, NG series: the GPU sizes
ANYWHERE = frozenset({"0.0.0.0/0", "0.0.0.0", "*", "internet", "any", "::/0"})

# Built-in roles that amount to control of what they are scoped to (name -> what it hands over).
PRIVILEGED_ROLES = {
    "owner": "full control including granting access to others",
    "contributor": "full control of every resource (models, storage, Key Vault, endpoints) except access grants",
    "user access administrator": "the right to grant any role to anyone, including itself",
    "role based access control administrator": "the right to grant roles to anyone, including itself",
}
ML_PRIVILEGED_ROLES = {**{k: v for k, v in PRIVILEGED_ROLES.items() if k != "role based access control administrator"},
                       "storage blob data owner": "full control of blob data and its ACLs, including model weights"}
ROLE_GUIDS = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "user access administrator",
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168": "role based access control administrator",
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "storage blob data owner",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "storage blob data contributor",
}
GUID_AT_END = re.compile(r"/roleDefinitions/([0-9a-fA-F-]{36})/?$", re.IGNORECASE)
SCOPE_TYPES = {  # resources whose id is a subscription, management group or resource group scope
    "azurerm_subscription": "subscription", "azurerm_management_group": "management group",
    "azurerm_resource_group": "resource group",
}


# --- small value helpers ------------------------------------------------------------------------

def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, Unknown):
        return "(not known statically)"
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return str(value)


def _dotted(path: Iterable[Any]) -> str:
    return format_path(tuple(path)).replace("[0]", "")


def _state(s: Setting, path: tuple) -> str:
    """``x = false`` or ``x unset (provider default: false)``."""
    name = _dotted(path)
    return f"{name} = {_show(s.value)}" if s.written else f"{name} unset (provider default: {_show(s.value)})"


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def _lower(value: Any) -> str | None:
    return value.strip().lower() if isinstance(value, str) else None


def _unknown_reason(value: Any) -> str:
    if isinstance(value, Unknown):
        return value.ref or value.reason
    return "not known statically"


def _low(path: tuple, message: str) -> Hit:
    return Hit(path, message, confidence=Confidence.LOW)


def _blocks(resource: TfResource, *path: Any) -> list[dict]:
    value = resource.get(*path)
    return [b for b in value if isinstance(b, dict)] if isinstance(value, list) else []


# --- azapi bodies -----------------------------------------------------------------------------

def arm_type(resource: TfResource) -> str | None:
    """``microsoft.machinelearningservices/workspaces/onlineendpoints`` for an azapi resource."""
    value = resource.values.get("type") if resource.type == AZAPI else None
    return value.split("@", 1)[0].strip().lower() if isinstance(value, str) else None


def _scope_of(resource: TfResource) -> Any:
    """The evaluation scope of the resource instance (module names plus ``each``/``count``)."""
    module = resource.module
    scope = getattr(module, "scope", None)
    if scope is None:
        return None
    attrs = resource.block.body.attributes
    if "count" in attrs and isinstance(resource.key, int):
        return scope.child(count={"index": resource.key})
    if "for_each" in attrs and isinstance(resource.key, str):
        collection = evaluate_safely(attrs["for_each"].expr, scope)
        value = collection.get(resource.key) if isinstance(collection, dict) else resource.key
        return scope.child(each={"key": resource.key, "value": value})
    return scope


def _lenient(expr: Any, scope: Any) -> Any:
    """Evaluate an object expression item by item, so one bad leaf does not hide the others."""
    if isinstance(expr, ast.ObjectExpr):
        out: dict[str, Any] = {}
        for key_expr, value_expr in expr.items:
            key = evaluate_safely(key_expr, scope)
            if isinstance(key, str):
                out[key] = _lenient(value_expr, scope)
        return out
    if isinstance(expr, ast.Call) and expr.name == "jsonencode" and len(expr.args) == 1 and not expr.expand_last:
        return _lenient(expr.args[0], scope)
    return evaluate_safely(expr, scope)


def body(resource: TfResource) -> Any:
    """The azapi ``body`` as a value: decoded when it is a JSON string; evaluated leaf by leaf when the
    whole expression is unknown (a ``jsonencode`` over one unknown value, or one bad attribute)."""
    value = resource.values.get("body")
    if isinstance(value, str):
        try:
            return decode_json(value)
        except ValueError:
            return Unknown("body is not valid JSON")
    if isinstance(value, dict):
        return value
    expr = getattr(resource, "expressions", {}).get(("body",))
    scope = _scope_of(resource)
    if expr is not None and scope is not None:
        lenient = _lenient(expr, scope)
        if isinstance(lenient, dict):
            return lenient
    if isinstance(value, Unknown) and isinstance(value.partial, dict):
        return value.partial
    return value


_MISSING = object()


def _ci_get(node: Any, key: str) -> tuple[Any, str]:
    """A key of an ARM object, case-insensitively: (value or _MISSING, the key as written)."""
    if isinstance(node, dict):
        if key in node:
            return node[key], key
        for k, v in node.items():
            if isinstance(k, str) and k.lower() == key.lower():
                return v, k
    return _MISSING, key


@dataclass(frozen=True)
class Prop:
    """A property inside an azapi body: its value (``None`` when absent), whether it is written,
    whether it is known, and the path that locates it (the deepest written part)."""

    value: Any
    written: bool
    known: bool
    path: tuple


def prop(resource: TfResource, *keys: str, root: Any = _MISSING) -> Prop:
    """``prop(r, "properties", "authMode")`` -> the value of ``body.properties.authMode``."""
    node = body(resource) if root is _MISSING else root
    path: tuple = ("body",)
    for key in keys:
        if isinstance(node, Unknown):
            return Prop(node, True, False, path)
        if node is None:
            return Prop(None, False, True, path + (key,))
        value, written_key = _ci_get(node, key)
        path += (written_key,)
        if value is _MISSING:
            return Prop(None, False, True, path)
        node = value
    if node is None:
        return Prop(None, False, True, path)
    return Prop(node, True, is_known(node), path)


def _object_span(expr: Any, path: tuple) -> ast.Span | None:
    """The span of the deepest key of ``path`` written in an object expression."""
    if isinstance(expr, ast.Call) and expr.name == "jsonencode" and len(expr.args) == 1:
        expr = expr.args[0]
    if not path or not isinstance(expr, ast.ObjectExpr):
        return None
    step = str(path[0]).lower()
    for key_expr, value_expr in expr.items:
        key = key_expr.value if isinstance(key_expr, ast.Literal) else None
        if key is None and isinstance(key_expr, ast.Template) and all(isinstance(p, str) for p in key_expr.parts):
            key = "".join(key_expr.parts)
        if isinstance(key, str) and key.lower() == step:
            deeper = _object_span(value_expr, path[1:])
            if deeper is not None:
                return deeper
            return (key_expr.span[0], key_expr.span[1], value_expr.span[2], value_expr.span[3])
    return None


@dataclass(frozen=True, eq=False)
class InBody:
    """Locates paths inside an azapi ``body`` at the property itself (the engine only knows attributes)."""

    resource: TfResource

    @property
    def file(self) -> str:
        return self.resource.file

    @property
    def ref(self) -> str:
        return self.resource.ref

    def locate(self, path: tuple, scalar_line: int | None = None) -> Location:
        expr = getattr(self.resource, "expressions", {}).get(("body",))
        span = _object_span(expr, tuple(path[1:])) if path[:1] == ("body",) and expr is not None else None
        if span is None:
            return self.resource.locate(path, scalar_line)
        return Location(self.resource.file, span[0], span[1], span[2], span[3], format_path(path))

    def provenance(self, path: tuple) -> list:
        return self.resource.provenance(path)


def _body_hit(resource: TfResource, path: tuple, message: str, **extra: Any) -> Hit:
    return Hit(path, message, obj=InBody(resource) if resource.type == AZAPI else None, **extra)


# --- links between resources ------------------------------------------------------------------

class _Links:
    """Per-inventory indexes: resources by module and name, by address, and diagnostic-setting targets."""

    def __init__(self, inventory: TfInventory) -> None:
        self.resources = inventory.resources  # not the inventory: it keeps this in its memo
        self.storage_accounts = inventory.of_type(STORAGE)
        self.by_name: dict[tuple[int, str, str, str], list[TfResource]] = {}
        self.by_address: dict[tuple[int, str], TfResource] = {}  # (root module, address): addresses repeat
        for r in inventory.resources:
            self.by_name.setdefault((id(r.module), r.mode, r.type, r.name), []).append(r)
            root = id(root_module(r))
            self.by_address[(root, r.address)] = r
            base = r.address.rsplit("[", 1)[0] if r.key is not None else r.address
            self.by_address.setdefault((root, base), r)
        self.diagnostics: dict[int, list[TfResource]] = {}
        self.unresolved_diagnostics: list[TfResource] = []
        for diag in inventory.of_type(DIAG):
            targets = targets_of(diag, ("target_resource_id",), self)
            for target in targets:
                self.diagnostics.setdefault(id(target), []).append(diag)
            if not targets:
                self.unresolved_diagnostics.append(diag)


def links(inventory: TfInventory) -> _Links:
    return inventory.memo(("azure-links",), lambda: _Links(inventory))


def _resolve(resource: TfResource, root: str, steps: tuple[str, ...], index: _Links, depth: int = 0
             ) -> Iterator[tuple[TfResource, tuple[str, ...]]]:
    """Resources a traversal names (following locals), with the attribute steps after the resource."""
    module = resource.module
    if root == "local" and steps and depth < 8:
        for sub_root, sub_steps in module.local_references(steps[0]):
            yield from _resolve(resource, sub_root, sub_steps, index, depth + 1)
        return
    if root == "data" and len(steps) >= 2:
        key, rest = (id(module), "data", steps[0], steps[1]), steps[2:]
    elif root not in ("var", "module", "each", "count", "self", "path", "terraform") and steps:
        key, rest = (id(module), "managed", root, steps[0]), steps[1:]
    else:
        return
    for found in index.by_name.get(key, ()):
        yield found, rest


def _chain(expr: Any) -> tuple[str, tuple[str, ...]] | None:
    """``a.b[0].c[*].d`` -> ("a", ("b", "c", "d")): the attribute names of a traversal, indexes skipped
    (the evaluator's ``references`` stops at the first index, losing ``identity`` in ``x.y[0].identity``)."""
    names: list[str] = []
    node = expr
    while True:
        if isinstance(node, ast.GetAttr):
            names.append(node.name)
            node = node.target
        elif isinstance(node, ast.Index):
            node = node.target
        elif isinstance(node, ast.Splat):
            names.extend(reversed([s for kind, s in node.steps if kind == "attr" and isinstance(s, str)]))
            node = node.target
        elif isinstance(node, ast.Variable):
            return node.name, tuple(reversed(names))
        else:
            return None


def chains(expr: Any) -> list[tuple[str, tuple[str, ...]]]:
    """Every traversal in an expression, with its full attribute chain."""
    found: list[tuple[str, tuple[str, ...]]] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.GetAttr, ast.Index, ast.Splat, ast.Variable)):
            chain = _chain(node)
            if chain is not None:
                found.append(chain)
                if isinstance(node, ast.Index):
                    stack.append(node.key)
                continue
        if isinstance(node, (str, int, float, bool)) or node is None:
            continue
        if isinstance(node, tuple):
            stack.extend(node)
            continue
        for name in getattr(node, "__slots__", ()):
            if name != "span":
                stack.append(getattr(node, name))
    return found


def _unknown_refs(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Unknown):
            if item.ref:
                yield item.ref
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def root_module(resource: TfResource) -> Any:
    module = resource.module
    while getattr(module, "parent", None) is not None:
        module = module.parent
    return module


def _by_ref(ref: str, index: _Links, origin: TfResource) -> tuple[TfResource, tuple[str, ...]] | None:
    """``module.m.azurerm_storage_account.models.id`` -> (that resource in ``origin``'s configuration, ("id",))."""
    parts = ref.split(".")
    root = id(root_module(origin))
    for cut in range(len(parts) - 1, 0, -1):
        found = index.by_address.get((root, ".".join(parts[:cut])))
        if found is not None:
            return found, tuple(parts[cut:])
    return None


def attribute_refs(resource: TfResource, path: tuple, index: _Links) -> list[tuple[TfResource, tuple[str, ...]]]:
    """(resource, attribute steps) for every resource the value at ``path`` is taken from."""
    out: list[tuple[TfResource, tuple[str, ...]]] = []
    seen: set[tuple[int, tuple[str, ...]]] = set()

    def add(found: TfResource, steps: tuple[str, ...]) -> None:
        if (id(found), steps) not in seen and found is not resource:
            seen.add((id(found), steps))
            out.append((found, steps))

    expr = getattr(resource, "expressions", {}).get(tuple(path))
    for root, steps in (chains(expr) if expr is not None else ()):
        for found, rest in _resolve(resource, root, steps, index):
            add(found, rest)
    for ref in _unknown_refs(resource.get(*path)):
        hit = _by_ref(ref, index, resource)
        if hit is not None:
            add(*hit)
    return out


def targets_of(resource: TfResource, path: tuple, index: _Links, types: Iterable[str] = ()) -> list[TfResource]:
    wanted = set(types)
    out: list[TfResource] = []
    for found, _ in attribute_refs(resource, path, index):
        if (not wanted or found.type in wanted) and found not in out:
            out.append(found)
    return out


def _body_refs(resource: TfResource, keys: tuple[str, ...], index: _Links) -> list[TfResource]:
    """Resources named by an azapi body property (through the unknown value's reference)."""
    p = prop(resource, *keys)
    out = []
    for ref in _unknown_refs(p.value):
        hit = _by_ref(ref, index, resource)
        if hit is not None and hit[0] not in out:
            out.append(hit[0])
    return out


# --- diagnostic settings ------------------------------------------------------------------------

def _log_entries(diag: TfResource) -> list[tuple[str | None, str | None, Any]]:
    """(category, category_group, enabled) of every log block (``enabled_log`` and the older ``log``)."""
    out = []
    for block in _blocks(diag, "enabled_log"):
        out.append((block.get("category"), block.get("category_group"), True))
    for block in _blocks(diag, "log"):
        out.append((block.get("category"), block.get("category_group"), block.get("enabled", True)))
    return out


def _enables(diag: TfResource, categories: set[str], groups: set[str]) -> bool | None:
    """Whether the setting enables one of the log categories (or groups); None when not known statically."""
    undecided = False
    for category, group, enabled in _log_entries(diag):
        if _false(enabled):
            continue
        if not is_known(category) or not is_known(group) or not is_known(enabled):
            undecided = True
            continue
        if (_lower(category) or "") in categories or (_lower(group) or "") in groups:
            return True
    return None if undecided else False


@dataclass(frozen=True)
class Coverage:
    settings: list[TfResource]
    uncertain: bool  # some diagnostic setting's target is not known statically


def diagnostics_of(target: TfResource, inventory: TfInventory) -> Coverage:
    index = links(inventory)
    return Coverage(index.diagnostics.get(id(target), []), bool(index.unresolved_diagnostics))


# --- what counts as Azure ML, and as model storage ---------------------------------------------

def is_ml_workspace(resource: TfResource) -> bool:
    return resource.type == WORKSPACE or arm_type(resource) == ARM_WORKSPACE


def workspace_kind(resource: TfResource) -> str:
    if resource.type == WORKSPACE:
        kind = resource.values.get("kind")
    else:
        kind = prop(resource, "kind").value
        if kind is None:
            kind = resource.values.get("kind")
    return kind.lower() if isinstance(kind, str) else "default"


def is_ml_resource(resource: TfResource) -> bool:
    if resource.type.startswith("azurerm_machine_learning_"):
        return True
    kind = arm_type(resource)
    return kind is not None and kind.startswith(ARM_ML_PREFIX)


def _storage_account_of_container(container: TfResource, index: _Links) -> TfResource | None:
    for path in (("storage_account_id",), ("storage_account_name",)):
        found = targets_of(container, path, index, (STORAGE,))
        if found:
            return found[0]
    name = container.values.get("storage_account_name")
    if isinstance(name, str):
        root = root_module(container)
        for account in index.storage_accounts:
            if account.values.get("name") == name and root_module(account) is root:
                return account
    return None


def _name_of(resource: TfResource) -> str:
    name = resource.values.get("name")
    return name if isinstance(name, str) else ""


class _ModelStorage:
    """Storage accounts and containers that hold models, with the reason for each."""

    def __init__(self, inventory: TfInventory) -> None:
        index = links(inventory)
        self.reasons: dict[int, str] = {}
        self.containers_of: dict[int, list[TfResource]] = {}
        for container in inventory.of_type(CONTAINER):
            account = _storage_account_of_container(container, index)
            if account is not None:
                self.containers_of.setdefault(id(account), []).append(container)
        for workspace in inventory.of_type(WORKSPACE):
            for account in targets_of(workspace, ("storage_account_id",), index, (STORAGE,)):
                self._mark(account, f"it is the default storage of Azure ML workspace {workspace.address}")
        for resource in inventory.of_type(AZAPI):
            kind = arm_type(resource)
            if kind == ARM_WORKSPACE:
                for account in _body_refs(resource, ("properties", "storageAccount"), index):
                    if account.type == STORAGE:
                        self._mark(account, f"it is the default storage of Azure ML workspace {resource.address}")
            elif kind == ARM_DATASTORE:
                account_name = prop(resource, "properties", "accountName").value
                for account in inventory.of_type(STORAGE):
                    if isinstance(account_name, str) and _name_of(account) == account_name \
                            and root_module(account) is root_module(resource):
                        self._mark(account, f"it backs Azure ML datastore {resource.address}")
        for datastore in inventory.of_type("azurerm_machine_learning_datastore_blobstorage"):
            for container in targets_of(datastore, ("storage_container_id",), index, (CONTAINER,)):
                self._mark(container, f"it backs Azure ML datastore {datastore.address}")
                account = _storage_account_of_container(container, index)
                if account is not None:
                    self._mark(account, f"its container {container.address} backs Azure ML datastore "
                                        f"{datastore.address}")
        for resource in inventory.of_type(STORAGE, CONTAINER):
            label = _name_of(resource) or resource.name
            if MODEL_HINT.search(label) or MODEL_HINT.search(resource.name):
                self._mark(resource, f"its name ({label}) says it holds models")
        for container in inventory.of_type(CONTAINER):
            if id(container) in self.reasons:
                account = _storage_account_of_container(container, index)
                if account is not None:
                    self._mark(account, f"its container {container.address} holds models")

    def _mark(self, resource: TfResource, reason: str) -> None:
        self.reasons.setdefault(id(resource), reason)

    def reason(self, resource: TfResource) -> str | None:
        return self.reasons.get(id(resource))


def model_storage(inventory: TfInventory) -> _ModelStorage:
    return inventory.memo(("azure-model-storage",), lambda: _ModelStorage(inventory))


# ================================================================================================
# Catalogue rules: Azure Machine Learning
# ================================================================================================

def _workspace_public(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    endpoints = [pe for pe in inventory.of_type("azurerm_private_endpoint")
                 if resource in targets_of(pe, ("private_service_connection", 0, "private_connection_resource_id"),
                                           links(inventory))]
    note = (f"; a private endpoint ({endpoints[0].address}) exists but the public endpoint stays open beside it"
            if endpoints else "; no private endpoint either")
    if resource.type == WORKSPACE:
        s = setting(resource, "public_network_access_enabled")
        if s.unknown:
            yield _low(("public_network_access_enabled",),
                       f"{resource.address} has public_network_access_enabled not known statically "
                       f"({_unknown_reason(s.value)}); the workspace API may be reachable from the internet")
        elif not _false(s.value):
            yield Hit(("public_network_access_enabled",),
                      f"{resource.address} has {_state(s, ('public_network_access_enabled',))}: the workspace API "
                      f"(models, datastores, computes, endpoints) is reachable from public networks{note}")
        legacy = resource.values.get("public_access_behind_virtual_network_enabled")
        if _true(legacy):
            yield Hit(("public_access_behind_virtual_network_enabled",),
                      f"{resource.address} has public_access_behind_virtual_network_enabled = true: the workspace "
                      f"accepts public traffic even behind a virtual network")
        return
    if workspace_kind(resource) == "project":
        return  # an AI Foundry project inherits its hub's network settings
    p = prop(resource, "properties", "publicNetworkAccess")
    if not p.known:
        yield _low(p.path, f"{resource.address} has properties.publicNetworkAccess not known statically "
                           f"({_unknown_reason(p.value)}); the workspace API may be reachable from the internet")
    elif p.value is None or _lower(p.value) == "enabled":
        shown = f'publicNetworkAccess = "{p.value}"' if p.written else \
            "publicNetworkAccess unset (ARM default: Enabled)"
        yield _body_hit(resource, p.path, f"{resource.address} has properties.{shown}: the workspace API is "
                                          f"reachable from public networks{note}")
    legacy = prop(resource, "properties", "allowPublicAccessWhenBehindVnet")
    if _true(legacy.value):
        yield _body_hit(resource, legacy.path, f"{resource.address} has properties.allowPublicAccessWhenBehindVnet"
                                               f" = true: public traffic is accepted even behind a virtual network")


@rules.rule(
    id="MLS-AZ-001", name="azure-ml-workspace-public", title="Azure ML workspace reachable from public networks",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=(WORKSPACE, AZAPI),
    rationale="""
        The Azure ML workspace API controls everything the serving platform is made of: registered models,
        datastores and their credentials, computes and online endpoints. With public network access on (the
        provider default), anyone on the internet can reach that control plane with a stolen token or key,
        and private endpoints added next to it do not close the public door.
    """,
    remediation="""
        Set `public_network_access_enabled = false` (azapi: `properties.publicNetworkAccess = "Disabled"`) and
        reach the workspace through an `azurerm_private_endpoint` with subresource `amlworkspace`. Drop the
        legacy `public_access_behind_virtual_network_enabled`.
    """,
    bad="""
        resource "azurerm_machine_learning_workspace" "serving" {
          name                    = "mlw-serving-prod"
          storage_account_id      = azurerm_storage_account.models.id
          key_vault_id            = azurerm_key_vault.ml.id
          application_insights_id = azurerm_application_insights.ml.id
          identity { type = "SystemAssigned" }
        }
    """,
    good="""
        resource "azurerm_machine_learning_workspace" "serving" {
          # ...
          public_network_access_enabled = false
        }
        resource "azurerm_private_endpoint" "serving" {
          private_service_connection {
            private_connection_resource_id = azurerm_machine_learning_workspace.serving.id
            subresource_names              = ["amlworkspace"]
            is_manual_connection           = false
            name                           = "mlw-serving"
          }
          # ...
        }
    """,
    references=(ML05, "MITRE ATLAS AML.T0049", f"{MCSB} NS-2",
                f"{TF_AZURERM}machine_learning_workspace#public_network_access_enabled",
                f"{AZML_DOCS}how-to-configure-private-link"),
)
@_managed_only
def workspace_public(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if is_ml_workspace(resource):
        yield from _workspace_public(resource, inventory)


@rules.rule(
    id="MLS-AZ-002", name="azure-ml-managed-network-open",
    title="Azure ML managed network isolation disabled or allows internet outbound",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(WORKSPACE, AZAPI),
    rationale="""
        Computes, serverless jobs and managed online endpoints of a workspace run in its managed network.
        Without managed network isolation (the default, `Disabled`), or with `AllowInternetOutbound`, a
        compromised scoring container or training job can send model weights and data to any destination;
        only `AllowOnlyApprovedOutbound` confines egress to the FQDNs and private endpoints you approve.
    """,
    remediation="""
        Add `managed_network { isolation_mode = "AllowOnlyApprovedOutbound" }` (azapi:
        `properties.managedNetwork.isolationMode = "AllowOnlyApprovedOutbound"`) and declare the outbound rules
        the workloads need (package mirrors, model registries) as FQDN or private-endpoint rules.
    """,
    bad="""
        resource "azurerm_machine_learning_workspace" "serving" {
          # ...
          managed_network { isolation_mode = "AllowInternetOutbound" }
        }
    """,
    good="""
        resource "azurerm_machine_learning_workspace" "serving" {
          # ...
          managed_network { isolation_mode = "AllowOnlyApprovedOutbound" }
        }
    """,
    references=(ML05, "OWASP LLM02:2025 Sensitive Information Disclosure", "MITRE ATLAS AML.T0025",
                f"{AZML_DOCS}how-to-managed-network", f"{TF_AZURERM}machine_learning_workspace#managed_network"),
)
@_managed_only
def managed_network(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not is_ml_workspace(resource):
        return
    if resource.type == WORKSPACE:
        path: tuple = ("managed_network", 0, "isolation_mode")
        value = resource.get(*path)
        written = value is not None
        if value is None:
            value = "Disabled"
        if isinstance(value, Unknown):
            yield _low(path, f"{resource.address} has managed_network.isolation_mode not known statically "
                             f"({_unknown_reason(value)}); outbound traffic may be unrestricted")
            return
        shown = f'managed_network.isolation_mode = "{value}"' if written else \
            ("managed_network.isolation_mode unset (provider default: Disabled)" if resource.get("managed_network")
             else "no managed_network block (isolation mode Disabled)")
        obj = None
    else:
        if workspace_kind(resource) == "project":
            return
        p = prop(resource, "properties", "managedNetwork", "isolationMode")
        if not p.known:
            yield _low(p.path, f"{resource.address} has properties.managedNetwork.isolationMode not known "
                               f"statically ({_unknown_reason(p.value)}); outbound traffic may be unrestricted")
            return
        path, value = p.path, p.value if p.written else "Disabled"
        shown = f'properties.managedNetwork.isolationMode = "{value}"' if p.written else \
            "properties.managedNetwork.isolationMode unset (ARM default: Disabled)"
        obj = InBody(resource)
    mode = str(value).lower()
    if mode == "allowonlyapprovedoutbound":
        return
    if mode == "allowinternetoutbound":
        why = "computes and managed online endpoints may send data to any internet destination"
    else:
        why = "computes and endpoints are not isolated in a managed network, so egress is whatever their subnet allows"
    yield Hit(path, f"{resource.address} has {shown}: {why}", obj=obj)


@rules.rule(
    id="MLS-AZ-003", name="azure-ml-workspace-no-cmk",
    title="Azure ML workspace without CMK or HBI for sensitive models",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(WORKSPACE, AZAPI),
    rationale="""
        Without an `encryption` block the workspace metadata, its Cosmos DB / AI Search data and model
        registry entries are protected by Microsoft-managed keys only, which you cannot revoke or audit.
        `high_business_impact` (HBI) reduces the diagnostic data Microsoft collects and encrypts local
        scratch disks of computes. Workspaces holding proprietary models need both.
    """,
    remediation="""
        Add `encryption { key_vault_id = azurerm_key_vault.ml.id  key_id = azurerm_key_vault_key.ml.id
        user_assigned_identity_id = azurerm_user_assigned_identity.ml.id }` and `high_business_impact = true`
        (azapi: `properties.encryption` with `status = "Enabled"` and `keyVaultProperties`, and
        `properties.hbiWorkspace = true`). Both force a new workspace: set them at creation.
    """,
    bad="""
        resource "azurerm_machine_learning_workspace" "serving" {
          name = "mlw-serving-prod"
          # ... no encryption block, high_business_impact unset
        }
    """,
    good="""
        resource "azurerm_machine_learning_workspace" "serving" {
          # ...
          high_business_impact = true
          encryption {
            key_vault_id              = azurerm_key_vault.ml.id
            key_id                    = azurerm_key_vault_key.ml.id
            user_assigned_identity_id = azurerm_user_assigned_identity.ml.id
          }
        }
    """,
    references=(ML05, f"{TF_AZURERM}machine_learning_workspace#encryption", f"{AZML_DOCS}concept-customer-managed-keys",
                f"{MCSB} DP-5"),
)
@_managed_only
def workspace_cmk(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not is_ml_workspace(resource):
        return
    if resource.type == WORKSPACE:
        encryption = resource.get("encryption")
        if isinstance(encryption, Unknown):
            yield _low(("encryption",), f"{resource.address} has an encryption block not known statically")
        elif not encryption:
            yield Hit(("encryption",), f"{resource.address} has no encryption block: workspace data is encrypted "
                                       f"with Microsoft-managed keys only")
        s = setting(resource, "high_business_impact")
        if s.unknown:
            yield _low(("high_business_impact",), f"{resource.address} has high_business_impact not known statically")
        elif not _true(s.value):
            yield Hit(("high_business_impact",), f"{resource.address} has {_state(s, ('high_business_impact',))}: "
                                                 f"the workspace is not flagged as holding high-business-impact data",
                      severity=Severity.LOW)
        return
    if workspace_kind(resource) == "project":
        return
    enc = prop(resource, "properties", "encryption")
    status = prop(resource, "properties", "encryption", "status")
    if not enc.known and not isinstance(enc.value, dict):
        yield _low(enc.path, f"{resource.address} has properties.encryption not known statically "
                             f"({_unknown_reason(enc.value)})")
    elif not enc.written or _lower(status.value) == "disabled":
        yield _body_hit(resource, status.path if status.written else enc.path,
                        f"{resource.address} has no customer-managed key (properties.encryption "
                        f"{'status = Disabled' if status.written else 'unset'}): workspace data is encrypted with "
                        f"Microsoft-managed keys only")
    hbi = prop(resource, "properties", "hbiWorkspace")
    if not hbi.known:
        yield _low(hbi.path, f"{resource.address} has properties.hbiWorkspace not known statically")
    elif not _true(hbi.value):
        shown = f"hbiWorkspace = {_show(hbi.value)}" if hbi.written else "hbiWorkspace unset (ARM default: false)"
        yield _body_hit(resource, hbi.path, f"{resource.address} has properties.{shown}: the workspace is not "
                                            f"flagged as holding high-business-impact data", severity=Severity.LOW)


def _compute_azurerm(resource: TfResource) -> Iterator[Hit]:
    what = "compute instance" if resource.type == COMPUTE_INSTANCE else "compute cluster"
    s = setting(resource, "local_auth_enabled")
    if s.unknown:
        yield _low(("local_auth_enabled",), f"{resource.address} has local_auth_enabled not known statically")
    elif not _false(s.value):
        yield Hit(("local_auth_enabled",), f"{resource.address} has {_state(s, ('local_auth_enabled',))}: the "
                                           f"{what} accepts key-based (local) authentication besides Entra ID")
    subnet = resource.values.get("subnet_resource_id") is not None
    s = setting(resource, "node_public_ip_enabled")
    if s.unknown:
        yield _low(("node_public_ip_enabled",), f"{resource.address} has node_public_ip_enabled not known statically")
    elif not _false(s.value):
        yield Hit(("node_public_ip_enabled",), f"{resource.address} has {_state(s, ('node_public_ip_enabled',))}: "
                                               f"the {what} nodes get public IP addresses"
                                               + ("" if subnet else " (and no subnet_resource_id)"))
    ssh = _blocks(resource, "ssh")
    if resource.type == COMPUTE_INSTANCE:
        if ssh and not subnet:
            yield Hit(("ssh", 0), f"{resource.address} has an ssh block and no subnet_resource_id: SSH to the "
                                  f"compute instance is open on its public IP")
        return
    s = setting(resource, "ssh_public_access_enabled")
    if s.unknown:
        yield _low(("ssh_public_access_enabled",), f"{resource.address} has ssh_public_access_enabled not known "
                                                   f"statically")
    elif _true(s.value):
        yield Hit(("ssh_public_access_enabled",), f"{resource.address} has ssh_public_access_enabled = true: the "
                                                  f"public SSH port is open on every node of the GPU/CPU cluster")
    if ssh and ssh[0].get("admin_password") is not None:
        yield Hit(("ssh", 0, "admin_password"), f"{resource.address} sets ssh.admin_password: nodes accept "
                                                f"password logins for the admin account")


def _compute_azapi(resource: TfResource) -> Iterator[Hit]:
    compute_type = prop(resource, "properties", "computeType").value
    kind = _lower(compute_type) or ""
    if kind not in ("computeinstance", "amlcompute"):
        return
    what = "compute instance" if kind == "computeinstance" else "compute cluster"
    local = prop(resource, "properties", "disableLocalAuth")
    if not local.known:
        yield _low(local.path, f"{resource.address} has properties.disableLocalAuth not known statically")
    elif not _true(local.value):
        shown = f"disableLocalAuth = {_show(local.value)}" if local.written else \
            "disableLocalAuth unset (ARM default: false)"
        yield _body_hit(resource, local.path, f"{resource.address} has properties.{shown}: the {what} accepts "
                                              f"key-based (local) authentication")
    inner = ("properties", "properties")
    subnet = prop(resource, *inner, "subnet", "id").value is not None
    public_ip = prop(resource, *inner, "enableNodePublicIp")
    if not public_ip.known:
        yield _low(public_ip.path, f"{resource.address} has enableNodePublicIp not known statically")
    elif not _false(public_ip.value):
        shown = f"enableNodePublicIp = {_show(public_ip.value)}" if public_ip.written else \
            "enableNodePublicIp unset (ARM default: true)"
        yield _body_hit(resource, public_ip.path, f"{resource.address} has {shown}: the {what} nodes get public "
                                                  f"IP addresses")
    if kind == "computeinstance":
        ssh = prop(resource, *inner, "sshSettings", "sshPublicAccess")
        if ssh.known and _lower(ssh.value) == "enabled":
            yield _body_hit(resource, ssh.path, f'{resource.address} has sshSettings.sshPublicAccess = "Enabled"'
                                                + ("" if subnet else " and no subnet") + ": SSH is open on the "
                                                                                       "compute instance")
        return
    login = prop(resource, *inner, "remoteLoginPortPublicAccess")
    creds = prop(resource, *inner, "userAccountCredentials")
    value = _lower(login.value) if login.known else None
    if value == "enabled" or (value in (None, "notspecified") and login.known and creds.written and not subnet):
        shown = f'remoteLoginPortPublicAccess = "{login.value}"' if login.written else \
            "remoteLoginPortPublicAccess unset (NotSpecified: open when there is no subnet)"
        yield _body_hit(resource, login.path, f"{resource.address} has {shown}: the public SSH port is open on "
                                              f"every node")
    password = prop(resource, *inner, "userAccountCredentials", "adminUserPassword")
    if password.written:
        yield _body_hit(resource, password.path, f"{resource.address} sets userAccountCredentials.adminUserPassword:"
                                                 f" nodes accept password logins")


@rules.rule(
    id="MLS-AZ-004", name="azure-ml-compute-exposed",
    title="Azure ML compute instance / cluster with local auth, public IP or public SSH",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=(COMPUTE_INSTANCE, COMPUTE_CLUSTER, AZAPI),
    rationale="""
        Azure ML compute instances and clusters default to local (key-based) authentication and public IP
        addresses on every node. GPU nodes reachable from the internet with SSH or with keys that never expire
        are a direct entry point that runs with the compute identity's permissions on models and data, and a
        tempting target for cost harvesting.
    """,
    remediation="""
        Set `local_auth_enabled = false` and `node_public_ip_enabled = false` with a `subnet_resource_id`
        (or use the workspace managed network), keep `ssh_public_access_enabled = false` and leave out the `ssh`
        block (or authenticate with keys only, never `admin_password`). azapi: `properties.disableLocalAuth = true`,
        `properties.properties.enableNodePublicIp = false`, `remoteLoginPortPublicAccess = "Disabled"`.
    """,
    bad="""
        resource "azurerm_machine_learning_compute_cluster" "gpu" {
          name                          = "a100-train"
          vm_size                       = "Standard_NC24ads_A100_v4"
          vm_priority                   = "Dedicated"
          machine_learning_workspace_id = azurerm_machine_learning_workspace.serving.id
          ssh_public_access_enabled     = true
          scale_settings { ... }
        }
    """,
    good="""
        resource "azurerm_machine_learning_compute_cluster" "gpu" {
          # ...
          local_auth_enabled        = false
          node_public_ip_enabled    = false
          ssh_public_access_enabled = false
          subnet_resource_id        = azurerm_subnet.ml.id
        }
    """,
    references=("MITRE ATLAS AML.T0049", "MITRE ATLAS AML.T0012", "MITRE ATLAS AML.T0034",
                f"{TF_AZURERM}machine_learning_compute_cluster", f"{TF_AZURERM}machine_learning_compute_instance",
                f"{MCSB} IM-1"),
)
@_managed_only
def compute_exposed(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if resource.type in (COMPUTE_INSTANCE, COMPUTE_CLUSTER):
        yield from _compute_azurerm(resource)
    elif arm_type(resource) == ARM_COMPUTE:
        yield from _compute_azapi(resource)


@rules.rule(
    id="MLS-AZ-005", name="azure-ml-endpoint-key-or-public",
    title="Azure ML online endpoint with key authentication or public network access",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=(AZAPI,),
    rationale="""
        An online endpoint with `authMode = "Key"` accepts static keys that never expire and are shared by
        every caller (Microsoft rates it the weakest option); one leaked key gives unlimited scoring, model
        extraction and cost harvesting. `publicNetworkAccess` defaults to `Enabled`, which puts the scoring URI
        on the internet.
    """,
    remediation="""
        Use `authMode = "AADToken"` (Entra ID tokens, auditable per caller) or at least `"AMLToken"` (expiring
        tokens), and `publicNetworkAccess = "Disabled"` with the workspace's private endpoint or managed network.
    """,
    bad="""
        resource "azapi_resource" "fraud_endpoint" {
          type      = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints@2024-04-01"
          name      = "fraud-scoring"
          parent_id = azurerm_machine_learning_workspace.serving.id
          body = { properties = { authMode = "Key" } }
        }
    """,
    good="""
        resource "azapi_resource" "fraud_endpoint" {
          # ...
          body = {
            properties = {
              authMode            = "AADToken"
              publicNetworkAccess = "Disabled"
            }
          }
        }
    """,
    references=(ML05, "OWASP LLM10:2025 Unbounded Consumption", "MITRE ATLAS AML.T0040", "MITRE ATLAS AML.T0055",
                f"{AZML_DOCS}how-to-authenticate-online-endpoint", f"{AZML_DOCS}how-to-secure-online-endpoint"),
)
@_managed_only
def endpoint_key_or_public(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if arm_type(resource) != ARM_ONLINE_ENDPOINT:
        return
    auth = prop(resource, "properties", "authMode")
    if not auth.known:
        yield _low(auth.path, f"{resource.address} has properties.authMode not known statically "
                              f"({_unknown_reason(auth.value)}); it may accept static keys")
    elif auth.value is None or _lower(auth.value) == "key":
        shown = f'authMode = "{auth.value}"' if auth.written else "authMode unset (the CLI and SDK default: key)"
        yield _body_hit(resource, auth.path, f"{resource.address} has properties.{shown}: callers authenticate "
                                             f"with static, non-expiring endpoint keys")
    public = prop(resource, "properties", "publicNetworkAccess")
    if not public.known:
        yield _low(public.path, f"{resource.address} has properties.publicNetworkAccess not known statically "
                                f"({_unknown_reason(public.value)})")
    elif public.value is None or _lower(public.value) == "enabled":
        shown = f'publicNetworkAccess = "{public.value}"' if public.written else \
            "publicNetworkAccess unset (ARM default: Enabled)"
        yield _body_hit(resource, public.path, f"{resource.address} has properties.{shown}: the scoring URI is "
                                               f"reachable from the internet")


# --- MLS-IAM-007 ---------------------------------------------------------------------------------

def _identity_owner(resource: TfResource, index: _Links) -> list[tuple[TfResource, str]]:
    """Whose managed identity a role assignment's principal_id is: (resource, description)."""
    out: list[tuple[TfResource, str]] = []
    for found, steps in attribute_refs(resource, ("principal_id",), index):
        if found.type in ("azurerm_user_assigned_identity",) and steps[:1] in (("principal_id",), ()):
            out.append((found, f"user-assigned identity {found.address}"))
        elif steps[:1] == ("identity",) or (found.type == AZAPI and steps[:1] == ("output",)):
            out.append((found, f"the managed identity of {found.address}"))
        elif steps[:1] == ("kubelet_identity",):
            out.append((found, f"the kubelet identity of {found.address}"))
    return out


def _identity_users(identity: TfResource, index: _Links) -> list[TfResource]:
    """Resources that attach a user-assigned identity (``identity { identity_ids = [...] }``)."""
    users = []
    for r in index.resources:
        for i, _ in enumerate(_blocks(r, "identity")):
            if identity in targets_of(r, ("identity", i, "identity_ids"), index) and r not in users:
                users.append(r)
        if r.type == WORKSPACE and identity in targets_of(r, ("primary_user_assigned_identity",), index) \
                and r not in users:
            users.append(r)
    return users


def _role_of(resource: TfResource, index: _Links) -> tuple[str | None, bool]:
    """The role's lower-case name (built-in GUIDs and role definition data sources resolved); known?"""
    name = resource.values.get("role_definition_name")
    if isinstance(name, str):
        return name.strip().lower(), True
    role_id = resource.values.get("role_definition_id")
    if isinstance(role_id, str):
        guid = role_id.rstrip("/").rsplit("/", 1)[-1].lower()
        return ROLE_GUIDS.get(guid, role_id.lower()), True
    expr = getattr(resource, "expressions", {}).get(("role_definition_id",))
    if isinstance(expr, ast.Template) and expr.parts and isinstance(expr.parts[-1], str):
        match = GUID_AT_END.search(expr.parts[-1])
        if match:  # "/subscriptions/${...}/providers/Microsoft.Authorization/roleDefinitions/<guid>"
            guid = match.group(1).lower()
            return ROLE_GUIDS.get(guid, f"role definition {guid}"), True
    for found, _ in attribute_refs(resource, ("role_definition_id",), index):
        if found.type == "azurerm_role_definition" and found.mode == "data":
            data_name = found.values.get("name")
            if isinstance(data_name, str):
                return data_name.strip().lower(), True
        if found.type == "azurerm_role_definition" and found.mode == "managed":
            return None, True  # a custom role: judged by TF-AZ-051 on its own permissions
    return None, name is None and role_id is None


@dataclass(frozen=True)
class RoleScope:
    level: str | None  # "subscription", "management group", "resource group", "resource", or None if not known
    target: TfResource | None = None


SUBSCRIPTION_ID = re.compile(r"^/subscriptions/[^/]+/?$", re.IGNORECASE)
RESOURCE_GROUP_ID = re.compile(r"^/subscriptions/[^/]+/resourcegroups/[^/]+/?$", re.IGNORECASE)
MANAGEMENT_GROUP_ID = re.compile(r"^/providers/microsoft\.management/managementgroups/[^/]+/?$", re.IGNORECASE)


def _scope_level(resource: TfResource, index: _Links) -> RoleScope:
    value = resource.values.get("scope")
    if isinstance(value, str):
        if SUBSCRIPTION_ID.match(value):
            return RoleScope("subscription")
        if RESOURCE_GROUP_ID.match(value):
            return RoleScope("resource group")
        if MANAGEMENT_GROUP_ID.match(value):
            return RoleScope("management group")
        return RoleScope("resource")
    refs = attribute_refs(resource, ("scope",), index)
    expr = getattr(resource, "expressions", {}).get(("scope",))
    plain_reference = isinstance(expr, (ast.GetAttr, ast.Index, ast.Splat, ast.Variable))
    for found, steps in refs:
        level = SCOPE_TYPES.get(found.type)
        if level and steps[:1] in (("id",), ()) and plain_reference:
            return RoleScope(level, found)
    for found, steps in refs:
        if found.type not in SCOPE_TYPES and steps[:1] == ("id",) and plain_reference:
            return RoleScope("resource", found)
    if isinstance(expr, ast.Template):
        shape = "".join(part if isinstance(part, str) else "X" for part in expr.parts)
        if shape.startswith("/"):  # "/subscriptions/${data.azurerm_client_config.current.subscription_id}"
            for pattern, level in ((SUBSCRIPTION_ID, "subscription"), (RESOURCE_GROUP_ID, "resource group"),
                                   (MANAGEMENT_GROUP_ID, "management group")):
                if pattern.match(shape):
                    return RoleScope(level)
            return RoleScope("resource")
        if refs and not shape.startswith("X/"):
            return RoleScope(None)
        if refs:  # "${azurerm_storage_account.m.id}/blobServices/default/containers/fraud"
            level = SCOPE_TYPES.get(refs[0][0].type)
            return RoleScope("resource" if level is None or "/" in shape[2:] else level, refs[0][0])
    return RoleScope(None)


ML_IDENTITY_TYPES = (WORKSPACE, COMPUTE_INSTANCE, COMPUTE_CLUSTER, INFERENCE_CLUSTER)


def _ml_identities(resource: TfResource, index: _Links) -> list[tuple[TfResource, str, bool]]:
    """(ML resource, how its identity is the principal, is it an online endpoint?)"""
    out = []
    for owner, description in _identity_owner(resource, index):
        holders = [owner] if owner.type != "azurerm_user_assigned_identity" else _identity_users(owner, index)
        for holder in holders:
            if holder.type in ML_IDENTITY_TYPES or (holder.type == AZAPI and is_ml_resource(holder)):
                via = description if holder is owner else f"{description}, attached to {holder.address}"
                out.append((holder, via, arm_type(holder) == ARM_ONLINE_ENDPOINT))
    return out


@rules.rule(
    id="MLS-IAM-007", name="azure-ml-identity-over-privileged",
    title="Azure ML workspace / compute / endpoint identity over-privileged",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=(ROLE_ASSIGNMENT,),
    rationale="""
        Workspace and compute managed identities often receive Contributor or Owner on the resource group "to
        make things work". That includes writing the workspace storage (the registered models), its Key Vault
        and every endpoint: code running on a compute or in a scoring container can replace models or grant
        itself more access. An endpoint identity only needs to read its model.
    """,
    remediation="""
        Grant data-plane roles on the narrowest scope: `Storage Blob Data Reader` on the model container for
        endpoints, `AzureML Data Scientist` / `AzureML Compute Operator` on the workspace for computes, and keep
        Owner, Contributor, User Access Administrator and Storage Blob Data Owner off ML identities.
    """,
    bad="""
        resource "azurerm_role_assignment" "gpu_contributor" {
          scope                = azurerm_resource_group.ml.id
          role_definition_name = "Contributor"
          principal_id         = azurerm_machine_learning_compute_cluster.gpu.identity[0].principal_id
        }
    """,
    good="""
        resource "azurerm_role_assignment" "endpoint_reads_model" {
          scope                = "${azurerm_storage_account.models.id}/blobServices/default/containers/fraud"
          role_definition_name = "Storage Blob Data Reader"
          principal_id         = azurerm_user_assigned_identity.fraud_endpoint.principal_id
        }
    """,
    references=(ML05, ML10, "MITRE ATLAS AML.T0012", f"{MCSB} PA-7",
                "https://learn.microsoft.com/azure/machine-learning/how-to-assign-roles"),
    supersedes=("TF-AZ-050",),
)
@_managed_only
def ml_identity_privileged(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    index = links(inventory)
    holders = _ml_identities(resource, index)
    if not holders:
        return
    role, role_known = _role_of(resource, index)
    scope = _scope_level(resource, index)
    role_path = ("role_definition_name",) if "role_definition_name" in resource.values else ("role_definition_id",)
    for holder, via, endpoint in holders:
        if role is None:
            if not role_known:
                yield _low(role_path, f"{resource.address} grants a role not known statically to {via}")
            continue
        if role in ML_PRIVILEGED_ROLES:
            if scope.level in ("subscription", "management group", "resource group"):
                yield Hit(role_path, f"{resource.address} grants {role.title()} at {scope.level} scope to {via}: "
                                     f"{ML_PRIVILEGED_ROLES[role]} for whatever runs on that ML resource",
                          related=(RelatedHit(holder, (), f"{holder.address} runs with this identity"),))
            elif scope.level is None:
                yield _low(role_path, f"{resource.address} grants {role.title()} to {via} at a scope not known "
                                      f"statically")
        elif role == "storage blob data contributor" and endpoint:
            target = scope.target
            if target is not None and target.type in (STORAGE, CONTAINER) \
                    and model_storage(inventory).reason(target) is not None:
                yield Hit(role_path, f"{resource.address} grants Storage Blob Data Contributor on model storage "
                                     f"{target.address} to {via}: the online endpoint can overwrite the models "
                                     f"it serves",
                          related=(RelatedHit(holder, (), f"{holder.address} runs with this identity"),))


# --- MLS-LOG-003 ---------------------------------------------------------------------------------

ENDPOINT_LOGS = {"amlonlineendpointtrafficlog", "amlonlineendpointconsolelog", "amlonlineendpointeventlog"}
WORKSPACE_LOGS = {"amlmodelsevent", "amldeploymentevent", "amlcomputeclusterevent", "amlcomputeinstanceevent",
                  "amlcomputejobevent", "amlrunstatuschangedevent", "amlenvironmentevent", "amldatastoreaccessevent"}
LOG_GROUPS = {"alllogs", "audit"}


def _diagnostic_gap(resource: TfResource, inventory: TfInventory, categories: set[str], what: str
                    ) -> Iterator[Hit]:
    coverage = diagnostics_of(resource, inventory)
    if not coverage.settings:
        message = f"{resource.address} has no azurerm_monitor_diagnostic_setting targeting it: {what}"
        if coverage.uncertain:
            yield _low((), message + " (a diagnostic setting whose target is not known statically may cover it)")
        else:
            yield Hit((), message)
        return
    verdicts = [_enables(d, categories, LOG_GROUPS) for d in coverage.settings]
    if any(v is True for v in verdicts):
        return
    diag = coverage.settings[0]
    if any(v is None for v in verdicts):
        return  # categories not known statically: give the setting the benefit of the doubt
    yield Hit((), f"{resource.address} has diagnostic setting {diag.address}, but it enables none of "
                  f"{', '.join(sorted(categories))} nor the allLogs/audit category groups: {what}",
              related=(RelatedHit(diag, ("enabled_log",), f"{diag.address} targets {resource.address}"),))


@rules.rule(
    id="MLS-LOG-003", name="azure-ml-no-diagnostic-settings",
    title="Azure ML workspace / online endpoints without diagnostic settings",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(WORKSPACE, AZAPI),
    rationale="""
        Online-endpoint traffic logs (`AmlOnlineEndpointTrafficLog`) record the caller, auth mode and response
        code of every scoring request, and the workspace events (`AmlModelsEvent`, `AmlDeploymentEvent`) record
        who registered or deployed which model. Without a diagnostic setting these logs are never collected:
        model extraction and unauthorised model swaps leave no trace.
    """,
    remediation="""
        Add an `azurerm_monitor_diagnostic_setting` with `target_resource_id` set to the workspace / endpoint id
        and `enabled_log { category_group = "allLogs" }` (or the `AmlOnlineEndpointTrafficLog`,
        `AmlOnlineEndpointConsoleLog`, `AmlOnlineEndpointEventLog` categories for endpoints), sent to a Log
        Analytics workspace with adequate retention.
    """,
    bad="""
        resource "azapi_resource" "fraud_endpoint" {
          type = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints@2024-04-01"
          # ... and no azurerm_monitor_diagnostic_setting targets it
        }
    """,
    good="""
        resource "azurerm_monitor_diagnostic_setting" "fraud_endpoint" {
          name                       = "fraud-endpoint-logs"
          target_resource_id         = azapi_resource.fraud_endpoint.id
          log_analytics_workspace_id = azurerm_log_analytics_workspace.security.id
          enabled_log { category = "AmlOnlineEndpointTrafficLog" }
          enabled_log { category = "AmlOnlineEndpointConsoleLog" }
          enabled_log { category = "AmlOnlineEndpointEventLog" }
        }
    """,
    references=("OWASP LLM10:2025 Unbounded Consumption", "MITRE ATLAS AML.T0024", "MITRE ATLAS AML.T0040",
                f"{MCSB} LT-3", f"{AZML_DOCS}monitor-azure-machine-learning",
                f"{AZML_DOCS}how-to-monitor-online-endpoints"),
)
@_managed_only
def ml_diagnostics(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if resource.type == WORKSPACE or (arm_type(resource) == ARM_WORKSPACE):
        yield from _diagnostic_gap(resource, inventory, WORKSPACE_LOGS,
                                   "model registration, deployment and compute events are not collected")
    elif arm_type(resource) == ARM_ONLINE_ENDPOINT:
        yield from _diagnostic_gap(resource, inventory, ENDPOINT_LOGS,
                                   "scoring traffic (callers, auth mode, responses) is not logged")


# --- MLS-LOG-002 (AKS side) ------------------------------------------------------------------------

AUDIT_CATEGORIES = {"kube-audit", "kube-audit-admin"}


def gpu_pools(cluster: TfResource, inventory: TfInventory) -> list[tuple[TfResource, tuple, str]]:
    """(resource, path of vm_size, size) of every GPU node pool of an AKS cluster."""
    out = []
    size = cluster.get("default_node_pool", 0, "vm_size")
    if isinstance(size, str) and GPU_VM.match(size):
        out.append((cluster, ("default_node_pool", 0, "vm_size"), size))
    index = links(inventory)
    for pool in inventory.of_type(NODE_POOL):
        size = pool.values.get("vm_size")
        if isinstance(size, str) and GPU_VM.match(size) and cluster in targets_of(pool, ("kubernetes_cluster_id",),
                                                                                  index):
            out.append((pool, ("vm_size",), size))
    return out


@rules.rule(
    id="MLS-LOG-002-AKS", name="aks-gpu-cluster-audit-logging",
    title="GPU cluster control-plane / audit logging incomplete (AKS)",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(AKS,),
    rationale="""
        AKS sends its control-plane and audit logs (`kube-audit`, `kube-audit-admin`) nowhere unless a
        diagnostic setting collects them. Without them there is no trace of who changed an InferenceService,
        read a model-hub token Secret or exec'd into a GPU pod serving models.
    """,
    remediation="""
        Add an `azurerm_monitor_diagnostic_setting` targeting the cluster with `enabled_log { category =
        "kube-audit-admin" }` (or `kube-audit`, or `category_group = "audit"`) sent to a Log Analytics workspace,
        and enable Container insights (`oms_agent`) or Defender for Containers.
    """,
    bad="""
        resource "azurerm_kubernetes_cluster" "inference" {
          default_node_pool { name = "gpu"  vm_size = "Standard_NC24ads_A100_v4"  node_count = 2 }
          # ... no diagnostic setting collects kube-audit
        }
    """,
    good="""
        resource "azurerm_monitor_diagnostic_setting" "inference_audit" {
          name                       = "aks-audit"
          target_resource_id         = azurerm_kubernetes_cluster.inference.id
          log_analytics_workspace_id = azurerm_log_analytics_workspace.security.id
          enabled_log { category = "kube-audit-admin" }
        }
    """,
    references=("servegate catalogue MLS-LOG-002 (AKS side)", f"{CIS_AKS} 2.1.1",
                "NSA/CISA Kubernetes Hardening Guidance v1.2 (Audit logging and threat detection)",
                "https://learn.microsoft.com/azure/aks/monitor-aks"),
)
@_managed_only
def aks_gpu_audit(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    pools = gpu_pools(resource, inventory)
    if not pools:
        return
    pool, _, size = pools[0]
    gpu = f"runs GPU nodes ({size}{' in ' + pool.address if pool is not resource else ''})"
    coverage = diagnostics_of(resource, inventory)
    verdicts = [_enables(d, AUDIT_CATEGORIES, {"audit", "alllogs"}) for d in coverage.settings]
    if any(v is True for v in verdicts) or any(v is None for v in verdicts):
        return
    if coverage.settings:
        diag = coverage.settings[0]
        yield Hit((), f"{resource.address} {gpu}, and its diagnostic setting {diag.address} collects neither "
                      f"kube-audit nor kube-audit-admin: API-server audit events are lost",
                  related=(RelatedHit(diag, (), f"{diag.address} targets {resource.address}"),))
    elif coverage.uncertain:
        yield _low((), f"{resource.address} {gpu} and no diagnostic setting known to target it collects kube-audit "
                       f"(a setting whose target is not known statically may)")
    else:
        yield Hit((), f"{resource.address} {gpu} and no azurerm_monitor_diagnostic_setting collects its kube-audit "
                      f"logs: API-server audit events are lost")


# --- MLS-ART-001/002/003 (Azure side) -------------------------------------------------------------

PUBLIC_CONTAINER = {"blob": "anonymous read of every blob", "container": "anonymous listing and read of every blob"}


def _network_denied(account: TfResource, inventory: TfInventory) -> bool | None:
    """Whether the account's firewall denies by default (inline ``network_rules`` or the separate resource)."""
    actions = [b.get("default_action") for b in _blocks(account, "network_rules")]
    for rules_resource in inventory.attached(account, ("azurerm_storage_account_network_rules",), "storage_account_id"):
        actions.append(rules_resource.values.get("default_action"))
    for rules_resource in inventory.attached(account, ("azurerm_storage_account_network_rules",),
                                             "storage_account_name", by_value=("name",)):
        actions.append(rules_resource.values.get("default_action"))
    if any(_lower(a) == "deny" for a in actions):
        return True
    if any(not is_known(a) for a in actions):
        return None
    return False


def _private_endpoints(target: TfResource, inventory: TfInventory) -> list[TfResource]:
    index = links(inventory)
    return [pe for pe in inventory.of_type("azurerm_private_endpoint")
            if target in targets_of(pe, ("private_service_connection", 0, "private_connection_resource_id"), index)]


def _nested_public(account: TfResource) -> tuple[tuple, Setting]:
    if account.get("allow_blob_public_access") is not None:  # azurerm < 3.0
        return ("allow_blob_public_access",), setting(account, "allow_blob_public_access")
    return ("allow_nested_items_to_be_public",), setting(account, "allow_nested_items_to_be_public")


def _storage_public_network(account: TfResource, inventory: TfInventory) -> tuple[str, Confidence] | None:
    """Why the account's blob endpoint is reachable from the internet, or None."""
    s = setting(account, "public_network_access_enabled")
    if _false(s.value):
        return None
    denied = _network_denied(account, inventory)
    if denied is True:
        return None
    state = _state(s, ("public_network_access_enabled",)) if not s.unknown else \
        f"public_network_access_enabled not known statically ({_unknown_reason(s.value)})"
    confidence = Confidence.LOW if s.unknown or denied is None else Confidence.HIGH
    return f"{state} and no network rule denies by default", confidence


@rules.rule(
    id="MLS-ART-001-AZ", name="azure-model-storage-public",
    title="Model storage publicly readable or reachable (Azure)",
    severity=Severity.CRITICAL, scope=Scope.RESOURCE, kinds=(STORAGE, CONTAINER),
    rationale="""
        A blob container holding model weights with anonymous access lets anyone download (steal) the model; a
        storage account that allows nested items to be public is one `container_access_type` change away from
        it, and an account open to every network relies on keys and tokens alone to protect the weights that
        the serving platform loads blindly.
    """,
    remediation="""
        Keep `container_access_type = "private"` on model containers, set `allow_nested_items_to_be_public =
        false` and `public_network_access_enabled = false` on the account, and reach it through a private
        endpoint (subresource `blob`) or a `network_rules { default_action = "Deny" }` allow-list.
    """,
    bad="""
        resource "azurerm_storage_container" "models" {
          name                  = "models"
          storage_account_id    = azurerm_storage_account.ml.id
          container_access_type = "blob"
        }
    """,
    good="""
        resource "azurerm_storage_account" "ml" {
          # ...
          allow_nested_items_to_be_public = false
          public_network_access_enabled   = false
        }
        resource "azurerm_storage_container" "models" {
          name                  = "models"
          storage_account_id    = azurerm_storage_account.ml.id
          container_access_type = "private"
        }
    """,
    references=("servegate catalogue MLS-ART-001 (Azure side)", ML05, ML10, "OWASP LLM03:2025 Supply Chain",
                "MITRE ATLAS AML.T0035", "MITRE ATLAS AML.T0010.003", f"{CIS_AZ} 3.7", f"{CIS_AZ} 3.8"),
    supersedes=("TF-AZ-010", "TF-AZ-011", "TF-AZ-012"),
)
@_managed_only
def model_storage_public(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    reason = model_storage(inventory).reason(resource)
    if reason is None:
        return
    if resource.type == CONTAINER:
        s = setting(resource, "container_access_type")
        if s.unknown:
            yield _low(("container_access_type",), f"{resource.address} holds models ({reason}) and its "
                                                   f"container_access_type is not known statically")
        elif _lower(s.value) in PUBLIC_CONTAINER:
            yield Hit(("container_access_type",), f"{resource.address} holds models ({reason}) and has "
                                                  f"container_access_type = {_show(s.value)}: "
                                                  f"{PUBLIC_CONTAINER[_lower(s.value)]} without credentials")
        return
    path, s = _nested_public(resource)
    if s.unknown:
        yield _low(path, f"{resource.address} holds models ({reason}) and {_dotted(path)} is not known statically")
    elif not _false(s.value):
        yield Hit(path, f"{resource.address} holds models ({reason}) and has {_state(s, path)}: any of its "
                        f"containers can be switched to anonymous access", severity=Severity.HIGH)
    public = _storage_public_network(resource, inventory)
    if public is not None and not _private_endpoints(resource, inventory):
        why, confidence = public
        yield Hit(("public_network_access_enabled",), f"{resource.address} holds models ({reason}) and has {why} "
                                                      f"or private endpoint: the model blobs are reachable from "
                                                      f"the internet", severity=Severity.HIGH, confidence=confidence)


def _immutability(account: TfResource, inventory: TfInventory) -> bool:
    if _blocks(account, "immutability_policy"):
        return True
    containers = model_storage(inventory).containers_of.get(id(account), [])
    index = links(inventory)
    for policy in inventory.of_type("azurerm_storage_container_immutability_policy"):
        found = targets_of(policy, ("storage_container_resource_manager_id",), index)
        if any(c in found for c in containers) or account in found:
            return True
    return False


@rules.rule(
    id="MLS-ART-002-AZ", name="azure-model-storage-unversioned",
    title="Model storage without versioning or immutability (Azure)",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=(STORAGE,),
    rationale="""
        Silently overwritten weights are the cheapest model-poisoning path: whoever can write the model
        container (a leaked key, an over-privileged compute identity) replaces the model and the serving
        platform loads it on the next rollout. Blob versioning keeps every previous version so tampering is
        detectable and reversible; an immutability policy prevents it for released models.
    """,
    remediation="""
        Set `blob_properties { versioning_enabled = true  delete_retention_policy { days = 30 } }` on the
        account, and lock released-model containers with an `azurerm_storage_container_immutability_policy`
        (or the account's `immutability_policy`).
    """,
    bad="""
        resource "azurerm_storage_account" "models" {
          name                     = "acmemlmodels"
          account_tier             = "Standard"
          account_replication_type = "ZRS"
        }
    """,
    good="""
        resource "azurerm_storage_account" "models" {
          # ...
          blob_properties {
            versioning_enabled = true
            delete_retention_policy { days = 30 }
          }
        }
    """,
    references=("servegate catalogue MLS-ART-002 (Azure side)", ML10, "OWASP ML02:2023 Data Poisoning",
                "OWASP LLM04:2025 Data and Model Poisoning",
                "MITRE ATLAS AML.T0018.000", "MITRE ATLAS AML.T0076",
                "https://learn.microsoft.com/azure/storage/blobs/versioning-overview"),
)
@_managed_only
def model_storage_unversioned(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    reason = model_storage(inventory).reason(resource)
    if reason is None:
        return
    path = ("blob_properties", 0, "versioning_enabled")
    value = resource.get(*path)
    if _true(value) or _immutability(resource, inventory):
        return
    if value is not None and not is_known(value):
        yield _low(path, f"{resource.address} holds models ({reason}) and blob_properties.versioning_enabled is not "
                         f"known statically")
        return
    state = "blob_properties.versioning_enabled = false" if value is not None else \
        "blob versioning off (blob_properties.versioning_enabled unset)"
    yield Hit(path, f"{resource.address} holds models ({reason}) and has {state} and no immutability policy: "
                    f"overwritten or deleted model blobs cannot be recovered or detected")


def _cmk_attached(account: TfResource, inventory: TfInventory) -> bool:
    if _blocks(account, "customer_managed_key"):
        return True
    return bool(inventory.attached(account, ("azurerm_storage_account_customer_managed_key",), "storage_account_id"))


@rules.rule(
    id="MLS-ART-003-AZ", name="azure-model-storage-no-cmk",
    title="Model storage not encrypted with a customer-managed key (Azure)",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(STORAGE,),
    rationale="""
        With Microsoft-managed keys, access to proprietary model weights cannot be revoked by disabling a key
        and decrypt operations do not show up in your Key Vault logs. A customer-managed key gives both: the
        weights become unreadable the moment the key is disabled.
    """,
    remediation="""
        Add `customer_managed_key { key_vault_key_id = azurerm_key_vault_key.models.id
        user_assigned_identity_id = azurerm_user_assigned_identity.storage.id }` with a matching `identity`
        block (or an `azurerm_storage_account_customer_managed_key` resource).
    """,
    bad="""
        resource "azurerm_storage_account" "models" {
          name                     = "acmemlmodels"
          account_tier             = "Standard"
          account_replication_type = "ZRS"
        }
    """,
    good="""
        resource "azurerm_storage_account" "models" {
          # ...
          identity {
            type         = "UserAssigned"
            identity_ids = [azurerm_user_assigned_identity.storage.id]
          }
          customer_managed_key {
            key_vault_key_id          = azurerm_key_vault_key.models.id
            user_assigned_identity_id = azurerm_user_assigned_identity.storage.id
          }
        }
    """,
    references=("servegate catalogue MLS-ART-003 (Azure side)", ML05,
                "OWASP LLM02:2025 Sensitive Information Disclosure",
                "MITRE ATLAS AML.T0035", "MITRE ATLAS AML.T0025", f"{CIS_AZ} 3.12"),
    supersedes=("TF-AZ-015",),
)
@_managed_only
def model_storage_cmk(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    reason = model_storage(inventory).reason(resource)
    if reason is None or _cmk_attached(resource, inventory):
        return
    yield Hit(("customer_managed_key",), f"{resource.address} holds models ({reason}) and has no "
                                         f"customer_managed_key: the weights are encrypted with Microsoft-managed "
                                         f"keys only")


# ================================================================================================
# TF-AZ: baseline for the Azure services around the ML platform
# ================================================================================================

def _flag(resource: TfResource, path: tuple, bad: Callable[[Any], bool], consequence: str,
          severity: Severity | None = None) -> Iterator[Hit]:
    """One attribute whose configured value, or provider default, is insecure when ``bad(value)``."""
    s = setting(resource, *path)
    if s.unknown or not is_known(s.value):
        yield _low(path, f"{resource.address} has {_dotted(path)} not known statically "
                         f"({_unknown_reason(s.value)}): {consequence} unless it is set securely")
    elif bad(s.value):
        yield Hit(path, f"{resource.address} has {_state(s, path)}: {consequence}", severity=severity)


def _not_true(value: Any) -> bool:
    return not _true(value)


def _not_false(value: Any) -> bool:
    return not _false(value)


# --- AKS -------------------------------------------------------------------------------------------

def _is_private(cluster: TfResource) -> bool:
    return _true(cluster.values.get("private_cluster_enabled"))


@rules.rule(
    id="TF-AZ-001", name="aks-api-server-public", title="AKS API server has a public endpoint",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(AKS,),
    rationale="""
        Unless `private_cluster_enabled` is true the Kubernetes API server of the cluster that runs the model
        servers gets a public FQDN and IP. Every credential leak, RBAC mistake or API-server vulnerability is
        then exploitable from the internet.
    """,
    remediation="""
        Set `private_cluster_enabled = true` (with a private DNS zone) and reach the API through the VNet, a
        bastion or `az aks command invoke`; if the endpoint must stay public, restrict it with
        `api_server_access_profile { authorized_ip_ranges = [...] }`.
    """,
    bad="""
        resource "azurerm_kubernetes_cluster" "inference" {
          name       = "aks-inference"
          dns_prefix = "inference"
          # private_cluster_enabled unset (false)
        }
    """,
    good="""
        resource "azurerm_kubernetes_cluster" "inference" {
          # ...
          private_cluster_enabled = true
        }
    """,
    references=(f"{CIS_AKS} 5.4.2", f"{MCSB} NS-2", f"{TF_AZURERM}kubernetes_cluster#private_cluster_enabled"),
)
@_managed_only
def aks_public_api(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    yield from _flag(resource, ("private_cluster_enabled",), _not_true,
                     "the Kubernetes API server is reachable on a public endpoint")


@rules.rule(
    id="TF-AZ-002", name="aks-api-server-unrestricted", title="AKS public API server without an IP allow-list",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(AKS,),
    rationale="""
        A public AKS API server without authorized IP ranges (or with 0.0.0.0/0 among them) accepts connections
        from the whole internet, so brute force, token replay and API-server exploits are open to anyone.
    """,
    remediation="""
        Make the cluster private, or set `api_server_access_profile { authorized_ip_ranges = ["203.0.113.0/24"] }`
        with the CIDRs of your CI runners and administrators only.
    """,
    bad="""
        resource "azurerm_kubernetes_cluster" "inference" {
          # public API server, no api_server_access_profile
        }
    """,
    good="""
        resource "azurerm_kubernetes_cluster" "inference" {
          # ...
          api_server_access_profile {
            authorized_ip_ranges = ["203.0.113.0/24"]
          }
        }
    """,
    references=(f"{CIS_AKS} 5.4.1", f"{TF_AZURERM}kubernetes_cluster#authorized_ip_ranges"),
)
@_managed_only
def aks_authorized_ranges(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    private = resource.values.get("private_cluster_enabled")
    if _true(private):
        return
    if not is_known(private):
        return  # TF-AZ-001 reports the unknown
    path: tuple = ("api_server_access_profile", 0, "authorized_ip_ranges")
    ranges = resource.get(*path)
    if ranges is None and resource.values.get("api_server_authorized_ip_ranges") is not None:
        path, ranges = ("api_server_authorized_ip_ranges",), resource.values["api_server_authorized_ip_ranges"]
    if ranges is not None and not isinstance(ranges, list):
        yield _low(path, f"{resource.address} has {_dotted(path)} not known statically "
                         f"({_unknown_reason(ranges)}); the public API server may accept any address")
        return
    ranges = ranges or []
    if not ranges:
        yield Hit(path, f"{resource.address} has a public API server and no authorized_ip_ranges: it accepts "
                        f"connections from any address")
        return
    for i, cidr in enumerate(ranges):
        if isinstance(cidr, str) and cidr.strip().lower() in ANYWHERE:
            yield Hit(path + (i,), f"{resource.address} lists {_show(cidr)} in {_dotted(path)}: the public API "
                                   f"server accepts connections from anywhere")
        elif not is_known(cidr):
            yield _low(path + (i,), f"{resource.address} has an authorized IP range not known statically "
                                    f"({_unknown_reason(cidr)})")


@rules.rule(
    id="TF-AZ-003", name="aks-rbac-disabled", title="AKS Kubernetes RBAC disabled",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=(AKS,),
    rationale="""
        With Kubernetes RBAC disabled every authenticated identity is effectively cluster-admin: any workload
        token or user credential can read every Secret (model-hub tokens, storage keys) and change every
        inference deployment.
    """,
    remediation="""
        Keep `role_based_access_control_enabled = true` (the default; `role_based_access_control { enabled = true }`
        on old providers) and prefer `azure_active_directory_role_based_access_control { azure_rbac_enabled = true }`.
    """,
    bad="""
        resource "azurerm_kubernetes_cluster" "inference" {
          # ...
          role_based_access_control_enabled = false
        }
    """,
    good="""
        resource "azurerm_kubernetes_cluster" "inference" {
          # ...
          role_based_access_control_enabled = true
          azure_active_directory_role_based_access_control {
            azure_rbac_enabled = true
          }
        }
    """,
    references=(f"{CIS_AKS} 4.1", f"{TF_AZURERM}kubernetes_cluster#role_based_access_control_enabled"),
)
@_managed_only
def aks_rbac(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    legacy = resource.get("role_based_access_control", 0, "enabled")
    if legacy is not None:
        if _false(legacy):
            yield Hit(("role_based_access_control", 0, "enabled"),
                      f"{resource.address} has role_based_access_control.enabled = false: Kubernetes RBAC is off, "
                      f"every authenticated identity can do anything in the cluster")
        elif not is_known(legacy):
            yield _low(("role_based_access_control", 0, "enabled"),
                       f"{resource.address} has role_based_access_control.enabled not known statically")
        return
    yield from _flag(resource, ("role_based_access_control_enabled",), _false,
                     "Kubernetes RBAC is off, every authenticated identity can do anything in the cluster")


@rules.rule(
    id="TF-AZ-004", name="aks-local-accounts", title="AKS local accounts enabled",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(AKS,),
    rationale="""
        AKS local accounts include a static cluster-admin certificate (`az aks get-credentials --admin`) that
        bypasses Entra ID, cannot be revoked per user and leaves no identity in the audit log.
    """,
    remediation="""
        Set `local_account_disabled = true` together with `azure_active_directory_role_based_access_control`
        so administrators authenticate with Entra ID.
    """,
    bad="""
        resource "azurerm_kubernetes_cluster" "inference" {
          # local_account_disabled unset (false)
        }
    """,
    good="""
        resource "azurerm_kubernetes_cluster" "inference" {
          # ...
          local_account_disabled = true
          azure_active_directory_role_based_access_control {
            azure_rbac_enabled = true
          }
        }
    """,
    references=(f"{MCSB} IM-1", "https://learn.microsoft.com/azure/aks/manage-local-accounts-managed-azure-ad",
                f"{TF_AZURERM}kubernetes_cluster#local_account_disabled"),
)
@_managed_only
def aks_local_accounts(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    yield from _flag(resource, ("local_account_disabled",), _not_true,
                     "the static local cluster-admin account can be used instead of Entra ID")


NETWORK_POLICIES = {"azure", "calico", "cilium"}


@rules.rule(
    id="TF-AZ-005", name="aks-network-policy-missing", title="AKS network policy enforcement not enabled",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(AKS,),
    rationale="""
        Without a network policy engine, Kubernetes NetworkPolicy objects are silently ignored: every pod can
        reach every model server's admin and inference ports and the cloud metadata endpoint.
    """,
    remediation="""
        Set `network_profile { network_plugin = "azure"  network_policy = "azure" }` (or `"calico"`, or
        `"cilium"` with `network_data_plane = "cilium"`), then add default-deny NetworkPolicies.
    """,
    bad="""
        resource "azurerm_kubernetes_cluster" "inference" {
          network_profile {
            network_plugin = "azure"
          }
        }
    """,
    good="""
        resource "azurerm_kubernetes_cluster" "inference" {
          network_profile {
            network_plugin = "azure"
            network_policy = "calico"
          }
        }
    """,
    references=(f"{CIS_AKS} 5.4.4", f"{TF_AZURERM}kubernetes_cluster#network_policy"),
)
@_managed_only
def aks_network_policy(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    path = ("network_profile", 0, "network_policy")
    policy = resource.get(*path)
    planes = (resource.get("network_profile", 0, "network_data_plane"),
              resource.get("network_profile", 0, "ebpf_data_plane"))
    if any(_lower(plane) == "cilium" for plane in planes):
        return
    if policy is not None and not is_known(policy):
        yield _low(path, f"{resource.address} has network_profile.network_policy not known statically "
                         f"({_unknown_reason(policy)})")
        return
    if _lower(policy) in NETWORK_POLICIES:
        return
    if policy is None:
        where = "no network_profile block" if not resource.get("network_profile") else "network_policy unset"
        yield Hit(path, f"{resource.address} has {where}: no network policy engine, so NetworkPolicies are not "
                        f"enforced")
    else:
        yield Hit(path, f"{resource.address} has network_profile.network_policy = {_show(policy)}, not azure, "
                        f"calico or cilium: NetworkPolicies are not enforced")


def _node_public_ip(resource: TfResource, base: tuple) -> Iterator[Hit]:
    for name in ("node_public_ip_enabled", "enable_node_public_ip"):
        value = resource.get(*base, name)
        if value is None:
            continue
        if _true(value):
            yield Hit(base + (name,), f"{resource.address} has {_dotted(base + (name,))} = true: every node of the "
                                      f"pool gets a public IP address")
        elif not is_known(value):
            yield _low(base + (name,), f"{resource.address} has {_dotted(base + (name,))} not known statically")
        return


@rules.rule(
    id="TF-AZ-006", name="aks-node-public-ip", title="AKS nodes with public IP addresses",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(AKS, NODE_POOL),
    rationale="""
        Node pools with public IPs put every GPU node (kubelet, SSH, NodePorts, host-network model servers) on
        the internet instead of behind the cluster's load balancer and NSGs.
    """,
    remediation="""
        Leave `node_public_ip_enabled` unset or false on `default_node_pool` and every
        `azurerm_kubernetes_cluster_node_pool`; expose services through an (internal) load balancer or ingress.
    """,
    bad="""
        resource "azurerm_kubernetes_cluster_node_pool" "gpu" {
          name                   = "gpu"
          vm_size                = "Standard_NC24ads_A100_v4"
          node_public_ip_enabled = true
        }
    """,
    good="""
        resource "azurerm_kubernetes_cluster_node_pool" "gpu" {
          name    = "gpu"
          vm_size = "Standard_NC24ads_A100_v4"
        }
    """,
    references=(f"{MCSB} NS-2", f"{TF_AZURERM}kubernetes_cluster_node_pool#node_public_ip_enabled"),
)
@_managed_only
def aks_node_public_ip(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if resource.type == NODE_POOL:
        yield from _node_public_ip(resource, ())
    else:
        for i, _ in enumerate(_blocks(resource, "default_node_pool")):
            yield from _node_public_ip(resource, ("default_node_pool", i))


@rules.rule(
    id="TF-AZ-007", name="aks-disk-encryption-cmk", title="AKS node disks not encrypted with a customer-managed key",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=(AKS,),
    rationale="""
        Node OS and data disks hold cached model weights, container images and pod scratch data. Without a
        disk encryption set they are encrypted with platform keys only, which you can neither revoke nor audit.
    """,
    remediation="""
        Create an `azurerm_disk_encryption_set` backed by a Key Vault key and set `disk_encryption_set_id` on the
        cluster (and enable `host_encryption_enabled` on GPU pools for temp disks and caches).
    """,
    bad="""
        resource "azurerm_kubernetes_cluster" "inference" {
          # no disk_encryption_set_id
        }
    """,
    good="""
        resource "azurerm_kubernetes_cluster" "inference" {
          # ...
          disk_encryption_set_id = azurerm_disk_encryption_set.aks.id
        }
    """,
    references=(f"{MCSB} DP-5", "https://learn.microsoft.com/azure/aks/azure-disk-customer-managed-keys",
                f"{TF_AZURERM}kubernetes_cluster#disk_encryption_set_id"),
)
@_managed_only
def aks_disk_cmk(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if resource.values.get("disk_encryption_set_id") is None:
        yield Hit(("disk_encryption_set_id",), f"{resource.address} has no disk_encryption_set_id: node disks are "
                                               f"encrypted with platform-managed keys only")


@rules.rule(
    id="TF-AZ-008", name="aks-monitoring-disabled", title="AKS without Container insights or diagnostic logs",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(AKS,),
    rationale="""
        Without the monitoring agent (`oms_agent`, Container insights) and without a diagnostic setting, no
        container, node or control-plane logs of the serving cluster reach Azure Monitor: crashes, abuse of
        model endpoints and intrusions go unnoticed.
    """,
    remediation="""
        Add `oms_agent { log_analytics_workspace_id = azurerm_log_analytics_workspace.aks.id }` and an
        `azurerm_monitor_diagnostic_setting` for the cluster's control-plane logs.
    """,
    bad="""
        resource "azurerm_kubernetes_cluster" "inference" {
          # no oms_agent, no diagnostic setting
        }
    """,
    good="""
        resource "azurerm_kubernetes_cluster" "inference" {
          # ...
          oms_agent {
            log_analytics_workspace_id = azurerm_log_analytics_workspace.aks.id
          }
        }
    """,
    references=(f"{CIS_AKS} 2.1.1", f"{MCSB} LT-3", f"{TF_AZURERM}kubernetes_cluster#oms_agent"),
)
@_managed_only
def aks_monitoring(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if _blocks(resource, "oms_agent") or diagnostics_of(resource, inventory).settings:
        return
    addon = resource.get("addon_profile", 0, "oms_agent", 0, "enabled")
    if _true(addon):
        return
    if addon is not None and not is_known(addon):
        yield _low(("addon_profile", 0, "oms_agent", 0, "enabled"),
                   f"{resource.address} has addon_profile.oms_agent.enabled not known statically")
        return
    if _false(addon):
        yield Hit(("addon_profile", 0, "oms_agent", 0, "enabled"),
                  f"{resource.address} has addon_profile.oms_agent.enabled = false and no diagnostic setting: "
                  f"cluster logs are not collected")
        return
    message = f"{resource.address} has no oms_agent (Container insights) and no diagnostic setting: cluster " \
              f"logs are not collected"
    if diagnostics_of(resource, inventory).uncertain:
        yield _low(("oms_agent",), message + " (a diagnostic setting whose target is not known statically may "
                                             "cover it)")
    else:
        yield Hit(("oms_agent",), message)


def _host_encryption(resource: TfResource, base: tuple) -> Iterator[Hit]:
    for name in ("host_encryption_enabled", "enable_host_encryption"):
        value = resource.get(*base, name)
        if value is not None:
            if _false(value):
                yield Hit(base + (name,), f"{resource.address} has {_dotted(base + (name,))} = false: temp disks, "
                                          f"caches and disk traffic of the nodes are not encrypted at the host")
            elif not is_known(value):
                yield _low(base + (name,), f"{resource.address} has {_dotted(base + (name,))} not known statically")
            return
    path = base + ("host_encryption_enabled",)
    yield Hit(path, f"{resource.address} has {_dotted(path)} unset (provider default: false): temp disks, caches "
                    f"and disk traffic of the nodes are not encrypted at the host")


@rules.rule(
    id="TF-AZ-009", name="aks-host-encryption-disabled", title="AKS node pool without encryption at host",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=(AKS, NODE_POOL),
    rationale="""
        Server-side disk encryption does not cover the node's temporary disk, the OS and data disk caches or
        the data flowing between the VM and storage. GPU nodes use the temp disk for model caches, image layers
        and scratch data, which then sit unencrypted on the host.
    """,
    remediation="""
        Set `host_encryption_enabled = true` (`enable_host_encryption` before azurerm 4.0) on `default_node_pool`
        and on every `azurerm_kubernetes_cluster_node_pool` (register the `EncryptionAtHost` feature first).
    """,
    bad="""
        resource "azurerm_kubernetes_cluster_node_pool" "gpu" {
          name    = "gpu"
          vm_size = "Standard_NC24ads_A100_v4"
        }
    """,
    good="""
        resource "azurerm_kubernetes_cluster_node_pool" "gpu" {
          name                    = "gpu"
          vm_size                 = "Standard_NC24ads_A100_v4"
          host_encryption_enabled = true
        }
    """,
    references=(f"{MCSB} DP-4", "https://learn.microsoft.com/azure/aks/enable-host-encryption",
                f"{TF_AZURERM}kubernetes_cluster_node_pool#host_encryption_enabled"),
)
@_managed_only
def aks_host_encryption(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if resource.type == NODE_POOL:
        yield from _host_encryption(resource, ())
    else:
        for i, _ in enumerate(_blocks(resource, "default_node_pool")):
            yield from _host_encryption(resource, ("default_node_pool", i))


# --- Storage -------------------------------------------------------------------------------------

@rules.rule(
    id="TF-AZ-010", name="storage-container-public", title="Blob container allows anonymous access",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=(CONTAINER,),
    rationale="""
        `container_access_type = "blob"` lets anyone read every blob whose URL they know, `"container"` also
        lets them list the container: datasets, model artifacts and logs become public.
    """,
    remediation="""
        Set `container_access_type = "private"` (the default) and share individual blobs with short-lived
        user-delegation SAS tokens if needed; set `allow_nested_items_to_be_public = false` on the account.
    """,
    bad="""
        resource "azurerm_storage_container" "datasets" {
          name                  = "datasets"
          storage_account_id    = azurerm_storage_account.data.id
          container_access_type = "container"
        }
    """,
    good="""
        resource "azurerm_storage_container" "datasets" {
          name                  = "datasets"
          storage_account_id    = azurerm_storage_account.data.id
          container_access_type = "private"
        }
    """,
    references=(f"{CIS_AZ} 3.7", f"{TF_AZURERM}storage_container#container_access_type"),
)
@_managed_only
def storage_container_public(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    yield from _flag(resource, ("container_access_type",), lambda v: _lower(v) in PUBLIC_CONTAINER,
                     "blobs are readable without credentials")


@rules.rule(
    id="TF-AZ-011", name="storage-nested-items-public", title="Storage account allows public blob containers",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(STORAGE,),
    rationale="""
        `allow_nested_items_to_be_public` is the account-wide guardrail against anonymous blob access. Left at
        its default (true), any container can be made public by one attribute change or one portal click.
    """,
    remediation="""
        Set `allow_nested_items_to_be_public = false` (`allow_blob_public_access = false` before azurerm 3.0).
    """,
    bad="""
        resource "azurerm_storage_account" "data" {
          name                     = "acmemldata"
          account_tier             = "Standard"
          account_replication_type = "ZRS"
        }
    """,
    good="""
        resource "azurerm_storage_account" "data" {
          # ...
          allow_nested_items_to_be_public = false
        }
    """,
    references=(f"{CIS_AZ} 3.7", f"{TF_AZURERM}storage_account#allow_nested_items_to_be_public"),
)
@_managed_only
def storage_nested_public(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    path, s = _nested_public(resource)
    if s.unknown or not is_known(s.value):
        yield _low(path, f"{resource.address} has {_dotted(path)} not known statically ({_unknown_reason(s.value)})")
    elif not _false(s.value):
        yield Hit(path, f"{resource.address} has {_state(s, path)}: its containers may be made anonymously readable")


@rules.rule(
    id="TF-AZ-012", name="storage-public-network", title="Storage account reachable from every network",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(STORAGE, "azurerm_storage_account_network_rules"),
    rationale="""
        With public network access enabled and no firewall rule denying by default, the account's endpoints
        accept requests from the whole internet; a leaked key or SAS token is then usable from anywhere.
    """,
    remediation="""
        Set `public_network_access_enabled = false` and use private endpoints, or add `network_rules {
        default_action = "Deny"  ip_rules = [...]  virtual_network_subnet_ids = [...] }`.
    """,
    bad="""
        resource "azurerm_storage_account" "data" {
          name                     = "acmemldata"
          account_tier             = "Standard"
          account_replication_type = "ZRS"
        }
    """,
    good="""
        resource "azurerm_storage_account" "data" {
          # ...
          public_network_access_enabled = false
        }
    """,
    references=(f"{CIS_AZ} 3.8", f"{MCSB} NS-2", f"{TF_AZURERM}storage_account#network_rules"),
)
@_managed_only
def storage_public_network(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if resource.type == NETWORK_RULES:
        action = resource.values.get("default_action")
        if _lower(action) != "allow":
            return
        index = links(inventory)
        accounts = targets_of(resource, ("storage_account_id",), index, (STORAGE,)) or \
            targets_of(resource, ("storage_account_name",), index, (STORAGE,))
        if any(_false(setting(a, "public_network_access_enabled").value) for a in accounts):
            return
        yield Hit(("default_action",), f"{resource.address} has default_action = {_show(action)}: the storage "
                                       f"account accepts requests from any network")
        return
    public = _storage_public_network(resource, inventory)
    if public is not None:
        why, confidence = public
        yield Hit(("public_network_access_enabled",), f"{resource.address} has {why}: its endpoints accept "
                                                      f"requests from any network", confidence=confidence)


@rules.rule(
    id="TF-AZ-013", name="storage-https-not-enforced", title="Storage account accepts plain HTTP",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(STORAGE,),
    rationale="""
        With secure transfer disabled the account accepts HTTP requests: data, SAS tokens and shared-key
        signatures travel in clear text and can be captured or altered in transit.
    """,
    remediation="""
        Keep `https_traffic_only_enabled = true` (`enable_https_traffic_only` before azurerm 4.0), the default.
    """,
    bad="""
        resource "azurerm_storage_account" "data" {
          # ...
          https_traffic_only_enabled = false
        }
    """,
    good="""
        resource "azurerm_storage_account" "data" {
          # ...
          https_traffic_only_enabled = true
        }
    """,
    references=(f"{CIS_AZ} 3.1", f"{TF_AZURERM}storage_account#https_traffic_only_enabled"),
)
@_managed_only
def storage_https(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    path = ("enable_https_traffic_only",) if resource.values.get("enable_https_traffic_only") is not None \
        else ("https_traffic_only_enabled",)
    yield from _flag(resource, path, _false, "the account accepts unencrypted HTTP requests")


WEAK_TLS = {"tls1_0": "TLS 1.0", "tls1_1": "TLS 1.1", "1.0": "TLS 1.0", "1.1": "TLS 1.1", "tls1.0": "TLS 1.0",
            "tls1.1": "TLS 1.1", "tlsenforcementdisabled": "any TLS version"}


@rules.rule(
    id="TF-AZ-014", name="storage-weak-tls", title="Storage account allows TLS below 1.2",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(STORAGE,),
    rationale="TLS 1.0 and 1.1 have known weaknesses and are deprecated; clients can be downgraded to them.",
    remediation='Set `min_tls_version = "TLS1_2"` (the default since azurerm 3.0).',
    bad="""
        resource "azurerm_storage_account" "data" {
          # ...
          min_tls_version = "TLS1_0"
        }
    """,
    good="""
        resource "azurerm_storage_account" "data" {
          # ...
          min_tls_version = "TLS1_2"
        }
    """,
    references=(f"{CIS_AZ} 3.15", f"{TF_AZURERM}storage_account#min_tls_version"),
)
@_managed_only
def storage_tls(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    yield from _flag(resource, ("min_tls_version",), lambda v: _lower(v) in WEAK_TLS,
                     "clients may connect with deprecated TLS versions")


@rules.rule(
    id="TF-AZ-015", name="storage-cmk-missing", title="Storage account not encrypted with a customer-managed key",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=(STORAGE,),
    rationale="""
        Storage encrypted with Microsoft-managed keys only cannot be made unreadable by revoking a key, and
        decrypt operations leave no trace in your Key Vault.
    """,
    remediation="""
        Add a `customer_managed_key { key_vault_key_id = ...  user_assigned_identity_id = ... }` block (or an
        `azurerm_storage_account_customer_managed_key` resource) with a Key Vault key that has purge protection.
    """,
    bad="""
        resource "azurerm_storage_account" "data" {
          name                     = "acmemldata"
          account_tier             = "Standard"
          account_replication_type = "ZRS"
        }
    """,
    good="""
        resource "azurerm_storage_account" "data" {
          # ...
          customer_managed_key {
            key_vault_key_id          = azurerm_key_vault_key.storage.id
            user_assigned_identity_id = azurerm_user_assigned_identity.storage.id
          }
        }
    """,
    references=(f"{CIS_AZ} 3.12", f"{TF_AZURERM}storage_account_customer_managed_key"),
)
@_managed_only
def storage_cmk(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _cmk_attached(resource, inventory):
        yield Hit(("customer_managed_key",), f"{resource.address} has no customer_managed_key: data is encrypted "
                                             f"with Microsoft-managed keys only")


STORAGE_LOGS = {"storageread", "storagewrite", "storagedelete"}


@rules.rule(
    id="TF-AZ-016", name="storage-logging-disabled", title="Storage account without access logging",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=(STORAGE,),
    rationale="""
        Without a diagnostic setting (StorageRead/StorageWrite/StorageDelete) or classic Storage Analytics
        logging, reads and overwrites of data and model blobs leave no trace, so theft or tampering cannot be
        detected or attributed.
    """,
    remediation="""
        Add an `azurerm_monitor_diagnostic_setting` with `target_resource_id = "${azurerm_storage_account.x.id}/
        blobServices/default"` enabling StorageRead, StorageWrite and StorageDelete (or the `audit` category group).
    """,
    bad="""
        resource "azurerm_storage_account" "data" {
          # ... and no diagnostic setting for its blob service
        }
    """,
    good="""
        resource "azurerm_monitor_diagnostic_setting" "data_blob" {
          name                       = "blob-access"
          target_resource_id         = "${azurerm_storage_account.data.id}/blobServices/default"
          log_analytics_workspace_id = azurerm_log_analytics_workspace.security.id
          enabled_log { category = "StorageRead" }
          enabled_log { category = "StorageWrite" }
          enabled_log { category = "StorageDelete" }
        }
    """,
    references=(f"{CIS_AZ} 3.5", f"{CIS_AZ} 3.10",
                "https://learn.microsoft.com/azure/storage/blobs/monitor-blob-storage"),
)
@_managed_only
def storage_logging(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    logging = resource.get("queue_properties", 0, "logging", 0)
    if isinstance(logging, dict) and all(_true(logging.get(k)) for k in ("read", "write", "delete")):
        return
    coverage = diagnostics_of(resource, inventory)
    if coverage.settings:
        return
    if isinstance(logging, dict):
        off = [k for k in ("read", "write", "delete") if not _true(logging.get(k))]
        if any(not is_known(logging.get(k)) for k in off):
            return
        yield Hit(("queue_properties", 0, "logging", 0), f"{resource.address} has Storage Analytics logging without "
                                                         f"{', '.join(off)} requests and no diagnostic setting: those "
                                                         f"requests are not logged")
        return
    message = f"{resource.address} has no diagnostic setting and no Storage Analytics logging: reads, writes " \
              f"and deletes are not logged"
    if coverage.uncertain:
        yield _low((), message + " (a diagnostic setting whose target is not known statically may cover it)")
    else:
        yield Hit((), message)


@rules.rule(
    id="TF-AZ-017", name="storage-shared-key-access", title="Storage account allows shared-key (account key) access",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=(STORAGE,),
    rationale="""
        Account keys and the SAS tokens signed with them are static, full-access credentials that never expire
        by themselves and are not tied to an identity. For model storage they are typically copied into
        serving Secrets (KServe storage secrets, `AZURE_STORAGE_KEY`) and grant write access to every model.
    """,
    remediation="""
        Set `shared_access_key_enabled = false` and give workloads Entra ID access (workload identity with
        `Storage Blob Data Reader`); set `storage_use_azuread = true` in the azurerm provider.
    """,
    bad="""
        resource "azurerm_storage_account" "models" {
          name = "acmemlmodels"
          # shared_access_key_enabled unset (true)
        }
    """,
    good="""
        resource "azurerm_storage_account" "models" {
          # ...
          shared_access_key_enabled = false
        }
    """,
    references=(f"{CIS_AZ} 3.3", "MITRE ATLAS AML.T0055", "MITRE ATLAS AML.T0012",
                "https://learn.microsoft.com/azure/storage/common/shared-key-authorization-prevent"),
)
@_managed_only
def storage_shared_key(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    yield from _flag(resource, ("shared_access_key_enabled",), _not_false,
                     "static account keys and the SAS tokens signed with them grant full data access")


@rules.rule(
    id="MLS-SEC-004-AZ", name="azure-model-storage-shared-key", title="Model storage allows shared-key access (Azure)",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(STORAGE,),
    rationale="""
        Storage account keys are long-lived, full-access credentials: copied into KServe storage secrets, pod
        environment (`AZURE_STORAGE_KEY`) or notebooks, they are never rotated and let whoever holds them read and
        overwrite every model in the account. Model storage should only be reachable through Entra ID (workload
        identity) so access is per identity, scoped and revocable.
    """,
    remediation="""
        Set `shared_access_key_enabled = false` on the model storage account, give serving workloads Azure
        Workload Identity with `Storage Blob Data Reader` on their model container, and set
        `storage_use_azuread = true` in the azurerm provider so Terraform itself does not need the key.
    """,
    bad="""
        resource "azurerm_storage_account" "models" {
          name                     = "acmemlmodels"
          account_tier             = "Standard"
          account_replication_type = "ZRS"
        }
    """,
    good="""
        resource "azurerm_storage_account" "models" {
          # ...
          shared_access_key_enabled = false
        }
    """,
    references=("servegate catalogue MLS-SEC-004 (Azure side)", "MITRE ATLAS AML.T0055", "MITRE ATLAS AML.T0012",
                f"{CIS_AZ} 3.3", "https://learn.microsoft.com/azure/storage/common/shared-key-authorization-prevent"),
    supersedes=("TF-AZ-017",),
)
@_managed_only
def model_storage_shared_key(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    reason = model_storage(inventory).reason(resource)
    if reason is None:
        return
    s = setting(resource, "shared_access_key_enabled")
    if s.unknown:
        yield _low(("shared_access_key_enabled",), f"{resource.address} holds models ({reason}) and has "
                                                   f"shared_access_key_enabled not known statically "
                                                   f"({_unknown_reason(s.value)})")
    elif not _false(s.value):
        yield Hit(("shared_access_key_enabled",), f"{resource.address} holds models ({reason}) and has "
                                                  f"{_state(s, ('shared_access_key_enabled',))}: static account "
                                                  f"keys can read and overwrite every model, instead of workload "
                                                  f"identity")


# --- Key Vault -------------------------------------------------------------------------------------

def _acl_denies(resource: TfResource, block: str = "network_acls") -> bool | None:
    actions = [b.get("default_action") for b in _blocks(resource, block)]
    if any(_lower(a) == "deny" for a in actions):
        return True
    if any(not is_known(a) for a in actions):
        return None
    return False


def _public_service(resource: TfResource, path: tuple, what: str, restricted: bool | None) -> Iterator[Hit]:
    """``public_network_access_enabled``-style exposure, unless a firewall restricts it (``restricted``)."""
    s = setting(resource, *path)
    if _false(s.value) or (isinstance(s.value, str) and _lower(s.value) == "disabled") or restricted is True:
        return
    if s.unknown or restricted is None:
        yield _low(path, f"{resource.address} has {_dotted(path)} or its network ACL not known statically: {what} "
                         f"may be reachable from any network")
        return
    state = _state(s, path) if s.written or s.value is not None else \
        f"{_dotted(path)} unset (provider default: enabled)"
    yield Hit(path, f"{resource.address} has {state} and no network ACL denying by default: {what} is reachable "
                    f"from any network")


@rules.rule(
    id="TF-AZ-020", name="key-vault-public-network", title="Key Vault reachable from every network",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(KEY_VAULT,),
    rationale="""
        The Key Vault of an ML platform holds datastore credentials, model-hub tokens and the CMKs of the
        workspace and storage. Open to every network, a leaked token or client secret is usable from anywhere.
    """,
    remediation="""
        Set `public_network_access_enabled = false` and use a private endpoint, or `network_acls {
        default_action = "Deny"  bypass = "AzureServices"  ip_rules = [...] }`.
    """,
    bad="""
        resource "azurerm_key_vault" "ml" {
          name      = "kv-ml-prod"
          sku_name  = "premium"
          tenant_id = data.azurerm_client_config.current.tenant_id
        }
    """,
    good="""
        resource "azurerm_key_vault" "ml" {
          # ...
          public_network_access_enabled = false
          network_acls {
            default_action = "Deny"
            bypass         = "AzureServices"
          }
        }
    """,
    references=(f"{CIS_AZ} 8.7", f"{MCSB} NS-2", f"{TF_AZURERM}key_vault#network_acls"),
)
@_managed_only
def key_vault_public(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    yield from _public_service(resource, ("public_network_access_enabled",), "the vault", _acl_denies(resource))


@rules.rule(
    id="TF-AZ-021", name="key-vault-purge-protection", title="Key Vault without purge protection",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(KEY_VAULT,),
    rationale="""
        Without purge protection a deleted vault or key can be purged immediately: an attacker (or a mistake)
        destroys the customer-managed keys of workspaces and model storage, making their data unrecoverable.
    """,
    remediation="Set `purge_protection_enabled = true` (and keep `soft_delete_retention_days` at 90).",
    bad="""
        resource "azurerm_key_vault" "ml" {
          # purge_protection_enabled unset (false)
        }
    """,
    good="""
        resource "azurerm_key_vault" "ml" {
          # ...
          purge_protection_enabled = true
        }
    """,
    references=(f"{CIS_AZ} 8.5", f"{TF_AZURERM}key_vault#purge_protection_enabled"),
)
@_managed_only
def key_vault_purge(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    yield from _flag(resource, ("purge_protection_enabled",), _not_true,
                     "deleted keys and secrets can be purged at once, before recovery is possible")


def _expiry(resource: TfResource, what: str) -> Iterator[Hit]:
    if resource.values.get("expiration_date") is None:
        yield Hit(("expiration_date",), f"{resource.address} has no expiration_date: the {what} never expires")


@rules.rule(
    id="TF-AZ-022", name="key-vault-key-no-expiry", title="Key Vault key without expiration date",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=("azurerm_key_vault_key",),
    rationale="Keys without an expiration date are never forced into rotation; a compromised key stays valid.",
    remediation="""
        Set `expiration_date` (and a `rotation_policy { expire_after = "P90D"  automatic { time_before_expiry =
        "P30D" } }` so the key is renewed before it expires).
    """,
    bad="""
        resource "azurerm_key_vault_key" "models" {
          name         = "models-cmk"
          key_vault_id = azurerm_key_vault.ml.id
          key_type     = "RSA-HSM"
          key_size     = 3072
          key_opts     = ["wrapKey", "unwrapKey"]
        }
    """,
    good="""
        resource "azurerm_key_vault_key" "models" {
          # ...
          expiration_date = "2026-12-31T00:00:00Z"
        }
    """,
    references=(f"{CIS_AZ} 8.1", f"{CIS_AZ} 8.2", f"{TF_AZURERM}key_vault_key#expiration_date"),
)
@_managed_only
def key_expiry(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    yield from _expiry(resource, "key")


@rules.rule(
    id="TF-AZ-023", name="key-vault-secret-no-expiry", title="Key Vault secret without expiration date",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=("azurerm_key_vault_secret",),
    rationale="""
        Secrets without an expiration date (model-hub tokens, datastore keys, registry passwords) are never
        forced into rotation and stay valid long after they leak.
    """,
    remediation="Set `expiration_date` on every secret and rotate it before it expires.",
    bad="""
        resource "azurerm_key_vault_secret" "hf_token" {
          name         = "hf-token"
          value        = var.hf_token
          key_vault_id = azurerm_key_vault.ml.id
        }
    """,
    good="""
        resource "azurerm_key_vault_secret" "hf_token" {
          # ...
          expiration_date = "2026-06-30T00:00:00Z"
        }
    """,
    references=(f"{CIS_AZ} 8.3", f"{CIS_AZ} 8.4", f"{TF_AZURERM}key_vault_secret#expiration_date"),
)
@_managed_only
def secret_expiry(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    yield from _expiry(resource, "secret")


@rules.rule(
    id="TF-AZ-024", name="key-vault-diagnostics-missing", title="Key Vault without audit logging",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(KEY_VAULT,),
    rationale="""
        Key Vault `AuditEvent` logs are the only record of who read which secret or used which key. Without a
        diagnostic setting, theft of model-hub tokens or datastore credentials cannot be detected.
    """,
    remediation="""
        Add an `azurerm_monitor_diagnostic_setting` targeting the vault with `enabled_log { category =
        "AuditEvent" }` (or `category_group = "audit"`), sent to a Log Analytics workspace.
    """,
    bad="""
        resource "azurerm_key_vault" "ml" {
          # ... and no diagnostic setting targets it
        }
    """,
    good="""
        resource "azurerm_monitor_diagnostic_setting" "kv_audit" {
          name                       = "kv-audit"
          target_resource_id         = azurerm_key_vault.ml.id
          log_analytics_workspace_id = azurerm_log_analytics_workspace.security.id
          enabled_log { category = "AuditEvent" }
        }
    """,
    references=(f"{CIS_AZ} 5.1.5", f"{MCSB} LT-3", "https://learn.microsoft.com/azure/key-vault/general/logging"),
)
@_managed_only
def key_vault_diagnostics(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    yield from _diagnostic_gap(resource, inventory, {"auditevent"},
                               "secret reads and key operations are not audited")


@rules.rule(
    id="TF-AZ-025", name="key-vault-key-no-rotation", title="Key Vault key without automatic rotation",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=("azurerm_key_vault_key",),
    rationale="""
        Keys used as customer-managed keys for workspaces, disks and model storage should rotate automatically;
        a key that never rotates extends the window in which a leaked key version can decrypt data.
    """,
    remediation="""
        Add `rotation_policy { expire_after = "P90D"  notify_before_expiry = "P29D"  automatic {
        time_before_expiry = "P30D" } }`.
    """,
    bad="""
        resource "azurerm_key_vault_key" "models" {
          name         = "models-cmk"
          key_vault_id = azurerm_key_vault.ml.id
          key_type     = "RSA"
          key_size     = 3072
          key_opts     = ["wrapKey", "unwrapKey"]
        }
    """,
    good="""
        resource "azurerm_key_vault_key" "models" {
          # ...
          rotation_policy {
            expire_after         = "P90D"
            notify_before_expiry = "P29D"
            automatic { time_before_expiry = "P30D" }
          }
        }
    """,
    references=(f"{CIS_AZ} 8.6", f"{TF_AZURERM}key_vault_key#rotation_policy"),
)
@_managed_only
def key_rotation(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    policy = _blocks(resource, "rotation_policy")
    if not policy:
        yield Hit(("rotation_policy",), f"{resource.address} has no rotation_policy: the key is never rotated "
                                        f"automatically")
    elif not _blocks(resource, "rotation_policy", 0, "automatic"):
        yield Hit(("rotation_policy", 0, "automatic"), f"{resource.address} has a rotation_policy without an "
                                                       f"automatic block: the key is never rotated automatically")


# --- Container registry ----------------------------------------------------------------------------

ACR = "azurerm_container_registry"


@rules.rule(
    id="TF-AZ-030", name="acr-admin-user", title="Container registry admin user enabled",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(ACR,),
    rationale="""
        The ACR admin user is a shared account with push rights whose two passwords never expire: anyone
        holding them can overwrite model-server and scoring images.
    """,
    remediation="""
        Set `admin_enabled = false` and pull with managed identities (`AcrPull`), push from CI with `AcrPush`.
    """,
    bad="""
        resource "azurerm_container_registry" "ml" {
          name          = "acrmlprod"
          sku           = "Premium"
          admin_enabled = true
        }
    """,
    good="""
        resource "azurerm_container_registry" "ml" {
          name          = "acrmlprod"
          sku           = "Premium"
          admin_enabled = false
        }
    """,
    references=(ML06, "MITRE ATLAS AML.T0010.004", f"{MCSB} IM-1", f"{TF_AZURERM}container_registry#admin_enabled"),
)
@_managed_only
def acr_admin(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    yield from _flag(resource, ("admin_enabled",), _true,
                     "a shared admin account with non-expiring passwords can push and pull every image")


@rules.rule(
    id="TF-AZ-031", name="acr-public-network", title="Container registry reachable from every network",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(ACR,),
    rationale="""
        A registry open to every network lets a leaked token push or pull serving images from anywhere; image
        pulls from the cluster should stay on private endpoints.
    """,
    remediation="""
        Set `public_network_access_enabled = false` with a private endpoint (Premium SKU), or `network_rule_set {
        default_action = "Deny" ... }`.
    """,
    bad="""
        resource "azurerm_container_registry" "ml" {
          name = "acrmlprod"
          sku  = "Premium"
        }
    """,
    good="""
        resource "azurerm_container_registry" "ml" {
          name                          = "acrmlprod"
          sku                           = "Premium"
          public_network_access_enabled = false
        }
    """,
    references=(ML06, f"{MCSB} NS-2", f"{TF_AZURERM}container_registry#public_network_access_enabled"),
)
@_managed_only
def acr_public(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    yield from _public_service(resource, ("public_network_access_enabled",), "the registry",
                               _acl_denies(resource, "network_rule_set"))


@rules.rule(
    id="TF-AZ-032", name="acr-anonymous-pull", title="Container registry allows anonymous pull",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(ACR,),
    rationale="""
        Anonymous pull lets anyone download every image of the registry, including serving images that bake
        in model weights, tokenizers or internal code.
    """,
    remediation="Set `anonymous_pull_enabled = false` (the default).",
    bad="""
        resource "azurerm_container_registry" "ml" {
          # ...
          anonymous_pull_enabled = true
        }
    """,
    good="""
        resource "azurerm_container_registry" "ml" {
          # ...
          anonymous_pull_enabled = false
        }
    """,
    references=(ML05, "MITRE ATLAS AML.T0035", f"{TF_AZURERM}container_registry#anonymous_pull_enabled"),
)
@_managed_only
def acr_anonymous(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    yield from _flag(resource, ("anonymous_pull_enabled",), _true,
                     "anyone can pull every image without credentials")


# --- Cognitive Services / AI Search ------------------------------------------------------------

COGNITIVE = ("azurerm_cognitive_account", "azurerm_ai_services")
SEARCH = "azurerm_search_service"


@rules.rule(
    id="TF-AZ-040", name="cognitive-local-auth",
    title="Azure AI / Cognitive Services account allows key authentication",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=COGNITIVE,
    rationale="""
        Azure OpenAI and Cognitive Services keys are static, shared and never expire; they end up in app
        settings and notebooks. With local auth enabled (the default) a leaked key grants unlimited model use
        and cost, with no caller identity in the logs.
    """,
    remediation="""
        Set `local_auth_enabled = false` (`local_authentication_enabled = false` on `azurerm_ai_services`) and
        grant callers `Cognitive Services OpenAI User` through Entra ID.
    """,
    bad="""
        resource "azurerm_cognitive_account" "openai" {
          name     = "oai-ml-prod"
          kind     = "OpenAI"
          sku_name = "S0"
        }
    """,
    good="""
        resource "azurerm_cognitive_account" "openai" {
          # ...
          local_auth_enabled = false
        }
    """,
    references=("OWASP LLM10:2025 Unbounded Consumption", "MITRE ATLAS AML.T0055", f"{MCSB} IM-1",
                f"{TF_AZURERM}cognitive_account#local_auth_enabled"),
)
@_managed_only
def cognitive_local_auth(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    name = "local_auth_enabled" if resource.type == "azurerm_cognitive_account" else "local_authentication_enabled"
    yield from _flag(resource, (name,), _not_false, "callers can authenticate with static account keys")


@rules.rule(
    id="TF-AZ-041", name="cognitive-public-network",
    title="Azure AI / Cognitive Services account reachable from every network",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=COGNITIVE,
    rationale="""
        With public network access enabled and no network ACL denying by default, the model API of the
        account is callable from the whole internet with a leaked key or token.
    """,
    remediation="""
        Set `public_network_access_enabled = false` (`public_network_access = "Disabled"` on
        `azurerm_ai_services`) and use private endpoints, or `network_acls { default_action = "Deny" ... }`.
    """,
    bad="""
        resource "azurerm_cognitive_account" "openai" {
          name     = "oai-ml-prod"
          kind     = "OpenAI"
          sku_name = "S0"
        }
    """,
    good="""
        resource "azurerm_cognitive_account" "openai" {
          # ...
          public_network_access_enabled = false
          custom_subdomain_name         = "oai-ml-prod"
        }
    """,
    references=(f"{MCSB} NS-2", "OWASP LLM10:2025 Unbounded Consumption",
                f"{TF_AZURERM}cognitive_account#public_network_access_enabled"),
)
@_managed_only
def cognitive_public(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    name = "public_network_access_enabled" if resource.type == "azurerm_cognitive_account" else "public_network_access"
    yield from _public_service(resource, (name,), "the model API", _acl_denies(resource))


@rules.rule(
    id="TF-AZ-042", name="search-local-auth", title="Azure AI Search allows API-key authentication",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(SEARCH,),
    rationale="""
        AI Search admin and query keys are static and shared; a leaked admin key lets anyone read, overwrite or
        poison the vector index behind a RAG application. Local (key) auth is on by default.
    """,
    remediation="Set `local_authentication_enabled = false` and use Entra ID roles (`Search Index Data Reader`).",
    bad="""
        resource "azurerm_search_service" "rag" {
          name = "srch-rag-prod"
          sku  = "standard"
        }
    """,
    good="""
        resource "azurerm_search_service" "rag" {
          # ...
          local_authentication_enabled = false
        }
    """,
    references=("OWASP LLM08:2025 Vector and Embedding Weaknesses", "MITRE ATLAS AML.T0055",
                f"{TF_AZURERM}search_service#local_authentication_enabled"),
)
@_managed_only
def search_local_auth(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    yield from _flag(resource, ("local_authentication_enabled",), _not_false,
                     "callers can authenticate with static admin and query keys")


@rules.rule(
    id="TF-AZ-043", name="search-public-network", title="Azure AI Search reachable from every network",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(SEARCH,),
    rationale="""
        A search service open to every network exposes the RAG index (documents, embeddings) to anyone holding
        a key or token, from anywhere.
    """,
    remediation="Set `public_network_access_enabled = false` with a private endpoint, or restrict `allowed_ips`.",
    bad="""
        resource "azurerm_search_service" "rag" {
          name = "srch-rag-prod"
          sku  = "standard"
        }
    """,
    good="""
        resource "azurerm_search_service" "rag" {
          # ...
          public_network_access_enabled = false
        }
    """,
    references=("OWASP LLM08:2025 Vector and Embedding Weaknesses", f"{MCSB} NS-2",
                f"{TF_AZURERM}search_service#public_network_access_enabled"),
)
@_managed_only
def search_public(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    allowed = resource.values.get("allowed_ips")
    restricted = True if isinstance(allowed, list) and allowed and is_known(allowed) else \
        (None if allowed is not None and not isinstance(allowed, list) else False)
    yield from _public_service(resource, ("public_network_access_enabled",), "the search index", restricted)


@rules.rule(
    id="TF-AZ-044", name="cognitive-cmk-missing",
    title="Azure AI / Cognitive Services account without a customer-managed key",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=COGNITIVE,
    rationale="""
        Azure OpenAI and AI Services accounts store fine-tuned models, uploaded training files, batch jobs and
        assistants data. Without a customer-managed key that data cannot be made unreadable by revoking a key,
        and decrypt operations leave no trace in your Key Vault.
    """,
    remediation="""
        Add `customer_managed_key { key_vault_key_id = azurerm_key_vault_key.ai.id  identity_client_id = ... }`
        (or an `azurerm_cognitive_account_customer_managed_key` resource) with a user-assigned identity.
    """,
    bad="""
        resource "azurerm_cognitive_account" "openai" {
          name     = "oai-ml-prod"
          kind     = "OpenAI"
          sku_name = "S0"
        }
    """,
    good="""
        resource "azurerm_cognitive_account" "openai" {
          # ...
          customer_managed_key {
            key_vault_key_id   = azurerm_key_vault_key.ai.id
            identity_client_id = azurerm_user_assigned_identity.ai.client_id
          }
        }
    """,
    references=(ML05, f"{MCSB} DP-5", f"{TF_AZURERM}cognitive_account_customer_managed_key"),
)
@_managed_only
def cognitive_cmk(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if _blocks(resource, "customer_managed_key"):
        return
    if inventory.attached(resource, ("azurerm_cognitive_account_customer_managed_key",), "cognitive_account_id"):
        return
    yield Hit(("customer_managed_key",), f"{resource.address} has no customer_managed_key: fine-tuned models and "
                                         f"uploaded data are encrypted with Microsoft-managed keys only")


DATA_SERVICES = {  # type -> (attribute, what)
    "azurerm_redis_cache": ("public_network_access_enabled", "the cache"),
    "azurerm_postgresql_server": ("public_network_access_enabled", "the database server"),
    "azurerm_mysql_server": ("public_network_access_enabled", "the database server"),
    "azurerm_mariadb_server": ("public_network_access_enabled", "the database server"),
    "azurerm_mssql_server": ("public_network_access_enabled", "the SQL server"),
    "azurerm_cosmosdb_account": ("public_network_access_enabled", "the Cosmos DB account"),
    "azurerm_databricks_workspace": ("public_network_access_enabled", "the Databricks workspace"),
}


@rules.rule(
    id="TF-AZ-045", name="data-service-public-network",
    title="Database, cache or Databricks workspace reachable from every network",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=tuple(DATA_SERVICES),
    rationale="""
        Model registries (MLflow on PostgreSQL/MySQL), feature stores (Cosmos DB, SQL) and online feature
        caches (Redis) with public network access accept connections from the whole internet; a leaked password
        or access key is then usable from anywhere.
    """,
    remediation="""
        Set `public_network_access_enabled = false` and connect through private endpoints (or VNet integration
        for flexible servers).
    """,
    bad="""
        resource "azurerm_redis_cache" "features" {
          name     = "redis-online-features"
          capacity = 1
          family   = "C"
          sku_name = "Standard"
        }
    """,
    good="""
        resource "azurerm_redis_cache" "features" {
          # ...
          public_network_access_enabled = false
        }
    """,
    references=(f"{MCSB} NS-2", f"{CIS_AZ} 4.3.6", f"{TF_AZURERM}redis_cache#public_network_access_enabled"),
)
@_managed_only
def data_service_public(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    attribute, what = DATA_SERVICES[resource.type]
    value = resource.values.get(attribute)
    if value is None and resource.type == "azurerm_cosmosdb_account":
        filters = resource.values.get("ip_range_filter")
        vnet = _true(resource.values.get("is_virtual_network_filter_enabled"))
        if vnet or (isinstance(filters, (list, str)) and filters and is_known(filters)):
            return
    if _false(value):
        return
    if value is not None and not is_known(value):
        yield _low((attribute,), f"{resource.address} has {attribute} not known statically: {what} may be reachable "
                                 f"from any network")
        return
    state = f"{attribute} = true" if value is not None else f"{attribute} unset (provider default: true)"
    yield Hit((attribute,), f"{resource.address} has {state}: {what} accepts connections from any network")


@rules.rule(
    id="TF-AZ-046", name="nic-public-ip", title="Network interface with a public IP address",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=("azurerm_network_interface",),
    rationale="""
        A VM network interface with a public IP puts the VM (a GPU inference box, a self-hosted model server,
        a jump host) directly on the internet, where its open ports are one NSG mistake away from exposure.
    """,
    remediation="""
        Remove `public_ip_address_id` from the `ip_configuration`; publish services through a load balancer,
        Application Gateway or private endpoint, and reach VMs with Azure Bastion.
    """,
    bad="""
        resource "azurerm_network_interface" "gpu_vm" {
          ip_configuration {
            name                          = "primary"
            subnet_id                     = azurerm_subnet.ml.id
            private_ip_address_allocation = "Dynamic"
            public_ip_address_id          = azurerm_public_ip.gpu_vm.id
          }
        }
    """,
    good="""
        resource "azurerm_network_interface" "gpu_vm" {
          ip_configuration {
            name                          = "primary"
            subnet_id                     = azurerm_subnet.ml.id
            private_ip_address_allocation = "Dynamic"
          }
        }
    """,
    references=(f"{MCSB} NS-2", f"{TF_AZURERM}network_interface#public_ip_address_id"),
)
@_managed_only
def nic_public_ip(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for i, block in enumerate(_blocks(resource, "ip_configuration")):
        if block.get("public_ip_address_id") is not None:
            yield Hit(("ip_configuration", i, "public_ip_address_id"),
                      f"{resource.address} attaches a public IP address to ip_configuration "
                      f"{_show(block.get('name'))}: the VM is reachable from the internet")


# --- Identity and access -----------------------------------------------------------------------

def _managed_identity_principal(resource: TfResource, index: _Links) -> str | None:
    owners = _identity_owner(resource, index)
    return owners[0][1] if owners else None


@rules.rule(
    id="TF-AZ-050", name="privileged-role-assignment", title="Privileged Azure role granted at broad scope",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=(ROLE_ASSIGNMENT,),
    rationale="""
        Owner, Contributor, User Access Administrator and RBAC Administrator on a subscription, management
        group or resource group hand over control of everything in it; on a managed identity that means any
        code running on the VM, cluster or function can take over the environment.
    """,
    remediation="""
        Grant the narrowest built-in role on the specific resource it needs (e.g. `Storage Blob Data Reader` on one
        container, `AcrPull` on the registry) and keep privileged roles for break-glass human accounts with PIM.
    """,
    bad="""
        resource "azurerm_role_assignment" "aks_kubelet_contributor" {
          scope                = data.azurerm_subscription.current.id
          role_definition_name = "Contributor"
          principal_id         = azurerm_kubernetes_cluster.inference.kubelet_identity[0].object_id
        }
    """,
    good="""
        resource "azurerm_role_assignment" "aks_acr_pull" {
          scope                = azurerm_container_registry.ml.id
          role_definition_name = "AcrPull"
          principal_id         = azurerm_kubernetes_cluster.inference.kubelet_identity[0].object_id
        }
    """,
    references=(f"{CIS_AZ} 1.23", f"{MCSB} PA-7",
                "https://learn.microsoft.com/azure/role-based-access-control/best-practices"),
)
@_managed_only
def privileged_role(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    index = links(inventory)
    role, _ = _role_of(resource, index)
    if role not in PRIVILEGED_ROLES:
        return
    scope = _scope_level(resource, index)
    identity = _managed_identity_principal(resource, index)
    role_path = ("role_definition_name",) if "role_definition_name" in resource.values else ("role_definition_id",)
    who = identity or "the principal"
    if scope.level in ("subscription", "management group"):
        yield Hit(role_path, f"{resource.address} grants {role.title()} at {scope.level} scope to {who}: "
                             f"{PRIVILEGED_ROLES[role]}")
    elif scope.level == "resource group" and identity:
        yield Hit(role_path, f"{resource.address} grants {role.title()} at resource group scope to {who}: "
                             f"{PRIVILEGED_ROLES[role]} in that resource group")
    elif scope.level is None and identity:
        yield _low(role_path, f"{resource.address} grants {role.title()} to {who} at a scope not known statically")


ADMIN_ACTIONS = frozenset({
    "microsoft.authorization/*", "microsoft.authorization/*/write", "microsoft.authorization/roledefinitions/write",
    "microsoft.authorization/roledefinitions/*", "microsoft.authorization/roleassignments/write",
    "microsoft.authorization/roleassignments/*",
})


@rules.rule(
    id="TF-AZ-051", name="custom-role-wildcard", title="Custom role definition allows all actions",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=("azurerm_role_definition",),
    rationale="""
        A custom role with `actions = ["*"]` is an Owner in disguise: it includes
        `Microsoft.Authorization/*/write`, so whoever holds it can grant themselves anything, and reviews that
        look for built-in Owner assignments miss it.
    """,
    remediation="""
        List only the actions the role needs (e.g.
        `Microsoft.MachineLearningServices/workspaces/onlineEndpoints/score/action`) and never
        `Microsoft.Authorization/*` write actions outside break-glass roles.
    """,
    bad="""
        resource "azurerm_role_definition" "ml_ops" {
          name  = "ml-ops"
          scope = data.azurerm_subscription.current.id
          permissions { actions = ["*"] }
        }
    """,
    good="""
        resource "azurerm_role_definition" "ml_ops" {
          name  = "ml-ops"
          scope = data.azurerm_subscription.current.id
          permissions {
            actions = ["Microsoft.MachineLearningServices/workspaces/onlineEndpoints/read"]
          }
        }
    """,
    references=(f"{CIS_AZ} 1.22", f"{TF_AZURERM}role_definition"),
)
@_managed_only
def custom_role_wildcard(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for i, block in enumerate(_blocks(resource, "permissions")):
        actions = block.get("actions")
        if not isinstance(actions, list):
            continue
        for j, action in enumerate(actions):
            if not isinstance(action, str):
                continue
            normal = action.strip().lower()
            if normal in ("*", "*/write", "*/*"):
                yield Hit(("permissions", i, "actions", j), f"{resource.address} allows action {_show(action)}: the "
                                                            f"role can do anything, including granting access")
            elif normal in ADMIN_ACTIONS:
                yield Hit(("permissions", i, "actions", j), f"{resource.address} allows action {_show(action)}: "
                                                            f"whoever holds the role can grant itself any role")


# --- Logging -----------------------------------------------------------------------------------

PG_CONFIGS = ("azurerm_postgresql_configuration", "azurerm_postgresql_flexible_server_configuration")
PG_LOGGING = {"log_checkpoints": "checkpoints", "log_connections": "connection attempts",
              "log_disconnections": "session ends", "connection_throttling": "connection throttling events"}
OFF = {"off", "false", "0", "no"}


@rules.rule(
    id="TF-AZ-060", name="postgresql-log-retention-off", title="PostgreSQL server log retention turned off",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=PG_CONFIGS,
    rationale="""
        PostgreSQL servers behind ML platforms (MLflow tracking and model registry, feature stores) keep their
        logs only as long as `log_retention` / `log_retention_days` allow; turned off or shorter than 4 days,
        the evidence of a tampered model registry is gone before anyone looks.
    """,
    remediation='Set the `log_retention` server parameter to `"on"` and `log_retention_days` to 4-7.',
    bad="""
        resource "azurerm_postgresql_configuration" "log_retention" {
          name                = "log_retention"
          resource_group_name = azurerm_resource_group.ml.name
          server_name         = azurerm_postgresql_server.mlflow.name
          value               = "off"
        }
    """,
    good="""
        resource "azurerm_postgresql_configuration" "log_retention" {
          name                = "log_retention"
          resource_group_name = azurerm_resource_group.ml.name
          server_name         = azurerm_postgresql_server.mlflow.name
          value               = "on"
        }
    """,
    references=(f"{CIS_AZ} 4.3.7", f"{TF_AZURERM}postgresql_configuration"),
)
@_managed_only
def postgres_log_retention(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    name, value = _lower(resource.values.get("name")), resource.values.get("value")
    if name == "log_retention" and _lower(value) in OFF:
        yield Hit(("value",), f"{resource.address} sets log_retention = {_show(value)}: server logs are not retained")
    elif name == "log_retention_days" and isinstance(value, (str, int)) and str(value).strip().isdigit() \
            and int(str(value).strip()) < 4:
        yield Hit(("value",), f"{resource.address} sets log_retention_days = {_show(value)}: logs are kept for "
                              f"less than 4 days")


@rules.rule(
    id="TF-AZ-061", name="postgresql-logging-off", title="PostgreSQL connection or checkpoint logging turned off",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=PG_CONFIGS,
    rationale="""
        `log_connections`, `log_disconnections`, `log_checkpoints` and `connection_throttling` record who
        connected to the database behind the model registry or feature store; turned off, brute force and
        credential abuse go unnoticed.
    """,
    remediation='Set these server parameters to `"on"` (their default on Azure Database for PostgreSQL).',
    bad="""
        resource "azurerm_postgresql_configuration" "log_connections" {
          name                = "log_connections"
          resource_group_name = azurerm_resource_group.ml.name
          server_name         = azurerm_postgresql_server.mlflow.name
          value               = "off"
        }
    """,
    good="""
        resource "azurerm_postgresql_configuration" "log_connections" {
          name                = "log_connections"
          resource_group_name = azurerm_resource_group.ml.name
          server_name         = azurerm_postgresql_server.mlflow.name
          value               = "on"
        }
    """,
    references=(f"{CIS_AZ} 4.3.2", f"{CIS_AZ} 4.3.3", f"{CIS_AZ} 4.3.4", f"{CIS_AZ} 4.3.5"),
)
@_managed_only
def postgres_logging(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    name, value = _lower(resource.values.get("name")), resource.values.get("value")
    if name in PG_LOGGING and _lower(value) in OFF:
        yield Hit(("value",), f"{resource.address} sets {name} = {_show(value)}: {PG_LOGGING[name]} are not logged")


@rules.rule(
    id="TF-AZ-062", name="activity-log-retention-short", title="Activity log profile retains logs for less than a year",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=("azurerm_monitor_log_profile",),
    rationale="""
        The subscription activity log records every control-plane change (role assignments, workspace and
        endpoint changes). Kept for less than 365 days, an intrusion discovered late cannot be reconstructed.
    """,
    remediation="Set `retention_policy { enabled = true  days = 365 }` (or 0 with enabled = true to keep forever).",
    bad="""
        resource "azurerm_monitor_log_profile" "subscription" {
          name       = "default"
          categories = ["Action", "Delete", "Write"]
          locations  = ["westeurope", "global"]
          retention_policy {
            enabled = true
            days    = 30
          }
        }
    """,
    good="""
        resource "azurerm_monitor_log_profile" "subscription" {
          # ...
          retention_policy {
            enabled = true
            days    = 365
          }
        }
    """,
    references=(f"{CIS_AZ} 5.1.2", f"{TF_AZURERM}monitor_log_profile"),
)
@_managed_only
def activity_log_retention(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    yield from _retention(resource, 365)


def _retention(resource: TfResource, minimum: int) -> Iterator[Hit]:
    policy = resource.get("retention_policy", 0)
    if not isinstance(policy, dict):
        yield Hit(("retention_policy",), f"{resource.address} has no retention_policy: logs are not retained")
        return
    enabled, days = policy.get("enabled"), policy.get("days")
    if _false(enabled):
        yield Hit(("retention_policy", 0, "enabled"), f"{resource.address} has retention_policy.enabled = false: "
                                                      f"logs are not retained")
    elif isinstance(days, (int, float)) and not isinstance(days, bool) and 0 < days < minimum:
        yield Hit(("retention_policy", 0, "days"), f"{resource.address} retains logs for {days} days, less than "
                                                   f"{minimum}")
    elif days is not None and not is_known(days):
        yield _low(("retention_policy", 0, "days"), f"{resource.address} has a retention period not known "
                                                    f"statically ({_unknown_reason(days)})")


@rules.rule(
    id="TF-AZ-063", name="flow-log-retention-short", title="Network Watcher flow logs retained for less than 90 days",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=("azurerm_network_watcher_flow_log",),
    rationale="""
        Flow logs are the record of which addresses talked to the model endpoints and GPU nodes; with retention
        off or under 90 days, exfiltration and scanning are lost before an investigation starts.
    """,
    remediation="Set `enabled = true` and `retention_policy { enabled = true  days = 90 }` (or more).",
    bad="""
        resource "azurerm_network_watcher_flow_log" "aks" {
          # ...
          retention_policy {
            enabled = true
            days    = 7
          }
        }
    """,
    good="""
        resource "azurerm_network_watcher_flow_log" "aks" {
          # ...
          retention_policy {
            enabled = true
            days    = 90
          }
        }
    """,
    references=(f"{CIS_AZ} 6.5", f"{TF_AZURERM}network_watcher_flow_log"),
)
@_managed_only
def flow_log_retention(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    yield from _retention(resource, 90)


MSSQL_AUDIT = ("azurerm_mssql_server_extended_auditing_policy", "azurerm_mssql_database_extended_auditing_policy",
               "azurerm_sql_server", "azurerm_mssql_server", "azurerm_sql_database", "azurerm_mssql_database")


@rules.rule(
    id="TF-AZ-064", name="sql-audit-retention-short", title="SQL auditing retains logs for less than 90 days",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=MSSQL_AUDIT,
    rationale="""
        SQL audit logs of the databases behind ML applications (feature stores, labelling and inference
        result stores) are the record of data access; retained for less than 90 days, a late-detected breach
        cannot be investigated.
    """,
    remediation="Set `retention_in_days` to 90 or more (or 0 for unlimited retention).",
    bad="""
        resource "azurerm_mssql_server_extended_auditing_policy" "features" {
          server_id         = azurerm_mssql_server.features.id
          storage_endpoint  = azurerm_storage_account.audit.primary_blob_endpoint
          retention_in_days = 30
        }
    """,
    good="""
        resource "azurerm_mssql_server_extended_auditing_policy" "features" {
          server_id         = azurerm_mssql_server.features.id
          storage_endpoint  = azurerm_storage_account.audit.primary_blob_endpoint
          retention_in_days = 90
        }
    """,
    references=(f"{CIS_AZ} 4.1.3", f"{TF_AZURERM}mssql_server_extended_auditing_policy"),
)
@_managed_only
def sql_audit_retention(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    base: tuple = () if resource.type.endswith("_extended_auditing_policy") else ("extended_auditing_policy", 0)
    days = resource.get(*base, "retention_in_days")
    if isinstance(days, (int, float)) and not isinstance(days, bool) and 0 < days < 90:
        yield Hit(base + ("retention_in_days",), f"{resource.address} retains SQL audit logs for {days} days, less "
                                                 f"than 90")
    elif days is not None and not is_known(days):
        yield _low(base + ("retention_in_days",), f"{resource.address} has an audit retention not known statically "
                                                  f"({_unknown_reason(days)})")


SQL_SERVERS = ("azurerm_sql_server", "azurerm_mssql_server")


@rules.rule(
    id="TF-AZ-065", name="sql-auditing-disabled", title="SQL server without auditing",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=SQL_SERVERS,
    rationale="""
        Without server auditing there is no record of who queried or changed the data behind ML applications
        (features, labels, inference results); exfiltration through SQL leaves no trace.
    """,
    remediation="""
        Add an `azurerm_mssql_server_extended_auditing_policy` for the server (or the inline
        `extended_auditing_policy` block on old providers) with `retention_in_days` of 90 or more.
    """,
    bad="""
        resource "azurerm_mssql_server" "features" {
          name    = "sql-features"
          version = "12.0"
          # ... no auditing policy
        }
    """,
    good="""
        resource "azurerm_mssql_server_extended_auditing_policy" "features" {
          server_id              = azurerm_mssql_server.features.id
          log_monitoring_enabled = true
          retention_in_days      = 90
        }
    """,
    references=(f"{CIS_AZ} 4.1.1", f"{TF_AZURERM}mssql_server_extended_auditing_policy"),
)
@_managed_only
def sql_auditing(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if _blocks(resource, "extended_auditing_policy"):
        return
    if inventory.attached(resource, ("azurerm_mssql_server_extended_auditing_policy",), "server_id"):
        return
    if diagnostics_of(resource, inventory).settings:
        return
    yield Hit(("extended_auditing_policy",), f"{resource.address} has no auditing policy: queries and changes to "
                                             f"its databases are not audited")


@rules.rule(
    id="TF-AZ-066", name="activity-log-incomplete",
    title="Activity log profile does not capture every category and region",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=("azurerm_monitor_log_profile",),
    rationale="""
        A log profile that leaves out Write, Delete or Action events, or the `global` region (where role
        assignments and other tenant-wide operations are logged), silently drops the control-plane record of
        changes to the ML platform.
    """,
    remediation='Set `categories = ["Action", "Delete", "Write"]` and include `"global"` in `locations`.',
    bad="""
        resource "azurerm_monitor_log_profile" "subscription" {
          name       = "default"
          categories = ["Write"]
          locations  = ["westeurope"]
          retention_policy { enabled = true  days = 365 }
        }
    """,
    good="""
        resource "azurerm_monitor_log_profile" "subscription" {
          name       = "default"
          categories = ["Action", "Delete", "Write"]
          locations  = ["westeurope", "global"]
          retention_policy { enabled = true  days = 365 }
        }
    """,
    references=(f"{CIS_AZ} 5.1.3", f"{TF_AZURERM}monitor_log_profile"),
)
@_managed_only
def activity_log_categories(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    categories = resource.values.get("categories")
    if isinstance(categories, list) and is_known(categories):
        missing = sorted({"Action", "Delete", "Write"} - {str(c).strip().title() for c in categories})
        if missing:
            yield Hit(("categories",), f"{resource.address} does not capture {', '.join(missing)} events")
    locations = resource.values.get("locations")
    if isinstance(locations, list) and is_known(locations) and "global" not in {str(x).lower() for x in locations}:
        yield Hit(("locations",), f"{resource.address} does not capture the global region: tenant-wide operations "
                                  f"such as role assignments are not logged")


# --- Databases, caches and web apps: transport security ----------------------------------------

DB_SERVERS = ("azurerm_postgresql_server", "azurerm_mysql_server", "azurerm_mariadb_server")
REDIS = "azurerm_redis_cache"
SERVER_CONFIGS = ("azurerm_postgresql_flexible_server_configuration", "azurerm_mysql_flexible_server_configuration")
WEB_APPS = ("azurerm_app_service", "azurerm_function_app", "azurerm_linux_web_app", "azurerm_windows_web_app",
            "azurerm_linux_function_app", "azurerm_windows_function_app")


@rules.rule(
    id="TF-AZ-070", name="database-plaintext-connections", title="Database or cache accepts unencrypted connections",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=DB_SERVERS + (REDIS,) + SERVER_CONFIGS,
    rationale="""
        Model registries (MLflow on PostgreSQL/MySQL), feature stores and inference caches (Redis) that accept
        plaintext connections expose credentials, features and predictions to anyone on the network path.
    """,
    remediation="""
        Set `ssl_enforcement_enabled = true` on PostgreSQL/MySQL single servers, keep `require_secure_transport =
        "on"` on flexible servers, and keep the Redis non-TLS port disabled (`non_ssl_port_enabled = false`).
    """,
    bad="""
        resource "azurerm_postgresql_server" "mlflow" {
          name                    = "psql-mlflow"
          sku_name                = "GP_Gen5_2"
          version                 = "11"
          ssl_enforcement_enabled = false
        }
    """,
    good="""
        resource "azurerm_postgresql_server" "mlflow" {
          # ...
          ssl_enforcement_enabled          = true
          ssl_minimal_tls_version_enforced = "TLS1_2"
        }
    """,
    references=(f"{CIS_AZ} 4.3.1", f"{CIS_AZ} 4.4.1", f"{TF_AZURERM}postgresql_server#ssl_enforcement_enabled",
                f"{TF_AZURERM}redis_cache#non_ssl_port_enabled"),
)
@_managed_only
def database_plaintext(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if resource.type in SERVER_CONFIGS:
        if _lower(resource.values.get("name")) == "require_secure_transport" \
                and _lower(resource.values.get("value")) in OFF:
            yield Hit(("value",), f"{resource.address} sets require_secure_transport = "
                                  f"{_show(resource.values.get('value'))}: the server accepts plaintext connections")
        return
    if resource.type == REDIS:
        for name in ("non_ssl_port_enabled", "enable_non_ssl_port"):
            value = resource.values.get(name)
            if _true(value):
                yield Hit((name,), f"{resource.address} has {name} = true: the cache accepts plaintext connections "
                                   f"on port 6379")
            elif value is not None and not is_known(value):
                yield _low((name,), f"{resource.address} has {name} not known statically")
        return
    if resource.values.get("ssl_enforcement") is not None:  # azurerm < 2.0
        value = resource.values["ssl_enforcement"]
        if _lower(value) == "disabled":
            yield Hit(("ssl_enforcement",), f"{resource.address} has ssl_enforcement = \"Disabled\": the server "
                                            f"accepts plaintext connections")
        return
    value = resource.values.get("ssl_enforcement_enabled")
    if _false(value):
        yield Hit(("ssl_enforcement_enabled",), f"{resource.address} has ssl_enforcement_enabled = false: the server "
                                                f"accepts plaintext connections")
    elif value is not None and not is_known(value):
        yield _low(("ssl_enforcement_enabled",), f"{resource.address} has ssl_enforcement_enabled not known "
                                                 f"statically ({_unknown_reason(value)})")


MESSAGING = ("azurerm_eventhub_namespace", "azurerm_servicebus_namespace")
WEAK_TLS_VALUES = {"tls1_0": "TLS 1.0", "tls1_1": "TLS 1.1", "tlsenforcementdisabled": "no minimum TLS version",
                   "1.0": "TLS 1.0", "1.1": "TLS 1.1", "disabled": "no minimum TLS version", "tlsv1": "TLS 1.0",
                   "tlsv1.1": "TLS 1.1", "tlsv1,tlsv1.1": "TLS 1.0"}


def _weak_tls(resource: TfResource, path: tuple) -> Iterator[Hit]:
    value = resource.get(*path)
    if isinstance(value, str) and _lower(value) in WEAK_TLS_VALUES:
        yield Hit(path, f"{resource.address} has {_dotted(path)} = {_show(value)}: clients may connect with "
                        f"{WEAK_TLS_VALUES[_lower(value)]}")
    elif value is not None and not is_known(value):
        yield _low(path, f"{resource.address} has {_dotted(path)} not known statically ({_unknown_reason(value)})")


@rules.rule(
    id="TF-AZ-071", name="database-weak-tls", title="Database, cache or messaging service allows TLS below 1.2",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE,
    kinds=DB_SERVERS + (REDIS, "azurerm_mssql_server", "azurerm_sql_server") + SERVER_CONFIGS + MESSAGING,
    rationale="""
        TLS 1.0 and 1.1 are deprecated and downgradable; the databases, caches and event hubs of the ML
        platform should refuse them.
    """,
    remediation="""
        Set `ssl_minimal_tls_version_enforced = "TLS1_2"` (PostgreSQL/MySQL), `minimum_tls_version = "1.2"`
        (SQL Server, Redis), and `tls_version = "TLSv1.2"` on MySQL flexible servers.
    """,
    bad="""
        resource "azurerm_redis_cache" "features" {
          name                = "redis-features"
          capacity            = 1
          family              = "C"
          sku_name            = "Standard"
          minimum_tls_version = "1.0"
        }
    """,
    good="""
        resource "azurerm_redis_cache" "features" {
          # ...
          minimum_tls_version = "1.2"
        }
    """,
    references=(f"{CIS_AZ} 4.3.8", f"{CIS_AZ} 4.4.4", f"{TF_AZURERM}redis_cache#minimum_tls_version",
                f"{TF_AZURERM}mssql_server#minimum_tls_version"),
)
@_managed_only
def database_weak_tls(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if resource.type in SERVER_CONFIGS:
        if _lower(resource.values.get("name")) == "tls_version":
            yield from _weak_tls(resource, ("value",))
        return
    name = "ssl_minimal_tls_version_enforced" if resource.type in DB_SERVERS else "minimum_tls_version"
    yield from _weak_tls(resource, (name,))


@rules.rule(
    id="TF-AZ-072", name="web-app-http-allowed", title="App Service / Function App accepts plain HTTP",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=WEB_APPS,
    rationale="""
        Web apps that front ML models (scoring APIs, Gradio/Streamlit demos, MLflow UIs) accept HTTP unless
        `https_only` is true (it defaults to false): tokens and prompts then travel in clear text.
    """,
    remediation="Set `https_only = true`.",
    bad="""
        resource "azurerm_linux_web_app" "scoring" {
          name            = "app-scoring"
          service_plan_id = azurerm_service_plan.ml.id
          site_config {}
        }
    """,
    good="""
        resource "azurerm_linux_web_app" "scoring" {
          # ...
          https_only = true
        }
    """,
    references=(f"{CIS_AZ} 9.2", f"{TF_AZURERM}linux_web_app#https_only"),
)
@_managed_only
def web_app_https(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    value = resource.values.get("https_only")
    if value is None:
        yield Hit(("https_only",), f"{resource.address} has https_only unset (provider default: false): the app "
                                   f"accepts plain HTTP")
    elif _false(value):
        yield Hit(("https_only",), f"{resource.address} has https_only = false: the app accepts plain HTTP")
    elif not is_known(value):
        yield _low(("https_only",), f"{resource.address} has https_only not known statically")


@rules.rule(
    id="TF-AZ-073", name="web-app-weak-tls", title="App Service / Function App allows TLS below 1.2",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=WEB_APPS,
    rationale="TLS 1.0 and 1.1 are deprecated and downgradable; the front door of a model API should refuse them.",
    remediation='Set `site_config { minimum_tls_version = "1.2" }` (`min_tls_version` on the legacy resources).',
    bad="""
        resource "azurerm_linux_web_app" "scoring" {
          # ...
          site_config {
            minimum_tls_version = "1.0"
          }
        }
    """,
    good="""
        resource "azurerm_linux_web_app" "scoring" {
          # ...
          site_config {
            minimum_tls_version = "1.2"
          }
        }
    """,
    references=(f"{CIS_AZ} 9.3", f"{TF_AZURERM}linux_web_app#minimum_tls_version"),
)
@_managed_only
def web_app_tls(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for i, _ in enumerate(_blocks(resource, "site_config")):
        for name in ("minimum_tls_version", "min_tls_version"):
            yield from _weak_tls(resource, ("site_config", i, name))


@rules.rule(
    id="TF-AZ-074", name="web-app-http-logs-disabled", title="App Service / web app without HTTP logging",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=("azurerm_app_service", "azurerm_linux_web_app",
                                                         "azurerm_windows_web_app"),
    rationale="""
        Web apps that serve model APIs or ML UIs keep no request log unless `logs { http_logs {...} }` is set:
        scraping, model extraction and credential stuffing against them leave no trace.
    """,
    remediation="""
        Add `logs { http_logs { file_system { retention_in_days = 30  retention_in_mb = 35 } } }` (or ship logs
        with a diagnostic setting for `AppServiceHTTPLogs`).
    """,
    bad="""
        resource "azurerm_linux_web_app" "scoring" {
          # ... no logs block
        }
    """,
    good="""
        resource "azurerm_linux_web_app" "scoring" {
          # ...
          logs {
            http_logs {
              file_system {
                retention_in_days = 30
                retention_in_mb   = 35
              }
            }
          }
        }
    """,
    references=(f"{CIS_AZ} 9.4", f"{TF_AZURERM}linux_web_app#http_logs"),
)
@_managed_only
def web_app_http_logs(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if diagnostics_of(resource, inventory).settings:
        return
    logs = _blocks(resource, "logs")
    if logs and any(b.get("http_logs") for b in logs if isinstance(b.get("http_logs"), list)):
        return
    if logs:
        yield Hit(("logs", 0, "http_logs"), f"{resource.address} has a logs block without http_logs: requests "
                                            f"are not logged")
    else:
        yield Hit(("logs",), f"{resource.address} has no logs block and no diagnostic setting: requests are not "
                             f"logged")
