"""MLS-NET: network exposure of model servers.

Both rules walk the exposure path of G-02 from the manifests alone: a Service (or Ingress, HTTPRoute,
gateway-bound VirtualService) -> the pods its selector picks (the resource graph's selects edges) -> the
container port its ``targetPort`` resolves to (by number or by port name) -> what the server in that
container serves on that port.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

from servegate.findings import Confidence, Severity
from servegate.model.k8s import Inventory, K8sObject
from servegate.model.mounts import mounted_files, parse_properties
from servegate.model.graph import ResourceGraph, service_exposure
from servegate.model.servers import PORTS, WELL_KNOWN_ADMIN_PORTS, container_ports, identify
from servegate.model.workloads import Container, PodSpec
from servegate.rules.base import Hit, RelatedHit, RuleSet, Scope
from servegate.sources.located import Path, get_path

rules = RuleSet("network")

NSA = "NSA/CISA Kubernetes Hardening Guidance v1.2: Network separation and hardening"

SERVER_NAMES = {
    "torchserve": "TorchServe", "triton": "Triton", "tfserving": "TF Serving", "ray": "Ray", "mlflow": "MLflow",
    "jupyter": "Jupyter", "vllm": "vLLM", "sglang": "SGLang", "tgi": "TGI", "tei": "TEI", "ollama": "Ollama",
    "gradio": "Gradio", "streamlit": "Streamlit", "tensorboard": "TensorBoard", "langflow": "Langflow",
    "kserve": "KServe model server", "seldon": "Seldon model server", "dcgm": "DCGM exporter", "": "model server",
}
CRITICAL_ROLES = frozenset({"admin", "control"})
ROLE_RANK = {"metrics": 0, "inference": 1, "control": 2, "admin": 2}

# What a default port carries, where the role alone says too little.
PORT_WHAT: dict[tuple[str, int], str] = {
    ("torchserve", 8080): "TorchServe inference API", ("torchserve", 7070): "TorchServe gRPC inference API",
    ("torchserve", 8081): "TorchServe management API", ("torchserve", 7071): "TorchServe gRPC management API",
    ("torchserve", 8082): "TorchServe metrics API", ("torchserve", 8085): "TorchServe inference+management API",
    ("triton", 8000): "Triton HTTP API", ("triton", 8001): "Triton gRPC API", ("triton", 8002): "Triton metrics",
    ("tfserving", 8500): "TF Serving gRPC API", ("tfserving", 8501): "TF Serving REST API",
    ("ray", 8000): "Ray Serve HTTP proxy", ("ray", 8265): "Ray dashboard and Jobs API",
    ("ray", 10001): "Ray client server", ("ray", 6379): "Ray GCS", ("ray", 52365): "Ray dashboard agent",
    ("ray", 8080): "Ray metrics", ("vllm", 8000): "vLLM OpenAI server (incl. /pause, /scale_elastic_ep)",
    ("sglang", 30000): "SGLang server (incl. /update_weights_from_disk)", ("dcgm", 9400): "DCGM exporter metrics",
    ("seldon", 6000): "Seldon metrics",
}

# Flags that move a server's default ports: server -> [(flags, default port it replaces)].
PORT_FLAGS: dict[str, list[tuple[tuple[str, ...], int | None]]] = {
    "vllm": [(("--port",), 8000)],
    "sglang": [(("--port",), 30000)],
    "tgi": [(("--port",), None)],
    "tei": [(("--port",), None)],
    "triton": [(("--http-port",), 8000), (("--grpc-port",), 8001), (("--metrics-port",), 8002)],
    "tfserving": [(("--port",), 8500), (("--rest_api_port",), 8501)],
    "mlflow": [(("--port", "-p"), 5000)],
    "jupyter": [(("--port", "--ServerApp.port", "--NotebookApp.port"), 8888)],
    "tensorboard": [(("--port",), 6006)],
    "streamlit": [(("--server.port",), 8501)],
    "gradio": [((), 7860)],
    "ray": [(("--dashboard-port",), 8265), (("--ray-client-server-port",), 10001), (("--port",), 6379),
            (("--metrics-export-port",), 8080), (("--dashboard-agent-listen-port",), 52365)],
    "kserve": [(("--http_port",), 8080), (("--grpc_port",), 8081)],
    "langflow": [(("--port",), 7860)],
}
PORT_ENV = {"tgi": "PORT", "tei": "PORT", "gradio": "GRADIO_SERVER_PORT", "langflow": "LANGFLOW_PORT"}
TORCHSERVE_ADDRESSES = {"inference_address": "inference", "management_address": "admin",
                        "metrics_address": "metrics", "grpc_inference_port": "inference",
                        "grpc_management_port": "admin"}
NAME_HINTS = (("metric", "metrics"), ("prom", "metrics"), ("admin", "admin"), ("manage", "admin"),
              ("mgmt", "admin"), ("dashboard", "control"), ("gcs", "control"), ("client", "control"))
# ML control planes that are not model servers, by image fragment or pod label value.
CONTROL_PLANES: dict[str, dict[int, tuple[str, str]]] = {
    "seldon-scheduler": {9004: ("admin", "Seldon scheduler API (loads models and pipelines)"),
                         9044: ("admin", "Seldon scheduler API (mTLS)"), 9005: ("control", "Seldon agent API"),
                         9055: ("control", "Seldon agent API (mTLS)"), 9002: ("control", "Seldon xDS (Envoy config)"),
                         9008: ("control", "Seldon dataflow API")},
    "kuberay/apiserver": {8888: ("admin", "KubeRay API server HTTP (creates Ray clusters and jobs)"),
                          8887: ("admin", "KubeRay API server gRPC (creates Ray clusters and jobs)")},
    "kuberay-apiserver": {8888: ("admin", "KubeRay API server HTTP (creates Ray clusters and jobs)"),
                          8887: ("admin", "KubeRay API server gRPC (creates Ray clusters and jobs)")},
}
TRITON_CONTROL_APIS = ("model-repository", "logging", "shared-memory")


@dataclass(frozen=True)
class Listener:
    """One port a container serves, and what is behind it."""

    port: int
    server: str
    role: str  # "inference", "admin", "control", "metrics"
    what: str
    container: Container

    @property
    def critical(self) -> bool:
        return self.role in CRITICAL_ROLES


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _port_of_address(value: str) -> int | None:
    match = re.search(r":(\d+)\s*$", value.strip().rstrip("/"))
    return int(match.group(1)) if match else _int(value)


def _triton_admin(c: Container, grpc: bool) -> bool:
    """Triton's HTTP/gRPC port also carries repository, logging and shared-memory control unless restricted."""
    found = c.argv.value("--grpc-restricted-protocol" if grpc else "--http-restricted-api")
    apis = found[0].split(":", 1)[0].split(",") if found else []
    return not all(api in apis for api in TRITON_CONTROL_APIS)


