"""The resource graph of one scan: who routes to, selects, exposes, runs as, binds, grants, assumes, reads and
writes what, across the Kubernetes manifests and the Terraform of the scan.

Rules that need several resources at once (how a model server is reached from outside, which identity it
runs as and what that identity may do, which policies cover it) ask the graph instead of walking the
inventory themselves. Nodes are the existing views (``K8sObject``, ``PodSpec``, ``TfResource``) plus a few
names for things the scan only refers to (a built-in ClusterRole, a bucket named in a URI, the outside
world). The graph is built once per scan, lazily (``Inventory.graph``), with indexes by namespace, label and
name, so building it is roughly linear in the number of objects (``bench/graph_scale.py``).
"""

from __future__ import annotations

import enum
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator

from servegate.model.cloud import (
    CloudIndex, IdentityLink, Permission, Store, StoreAccess, annotation_identities, parse_storage_uri,
)
from servegate.model.k8s import Inventory, K8sObject
from servegate.model.memo import Memo
from servegate.model.network import selects
from servegate.model.rbac import Named, RbacGrant, RbacIndex
from servegate.model.routes import (
    ROUTE_KINDS, Route, as_int, as_list, parse_routes, service_exposure, service_of_host,
)
from servegate.model.servers import container_ports
from servegate.model.workload_facts import (
    ModelLocation, SecretUse, VolumeUse, locations_of, pod_key, secrets_of, volumes_of,
)
from servegate.model.workloads import Container, PodSpec, pod_specs
from servegate.sources.located import Path, get_path

if TYPE_CHECKING:
    from servegate.model.terraform.config import TfResource
    from servegate.model.terraform.inventory import TfInventory

ISTIO_ROOT_NAMESPACE = "istio-system"
ISTIO_POLICY_KINDS = ("PeerAuthentication", "AuthorizationPolicy", "RequestAuthentication")
TEMPLATE_ONLY_KINDS = frozenset({"ServingRuntime", "ClusterServingRuntime"})  # templates of other pods
INGRESS_GATEWAY_LABELS = {"app": "istio-ingressgateway", "istio": "ingressgateway"}  # what Istio's gateway pods carry
AUTH_PROXY_IMAGE = re.compile(r"oauth2-proxy|kube-rbac-proxy|pomerium|authservice|keycloak-gatekeeper|"
                              r"louketo|envoy-auth|ext-authz", re.IGNORECASE)


class EdgeKind(str, enum.Enum):
    ROUTES_TO = "routes-to"  # Gateway -> route -> Service; SageMaker endpoint -> configuration -> model
    SELECTS = "selects"  # Service, NetworkPolicy or Istio policy -> pod
    EXPOSES = "exposes"  # outside -> Service/Ingress/Gateway/pod; Service -> pod port
    RUNS_AS = "runs-as"  # pod -> ServiceAccount; SageMaker model -> execution role
    BINDS = "binds"  # ServiceAccount -> RoleBinding / ClusterRoleBinding naming it
    GRANTS = "grants"  # binding -> Role / ClusterRole; policy or role assignment -> cloud identity
    ASSUMES = "assumes"  # ServiceAccount -> IAM role / Google service account / Azure identity
    READS = "reads"  # pod or identity -> bucket, volume claim, Secret
    WRITES = "writes"


OUTSIDE = Named("Internet", "", "outside the cluster")


@dataclass(frozen=True, slots=True)
class Edge:
    kind: EdgeKind
    source: Any
    target: Any
    via: Any  # the Located object whose line makes the edge (None when it is implied)
    path: Path = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class Hop:
    """One object on a way in, and the line that links it to the next one."""

    obj: Any  # Located
    path: Path
    text: str


@dataclass(frozen=True)
class ServicePort:
    service: K8sObject
    index: int
    port: dict
    container: Container | None  # the container serving the target port, when declared
    number: int | None  # the container port

    @property
    def path(self) -> Path:
        return self.service.at("spec", "ports", self.index)


@dataclass(frozen=True)
class Reach:
    """One way traffic gets to a pod: from the internet (an ingress, a load balancer), from node addresses
    (hostPort, hostNetwork), or from inside the cluster (a ClusterIP Service, a mesh-internal route)."""

    source: str  # "internet", "node" or "cluster"
    hops: tuple[Hop, ...]  # outermost first, ending at the container
    container: Container | None
    port: int | None
    route: Route | None = None
    service: K8sObject | None = None
    authenticated: str | None = None  # what makes callers authenticate on this way in

    @property
    def external(self) -> bool:
        return self.source != "cluster"

    @property
    def text(self) -> str:
        return " -> ".join(h.text for h in self.hops)


@dataclass(frozen=True)
class NetworkCoverage:
    """The NetworkPolicies selecting a pod and what they leave open."""

    ingress: tuple[K8sObject, ...]
    egress: tuple[K8sObject, ...]
    ingress_open: bool  # any pod of the cluster (or beyond) may connect
    egress_open: bool  # the pod may connect anywhere, the internet included
    default_deny_ingress: K8sObject | None
    default_deny_egress: K8sObject | None


