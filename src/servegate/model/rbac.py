"""Effective Kubernetes RBAC of a service account: bindings (including group subjects), the Roles and
ClusterRoles they grant (aggregated ClusterRoles and the built-in ones included), and the rules inside.

Indexed once per scan by subject, so finding the grants of one account does not walk every binding.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from servegate.model.k8s import K8sObject
from servegate.model.network import selects
from servegate.sources.located import Path

RBAC_KINDS = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")

# The default ClusterRoles of every cluster, summarised to the rules that matter for escalation.
# Source: Kubernetes "Using RBAC Authorization", user-facing roles.
_EDIT_RULES = (
    {"apiGroups": [""], "resources": ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"],
     "verbs": ["create", "delete", "deletecollection", "patch", "update", "get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["secrets", "configmaps", "services", "persistentvolumeclaims",
                                      "serviceaccounts"],
     "verbs": ["create", "delete", "deletecollection", "patch", "update", "get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["impersonate"]},
    {"apiGroups": ["apps"], "resources": ["deployments", "daemonsets", "statefulsets", "replicasets"],
     "verbs": ["create", "delete", "deletecollection", "patch", "update", "get", "list", "watch"]},
    {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"],
     "verbs": ["create", "delete", "deletecollection", "patch", "update", "get", "list", "watch"]},
)
BUILT_IN_CLUSTER_ROLES: dict[str, tuple[dict, ...]] = {
    "cluster-admin": ({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},),
    "admin": _EDIT_RULES + ({"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"],
                             "verbs": ["create", "delete", "patch", "update", "get", "list", "watch"]},),
    "edit": _EDIT_RULES,
    "view": ({"apiGroups": ["", "apps", "batch"], "resources": ["pods", "services", "configmaps", "deployments",
                                                                "jobs"], "verbs": ["get", "list", "watch"]},),
}


@dataclass(frozen=True, slots=True)
class Named:
    """An object the scan refers to but does not contain (a built-in ClusterRole, an undeclared account)."""

    kind: str
    namespace: str
    name: str

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"


@dataclass(frozen=True, slots=True)
class RbacGrant:
    """One PolicyRule an account holds, and the binding and role that give it."""

    rule: dict
    role: K8sObject | Named
    rule_path: Path | None  # absolute path of the rule inside ``role`` (None for built-in roles)
    binding: K8sObject
    subject_path: Path  # absolute path of the subject entry naming the account (or its group)
    scope: str  # the namespace the grant applies in, "" for cluster-wide
    aggregated_from: K8sObject | None = None  # the ClusterRole whose rules an aggregating role collects

    @property
    def where(self) -> str:
        return f"in namespace {self.scope}" if self.scope else "cluster-wide"

    def allows(self, verb: str, resource: str, group: str = "") -> bool:
        return rule_allows(self.rule, verb, resource, group)


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def rule_allows(rule: dict, verb: str, resource: str, group: str = "") -> bool:
    """Does a PolicyRule allow ``verb`` on ``resource`` (``pods/exec`` for subresources) in API ``group``?"""
    groups, resources, verbs = _strings(rule.get("apiGroups")), _strings(rule.get("resources")), \
        _strings(rule.get("verbs"))
    if not ({"*", group} & set(groups)) or not ({"*", verb} & set(verbs)):
        return False
    base = resource.split("/", 1)[0]
    return any(r in ("*", resource) or (r == f"{base}/*" and "/" in resource) or
               (r == f"*/{resource.split('/', 1)[1]}" if "/" in resource else False) for r in resources)


class RbacIndex:
    """Bindings by the subjects they name, roles by name, and aggregation resolved once."""

    def __init__(self, objects: Iterable[K8sObject], namespace_of: Any) -> None:
        self._namespace_of = namespace_of
        self.roles: dict[tuple[str, str], K8sObject] = {}
        self.cluster_roles: dict[str, K8sObject] = {}
        self._by_account: dict[tuple[str, str], list[tuple[K8sObject, Path]]] = defaultdict(list)
        self._by_namespace_group: dict[str, list[tuple[K8sObject, Path]]] = defaultdict(list)
        self._all_accounts: list[tuple[K8sObject, Path]] = []
        bindings: list[K8sObject] = []
        for obj in objects:
            if obj.kind == "Role":
                self.roles.setdefault((namespace_of(obj), obj.name), obj)
            elif obj.kind == "ClusterRole":
                self.cluster_roles.setdefault(obj.name, obj)
            elif obj.kind in ("RoleBinding", "ClusterRoleBinding"):
                bindings.append(obj)
        for binding in bindings:
            self._index_subjects(binding)
        self._aggregates: dict[str, list[K8sObject]] = {}
        for role in self.cluster_roles.values():
            selectors = role.get("aggregationRule", "clusterRoleSelectors")
            if isinstance(selectors, list) and selectors:
                self._aggregates[role.name] = [
                    other for other in self.cluster_roles.values()
                    if other is not role and any(selects(s, other.labels) for s in selectors)]

    def _index_subjects(self, binding: K8sObject) -> None:
        subjects = binding.get("subjects")
        home = self._namespace_of(binding) if binding.kind == "RoleBinding" else ""
        for index, subject in enumerate(subjects if isinstance(subjects, list) else ()):
            if not isinstance(subject, dict):
                continue
            entry = (binding, binding.at("subjects", index))
            kind, name = subject.get("kind"), str(subject.get("name") or "")
            if kind == "ServiceAccount":
                namespace = str(subject.get("namespace") or home or "default")
                self._by_account[(namespace, name)].append(entry)
            elif kind == "User" and name.startswith("system:serviceaccount:"):
                parts = name.split(":")
                if len(parts) == 4:
                    self._by_account[(parts[2], parts[3])].append(entry)
            elif kind == "Group" and name in ("system:serviceaccounts", "system:authenticated"):
                self._all_accounts.append(entry)
            elif kind == "Group" and name.startswith("system:serviceaccounts:"):
                self._by_namespace_group[name.split(":", 2)[2]].append(entry)

    def bindings_of(self, namespace: str, account: str, everyone: bool = True) -> list[tuple[K8sObject, Path]]:
        """(binding, subject path) for every binding that names the account or its namespace's group, and
        (with ``everyone``) those naming every account or every authenticated identity."""
        namespace = namespace or "default"
        return self._by_account.get((namespace, account), []) + self._by_namespace_group.get(namespace, []) + \
            (self._all_accounts if everyone else [])

    def grants_of(self, namespace: str, account: str) -> list[RbacGrant]:
        grants: list[RbacGrant] = []
        for binding, subject_path in self.bindings_of(namespace, account):
            ref = binding.get("roleRef")
            if not isinstance(ref, dict):
                continue
            scope = self._namespace_of(binding) or "default" if binding.kind == "RoleBinding" else ""
            for role, rule, path, source in self._rules(str(ref.get("kind")), str(ref.get("name")), scope):
                grants.append(RbacGrant(rule, role, path, binding, subject_path, scope, source))
        return grants

    def _rules(self, kind: str, name: str, namespace: str
               ) -> Iterator[tuple[K8sObject | Named, dict, Path | None, K8sObject | None]]:
        if kind == "Role":
            role = self.roles.get((namespace, name))
            if role is not None:
                yield from ((role, rule, path, None) for rule, path in _own_rules(role))
            return
        cluster_role = self.cluster_roles.get(name)
        if cluster_role is None:
            for rule in BUILT_IN_CLUSTER_ROLES.get(name, ()):
                yield Named("ClusterRole", "", name), rule, None, None
            return
        yield from ((cluster_role, rule, path, None) for rule, path in _own_rules(cluster_role))
        for member in self._aggregates.get(name, ()):
            yield from ((member, rule, path, cluster_role) for rule, path in _own_rules(member))


def _own_rules(role: K8sObject) -> Iterator[tuple[dict, Path]]:
    rules = role.get("rules")
    for index, rule in enumerate(rules if isinstance(rules, list) else ()):
        if isinstance(rule, dict):
            yield rule, role.at("rules", index)


# --- what a grant lets a workload do ------------------------------------------------------------------

WORKLOAD_RESOURCES = (("", "pods"), ("apps", "deployments"), ("apps", "daemonsets"), ("apps", "statefulsets"),
                      ("apps", "replicasets"), ("batch", "jobs"), ("batch", "cronjobs"))


def dangerous_powers(grant: RbacGrant) -> list[str]:
    """What a grant lets a compromised pod do to the cluster, in words (empty: nothing alarming)."""
    powers = []
    if grant.allows("*", "*", "*"):
        return ["do anything (verbs * on resources *)"]
    read = [v for v in ("get", "list", "watch") if grant.allows(v, "secrets")]
    if read:
        names = _strings(grant.rule.get("resourceNames"))
        powers.append(f"{'/'.join(read)} secrets" + (f" ({', '.join(names)})" if names else ""))
    for sub in ("pods/exec", "pods/attach", "pods/portforward"):
        if grant.allows("create", sub) or grant.allows("get", sub):
            powers.append(f"use {sub}")
    created = [resource for group, resource in WORKLOAD_RESOURCES
               if any(grant.allows(verb, resource, group) for verb in ("create", "patch", "update"))]
    if created:
        powers.append(f"create or change {', '.join(created)}")
    if grant.allows("create", "serviceaccounts/token"):
        powers.append("mint service-account tokens (serviceaccounts/token create)")
    for resource, group in (("users", ""), ("groups", ""), ("serviceaccounts", "")):
        if grant.allows("impersonate", resource, group):
            powers.append(f"impersonate {resource}")
    for verb in ("escalate", "bind"):
        if any(grant.allows(verb, r, "rbac.authorization.k8s.io") for r in ("roles", "clusterroles")):
            powers.append(f"{verb} roles")
    return powers


def describe_rule(rule: dict) -> str:
    verbs = ",".join(_strings(rule.get("verbs"))) or "?"
    resources = ",".join(_strings(rule.get("resources"))) or "?"
    names = _strings(rule.get("resourceNames"))
    return f"{verbs} on {resources}" + (f" ({','.join(names)})" if names else "")