def _vllm_admin(c: Container) -> bool:
    env = c.env
    flags = ("VLLM_SERVER_DEV_MODE", "VLLM_ALLOW_RUNTIME_LORA_UPDATING")
    return any(str((env[f].value if f in env else "") or "").lower() in ("1", "true") for f in flags)


def _default_what(server: str, port: int, role: str, c: Container) -> str:
    if server == "triton" and port in (8000, 8001) and role == "admin":
        api = "gRPC" if port == 8001 else "HTTP"
        flag = "--grpc-restricted-protocol" if port == 8001 else "--http-restricted-api"
        return f"Triton {api} API with model-repository/logging/shared-memory control (no {flag} covering them)"
    if server == "vllm" and role == "admin" and _vllm_admin(c):
        return "vLLM server with dev-mode/runtime-LoRA endpoints"
    return PORT_WHAT.get((server, port)) or WELL_KNOWN_ADMIN_PORTS.get(port) or \
        f"{SERVER_NAMES.get(server, server)} {role} port"


def _server_defaults(c: Container, server: str) -> dict[int, str]:
    ports = dict(PORTS.get(server, {}))
    if server == "triton":
        for port, grpc in ((8000, False), (8001, True)):
            if port in ports and _triton_admin(c, grpc):
                ports[port] = "admin"
    elif server == "vllm" and 8000 in ports:
        ports[8000] = "admin"  # /pause, /resume, /scale_elastic_ep are unauthenticated even with --api-key
    elif server == "sglang" and 30000 in ports:
        ports[30000] = "admin"  # weight-update and cache endpoints share the inference port
    return ports


