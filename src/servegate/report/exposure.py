"""Exposure paths of model-serving workloads, ready to draw: how each model server is reached (the internet,
ingresses and gateways, Services), who it runs as (service accounts, the roles bound to them, cloud
identities) and which artifact stores that reaches, with the findings that make each step risky.

The shape comes from the scan's resource graph (``servegate.model.graph``); findings only colour it. A finding
backs an edge when one of its locations lies inside the element that makes the edge (a Service's
``spec.type``, a SageMaker model's ``execution_role_arn``), or when it is about one end and names the other.
The one thing taken from findings alone is a way in the graph cannot see (the Service a KubeRay operator
creates for a Ray head): a finding on a serving workload that says it is reachable from outside the cluster
draws an edge from the internet, marked as reported rather than traced.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

from servegate.findings import Finding, Location, Severity
from servegate.model.cloud import Identity, Store
from servegate.model.graph import OUTSIDE
from servegate.model.k8s import K8sObject
from servegate.model.rbac import Named
from servegate.model.terraform.config import TfResource
from servegate.model.workloads import PodSpec
from servegate.scan import ScanResult

STAGES = ("internet", "ingress", "service", "server", "identity", "store")
STAGE_TITLES = {"internet": "internet", "ingress": "ingress / gateway", "service": "service",
                "server": "model server", "identity": "identity", "store": "artifact store"}
K8S_STAGES = {"Ingress": "ingress", "Gateway": "ingress", "HTTPRoute": "ingress", "GRPCRoute": "ingress",
              "TCPRoute": "ingress", "TLSRoute": "ingress", "VirtualService": "ingress", "Service": "service",
              "ServiceAccount": "identity", "Role": "identity", "ClusterRole": "identity", "Secret": "identity",
              "PersistentVolumeClaim": "store"}
TERRAFORM_STAGES = {"aws_sagemaker_endpoint": "ingress", "aws_sagemaker_endpoint_configuration": "service",
                    "aws_sagemaker_model": "server"}
STORE_KINDS = {"s3": "S3 bucket", "gcs": "GCS bucket", "azure-blob": "storage account"}
IDENTITY_KINDS = {"aws": "IAM role", "gcp": "Google service account", "azure": "managed identity"}
WAYS_IN = frozenset({"exposes", "routes-to", "selects"})
# What rules write when a workload can be reached from beyond the cluster (see servegate.rules.ml_apps).
OUTSIDE_PHRASES = ("from outside the cluster", "exposed outside the cluster", "from the internet")


@dataclass
class Node:
    key: str
    stage: str
    kind: str
    name: str
    refs: frozenset[str]  # the finding resources that are this node
    severity: Severity | None = None  # the worst visible finding on it
    findings: int = 0


@dataclass
class Link:
    source: str
    target: str
    relation: str
    notes: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    reported: bool = False  # drawn from a finding, not traced through the graph

    @property
    def severity(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    def back(self, findings: Iterable[Finding]) -> None:
        self.findings.extend(f for f in dict.fromkeys(findings) if f not in self.findings)


@dataclass
class Picture:
    """One model-serving workload and everything on its exposure path."""

    workload: str
    nodes: dict[str, Node] = field(default_factory=dict)
    links: dict[tuple[str, str], Link] = field(default_factory=dict)

    @property
    def exposed(self) -> bool:
        return "internet" in self.nodes

    @property
    def severity(self) -> Severity | None:
        worst = [link.severity for link in self.links.values()] + \
                [n.severity for n in self.nodes.values() if n.stage == "server"]
        return max((s for s in worst if s is not None), default=None)


def pictures(result: ScanResult) -> tuple[list[Picture], list[str]]:
    """The exposure picture of every model-serving workload, worst first, and what could not be drawn (or
    why there is nothing to draw)."""
    if result.inventory is None:
        return [], ["this scan result carries no resource graph"]
    try:
        graph = result.inventory.graph
    except Exception as exc:  # noqa: BLE001 - the scan already lists it as an error; draw the rest of the report
        return [], [f"the resource graph could not be built ({type(exc).__name__}: {exc})"]
    builder = _Builder(graph, [f for f in result.findings if not f.suppressed])
    drawn, problems = [], []
    for workload, pods in builder.workloads():
        try:
            drawn.append(builder.picture(workload, pods))
        except Exception as exc:  # noqa: BLE001 - one odd workload must not cost the whole report
            problems.append(f"the path of {workload.ref} could not be drawn ({type(exc).__name__}: {exc})")
    drawn.sort(key=lambda p: (-(p.severity if p.severity is not None else -1), not p.exposed, p.workload))
    if not drawn and not problems:
        problems.append("no model-serving workload in the scan")
    return drawn, problems


class _Builder:
    """Walks the graph around one workload at a time, with the findings indexed once per report."""

    def __init__(self, graph: Any, findings: list[Finding]) -> None:
        self.graph = graph
        self.incoming: dict[str, list[Any]] = defaultdict(list)
        self.outgoing: dict[str, list[Any]] = defaultdict(list)
        for edge in graph.edges:
            self.incoming[self._key(edge.target)].append(edge)
            self.outgoing[self._key(edge.source)].append(edge)
        self.by_resource: dict[str, list[Finding]] = defaultdict(list)
        self.by_file: dict[str, list[tuple[Location, Finding]]] = defaultdict(list)
        for finding in findings:
            self.by_resource[finding.resource].append(finding)
            for location in (finding.location, *(r.location for r in finding.related)):
                self.by_file[location.file].append((location, finding))

    # -- which workloads --------------------------------------------------------------------------------
    def workloads(self) -> Iterable[tuple[Any, list[Any]]]:
        """(workload, its serving pods): Kubernetes objects with model-serving pods, and cloud models."""
        grouped: dict[int, tuple[Any, list[Any]]] = {}
        for pod in self.graph.serving_pods():
            grouped.setdefault(id(pod.obj), (pod.obj, []))[1].append(pod)
        yield from grouped.values()
        seen: set[int] = set()
        for edge in self.graph.edges:
            source = edge.source
            if isinstance(source, TfResource) and self._stage(source) == "server" and id(source) not in seen:
                seen.add(id(source))
                yield source, [source]

    # -- nodes ------------------------------------------------------------------------------------------
    def _key(self, obj: Any) -> str:
        if obj is OUTSIDE:
            return "internet"
        return obj.display if isinstance(obj, PodSpec) else obj.ref  # one node per pod of a workload

    def _stage(self, obj: Any) -> str | None:
        if obj is OUTSIDE:
            return "internet"
        if isinstance(obj, PodSpec):
            return "server"
        if isinstance(obj, (Store, _EveryStore)):
            return "store"
        if isinstance(obj, Identity):
            return "identity"
        if isinstance(obj, TfResource):
            return TERRAFORM_STAGES.get(obj.type)
        if isinstance(obj, (K8sObject, Named)):
            return K8S_STAGES.get(obj.kind)
        return None

    def _node(self, obj: Any) -> Node:
        stage = self._stage(obj) or "service"  # the walks only let staged kinds through
        if stage == "internet":
            return Node("internet", stage, "", "Internet", frozenset())
        if isinstance(obj, PodSpec):
            workload = obj.obj
            name = f"{workload.namespace}/{workload.name}" if workload.namespace else workload.name
            kind = f"{workload.kind} · {obj.role}" if obj.role else workload.kind
            return self._rated(Node(obj.display, stage, kind, name, frozenset({workload.ref})))
        if isinstance(obj, (Store, Identity)):
            refs = {obj.ref} | ({obj.resource.address} if obj.resource is not None else set())
            kind = STORE_KINDS.get(obj.provider) if isinstance(obj, Store) else IDENTITY_KINDS.get(obj.provider)
            name = obj.bucket if isinstance(obj, Store) else \
                obj.resource.address.replace(f"{obj.resource.type}.", "", 1) if obj.resource is not None else obj.name
            return self._rated(Node(obj.ref, stage, kind or obj.provider, name, frozenset(refs)))
        if isinstance(obj, _EveryStore):
            return Node(obj.ref, stage, STORE_KINDS.get(obj.provider, obj.provider), "every bucket", frozenset())
        if isinstance(obj, TfResource):
            return self._rated(Node(obj.address, stage, obj.type, obj.address.replace(f"{obj.type}.", "", 1),
                                    frozenset({obj.address})))
        name = f"{obj.namespace}/{obj.name}" if obj.namespace else obj.name
        return self._rated(Node(obj.ref, stage, obj.kind, name, frozenset({obj.ref})))

    def _rated(self, node: Node) -> Node:
        found = [f for ref in node.refs for f in self.by_resource.get(ref, ())]
        node.findings = len(found)
        node.severity = max((f.severity for f in found), default=None)
        return node

    # -- one picture ------------------------------------------------------------------------------------
    def picture(self, workload: Any, pods: list[Any]) -> Picture:
        picture = Picture(workload.ref)
        servers = [self._add(picture, pod) for pod in pods]
        self._ways_in(picture, pods)
        for pod in pods:
            self._identity_and_stores(picture, pod)
        self._reported_ways_in(picture, workload, pods, servers)
        return picture

    def _add(self, picture: Picture, obj: Any) -> str:
        key = self._key(obj)
        if key not in picture.nodes:
            picture.nodes[key] = self._node(obj)
        return key

    def _link(self, picture: Picture, source: Any, target: Any, relation: str, note: str = "", *edges: Any) -> Link:
        """The picture's link between two objects (one per pair: a Service's ports merge), backed by the
        findings about the graph ``edges`` it stands for."""
        key = (self._add(picture, source), self._add(picture, target))
        link = picture.links.setdefault(key, Link(key[0], key[1], relation))
        if note and note not in link.notes:
            link.notes.append(note)
        for edge in edges:
            link.back(self._backing(edge, picture.nodes[key[0]], picture.nodes[key[1]]))
        return link

    def _ways_in(self, picture: Picture, pods: list[Any]) -> None:
        """Everything upstream: Services selecting the pods, routes to them, and what exposes those."""
        pending, seen = list(pods), set()
        while pending:
            target = pending.pop()
            for edge in self.incoming.get(self._key(target), ()):
                if edge.kind.value not in WAYS_IN or self._stage(edge.source) not in ("internet", "ingress",
                                                                                       "service"):
                    continue  # NetworkPolicies and Istio policies select pods too: they are no way in
                self._link(picture, edge.source, edge.target, edge.kind.value, edge.note, edge)
                if id(edge.source) not in seen:
                    seen.add(id(edge.source))
                    pending.append(edge.source)

    def _identity_and_stores(self, picture: Picture, pod: Any) -> None:
        """Everything downstream: who the pod runs as, the roles and cloud identities behind that, and what
        it reads or writes."""
        for edge in self.outgoing.get(self._key(pod), ()):
            kind = edge.kind.value
            if kind == "runs-as":
                self._link(picture, pod, edge.target, kind, edge.note, edge)
                self._behind_identity(picture, edge.target)
            elif kind in ("reads", "writes") and self._stage(edge.target) in ("store", "identity"):
                self._link(picture, pod, edge.target, kind, edge.note, edge)

    def _behind_identity(self, picture: Picture, identity: Any) -> None:
        if isinstance(identity, Identity):
            self._stores_of(picture, identity)
            return
        for bind in self.outgoing.get(self._key(identity), ()):
            if bind.kind.value == "binds":  # account -> binding -> role, drawn as account -> role
                for grant in self.outgoing.get(self._key(bind.target), ()):
                    if grant.kind.value == "grants":
                        self._link(picture, identity, grant.target, "bound to", f"by {bind.target.ref}", bind, grant)
            elif bind.kind.value == "assumes":
                self._link(picture, identity, bind.target, "assumes", bind.note, bind)
                self._stores_of(picture, bind.target)

    def _stores_of(self, picture: Picture, identity: Any) -> None:
        for access in self.graph.cloud.store_access(identity):
            kinds = ", ".join(sorted(access.access))
            note = f"{kinds} on {access.pattern}" if access.pattern not in ("", "*") else f"{kinds}, every object"
            target = access.store if access.store is not None else _EveryStore(identity.provider)
            link = self._link(picture, identity, target, "may access", note)
            via = access.permission.via
            if via is not None:
                link.back(self._inside(via.locate(access.permission.path)))

    def _reported_ways_in(self, picture: Picture, workload: Any, pods: list[Any], servers: list[str]) -> None:
        """A finding that says the workload is reachable from outside, where the graph traced no way in."""
        if picture.exposed:
            return
        for finding in self.by_resource.get(workload.ref, ()):
            if not any(phrase in finding.message for phrase in OUTSIDE_PHRASES):
                continue
            named = [key for pod, key in zip(pods, servers) if isinstance(pod, PodSpec) and pod.role
                     and key in finding.message]
            for key in named or servers:
                self._add(picture, OUTSIDE)
                picture.links.setdefault(("internet", key), Link("internet", key, "exposes", reported=True)) \
                    .back([finding])

    # -- which findings back an edge -----------------------------------------------------------------------
    def _backing(self, edge: Any, source: Node, target: Node) -> list[Finding]:
        found: list[Finding] = []
        via = edge.via
        implied = isinstance(edge.source, PodSpec) and tuple(edge.path) == tuple(edge.source.path)
        if via is not None and not implied:
            found.extend(self._inside(via.locate(edge.path)))
        if edge.kind.value == "runs-as" and isinstance(edge.source, PodSpec) and via is not None:
            # The token a pod mounts is what makes its account usable after a compromise.
            found.extend(self._inside(via.locate(edge.source.at("automountServiceAccountToken")), exact=True))
        for one, other in ((source, target), (target, source)):
            for ref in one.refs:
                for finding in self.by_resource.get(ref, ()):
                    texts = (finding.message, *(r.message for r in finding.related))
                    if any(name in text for name in other.refs for text in texts):
                        found.append(finding)
        return list(dict.fromkeys(found))

    def _inside(self, location: Any, exact: bool = False) -> list[Finding]:
        """Findings with a location at ``location``'s element or, unless ``exact``, inside it (one file holds
        many objects: the lines must agree too)."""
        path = location.path
        return [f for found, f in self.by_file.get(location.file, ())
                if location.line <= found.line <= location.end_line
                and (found.path == path or (not exact and path and found.path.startswith((path + ".", path + "["))))]


@dataclass(frozen=True)
class _EveryStore:
    """The target of a grant on every bucket of a cloud (``s3:*`` on ``*``)."""

    provider: str

    @property
    def ref(self) -> str:
        return f"every {self.provider} store"

