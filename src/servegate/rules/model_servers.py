"""MLS-SRV-001..008: TorchServe, Triton, TensorFlow Serving and Ray control planes."""

from __future__ import annotations

import posixpath
import re
import weakref
from dataclasses import dataclass
from typing import Iterable, Iterator

from servegate.findings import Confidence, Severity
from servegate.fix.model import AddItem, RemoveKey, ReplaceText, SetKey, SymbolicFix, unsafe
from servegate.model.cmdline import Argv, EnvVar, Word
from servegate.model.images import image_repository, image_tag, is_templated, version_tuple
from servegate.model.k8s import Inventory, K8sObject
from servegate.model.mounts import MountedFile, mounted_files, parse_properties
from servegate.model.network import INTERNAL_LB_ANNOTATIONS, external_exposure, selects
from servegate.model.servers import container_ports, identify
from servegate.model.workloads import Container, PodSpec
from servegate.rules.base import Hit, RelatedHit, RuleSet, Scope
from servegate.sources.located import Path, get_path

rules = RuleSet("model-servers")

NSA = "NSA/CISA Kubernetes Hardening Guidance v1.2"
TRUE = frozenset({"true", "1", "yes", "on"})
FALSE = frozenset({"false", "0", "no", "off"})
LOOPBACK = ("127.", "localhost", "::1", "[::1]")


def _bool(value: object) -> bool | None:
    text = str(value).strip().strip("\"'").lower() if value is not None else ""
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    return None


def _unresolved(text: str) -> bool:
    """A value still holding a variable reference the scan cannot resolve."""
    return "$(" in text or "${" in text or "$$" in text or "{{" in text


# --------------------------------------------------------------------------------------------------
# Where a setting comes from, so one finding can point at a flag, an env entry or a config-file line.


@dataclass(frozen=True)
class Setting:
    key: str
    value: str
    source: str  # "argv", "env", "config", "image default", "image"
    path: Path
    obj: K8sObject | None = None
    scalar_line: int | None = None
    confidence: Confidence | None = None

    def hit(self, message: str, severity: Severity | None = None, confidence: Confidence | None = None,
            related: tuple[RelatedHit, ...] = (), fixes: tuple[SymbolicFix, ...] = ()) -> Hit:
        return Hit(self.path, message, obj=self.obj, severity=severity, confidence=confidence or self.confidence,
                   scalar_line=self.scalar_line, related=related, fixes=fixes)

    def rewrite(self, container: Container, value: str, title: str) -> tuple[SymbolicFix, ...]:
        """A fix giving the setting ``value`` where it is written: the env entry or the config-file line; a
        flag is removed (every flag these fixes touch is a switch whose absence is the safe default)."""
        doc = (self.obj or container.obj).doc
        written = get_path(doc, self.path)
        if not isinstance(written, str):
            return ()
        if self.source == "argv":
            spellings = (f"{self.key}={self.value}", self.key)
            if written.strip() in spellings:
                return (unsafe(title, RemoveKey(self.path)),)
            once = next((s for s in spellings if written.count(s) == 1), None)
            return (unsafe(title, ReplaceText(self.path, once, "")),) if once else ()
        if self.source == "env":
            return (unsafe(title, SetKey(self.path, value)),)
        if self.source == "config" and self.scalar_line is not None:
            lines = written.splitlines()
            line = lines[self.scalar_line].strip() if self.scalar_line < len(lines) else ""
            if not line.startswith(self.key):
                return ()
            return (unsafe(title, ReplaceText(self.path, line, f"{self.key}={value}")),)
        return ()

    @property
    def spelled(self) -> str:
        if self.source == "argv":
            return f"`{self.key}`" if self.value == "true" and "=" not in self.key else f"`{self.key}={self.value}`"
        if self.source == "env":
            return f"env {self.key}={self.value}"
        if self.source == "image default":
            return f"`{self.key}={self.value}` from the image's default config.properties"
        return f"`{self.key}={self.value}`"


def _env_owner(container: Container, var: EnvVar) -> K8sObject | None:
    """The object holding an env var's definition when it is not the container's own object (envFrom)."""
    if var.doc is container.obj.doc and var.file == container.obj.file:
        return None
    for configmap in container.pod.inventory.of_kind("ConfigMap"):
        if configmap.doc is var.doc and var.path[: len(configmap.base)] == configmap.base:
            return configmap
    return None


def _env_setting(container: Container, name: str) -> Setting | None:
    var = container.env.get(name)
    if var is None:
        return None
    if var.value is None:
        return Setting(name, f"<from {var.source}>", "env", var.path, _env_owner(container, var),
                       confidence=Confidence.LOW)
    return Setting(name, var.value, "env", var.path, _env_owner(container, var))


def argv_of(c: Container) -> Argv:
    """``c.argv``, except that ``bash -c -- SCRIPT`` (the KubeRay documentation's pattern) runs SCRIPT.

    The shared builder takes the ``--`` for the script; until it knows better, rebuild without it.
    """
    cached = _ARGV_CACHE.get(c)
    if cached is None:
        cached = _ARGV_CACHE[c] = _rebuild_argv(c)
    return cached


_ARGV_CACHE: weakref.WeakKeyDictionary[Container, Argv] = weakref.WeakKeyDictionary()


def _rebuild_argv(c: Container) -> Argv:
    items: list[tuple[str, Path]] = []
    for key in ("command", "args"):
        values = c.get(key)
        if isinstance(values, list):
            items.extend((str(v), c.at(key, i)) for i, v in enumerate(values) if v is not None)
    for index in range(len(items) - 2):
        text = items[index][0]
        if text.rsplit("/", 1)[-1] in ("sh", "bash", "ash", "dash", "zsh", "ksh") and \
                items[index + 1][0].startswith("-") and "c" in items[index + 1][0].lstrip("-") and \
                items[index + 2][0] == "--":
            return Argv.build(items[: index + 2] + items[index + 3:], c.env)
    return c.argv


def _argv_values(argv: Argv, *flags: str) -> list[tuple[str, Word]]:
    """Every value of a repeatable flag (``--flag=v`` or ``--flag v``), in order."""
    words = argv.words
    found: list[tuple[str, Word]] = []
    for index, word in enumerate(words):
        head, sep, tail = word.text.partition("=")
        if head not in flags:
            continue
        if sep:
            found.append((tail, word))
        elif index + 1 < len(words) and not words[index + 1].text.startswith("-"):
            found.append((words[index + 1].text, words[index + 1]))
        else:
            found.append(("", word))
    return found


def _argv_setting(argv: Argv, *flags: str) -> Setting | None:
    """The last value of a flag; a bare boolean flag reads as ``true``."""
    values = _argv_values(argv, *flags)
    if not values:
        return None
    value, word = values[-1]
    flag = word.text.split("=", 1)[0] if word.text.startswith("-") else flags[0]
    return Setting(flag, value or "true", "argv", word.path)


def _bool_flag(argv: Argv, flag: str) -> tuple[bool | None, Word | None]:
    """A boolean flag such as ``--allow-grpc=false`` / ``--allow-grpc false`` / bare ``--allow-grpc``."""
    found: tuple[bool | None, Word | None] = (None, None)
    words = argv.words
    for index, word in enumerate(words):
        head, sep, tail = word.text.partition("=")
        if head != flag:
            continue
        if sep:
            found = (_bool(tail), word)
        elif index + 1 < len(words) and _bool(words[index + 1].text) is not None:
            found = (_bool(words[index + 1].text), words[index + 1])
        else:
            found = (True, word)
    return found


# --------------------------------------------------------------------------------------------------
# Reachability: Services selecting a pod, and Ingress-like routes to those Services (a simple G-02).


@dataclass(frozen=True)
class Route:
    service: K8sObject
    port_index: int
    container_port: int
    external: str | None  # how it is reachable from outside the cluster, or None
    via: K8sObject | None = None  # the Ingress / HTTPRoute / VirtualService that publishes it
    via_path: Path | None = None
    authenticated: bool = False  # an auth annotation on the route (nginx auth-url)

    @property
    def path(self) -> Path:
        return self.service.at("spec", "ports", self.port_index)

    @property
    def describe(self) -> str:
        if self.via is not None:
            return f"{self.via.ref} (through {self.service.ref}, container port {self.container_port})"
        return f"{self.service.ref} port {self.container_port} ({self.external or 'cluster-internal'})"

    def related(self, message: str | None = None) -> RelatedHit:
        if self.via is not None and self.via_path is not None:
            return RelatedHit(self.via, self.via_path, message or f"{self.via.ref} routes to {self.service.ref}")
        return RelatedHit(self.service, self.path, message or f"{self.service.ref} targets port {self.container_port}")


INGRESS_AUTH_ANNOTATIONS = ("nginx.ingress.kubernetes.io/auth-url", "nginx.ingress.kubernetes.io/auth-type",
                            "nginx.ingress.kubernetes.io/auth-tls-verify-client")


def _service_is_external(service: K8sObject) -> str | None:
    exposure = external_exposure(service)
    ranges = service.get("spec", "loadBalancerSourceRanges")
    if exposure == "type LoadBalancer" and isinstance(ranges, list) and ranges and \
            not any(str(r).endswith("/0") for r in ranges):
        return None
    return exposure


def _named_backends(obj: K8sObject) -> Iterator[tuple[str, object, Path]]:
    """(service name, port number or name or None, path) for every backend of an Ingress-like object."""
    if obj.kind == "Ingress":
        default = obj.get("spec", "defaultBackend") or obj.get("spec", "backend")
        if isinstance(default, dict):
            yield from _ingress_backend(default, obj.at("spec", "defaultBackend" if obj.get("spec", "defaultBackend")
                                                        else "backend"))
        for i, rule in enumerate(obj.get("spec", "rules") or []):
            paths = get_path(rule, ("http", "paths")) if isinstance(rule, dict) else None
            for j, item in enumerate(paths if isinstance(paths, list) else ()):
                if isinstance(item, dict) and isinstance(item.get("backend"), dict):
                    where = obj.at("spec", "rules", i, "http", "paths", j, "backend")
                    yield from _ingress_backend(item["backend"], where)
    elif obj.kind in ("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute"):
        for i, rule in enumerate(obj.get("spec", "rules") or []):
            refs = rule.get("backendRefs") if isinstance(rule, dict) else None
            for j, ref in enumerate(refs if isinstance(refs, list) else ()):
                if isinstance(ref, dict) and ref.get("kind", "Service") == "Service" and ref.get("name"):
                    yield str(ref["name"]), ref.get("port"), obj.at("spec", "rules", i, "backendRefs", j)
    elif obj.kind == "VirtualService":
        gateways = obj.get("spec", "gateways")
        if not isinstance(gateways, list) or not [g for g in gateways if g != "mesh"]:
            return  # mesh-internal routing does not publish anything
        for section in ("http", "tcp", "tls"):
            for i, route in enumerate(obj.get("spec", section) or []):
                dests = route.get("route") if isinstance(route, dict) else None
                for j, dest in enumerate(dests if isinstance(dests, list) else ()):
                    host = get_path(dest, ("destination", "host")) if isinstance(dest, dict) else None
                    if isinstance(host, str) and host:
                        port = get_path(dest, ("destination", "port", "number"))
                        yield host.split(".", 1)[0], port, obj.at("spec", section, i, "route", j, "destination")


