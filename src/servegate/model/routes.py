"""How traffic is routed to Services: Ingress, Gateway API routes and Istio VirtualServices read into one
shape, and how a Service itself is exposed. The resource graph links these to the pods behind them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator

from servegate.model.k8s import K8sObject
from servegate.model.network import external_exposure
from servegate.sources.located import Path, get_path

ROUTE_KINDS = ("Ingress", "HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "VirtualService")
INGRESS_AUTH_ANNOTATIONS = ("nginx.ingress.kubernetes.io/auth-url", "nginx.ingress.kubernetes.io/auth-type",
                            "nginx.ingress.kubernetes.io/auth-signin",
                            "nginx.ingress.kubernetes.io/auth-tls-verify-client")
SOURCE_RANGE_ANNOTATIONS = ("nginx.ingress.kubernetes.io/whitelist-source-range",
                            "nginx.ingress.kubernetes.io/allowlist-source-range")
LB_SOURCE_RANGES = "service.beta.kubernetes.io/load-balancer-source-ranges"
GatewayLookup = Callable[[str, str, str], "K8sObject | None"]


@dataclass(frozen=True)
class Route:
    """One backend of an Ingress, Gateway API route or VirtualService."""

    obj: K8sObject
    path: Path  # the backend (destination) entry
    match_path: Path  # the path match that selects it, or the rule
    service: str
    namespace: str
    port: Any  # number, name or None
    url_path: str | None  # None: every path (a default backend)
    path_type: str
    hosts: tuple[str, ...]
    gateways: tuple[K8sObject, ...]  # Istio or Gateway API Gateways it is bound to, when in the scan
    external: bool  # bound to an ingress (controller, gateway), not mesh-internal
    weight: int | None = None
    subset: str | None = None

    @property
    def authenticated(self) -> str | None:
        if self.obj.kind != "Ingress":
            return None
        found = [k for k in INGRESS_AUTH_ANNOTATIONS if k in self.obj.annotations]
        return f"annotation {found[0]} on {self.obj.ref}" if found else None

    @property
    def source_restricted(self) -> str | None:
        found = [k for k in SOURCE_RANGE_ANNOTATIONS if k in self.obj.annotations] if self.obj.kind == "Ingress" else []
        return f"annotation {found[0]} on {self.obj.ref}" if found else None

    @property
    def shown_path(self) -> str:
        return self.url_path if self.url_path is not None else "every path (default backend)"


def service_exposure(service: K8sObject) -> str | None:
    """How a Service is reachable from outside the cluster; a LoadBalancer narrowed to private source
    ranges is not."""
    exposure = external_exposure(service)
    ranges = service.get("spec", "loadBalancerSourceRanges")
    if not isinstance(ranges, list) or not ranges:
        annotated = service.annotations.get(LB_SOURCE_RANGES)
        ranges = [r.strip() for r in str(annotated).split(",") if r.strip()] if annotated else []
    if exposure == "type LoadBalancer" and ranges and not any(str(r).strip().endswith("/0") for r in ranges):
        return None
    return exposure


def parse_routes(obj: K8sObject, namespace: str, gateway: GatewayLookup) -> Iterator[Route]:
    """The backends of an Ingress, Gateway API route or VirtualService in the namespace it lives in;
    ``gateway(namespace, reference, api group)`` finds the Gateway objects it is bound to."""
    if obj.kind == "Ingress":
        yield from _ingress_routes(obj, namespace)
    elif obj.kind == "VirtualService":
        yield from _virtual_service_routes(obj, namespace, gateway)
    else:
        yield from _gateway_api_routes(obj, namespace, gateway)


def _ingress_routes(obj: K8sObject, namespace: str) -> Iterator[Route]:
    hosts = tuple(str(r.get("host")) for r in as_list(obj.get("spec", "rules")) if isinstance(r, dict) and r.get("host"))
    for key in ("defaultBackend", "backend"):
        backend = _ingress_backend(obj.get("spec", key))
        if backend is not None:
            yield Route(obj, obj.at("spec", key), obj.at("spec", key), backend[0], namespace, backend[1], None,
                        "Prefix", hosts, (), True)
    for i, rule in enumerate(as_list(obj.get("spec", "rules"))):
        paths = get_path(rule, ("http", "paths")) if isinstance(rule, dict) else None
        for j, item in enumerate(as_list(paths)):
            backend = _ingress_backend(item.get("backend")) if isinstance(item, dict) else None
            if backend is None:
                continue
            where = obj.at("spec", "rules", i, "http", "paths", j)
            host = (str(rule.get("host")),) if rule.get("host") else hosts
            yield Route(obj, where + ("backend",), where + ("path",), backend[0], namespace, backend[1],
                        str(item.get("path") or "/"), str(item.get("pathType") or "ImplementationSpecific"),
                        host, (), True)


def _gateway_api_routes(obj: K8sObject, namespace: str, gateway_of: GatewayLookup) -> Iterator[Route]:
    gateways: list[K8sObject] = []
    external = False
    for parent in as_list(obj.get("spec", "parentRefs")):
        if not isinstance(parent, dict):
            continue
        if parent.get("kind", "Gateway") == "Gateway":
            external = True
            reference = f"{parent.get('namespace') or namespace}/{parent.get('name')}"
            gateway = gateway_of(namespace, reference, "gateway.networking.k8s.io")
            if gateway is not None:
                gateways.append(gateway)
    hosts = tuple(str(h) for h in as_list(obj.get("spec", "hostnames")))
    for i, rule in enumerate(as_list(obj.get("spec", "rules"))):
        if not isinstance(rule, dict):
            continue
        matches = [m for m in as_list(rule.get("matches")) if isinstance(m, dict)] or [None]
        for j, match in enumerate(matches):
            path = match.get("path") if isinstance(match, dict) else None
            value = str(path.get("value", "/")) if isinstance(path, dict) else "/"
            path_type = str(path.get("type", "PathPrefix")) if isinstance(path, dict) else "PathPrefix"
            where = obj.at("spec", "rules", i, "matches", j, "path") if match is not None \
                else obj.at("spec", "rules", i)
            for k, ref in enumerate(as_list(rule.get("backendRefs"))):
                if isinstance(ref, dict) and ref.get("kind", "Service") == "Service" and ref.get("name"):
                    yield Route(obj, obj.at("spec", "rules", i, "backendRefs", k), where, str(ref["name"]),
                                str(ref.get("namespace") or namespace), ref.get("port"),
                                value if obj.kind in ("HTTPRoute", "GRPCRoute") else None,
                                "Prefix" if path_type == "PathPrefix" else path_type, hosts, tuple(gateways),
                                external, as_int(ref.get("weight")))


def _virtual_service_routes(obj: K8sObject, namespace: str, gateway_of: GatewayLookup) -> Iterator[Route]:
    gateway_refs = obj.get("spec", "gateways")
    gateway_refs = [str(g) for g in gateway_refs] if isinstance(gateway_refs, list) else ["mesh"]
    external = any(g != "mesh" for g in gateway_refs)
    gateways = tuple(g for g in (gateway_of(namespace, ref, "networking.istio.io")
                                 for ref in gateway_refs if ref != "mesh") if g is not None)
    hosts = tuple(str(h) for h in as_list(obj.get("spec", "hosts")))
    for section in ("http", "tcp", "tls"):
        for i, entry in enumerate(as_list(obj.get("spec", section))):
            if not isinstance(entry, dict):
                continue
            matches = [m for m in as_list(entry.get("match")) if isinstance(m, dict)] or [None]
            for j, match in enumerate(matches):
                uri = match.get("uri") if isinstance(match, dict) else None
                if isinstance(uri, dict) and uri:
                    kind, value = next(iter(uri.items()))
                    path_type = {"prefix": "Prefix", "exact": "Exact"}.get(str(kind), "ImplementationSpecific")
                    where = obj.at("spec", section, i, "match", j, "uri")
                else:
                    value, path_type = "/", "Prefix"
                    where = obj.at("spec", section, i, "match", j) if match is not None \
                        else obj.at("spec", section, i)
                for k, destination in enumerate(as_list(entry.get("route"))):
                    host = get_path(destination, ("destination", "host")) if isinstance(destination, dict) \
                        else None
                    service = service_of_host(host, namespace)
                    if service is None:
                        continue
                    port = get_path(destination, ("destination", "port", "number"))
                    yield Route(obj, obj.at("spec", section, i, "route", k), where, service[0], service[1], port,
                                str(value) if section == "http" else None, path_type, hosts, gateways, external,
                                as_int(destination.get("weight")),
                                str(get_path(destination, ("destination", "subset")) or "") or None)


def as_int(value: Any) -> int | None:
    """A port or weight as written: a number, or digits in a string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _ingress_backend(backend: Any) -> tuple[str, Any] | None:
    if not isinstance(backend, dict):
        return None
    service = backend.get("service")
    if isinstance(service, dict) and service.get("name"):
        port = service.get("port") if isinstance(service.get("port"), dict) else {}
        return str(service["name"]), port.get("number", port.get("name"))
    if backend.get("serviceName"):
        return str(backend["serviceName"]), backend.get("servicePort")
    return None


def service_of_host(host: Any, namespace: str) -> tuple[str, str] | None:
    """(service, namespace) of a mesh host: ``name``, ``name.ns``, ``name.ns.svc[.cluster.local]``."""
    if not isinstance(host, str) or not host or "*" in host:
        return None
    parts = host.split(".")
    if len(parts) == 1:
        return parts[0], namespace
    if len(parts) == 2 or (len(parts) >= 3 and parts[2] == "svc"):
        return parts[0], parts[1]
    return None