def pod_labels(pod: PodSpec) -> dict:
    """The labels a pod will carry: its template's, plus those the ML operators add to the pods they create."""
    labels: dict = {}
    obj = pod.obj
    if obj.kind in ("InferenceService", "LLMInferenceService"):
        labels.update(obj.labels)
        labels.update({"serving.kserve.io/inferenceservice": obj.name, "component": pod.role})
        labels.setdefault("app", f"isvc.{obj.name}-{pod.role}")
    elif obj.kind in ("RayCluster", "RayService", "RayJob") and pod.role != "submitter":
        head = pod.role == "head"
        labels.update({"ray.io/node-type": "head" if head else "worker", "ray.io/is-ray-node": "yes"})
        if obj.kind == "RayCluster":
            labels["ray.io/cluster"] = obj.name
        if not head:
            labels["ray.io/group"] = pod.role.removeprefix("worker ")
    elif obj.kind == "SeldonDeployment":
        labels["seldon-deployment-id"] = obj.name
    elif obj.kind == "Service" and obj.group == "serving.knative.dev":
        labels["serving.knative.dev/service"] = obj.name
    labels.update({str(k): str(v) for k, v in pod.labels.items()})
    return labels


def requires_principal(policy: K8sObject) -> bool:
    """Does an Istio AuthorizationPolicy make callers present an identity (a JWT principal, a CUSTOM provider)?"""
    action = policy.get("spec", "action") or "ALLOW"
    rules = policy.get("spec", "rules")
    rules = [r for r in rules if isinstance(r, dict)] if isinstance(rules, list) else []
    if action == "CUSTOM":
        return bool(policy.get("spec", "provider"))
    if action == "DENY":
        return any("*" in (get_path(s, ("source", "notRequestPrincipals")) or [])
                   for r in rules for s in (r.get("from") or []) if isinstance(s, dict))
    if action != "ALLOW" or not rules:
        return False

    def demands(rule: dict) -> bool:
        sources = [s for s in (rule.get("from") or []) if isinstance(s, dict)]
        if sources and all(get_path(s, ("source", "requestPrincipals")) for s in sources):
            return True
        conditions = [w for w in (rule.get("when") or []) if isinstance(w, dict)]
        return any(str(w.get("key", "")).startswith("request.auth.") for w in conditions)

    return all(demands(r) for r in rules)