def _ingress_backend(backend: dict, path: Path) -> Iterator[tuple[str, object, Path]]:
    service = backend.get("service")
    if isinstance(service, dict) and service.get("name"):
        port = service.get("port") if isinstance(service.get("port"), dict) else {}
        yield str(service["name"]), port.get("number", port.get("name")), path
    elif backend.get("serviceName"):
        yield str(backend["serviceName"]), backend.get("servicePort"), path


ROUTE_KINDS = ("Ingress", "HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "VirtualService")
# (position among all routes' backends, route, Service name, port number or name or None, path)
Backend = tuple[int, K8sObject, str, object, Path]


def _backends_of(inventory: Inventory, namespace: str, service_names: Iterable[str]) -> list[Backend]:
    """The backends of Ingress-like objects in the namespace naming one of these Services, in inventory order;
    indexed once per scan, instead of reading every route of the namespace for every Service."""
    def index() -> dict[tuple[str, str], list[Backend]]:
        by_service: dict[tuple[str, str], list[Backend]] = {}
        backends = ((obj, *backend) for obj in inventory.of_kind(*ROUTE_KINDS) for backend in _named_backends(obj))
        for position, (obj, name, port, path) in enumerate(backends):
            by_service.setdefault((obj.effective_namespace, name), []).append((position, obj, name, port, path))
        return by_service

    by_service = inventory.memo(("model_servers.backends",), index)
    return sorted(backend for name in set(service_names) for backend in by_service.get((namespace, name), ()))


def _publishers(inventory: Inventory, namespace: str, service_name: str,
                port: dict | None) -> Iterator[tuple[K8sObject, Path, bool]]:
    """Ingress-like objects in the namespace that route to the named Service (and port, when given)."""
    for _, obj, _, backend_port, path in _backends_of(inventory, namespace, (service_name,)):
        if port is not None and backend_port not in (None, port.get("port"), port.get("name")):
            continue
        authenticated = any(key in obj.annotations for key in INGRESS_AUTH_ANNOTATIONS)
        yield obj, path, authenticated


def _pod_labels(pod: PodSpec) -> dict:
    """The template's labels, plus those KubeRay adds to the pods it creates."""
    labels = dict(pod.labels)
    if pod.obj.kind in ("RayCluster", "RayService", "RayJob") and pod.role != "submitter":
        labels.setdefault("ray.io/node-type", "head" if pod.role == "head" else "worker")
        labels.setdefault("ray.io/is-ray-node", "yes")
        if pod.obj.kind == "RayCluster":
            labels.setdefault("ray.io/cluster", pod.obj.name)
    return labels


def _services_by_selector(inventory: Inventory) -> dict[tuple, list[K8sObject]]:
    """Services with a selector, under (namespace, key, value) of one of its labels: a pod can only be selected
    by those filed under one of its own labels, so no pod is paired with every Service of its namespace."""
    found: dict[tuple, list[K8sObject]] = {}
    for service in inventory.of_kind("Service"):
        selector = service.get("spec", "selector")
        if isinstance(selector, dict) and selector:
            pair = next(iter(selector.items()))
            found.setdefault((service.effective_namespace, *(pair if _hashable(pair) else UNINDEXED)),
                             []).append(service)
    return found


UNINDEXED = ("", object())  # a selector whose first label is not a plain value: every pod is a candidate


def _hashable(pair: tuple) -> bool:
    return all(isinstance(part, (str, int, float, bool)) or part is None for part in pair)


def routes_to(container: Container, ports: Iterable[int] | None = None) -> list[Route]:
    """Services (and what publishes them) that send traffic to the container, optionally on given ports."""
    pod = container.pod
    wanted = set(ports) if ports is not None else None
    labels = _pod_labels(pod)
    named = container_ports(container)
    found: list[Route] = []
    services = pod.inventory.memo(("services by selector",), lambda: _services_by_selector(pod.inventory))
    namespace = pod.obj.effective_namespace
    for service in pod.inventory.in_order(s for pair in [*filter(_hashable, labels.items()), UNINDEXED]
                                          for s in services.get((namespace, *pair), ())):
        selector = service.get("spec", "selector")
        if not selects({"matchLabels": selector}, labels):
            continue
        external = _service_is_external(service)
        for index, port in enumerate(service.get("spec", "ports") or []):
            if not isinstance(port, dict):
                continue
            target = port.get("targetPort", port.get("port"))
            number = named.get(target) if isinstance(target, str) else target
            if not isinstance(number, int) or (wanted is not None and number not in wanted):
                continue
            found.append(Route(service, index, number, external))
            for via, via_path, authenticated in _publishers(pod.inventory, service.effective_namespace,
                                                            service.name, port):
                found.append(Route(service, index, number, external or f"published by {via.kind}", via, via_path,
                                   authenticated))
    return found


def _kserve_component_external(pod: PodSpec) -> bool:
    """KServe publishes an InferenceService through its ingress gateway unless it is cluster-local."""
    if pod.obj.kind not in ("InferenceService", "LLMInferenceService"):
        return False
    labels = pod.obj.labels
    return str(labels.get("networking.kserve.io/visibility", "")) != "cluster-local" and \
        str(labels.get("serving.knative.dev/visibility", "")) != "cluster-local"


# --------------------------------------------------------------------------------------------------
# TorchServe: the effective configuration from argv, environment and config.properties.

TS_IMAGE_NAMES = ("torchserve", "torchserve-nightly", "torchserve-kfs", "torchserve-kfs-nightly", "torchserve-tpu")
TS_OFFICIAL_DEFAULT = {  # docker/config.properties baked into the pytorch/torchserve images
    "inference_address": "http://0.0.0.0:8080",
    "management_address": "http://0.0.0.0:8081",
    "metrics_address": "http://0.0.0.0:8082",
}
TS_DEFAULT_CONFIG = "/home/model-server/config.properties"
_INLINE_COMMENT = re.compile(r"\s+#.*$")
TOKEN_AUTH_SINCE = (0, 11, 0)
MODEL_API_CONTROL_SINCE = (0, 11, 0)
SHELLTORCH_FIXED = (0, 8, 2)
GRPC_LOCALHOST_SINCE = (0, 11, 0)
TS_MANAGEMENT_PORTS = (8081, 7071)


@dataclass
class TorchServe:
    container: Container
    config_path: str | None  # the file TorchServe reads, when known
    config_word: Setting | None  # where the config path was set
    file: MountedFile | None  # the mounted ConfigMap file, when it is in the scan
    properties: dict[str, tuple[str, int]] | None  # None: the config file cannot be read statically
    image_default: bool = False  # properties are the official image's default config.properties
    version: tuple[int, ...] | None = None

    @property
    def envvars(self) -> bool | None:
        """Whether ``TS_*`` environment variables are honoured (``enable_envvars_config=true``)."""
        if self.properties is None:
            return None
        value = self.properties.get("enable_envvars_config")
        return bool(value and _bool(_INLINE_COMMENT.sub("", value[0])))

    def prop(self, *keys: str) -> Setting | None:
        if self.properties is None:
            return None
        for key in keys:
            if key in self.properties:
                value, line = self.properties[key]
                value = _INLINE_COMMENT.sub("", value)  # not Java syntax, but written often enough
                if self.image_default:
                    return Setting(key, value, "image default", self.container.at("image"),
                                   confidence=Confidence.MEDIUM)
                assert self.file is not None
                return Setting(key, value, "config", self.file.data_path, self.file.configmap, line)
        return None

    def env(self, key: str) -> Setting | None:
        """A ``TS_*`` variable if TorchServe would honour it; LOW confidence when that cannot be told."""
        setting = _env_setting(self.container, key)
        if setting is None:
            return None
        honoured = self.envvars
        if honoured is False:
            return None
        if honoured is None:
            return Setting(setting.key, setting.value, "env", setting.path, setting.obj, confidence=Confidence.LOW)
        return setting

    def lookup(self, keys: tuple[str, ...], env: str | None = None, flags: tuple[str, ...] = ()) -> Setting | None:
        """Environment over command line over config file, as TorchServe resolves them.

        A variable TorchServe may or may not honour (config file unknown) only decides when nothing else does.
        """
        env_setting = self.env(env) if env else None
        if env_setting is not None and env_setting.confidence is None:
            return env_setting
        if flags:
            word = argv_of(self.container).find(*flags)
            if word is not None:
                head, sep, tail = word.text.partition("=")
                return Setting(head, tail if sep else "true", "argv", word.path)
        return self.prop(*keys) or env_setting

    @property
    def unknown_config(self) -> str:
        if self.config_path:
            return f"its config file {self.config_path} is not in the scan"
        return "its config file is not in the scan"


def _is_torchserve(c: Container) -> bool:
    if c.init:
        return False
    if c.default_name == "kserve-container" and not c.image:
        key = c.path[-1]
        runtime = str(c.pod.get("model", "runtime") or c.pod.get(key, "runtime") or "")
        fmt = str(c.pod.get("model", "modelFormat", "name") or "") if key == "model" else ""
        if runtime and "torchserve" not in runtime:
            return False
        return key == "pytorch" or fmt == "pytorch"
    if "torchserve" not in identify(c):
        return False
    command = c.get("command")
    if command and not argv_of(c).has_program("torchserve"):
        # An image with TorchServe running something else (model archiver, a shell) does not serve.
        return "entrypoint" in " ".join(str(x) for x in command) if isinstance(command, list) else False
    return True


def _ts_version(c: Container) -> tuple[int, ...] | None:
    if not c.image or is_templated(c.image):
        return None
    name = image_repository(c.image).rsplit("/", 1)[-1]
    if name not in TS_IMAGE_NAMES:
        return None
    return version_tuple(image_tag(c.image))


def _ts_official(c: Container) -> bool:
    """A plain pytorch/torchserve image, whose default config binds every listener to 0.0.0.0."""
    if not c.image or is_templated(c.image):
        return False
    repo = image_repository(c.image)
    return repo.rsplit("/", 1)[-1] in ("torchserve", "torchserve-nightly") and "pytorch/" in repo + "/"


def _covered_by_other_volume(c: Container, path: str) -> bool:
    """Some non-ConfigMap volume mount covers ``path`` (a PVC, emptyDir, ...): its content is unknown."""
    for _, mount in c.mounts():
        mount_path = str(mount.get("mountPath") or "").rstrip("/")
        if mount_path and (path == mount_path or path.startswith(mount_path + "/")):
            return True
    return False


def torchserve(c: Container) -> TorchServe | None:
    if not _is_torchserve(c):
        return None
    argv = argv_of(c)
    env_path = _env_setting(c, "TS_CONFIG_FILE")
    config_setting = env_path if env_path is not None and env_path.confidence is None else \
        _argv_setting(argv, "--ts-config", "--ts-config-file")
    working_dir = str(c.get("workingDir") or "/home/model-server")
    if config_setting is not None:
        config_path = config_setting.value
        if not config_path.startswith("/"):
            config_path = posixpath.join(working_dir, config_path)
    elif c.default_name == "kserve-container":
        config_path = "/mnt/models/config/config.properties"
    else:
        config_path = posixpath.join(working_dir, "config.properties")
    config_path = posixpath.normpath(config_path) if not _unresolved(config_path) else config_path
    ts = TorchServe(c, config_path, config_setting, None, None, version=_ts_version(c))
    for mounted in mounted_files(c):
        if posixpath.normpath(mounted.path) == config_path:
            ts.file = mounted
            ts.properties = parse_properties(mounted.text)
            return ts
    if _unresolved(config_path):
        return ts
    if config_path == TS_DEFAULT_CONFIG and _ts_official(c) and not _covered_by_other_volume(c, config_path):
        ts.properties = {k: (v, 0) for k, v in TS_OFFICIAL_DEFAULT.items()}
        ts.image_default = True
    return ts


def _address(value: str) -> tuple[str, int | None] | None:
    """(host, port) of a TorchServe listener address such as ``http://0.0.0.0:8081``; None for unix sockets."""
    text = value.strip()
    if text.startswith("unix:"):
        return None
    text = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", text).split("/", 1)[0]
    port: int | None = None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
        return host, port
    if text.count(":") == 1:
        host, _, tail = text.partition(":")
        port = int(tail) if tail.isdigit() else None
        return host, port
    return text, None


def _is_wildcard_host(host: str) -> bool:
    return host in ("", "0.0.0.0", "::", "*")


def _is_loopback(host: str) -> bool:
    return host.startswith(LOOPBACK) or host in ("::1",)


def _token_auth_disabled(ts: TorchServe) -> Setting | None:
    """The setting that disables token authorization, if any (pre-0.11 images have none to enable)."""
    setting = ts.lookup(("disable_token_authorization",), "TS_DISABLE_TOKEN_AUTHORIZATION", ("--disable-token-auth",))
    if setting is not None:
        if _bool(setting.value) or setting.value.startswith("<"):
            return setting
        if setting.confidence is None:
            return None  # explicitly kept on
    if ts.version is not None and ts.version < TOKEN_AUTH_SINCE:
        return Setting("image", ts.container.image, "image", ts.container.at("image"), confidence=Confidence.MEDIUM)
    return None


def _model_api_enabled(ts: TorchServe, include_version: bool = False) -> Setting | None:
    setting = ts.lookup(("enable_model_api", "model_api_enabled"), "TS_ENABLE_MODEL_API",
                        ("--enable-model-api", "--model-api-enabled"))
    if setting is not None:
        if _bool(setting.value):
            return setting
        if setting.confidence is None:
            return None
    if include_version and ts.version is not None and ts.version < MODEL_API_CONTROL_SINCE:
        return Setting("image", ts.container.image, "image", ts.container.at("image"), confidence=Confidence.MEDIUM)
    return None


def _management_exposed(ts: TorchServe) -> Setting | None:
    """management_address bound to a non-loopback interface, when the config says so."""
    setting = ts.lookup(("management_address",), "TS_MANAGEMENT_ADDRESS")
    if setting is None or setting.confidence is Confidence.LOW:
        return None
    parsed = _address(setting.value)
    if parsed is None or _is_loopback(parsed[0]):
        return None
    return setting


def _management_loopback(ts: TorchServe) -> bool:
    """The management API is known to listen on loopback only (explicitly, or by the built-in default)."""
    setting = ts.lookup(("management_address",), "TS_MANAGEMENT_ADDRESS")
    if setting is None:
        return ts.properties is not None
    parsed = _address(setting.value)
    return parsed is not None and _is_loopback(parsed[0])


def _describe_disable(setting: Setting, ts: TorchServe) -> str:
    if setting.source == "image":
        return (f"runs TorchServe {'.'.join(map(str, ts.version or ()))} (image `{ts.container.image}`), "
                "which predates token authorization (0.11.0)")
    text = f"disables token authorization with {setting.spelled}"
    if setting.source == "env" and setting.confidence is Confidence.LOW:
        text += f" (honoured only with enable_envvars_config=true; {ts.unknown_config})"
    return text


@rules.rule(
    id="MLS-SRV-001", name="torchserve-token-auth-disabled", title="TorchServe token authorization disabled",
    severity=Severity.HIGH, scope=Scope.CONTAINER,
    rationale="""
        Since 0.11.0 TorchServe requires a bearer token for its inference and management APIs. With token
        authorization disabled (or on an older release, which has none), anyone who reaches the ports can call
        every API; when the management API is reachable or model registration is on, that is code execution in
        the serving pod, because a registered model archive runs its Python handler.""",
    remediation="""
        Remove `--disable-token-auth`, `TS_DISABLE_TOKEN_AUTHORIZATION=true` and
        `disable_token_authorization=true`, and run TorchServe 0.11.0 or later. Hand the inference key to clients
        from a Secret; keep the management key inside the pod.""",
    bad="""
        containers:
        - name: torchserve
          image: pytorch/torchserve:0.12.0-gpu
          args: ["torchserve", "--start", "--ts-config", "/cfg/config.properties", "--disable-token-auth"]""",
    good="""
        containers:
        - name: torchserve
          image: pytorch/torchserve:0.12.0-gpu@sha256:<digest>
          args: ["torchserve", "--start", "--ts-config", "/cfg/config.properties"]   # token auth stays on""",
    references=(
        "TorchServe docs: TorchServe token authorization API", "TorchServe README: Security Changes",
        "OWASP ML06:2023 AI Supply Chain Attacks", "OWASP ML10:2023 Model Poisoning", "OWASP LLM03:2025 Supply Chain",
        "MITRE ATLAS AML.T0049", "MITRE ATLAS AML.T0040", "MITRE ATLAS AML.T0018.000",
    ),
)
def torchserve_token_auth_disabled(c: Container) -> Iterator[Hit]:
    ts = torchserve(c)
    if ts is None:
        return
    setting = _token_auth_disabled(ts)
    if setting is None:
        return
    message = f"{c.display} {_describe_disable(setting, ts)}"
    severity = None
    model_api = _model_api_enabled(ts, include_version=True)
    management = _management_exposed(ts)
    reasons = []
    if model_api is not None and model_api.confidence is not Confidence.LOW:
        reasons.append("model registration is enabled" if model_api.source != "image"
                       else "that release always allows model registration")
    if management is not None:
        reasons.append(f"the management API listens on {management.value}")
    elif not _management_loopback(ts):
        routes = routes_to(c, TS_MANAGEMENT_PORTS)
        if routes:
            reasons.append(f"{routes[0].describe} reaches the management API")
    if reasons:
        severity = Severity.CRITICAL
        message += "; " + " and ".join(reasons) + ", so anyone reaching it can register a model and run code"
    else:
        message += "; every API, including the management API, accepts unauthenticated calls"
    yield setting.hit(message, severity=severity,
                      fixes=setting.rewrite(c, "false", f"turn token authorization back on ({_undo(setting)})"))


def _undo(setting: Setting) -> str:
    """How a fix undoes a switch, for its title."""
    if setting.source == "argv":
        return f"remove {setting.key}"
    if setting.source == "env":
        return f"set {setting.key}=false"
    return f"set {setting.key}=false in the config file"


@rules.rule(
    id="MLS-SRV-002", name="torchserve-model-api-enabled",
    title="TorchServe model registration (model API) enabled at runtime",
    severity=Severity.HIGH, scope=Scope.CONTAINER,
    rationale="""
        With the model API enabled, `POST /models?url=...` makes TorchServe download and load a model archive,
        and TorchServe executes the Python handler packaged inside it. Registration is therefore code
        execution in the serving pod for whoever can call the management API.""",
    remediation="""
        Leave the model API disabled (the default since 0.11.0): drop `--enable-model-api` /
        `--model-api-enabled`, `TS_ENABLE_MODEL_API` and `enable_model_api` / `model_api_enabled`. Bake models
        in with `--models` or `model_snapshot` and roll out new versions through the deployment pipeline.""",
    bad="""
        # ConfigMap torchserve-config / config.properties
        inference_address=http://0.0.0.0:8080
        management_address=http://0.0.0.0:8081
        enable_model_api=true""",
    good="""
        inference_address=http://0.0.0.0:8080
        management_address=http://127.0.0.1:8081
        # model API left disabled (default); models baked in via --models / model_snapshot""",
    references=(
        "TorchServe docs: Model API Control", "TorchServe SECURITY.md",
        "OWASP ML06:2023 AI Supply Chain Attacks", "OWASP ML10:2023 Model Poisoning", "OWASP LLM03:2025 Supply Chain",
        "OWASP LLM04:2025 Data and Model Poisoning", "MITRE ATLAS AML.T0011.000", "MITRE ATLAS AML.T0018.000",
        "MITRE ATLAS AML.T0049",
    ),
)
def torchserve_model_api_enabled(c: Container) -> Iterator[Hit]:
    ts = torchserve(c)
    if ts is None:
        return
    setting = _model_api_enabled(ts)
    if setting is None:
        return
    message = f"{c.display} enables TorchServe model registration with {setting.spelled}"
    if setting.source == "env" and setting.confidence is Confidence.LOW:
        message += f" (honoured only with enable_envvars_config=true; {ts.unknown_config})"
    message += ": a registered .mar runs its Python handler in the pod"
    escalations = []
    disabled = _token_auth_disabled(ts)
    if disabled is not None and disabled.confidence is not Confidence.LOW:
        escalations.append("token authorization is disabled" if disabled.source != "image"
                           else "the release predates token authorization")
    urls = _allowed_urls_problem(ts)
    if urls is not None and urls[0].confidence is not Confidence.LOW:
        escalations.append("allowed_urls lets it fetch archives from anywhere")
    severity = None
    if escalations:
        severity = Severity.CRITICAL
        message += "; " + " and ".join(escalations)
    yield setting.hit(message, severity=severity,
                      fixes=setting.rewrite(c, "false", f"disable model registration ({_undo(setting)})"))


_ANY_HOST = (".*", ".+", "[^/]*", "[^/]+", "(.*)", "(.+)", ".*?", ".+?", "*")


def _alternatives(pattern: str) -> list[str]:
    """Split a regex on its top-level ``|``."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(pattern):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth = max(0, depth - 1)
        elif char == "|" and depth == 0:
            parts.append(pattern[start:index])
            start = index + 1
    parts.append(pattern[start:])
    return parts


def _loose_url_pattern(alternative: str) -> bool:
    body = alternative.strip().lstrip("^").rstrip("$")
    if body in _ANY_HOST:
        return True
    for separator in ("://", r":\/\/", ":/{2}"):
        if separator in body:
            scheme, host = body.split(separator, 1)
            break
    else:
        scheme, host = "", body
    if "file" in scheme.lower():
        return True  # any local file, including whatever an attacker managed to write
    for any_host in _ANY_HOST:
        if host.startswith(any_host):
            rest = host[len(any_host):]
            return rest == "" or rest.startswith(("/", "\\/"))
    return False


def _wildcard_url_patterns(value: str) -> list[str]:
    """The comma-separated allowed_urls entries that accept any host (or any local file)."""
    return [entry.strip() for entry in value.split(",")
            if entry.strip() and any(_loose_url_pattern(alt) for alt in _alternatives(entry.strip()))]


def _allowed_urls_problem(ts: TorchServe) -> tuple[Setting, str] | None:
    """(where, what) when allowed_urls would let a registration fetch from anywhere."""
    setting = ts.lookup(("allowed_urls",), "TS_ALLOWED_URLS")
    if setting is not None:
        if setting.value.startswith("<"):
            return None  # from a Secret: cannot be read, and setting it at all is the intended fix
        loose = _wildcard_url_patterns(setting.value)
        if loose:
            detail = "" if loose == [setting.value.strip()] else f" ({', '.join(loose)})"
            return setting, f"{setting.spelled} accepts any source{detail}"
        return None
    if ts.properties is not None and ts.file is not None:
        return Setting("allowed_urls", "", "config", ts.file.data_path, ts.file.configmap), \
            f"{ts.config_path} sets no allowed_urls, so the default `file://.*|http(s)?://.*` accepts any URL"
    if ts.image_default:
        return Setting("allowed_urls", "", "image default", ts.container.at("image")), \
            "the image's default config.properties sets no allowed_urls, so the default accepts any URL"
    where = ts.config_word.path if ts.config_word is not None else ts.container.at("args")
    return Setting("allowed_urls", "", "unknown", where, confidence=Confidence.LOW), \
        f"allowed_urls cannot be checked ({ts.unknown_config}); unless it is set, the default accepts any URL"


@rules.rule(
    id="MLS-SRV-003", name="torchserve-allowed-urls-unrestricted",
    title="TorchServe `allowed_urls` unrestricted (ShellTorch)",
    severity=Severity.CRITICAL, scope=Scope.CONTAINER,
    rationale="""
        When models can be registered at runtime, `allowed_urls` is the only limit on where TorchServe fetches
        archives from. The default (`file://.*|http(s)?://.*`) accepts any URL: an attacker makes the server
        download and execute a model from a host they control (CVE-2023-43654, chained in "ShellTorch" with
        the SnakeYAML deserialization CVE-2022-1471). Releases before 0.8.2 are vulnerable whatever the
        configuration.""",
    remediation="""
        Upgrade to TorchServe 0.11.0 or later and keep the model API disabled; if registration is needed, set
        `allowed_urls` to the exact bucket prefixes models come from, e.g.
        `allowed_urls=https://s3.us-east-1.amazonaws.com/ml-models-prod/torchserve/.*`.""",
    bad="""
        # config.properties
        enable_model_api=true
        # no allowed_urls line""",
    good="""
        enable_model_api=true
        allowed_urls=https://s3.us-east-1.amazonaws.com/ml-models-prod/torchserve/.*""",
    references=(
        "CVE-2023-43654 / GHSA-8fxr-qfr9-p34w", "CVE-2022-1471", "pytorch/serve issue #2531",
        "TorchServe docs: Advanced configuration (allowed_urls)", "OWASP ML06:2023 AI Supply Chain Attacks",
        "OWASP LLM03:2025 Supply Chain", "MITRE ATLAS AML.T0049", "MITRE ATLAS AML.T0010.003",
    ),
)
def torchserve_allowed_urls(c: Container) -> Iterator[Hit]:
    ts = torchserve(c)
    if ts is None:
        return
    if ts.version is not None and ts.version < SHELLTORCH_FIXED:
        yield Hit(c.at("image"), f"{c.display} runs TorchServe {'.'.join(map(str, ts.version))} "
                                 f"(image `{c.image}`), vulnerable to ShellTorch (CVE-2023-43654, fixed in 0.8.2) "
                                 "whatever allowed_urls says")
        return
    enabled = _model_api_enabled(ts)
    if enabled is None:
        return
    problem = _allowed_urls_problem(ts)
    if problem is None:
        return
    setting, what = problem
    confidence = Confidence.LOW if Confidence.LOW in (setting.confidence, enabled.confidence) else None
    message = f"{c.display} enables model registration ({enabled.spelled}) and {what}: anyone who can register " \
              "a model can make TorchServe fetch and run an archive from any host"
    if setting.key == "allowed_urls" and not setting.value and \
            (setting.source != "config" or enabled.source == "config" and enabled.obj is setting.obj):
        # Absent: point at what turns registration on, unless a config file in the scan is where the fix goes.
        setting = Setting(enabled.key, enabled.value, enabled.source, enabled.path, enabled.obj, enabled.scalar_line,
                          setting.confidence)
    related = ()
    if setting.path != enabled.path:
        related = (RelatedHit(enabled.obj or c.obj, enabled.path, "model registration is enabled here"),)
    yield setting.hit(message, confidence=confidence, related=related)