def _ray_params(c: Container) -> dict:
    params = get_path(c.pod.obj.doc, c.pod.group_path + ("rayStartParams",)) if c.pod.group_path else None
    return params if isinstance(params, dict) else {}


RAY_PARAM_KEYS = {"--dashboard-port": "dashboard-port", "--port": "port",
                  "--ray-client-server-port": "ray-client-server-port", "--metrics-export-port": "metrics-export-port",
                  "--dashboard-agent-listen-port": "dashboard-agent-listen-port"}
TORCHSERVE_DEFAULTS = {"inference_address": 8080, "management_address": 8081, "metrics_address": 8082,
                       "grpc_inference_port": 7070, "grpc_management_port": 7071}
OPERATOR_IMAGES = ("controller", "localmodel", "agent", "router", "storage-initializer", "models-web-app",
                   "manager", "webhook", "operator")
PROXY_IMAGES = ("oauth2-proxy", "oauth-proxy", "kube-rbac-proxy", "envoy", "nginx", "istio", "authservice",
                "haproxy", "traefik", "caddy")


def _configured_port(c: Container, server: str, flags: tuple[str, ...]) -> int | None:
    value = c.argv.value(*flags) if flags else None
    if value is None and server == "ray" and flags:
        raw = _ray_params(c).get(RAY_PARAM_KEYS[flags[0]])
        value = (str(raw), None) if raw is not None else None
    if value is None and server in PORT_ENV:
        var = c.env.get(PORT_ENV[server])
        value = (var.value or "", None) if var is not None else None
    return _int(value[0]) if value else None


def serves_models(c: Container, servers: set[str]) -> bool:
    """A container that is itself the model server (not an auth proxy or helper sidecar)."""
    if c.init or any(p in c.image.lower() for p in PROXY_IMAGES):
        return False
    return bool(servers) or c.requests_gpu or bool(c.pod.ml_kind)