class ResourceGraph(Memo):
    """Every edge of the scan, and the walks rules ask for. Build with ``ResourceGraph.build``."""

    def __init__(self, inventory: Inventory, terraform: TfInventory | None = None) -> None:
        self.inventory = inventory
        self.terraform = terraform
        self._namespaces: dict[int, str] = {}  # by id(obj): objects live as long as the inventory
        self.edges: list[Edge] = []
        self.pods: list[PodSpec] = []
        self.cloud = CloudIndex(terraform)
        self.rbac = RbacIndex((o for k in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
                               for o in inventory.of_kind(k)), self.namespace)
        self._pods_by_key: dict[tuple[int, Path], PodSpec] = {}
        self._labels: dict[tuple[int, Path], dict] = {}
        self._by_label: dict[tuple[str, str, str], list[PodSpec]] = defaultdict(list)
        self._by_namespace: dict[str, list[PodSpec]] = defaultdict(list)
        self._service_ports: dict[tuple[int, Path], list[ServicePort]] = defaultdict(list)
        self._selected_by: dict[int, list[PodSpec]] = {}
        self._routes_by_service: dict[tuple[str, str], list[Route]] = defaultdict(list)
        self.routes: list[Route] = []
        self._policies: dict[str, dict[str, list[K8sObject]]] = defaultdict(lambda: defaultdict(list))
        self._memo: dict[tuple, Any] = {}  # see Memo: the graph holds the scan's state, so rules need not
        self.model_locations: list[ModelLocation] = []

    @classmethod
    def build(cls, inventory: Inventory, terraform: TfInventory | None = None) -> ResourceGraph:
        graph = cls(inventory, terraform)
        graph._index_pods()
        graph._index_policies()
        graph._link_services()
        graph._link_routes()
        graph._link_pods()
        graph._link_sagemaker()
        return graph

    # -- nodes --------------------------------------------------------------------------------------
    def namespace(self, obj: K8sObject) -> str:
        found = self._namespaces.get(id(obj))
        if found is None:
            found = self._namespaces[id(obj)] = self.inventory.namespace_of(obj) or "default"
        return found

    def _specific(self, obj: K8sObject) -> bool:
        """Does the manifest (or its Kustomization) place the object in a namespace of its own choosing?
        ``default`` is where everything unqualified lands (and what rendered charts write), so it is not."""
        return self.namespace(obj) != "default"

    def linked(self, obj: K8sObject, other: K8sObject) -> bool:
        """Can two objects of one namespace meet? Yes when both manifests (or their Kustomizations) choose it;
        when it is left to deploy time (or is ``default``), only if they are deployed together: a repository of
        samples, or several repositories scanned at once, is not one cluster."""
        if self._specific(obj) and self._specific(other):
            return True
        return self.inventory.deployed_together(obj, other) > 0

    def canonical(self, pod: PodSpec) -> PodSpec:
        """The graph's own view of a pod (rules get fresh PodSpec objects from the engine)."""
        return self._pods_by_key.get(pod_key(pod), pod)

    def labels(self, pod: PodSpec) -> dict:
        key = pod_key(pod)
        if key not in self._labels:
            self._labels[key] = pod_labels(pod)
        return self._labels[key]

    def _index_pods(self) -> None:
        patches = self.inventory.kustomize.patch_files
        for obj in self.inventory.objects:
            if obj.kind in TEMPLATE_ONLY_KINDS or obj.file in patches:
                continue
            for pod in pod_specs(obj, self.inventory):
                self.pods.append(pod)
                self._pods_by_key[pod_key(pod)] = pod
                namespace = self.namespace(obj)
                self._by_namespace[namespace].append(pod)
                for key, value in self.labels(pod).items():
                    self._by_label[(namespace, key, value)].append(pod)

    def selected(self, namespace: str, selector: Any, match_labels_only: bool = False) -> list[PodSpec]:
        """Pods of a namespace a selector picks (a Service's plain map, or a LabelSelector)."""
        if match_labels_only:
            if not isinstance(selector, dict) or not selector:
                return []
            selector = {"matchLabels": selector}
        if not isinstance(selector, dict):
            return []
        match_labels = selector.get("matchLabels") if isinstance(selector.get("matchLabels"), dict) else {}
        if match_labels:
            candidates = min((self._by_label.get((namespace, str(k), str(v)), []) for k, v in match_labels.items()),
                             key=len)
        else:
            candidates = self._by_namespace.get(namespace, [])
        return [pod for pod in candidates if selects(_stringified(selector), self.labels(pod))]

    # -- Services and routes ------------------------------------------------------------------------
    def _link_services(self) -> None:
        for service in self.inventory.of_kind("Service"):
            if service.group:
                continue  # Knative and other CRDs named Service
            namespace = self.namespace(service)
            pods = [p for p in self.selected(namespace, service.get("spec", "selector"), match_labels_only=True)
                    if self.linked(service, p.obj)]
            self._selected_by[id(service)] = pods
            exposure = service_exposure(service)
            if exposure is not None:
                field = "externalIPs" if exposure == "externalIPs" else "type"
                self._edge(EdgeKind.EXPOSES, OUTSIDE, service, service, service.at("spec", field), exposure)
            for pod in pods:
                self._edge(EdgeKind.SELECTS, service, pod, service, service.at("spec", "selector"))
                for index, port in enumerate(as_list(service.get("spec", "ports"))):
                    if not isinstance(port, dict):
                        continue
                    for container, number in self._target(pod, port.get("targetPort", port.get("port"))):
                        entry = ServicePort(service, index, port, container, number)
                        self._service_ports[pod_key(pod)].append(entry)
                        where = f" (container `{container.name}`)" if container is not None else ""
                        self._edge(EdgeKind.EXPOSES, service, pod, service, entry.path,
                                   f"port {port.get('port')} -> {number if number is not None else '?'}{where}")

    @staticmethod
    def _target(pod: PodSpec, target: Any) -> Iterator[tuple[Container | None, int | None]]:
        """The containers a Service targetPort (number or port name) reaches in a pod."""
        number = as_int(target)
        found = False
        for container in pod.main_containers:
            ports = container_ports(container)
            resolved = number if number is not None and number in ports.values() else \
                ports.get(str(target)) if number is None else None
            if resolved is not None:
                found = True
                yield container, resolved
        if not found and number is not None:
            yield (pod.main_containers[0] if len(pod.main_containers) == 1 else None), number

    def service_pods(self, service: K8sObject) -> list[PodSpec]:
        return self._selected_by.get(id(service), [])

    def service_ports(self, pod: PodSpec) -> list[ServicePort]:
        return self._service_ports.get(pod_key(pod), [])

    def _gateway(self, namespace: str, reference: str, api: str) -> K8sObject | None:
        name, _, rest = reference.partition("/")
        gateway_ns, gateway_name = (name, rest) if rest else (namespace, name)
        return next((g for g in self.inventory.named("Gateway", gateway_name)
                     if g.group.startswith(api) and self.namespace(g) == gateway_ns), None)

    def _link_routes(self) -> None:
        for kind in ROUTE_KINDS:
            for obj in self.inventory.of_kind(kind):
                for route in parse_routes(obj, self.namespace(obj), self._gateway):
                    self.routes.append(route)
                    self._routes_by_service[(route.namespace, route.service)].append(route)
                    service = self.inventory.find("Service", route.namespace, route.service)
                    self._edge(EdgeKind.ROUTES_TO, obj, service or Named("Service", route.namespace, route.service),
                               obj, route.path, route.shown_path)
        for obj in self.inventory.of_kind("Ingress"):
            self._edge(EdgeKind.EXPOSES, OUTSIDE, obj, obj, obj.at("spec"), "ingress controller")
        seen: set[tuple[int, int]] = set()
        for route in self.routes:
            for gateway in route.gateways:
                if (id(gateway), id(gateway)) not in seen:
                    seen.add((id(gateway), id(gateway)))
                    self._edge(EdgeKind.EXPOSES, OUTSIDE, gateway, gateway, gateway.at("spec"), "gateway")
                if (id(gateway), id(route.obj)) not in seen:
                    seen.add((id(gateway), id(route.obj)))
                    self._edge(EdgeKind.ROUTES_TO, gateway, route.obj, route.obj, route.obj.at("spec"))

    def pods_of(self, obj: K8sObject) -> list[PodSpec]:
        """The pod templates of one object, as the graph holds them."""
        return self.memo(("pods-by-object",), lambda: _grouped(self.pods, lambda p: id(p.obj))).get(id(obj), [])

    def routes_of(self, obj: K8sObject) -> list[Route]:
        """The backends of one Ingress, route or VirtualService."""
        by_obj = self.memo(("routes-by-object",), lambda: _grouped(self.routes, lambda r: id(r.obj)))
        return by_obj.get(id(obj), [])

    def routes_through(self, gateway: K8sObject) -> list[Route]:
        """The routes bound to a Gateway (Istio or Gateway API)."""
        by_gateway = self.memo(("routes-by-gateway",), lambda: _grouped(
            [(g, r) for r in self.routes for g in r.gateways], lambda item: id(item[0])))
        return [r for _, r in by_gateway.get(id(gateway), [])]

    def routes_to(self, service: K8sObject) -> list[Route]:
        return [r for r in self._routes_by_service.get((self.namespace(service), service.name), [])
                if self.linked(r.obj, service)]

    # -- ways in ------------------------------------------------------------------------------------
    def reach(self, pod: PodSpec) -> list[Reach]:
        """Every way the scan shows traffic getting to the pod, outermost object first."""
        pod = self.canonical(pod)
        key = ("reach", pod_key(pod))
        if key not in self._memo:
            unique: dict[tuple, Reach] = {}
            for reach in self._reach(pod):
                unique.setdefault((reach.source, reach.text, reach.authenticated), reach)
            self._memo[key] = list(unique.values())
        return self._memo[key]

    def external_reach(self, pod: PodSpec) -> list[Reach]:
        return [r for r in self.reach(pod) if r.external]

    def _reach(self, pod: PodSpec) -> Iterator[Reach]:
        pod_auth = self.istio_auth(pod)
        for entry in self.service_ports(pod):
            service = entry.service
            container_hop = self._container_hop(entry)
            proxy = f"authenticating proxy `{entry.container.name}`" if entry.container is not None and \
                AUTH_PROXY_IMAGE.search(entry.container.image) else None
            service_hop = Hop(service, entry.path, f"{service.ref} port {entry.port.get('port')}")
            exposure = service_exposure(service)
            if exposure is not None:
                field = "externalIPs" if exposure == "externalIPs" else "type"
                yield Reach("internet", (Hop(service, service.at("spec", field), f"{service.ref} ({exposure})"),
                                         service_hop, container_hop), entry.container, entry.number,
                            service=service, authenticated=proxy or pod_auth)
            else:
                yield Reach("cluster", (service_hop, container_hop), entry.container, entry.number, service=service,
                            authenticated=proxy or pod_auth)
            for route in self.routes_to(service):
                if route.port is not None and route.port not in (entry.port.get("port"), entry.port.get("name")) \
                        and as_int(route.port) != as_int(entry.port.get("port")):
                    continue
                if route.subset is not None and not self.in_subset(service, route.subset, pod):
                    continue
                hops = tuple(Hop(g, g.at("spec"), g.ref) for g in route.gateways)
                hops += (Hop(route.obj, route.match_path, f"{route.obj.ref} ({route.shown_path})"),
                         service_hop, container_hop)
                gateway_auth = self.gateway_auth() if route.external and route.obj.kind == "VirtualService" else None
                auth = route.authenticated or proxy or (gateway_auth and f"Istio {gateway_auth.ref}") or pod_auth
                yield Reach("internet" if route.external else "cluster", hops, entry.container, entry.number, route,
                            service, auth)
        for container in pod.main_containers:
            for index, port in enumerate(as_list(container.get("ports"))):
                if isinstance(port, dict) and as_int(port.get("hostPort")) not in (None, 0):
                    yield Reach("node", (Hop(pod.obj, container.at("ports", index, "hostPort"),
                                             f"host port {port['hostPort']} of {container.display}"),),
                                container, as_int(port.get("containerPort")))
        if pod.get("hostNetwork") is True:
            yield Reach("node", (Hop(pod.obj, pod.at("hostNetwork"), f"hostNetwork of {pod.display}"),), None, None)
        published = _published_by_operator(pod)
        if published is not None:
            auth = next((f"annotation {k} on {pod.obj.ref}" for k, v in pod.obj.annotations.items()
                         if k in OPERATOR_AUTH_ANNOTATIONS and str(v).lower() == "true"), None)
            yield Reach("internet", (Hop(pod.obj, pod.obj.at("metadata"), published),), None, None,
                        authenticated=auth or pod_auth)

    @staticmethod
    def _container_hop(entry: ServicePort) -> Hop:
        container = entry.container
        if container is None:
            return Hop(entry.service, entry.path, f"port {entry.number}")
        declared = as_list(container.get("ports"))
        index = next((i for i, p in enumerate(declared) if isinstance(p, dict)
                      and as_int(p.get("containerPort")) == entry.number), None)
        path = container.at("ports", index) if index is not None else container.path
        return Hop(container.obj, path, f"{container.display} port {entry.number}")

    # -- policies -----------------------------------------------------------------------------------
    def _index_policies(self) -> None:
        for kind in ("NetworkPolicy", *ISTIO_POLICY_KINDS, "DestinationRule"):
            for policy in self.inventory.of_kind(kind):
                self._policies[kind][self.namespace(policy)].append(policy)

    def policies(self, kind: str, namespace: str | None = None) -> list[K8sObject]:
        if namespace is None:
            return [p for items in self._policies[kind].values() for p in items]
        return self._policies[kind].get(namespace, [])

    def network(self, pod: PodSpec) -> NetworkCoverage:
        pod = self.canonical(pod)
        key = ("network", pod_key(pod))
        if key not in self._memo:
            self._memo[key] = self._coverage(pod)
        return self._memo[key]

    def _coverage(self, pod: PodSpec) -> NetworkCoverage:
        labels = self.labels(pod)
        ingress, egress = [], []
        deny_in = deny_out = None
        for policy in self.policies("NetworkPolicy", self.namespace(pod.obj)):
            if not self.linked(policy, pod.obj):
                continue
            selector = policy.get("spec", "podSelector")
            if not selects(_stringified(selector) if isinstance(selector, dict) else {}, labels):
                continue
            types = policy_types(policy)
            everyone = not (isinstance(selector, dict) and (selector.get("matchLabels") or
                                                             selector.get("matchExpressions")))
            if "Ingress" in types:
                ingress.append(policy)
                if everyone and not as_list(policy.get("spec", "ingress")):
                    deny_in = deny_in or policy
            if "Egress" in types:
                egress.append(policy)
                if everyone and not as_list(policy.get("spec", "egress")):
                    deny_out = deny_out or policy
        ingress_open = not ingress or any(_opens(rule, "from") for p in ingress for rule in
                                          as_list(p.get("spec", "ingress")))
        egress_open = not egress or any(_opens(rule, "to") for p in egress for rule in as_list(p.get("spec", "egress")))
        return NetworkCoverage(tuple(ingress), tuple(egress), ingress_open, egress_open, deny_in, deny_out)

    def _maybe_linked(self, obj: K8sObject, kind: str, objects: list[K8sObject]) -> list[K8sObject]:
        """Those of ``objects`` (of one kind and namespace, in inventory order) that ``linked`` may accept for
        ``obj``, without trying each: in a monorepo, that grows with the square of a namespace."""
        if len(objects) < 2:
            return objects
        near = self.inventory.near(obj, kind)
        if not self._specific(obj):
            return [other for other in near if self.namespace(other) == self.namespace(obj)]
        ids = {id(other) for other in near}
        return [other for other in objects if self._specific(other) or id(other) in ids]

    def istio_policies(self, pod: PodSpec, kind: str) -> list[K8sObject]:
        """Istio policies of ``kind`` that apply to the pod: its namespace's (all pods, or selecting it) and
        the mesh-wide ones of the root namespace."""
        pod = self.canonical(pod)
        namespace, labels = self.namespace(pod.obj), self.labels(pod)
        found = []
        for policy_ns in dict.fromkeys((namespace, ISTIO_ROOT_NAMESPACE)):
            policies = self.policies(kind, policy_ns)
            selectors = self.memo(("istio-selectors", kind, policy_ns), lambda: _workload_selectors(policies))
            for policy in self._maybe_linked(pod.obj, kind, policies) if policy_ns == namespace else policies:
                selector = selectors.get(id(policy), _NOT_FOR_WORKLOADS)
                if selector is _NOT_FOR_WORKLOADS:
                    continue
                if policy_ns == namespace and not self.linked(policy, pod.obj):
                    continue
                if selector is None:
                    found.append(policy)
                elif selects(selector, labels) and (policy_ns == namespace or kind != "PeerAuthentication"):
                    found.append(policy)
        return found

    def istio_auth(self, pod: PodSpec) -> str | None:
        """An Istio policy that makes callers of the pod authenticate (a JWT principal, a CUSTOM provider)."""
        request_auth = bool(self.istio_policies(pod, "RequestAuthentication"))
        for policy in self.istio_policies(pod, "AuthorizationPolicy"):
            if requires_principal(policy) and (policy.get("spec", "action") == "CUSTOM" or request_auth):
                return f"Istio {policy.ref}"
        return None

    def gateway_auth(self) -> K8sObject | None:
        """Authentication enforced at the Istio ingress gateway (an AuthorizationPolicy selecting it)."""
        key = ("gateway-auth",)
        if key not in self._memo:
            self._memo[key] = next((p for p in self.policies("AuthorizationPolicy")
                                    if isinstance(p.get("spec", "selector"), dict)
                                    and p.get("spec", "selector", "matchLabels")
                                    and selects(p.get("spec", "selector"), INGRESS_GATEWAY_LABELS)
                                    and requires_principal(p)), None)
        return self._memo[key]

    def subset_labels(self, service: K8sObject, subset: str) -> dict | None:
        """The labels a DestinationRule subset of the Service adds to its selector (None: no such subset)."""
        for rule in self.destination_rules(service):
            for entry in as_list(rule.get("spec", "subsets")):
                if isinstance(entry, dict) and entry.get("name") == subset and isinstance(entry.get("labels"), dict):
                    return {str(k): str(v) for k, v in entry["labels"].items()}
        return None

    def in_subset(self, service: K8sObject, subset: str, pod: PodSpec) -> bool:
        labels = self.subset_labels(service, subset)
        return labels is None or selects({"matchLabels": labels}, self.labels(pod))

    def destination_rules(self, service: K8sObject) -> list[K8sObject]:
        """DestinationRules whose host is the Service (short name in its namespace, or FQDN anywhere)."""
        by_host = self.memo(("destination-rules",), self._destination_rules_by_service)
        return by_host.get((service.name, self.namespace(service)), [])

    def _destination_rules_by_service(self) -> dict[tuple[str, str], list[K8sObject]]:
        out: dict[tuple[str, str], list[K8sObject]] = defaultdict(list)
        for rule in self.policies("DestinationRule"):
            target = service_of_host(rule.get("spec", "host"), self.namespace(rule))
            if target is not None:
                out[target].append(rule)
        return out

    def _by_namespace_and_name(self, kind: str) -> dict[tuple[str, str], list[K8sObject]]:
        out: dict[tuple[str, str], list[K8sObject]] = defaultdict(list)
        for obj in self.inventory.of_kind(kind):
            out[(self.namespace(obj), obj.name)].append(obj)
        return out

    # -- identity, volumes, secrets, models -----------------------------------------------------------
    def _link_pods(self) -> None:
        for pod in self.pods:
            account = self.account(pod)
            self._edge(EdgeKind.RUNS_AS, pod, account, pod.obj, self.account_path(pod))
            for grant in self.grants(pod):
                self._edge(EdgeKind.BINDS, account, grant.binding, grant.binding, grant.subject_path)
                self._edge(EdgeKind.GRANTS, grant.binding, grant.role, grant.binding, grant.binding.at("roleRef"))
            for link in self.identities(pod):
                self._edge(EdgeKind.ASSUMES, account, link.identity, link.via, link.path, link.how)
                for access in self.cloud.store_access(link.identity):
                    if access.store is None:
                        continue
                    for kind in ("read", "write"):
                        if kind in access.access:
                            self._edge(EdgeKind.READS if kind == "read" else EdgeKind.WRITES, link.identity,
                                       access.store, access.permission.via, access.permission.path, access.pattern)
            for use in self.volumes(pod):
                if use.claim is not None:
                    self._edge(EdgeKind.WRITES if use.writable else EdgeKind.READS, pod, use.claim, pod.obj, use.path)
            for secret in self.secrets(pod):
                self._edge(EdgeKind.READS, pod, secret.secret, secret.obj, secret.path, secret.how)
            for location in self.locations(pod):
                self.model_locations.append(location)
                self._edge(EdgeKind.READS, pod, location.store, location.obj, location.path, location.key)
            for kind in ("NetworkPolicy", *ISTIO_POLICY_KINDS):
                policies = self.network(pod).ingress + self.network(pod).egress if kind == "NetworkPolicy" \
                    else tuple(self.istio_policies(pod, kind))
                for policy in dict.fromkeys(policies):
                    self._edge(EdgeKind.SELECTS, policy, pod, policy, policy.at("spec"))
        for obj in self.inventory.of_kind("Model"):  # Seldon Core v2 models are scheduled onto servers
            if obj.group.startswith("mlops.seldon.io"):
                location = self.location_of(obj.get("spec", "storageUri"), obj, obj.at("spec", "storageUri"), obj)
                if location is not None:
                    self.model_locations.append(location)

    def account(self, pod: PodSpec) -> K8sObject | Named:
        """The ServiceAccount object the pod runs as when the scan holds it (the one deployed with the pod when
        the namespace is left to deploy time; the implicit ``default`` account only from the pod's folder)."""
        namespace, name = self.namespace(pod.obj), pod.service_account
        best, best_score = None, 0
        accounts = self.memo(("accounts",), lambda: self._by_namespace_and_name("ServiceAccount"))
        for account in accounts.get((namespace, name), ()):
            if self._specific(pod.obj) and self._specific(account):
                return account
            score = self.inventory.deployed_together(pod.obj, account)
            if score > best_score and (name != "default" or score >= 3):
                best, best_score = account, score
        return best if best is not None else Named("ServiceAccount", namespace, name)

    @staticmethod
    def account_path(pod: PodSpec) -> Path:
        """The serviceAccountName line, or the pod spec when the account is the namespace's default."""
        for key in ("serviceAccountName", "serviceAccount"):
            if pod.get(key):
                return pod.at(key)
        return pod.path

    def token_mounted(self, pod: PodSpec) -> bool:
        """Does the pod get its service account's token (pod setting, else the account's, else yes)?"""
        value = pod.get("automountServiceAccountToken")
        if isinstance(value, bool):
            return value
        account = self.account(pod)
        if isinstance(account, K8sObject) and isinstance(account.get("automountServiceAccountToken"), bool):
            return account.get("automountServiceAccountToken")
        return True

    def bindings(self, pod: PodSpec) -> list[K8sObject]:
        """RoleBindings and ClusterRoleBindings that name the pod's account (as a ServiceAccount, a user or
        through its namespace's service-account group), whether or not the scan holds the role they grant.
        Bindings for every authenticated identity say nothing about this account, so they are left out."""
        account = self.account(pod)
        namespace = account.namespace if isinstance(account, Named) else self.namespace(account)
        found = []
        for binding, subject_path in self.rbac.bindings_of(namespace, account.name, everyone=False):
            if self._binding_linked(binding, subject_path, pod) and binding not in found:
                found.append(binding)
        return found

    def grants(self, pod: PodSpec) -> list[RbacGrant]:
        account = self.account(pod)
        grants = self.account_grants(account.namespace if isinstance(account, Named) else self.namespace(account),
                                     account.name)
        return [g for g in grants if self._binding_linked(g.binding, g.subject_path, pod)]

    def _binding_linked(self, binding: K8sObject, subject_path: Path, pod: PodSpec) -> bool:
        """A binding reaches the pod's account when both name the namespace (a subject's own namespace, a
        namespaced group, the binding's namespace), else only when deployed with the pod."""
        if self._specific(pod.obj):
            subject = get_path(binding.doc, subject_path)
            if isinstance(subject, dict) and (subject.get("kind") != "ServiceAccount" or subject.get("namespace")):
                return True
            if self._specific(binding):
                return True
        return self.inventory.deployed_together(binding, pod.obj) > 0

    def account_grants(self, namespace: str, name: str) -> list[RbacGrant]:
        key = ("grants", namespace, name)
        if key not in self._memo:
            self._memo[key] = self.rbac.grants_of(namespace, name)
        return self._memo[key]

    def identities(self, pod: PodSpec) -> list[IdentityLink]:
        """The cloud identities the pod's service account assumes, and the line that says so."""
        account = self.account(pod)
        namespace = account.namespace if isinstance(account, Named) else self.namespace(account)
        key = ("identities", namespace, account.name)
        if key not in self._memo:
            links: list[IdentityLink] = []
            if isinstance(account, K8sObject):
                holder = self.cloud.resource_of(account.file, account.origin) if account.origin else None
                for annotation, identity in annotation_identities(self.cloud, account.annotations, holder):
                    how = {"eks.amazonaws.com/role-arn": "IRSA", "iam.gke.io/gcp-service-account": "GKE Workload "
                           "Identity", "azure.workload.identity/client-id": "Azure Workload Identity"}[annotation]
                    links.append(IdentityLink(identity, account, account.at("metadata", "annotations", annotation),
                                              f"{how} annotation on {account.ref}"))
            for link in self.cloud.federated(namespace, account.name):
                if not any(existing.identity == link.identity for existing in links):
                    links.append(link)
            self._memo[key] = links
        return self._memo[key]

    def permissions(self, pod: PodSpec) -> list[Permission]:
        return [p for link in self.identities(pod) for p in self.cloud.permissions(link.identity)]

    def store_access(self, pod: PodSpec) -> list[StoreAccess]:
        return [a for link in self.identities(pod) for a in self.cloud.store_access(link.identity)]

    def volumes(self, pod: PodSpec) -> list[VolumeUse]:
        pod = self.canonical(pod)
        key = ("volumes", pod_key(pod))
        if key not in self._memo:
            self._memo[key] = list(volumes_of(pod, self.namespace(pod.obj), self.inventory))
        return self._memo[key]

    def secrets(self, pod: PodSpec) -> list[SecretUse]:
        pod = self.canonical(pod)
        key = ("secrets", pod_key(pod))
        if key not in self._memo:
            self._memo[key] = list(secrets_of(pod, self.namespace(pod.obj), self.inventory, self.account(pod)))
        return self._memo[key]

    def locations(self, pod: PodSpec) -> list[ModelLocation]:
        """Where the pod loads models from object storage."""
        pod = self.canonical(pod)
        key = ("locations", pod_key(pod))
        if key not in self._memo:
            self._memo[key] = locations_of(pod, self.location_of)
        return self._memo[key]

    def location_of(self, uri: Any, owner: Any, path: Path, user: Any, pod: PodSpec | None = None
                    ) -> ModelLocation | None:
        """The store and key an object-storage URI names, or None for anything else."""
        parsed = parse_storage_uri(uri)
        if parsed is None:
            return None
        provider, bucket, object_key = parsed
        return ModelLocation(str(uri), self.cloud.store(provider, bucket), object_key, owner, path, user, pod)

    # -- SageMaker ------------------------------------------------------------------------------------
    def _link_sagemaker(self) -> None:
        cloud = self.cloud
        models_by_name: dict[str, list[TfResource]] = defaultdict(list)
        for model in cloud.managed("aws_sagemaker_model"):
            if isinstance(model.values.get("name"), str):
                models_by_name[model.values["name"]].append(model)
            for link in self.model_roles(model):
                self._edge(EdgeKind.RUNS_AS, model, link.identity, model, link.path, link.how)
            for location in self.sagemaker_locations(model):
                self.model_locations.append(location)
                self._edge(EdgeKind.READS, model, location.store, model, location.path, location.key)
        configurations = cloud.managed("aws_sagemaker_endpoint_configuration")
        for endpoint in cloud.managed("aws_sagemaker_endpoint"):
            for configuration in self._named_or_referenced(endpoint, ("endpoint_config_name",), configurations):
                self._edge(EdgeKind.ROUTES_TO, endpoint, configuration, endpoint, ("endpoint_config_name",))
        for configuration in configurations:
            for section, index, variant in self.variants(configuration):
                for model in self.variant_models(configuration, section, index):
                    self._edge(EdgeKind.ROUTES_TO, configuration, model, configuration,
                               (section, index, "model_name"), f"weight {variant.get('initial_variant_weight', 1)}")

    def model_roles(self, model: TfResource) -> list[IdentityLink]:
        return [IdentityLink(identity, model, ("execution_role_arn",), f"execution role of {model.address}")
                for identity in self.cloud.aws_role(model.values.get("execution_role_arn"), model)]

    def sagemaker_locations(self, model: TfResource) -> list[ModelLocation]:
        found = []
        for key in ("primary_container", "container"):
            for i, container in enumerate(as_list(model.values.get(key))):
                if not isinstance(container, dict):
                    continue
                location = self.location_of(container.get("model_data_url"), model, (key, i, "model_data_url"), model)
                if location is not None:
                    found.append(location)
                for j, source in enumerate(as_list(container.get("model_data_source"))):
                    for k, s3 in enumerate(as_list(source.get("s3_data_source") if isinstance(source, dict) else None)):
                        if isinstance(s3, dict):
                            location = self.location_of(s3.get("s3_uri"), model, (key, i, "model_data_source", j,
                                                                               "s3_data_source", k, "s3_uri"), model)
                            if location is not None:
                                found.append(location)
        return found

    @staticmethod
    def variants(configuration: TfResource) -> Iterator[tuple[str, int, dict]]:
        for section in ("production_variants", "shadow_production_variants"):
            for index, variant in enumerate(as_list(configuration.values.get(section))):
                if isinstance(variant, dict):
                    yield section, index, variant

    def variant_models(self, configuration: TfResource, section: str, index: int) -> list[TfResource]:
        return self._named_or_referenced(configuration, (section, index, "model_name"),
                                         self.cloud.managed("aws_sagemaker_model"))

    def _named_or_referenced(self, holder: TfResource, path: tuple, candidates: list[TfResource]) -> list[TfResource]:
        value = holder.get(*path)
        if isinstance(value, str):
            return [c for c in candidates if c.values.get("name") == value]
        targets = self.cloud.targets(holder, value)
        if not targets and self.terraform is not None:
            targets = self.terraform.referenced(holder, path)
        return [c for c in candidates if c in targets]

    # -- edges ----------------------------------------------------------------------------------------
    def _edge(self, kind: EdgeKind, source: Any, target: Any, via: Any, path: Path = (), note: str = "") -> None:
        self.edges.append(Edge(kind, source, target, via, path, note))

    def locations_in(self, store: Store) -> list[ModelLocation]:
        """Every model location (of workloads and SageMaker models) inside one store."""
        by_store = self.memo(("locations-by-store",), self._locations_by_store)
        return by_store.get(store, [])

    def _locations_by_store(self) -> dict[Store, list[ModelLocation]]:
        out: dict[Store, list[ModelLocation]] = defaultdict(list)
        for location in self.model_locations:
            out[location.store].append(location)
        return out

    def serving_pods(self) -> list[PodSpec]:
        """Pods that serve models: inference workloads, not notebooks, training or batch jobs."""
        key = ("serving",)
        if key not in self._memo:
            self._memo[key] = [pod for pod in self.pods if pod.is_inference and not is_interactive(pod)
                               and pod.obj.kind not in ("Job", "CronJob", "RayJob")]
        return self._memo[key]

    def interactive_pods(self) -> list[PodSpec]:
        """Notebooks and training jobs: people's code, which should not reach production models."""
        return [pod for pod in self.pods if is_interactive(pod)]