@rules.rule(
    id="MLS-SRV-004", name="torchserve-management-exposed",
    title="TorchServe management/gRPC listeners bound to all interfaces or sharing the inference port",
    severity=Severity.HIGH, scope=Scope.CONTAINER,
    rationale="""
        TorchServe's management API (8081, gRPC 7071) registers, scales and deletes models and is meant for
        localhost. Bound to 0.0.0.0 it is reachable from every pod in the cluster, and when it shares the
        inference port it is exposed wherever inference is (a common pattern in KServe TorchServe configs).
        The official image's default config.properties binds all listeners to 0.0.0.0.""",
    remediation="""
        Bind `management_address` (and `grpc_management_address`) to `127.0.0.1` on their own port, keep
        `inference_address` separate, and do not expose 8081/7071 through a Service.""",
    bad="""
        inference_address=http://0.0.0.0:8085
        management_address=http://0.0.0.0:8085""",
    good="""
        inference_address=http://0.0.0.0:8085
        management_address=http://127.0.0.1:8081
        metrics_address=http://127.0.0.1:8082""",
    references=(
        "TorchServe SECURITY.md", "pytorch/serve issue #2610", "pytorch/serve PR #3083",
        "OWASP ML05:2023 Model Theft", "OWASP ML10:2023 Model Poisoning", "MITRE ATLAS AML.T0049",
        "MITRE ATLAS AML.T0006", f"{NSA}: Network separation and hardening",
    ),
)
def torchserve_management_exposed(c: Container) -> Iterator[Hit]:
    ts = torchserve(c)
    if ts is None:
        return
    reported = False
    management = ts.lookup(("management_address",), "TS_MANAGEMENT_ADDRESS")
    inference = ts.lookup(("inference_address",), "TS_INFERENCE_ADDRESS")
    management_port = 8081
    management_loopback = management is None and ts.properties is not None  # the built-in default is 127.0.0.1
    if management is not None and (parsed := _address(management.value)) is not None:
        host, port = parsed
        management_port = port or management_port
        management_loopback = _is_loopback(host)
        inference_parsed = _address(inference.value) if inference is not None else None
        shared = inference_parsed is not None and port is not None and inference_parsed[1] == port
        routes = routes_to(c, [management_port])
        related = tuple(r.related(f"{r.describe} reaches the management API") for r in routes)
        if shared and not management_loopback:
            yield management.hit(f"{c.display} serves the TorchServe management API on the inference port "
                                 f"({management.spelled}, inference {inference.spelled}): it is reachable wherever "
                                 "inference is", related=related)
            reported = True
        elif not management_loopback:
            what = "all interfaces" if _is_wildcard_host(host) else f"non-loopback address `{host}`"
            message = f"{c.display} binds the TorchServe management API to {what} ({management.spelled})"
            if management.source == "env" and management.confidence is Confidence.LOW:
                message += f" (honoured only with enable_envvars_config=true; {ts.unknown_config})"
            loopback = f"http://127.0.0.1:{management_port}"
            yield management.hit(message, related=related, fixes=management.rewrite(
                c, loopback, f"bind the management API to {loopback}"))
            reported = True
    grpc = ts.lookup(("grpc_management_address",), "TS_GRPC_MANAGEMENT_ADDRESS")
    if grpc is not None and (parsed := _address(grpc.value)) is not None and not _is_loopback(parsed[0]):
        yield grpc.hit(f"{c.display} binds the TorchServe gRPC management API to "
                       f"{'all interfaces' if _is_wildcard_host(parsed[0]) else parsed[0]} ({grpc.spelled})")
        reported = True
    elif grpc is None and ts.version is not None and ts.version < GRPC_LOCALHOST_SINCE:
        port = ts.lookup(("grpc_management_port",), "TS_GRPC_MANAGEMENT_PORT")
        if port is not None:
            yield port.hit(f"{c.display} runs TorchServe {'.'.join(map(str, ts.version))}, which binds the gRPC "
                           f"management API ({port.spelled}) to all interfaces (fixed in 0.11.0)")
            reported = True
    if reported or management_loopback:
        return
    for route in routes_to(c, {management_port, 7071}):
        yield Hit(route.path, f"{route.describe} exposes the TorchServe management API of {c.display} "
                              f"({ts.unknown_config if ts.properties is None else 'its binding is not set literally'}"
                              ", so whether it listens beyond loopback cannot be confirmed)",
                  obj=route.service, confidence=Confidence.MEDIUM,
                  related=(RelatedHit(c.obj, c.path, f"{c.display} runs TorchServe"),))