def listeners(c: Container) -> dict[int, Listener]:
    """The ports a container serves: configured ports first, then server defaults, then declared ports."""
    servers = set(identify(c))
    image = c.image.lower()
    if ("kserve" in image or "seldon" in image) and any(f in image for f in OPERATOR_IMAGES):
        servers -= {"kserve", "seldon"}  # controllers, agents and web apps, not model servers
    if "dcgm-exporter" in image:
        servers.add("dcgm")
    found: dict[int, Listener] = {}

    def add(port: int | None, server: str, role: str, what: str = "") -> None:
        if port is None or port <= 0:
            return
        old = found.get(port)
        if old is None or ROLE_RANK[role] > ROLE_RANK[old.role]:
            found[port] = Listener(port, server, role, what or _default_what(server, port, role, c), c)

    for server in sorted(servers):
        defaults = _server_defaults(c, server) if server != "dcgm" else {9400: "metrics"}
        moved: dict[int, tuple[str, str]] = {}
        for flags, default in PORT_FLAGS.get(server, []):
            port = _configured_port(c, server, flags)
            if port is None:
                continue
            if default is None:
                replaced = [p for p, r in defaults.items() if r == "inference"]
            else:
                replaced = [default]
            role = next((defaults[p] for p in replaced if p in defaults), "inference")
            what = _default_what(server, default, role, c) + f" (moved to port {port})" if default is not None else ""
            for old in replaced:
                defaults.pop(old, None)
            moved[port] = (role, what)
        if server == "torchserve":
            for mounted in mounted_files(c):
                if not mounted.path.endswith("config.properties"):
                    continue
                props = parse_properties(mounted.text)
                for key, role in TORCHSERVE_ADDRESSES.items():
                    port = _port_of_address(props[key][0]) if key in props else None
                    if port is None:
                        continue
                    defaults.pop(TORCHSERVE_DEFAULTS[key], None)
                    label = {"inference": "inference", "admin": "management", "metrics": "metrics"}[role]
                    old = moved.get(port)
                    if old is None or ROLE_RANK[role] > ROLE_RANK[old[0]]:
                        moved[port] = (role, f"TorchServe {label} API ({key} in {mounted.path})")
        for port, (role, what) in moved.items():
            add(port, server, role, what)
        for port, role in defaults.items():
            if port not in moved:
                add(port, server, role)
    marks = [c.image.lower(), *(str(v).lower() for v in c.pod.labels.values())]
    for fragment, ports in CONTROL_PLANES.items():
        if any(fragment in mark for mark in marks):
            for port, (role, what) in ports.items():
                add(port, "", role, what)
    if not serves_models(c, servers):
        return found
    declared = container_ports(c)
    names = {number: name for name, number in declared.items() if isinstance(name, str)}
    server = next(iter(sorted(servers)), "")
    label = SERVER_NAMES.get(server, server)
    for number in sorted(set(declared.values())):
        if number in found:
            continue
        name = names.get(number, "")
        role = next((r for hint, r in NAME_HINTS if hint in name.lower()), "inference")
        shown = f" `{name}`" if name else ""
        add(number, server, role, f"{label} port{shown}" + (f" ({role})" if role != "inference" else ""))
    return found


def _service_ports(service: K8sObject) -> Iterator[tuple[int, dict]]:
    ports = service.get("spec", "ports")
    for index, port in enumerate(ports if isinstance(ports, list) else ()):
        if isinstance(port, dict):
            yield index, port


def resolve(target: Any, pods: list[PodSpec]) -> list[Listener]:
    """What a Service targetPort (number or container port name) reaches in the selected pods."""
    reached: list[Listener] = []
    number = _int(target)
    for pod in pods:
        for c in pod.main_containers:
            served = listeners(c)
            port = number if number is not None else container_ports(c).get(str(target))
            if port is not None and port in served:
                reached.append(served[port])
    return reached


HINTS: dict[int, tuple[str, ...]] = {
    8081: ("torchserve", "model-server", "management"), 6379: ("ray",), 5000: ("mlflow",),
    8888: ("jupyter", "notebook"), 7071: (), 8265: (), 10001: (), 11434: (),
}


def _guess(service: K8sObject, port: dict, target: Any) -> str | None:
    """A well-known ML control-plane port on a Service whose workload is not in the scan."""
    number = _int(target)
    if number is None or number not in WELL_KNOWN_ADMIN_PORTS or number not in HINTS:
        return None
    if HINTS[number]:
        selector = service.get("spec", "selector")
        words = [service.name, str(port.get("name", "")), *map(str, service.labels.values())]
        if isinstance(selector, dict):
            words += [str(k) for k in selector] + [str(v) for v in selector.values()]
        text = " ".join(words).lower()
        if not any(hint in text for hint in HINTS[number]):
            return None
    return WELL_KNOWN_ADMIN_PORTS[number]


@dataclass(frozen=True)
class Exposed:
    """One Service port and what it reaches."""

    index: int
    port: dict
    reached: tuple[Listener, ...]
    guess: str | None  # the well-known role of the port when the workload is not in the scan