TRAINING_KINDS = frozenset({"PyTorchJob", "TFJob", "MPIJob", "XGBoostJob", "PaddleJob", "JAXJob", "MXJob",
                            "TrainJob"})


def is_interactive(pod: PodSpec) -> bool:
    """A notebook (Kubeflow Notebook, JupyterHub single-user server, a Jupyter container) or a training job."""
    if pod.obj.kind in TRAINING_KINDS or pod.obj.kind == "Notebook":
        return True
    if str(pod.labels.get("component", "")) == "singleuser-server":
        return True
    return any("jupyter" in c.servers for c in pod.main_containers)


OPERATOR_AUTH_ANNOTATIONS = ("security.opendatahub.io/enable-auth", "serving.kserve.io/enable-auth")


def _published_by_operator(pod: PodSpec) -> str | None:
    """KServe (serverless, or raw deployments labelled ``exposed``) and Knative publish their services through
    the cluster's ingress unless the object is labelled cluster-local."""
    obj = pod.obj
    labels = obj.labels
    local = {str(labels.get(k, "")) for k in ("networking.kserve.io/visibility", "serving.knative.dev/visibility",
                                               "networking.knative.dev/visibility")}
    if "cluster-local" in local:
        return None
    if obj.kind == "InferenceService" and pod.role in ("predictor", "transformer"):
        raw = str(obj.annotations.get("serving.kserve.io/deploymentMode", "")) in ("RawDeployment", "Standard")
        if not raw:
            return f"{obj.ref} published by KServe's ingress gateway (not labelled cluster-local)"
        if str(labels.get("networking.kserve.io/visibility", "")) == "exposed":
            return f"{obj.ref} published by the Ingress KServe creates for it (visibility: exposed)"
    if obj.kind == "Service" and obj.group == "serving.knative.dev":
        return f"{obj.ref} published by Knative's ingress gateway (not labelled cluster-local)"
    return None