# --------------------------------------------------------------------------------------------------
# NVIDIA Triton


TRITON_SENSITIVE_APIS = ("shared-memory", "logging", "trace", "model-config", "statistics")


@dataclass
class Triton:
    container: Container
    program: Word | None  # the tritonserver word, when visible
    argv: Argv

    def restricted(self, flag: str) -> tuple[set[str], list[Word]]:
        apis: set[str] = set()
        words = []
        for value, word in _argv_values(self.argv, flag):
            head = value.split(":", 1)[0]
            apis |= {a.strip() for a in head.split(",") if a.strip()}
            words.append(word)
        return apis, words

    def enabled(self, flag: str, default: bool = True) -> tuple[bool, Word | None]:
        value, word = _bool_flag(self.argv, flag)
        return (default if value is None else value), word

    @property
    def anchor(self) -> Path:
        if self.program is not None:
            return self.program.path
        return self.container.at("args") if self.container.get("args") is not None else self.container.path


def triton(c: Container) -> Triton | None:
    if c.init:
        return None
    program = argv_of(c).has_program("tritonserver")
    if program is not None:
        return Triton(c, program, argv_of(c))
    if c.default_name == "kserve-container" and c.path[-1] == "triton":
        return Triton(c, None, argv_of(c))  # args appended to the KServe Triton runtime's tritonserver command
    if "triton" in identify(c) and argv_of(c).find("--model-repository", "--model-store", "--model-control-mode"):
        return Triton(c, None, argv_of(c))
    return None