def exposed_ports(service: K8sObject, graph: ResourceGraph) -> tuple[list[PodSpec], list[Exposed]]:
    """The pods a Service selects (the resource graph's selects edges) and what each of its ports reaches."""
    selected = graph.service_pods(service)
    found = []
    for index, port in _service_ports(service):
        target = port.get("targetPort", port.get("port"))
        reached = tuple(resolve(target, selected))
        guess = None if selected or reached else _guess(service, port, target)
        if reached or guess:
            found.append(Exposed(index, port, reached, guess))
    return selected, found


def _port_label(port: dict) -> str:
    name = f" `{port['name']}`" if port.get("name") else ""
    target = port.get("targetPort", port.get("port"))
    node = f", nodePort {port['nodePort']}" if port.get("nodePort") else ""
    return f"port {port.get('port')}{name} -> {target}{node}"


def _describe(listener: Listener) -> str:
    c = listener.container
    where = "" if f"port {listener.port}" in listener.what else f" on port {listener.port}"
    return f"{listener.what}{where} ({c.display})"


def _exposure_field(exposure: str) -> str:
    return "externalIPs" if exposure == "externalIPs" else "type"


@rules.rule(
    id="MLS-NET-001", name="model-server-exposed-externally",
    title="Service exposes model-server admin, inference or cluster-control ports outside the cluster",
    severity=Severity.CRITICAL, scope=Scope.INVENTORY, supersedes=("KUBE-019", "KUBE-027"),
    rationale="""
        Model servers ship without authentication: TorchServe's management API registers models (code),
        Triton's repository and logging APIs load backends and write files, the Ray dashboard runs jobs
        (ShadowRay), Jupyter and MLflow are remote shells, and every inference port burns GPUs and leaks
        prompts. A LoadBalancer, NodePort, externalIPs Service or a hostPort puts these ports on addresses
        outside the cluster, past the ingress layer where authentication and TLS live.""",
    remediation="""
        Keep model-server Services `type: ClusterIP` and publish only the inference paths through an
        authenticated Ingress or Gateway; never publish admin, management, dashboard or client ports. If a
        load balancer is required, make it internal (`service.beta.kubernetes.io/aws-load-balancer-scheme:
        internal`, `networking.gke.io/load-balancer-type: Internal`, ...) and set `loadBalancerSourceRanges`
        to the networks that need it. Remove `hostPort` from model-server containers.""",
    bad="""
        apiVersion: v1
        kind: Service
        metadata: {name: ray-head}
        spec:
          type: LoadBalancer
          selector: {ray.io/node-type: head}
          ports: [{name: dashboard, port: 8265}]""",
    good="""
        apiVersion: v1
        kind: Service
        metadata:
          name: ray-head
          annotations: {service.beta.kubernetes.io/aws-load-balancer-scheme: internal}
        spec:
          type: ClusterIP          # kubectl port-forward, or an authenticated gateway
          selector: {ray.io/node-type: head}
          ports: [{name: dashboard, port: 8265}]""",
    references=(
        "CIS Amazon EKS Benchmark v1.5.0 5.4.5", NSA,
        "Triton Inference Server: Secure Deployment Considerations (deploying behind a secure proxy or gateway)",
        "TorchServe SECURITY.md", "MITRE ATLAS AML.T0049", "MITRE ATLAS AML.T0006", "MITRE ATLAS AML.CS0023",
        "OWASP ML05:2023 Model Theft", "OWASP LLM10:2025 Unbounded Consumption",
    ),
)
def model_server_exposed(inventory: Inventory) -> Iterator[Hit]:
    graph = inventory.graph
    pods = graph.pods
    for service in inventory.of_kind("Service"):
        if service.group:
            continue  # Knative and other CRDs named Service
        exposure = service_exposure(service)
        if exposure is None:
            continue
        selected, ports = exposed_ports(service, graph)
        parts: list[str] = []
        related: list[RelatedHit] = []
        critical, guessed = False, False
        for exposed in ports:
            reached = [r for r in exposed.reached if r.role != "metrics"]
            if reached:
                best = max(reached, key=lambda r: ROLE_RANK[r.role])
                critical |= best.critical
                parts.append(f"{_port_label(exposed.port)} reaches {_describe(best)}")
                related.append(RelatedHit(service, service.at("spec", "ports", exposed.index),
                                          f"{_port_label(exposed.port)}: {best.what}"))
            elif exposed.guess:
                critical, guessed = True, True
                parts.append(f"{_port_label(exposed.port)} is the {exposed.guess} port (workload not in the scan)")
                related.append(RelatedHit(service, service.at("spec", "ports", exposed.index), exposed.guess))
        if not parts:
            continue
        for pod in selected[:3]:
            related.append(RelatedHit(pod.obj, pod.path, f"{pod.display} is selected by {service.ref}"))
        yield Hit(service.at("spec", _exposure_field(exposure)),
                  f"{service.ref} ({exposure}) exposes outside the cluster: " + "; ".join(parts),
                  obj=service, severity=Severity.CRITICAL if critical else Severity.HIGH,
                  confidence=Confidence.MEDIUM if guessed else Confidence.HIGH, related=tuple(related))
    for pod in pods:
        for c in pod.main_containers:
            yield from _host_ports(c, metrics=False)


