"""Canary and stable revisions of one model, and the privileges one has that the other lacks.

A canary gets real user traffic, yet its manifest is often copied from an experimental branch. Pairs
are found from the traffic splits that send requests to both: Istio VirtualService weights (with
DestinationRule subsets) and mirrors, Argo Rollouts canary strategies, KServe ``canaryTrafficPercent``,
Seldon predictor traffic, SageMaker production and shadow variants, and two Deployments of one app that
differ in a version label.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Hashable, Iterator

from servegate.model.graph import Hop, ResourceGraph, pod_key
from servegate.model.images import image_repository
from servegate.model.k8s import K8sObject
from servegate.model.rbac import RbacGrant, dangerous_powers, describe_rule, rule_allows
from servegate.model.routes import as_int
from servegate.model.workloads import PodSpec

if TYPE_CHECKING:
    from servegate.model.cloud import Permission
    from servegate.model.terraform.config import TfResource

APP_LABELS = ("app.kubernetes.io/name", "app", "k8s-app", "model")
VERSION_LABELS = ("version", "app.kubernetes.io/version", "model-version", "track")
CANARY_WORDS = re.compile(r"canary|shadow|preview|experiment", re.IGNORECASE)
PAIRED_KINDS = ("Deployment", "StatefulSet", "Rollout")
PRIVATE_VOLUMES = frozenset({"emptyDir", "configMap", "downwardAPI", "projected", "secret", "serviceAccountToken",
                             "ephemeral"})


@dataclass(frozen=True)
class Side:
    """One revision: its pods (Kubernetes) or its SageMaker models, and the line that stands for it."""

    label: str
    pods: tuple[PodSpec, ...] = ()
    models: tuple[TfResource, ...] = ()
    anchor: Any = None  # Located
    path: tuple = ()


@dataclass(frozen=True)
class CanaryPair:
    stable: Side
    canary: Side
    how: str  # the traffic split, in words
    split: Hop  # the line that splits the traffic


@dataclass(frozen=True)
class Privilege:
    """Something one revision may do: compared by ``key`` (and ``covers`` for wildcard grants)."""

    category: str  # "RBAC", "cloud", "volume", "capability", "host", "egress", "secret", "registry", "model"
    key: Hashable
    text: str
    obj: Any  # Located: where the canary gets it
    path: tuple
    related: tuple[Hop, ...] = ()
    dangerous: bool = False  # write access to models, cluster-level powers, host access
    grant: Any = None  # the RBAC rule or cloud Permission behind it, for wildcard comparisons


def model_name(pod: PodSpec, graph: ResourceGraph) -> str:
    """Which model a serving pod serves, as the manifests name it (the app label, else the object)."""
    return graph.memo(("model-name", pod_key(pod)), lambda: _model_name(pod, graph))


def _model_name(pod: PodSpec, graph: ResourceGraph) -> str:
    labels = graph.labels(pod)
    for key in ("serving.kserve.io/inferenceservice", "seldon-deployment-id", *APP_LABELS):
        if labels.get(key):
            return f"{graph.namespace(pod.obj)}/{labels[key]}"
    return f"{graph.namespace(pod.obj)}/{pod.obj.name}"


# --- finding pairs ----------------------------------------------------------------------------------------

def canary_pairs(graph: ResourceGraph) -> list[CanaryPair]:
    return graph.memo(("canary-pairs",), lambda: _unique_pairs(graph))


def _unique_pairs(graph: ResourceGraph) -> list[CanaryPair]:
    pairs: list[CanaryPair] = []
    seen: set[tuple] = set()
    for pair in _all_pairs(graph):
        identity = (tuple(pod_key(p) for p in pair.stable.pods) + tuple(id(m) for m in pair.stable.models),
                    tuple(pod_key(p) for p in pair.canary.pods) + tuple(id(m) for m in pair.canary.models))
        if identity not in seen and identity[0] != identity[1] and identity[0] and identity[1]:
            seen.add(identity)
            pairs.append(pair)
    return pairs


def _all_pairs(graph: ResourceGraph) -> Iterator[CanaryPair]:
    yield from _istio_pairs(graph)
    yield from _rollout_pairs(graph)
    yield from _kserve_pairs(graph)
    yield from _seldon_pairs(graph)
    yield from _sagemaker_pairs(graph)
    yield from _version_label_pairs(graph)


def _pods_side(graph: ResourceGraph, pods: list[PodSpec], how: str) -> Side:
    """A revision made of pods, named by its workloads and by how the traffic split names it."""
    first = pods[0]
    workloads = ", ".join(dict.fromkeys(p.display for p in pods))
    label = workloads if how in (workloads, first.obj.ref) else f"{workloads} ({how})"
    return Side(label, tuple(pods), anchor=first.obj, path=first.path)


def _destination_pods(graph: ResourceGraph, namespace: str, service_name: str, subset: str | None
                      ) -> tuple[list[PodSpec], str]:
    service = graph.inventory.find("Service", namespace, service_name)
    if service is None:
        return [], service_name
    pods = graph.service_pods(service)
    if subset is None:
        return pods, service.ref
    if graph.subset_labels(service, subset) is None:
        return [], f"{service.ref} subset {subset}"
    return [p for p in pods if graph.in_subset(service, subset, p)], f"{service.ref} subset {subset}"


def _istio_pairs(graph: ResourceGraph) -> Iterator[CanaryPair]:
    groups: dict[tuple[int, tuple], list] = defaultdict(list)
    for route in graph.routes:
        if route.obj.kind == "VirtualService" and route.path[-2] == "route":
            groups[(id(route.obj), route.path[:-2])].append(route)
    for routes in groups.values():
        if len({(r.service, r.namespace, r.subset) for r in routes}) < 2:
            continue
        ranked = sorted(routes, key=lambda r: -(r.weight if r.weight is not None else 0))
        stable = ranked[0]
        stable_pods, stable_label = _destination_pods(graph, stable.namespace, stable.service, stable.subset)
        if not stable_pods:
            continue
        for canary in ranked[1:]:
            pods, label = _destination_pods(graph, canary.namespace, canary.service, canary.subset)
            if pods and (canary.service, canary.subset) != (stable.service, stable.subset):
                yield CanaryPair(_pods_side(graph, stable_pods, stable_label), _pods_side(graph, pods, label),
                                 f"{canary.obj.ref} sends {canary.weight or 0}% to {label} and "
                                 f"{stable.weight or 0}% to {stable_label}",
                                 Hop(canary.obj, canary.path, f"{canary.obj.ref} weight {canary.weight or 0}"))
    for service in graph.inventory.of_kind("VirtualService"):
        namespace = graph.namespace(service)
        for i, entry in enumerate(service.get("spec", "http") or ()):
            mirror = entry.get("mirror") if isinstance(entry, dict) else None
            routes = [r for r in graph.routes_of(service) if r.path[:len(service.base) + 3] ==
                      service.at("spec", "http", i)]
            if not isinstance(mirror, dict) or not routes:
                continue
            host = str(mirror.get("host", "")).split(".")
            pods, label = _destination_pods(graph, host[1] if len(host) > 1 else namespace, host[0],
                                            str(mirror.get("subset")) if mirror.get("subset") else None)
            stable_pods, stable_label = _destination_pods(graph, routes[0].namespace, routes[0].service,
                                                          routes[0].subset)
            if pods and stable_pods:
                yield CanaryPair(_pods_side(graph, stable_pods, stable_label), _pods_side(graph, pods, label),
                                 f"{service.ref} mirrors live traffic of {stable_label} to {label} (shadow)",
                                 Hop(service, service.at("spec", "http", i, "mirror"), f"{service.ref} mirror"))


def _rollout_pairs(graph: ResourceGraph) -> Iterator[CanaryPair]:
    for rollout in graph.inventory.of_kind("Rollout"):
        strategy = rollout.get("spec", "strategy", "canary")
        if not isinstance(strategy, dict):
            continue
        canary_pods = graph.pods_of(rollout)
        if not canary_pods:
            continue
        namespace = graph.namespace(rollout)
        stable: list[PodSpec] = []
        stable_name = strategy.get("stableService")
        service = graph.inventory.find("Service", namespace, str(stable_name)) if stable_name else None
        if service is not None:
            stable = [p for p in graph.service_pods(service) if p.obj is not rollout]
        for replica_set in graph.inventory.of_kind("ReplicaSet"):
            owners = replica_set.get("metadata", "ownerReferences") or ()
            if any(isinstance(o, dict) and o.get("kind") == "Rollout" and o.get("name") == rollout.name
                   for o in owners) and graph.namespace(replica_set) == namespace:
                stable += graph.pods_of(replica_set)
        if stable:
            label = service.ref if service is not None else "the Rollout's stable ReplicaSet"
            yield CanaryPair(_pods_side(graph, stable, f"stable, behind {label}"),
                             _pods_side(graph, canary_pods, "canary strategy"),
                             f"{rollout.ref} rolls its template out as a canary next to {label}",
                             Hop(rollout, rollout.at("spec", "strategy", "canary"), f"{rollout.ref} canary strategy"))


def _kserve_pairs(graph: ResourceGraph) -> Iterator[CanaryPair]:
    by_name: dict[tuple[str, str], list[K8sObject]] = defaultdict(list)
    for service in graph.inventory.of_kind("InferenceService"):
        by_name[(graph.namespace(service), service.name)].append(service)
    for revisions in by_name.values():
        canaries = [s for s in revisions if as_int(s.get("spec", "predictor", "canaryTrafficPercent")) is not None]
        stables = [s for s in revisions if s not in canaries]
        for canary in canaries:
            for stable in (s for s in stables if graph.linked(s, canary)):
                stable_pods = [p for p in graph.pods_of(stable) if p.role == "predictor"]
                canary_pods = [p for p in graph.pods_of(canary) if p.role == "predictor"]
                if stable_pods and canary_pods:
                    percent = canary.get("spec", "predictor", "canaryTrafficPercent")
                    yield CanaryPair(_pods_side(graph, stable_pods, f"revision in {stable.file}"),
                                     _pods_side(graph, canary_pods, f"revision in {canary.file}"),
                                     f"{canary.ref} in {canary.file} takes {percent}% of the traffic of the "
                                     f"revision in {stable.file} (canaryTrafficPercent)",
                                     Hop(canary, canary.at("spec", "predictor", "canaryTrafficPercent"),
                                         f"canaryTrafficPercent {percent}"))


def _seldon_pairs(graph: ResourceGraph) -> Iterator[CanaryPair]:
    for deployment in graph.inventory.of_kind("SeldonDeployment"):
        predictors = [(i, p) for i, p in enumerate(deployment.get("spec", "predictors") or ()) if isinstance(p, dict)]
        if len(predictors) < 2:
            continue
        pods = {i: [p for p in graph.pods_of(deployment) if p.group_path == deployment.at("spec", "predictors", i)]
                for i, _ in predictors}
        live = [(i, p) for i, p in predictors if not p.get("shadow")]
        if not live:
            continue
        stable_index, stable = max(live, key=lambda item: as_int(item[1].get("traffic")) or 0)
        for i, predictor in predictors:
            if i == stable_index or not pods[i] or not pods[stable_index]:
                continue
            share = "a shadow copy of the traffic" if predictor.get("shadow") else f"{predictor.get('traffic', 0)}%"
            yield CanaryPair(_pods_side(graph, pods[stable_index], f"predictor {stable.get('name', stable_index)} of "
                                                                   f"{deployment.ref}"),
                             _pods_side(graph, pods[i], f"predictor {predictor.get('name', i)} of {deployment.ref}"),
                             f"{deployment.ref} sends {share} to predictor {predictor.get('name', i)}",
                             Hop(deployment, deployment.at("spec", "predictors", i),
                                 f"predictor {predictor.get('name', i)}"))


def _sagemaker_pairs(graph: ResourceGraph) -> Iterator[CanaryPair]:
    for configuration in graph.cloud.managed("aws_sagemaker_endpoint_configuration"):
        variants = [(section, index, variant, graph.variant_models(configuration, section, index))
                    for section, index, variant in graph.variants(configuration)]
        live = [v for v in variants if v[0] == "production_variants" and v[3]]
        if len(variants) < 2 or not live:
            continue
        stable = max(live, key=lambda v: _number(v[2].get("initial_variant_weight")))
        for section, index, variant, models in variants:
            if (section, index) == stable[:2] or not models:
                continue
            name = variant.get("variant_name") or f"{section}[{index}]"
            share = "a shadow copy of the traffic" if section.startswith("shadow") else \
                f"weight {variant.get('initial_variant_weight', 1)}"
            yield CanaryPair(Side(f"variant {stable[2].get('variant_name') or stable[1]} ({stable[3][0].address})",
                                  models=tuple(stable[3]), anchor=configuration, path=(stable[0], stable[1])),
                             Side(f"variant {name} ({models[0].address})", models=tuple(models),
                                  anchor=configuration, path=(section, index, "model_name")),
                             f"{configuration.address} gives variant {name} {share}",
                             Hop(configuration, (section, index), f"{configuration.address} variant {name}"))


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 1.0


def _version_label_pairs(graph: ResourceGraph) -> Iterator[CanaryPair]:
    groups: dict[tuple[str, str], list[PodSpec]] = defaultdict(list)
    for pod in graph.pods:
        if pod.obj.kind not in PAIRED_KINDS:
            continue
        labels = graph.labels(pod)
        app = next((labels[k] for k in APP_LABELS if labels.get(k)), None)
        if app is not None and any(labels.get(k) for k in VERSION_LABELS):
            groups[(graph.namespace(pod.obj), app)].append(pod)
    for pods in groups.values():
        if len({_version(graph, p) for p in pods}) < 2:
            continue
        ranked = sorted(pods, key=lambda p: _canary_rank(graph, p))
        stable = ranked[0]
        for canary in ranked[1:]:
            if _version(graph, canary) == _version(graph, stable) or not graph.linked(stable.obj, canary.obj):
                continue
            yield CanaryPair(_pods_side(graph, [stable], _version(graph, stable)),
                             _pods_side(graph, [canary], _version(graph, canary)),
                             f"{canary.obj.ref} and {stable.obj.ref} share the app label and differ in version",
                             Hop(canary.obj, canary.meta_path + ("labels",) if canary.meta_path else canary.path,
                                 f"{canary.obj.ref} labels"))


def _version(graph: ResourceGraph, pod: PodSpec) -> str:
    labels = graph.labels(pod)
    return next((f"{k}={labels[k]}" for k in VERSION_LABELS if labels.get(k)), "")


def _canary_rank(graph: ResourceGraph, pod: PodSpec) -> tuple:
    """Stable first: not named or labelled canary, more replicas, older version."""
    words = " ".join([pod.obj.name, *map(str, graph.labels(pod).values())])
    replicas = as_int(pod.obj.get("spec", "replicas"))
    return (bool(CANARY_WORDS.search(words)), -(replicas if replicas is not None else 1),
            _version_key(_version(graph, pod)))


def _version_key(text: str) -> tuple:
    return tuple(int(n) if n.isdigit() else n for n in re.findall(r"\d+|[A-Za-z]+", text.split("=", 1)[-1]))


# --- what a side may do ------------------------------------------------------------------------------------

def privileges(graph: ResourceGraph, side: Side) -> list[Privilege]:
    out: list[Privilege] = []
    for pod in side.pods:
        out += _pod_privileges(graph, pod)
    for model in side.models:
        for link in graph.model_roles(model):
            out += _cloud_privileges(graph.cloud.permissions(link.identity), model, ("execution_role_arn",),
                                     graph, link.identity.ref)
        for location in graph.sagemaker_locations(model):
            out.append(Privilege("model", (location.store.provider, location.store.bucket, location.own_prefix),
                                 f"loads its model from {location.uri}", model, location.path))
        for key in ("primary_container", "container"):
            for index, container in enumerate(model.values.get(key) or ()):
                image = container.get("image") if isinstance(container, dict) else None
                if isinstance(image, str):
                    out.append(Privilege("registry", _registry(image), f"pulls its image from {_registry(image)}",
                                         model, (key, index, "image")))
    return out


def _pod_privileges(graph: ResourceGraph, pod: PodSpec) -> list[Privilege]:
    out: list[Privilege] = []
    account_path = graph.account_path(pod)
    if graph.token_mounted(pod):
        by_role: dict[tuple[int, str], list[RbacGrant]] = defaultdict(list)
        for grant in graph.grants(pod):
            by_role[(id(grant.binding), grant.role.ref)].append(grant)
        for grants in by_role.values():
            first = grants[0]
            related = (Hop(first.binding, first.subject_path, f"{first.binding.ref} binds {graph.account(pod).ref}"),)
            related += tuple(Hop(g.role, g.rule_path, f"{g.role.ref} rule {describe_rule(g.rule)}")
                             for g in grants[:3] if g.rule_path is not None)
            rules_text = "; ".join(describe_rule(g.rule) for g in grants[:3]) + \
                (f" and {len(grants) - 3} more rules" if len(grants) > 3 else "")
            out.append(Privilege("RBAC", ("rbac", first.scope, tuple(describe_rule(g.rule) for g in grants)),
                                 f"holds {first.role.ref} {first.where} through {first.binding.ref} ({rules_text})",
                                 pod.obj, account_path, related,
                                 dangerous=any(dangerous_powers(g) for g in grants), grant=grants))
    for link in graph.identities(pod):
        out += _cloud_privileges(graph.cloud.permissions(link.identity), pod.obj, account_path, graph,
                                 link.identity.ref, (Hop(link.via, link.path, link.how),))
    for use in graph.volumes(pod):
        if use.kind in PRIVATE_VOLUMES:
            continue
        access = "read-write" if use.writable else "read-only"
        places = tuple(sorted({(c.name, str(m.get("mountPath"))) for c, _, m in use.mounts}))
        shared = _other_models_on(graph, use, pod)
        note = f", which also holds the model of {shared}" if shared else ""
        out.append(Privilege("volume", (use.source, use.writable, use.kind, places, bool(shared)),
                             f"mounts {use.label} {access}{note}", pod.obj, use.path,
                             dangerous=use.writable or use.kind == "hostPath" or bool(shared)))
    for container in pod.containers:
        added = container.get("securityContext", "capabilities", "add")
        for index, capability in enumerate(added if isinstance(added, list) else ()):
            name = str(capability).upper().removeprefix("CAP_")
            if name != "NET_BIND_SERVICE":
                out.append(Privilege("capability", ("cap", name), f"adds capability {name} to `{container.name}`",
                                     pod.obj, container.at("securityContext", "capabilities", "add", index),
                                     dangerous=True))
        for field, value, text in (("privileged", True, "runs `{}` privileged"),
                                   ("allowPrivilegeEscalation", True, "lets `{}` escalate privileges")):
            if container.get("securityContext", field) is value:
                out.append(Privilege("capability", (field,), text.format(container.name), pod.obj,
                                     container.at("securityContext", field), dangerous=field == "privileged"))
        for index, port in enumerate(container.get("ports") or ()):
            if isinstance(port, dict) and as_int(port.get("hostPort")) not in (None, 0):
                out.append(Privilege("host", ("hostPort", as_int(port.get("hostPort"))),
                                     f"publishes host port {port.get('hostPort')}", pod.obj,
                                     container.at("ports", index, "hostPort"), dangerous=True))
        if container.image and not container.init:
            out.append(Privilege("registry", _registry(container.image),
                                 f"pulls `{container.name}` from {_registry(container.image)}", pod.obj,
                                 container.at("image")))
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(field) is True:
            out.append(Privilege("host", (field,), f"sets {field}: true", pod.obj, pod.at(field), dangerous=True))
    network = graph.network(pod)
    if network.egress_open:
        where = network.egress[0] if network.egress else None
        text = f"may connect anywhere ({'an egress rule of ' + where.ref + ' opens it' if where else 'no egress NetworkPolicy selects it'})"
        out.append(Privilege("egress", ("egress-open",), text, pod.obj, pod.meta_path or pod.path))
    for secret in graph.secrets(pod):
        out.append(Privilege("secret", ("secret", secret.name), f"reads Secret `{secret.name}` ({secret.how})",
                             secret.obj, secret.path))
    for location in graph.locations(pod):
        out.append(Privilege("model", (location.store.provider, location.store.bucket, location.own_prefix),
                             f"loads its model from {location.uri}", location.obj, location.path))
    return out


def _cloud_privileges(permissions: list[Permission], obj: Any, path: tuple, graph: ResourceGraph, who: str,
                      related: tuple[Hop, ...] = ()) -> list[Privilege]:
    out = []
    for permission in permissions:
        writes = any(a.access & {"write", "admin"} for a in graph.cloud.permission_access(permission))
        out.append(Privilege("cloud", (permission.actions, permission.resources),
                             f"cloud permission {permission.text} (as {who})", obj, path,
                             related + (Hop(permission.via, permission.path, f"{permission.via.ref} grants "
                                                                             f"{permission.text}"),),
                             dangerous=writes or "*" in permission.actions, grant=permission))
    return out


def _other_models_on(graph: ResourceGraph, use: Any, pod: PodSpec) -> str:
    """Another model whose server mounts the same volume (its claim, host path or share), if any."""
    mine = model_name(pod, graph)
    users = graph.memo(("volume-users",), lambda: _volume_users(graph))
    return next((model_name(other, graph) for other in users.get(use.source, ())
                 if model_name(other, graph) != mine and graph.linked(pod.obj, other.obj)), "")


def _volume_users(graph: ResourceGraph) -> dict[tuple, list[PodSpec]]:
    users: dict[tuple, list[PodSpec]] = defaultdict(list)
    for pod in graph.serving_pods():
        for use in graph.volumes(pod):
            users[use.source].append(pod)
    return users


def _registry(image: str) -> str:
    repository = image_repository(image)
    head = repository.split("/", 1)[0]
    return head if "." in head or ":" in head or head == "localhost" else "docker.io"


def extra_privileges(graph: ResourceGraph, pair: CanaryPair) -> list[Privilege]:
    """Every privilege of the canary that the stable revision does not have."""
    stable = privileges(graph, pair.stable)
    out = []
    seen: set = set()
    for privilege in privileges(graph, pair.canary):
        if _covered(privilege, stable) or (privilege.category, repr(privilege.key)) in seen:
            continue
        seen.add((privilege.category, repr(privilege.key)))
        out.append(privilege)
    return out


def _covered(privilege: Privilege, stable: list[Privilege]) -> bool:
    same = [p for p in stable if p.category == privilege.category]
    if privilege.category == "RBAC":
        held = [g for p in same for g in p.grant]
        return all(any(rule_allows(h.rule, str(verb), str(resource), str(group)) and h.scope in ("", grant.scope)
                       for h in held)
                   for grant in privilege.grant for verb in grant.rule.get("verbs") or ()
                   for resource in grant.rule.get("resources") or () for group in grant.rule.get("apiGroups") or ("",))
    if privilege.category == "cloud":
        return any(p.grant.covers(privilege.grant) for p in same)
    if privilege.category == "volume":
        source, writable, kind, places, shared = privilege.key
        # The same volume, or the canary's own model volume where the stable mounts its own.
        return any((p.key[0] == source or (p.key[2] == kind and p.key[3] == places and not shared))
                   and (p.key[1] or not writable) for p in same)
    if privilege.category == "model":
        return any(p.key == privilege.key for p in same) or any(
            p.key[:2] == privilege.key[:2] and p.key[2] == "" for p in same)
    if privilege.category == "registry":
        return not same or any(p.key == privilege.key for p in same)
    return any(p.key == privilege.key for p in same)