def _triton_uncovered(t: Triton, apis: Iterable[str]) -> dict[str, list[str]]:
    """Protocol -> the given API groups it serves without a restriction."""
    missing: dict[str, list[str]] = {}
    for protocol, allow, restrict in (("HTTP", "--allow-http", "--http-restricted-api"),
                                      ("gRPC", "--allow-grpc", "--grpc-restricted-protocol")):
        if not t.enabled(allow)[0]:
            continue
        covered, _ = t.restricted(restrict)
        gaps = [a for a in apis if a not in covered]
        if gaps:
            missing[protocol] = gaps
    return missing


TRITON_KEY_VARIABLE = "TRITON_ADMIN_KEY"
TRITON_KEY_SECRET = "triton-admin-key"
RESTRICTION_FLAGS = {"HTTP": "--http-restricted-api", "gRPC": "--grpc-restricted-protocol"}


def _restrict_fixes(t: Triton, missing: dict[str, list[str]]) -> tuple[SymbolicFix, ...]:
    """Restrict the uncovered APIs to callers presenting the admin key, read from a Secret into the env."""
    c, program = t.container, t.program
    if program is None:
        return ()
    flags = [f"{RESTRICTION_FLAGS[protocol]}={','.join(apis)}:admin-key=$({TRITON_KEY_VARIABLE})"
             for protocol, apis in missing.items()]
    doc = c.obj.doc
    written = get_path(doc, program.path)
    args = c.get("args")
    if written == program.text and program.path[-2:-1] in (("args",), ("command",)):
        holder = c.at("args") if isinstance(args, list) or args is None else program.path[:-1]
        operations: list = [AddItem(holder, flag) for flag in flags]
    elif isinstance(written, str) and written.count(program.text) == 1:  # a shell script running tritonserver
        operations = [ReplaceText(program.path, program.text, " ".join([program.text, *flags]))]
    else:
        return ()
    if TRITON_KEY_VARIABLE not in c.env:
        operations.append(AddItem(c.at("env"), {"name": TRITON_KEY_VARIABLE, "valueFrom": {
            "secretKeyRef": {"name": TRITON_KEY_SECRET, "key": "key"}}}))
    apis = sorted({api for listed in missing.values() for api in listed})
    return (unsafe(f"restrict {', '.join(apis)} to callers with the admin key "
                   f"(env {TRITON_KEY_VARIABLE} from Secret {TRITON_KEY_SECRET})", *operations),)


def _restriction_text(missing: dict[str, list[str]]) -> str:
    flags = {"HTTP": "--http-restricted-api", "gRPC": "--grpc-restricted-protocol"}
    if len(missing) == 2 and missing["HTTP"] == missing["gRPC"]:
        return f"no --http-restricted-api or --grpc-restricted-protocol covering {', '.join(missing['HTTP'])}"
    return " and ".join(f"no {flags[p]} covering {', '.join(apis)}" for p, apis in missing.items())


def _repository_mount(c: Container, repository: str) -> tuple[int, dict, dict] | None:
    """(mount index, mount, volume) of the deepest mount holding ``repository``."""
    best = None
    for index, mount in c.mounts():
        mount_path = str(mount.get("mountPath") or "").rstrip("/") or "/"
        if repository == mount_path or repository.startswith(mount_path.rstrip("/") + "/"):
            if best is None or len(mount_path) > len(str(best[1].get("mountPath"))):
                entry = c.pod.volume(str(mount.get("name")))
                if entry is not None:
                    best = (index, mount, entry[1])
    return best


SHARED_VOLUME_KEYS = ("persistentVolumeClaim", "hostPath", "nfs", "csi", "azureFile", "cephfs", "glusterfs",
                      "ephemeral")


def _writable_shared_mount(c: Container, path: str) -> tuple[int, dict, dict] | None:
    found = _repository_mount(c, path)
    if found is None:
        return None
    _, mount, volume = found
    if mount.get("readOnly") is True:
        return None
    if not any(key in volume for key in SHARED_VOLUME_KEYS):
        return None
    if get_path(volume, ("persistentVolumeClaim", "readOnly")) is True or get_path(volume, ("nfs", "readOnly")) is True:
        return None
    return found


@rules.rule(
    id="MLS-SRV-005", name="triton-dynamic-model-loading",
    title="Triton dynamic model loading without a restricted model-repository API",
    severity=Severity.CRITICAL, scope=Scope.CONTAINER,
    rationale="""
        In `explicit` mode anyone who reaches Triton's HTTP or gRPC port can call
        `POST /v2/repository/models/<m>/load`, and in `poll` mode anything written to the repository is loaded.
        Backends execute code from the repository (the Python backend's `model.py`, custom shared libraries):
        NVIDIA warns that dynamic updates "can lead to arbitrary code execution".""",
    remediation="""
        Use `--model-control-mode=none` unless dynamic loading is needed. Otherwise restrict the repository API on
        every enabled protocol: `--http-restricted-api=model-repository,...:admin-key=$(TRITON_ADMIN_KEY)` and
        `--grpc-restricted-protocol=model-repository,...:admin-key=$(TRITON_ADMIN_KEY)` (key from a Secret), or
        `--allow-grpc=false`; in `poll` mode keep the repository read-only to everything but the release
        pipeline.""",
    bad="""
        args: ["tritonserver", "--model-repository=s3://ml-models-prod/triton", "--model-control-mode=explicit"]""",
    good="""
        env:
        - name: TRITON_ADMIN_KEY
          valueFrom: {secretKeyRef: {name: triton-admin, key: key}}
        args:
        - tritonserver
        - --model-repository=s3://ml-models-prod/triton
        - --model-control-mode=none            # or explicit + restriction below
        - --http-restricted-api=model-repository,model-config,shared-memory,logging,trace,statistics:admin-key=$(TRITON_ADMIN_KEY)
        - --grpc-restricted-protocol=model-repository,model-config,shared-memory,logging,trace,statistics:admin-key=$(TRITON_ADMIN_KEY)""",
    references=(
        "NVIDIA Triton docs: Secure Deployment Considerations", "NVIDIA Triton docs: Model Management",
        "OWASP ML06:2023 AI Supply Chain Attacks", "OWASP ML10:2023 Model Poisoning", "OWASP LLM03:2025 Supply Chain",
        "MITRE ATLAS AML.T0018.000", "MITRE ATLAS AML.T0049", "MITRE ATLAS AML.T0011.000",
    ),
)
def triton_dynamic_loading(c: Container) -> Iterator[Hit]:
    t = triton(c)
    if t is None:
        return
    found = _argv_values(t.argv, "--model-control-mode")
    if not found:
        return
    raw, word = found[-1]
    mode = raw.strip().lower()
    if _unresolved(mode):
        yield Hit(word.path, f"{c.display} sets --model-control-mode from `{raw.strip()}`, which cannot be resolved "
                             "statically; explicit or poll mode would allow loading code into Triton",
                  confidence=Confidence.LOW)
        return
    if mode not in ("explicit", "poll"):
        return
    missing = _triton_uncovered(t, ("model-repository",))
    if not missing:
        return
    message = f"{c.display} runs tritonserver with --model-control-mode={mode} and {_restriction_text(missing)}"
    fixes = _restrict_fixes(t, missing)
    if mode == "explicit":
        yield Hit(word.path, message + ": any client can load a model, whose backend code then runs in the server",
                  fixes=fixes)
        return
    repositories = [v for v, _ in _argv_values(t.argv, "--model-repository", "--model-store")]
    for repository in repositories:
        if "://" in repository:
            yield Hit(word.path, message + f": whoever can write to {repository} can make Triton load code "
                                           "(write access to the bucket decides)", confidence=Confidence.LOW,
                      fixes=fixes)
            return
        writable = _writable_shared_mount(c, repository)
        if writable is not None:
            index, mount, volume = writable
            yield Hit(word.path, message + f": the repository {repository} is on volume `{mount.get('name')}`, "
                                           "mounted writable, so anything that writes there is loaded and run",
                      related=(RelatedHit(c.obj, c.at("volumeMounts", index), "writable repository mount"),),
                      fixes=fixes)
            return