def _host_ports(c: Container, *, metrics: bool) -> Iterator[Hit]:
    declared = c.get("ports")
    served = None
    for index, port in enumerate(declared if isinstance(declared, list) else ()):
        if not isinstance(port, dict) or _int(port.get("hostPort")) in (None, 0):
            continue
        served = served if served is not None else listeners(c)
        listener = served.get(_int(port.get("containerPort")) or -1)
        if listener is None or (listener.role == "metrics") != metrics:
            continue
        yield Hit(c.at("ports", index, "hostPort"),
                  f"{c.display} publishes {listener.what} (container port {listener.port}) on host port "
                  f"{port['hostPort']} of every node it runs on", obj=c.obj,
                  severity=None if metrics else (Severity.CRITICAL if listener.critical else Severity.HIGH))


def _backend_port(service: K8sObject, port: Any) -> Iterator[tuple[int, dict]]:
    """The Service ports an Ingress/route backend port (number or name) designates."""
    for index, entry in _service_ports(service):
        if (isinstance(port, str) and not port.isdigit() and entry.get("name") == port) or \
                (_int(port) is not None and _int(entry.get("port")) == _int(port)):
            yield index, entry


def _path_reaches(path: str | None, path_type: str | None, endpoint: str) -> bool:
    """Does a route path (None: default backend) let requests for ``endpoint`` through?"""
    if path is None:
        return True
    clean = path.strip()
    if clean in ("", "/*", "/.*", "/(.*)", "/(.*)$"):
        clean = "/"
    if path_type == "Exact":
        return clean.rstrip("/") == endpoint
    prefix = clean.rstrip("/*").rstrip("/")
    return endpoint == prefix or endpoint.startswith(prefix + "/")


def metrics_endpoint(listener: Listener) -> str | None:
    """The metrics path a server answers on its inference port, if it does."""
    c = listener.container
    if listener.role == "metrics":
        return None
    if listener.server in ("vllm", "tgi", "kserve"):
        return "/metrics"
    if listener.server == "sglang" and c.argv.find("--enable-metrics"):
        return "/metrics"
    if listener.server == "tfserving" and c.argv.find("--monitoring_config_file") and listener.port != 8500:
        return "/monitoring/prometheus/metrics"
    return None


@dataclass(frozen=True)
class Route:
    obj: K8sObject
    path: Path  # where the finding points
    url_path: str | None
    path_type: str | None
    service: str
    namespace: str
    port: Any