def _grouped(items: list, key: Callable[[Any], Any]) -> dict[Any, list]:
    out: dict[Any, list] = defaultdict(list)
    for item in items:
        out[key(item)].append(item)
    return out


def policy_types(policy: K8sObject) -> list[str]:
    types = policy.get("spec", "policyTypes")
    if isinstance(types, list):
        return [str(t) for t in types]
    return ["Ingress", "Egress"] if policy.get("spec", "egress") is not None else ["Ingress"]


def _opens(rule: Any, key: str) -> bool:
    """Does a NetworkPolicy rule admit every peer (no peers listed, an empty namespace selector, 0.0.0.0/0)?"""
    if not isinstance(rule, dict):
        return False
    peers = rule.get(key)
    if not peers:
        return True
    for peer in as_list(peers):
        if not isinstance(peer, dict):
            continue
        cidr = get_path(peer, ("ipBlock", "cidr"))
        if isinstance(cidr, str) and cidr.strip() in ("0.0.0.0/0", "::/0"):
            return True
        if key == "from" and peer.get("namespaceSelector") == {} and not peer.get("podSelector"):
            return True
    return False


_NOT_FOR_WORKLOADS = object()


def _workload_selectors(policies: list[K8sObject]) -> dict[int, dict | None]:
    """For each Istio policy that applies by workload selector (no ``targetRef``): its selector, values as
    strings, or None when it has none and covers its whole namespace. Policies left out apply to no pod (a
    target reference, a selector that is not a mapping). Worked out once per namespace and kind, not per pod."""
    found: dict[int, dict | None] = {}
    for policy in policies:
        if policy.get("spec", "targetRef") is not None or policy.get("spec", "targetRefs") is not None:
            continue
        selector = policy.get("spec", "selector")
        if selector is None or isinstance(selector, dict):
            found[id(policy)] = None if selector is None else _stringified(selector)
    return found


def _stringified(selector: dict) -> dict:
    """A selector with label values as strings (YAML reads ``version: 2`` as a number)."""
    match_labels = selector.get("matchLabels")
    if isinstance(match_labels, dict):
        return {**selector, "matchLabels": {str(k): str(v) for k, v in match_labels.items()}}
    return selector


def link_layers(inventory: Inventory, terraform: TfInventory | None) -> None:
    """Tell the two inventories of one scan about each other, so either side can reach the graph."""
    if terraform is None:
        return
    inventory.terraform = terraform
    terraform.kubernetes = inventory


def graph_of_terraform(terraform: TfInventory) -> ResourceGraph:
    """The graph of the scan a Terraform inventory belongs to (Terraform alone when it was not linked)."""
    if terraform.kubernetes is None:
        link_layers(Inventory.of(()), terraform)
    return terraform.kubernetes.graph