@rules.rule(
    id="MLS-SRV-006", name="triton-non-inference-protocols",
    title="Triton non-inference protocols exposed (logging, shared memory, trace, statistics, SageMaker/Vertex "
          "shims, metrics)",
    severity=Severity.HIGH, scope=Scope.CONTAINER,
    rationale="""
        Triton serves more than inference on its HTTP and gRPC ports: the logging API could set an arbitrary
        log file (CVE-2024-0087, file write to code execution), the shared-memory APIs were at the core of
        CVE-2024-0088 and of the 2025 Python-backend chain CVE-2025-23319/23320/23334 (unauthenticated code
        execution), and trace, statistics and model-config leak internals. Unused protocols, SageMaker/Vertex
        shims and public metrics widen that surface.""",
    remediation="""
        Restrict the non-inference APIs on every enabled protocol with
        `--http-restricted-api=shared-memory,logging,trace,model-config,statistics:admin-key=$(KEY)` and
        `--grpc-restricted-protocol=...` (or `--allow-grpc=false` when gRPC is unused); leave
        `--allow-sagemaker` / `--allow-vertex-ai` off outside those platforms; keep 8002 cluster-internal or set
        `--allow-metrics=false`; set `--trace-config level=off`. Run Triton 25.07 or later.""",
    bad="""
        args: ["tritonserver", "--model-repository=/models"]   # behind a public LoadBalancer on 8000/8001/8002""",
    good="""
        args:
        - tritonserver
        - --model-repository=/models
        - --http-restricted-api=shared-memory,logging,trace,model-config,statistics,model-repository:admin-key=$(TRITON_ADMIN_KEY)
        - --allow-grpc=false
        - --allow-metrics=false
        - --trace-config=level=off""",
    references=(
        "NVIDIA Triton docs: Secure Deployment Considerations", "CVE-2024-0087", "CVE-2024-0088",
        "CVE-2025-23319", "CVE-2025-23320", "CVE-2025-23334", "OWASP ML05:2023 Model Theft",
        "OWASP ML10:2023 Model Poisoning", "OWASP LLM10:2025 Unbounded Consumption", "MITRE ATLAS AML.T0049",
        "MITRE ATLAS AML.T0029",
    ),
)
def triton_non_inference(c: Container) -> Iterator[Hit]:
    t = triton(c)
    if t is None:
        return
    http_port = _int_flag(t.argv, "--http-port", 8000)
    grpc_port = _int_flag(t.argv, "--grpc-port", 8001)
    metrics_port = _int_flag(t.argv, "--metrics-port", 8002)
    api_routes = routes_to(c, [http_port, grpc_port])
    external = [r for r in api_routes if r.external and not r.authenticated]
    kserve_public = _kserve_component_external(c.pod) or c.pod.obj.kind in ("ServingRuntime", "ClusterServingRuntime")
    problems: list[str] = []
    severity: Severity | None = Severity.MEDIUM
    related: list[RelatedHit] = []
    missing = _triton_uncovered(t, TRITON_SENSITIVE_APIS)
    if missing:
        problems.append(_restriction_text(missing))
        if external:
            problems[-1] += f", and it is reachable from outside the cluster through {external[0].describe}"
            related.extend(r.related() for r in external[:3])
            severity = None
        elif kserve_public:
            problems[-1] += (", and KServe publishes every predictor using this runtime through its ingress gateway"
                             if c.pod.obj.kind.endswith("ServingRuntime") else
                             ", and KServe publishes the predictor through its ingress gateway")
            severity = None
        else:
            problems[-1] += ", so any pod that reaches it can use them"
    grpc_on, grpc_word = t.enabled("--allow-grpc")
    services = [r for r in routes_to(c) if r.via is None]
    if grpc_on and services and c.pod.obj.kind not in ("ServingRuntime", "ClusterServingRuntime",
                                                       "InferenceService", "LLMInferenceService") and \
            not any(r.container_port == grpc_port for r in services):
        text = f"its gRPC endpoint (port {grpc_port}) is on though no Service targets it; set --allow-grpc=false"
        unused = [RelatedHit(r.service, r.path, f"{r.service.ref} targets {r.container_port}") for r in services[:2]]
        if grpc_word is not None:
            yield Hit(grpc_word.path, f"{c.display} runs tritonserver: {text}", severity=Severity.MEDIUM,
                      related=tuple(unused))
        else:
            problems.append(text)
            related.extend(unused)
    if problems:
        yield Hit(t.anchor, f"{c.display} runs tritonserver with " + "; ".join(problems), severity=severity,
                  related=tuple(related), fixes=_restrict_fixes(t, missing) if missing else ())
    for flag, platform in (("--allow-sagemaker", "SageMaker"), ("--allow-vertex-ai", "Vertex AI")):
        value, word = _bool_flag(t.argv, flag)
        if value and word is not None:
            yield Hit(word.path, f"{c.display} enables Triton's {platform} endpoint ({flag}) outside {platform}, "
                                 "an extra unauthenticated entry point")
    metrics_on, metrics_word = t.enabled("--allow-metrics")
    if metrics_on:
        for route in routes_to(c, [metrics_port]):
            if route.external and not route.authenticated:
                yield Hit(route.via_path or route.path,
                          f"{route.describe} publishes the Triton metrics of {c.display} (port {metrics_port}) "
                          "outside the cluster; set --allow-metrics=false or keep the port internal",
                          obj=route.via or route.service,
                          related=(RelatedHit(c.obj, metrics_word.path if metrics_word is not None else t.anchor,
                                              "metrics stay enabled"),))
                break
    levels = [(v.split("level=", 1)[1], w) for v, w in _argv_values(t.argv, "--trace-config") if "level=" in v]
    levels += _argv_values(t.argv, "--trace-level")  # the flag before 23.x
    for value, word in levels:
        level = value.split(",", 1)[0].strip()
        if level and level.lower() != "off" and not _unresolved(level):
            yield Hit(word.path, f"{c.display} turns on Triton tracing (level={level}); traces capture request "
                                 "data and the trace API lets clients change tracing", severity=Severity.MEDIUM)


def _int_flag(argv: Argv, flag: str, default: int) -> int:
    found = argv.value(flag)
    if found is not None and found[0].strip().isdigit():
        return int(found[0].strip())
    return default


# --------------------------------------------------------------------------------------------------
# TensorFlow Serving

AUTH_PROXY_IMAGES = ("oauth2-proxy", "kube-rbac-proxy", "pomerium", "authservice", "keycloak-gatekeeper",
                     "gatekeeper")


def _is_tfserving(c: Container) -> bool:
    if c.init:
        return False
    if c.default_name == "kserve-container" and not c.image:
        key = c.path[-1]
        runtime = str(c.pod.get(key, "runtime") or "")
        fmt = str(c.pod.get("model", "modelFormat", "name") or "") if key == "model" else ""
        return not runtime.strip() and (key == "tensorflow" or fmt == "tensorflow")  # KServe's TF Serving runtime
    if "tfserving" not in identify(c):
        return False
    command = c.get("command")
    if command and not argv_of(c).has_program("tensorflow_model_server", "tf_serving_entrypoint.sh"):
        return False
    return True


def _mesh_auth(pod: PodSpec) -> str | None:
    """Istio RequestAuthentication plus an AuthorizationPolicy with rules that apply to the pod."""
    namespace = pod.obj.effective_namespace
    labels = pod.labels

    def applies(obj: K8sObject) -> bool:
        if obj.effective_namespace not in (namespace, "istio-system"):
            return False
        selector = obj.get("spec", "selector", "matchLabels")
        return not selector or (isinstance(selector, dict) and selects({"matchLabels": selector}, labels))

    authn = [o for o in pod.inventory.of_kind("RequestAuthentication") if applies(o)]
    authz = [o for o in pod.inventory.of_kind("AuthorizationPolicy") if applies(o) and o.get("spec", "rules")]
    if authn and authz:
        return f"{authn[0].ref} with {authz[0].ref}"
    return None