def _ingress_routes(obj: K8sObject) -> Iterator[Route]:
    ns = obj.effective_namespace

    def backend(b: Any) -> tuple[str, Any] | None:
        if not isinstance(b, dict):
            return None
        if isinstance(b.get("service"), dict):
            port = b["service"].get("port")
            port = port.get("number", port.get("name")) if isinstance(port, dict) else port
            return str(b["service"].get("name", "")), port
        if b.get("serviceName"):
            return str(b["serviceName"]), b.get("servicePort")
        return None

    for key in ("defaultBackend", "backend"):
        found = backend(obj.get("spec", key))
        if found:
            yield Route(obj, obj.at("spec", key), None, None, found[0], ns, found[1])
    rules_ = obj.get("spec", "rules")
    for i, rule in enumerate(rules_ if isinstance(rules_, list) else ()):
        paths = rule.get("http", {}).get("paths") if isinstance(rule, dict) and \
            isinstance(rule.get("http"), dict) else None
        for j, item in enumerate(paths if isinstance(paths, list) else ()):
            found = backend(item.get("backend")) if isinstance(item, dict) else None
            if found:
                where = obj.at("spec", "rules", i, "http", "paths", j, "path")
                path_type = item.get("pathType") or "ImplementationSpecific"
                yield Route(obj, where, str(item.get("path") or "/"), path_type, found[0], ns, found[1])


def _httproute_routes(obj: K8sObject) -> Iterator[Route]:
    rules_ = obj.get("spec", "rules")
    for i, rule in enumerate(rules_ if isinstance(rules_, list) else ()):
        if not isinstance(rule, dict):
            continue
        refs = rule.get("backendRefs")
        refs = [r for r in refs if isinstance(r, dict) and r.get("kind", "Service") == "Service"] \
            if isinstance(refs, list) else []
        matches = rule.get("matches")
        matches = [m for m in matches if isinstance(m, dict)] if isinstance(matches, list) and matches else [None]
        for j, match in enumerate(matches):
            path = match.get("path") if isinstance(match, dict) else None
            value = path.get("value", "/") if isinstance(path, dict) else "/"
            kind = path.get("type", "PathPrefix") if isinstance(path, dict) else "PathPrefix"
            where = obj.at("spec", "rules", i, "matches", j, "path") if match is not None \
                else obj.at("spec", "rules", i)
            for ref in refs:
                yield Route(obj, where, str(value), kind, str(ref.get("name", "")),
                            str(ref.get("namespace") or obj.effective_namespace), ref.get("port"))


def _virtualservice_routes(obj: K8sObject) -> Iterator[Route]:
    gateways = obj.get("spec", "gateways")
    if not isinstance(gateways, list) or not [g for g in gateways if g != "mesh"]:
        return  # mesh-internal routing only
    http = obj.get("spec", "http")
    for i, route in enumerate(http if isinstance(http, list) else ()):
        if not isinstance(route, dict):
            continue
        matches = route.get("match")
        matches = [m for m in matches if isinstance(m, dict)] if isinstance(matches, list) and matches else [None]
        destinations = [d.get("destination") for d in route.get("route") or () if isinstance(d, dict)]
        for j, match in enumerate(matches):
            uri = match.get("uri") if isinstance(match, dict) else None
            if isinstance(uri, dict) and uri:
                kind, value = next(iter(uri.items()))
                path_type = {"prefix": "Prefix", "exact": "Exact"}.get(kind, "ImplementationSpecific")
                where = obj.at("spec", "http", i, "match", j, "uri")
            else:
                path_type, value = "Prefix", "/"
                where = obj.at("spec", "http", i, "match", j) if match is not None else obj.at("spec", "http", i)
            for dest in destinations:
                if not isinstance(dest, dict) or not dest.get("host"):
                    continue
                host = str(dest["host"]).split(".")
                namespace = host[1] if len(host) > 1 else obj.effective_namespace
                port = dest.get("port", {}).get("number") if isinstance(dest.get("port"), dict) else None
                yield Route(obj, where, str(value), path_type, host[0], namespace, port)