@rules.rule(
    id="MLS-SRV-007", name="tfserving-unauthenticated-or-hot-reload",
    title="TensorFlow Serving exposed without an authentication layer / gRPC without TLS / writable hot-reloaded "
          "config",
    severity=Severity.HIGH, scope=Scope.CONTAINER,
    rationale="""
        TensorFlow Serving has no authentication of its own, and "TensorFlow models are programs": whoever
        reaches its ports can query, enumerate and probe every model, and whoever can change the files it polls
        (`--model_config_file_poll_wait_seconds`, the model base path) swaps the model it serves.""",
    remediation="""
        Keep 8500/8501 behind an authenticating layer (Istio RequestAuthentication + AuthorizationPolicy, an
        oauth2-proxy sidecar, ingress auth), serve gRPC with `--ssl_config_file` when it leaves the mesh, and
        mount the model config and model base path read-only (ConfigMap or `readOnly: true`).""",
    bad="""
        args: ["--port=8500","--rest_api_port=8501","--model_config_file=/cfg/models.config",
               "--model_config_file_poll_wait_seconds=60"]
        volumeMounts: [{name: cfg, mountPath: /cfg}]        # RWX PVC shared with training jobs""",
    good="""
        args: ["--port=8500","--rest_api_port=8501","--model_config_file=/cfg/models.config",
               "--ssl_config_file=/tls/ssl.config"]
        volumeMounts: [{name: cfg, mountPath: /cfg, readOnly: true}]   # ConfigMap, immutable: true""",
    references=(
        "TensorFlow Serving docs: server flags", "tensorflow/tensorflow SECURITY.md: TensorFlow models are programs",
        "OWASP ML10:2023 Model Poisoning", "OWASP ML05:2023 Model Theft", "OWASP LLM03:2025 Supply Chain",
        "MITRE ATLAS AML.T0040", "MITRE ATLAS AML.T0018.000", f"{NSA}: Network separation and hardening",
    ),
)
def tfserving_exposed(c: Container) -> Iterator[Hit]:
    if not _is_tfserving(c):
        return
    argv = argv_of(c)
    uses_entrypoint = not c.get("command")
    grpc_port = _int_flag(argv, "--port", 8500)
    rest_port = _int_flag(argv, "--rest_api_port", 8501 if uses_entrypoint else 0)
    ssl = argv.value("--ssl_config_file")
    monitoring = argv.value("--monitoring_config_file")
    mesh_auth = _mesh_auth(c.pod)
    # (a) no authentication layer, (b) gRPC without TLS, (d) metrics on the public REST port. A sidecar proxy
    # only helps when the Service targets it, in which case no route reaches these ports.
    seen: set[tuple[int, Path]] = set()
    for route in routes_to(c, [p for p in (grpc_port, rest_port) if p]):
        if not route.external:
            continue
        problems = []
        if mesh_auth is None and not route.authenticated:
            problems.append("no authentication layer in front of it")
        if route.container_port == grpc_port and ssl is None and route.via is None:
            problems.append("gRPC without --ssl_config_file")
        if route.container_port == rest_port and monitoring is not None and not route.authenticated:
            problems.append(f"Prometheus metrics on the same port (--monitoring_config_file={monitoring[0]})")
        target = route.via or route.service
        path = route.via_path if route.via is not None and route.via_path is not None else route.path
        if not problems or (id(target), path) in seen:
            continue
        seen.add((id(target), path))
        yield Hit(path, f"{route.describe} publishes TensorFlow Serving ({c.display}, port {route.container_port}) "
                        f"with {' and '.join(problems)}", obj=target,
                  related=(RelatedHit(c.obj, c.path, f"{c.display} runs tensorflow_model_server"),))
    # (c) hot-reloaded config or model base path on a writable shared volume.
    config = argv.value("--model_config_file")
    poll = argv.value("--model_config_file_poll_wait_seconds")
    if config is not None and poll is not None and poll[0].strip().isdigit() and int(poll[0]) > 0:
        writable = _writable_shared_mount(c, config[0])
        if writable is not None:
            index, mount, _ = writable
            yield Hit(poll[1].path, f"{c.display} re-reads {config[0]} every {poll[0]}s "
                                    f"(--model_config_file_poll_wait_seconds) from volume `{mount.get('name')}`, "
                                    "mounted writable: whoever can write there swaps the served models",
                      related=(RelatedHit(c.obj, c.at("volumeMounts", index), "writable mount"),))
    fs_poll = argv.value("--file_system_poll_wait_seconds")
    if fs_poll is not None and (not fs_poll[0].strip().isdigit() or int(fs_poll[0]) == 0):
        return  # version polling switched off
    for base, where in _tf_model_paths(c, config):
        if "://" in base or _unresolved(base):
            continue  # bucket write access is IAM's business (MLS-IAM-001)
        writable = _writable_shared_mount(c, base)
        if writable is None:
            continue
        index, mount, _ = writable
        interval = f"every {fs_poll[0]}s" if fs_poll is not None else "every second (the default)"
        yield Hit(fs_poll[1].path if fs_poll is not None else where,
                  f"{c.display} polls model base path {base} {interval} for new versions on volume "
                  f"`{mount.get('name')}`, mounted writable: a version directory written there is loaded and served",
                  confidence=Confidence.MEDIUM,
                  related=(RelatedHit(c.obj, c.at("volumeMounts", index), "writable mount"),))
        break


_BASE_PATH = re.compile(r"base_path\s*:\s*[\"']([^\"']+)[\"']")


def _tf_model_paths(c: Container, config: tuple[str, Word] | None) -> list[tuple[str, Path]]:
    """Model base paths TF Serving polls: from the model config file (when in the scan) or the flags."""
    if config is not None:  # --model_name / --model_base_path are ignored when a config file is given
        paths = []
        for mounted in mounted_files(c):
            if posixpath.normpath(mounted.path) == posixpath.normpath(config[0]):
                paths.extend((m.group(1), config[1].path) for m in _BASE_PATH.finditer(mounted.text))
        return paths
    base = argv_of(c).value("--model_base_path")
    if base is not None:
        return [(base[0], base[1].path)]
    if c.get("command"):
        return []
    # The image's entrypoint passes --model_base_path=${MODEL_BASE_PATH}/${MODEL_NAME}.
    env_base, name = c.env.get("MODEL_BASE_PATH"), c.env.get("MODEL_NAME")
    root = env_base.value if env_base is not None and env_base.value else "/models"
    model = name.value if name is not None and name.value else "model"
    where = env_base.path if env_base is not None and _env_owner(c, env_base) is None else c.at("image")
    return [(posixpath.join(root, model), where)]


# --------------------------------------------------------------------------------------------------
# Ray

RAY_KINDS = ("RayCluster", "RayService", "RayJob")
RAY_CONTROL_PORTS = {8265: "dashboard and Jobs API", 10001: "Ray client server", 6379: "GCS", 52365: "dashboard agent"}
RAY_CONTROL_PORT_NAMES = ("dashboard", "client", "gcs", "gcs-server", "dashboard-agent")
RAY_TOKEN_AUTH_SINCE = (2, 52, 0)


def _cluster_spec_path(pod: PodSpec) -> Path:
    return pod.group_path[:-1]


def _ray_version(pod: PodSpec, container: Container) -> tuple[int, ...] | None:
    declared = get_path(pod.obj.doc, _cluster_spec_path(pod) + ("rayVersion",)) if pod.obj.kind in RAY_KINDS else None
    if declared:
        return version_tuple(str(declared))
    if container.image and not is_templated(container.image):
        return version_tuple(image_tag(container.image))
    return None


def _ray_token_auth(pod: PodSpec, head: Container) -> tuple[bool, str | None]:
    """(protected, why not) for the head: RAY_AUTH_MODE=token or KubeRay authOptions on Ray >= 2.52."""
    version = _ray_version(pod, head)
    if pod.obj.kind in RAY_KINDS:
        mode = get_path(pod.obj.doc, _cluster_spec_path(pod) + ("authOptions", "mode"))
        if str(mode).lower() == "token":
            if version is not None and version < RAY_TOKEN_AUTH_SINCE:
                return False, f"authOptions.mode: token, which needs Ray 2.52.0 while it runs " \
                              f"{'.'.join(map(str, version))} (so no token authentication)"
            return True, None
    var = head.env.get("RAY_AUTH_MODE")
    if var is not None and var.value is None:
        return True, None  # from a Secret or ConfigMap outside the scan: assume it is set on purpose
    if var is not None and str(var.value).strip().lower() == "token":
        if version is not None and version < RAY_TOKEN_AUTH_SINCE:
            return False, f"RAY_AUTH_MODE=token, which needs Ray 2.52.0 while image `{head.image}` is " \
                          f"{'.'.join(map(str, version))} (so no token authentication)"
        return True, None
    return False, None


def _ray_head_container(pod: PodSpec) -> Container | None:
    mains = pod.main_containers
    for c in mains:
        if c.name == "ray-head":
            return c
    for c in mains:
        if "ray" in identify(c) and not any(p in c.image.lower() for p in AUTH_PROXY_IMAGES):
            return c
    return mains[0] if mains else None


def _ray_proxy_sidecar(pod: PodSpec, head: Container) -> str | None:
    for c in pod.main_containers:
        if c is not head and any(name in c.image.lower() for name in AUTH_PROXY_IMAGES):
            return c.name
    return None


def _ray_published_head_svc(pod: PodSpec) -> list[tuple[K8sObject, Path, str]]:
    """Ingress-like objects routing to the KubeRay-created head Service on a control port.

    KubeRay names it ``<name>-head-svc`` for RayCluster and RayService; a route to a Service named like the
    cluster itself, which is not in the scan, is taken to mean the same.
    """
    if pod.obj.kind not in ("RayCluster", "RayService"):
        return []
    namespace = pod.obj.effective_namespace
    names = {f"{pod.obj.name}-head-svc"}
    custom = get_path(pod.obj.doc, pod.group_path + ("headService", "metadata", "name"))
    if custom:
        names.add(str(custom))
    if pod.inventory.find("Service", namespace, pod.obj.name) is None:
        names.add(pod.obj.name)
    found = []
    for _, obj, service, port, path in _backends_of(pod.inventory, namespace, names):
        if obj.kind == "TLSRoute" or any(key in obj.annotations for key in INGRESS_AUTH_ANNOTATIONS):
            continue
        if port in RAY_CONTROL_PORTS or port in RAY_CONTROL_PORT_NAMES:
            what = RAY_CONTROL_PORTS.get(port, str(port)) if isinstance(port, int) else str(port)
            found.append((obj, path, f"{obj.ref} routes to the head's {what} ({service})"))
    same_file = [f for f in found if f[0].file == pod.obj.file]
    return same_file or found  # alternative manifests of one cluster often sit side by side