ROUTE_KINDS = {"Ingress": _ingress_routes, "HTTPRoute": _httproute_routes, "VirtualService": _virtualservice_routes}


@rules.rule(
    id="MLS-NET-003", name="model-server-metrics-exposed", title="Model-server metrics endpoints exposed publicly",
    severity=Severity.MEDIUM, scope=Scope.INVENTORY, confidence=Confidence.MEDIUM,
    rationale="""
        Prometheus metrics of model servers name the loaded models and versions, and show request rates,
        queue depths, token counts and latencies: reconnaissance for model theft, and timing signals for
        extraction attacks. vLLM, TGI, SGLang and KServe serve `/metrics` on the inference port itself, so
        an Ingress that routes `/` publishes them too.""",
    remediation="""
        Keep metrics ports (Triton 8002, TorchServe 8082, Ray 8080, DCGM 9400) on ClusterIP Services and
        scrape them in-cluster with a ServiceMonitor or PodMonitor; route only the inference paths
        (`/v1/chat/completions`, `/v1/completions`, `/v2/models/<m>/infer`) through the Ingress.""",
    bad="""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        spec:
          rules:
          - http:
              paths:
              - {path: /, pathType: Prefix, backend: {service: {name: vllm, port: {number: 8000}}}}""",
    good="""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        spec:
          rules:
          - http:
              paths:
              - path: /v1/chat/completions
                pathType: Exact
                backend: {service: {name: vllm, port: {number: 8000}}}""",
    references=(
        "Triton Inference Server: Secure Deployment Considerations (--allow-metrics)", NSA,
        "MITRE ATLAS AML.T0007", "MITRE ATLAS AML.T0006", "OWASP ML05:2023 Model Theft",
    ),
)
def metrics_exposed(inventory: Inventory) -> Iterator[Hit]:
    graph = inventory.graph
    pods = graph.pods
    for service in inventory.of_kind("Service"):
        if service.group:
            continue
        exposure = service_exposure(service)
        if exposure is None:
            continue
        _, ports = exposed_ports(service, graph)
        for exposed in ports:
            if exposed.reached and all(r.role == "metrics" for r in exposed.reached):
                listener = exposed.reached[0]
                yield Hit(service.at("spec", "ports", exposed.index),
                          f"{service.ref} ({exposure}) exposes {_describe(listener)} outside the cluster "
                          f"({_port_label(exposed.port)})", obj=service, confidence=Confidence.HIGH)
    for pod in pods:
        for c in pod.main_containers:
            for hit in _host_ports(c, metrics=True):
                yield Hit(hit.path, hit.message, obj=hit.obj, confidence=Confidence.HIGH)
    for kind, routes in ROUTE_KINDS.items():
        for obj in inventory.of_kind(kind):
            for route in routes(obj):
                yield from _route_metrics(route, inventory, graph)


def _route_metrics(route: Route, inventory: Inventory, graph: ResourceGraph) -> Iterator[Hit]:
    service = inventory.find("Service", route.namespace, route.service)
    if service is None:
        return
    selected = graph.service_pods(service)
    for _, entry in _backend_port(service, route.port) if route.port is not None else _service_ports(service):
        target = entry.get("targetPort", entry.get("port"))
        for listener in resolve(target, selected):
            shown = route.url_path if route.url_path is not None else "every path (default backend)"
            endpoint = metrics_endpoint(listener)
            if listener.role == "metrics":
                what = f"{_describe(listener)}"
            elif endpoint and _path_reaches(route.url_path, route.path_type, endpoint):
                what = f"{_describe(listener)}, which also answers {endpoint}"
            else:
                continue
            yield Hit(route.path, f"{route.obj.ref} routes {shown} to Service `{service.name}` port "
                                  f"{entry.get('port')}: {what}", obj=route.obj,
                      related=(RelatedHit(service, service.at("spec", "ports"),
                                          f"{service.ref} forwards to the metrics endpoint"),))
            return