@rules.rule(
    id="MLS-SRV-008", name="ray-control-plane-without-auth",
    title="Ray dashboard / Jobs API / client / GCS reachable without token authentication (ShadowRay)",
    severity=Severity.CRITICAL, scope=Scope.POD,
    rationale="""
        Ray's dashboard Jobs API (8265), Ray Client (10001) and GCS (6379) run arbitrary code on the cluster
        for anyone who can reach them, and Ray has no authentication unless token authentication is turned on
        (Ray 2.52.0+). Exposed clusters were mass-exploited in the ShadowRay campaign (CVE-2023-48022). KubeRay
        binds the dashboard to 0.0.0.0 and creates a head Service for every cluster.""",
    remediation="""
        Enable token authentication: KubeRay `spec.authOptions.mode: token` with `rayVersion` >= 2.52.0, or env
        `RAY_AUTH_MODE=token` plus `RAY_AUTH_TOKEN` from a Secret on the head and every worker. Keep
        `headGroupSpec.serviceType: ClusterIP`, no `enableIngress`, and put an authenticating proxy in front of
        any dashboard that must be reached from outside.""",
    bad="""
        apiVersion: ray.io/v1
        kind: RayCluster
        spec:
          headGroupSpec:
            serviceType: LoadBalancer
            rayStartParams: {dashboard-host: "0.0.0.0"}
            template: {spec: {containers: [{name: ray-head, image: rayproject/ray:2.9.0}]}}""",
    good="""
        spec:
          headGroupSpec:
            serviceType: ClusterIP
            rayStartParams: {dashboard-host: "0.0.0.0"}
            template:
              spec:
                containers:
                - name: ray-head
                  image: rayproject/ray:2.52.0@sha256:<digest>
                  env:
                  - {name: RAY_AUTH_MODE, value: token}
                  - name: RAY_AUTH_TOKEN
                    valueFrom: {secretKeyRef: {name: ray-auth, key: auth_token}}""",
    references=(
        "Ray docs: Security", "Ray docs: Ray token authentication", "KubeRay: Configure Ray clusters to use token "
        "authentication", "CVE-2023-48022", "CVE-2023-6019", "CVE-2023-6020", "CVE-2023-6021", "CVE-2023-48023",
        "MITRE ATLAS AML.CS0023 ShadowRay", "OWASP ML05:2023 Model Theft", "OWASP ML10:2023 Model Poisoning",
        "OWASP LLM10:2025 Unbounded Consumption", "MITRE ATLAS AML.T0049", "MITRE ATLAS AML.T0050",
        "MITRE ATLAS AML.T0034", "MITRE ATLAS AML.T0035",
    ),
)
def ray_without_auth(pod: PodSpec) -> Iterator[Hit]:
    if pod.obj.kind in RAY_KINDS:
        if pod.role != "head":
            return
        yield from _kuberay_head(pod)
    else:
        for c in pod.main_containers:
            program = argv_of(c).has_program("ray")
            if program is None:
                continue
            start = argv_of(c).positional_after(program)
            if start is None or start.text != "start" or argv_of(c).find("--head") is None:
                continue
            yield from _plain_ray_head(pod, c)


def _kuberay_head(pod: PodSpec) -> Iterator[Hit]:
    head = _ray_head_container(pod)
    if head is None:
        return
    protected, why_not = _ray_token_auth(pod, head)
    if protected:
        return
    group = pod.group_path
    params = get_path(pod.obj.doc, group + ("rayStartParams",))
    params = params if isinstance(params, dict) else {}
    dashboard_host = str(params.get("dashboard-host", "0.0.0.0")).strip("\"'")
    proxy = _ray_proxy_sidecar(pod, head)
    if proxy is not None and _is_loopback(dashboard_host):
        return
    evidence: list[tuple[Path, K8sObject, str]] = []  # (path, object, what makes it reachable from outside)
    service_type = get_path(pod.obj.doc, group + ("serviceType",))
    if service_type in ("LoadBalancer", "NodePort"):
        evidence.append((group + ("serviceType",), pod.obj, f"the head Service is type {service_type}"))
    head_service_type = get_path(pod.obj.doc, group + ("headService", "spec", "type"))
    if head_service_type in ("LoadBalancer", "NodePort") and service_type not in ("LoadBalancer", "NodePort"):
        annotations = get_path(pod.obj.doc, group + ("headService", "metadata", "annotations"))
        internal = isinstance(annotations, dict) and any(
            str(annotations.get(k, "")).lower() == v for k, v in INTERNAL_LB_ANNOTATIONS.items())
        if not internal:
            evidence.append((group + ("headService", "spec", "type"), pod.obj,
                             f"headService makes the head Service type {head_service_type}"))
    if get_path(pod.obj.doc, group + ("enableIngress",)) is True:
        evidence.append((group + ("enableIngress",), pod.obj, "enableIngress publishes the dashboard"))
    for c in pod.main_containers:
        for route in routes_to(c, RAY_CONTROL_PORTS):
            if route.external and not route.authenticated:
                evidence.append((route.via_path or route.path, route.via or route.service,
                                 f"{route.describe} targets the {RAY_CONTROL_PORTS[route.container_port]}"))
    for obj, path, what in _ray_published_head_svc(pod):
        evidence.append((path, obj, what))
    auth_text = why_not or "no token authentication (no authOptions.mode: token, no RAY_AUTH_MODE=token)"
    head_text = f"the Ray head ({head.display})"
    fixes = _token_auth_fixes(pod, head) if why_not is None else ()
    if evidence:
        path, obj, what = evidence[0]
        related = tuple(RelatedHit(o, p, w) for p, o, w in evidence[1:])
        yield Hit(path, f"{head_text} is reachable from outside the cluster ({what}) with {auth_text}: anyone can "
                        "submit jobs through the dashboard/Jobs API, Ray client or GCS and run code (ShadowRay)",
                  obj=obj if obj is not pod.obj else None, related=related, fixes=fixes if obj is pod.obj else ())
        return
    isolation = _ray_network_isolation(pod)
    if isolation is not None and isolation[1] is None:
        return  # only the cluster's own pods reach the head, and they run arbitrary code anyway
    if "dashboard-host" in params and not _is_loopback(dashboard_host):
        anchor = group + ("rayStartParams", "dashboard-host")
        exposed = f"dashboard-host={dashboard_host}"
    elif why_not is not None:
        var = head.env.get("RAY_AUTH_MODE")
        anchor = var.path if var is not None and _env_owner(head, var) is None else \
            _cluster_spec_path(pod) + ("authOptions", "mode")
        exposed = "KubeRay's head Service"
    else:
        anchor = head.at("env")
        exposed = "KubeRay's head Service (dashboard bound to 0.0.0.0 by default)"
    if isolation is not None:
        yield Hit(anchor, f"{head_text} serves the dashboard/Jobs API, Ray client and GCS through {exposed} with "
                          f"{auth_text}; {isolation[1]}, and those pods can submit jobs and run code",
                  severity=Severity.MEDIUM, related=(RelatedHit(isolation[0], isolation[2], "network policy"),),
                  fixes=fixes)
        return
    yield Hit(anchor, f"{head_text} serves the dashboard/Jobs API, Ray client and GCS through {exposed} with "
                      f"{auth_text}: any pod in the cluster can submit jobs and run code", severity=Severity.HIGH,
              fixes=fixes)


def _token_auth_fixes(pod: PodSpec, head: Container) -> tuple[SymbolicFix, ...]:
    """KubeRay's token authentication, when the cluster runs a Ray release that has it."""
    version = _ray_version(pod, head)
    if version is not None and version < RAY_TOKEN_AUTH_SINCE:
        return ()  # needs an upgrade first: no automatic fix
    return (unsafe("enable Ray token authentication (authOptions.mode: token)",
                   SetKey(_cluster_spec_path(pod) + ("authOptions", "mode"), "token")),)


def _ray_network_isolation(pod: PodSpec) -> tuple[K8sObject, str | None, Path] | None:
    """A policy limiting ingress to the head: (object, what else may reach it or None, path)."""
    spec_path = _cluster_spec_path(pod)
    mode = get_path(pod.obj.doc, spec_path + ("networkPolicy", "mode"))
    if str(mode) in ("DenyAll", "DenyAllIngress"):
        rules = get_path(pod.obj.doc, spec_path + ("networkPolicy", "head", "ingressRules"))
        path = spec_path + ("networkPolicy", "mode")
        if isinstance(rules, list) and rules:
            return pod.obj, "KubeRay's network policy also admits the pods its head.ingressRules allow", path
        return pod.obj, None, path
    labels = _pod_labels(pod)
    for policy in pod.inventory.of_kind("NetworkPolicy"):
        types = policy.get("spec", "policyTypes")
        if policy.effective_namespace != pod.obj.effective_namespace or \
                not selects(policy.get("spec", "podSelector"), labels) or \
                (isinstance(types, list) and "Ingress" not in types):
            continue
        ingress = policy.get("spec", "ingress")
        if isinstance(ingress, list) and any(not isinstance(r, dict) or not r.get("from") for r in ingress):
            continue  # a rule without `from` admits every source
        return policy, f"{policy.ref} limits which pods reach it", policy.at("spec", "ingress")
    return None


def _plain_ray_head(pod: PodSpec, c: Container) -> Iterator[Hit]:
    protected, why_not = _ray_token_auth(pod, c)
    if protected:
        return
    argv = argv_of(c)
    host = argv.value("--dashboard-host")
    wildcard = host if host is not None and not _is_loopback(host[0].strip()) else None
    routes = [r for r in routes_to(c, RAY_CONTROL_PORTS) if not r.authenticated]
    if wildcard is None and not routes:
        return  # `ray start --head` binds the dashboard to localhost unless told otherwise
    head_word = argv.find("--head")
    anchor = wildcard[1].path if wildcard is not None else head_word.path if head_word is not None else c.path
    auth_text = why_not or "no token authentication (no RAY_AUTH_MODE=token)"
    external = [r for r in routes if r.external]
    if external:
        route = external[0]
        yield Hit(anchor, f"{c.display} starts a Ray head reachable from outside the cluster through "
                          f"{route.describe} ({RAY_CONTROL_PORTS[route.container_port]}) with {auth_text}: anyone "
                          "can submit jobs and run code (ShadowRay)", related=(route.related(),))
        return
    what = f"--dashboard-host={wildcard[0]}" if wildcard is not None else routes[0].describe
    yield Hit(anchor, f"{c.display} starts a Ray head with {what} and {auth_text}: any pod in the cluster can "
                      "submit jobs through the dashboard/Jobs API or Ray client and run code",
              severity=Severity.HIGH, related=tuple(r.related() for r in routes[:2]),
              fixes=_loopback_dashboard_fixes(c, wildcard) if wildcard is not None and not routes else ())


def _loopback_dashboard_fixes(c: Container, wildcard: tuple[str, Word]) -> tuple[SymbolicFix, ...]:
    """--dashboard-host=127.0.0.1, in the argv item or the script that sets it."""
    host, word = wildcard
    written = get_path(c.obj.doc, word.path)
    title = "bind the Ray dashboard to 127.0.0.1"
    if written == word.text:
        return (unsafe(title, SetKey(word.path, word.text.replace(host, "127.0.0.1"))),)
    for old in (f"--dashboard-host={host}", f"--dashboard-host {host}"):
        if isinstance(written, str) and written.count(old) == 1:
            return (unsafe(title, ReplaceText(word.path, old, old.replace(host, "127.0.0.1"))),)
    return ()
