"""MLS-SRV-009..020: MLflow, Jupyter, LLM servers (vLLM, SGLang, TGI, TEI, Ollama), browser ML apps, KServe
visibility and known-vulnerable versions.

MLS-SRV-011 (JupyterHub z2jh Helm values) reads Helm values files, not manifests, and is not implemented here.

Reachability is judged simply: a LoadBalancer/NodePort/externalIPs Service, an Ingress, an HTTPRoute or a
gateway-bound VirtualService in the scan that leads to the pod makes it "exposed outside the cluster"; anything
else is "reachable from every pod in the cluster". An authenticating sidecar (oauth2-proxy, kube-rbac-proxy,
...) or an Istio RequestAuthentication + AuthorizationPolicy (or a CUSTOM ext-authz policy) selecting the pod
counts as an authentication layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

from servegate.findings import Confidence, Severity
from servegate.model.cmdline import Word
from servegate.model.graph import requires_principal
from servegate.model.images import image_repository, image_tag, is_templated, version_tuple
from servegate.model.k8s import Inventory, K8sObject
from servegate.model.mounts import MountedFile, mounted_files
from servegate.model.network import external_exposure, selects
from servegate.model.servers import identify
from servegate.model.workloads import Container, PodSpec
from servegate.rules.base import Hit, RelatedHit, RuleSet, Scope
from servegate.sources.embedded import decode_json
from servegate.sources.located import Path, get_path

rules = RuleSet("ml-apps")

NSA = "NSA/CISA Kubernetes Hardening Guidance v1.2"
CIS = "CIS Kubernetes Benchmark v1.9"
ML05 = "OWASP ML05:2023 Model Theft"
ML06 = "OWASP ML06:2023 AI Supply Chain Attacks"
ML10 = "OWASP ML10:2023 Model Poisoning"
LLM01 = "OWASP LLM01:2025 Prompt Injection"
LLM02 = "OWASP LLM02:2025 Sensitive Information Disclosure"
LLM03 = "OWASP LLM03:2025 Supply Chain"
LLM04 = "OWASP LLM04:2025 Data and Model Poisoning"
LLM05 = "OWASP LLM05:2025 Improper Output Handling"
LLM06 = "OWASP LLM06:2025 Excessive Agency"
LLM10 = "OWASP LLM10:2025 Unbounded Consumption"


def _atlas(*ids: str) -> tuple[str, ...]:
    return tuple(f"MITRE ATLAS {i}" for i in ids)


TRUTHY = frozenset({"1", "true", "yes", "on", "y"})
FALSY = frozenset({"0", "false", "no", "off", "n"})
ALL_INTERFACES = frozenset({"0.0.0.0", "::", "[::]", "*", ""})
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
AUTH_PROXY_IMAGE = re.compile(
    r"oauth2-proxy|oauth2_proxy|kube-rbac-proxy|oauth-proxy|authservice|pomerium|vouch-proxy|keycloak-gatekeeper"
    r"|louketo|ext-authz|authorino", re.I)
INGRESS_AUTH_ANNOTATIONS = (
    "nginx.ingress.kubernetes.io/auth-url", "nginx.ingress.kubernetes.io/auth-type",
    "alb.ingress.kubernetes.io/auth-type", "ingress.kubernetes.io/auth-url", "konghq.com/plugins",
)
ISTIO_ROOT_NAMESPACE = "istio-system"


# ---------------------------------------------------------------------------------------------------------
# Small helpers over the model: flags, environment, reachability, authentication layers.
# ---------------------------------------------------------------------------------------------------------

def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().strip("'\"").lower() in TRUTHY


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _basename(text: str) -> str:
    return text.rsplit("/", 1)[-1]


def _script_line(obj: K8sObject, word: Word, needle: str | None = None) -> int | None:
    """The line inside a multi-line script scalar that holds ``needle`` (default: the word itself)."""
    text = get_path(obj.doc, word.path)
    if not isinstance(text, str) or "\n" not in text.strip("\n"):
        return None
    needle = needle or word.text
    for offset, line in enumerate(text.splitlines()):
        if needle and needle in line:
            return offset
    return None


def _word_hit(c: Container, word: Word, message: str, *, head: str | None = None, **extra: Any) -> Hit:
    """A hit on the manifest item a word came from, down to the script line when it is an ``sh -c`` script."""
    return Hit(word.path, message, scalar_line=_script_line(c.obj, word, head), **extra)


_SHELL_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def _resolve(text: str, c: Container) -> tuple[str, bool]:
    """Substitute shell/Kubernetes variable references with literal values; False when one stays unknown."""
    known = True

    def replace(match: re.Match[str]) -> str:
        nonlocal known
        name = match.group(1) or match.group(2) or match.group(3)
        env = _env(c, name)
        if env is None or env.value is None:
            known = False
            return match.group(0)
        return env.value

    return _SHELL_REF.sub(replace, text), known


@dataclass(frozen=True)
class _Flag:
    word: Word  # the word to point at (the flag itself)
    head: str  # the flag spelling found
    value: str | None  # None for a bare flag
    known: bool  # False when the value holds a variable that cannot be resolved statically


def _flags(c: Container, *names: str) -> list[_Flag]:
    """Every occurrence of the flags, as ``--flag=value``, ``--flag value`` or bare."""
    words = c.argv.words
    found = []
    for index, word in enumerate(words):
        head, sep, tail = word.text.partition("=")
        if head not in names:
            continue
        if sep:
            raw: str | None = tail
        elif index + 1 < len(words) and not words[index + 1].text.startswith("-") and \
                words[index + 1].text not in (";", "&&", "||", "|", "&"):
            raw = words[index + 1].text
        else:
            raw = None
        if raw is None:
            found.append(_Flag(word, head, None, True))
            continue
        value, known = _resolve(_unquote(raw), c)
        found.append(_Flag(word, head, _unquote(value), known))
    return found


def _flag(c: Container, *names: str) -> _Flag | None:
    found = _flags(c, *names)
    return found[-1] if found else None


def _switch(option: _Flag | _FileOption | None) -> bool:
    """Whether a boolean option is on: bare ``--flag``, ``--flag=true``, or ``key: true`` in a config file.

    A word after a bare boolean flag is the next argument, not its value.
    """
    if option is None:
        return False
    if isinstance(option, _Flag) and "=" not in option.word.text:
        return True
    return option.value is None or _truthy(option.value)


@dataclass(frozen=True)
class _Env:
    name: str
    value: str | None  # literal value, None when it comes from a Secret, a field or anything unknown
    path: Path
    obj: K8sObject
    source: str


def _env(c: Container, name: str) -> _Env | None:
    """An environment variable with its literal value (ConfigMap references resolved from the scan)."""
    var = c.env.get(name)
    if var is None:
        return None
    obj = c.obj
    path = var.path
    if var.doc is not c.obj.doc:  # envFrom ConfigMap: the finding belongs to the ConfigMap
        obj = next((o for o in c.pod.inventory.of_kind("ConfigMap")
                    if o.doc is var.doc and tuple(var.path[:len(o.base)]) == o.base), c.obj)
    elif path and path[-1] == "value":
        path = path[:-1]  # point at the env item, which names the variable
    value = var.value
    if value is None and var.source == "configmap" and var.doc is c.obj.doc:
        entry = get_path(c.obj.doc, var.path)
        ref = entry.get("valueFrom", {}).get("configMapKeyRef") if isinstance(entry, dict) else None
        if isinstance(ref, dict):
            configmap = c.pod.inventory.find("ConfigMap", c.obj.effective_namespace, str(ref.get("name")))
            data = configmap.get("data") if configmap is not None else None
            if isinstance(data, dict) and ref.get("key") in data and data[ref.get("key")] is not None:
                value = str(data[ref.get("key")])
    return _Env(name, value, path, obj, var.source)


def _env_hit(env: _Env, message: str, **extra: Any) -> Hit:
    return Hit(env.path, message, obj=env.obj, **extra)


def _env_may_hide(c: Container) -> str | None:
    """envFrom sources whose keys the scan cannot see (Secrets, ConfigMaps not in the scan)."""
    sources = c.get("envFrom")
    for source in sources if isinstance(sources, list) else ():
        if not isinstance(source, dict):
            continue
        if isinstance(source.get("secretRef"), dict):
            return f"Secret `{source['secretRef'].get('name', '?')}`"
        ref = source.get("configMapRef")
        if isinstance(ref, dict) and c.pod.inventory.find("ConfigMap", c.obj.effective_namespace,
                                                          str(ref.get("name"))) is None:
            return f"ConfigMap `{ref.get('name', '?')}` (not in the scan)"
    return None


def _is_set(c: Container, env_name: str, *flag_names: str) -> bool | None:
    """True when the flag has a (possibly secret) value or the variable is set; None when it may hide in envFrom."""
    for flag in _flags(c, *flag_names):
        if flag.value is None:
            continue
        if flag.value or not flag.known:
            return True
    env = _env(c, env_name) if env_name else None
    if env is not None and (env.value is None or env.value.strip() != ""):
        return True
    if env_name and env is None and _env_may_hide(c):
        return None
    return False


def _invocation(c: Container, programs: tuple[str, ...], subcommands: tuple[str, ...] = (),
                modules: tuple[str, ...] = ()) -> Word | None:
    """The word that starts ``program [subcommand]`` or ``python -m module [subcommand]``."""
    words = c.argv.words
    for index, word in enumerate(words):
        following = words[index + 1].text if index + 1 < len(words) else ""
        if _basename(word.text) in programs and (not subcommands or following in subcommands):
            return word
        if index and words[index - 1].text == "-m" and word.text in modules:
            if not subcommands or following in subcommands or "." in word.text:
                return word
    return None


def _entrypoint_image(c: Container, pattern: re.Pattern[str]) -> bool:
    """The image's own entrypoint starts the server: the repository matches and no command overrides it."""
    return not c.get("command") and bool(c.image) and bool(pattern.search(image_repository(c.image).lower()))


def _anchor(c: Container, word: Word | None) -> Hit:
    """Where to report a missing option: the invocation word, else the args, else the image."""
    if word is not None:
        return Hit(word.path, "", scalar_line=_script_line(c.obj, word))
    if c.get("args") is not None:
        return Hit(c.at("args"), "")
    return Hit(c.at("image"), "")


def _with(hit: Hit, message: str, **extra: Any) -> Hit:
    return Hit(hit.path, message, obj=hit.obj, scalar_line=hit.scalar_line, **extra)


# --- reachability -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Route:
    obj: K8sObject
    path: Path
    how: str
    authenticated: bool


def _services_for(pod: PodSpec) -> list[K8sObject]:
    labels = pod.labels
    if not labels:
        return []
    namespace = pod.obj.effective_namespace
    found = []
    for service in pod.inventory.of_kind("Service"):
        selector = service.get("spec", "selector")
        if service.effective_namespace != namespace or not isinstance(selector, dict) or not selector:
            continue
        if all(str(labels.get(k)) == str(v) for k, v in selector.items()):
            found.append(service)
    return found


def _ingress_backends(ingress: K8sObject) -> Iterator[str]:
    default = ingress.get("spec", "defaultBackend") or ingress.get("spec", "backend")
    backends = [default] if isinstance(default, dict) else []
    ingress_rules = ingress.get("spec", "rules")
    for rule in ingress_rules if isinstance(ingress_rules, list) else ():
        paths = get_path(rule, ("http", "paths")) if isinstance(rule, dict) else None
        for entry in paths if isinstance(paths, list) else ():
            if isinstance(entry, dict) and isinstance(entry.get("backend"), dict):
                backends.append(entry["backend"])
    for backend in backends:
        name = get_path(backend, ("service", "name")) or backend.get("serviceName")
        if name:
            yield str(name)


def _routes(pod: PodSpec) -> list[_Route]:
    """Ways in from outside the cluster that the scan shows for this pod."""
    services = _services_for(pod)
    if not services:
        return []
    routes: list[_Route] = []
    for service in services:
        exposure = external_exposure(service)
        if exposure is None:
            continue
        ranges = service.get("spec", "loadBalancerSourceRanges")
        if exposure == "type LoadBalancer" and isinstance(ranges, list) and ranges and \
                not any(str(r).endswith("/0") for r in ranges):
            continue
        field = "externalIPs" if exposure == "externalIPs" else "type"
        routes.append(_Route(service, service.at("spec", field), f"{service.ref} ({exposure})", False))
    names = {s.name for s in services}
    namespace = pod.obj.effective_namespace
    inventory = pod.inventory
    for ingress in inventory.of_kind("Ingress"):
        if ingress.effective_namespace == namespace and names & set(_ingress_backends(ingress)):
            authenticated = any(k in ingress.annotations for k in INGRESS_AUTH_ANNOTATIONS)
            routes.append(_Route(ingress, ingress.at("spec"), f"{ingress.ref}", authenticated))
    for route in inventory.of_kind("HTTPRoute", "GRPCRoute"):
        route_rules = route.get("spec", "rules")
        for rule in route_rules if isinstance(route_rules, list) else ():
            refs = rule.get("backendRefs") if isinstance(rule, dict) else None
            hit = any(isinstance(r, dict) and r.get("kind", "Service") == "Service" and r.get("name") in names and
                      (r.get("namespace") or route.effective_namespace) == namespace
                      for r in (refs if isinstance(refs, list) else ()))
            if hit:
                routes.append(_Route(route, route.at("spec"), f"{route.ref}", False))
                break
    for virtual_service in inventory.of_kind("VirtualService"):
        gateways = virtual_service.get("spec", "gateways")
        if not isinstance(gateways, list) or not [g for g in gateways if g != "mesh"]:
            continue
        hosts = set()
        http = virtual_service.get("spec", "http")
        for entry in http if isinstance(http, list) else ():
            for destination in (entry.get("route") or []) if isinstance(entry, dict) else ():
                host = get_path(destination, ("destination", "host")) if isinstance(destination, dict) else None
                if isinstance(host, str):
                    hosts.add(host)
        vs_namespace = virtual_service.effective_namespace
        for host in hosts:
            parts = host.split(".")
            target_ns = parts[1] if len(parts) > 1 else vs_namespace
            if parts[0] in names and target_ns == namespace:
                routes.append(_Route(virtual_service, virtual_service.at("spec", "gateways"),
                                     f"{virtual_service.ref}", False))
                break
    return routes


def _open_route(pod: PodSpec) -> _Route | None:
    return next((r for r in _routes(pod) if not r.authenticated), None)


def _policy_applies(policy: K8sObject, namespace: str, labels: dict) -> bool:
    if policy.get("spec", "targetRef") is not None or policy.get("spec", "targetRefs") is not None:
        return False
    selector = policy.get("spec", "selector")
    if policy.effective_namespace == namespace:
        return selector is None or selects(selector, labels)
    return policy.effective_namespace == ISTIO_ROOT_NAMESPACE and selector is None


def _istio_auth(inventory: Inventory, namespace: str, labels: dict) -> K8sObject | None:
    """An Istio policy that makes callers authenticate before reaching pods with these labels."""
    request_auth = any(_policy_applies(p, namespace, labels) for p in inventory.of_kind("RequestAuthentication"))
    for policy in inventory.of_kind("AuthorizationPolicy"):
        if not _policy_applies(policy, namespace, labels) or not requires_principal(policy):
            continue
        if policy.get("spec", "action") == "CUSTOM" or request_auth:
            return policy
    return None


def _auth_sidecar(pod: PodSpec, server: Container | None = None) -> Container | None:
    for other in pod.containers:
        if other is server or (other.init and other.get("restartPolicy") != "Always"):
            continue
        if AUTH_PROXY_IMAGE.search(other.image) or AUTH_PROXY_IMAGE.search(other.name):
            return other
    return None


def _auth_layer(pod: PodSpec, server: Container | None = None, *, bound_locally: bool = False) -> str | None:
    """What authenticates callers in front of the server, if anything.

    A proxy sidecar only protects a server bound to localhost (otherwise the pod IP reaches it directly);
    an Istio policy applies at the pod's own sidecar, so it protects either way.
    """
    sidecar = _auth_sidecar(pod, server)
    if sidecar is not None and bound_locally:
        return f"authenticating proxy sidecar `{sidecar.name}`"
    policy = _istio_auth(pod.inventory, pod.obj.effective_namespace, pod.labels)
    if policy is not None:
        return f"Istio {policy.ref}"
    routes = _routes(pod)
    if routes and all(r.authenticated for r in routes):
        return f"authenticating {routes[0].obj.ref}"
    return None


@dataclass(frozen=True)
class _Reach:
    route: _Route | None

    @property
    def external(self) -> bool:
        return self.route is not None

    @property
    def text(self) -> str:
        if self.route is not None:
            return f"exposed outside the cluster by {self.route.how}"
        return "reachable from every pod in the cluster (no external Service, Ingress or route for it in the scan)"

    def related(self, what: str = "routes external traffic to it") -> tuple[RelatedHit, ...]:
        if self.route is None:
            return ()
        return (RelatedHit(self.route.obj, self.route.path, f"{self.route.obj.ref} {what}"),)


def _reach(pod: PodSpec) -> _Reach:
    return _Reach(_open_route(pod))


def _cloud_identity(pod: PodSpec) -> str | None:
    account = pod.inventory.find("ServiceAccount", pod.obj.effective_namespace, pod.service_account)
    if account is None:
        return None
    for key in ("eks.amazonaws.com/role-arn", "iam.gke.io/gcp-service-account", "azure.workload.identity/client-id"):
        if account.annotations.get(key):
            return f"{key}={account.annotations[key]}"
    return None


def _network_policies(pod: PodSpec, policy_type: str) -> list[K8sObject]:
    namespace = pod.obj.effective_namespace
    found = []
    for policy in pod.inventory.of_kind("NetworkPolicy"):
        if policy.effective_namespace != namespace or not selects(policy.get("spec", "podSelector"), pod.labels):
            continue
        types = policy.get("spec", "policyTypes")
        types = [str(t) for t in types] if isinstance(types, list) else \
            (["Ingress", "Egress"] if policy.get("spec", "egress") is not None else ["Ingress"])
        if policy_type in types:
            found.append(policy)
    return found


# --- mounted configuration files ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _FileOption:
    file: MountedFile
    offset: int  # 0-based line inside the ConfigMap value
    value: str

    def hit(self, message: str, **extra: Any) -> Hit:
        return Hit(self.file.data_path, message, obj=self.file.configmap, scalar_line=self.offset, **extra)


def _config_file(c: Container, *flag_names: str) -> MountedFile | None:
    """The ConfigMap-mounted file named by a ``--config``-style flag."""
    flag = _flag(c, *flag_names)
    if flag is None or not flag.value:
        return None
    return next((f for f in mounted_files(c) if f.path == flag.value), None)


def _yaml_option(file: MountedFile, *keys: str) -> _FileOption | None:
    """A top-level ``key: value`` line of a YAML config file (last one wins)."""
    found = None
    pattern = re.compile(r"^(?:" + "|".join(re.escape(k) for k in keys) + r")\s*:\s*(.*?)\s*(?:#.*)?$")
    for offset, line in enumerate(file.text.splitlines()):
        match = pattern.match(line)
        if match:
            found = _FileOption(file, offset, _unquote(match.group(1)))
    return found


# --- programs -------------------------------------------------------------------------------------------------

VLLM_IMAGE = re.compile(r"(^|/)vllm-openai[a-z0-9-]*$")
VLLM_MODULES = ("vllm.entrypoints.openai.api_server", "vllm.entrypoints.api_server")
SGLANG_MODULES = ("sglang.launch_server",)


def _vllm(c: Container) -> tuple[bool, Word | None]:
    """Whether the container runs vLLM's HTTP server, and the word that starts it."""
    word = _invocation(c, ("vllm",), ("serve",), VLLM_MODULES)
    if word is not None:
        return True, word
    return _entrypoint_image(c, VLLM_IMAGE), None


def _sglang(c: Container) -> Word | None:
    return _invocation(c, ("sglang",), ("serve", "launch_server"), SGLANG_MODULES)


def _llm_server(c: Container) -> tuple[str, Word | None] | None:
    """("vLLM" | "SGLang", start word) for an OpenAI-compatible LLM server."""
    if c.init:
        return None
    is_vllm, word = _vllm(c)
    if is_vllm:
        return "vLLM", word
    word = _sglang(c)
    if word is not None:
        return "SGLang", word
    return None


def _vllm_option(c: Container, *flag_names: str) -> _Flag | _FileOption | None:
    """A vLLM option from the command line, else from the YAML file given with ``--config``."""
    flag = _flag(c, *flag_names)
    if flag is not None:
        return flag
    config = _config_file(c, "--config")
    if config is None:
        return None
    keys = [n.lstrip("-") for n in flag_names]
    return _yaml_option(config, *keys, *[k.replace("-", "_") for k in keys])


def _option_hit(c: Container, option: _Flag | _FileOption, message: str, **extra: Any) -> Hit:
    if isinstance(option, _FileOption):
        return option.hit(message, **extra)
    return _word_hit(c, option.word, message, head=option.head, **extra)


# =========================================================================================================
# MLS-SRV-009 MLflow
# =========================================================================================================

@rules.rule(
    id="MLS-SRV-009", name="mlflow-server-unauthenticated",
    title="MLflow tracking/registry server without authentication or with its security middleware weakened",
    severity=Severity.CRITICAL, scope=Scope.CONTAINER,
    rationale="""
        The MLflow model registry decides which model version production loads. `mlflow server` has no
        authentication unless started with `--app-name basic-auth` (or put behind an authenticating proxy), so
        anyone who reaches it can download artifacts and register or re-stage a poisoned model version.
        MLflow 3.5+ adds host-header and CORS checks against DNS-rebinding and cross-site attacks from
        browsers; wildcards or `--disable-security-middleware` remove them, and `--gunicorn-opts` /
        `--waitress-opts` run a server where the middleware does not apply. Old releases also carry
        unauthenticated file-read/RCE CVEs (see MLS-SRV-020).""",
    remediation="""
        Start the server with `--app-name basic-auth` (MLflow >= 2.5) or keep it on 127.0.0.1 behind an
        authenticating proxy sidecar / Istio JWT policy; list the real host names in `--allowed-hosts` and the
        real origins in `--cors-allowed-origins`; never pass `--disable-security-middleware`.""",
    bad="""
        args: ["mlflow", "server", "--host", "0.0.0.0", "--backend-store-uri", "postgresql://mlflow@db/mlflow",
               "--default-artifact-root", "s3://ml-models-prod/mlflow", "--cors-allowed-origins", "*"]""",
    good="""
        args: ["mlflow", "server", "--host", "0.0.0.0", "--app-name", "basic-auth",
               "--allowed-hosts", "mlflow.ml.svc.cluster.local,mlflow.internal.example.com",
               "--cors-allowed-origins", "https://notebooks.internal.example.com",
               "--backend-store-uri", "$(MLFLOW_DB_URI)", "--default-artifact-root", "s3://ml-models-prod/mlflow"]
        env:
        - name: MLFLOW_DB_URI
          valueFrom: {secretKeyRef: {name: mlflow-db, key: uri}}""",
    references=(
        "MLflow docs: Tracking Server Security (--allowed-hosts, --cors-allowed-origins, "
        "--disable-security-middleware)", "MLflow docs: Basic HTTP authentication (--app-name basic-auth)",
        "CVE-2023-1177", "CVE-2023-2356", "CVE-2023-2780", "CVE-2023-6015", "CVE-2023-6018", "CVE-2023-6730",
        f"{NSA}: Authentication and authorization", ML05, ML10, LLM03, LLM04,
        *_atlas("AML.T0035", "AML.T0018.000", "AML.T0049"),
    ),
)
def mlflow_server(c: Container) -> Iterator[Hit]:
    start = _invocation(c, ("mlflow",), ("server", "ui"), ("mlflow",))
    if start is None or c.init:
        return
    words = c.argv.words
    position = words.index(start)
    command = f"mlflow {words[position + 1].text}" if position + 1 < len(words) else "mlflow"
    host_flag = _flag(c, "--host", "-h")
    host_env = _env(c, "MLFLOW_HOST")
    if host_flag is not None and host_flag.value is not None:
        host, known = host_flag.value, host_flag.known
        where = _word_hit(c, host_flag.word, "", head=host_flag.head)
    elif host_env is not None:
        host, known = host_env.value or "", host_env.value is not None
        where = _env_hit(host_env, "")
    else:
        host, known, where = "127.0.0.1", True, None  # mlflow's default
    local = known and host in LOCAL_HOSTS
    app = _flag(c, "--app-name")
    auth_app = app is not None and app.value is not None and ("auth" in app.value.lower() or not app.known)
    auth = _auth_layer(c.pod, c, bound_locally=local)
    reach = _reach(c.pod)
    unauthenticated = not auth_app and auth is None
    if where is not None and not local and unauthenticated:
        listen = f"--host {host}" if known else f"a host taken from `{host}` (unknown statically)"
        yield _with(
            where,
            f"{c.display} runs `{command}` on {listen} without `--app-name basic-auth` or an authenticating "
            f"proxy: the tracking server and model registry are {reach.text}; anyone can read artifacts and "
            "register or replace model versions",
            severity=Severity.CRITICAL if reach.external else Severity.HIGH,
            confidence=None if known else Confidence.LOW, related=reach.related())
    # Security middleware (MLflow >= 3.5).
    weakened = Severity.HIGH if unauthenticated and not local else Severity.MEDIUM
    for flag_name, env_name, what in (("--allowed-hosts", "MLFLOW_SERVER_ALLOWED_HOSTS", "host-header (DNS-rebinding)"),
                                      ("--cors-allowed-origins", "MLFLOW_SERVER_CORS_ALLOWED_ORIGINS", "CORS")):
        flag = _flag(c, flag_name)
        env = _env(c, env_name)
        value = flag.value if flag is not None else (env.value if env is not None else None)
        if value is None or "*" not in [v.strip() for v in value.split(",")]:
            continue
        message = f"{c.display} sets {flag_name if flag is not None else env_name}=* and so disables MLflow's " \
                  f"{what} protection"
        severity = weakened if flag_name == "--allowed-hosts" else Severity.MEDIUM
        if flag is not None:
            yield _word_hit(c, flag.word, message, head=flag.head, severity=severity)
        elif env is not None:
            yield _env_hit(env, message, severity=severity)
    disable = _flag(c, "--disable-security-middleware")
    disable_env = _env(c, "MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE")
    if _switch(disable):
        yield _word_hit(c, disable.word, f"{c.display} passes --disable-security-middleware: no host-header, "
                        "CORS or clickjacking protection", head=disable.head, severity=weakened)
    elif disable_env is not None and _truthy(disable_env.value):
        yield _env_hit(disable_env, f"{c.display} sets MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE="
                       f"{disable_env.value}: no host-header, CORS or clickjacking protection", severity=weakened)
    if not local:
        for flag in _flags(c, "--gunicorn-opts", "--waitress-opts"):
            yield _word_hit(c, flag.word, f"{c.display} runs `{command}` with {flag.head}: MLflow's security "
                            "middleware (host-header and CORS checks, MLflow >= 3.5) does not apply to the "
                            "gunicorn/waitress server", head=flag.head, severity=Severity.LOW,
                            confidence=Confidence.MEDIUM)


# =========================================================================================================
# MLS-SRV-010 Jupyter
# =========================================================================================================

JUPYTER_TOKEN_FLAGS = ("--ServerApp.token", "--NotebookApp.token", "--IdentityProvider.token")
JUPYTER_PASSWORD_FLAGS = ("--ServerApp.password", "--NotebookApp.password",
                          "--PasswordIdentityProvider.hashed_password")
JUPYTER_IP_FLAGS = ("--ip", "--ServerApp.ip", "--NotebookApp.ip")
_JUPYTER_CONFIG_FILE = re.compile(r"jupyter_(server|notebook|lab)_config\.(py|json)$")
_PY_EMPTY_TOKEN = re.compile(r"^\s*c\.(ServerApp|NotebookApp|IdentityProvider)\.token\s*=\s*[uUrR]?(''|\"\")\s*(#.*)?$")
_PY_PASSWORD = re.compile(
    r"^\s*c\.(ServerApp|NotebookApp|PasswordIdentityProvider)\.(password|hashed_password)\s*=\s*"
    r"(?!\s*[uUrR]?(''|\"\"))\S")


def _jupyter_config(c: Container) -> tuple[_FileOption | None, bool]:
    """(an empty-token line in a mounted Jupyter config file, whether a mounted config sets a password)."""
    empty, password = None, False
    for file in mounted_files(c):
        if not _JUPYTER_CONFIG_FILE.search(file.path):
            continue
        lines = file.text.splitlines()
        if file.path.endswith(".json"):
            try:
                data = decode_json(file.text)
            except ValueError:
                continue
            for section in ("ServerApp", "NotebookApp", "IdentityProvider"):
                block = data.get(section) if isinstance(data, dict) else None
                if isinstance(block, dict) and block.get("token") == "":
                    offset = next((i for i, line in enumerate(lines) if '"token"' in line), 0)
                    empty = _FileOption(file, offset, "")
                if isinstance(block, dict) and (block.get("password") or block.get("hashed_password")):
                    password = True
            continue
        for offset, line in enumerate(lines):
            if _PY_EMPTY_TOKEN.match(line):
                empty = _FileOption(file, offset, "")
            elif _PY_PASSWORD.match(line):
                password = True
    return empty, password


def _jupyter_amplifiers(c: Container) -> list[str]:
    notes = []
    ip = _flag(c, *JUPYTER_IP_FLAGS)
    if ip is not None and ip.value in ALL_INTERFACES:
        notes.append(f"{ip.head}={ip.value}")
    for flag in _flags(c, "--allow-root", "--ServerApp.allow_root", "--NotebookApp.allow_root"):
        if _switch(flag):
            notes.append(flag.head)
            break
    origin = _flag(c, "--ServerApp.allow_origin", "--NotebookApp.allow_origin")
    if origin is not None and origin.value == "*":
        notes.append(f"{origin.head}='*'")
    xsrf = _flag(c, "--ServerApp.disable_check_xsrf", "--NotebookApp.disable_check_xsrf")
    if _switch(xsrf):
        notes.append(f"{xsrf.head}=True")
    sudo = _env(c, "GRANT_SUDO")
    if sudo is not None and _truthy(sudo.value):
        notes.append(f"GRANT_SUDO={sudo.value}")
    return notes


@rules.rule(
    id="MLS-SRV-010", name="jupyter-auth-disabled", title="Jupyter server with authentication disabled",
    severity=Severity.CRITICAL, scope=Scope.CONTAINER,
    rationale="""
        With an empty token and no password Jupyter logs "All authentication is disabled. Anyone who can
        connect to this server will be able to run code." Notebook pods next to model serving usually hold GPU
        node access, bucket credentials and cloud identities, so whoever reaches the port runs code with all
        of them.""",
    remediation="""
        Remove the empty `--ServerApp.token=` / `--NotebookApp.token=''` / `--IdentityProvider.token=` settings
        and give the server a token from a Secret (`JUPYTER_TOKEN` via `secretKeyRef`), or run it behind
        JupyterHub / Kubeflow central authentication with an authenticating proxy and keep the pod ClusterIP-only.""",
    bad="""
        args: ["start-notebook.py", "--ServerApp.token=", "--ServerApp.password=", "--ip=0.0.0.0", "--allow-root"]""",
    good="""
        args: ["start-notebook.py", "--ip=0.0.0.0"]
        env:
        - name: JUPYTER_TOKEN
          valueFrom: {secretKeyRef: {name: nb-token, key: token}}""",
    references=(
        "Jupyter Server docs: Security in the Jupyter Server (token authentication on by default)",
        f"{NSA}: Authentication and authorization", ML05, ML06, LLM02,
        *_atlas("AML.T0049", "AML.T0050", "AML.T0055"),
    ),
)
def jupyter_auth_disabled(c: Container) -> Iterator[Hit]:
    if c.init:
        return
    token = _flag(c, *JUPYTER_TOKEN_FLAGS)
    password = _flag(c, *JUPYTER_PASSWORD_FLAGS)
    config_token, config_password = _jupyter_config(c)
    if config_password or (password is not None and password.value is not None and
                           (password.value or not password.known)):
        return  # a password keeps authentication on even without a token
    is_jupyter = "jupyter" in identify(c) or c.obj.kind == "Notebook"
    where: Hit | None = None
    if token is not None:
        if token.value is None or token.value != "" or not token.known:
            return
        where = _word_hit(c, token.word, "", head=token.head)
        what = f"sets {token.head} to an empty string"
    elif config_token is not None:
        where = config_token.hit("")
        what = f"mounts {config_token.file.path}, which sets an empty token"
    elif is_jupyter:
        env = _env(c, "JUPYTER_TOKEN")
        if env is None or env.value is None or env.value.strip() != "":
            return
        yield _env_hit(env, f"{c.display} sets JUPYTER_TOKEN to an empty string: Jupyter itself then generates "
                       "a random token, but entrypoints that pass it on as --*.token=$JUPYTER_TOKEN disable "
                       "authentication; take the token from a Secret", severity=Severity.MEDIUM,
                       confidence=Confidence.LOW)
        return
    if where is None:
        return
    ip = _flag(c, *JUPYTER_IP_FLAGS)
    local = ip is not None and ip.value in LOCAL_HOSTS
    if _auth_layer(c.pod, c, bound_locally=local) is not None:
        return
    reach = _reach(c.pod)
    notes = _jupyter_amplifiers(c)
    extra = f" (also {', '.join(notes)})" if notes else ""
    if local:
        severity, scope = Severity.LOW, "listens on localhost only: any container of the pod can run code"
    elif reach.external:
        severity, scope = Severity.CRITICAL, f"is {reach.text}: anyone who connects runs code"
    elif c.obj.kind == "Notebook":
        severity = Severity.HIGH
        scope = ("relies on Kubeflow's central authentication in front of it; anything that reaches the pod "
                 "directly runs code")
    else:
        severity, scope = Severity.CRITICAL, f"is {reach.text}: anyone who connects runs code"
    yield _with(where, f"{c.display} {what} and sets no password, so Jupyter authentication is disabled; the "
                f"server {scope}{extra}", severity=severity, related=reach.related())


# =========================================================================================================
# MLS-SRV-012 vLLM / SGLang API key
# =========================================================================================================

@rules.rule(
    id="MLS-SRV-012", name="llm-server-without-api-key",
    title="vLLM / SGLang OpenAI-compatible server without an API key, or relying on --api-key alone",
    severity=Severity.HIGH, scope=Scope.CONTAINER,
    rationale="""
        vLLM and SGLang serve an OpenAI-compatible API with no authentication unless `--api-key` (or
        `VLLM_API_KEY`) is set: anyone who reaches the port spends GPU time, reads prompts and completions and
        can extract the model. Even with a key, vLLM only checks the `/v1`, `/v2`, `/inference` prefixes;
        `/invocations` (full inference), `/pause`, `/update_weights`, `/tokenize` and other endpoints stay
        open, so a server published directly (LoadBalancer/NodePort) needs a path allow-list in front of it.""",
    remediation="""
        Set `VLLM_API_KEY` (vLLM) or `--api-key` from a Secret, publish the server only through a proxy, HTTPRoute
        or VirtualService that forwards just `/v1/chat/completions`, `/v1/completions` (and what clients need),
        and keep `--allowed-origins` explicit when `--allow-credentials` is on.""",
    bad="""
        args: ["vllm", "serve", "meta-llama/Llama-3.1-8B-Instruct", "--host", "0.0.0.0", "--port", "8000"]""",
    good="""
        args: ["vllm", "serve", "/models/llama-3.1-8b", "--host", "0.0.0.0", "--port", "8000",
               "--disable-fastapi-docs", "--allowed-origins", "[\\"https://app.example.com\\"]"]
        env:
        - name: VLLM_API_KEY
          valueFrom: {secretKeyRef: {name: vllm-api, key: key}}""",
    references=(
        "vLLM docs: Security - API Key Authentication Limitations", "SGLang docs: server arguments (--api-key)",
        f"{NSA}: Authentication and authorization", LLM10, LLM02, ML05,
        *_atlas("AML.T0040", "AML.T0034", "AML.T0029", "AML.T0024.002"),
    ),
)
def llm_server_api_key(c: Container) -> Iterator[Hit]:
    server = _llm_server(c)
    if server is None:
        return
    engine, start = server
    host = _flag(c, "--host")
    local = host is not None and host.value in LOCAL_HOSTS
    anchor = _anchor(c, start)
    reach = _reach(c.pod)
    key_flag = _vllm_option(c, "--api-key") if engine == "vLLM" else _flag(c, "--api-key")
    if isinstance(key_flag, _FileOption):
        has_key: bool | None = bool(key_flag.value)
    else:
        has_key = _is_set(c, "VLLM_API_KEY" if engine == "vLLM" else "", "--api-key")
    auth = _auth_layer(c.pod, c, bound_locally=local)
    if not local and auth is None:
        if has_key is False:
            yield _with(anchor, f"{c.display} runs the {engine} OpenAI-compatible server without --api-key"
                        f"{' or VLLM_API_KEY' if engine == 'vLLM' else ''}: it is {reach.text}, and any caller "
                        "can run inference on its GPUs and read prompts and outputs",
                        severity=Severity.HIGH if reach.external else Severity.MEDIUM, related=reach.related())
        elif has_key is None:
            yield _with(anchor, f"{c.display} runs the {engine} OpenAI-compatible server without --api-key; "
                        f"VLLM_API_KEY may come from {_env_may_hide(c)}, which the scan cannot read; the server "
                        f"is {reach.text}", severity=Severity.HIGH if reach.external else Severity.MEDIUM,
                        confidence=Confidence.LOW, related=reach.related())
        elif engine == "vLLM" and reach.route is not None and reach.route.obj.kind == "Service":
            yield _with(anchor, f"{c.display} relies on --api-key alone while {reach.text}: vLLM checks the key "
                        "only under /v1, /v2 and /inference, so /invocations, /pause, /update_weights, "
                        "/tokenize and other endpoints answer anyone; put a path allow-list proxy in front",
                        severity=Severity.MEDIUM, related=reach.related())
    credentials = _flag(c, "--allow-credentials")
    if credentials is not None and _switch(credentials):
        origins = _flag(c, "--allowed-origins")
        if origins is None or (origins.value is not None and "*" in origins.value):
            yield _word_hit(c, credentials.word, f"{c.display} passes --allow-credentials with "
                            f"{'no --allowed-origins (default *)' if origins is None else '--allowed-origins *'}: "
                            "any web page can call the server with the user's credentials",
                            head=credentials.head, severity=Severity.MEDIUM)


# =========================================================================================================
# MLS-SRV-013 vLLM development / runtime-mutation switches
# =========================================================================================================

@rules.rule(
    id="MLS-SRV-013", name="vllm-dev-switches", title="vLLM development or runtime-mutation switches enabled",
    severity=Severity.CRITICAL, scope=Scope.CONTAINER,
    rationale="""
        `VLLM_SERVER_DEV_MODE=1` adds development endpoints such as `/collective_rpc`, which runs arbitrary
        RPCs on the engine workers without authentication. Runtime LoRA updating lets any caller load an
        adapter and change what the model answers; the tokenizer-info endpoint leaks chat templates; the
        profiler endpoints and the demo tool server give callers control the production API should not offer.""",
    remediation="""
        Remove `VLLM_SERVER_DEV_MODE` and `VLLM_ALLOW_RUNTIME_LORA_UPDATING`; load LoRA adapters statically with
        `--lora-modules name=/models/adapters/a` from a read-only volume; drop `--enable-tokenizer-info-endpoint`,
        `--profiler-config` (and `VLLM_TORCH_PROFILER_DIR`), `--tokens-only` and `--tool-server demo` in production.""",
    bad="""
        env: [{name: VLLM_SERVER_DEV_MODE, value: "1"}, {name: VLLM_ALLOW_RUNTIME_LORA_UPDATING, value: "True"}]
        args: ["vllm", "serve", "/models/m", "--enable-lora", "--tool-server", "demo"]""",
    good="""
        args: ["vllm", "serve", "/models/m", "--enable-lora", "--lora-modules", "support=/models/adapters/support"]""",
    references=(
        "vLLM docs: Security (development endpoints, /collective_rpc, LoRA update endpoints, tool server)",
        LLM04, LLM06, ML10, *_atlas("AML.T0018.000", "AML.T0050"),
    ),
)
def vllm_dev_switches(c: Container) -> Iterator[Hit]:
    if c.init:
        return
    dev = _env(c, "VLLM_SERVER_DEV_MODE")
    if dev is not None and _truthy(dev.value):
        yield _env_hit(dev, f"{c.display} sets VLLM_SERVER_DEV_MODE={dev.value}: development endpoints such as "
                       "/collective_rpc run arbitrary RPCs on the engine without authentication")
    is_vllm, _ = _vllm(c)
    lora_env = _env(c, "VLLM_ALLOW_RUNTIME_LORA_UPDATING")
    if lora_env is not None and _truthy(lora_env.value):
        enabled = _switch(_vllm_option(c, "--enable-lora"))
        if enabled or not is_vllm:
            yield _env_hit(lora_env, f"{c.display} sets VLLM_ALLOW_RUNTIME_LORA_UPDATING={lora_env.value}"
                           f"{' with --enable-lora' if enabled else ''}: any caller can load or unload LoRA "
                           "adapters through /v1/load_lora_adapter and change the model's behaviour",
                           severity=Severity.HIGH, confidence=None if enabled else Confidence.MEDIUM)
    profiler_env = _env(c, "VLLM_TORCH_PROFILER_DIR")
    if profiler_env is not None and (profiler_env.value is None or profiler_env.value.strip()):
        yield _env_hit(profiler_env, f"{c.display} sets VLLM_TORCH_PROFILER_DIR: the /start_profile and "
                       "/stop_profile endpoints are enabled for every caller", severity=Severity.MEDIUM)
    if not is_vllm:
        return
    checks = (
        (("--enable-tokenizer-info-endpoint",), Severity.MEDIUM,
         "enables /tokenizer_info, which discloses the chat template and tokenizer configuration"),
        (("--profiler-config",), Severity.MEDIUM, "enables the profiler endpoints for every caller"),
        (("--tokens-only",), Severity.MEDIUM, "enables the tokens-only mode that exposes /abort_requests"),
    )
    for names, severity, text in checks:
        option = _vllm_option(c, *names)
        if option is None or (names[0] != "--profiler-config" and not _switch(option)):
            continue
        yield _option_hit(c, option, f"{c.display} {text}", severity=severity)
    tool = _vllm_option(c, "--tool-server")
    if tool is not None and tool.value is not None and "demo" in tool.value.split(","):
        yield _option_hit(c, tool, f"{c.display} runs --tool-server demo: the demo code-interpreter and browser "
                          "tools execute model-chosen code and fetch model-chosen URLs without isolation",
                          severity=Severity.HIGH)


# =========================================================================================================
# MLS-SRV-014 Distributed-inference control channels
# =========================================================================================================

MULTI_NODE_FLAGS = ("--data-parallel-address", "--data-parallel-rpc-port", "--data-parallel-start-rank", "--headless",
                    "--kv-ip", "--nnodes", "--node-rank", "--dist-init-addr", "--master-addr",
                    "--disaggregation-mode")
NETWORK_KV_CONNECTORS = ("PyNcclConnector", "P2pNcclConnector", "NixlConnector", "MooncakeConnector",
                         "MooncakeStoreConnector", "MooncakeConnectorV1", "LMCacheConnectorV1Dynamic")
CONTROL_PORTS = {29500: "torch.distributed / data-parallel master", 14579: "KV-cache transfer",
                 5557: "NIXL side channel", 8998: "SGLang disaggregation bootstrap"}
TRTLLM_IMAGE = re.compile(r"tensorrt[-_]?llm|trtllm", re.I)


def _engine(c: Container) -> str | None:
    if c.init:
        return None
    repository = image_repository(c.image).lower()
    if _vllm(c)[0] or _invocation(c, ("vllm",), (), ()) is not None or "vllm" in repository or \
            repository.endswith("rayproject/ray-llm"):
        return "vLLM"
    if _sglang(c) is not None or "sglang" in c.image.lower():
        return "SGLang"
    if _invocation(c, ("trtllm-serve", "trtllm-llmapi-launch"), ()) is not None or TRTLLM_IMAGE.search(c.image):
        return "TensorRT-LLM"
    return None


def _kv_config(c: Container) -> tuple[_Flag, dict | None] | None:
    flag = _flag(c, "--kv-transfer-config", "--kv_transfer_config")
    if flag is None or flag.value is None:
        return None
    try:
        data = decode_json(flag.value)
    except ValueError:
        data = None
    return flag, data if isinstance(data, dict) else None


def _kv_over_network(c: Container) -> bool:
    """--kv-transfer-config with a connector that moves KV cache between pods (not local CPU/disk offloading)."""
    config = _kv_config(c)
    if config is None:
        return False
    flag, data = config
    if not flag.known:
        return False  # the connector is not visible statically
    if data is None:
        return bool(re.search("|".join(NETWORK_KV_CONNECTORS), flag.value or ""))
    connector = str(data.get("kv_connector", ""))
    return connector in NETWORK_KV_CONNECTORS or "kv_ip" in data or "kv_port" in data or \
        data.get("kv_role") in ("kv_producer", "kv_consumer")


_PIPELINE_ACROSS = re.compile(r"pipeline[_-]parallel[_-]size[\"']?\s*[:=]?\s*[\"']?([2-9]|[1-9]\d)\b")


def _ray_pipeline_across_pods(pod: PodSpec, engines: list[tuple[Container, str]]) -> bool:
    """A KubeRay cluster whose vLLM engine is split into pipeline stages, which Ray places on several pods.

    Tensor parallelism inside one replica usually stays in one pod; the Ray channels themselves are MLS-SRV-008.
    """
    spec = pod.obj.get("spec")
    if not isinstance(spec, dict):
        return False
    groups: list = []
    for prefix in ((), ("rayClusterConfig",), ("rayClusterSpec",)):
        found = get_path(spec, prefix + ("workerGroupSpecs",))
        if isinstance(found, list):
            groups.extend(found)
    if not any(isinstance(g, dict) and (g.get("replicas") or g.get("maxReplicas")) for g in groups):
        return False
    serve_config = spec.get("serveConfigV2")
    texts = [serve_config if isinstance(serve_config, str) else ""] + [c.argv.text for c, _ in engines]
    return any(_PIPELINE_ACROSS.search(text) for text in texts)


def _multi_node(pod: PodSpec, engines: list[tuple[Container, str]]) -> str | None:
    if pod.obj.kind == "LeaderWorkerSet":
        return "LeaderWorkerSet topology"
    if pod.obj.kind in ("RayCluster", "RayService", "RayJob") and pod.role != "submitter" and \
            _ray_pipeline_across_pods(pod, engines):
        return "pipeline-parallel stages across KubeRay worker pods"
    for c, _ in engines:
        if _kv_over_network(c):
            data = _kv_config(c)[1] or {}
            return f"--kv-transfer-config {data.get('kv_connector', '')}".strip()
        for name in MULTI_NODE_FLAGS:
            flag = _flag(c, name)
            if flag is not None:
                return flag.head
        for name in ("MASTER_ADDR", "VLLM_DP_MASTER_IP", "LWS_LEADER_ADDRESS"):
            if _env(c, name) is not None:
                return name
    return None


def _port_numbers(c: Container, extra: dict[int, str]) -> dict[int, str]:
    ports = dict(CONTROL_PORTS)
    ports.update(extra)
    for name, what in (("--data-parallel-rpc-port", "data-parallel RPC"), ("--kv-port", "KV-cache transfer"),
                       ("--master-port", "torch.distributed master")):
        flag = _flag(c, name)
        if flag is not None and flag.value and flag.value.isdigit():
            ports[int(flag.value)] = what
    return ports


@rules.rule(
    id="MLS-SRV-014", name="distributed-inference-channels-exposed",
    title="Distributed-inference control channels (torch.distributed, ZMQ, KV-cache transfer) beyond a private network",
    severity=Severity.CRITICAL, scope=Scope.POD, supersedes=("KUBE-006", "KUBE-020"),
    rationale="""
        Multi-node vLLM, SGLang and TensorRT-LLM deployments talk over torch.distributed TCPStore, ZMQ and
        KV-cache transfer channels that have no authentication and in several engines deserialize pickle
        (CVE-2025-47277 PyNcclPipe, CVE-2025-32444 Mooncake, CVE-2025-30165, CVE-2024-11041, the "ShadowMQ"
        pattern). vLLM's own guidance is to keep them on an isolated network: host networking, binding KV
        transfer to 0.0.0.0, publishing the ports through a LoadBalancer/NodePort Service, or leaving the pods
        open to every other pod turns them into unauthenticated remote code execution.""",
    remediation="""
        Keep `hostNetwork: false`, bind KV transfer to the pod IP (`VLLM_HOST_IP` from `status.podIP`, `kv_ip`
        not 0.0.0.0), never publish ports 29500/14579/5557 outside the cluster, and add a NetworkPolicy that only
        lets pods of the same inference group reach them. Upgrade vLLM to >= 0.9.0.""",
    bad="""
        hostNetwork: true
        containers:
        - args: ["vllm", "serve", "/models/m", "--kv-transfer-config",
                 '{"kv_connector":"PyNcclConnector","kv_ip":"0.0.0.0"}']""",
    good="""
        hostNetwork: false
        containers:
        - image: vllm/vllm-openai:v0.9.2@sha256:<digest>
          env: [{name: VLLM_HOST_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}]
        # + NetworkPolicy: ports 14579/29500 only from podSelector {app: llm-group-a}""",
    references=(
        "vLLM docs: Security - Inter-Node Communication", "vllm-project/vllm GHSA-hj4w-hm2g-p6w5",
        "CVE-2025-47277", "CVE-2025-32444", "CVE-2025-30165", "CVE-2024-11041", "Oligo: ShadowMQ",
        f"{CIS} 5.2.5", f"{CIS} 5.3.2", f"{NSA}: Network separation and hardening", ML10, ML05, LLM03,
        *_atlas("AML.T0049", "AML.T0011.000", "AML.T0072"),
    ),
)
def distributed_channels(pod: PodSpec) -> Iterator[Hit]:
    engines = [(c, engine) for c in pod.containers if (engine := _engine(c)) is not None]
    if not engines:
        return
    multi = _multi_node(pod, engines)
    if multi is None:
        return
    names = ", ".join(sorted({e for _, e in engines}))
    if pod.get("hostNetwork") is True:
        yield Hit(pod.at("hostNetwork"), f"{pod.display} runs multi-node {names} ({multi}) with hostNetwork: true: "
                  "the unauthenticated torch.distributed/ZMQ/KV-transfer listeners bind on the node's interfaces")
    extra_ports: dict[int, str] = {}
    for c, engine in engines:
        kv_ip = _flag(c, "--kv-ip")
        if kv_ip is not None and kv_ip.value in ALL_INTERFACES and kv_ip.value:
            yield _word_hit(c, kv_ip.word, f"{c.display} binds KV-cache transfer to --kv-ip {kv_ip.value}",
                            head=kv_ip.head)
        config = _kv_config(c)
        if config is not None:
            flag, data = config
            ip = str(data.get("kv_ip", "")) if data else ""
            if not data:
                match = re.search(r"kv_ip\W+([0-9a-fA-F:.\[\]]+)", flag.value or "")
                ip = match.group(1) if match else ""
            if ip in ("0.0.0.0", "::", "[::]"):
                yield _word_hit(c, flag.word, f"{c.display} sets kv_ip {ip} in --kv-transfer-config: the "
                                f"{(data or {}).get('kv_connector', 'KV')} transfer channel listens on all interfaces",
                                head=flag.head)
            if data and str(data.get("kv_port", "")).isdigit():
                extra_ports[int(data["kv_port"])] = "KV-cache transfer"
    ports = {}
    for c, _ in engines:
        ports.update(_port_numbers(c, extra_ports))
    for service in _services_for(pod):
        exposure = external_exposure(service)
        if exposure is None:
            continue
        service_ports = service.get("spec", "ports")
        for index, port in enumerate(service_ports if isinstance(service_ports, list) else ()):
            if not isinstance(port, dict):
                continue
            target = port.get("targetPort", port.get("port"))
            number = target if isinstance(target, int) else port.get("port")
            if isinstance(number, int) and number in ports:
                yield Hit(service.at("spec", "ports", index), f"{service.ref} ({exposure}) publishes port {number} "
                          f"({ports[number]}) of {pod.display}, an unauthenticated multi-node {names} control channel",
                          obj=service, related=(RelatedHit(pod.obj, pod.path, f"{pod.display} runs {names}"),))
    if pod.get("hostNetwork") is not True and not _network_policies(pod, "Ingress"):
        yield Hit(pod.meta_path + ("labels",) if pod.meta_path else pod.path,
                  f"{pod.display} runs multi-node {names} ({multi}) and no NetworkPolicy in namespace "
                  f"`{pod.obj.effective_namespace}` selects it: every pod in the cluster can reach its "
                  "unauthenticated control channels", severity=Severity.HIGH, confidence=Confidence.MEDIUM)


# =========================================================================================================
# MLS-SRV-015 Multimodal SSRF
# =========================================================================================================

MULTIMODAL_MODEL = re.compile(
    r"-vl\b|-vl-|llava|qwen[0-9.]*-?vl|qwen[0-9.]*-omni|pixtral|whisper|gemma-3|internvl|idefics|paligemma|"
    r"minicpm-v|-vision|molmo|phi-4-multimodal", re.I)


def _served_model(c: Container, start: Word | None) -> _Flag | Word | None:
    model = _flag(c, "--model")
    if model is not None and model.value:
        return model
    if start is not None and _basename(start.text) == "vllm":
        return c.argv.positional_after(start, skip=("serve",))
    return None


@rules.rule(
    id="MLS-SRV-015", name="multimodal-ssrf", title="Multimodal URL fetching without an SSRF allow-list",
    severity=Severity.MEDIUM, scope=Scope.CONTAINER, confidence=Confidence.MEDIUM,
    rationale="""
        A multimodal vLLM server downloads the image, audio and video URLs found in prompts. Without
        `--allowed-media-domains` any caller (or any document injected into a prompt) makes the server fetch
        `http://169.254.169.254/` or internal services, and a pod with a cloud identity hands out its
        credentials. Following redirects defeats an allow-list.""",
    remediation="""
        Set `--allowed-media-domains` to the CDN hosts clients really use, set `VLLM_MEDIA_URL_ALLOW_REDIRECTS=0`,
        and add an egress NetworkPolicy that blocks the metadata endpoint and internal ranges.""",
    bad='args: ["vllm", "serve", "Qwen/Qwen2.5-VL-7B-Instruct"]',
    good="""
        args: ["vllm", "serve", "/models/qwen2.5-vl", "--allowed-media-domains", "cdn.example.com"]
        env: [{name: VLLM_MEDIA_URL_ALLOW_REDIRECTS, value: "0"}]""",
    references=(
        "vLLM docs: Security - Restrict Domains Access for Media URLs", LLM01, LLM02,
        *_atlas("AML.T0049", "AML.T0075", "AML.T0106"),
    ),
)
def multimodal_ssrf(c: Container) -> Iterator[Hit]:
    server = _llm_server(c)
    if server is None or server[0] != "vLLM":
        return
    start = server[1]
    limit = _vllm_option(c, "--limit-mm-per-prompt")
    model = _served_model(c, start)
    model_name = model.value if isinstance(model, _Flag) else (model.text if model is not None else "")
    if limit is None and not (model_name and MULTIMODAL_MODEL.search(model_name)):
        return
    domains = _vllm_option(c, "--allowed-media-domains")
    identity = _cloud_identity(c.pod)
    egress = _network_policies(c.pod, "Egress")
    if domains is None:
        if limit is not None:
            where = _option_hit(c, limit, "")
            why = "accepts media in prompts (--limit-mm-per-prompt)"
        else:
            where = _word_hit(c, model.word if isinstance(model, _Flag) else model, "", head=model_name)
            why = f"serves the multimodal model `{model_name}`"
        if identity:
            severity, extra = Severity.HIGH, f"; its service account carries a cloud identity ({identity})"
        elif egress:
            severity, extra = Severity.LOW, f"; egress NetworkPolicy {egress[0].ref} limits where it can connect"
        else:
            severity, extra = Severity.MEDIUM, "; no egress NetworkPolicy selects the pod"
        yield _with(where, f"{c.display} {why} without --allowed-media-domains: any prompt can make it fetch "
                    f"internal URLs such as the cloud metadata endpoint{extra}", severity=severity)
    else:
        redirects = _env(c, "VLLM_MEDIA_URL_ALLOW_REDIRECTS")
        if redirects is None or (redirects.value is not None and redirects.value.strip() not in FALSY):
            message = f"{c.display} restricts media domains but {'does not set' if redirects is None else 'sets'} " \
                      f"VLLM_MEDIA_URL_ALLOW_REDIRECTS{'' if redirects is None else '=' + str(redirects.value)}: " \
                      "an allowed host that redirects sends the fetch anywhere"
            if redirects is None:
                yield _option_hit(c, domains, message, severity=Severity.LOW)
            else:
                yield _env_hit(redirects, message, severity=Severity.LOW)
    local = _vllm_option(c, "--allowed-local-media-path")
    if local is not None and local.value is not None and local.value.rstrip("/") == "":
        yield _option_hit(c, local, f"{c.display} sets --allowed-local-media-path / : prompts can read any file "
                          "of the container through file:// media URLs", severity=Severity.MEDIUM)


# =========================================================================================================
# MLS-SRV-016 TGI / TEI
# =========================================================================================================

HF_IMAGE = re.compile(r"text-generation-inference|text-embeddings-inference")


@rules.rule(
    id="MLS-SRV-016", name="tgi-tei-unauthenticated",
    title="Hugging Face TGI / TEI without API key, with a public tunnel, or with wildcard CORS",
    severity=Severity.HIGH, scope=Scope.CONTAINER,
    rationale="""
        Text Generation Inference and Text Embeddings Inference listen on all interfaces and, by default,
        answer every request: without `--api-key` anyone who reaches the port uses the GPUs and reads the
        traffic. `--ngrok` publishes the server through a public tunnel, bypassing every network control of
        the cluster, and a wildcard CORS origin lets any web page call it from a user's browser.""",
    remediation="""
        Set `API_KEY` from a Secret (or `--api-key`), remove `--ngrok`/`NGROK*` settings, and list real origins in
        `--cors-allow-origin`.""",
    bad="env: [{name: MODEL_ID, value: tiiuae/falcon-7b}, {name: NGROK, value: \"true\"}]",
    good="""
        env:
        - {name: MODEL_ID, value: /data/falcon-7b}
        - name: API_KEY
          valueFrom: {secretKeyRef: {name: tgi, key: api-key}}""",
    references=(
        "Hugging Face TGI launcher reference (--api-key, --ngrok, --cors-allow-origin)",
        "Hugging Face TEI README (--hostname 0.0.0.0 default, --api-key)",
        f"{NSA}: Authentication and authorization", LLM10, LLM02, *_atlas("AML.T0040", "AML.T0034"),
    ),
)
def tgi_tei(c: Container) -> Iterator[Hit]:
    if c.init:
        return
    start = _invocation(c, ("text-generation-launcher", "text-embeddings-router"))
    if start is None and not _entrypoint_image(c, HF_IMAGE):
        return
    kind = "TEI" if (start is not None and "embeddings" in start.text) or "embeddings" in c.image else "TGI"
    anchor = _anchor(c, start)
    hostname = _flag(c, "--hostname")
    local = hostname is not None and hostname.value in LOCAL_HOSTS
    has_key = _is_set(c, "API_KEY", "--api-key")
    reach = _reach(c.pod)
    if not local and _auth_layer(c.pod, c) is None and has_key is not True:
        unknown = has_key is None
        yield _with(anchor, f"{c.display} runs {kind} without --api-key or API_KEY"
                    f"{f' (API_KEY may come from {_env_may_hide(c)})' if unknown else ''}: it answers every "
                    f"request and is {reach.text}", severity=Severity.HIGH if reach.external else Severity.MEDIUM,
                    confidence=Confidence.LOW if unknown else None, related=reach.related())
    ngrok = _flag(c, "--ngrok")
    ngrok_env = _env(c, "NGROK")
    token_env = _env(c, "NGROK_AUTHTOKEN")
    if _switch(ngrok):
        yield _word_hit(c, ngrok.word, f"{c.display} runs {kind} with --ngrok: the server is published on the "
                        "internet through an ngrok tunnel", head=ngrok.head)
    elif ngrok_env is not None and _truthy(ngrok_env.value):
        yield _env_hit(ngrok_env, f"{c.display} sets NGROK={ngrok_env.value}: {kind} is published on the internet "
                       "through an ngrok tunnel")
    elif token_env is not None:
        yield _env_hit(token_env, f"{c.display} provides NGROK_AUTHTOKEN to {kind}: it is ready to publish the "
                       "server through an ngrok tunnel", confidence=Confidence.MEDIUM)
    cors = _flag(c, "--cors-allow-origin")
    cors_env = _env(c, "CORS_ALLOW_ORIGIN")
    if cors is not None and cors.value is not None and "*" in cors.value.split(","):
        yield _word_hit(c, cors.word, f"{c.display} sets --cors-allow-origin * for {kind}: any web page can call "
                        "it", head=cors.head, severity=Severity.MEDIUM)
    elif cors_env is not None and cors_env.value is not None and "*" in cors_env.value.split(","):
        yield _env_hit(cors_env, f"{c.display} sets CORS_ALLOW_ORIGIN=* for {kind}: any web page can call it",
                       severity=Severity.MEDIUM)


# =========================================================================================================
# MLS-SRV-017 Ollama
# =========================================================================================================

OLLAMA_IMAGE = re.compile(r"(^|/)ollama/ollama$")


def _host_part(value: str) -> str:
    """The host of ``OLLAMA_HOST``-style values: ``0.0.0.0:11434``, ``http://[::]:11434``, ``:11434``."""
    value = value.strip().strip("'\"")
    value = re.sub(r"^[a-z]+://", "", value).split("/", 1)[0]
    if value.startswith("["):
        return value[: value.find("]") + 1] if "]" in value else value
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


@rules.rule(
    id="MLS-SRV-017", name="ollama-unauthenticated", title="Ollama API exposed without an authenticating proxy",
    severity=Severity.HIGH, scope=Scope.CONTAINER,
    rationale="""
        Ollama has no authentication at all. Bound to all interfaces (the `ollama/ollama` image sets
        `OLLAMA_HOST=0.0.0.0` by default), anyone who reaches port 11434 can generate on its GPUs, pull
        arbitrary models (`/api/pull`, the path of the Probllama RCE CVE-2024-37032) and delete or replace the
        models other services rely on. `OLLAMA_ORIGINS=*` lets any web page drive it from a user's browser.""",
    remediation="""
        Bind Ollama to 127.0.0.1 and put an authenticating proxy (oauth2-proxy, Istio RequestAuthentication +
        AuthorizationPolicy) in front of it, keep its Service ClusterIP, and list real origins in
        `OLLAMA_ORIGINS`.""",
    bad="""
        env: [{name: OLLAMA_HOST, value: "0.0.0.0"}, {name: OLLAMA_ORIGINS, value: "*"}]
        # + Service type: LoadBalancer, port 11434""",
    good="""
        env: [{name: OLLAMA_HOST, value: "127.0.0.1:11434"}, {name: OLLAMA_ORIGINS, value: "https://chat.example.com"}]
        # + oauth2-proxy sidecar listening on 4180, ClusterIP Service targeting 4180""",
    references=(
        "Tenable plugin 302134: Ollama Unauthenticated Access", "CVE-2024-37032",
        f"{NSA}: Authentication and authorization", LLM10, ML05, *_atlas("AML.T0040", "AML.T0034", "AML.T0018.000"),
    ),
)
def ollama_unauthenticated(c: Container) -> Iterator[Hit]:
    if c.init:
        return
    start = _invocation(c, ("ollama",), ("serve",))
    image = bool(OLLAMA_IMAGE.search(image_repository(c.image).lower())) if c.image else False
    if start is None and not image:
        return
    host_env = _env(c, "OLLAMA_HOST")
    if host_env is not None and host_env.value is not None:
        host = _host_part(host_env.value)
        where = _env_hit(host_env, "")
        how = f"OLLAMA_HOST={host_env.value}"
    elif host_env is None and image:
        host = "0.0.0.0"
        where = Hit(c.at("env"), "") if c.get("env") is not None else Hit(c.at("image"), "")
        how = "the image's default OLLAMA_HOST=0.0.0.0"
    else:
        host, where, how = "127.0.0.1", None, ""
    if where is not None and host in ALL_INTERFACES and _auth_layer(c.pod, c) is None:
        reach = _reach(c.pod)
        yield _with(where, f"{c.display} runs Ollama on all interfaces ({how}) with no authentication in front: "
                    f"it is {reach.text}; any caller can generate, pull and delete models",
                    severity=Severity.HIGH if reach.external else Severity.MEDIUM, related=reach.related())
    origins = _env(c, "OLLAMA_ORIGINS")
    if origins is not None and origins.value is not None and "*" in [o.strip() for o in origins.value.split(",")]:
        yield _env_hit(origins, f"{c.display} sets OLLAMA_ORIGINS={origins.value}: any web page can call the "
                       "Ollama API from a user's browser", severity=Severity.MEDIUM)


# =========================================================================================================
# MLS-SRV-018 Gradio, Streamlit, TensorBoard, Langflow
# =========================================================================================================

LANGFLOW_IMAGE = re.compile(r"(^|/)langflow(-backend|-ide)?$")
_TOML_FALSE = re.compile(r"^\s*(enableXsrfProtection|enableCORS)\s*=\s*false\b", re.I)


def _exposure_hit(c: Container, where: Hit, app: str, how: str) -> Iterator[Hit]:
    if _auth_layer(c.pod, c) is not None:
        return
    reach = _reach(c.pod)
    yield _with(where, f"{c.display} runs {app} on all interfaces ({how}) and {app} has no authentication of its "
                f"own: it is {reach.text}", severity=Severity.HIGH if reach.external else Severity.MEDIUM,
                related=reach.related())


@rules.rule(
    id="MLS-SRV-018", name="browser-ml-app-unauthenticated",
    title="Browser ML app exposed without authentication: Gradio, Streamlit, TensorBoard, Langflow",
    severity=Severity.HIGH, scope=Scope.CONTAINER,
    rationale="""
        Gradio, Streamlit and TensorBoard have no authentication, run model code on behalf of visitors and had
        repeated unauthenticated file-read and RCE vulnerabilities (Gradio CVE-2023-51449, CVE-2024-1561,
        CVE-2024-1728). Langflow logs every visitor in as superuser unless `LANGFLOW_AUTO_LOGIN=false`, and a
        superuser runs arbitrary Python in custom components (CVE-2025-3248 was exploited in the wild). Gradio
        share links publish the app on a public `*.gradio.live` address.""",
    remediation="""
        Keep these apps on 127.0.0.1 or behind an authenticating proxy (oauth2-proxy sidecar, ingress
        `auth-url`, Istio JWT policy); never disable Streamlit's XSRF/CORS protection; set
        `LANGFLOW_AUTO_LOGIN=false` with a superuser password from a Secret; do not enable Gradio share links.""",
    bad="""
        env: [{name: GRADIO_SERVER_NAME, value: "0.0.0.0"}]
        # + Service type: LoadBalancer""",
    good="""
        env: [{name: GRADIO_SERVER_NAME, value: "127.0.0.1"}]
        # + oauth2-proxy sidecar in front, ClusterIP Service targeting the proxy""",
    references=(
        "Gradio guide: Environment Variables (GRADIO_SERVER_NAME default 127.0.0.1); sharing your app",
        "Streamlit docs: config options server.enableXsrfProtection / server.enableCORS",
        "Langflow docs: API keys and authentication (LANGFLOW_AUTO_LOGIN)",
        "CVE-2023-51449", "CVE-2024-1561", "CVE-2024-1728", "CVE-2025-3248",
        f"{NSA}: Authentication and authorization", ML06, LLM05, *_atlas("AML.T0049", "AML.T0050"),
    ),
)
def browser_ml_apps(c: Container) -> Iterator[Hit]:
    if c.init:
        return
    servers = identify(c)
    opened = False  # a finding already says the app is open on all interfaces
    # Gradio: the variables are Gradio's own, whatever the image.
    gradio_host = _env(c, "GRADIO_SERVER_NAME")
    if gradio_host is not None and gradio_host.value is not None and gradio_host.value.strip() in ALL_INTERFACES:
        found = list(_exposure_hit(c, _env_hit(gradio_host, ""), "Gradio", f"GRADIO_SERVER_NAME={gradio_host.value}"))
        opened = bool(found)
        yield from found
    share = _env(c, "GRADIO_SHARE")
    if share is not None and _truthy(share.value):
        yield _env_hit(share, f"{c.display} sets GRADIO_SHARE={share.value}: apps that honour this convention "
                       "(it is not an official Gradio variable) publish a public *.gradio.live link",
                       confidence=Confidence.MEDIUM)
    # Streamlit.
    streamlit = _invocation(c, ("streamlit",), ("run",), ("streamlit",))
    if streamlit is not None or "streamlit" in servers:
        severity = Severity.HIGH if _reach(c.pod).external else Severity.MEDIUM
        for flag_name, env_name, what in (
                ("--server.enableXsrfProtection", "STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION", "XSRF protection"),
                ("--server.enableCORS", "STREAMLIT_SERVER_ENABLE_CORS", "CORS protection")):
            flag = _flag(c, flag_name)
            env = _env(c, env_name)
            message = f"{c.display} disables Streamlit's {what}"
            if flag is not None and flag.value is not None and flag.value.lower() in FALSY:
                yield _word_hit(c, flag.word, f"{message} ({flag.head}={flag.value})", head=flag.head,
                                severity=severity)
            elif env is not None and env.value is not None and env.value.strip().lower() in FALSY:
                yield _env_hit(env, f"{message} ({env_name}={env.value})", severity=severity)
        for file in mounted_files(c):
            if file.path.endswith("streamlit/config.toml"):
                for offset, line in enumerate(file.text.splitlines()):
                    match = _TOML_FALSE.match(line)
                    if match:
                        yield Hit(file.data_path, f"{c.display} mounts {file.path}, which sets {match.group(1)} = "
                                  "false and disables Streamlit's protection", obj=file.configmap,
                                  scalar_line=offset, severity=Severity.MEDIUM)
    # TensorBoard.
    tensorboard = _invocation(c, ("tensorboard",), (), ("tensorboard", "tensorboard.main"))
    if tensorboard is not None:
        bind_all = _flag(c, "--bind_all")
        host = _flag(c, "--host")
        found = []
        if _switch(bind_all):
            found = list(_exposure_hit(c, _word_hit(c, bind_all.word, "", head=bind_all.head), "TensorBoard",
                                       "--bind_all"))
        elif host is not None and host.value in ALL_INTERFACES and host.value:
            found = list(_exposure_hit(c, _word_hit(c, host.word, "", head=host.head), "TensorBoard",
                                       f"--host {host.value}"))
        opened = opened or bool(found)
        yield from found
    # Any of the three, published outside the cluster with nothing authenticating in front.
    app = next((name for name, present in (("Gradio", "gradio" in servers), ("Streamlit", streamlit is not None or
                                            "streamlit" in servers), ("TensorBoard", tensorboard is not None))
                if present), None)
    route = _open_route(c.pod) if app is not None and not opened else None
    if route is not None and _auth_layer(c.pod, c) is None:
        start = streamlit or tensorboard or _invocation(c, ("gradio",), ())
        yield _with(_anchor(c, start), f"{c.display} runs {app}, which has no authentication of its own, and is "
                    f"exposed outside the cluster by {route.how}",
                    related=(RelatedHit(route.obj, route.path, f"{route.obj.ref} routes external traffic to it"),))
    # Langflow.
    langflow = _invocation(c, ("langflow",), ("run",), ("langflow",))
    if langflow is not None or (_entrypoint_image(c, LANGFLOW_IMAGE)):
        auto = _env(c, "LANGFLOW_AUTO_LOGIN")
        if auto is None:
            where = Hit(c.at("env"), "") if c.get("env") is not None else _anchor(c, langflow)
            yield _with(where, f"{c.display} runs Langflow without LANGFLOW_AUTO_LOGIN=false: it defaults to "
                        "true and logs every visitor in as superuser, who can run arbitrary Python in custom "
                        "components", confidence=Confidence.MEDIUM if _env_may_hide(c) is None else Confidence.LOW)
        elif auto.value is not None and _truthy(auto.value):
            yield _env_hit(auto, f"{c.display} sets LANGFLOW_AUTO_LOGIN={auto.value}: every visitor is logged in "
                           "as superuser and can run arbitrary Python in custom components")


# =========================================================================================================
# MLS-SRV-019 KServe visibility
# =========================================================================================================

VISIBILITY_LABELS = ("networking.knative.dev/visibility", "serving.knative.dev/visibility",
                     "networking.kserve.io/visibility")
_DEFAULT_MODE = re.compile(r'"defaultDeploymentMode"\s*:\s*"([A-Za-z]+)"')


def _default_mode(inventory: Inventory) -> tuple[str, K8sObject] | None:
    for configmap in inventory.of_kind("ConfigMap"):
        if configmap.name != "inferenceservice-config":
            continue
        deploy = configmap.get("data", "deploy")
        if not isinstance(deploy, str):
            continue
        for line in deploy.splitlines():
            match = _DEFAULT_MODE.search(line)
            if match and not line.strip().startswith("#"):
                return match.group(1), configmap
    return None


def _mode(mode: str) -> str:
    lowered = mode.lower()
    if lowered in ("serverless", "knative"):
        return "Serverless"
    if lowered in ("rawdeployment", "raw", "standard"):
        return "RawDeployment"
    if lowered == "modelmesh":
        return "ModelMesh"
    return mode


def _kuadrant_auth(obj: K8sObject, inventory: Inventory) -> K8sObject | None:
    for policy in inventory.of_kind("AuthPolicy"):
        refs = policy.get("spec", "targetRefs") or [policy.get("spec", "targetRef")]
        for ref in refs if isinstance(refs, list) else ():
            if not isinstance(ref, dict):
                continue
            if ref.get("kind") == "Gateway" or (ref.get("kind") == "HTTPRoute" and
                                               str(ref.get("name", "")).startswith(obj.name) and
                                               policy.effective_namespace == obj.effective_namespace):
                return policy
    return None


@rules.rule(
    id="MLS-SRV-019", name="kserve-externally-visible-without-auth",
    title="KServe / ODH InferenceService externally visible without authentication",
    severity=Severity.HIGH, scope=Scope.OBJECT, kinds=("InferenceService", "LLMInferenceService"),
    confidence=Confidence.MEDIUM,
    rationale="""
        KServe has no mandatory authentication: whatever fronts the model must enforce it. In Serverless
        (Knative) mode every InferenceService gets a route on the external ingress gateway unless it carries
        `networking.knative.dev/visibility: cluster-local`; in RawDeployment mode ODH/OpenShift AI creates an
        external route for `networking.kserve.io/visibility: exposed`; an LLMInferenceService with a router
        attaches an HTTPRoute to the inference Gateway. Without `security.opendatahub.io/enable-auth: "true"`
        or an Istio/Kuadrant policy demanding a principal, anyone who reaches the gateway can query, and
        extract, the model.""",
    remediation="""
        Label models that need no external access `networking.knative.dev/visibility: cluster-local` (or drop
        `networking.kserve.io/visibility: exposed`); otherwise enable authentication:
        `security.opendatahub.io/enable-auth: "true"` on ODH/OpenShift AI, or an Istio RequestAuthentication
        plus an AuthorizationPolicy requiring `requestPrincipals` that selects
        `serving.kserve.io/inferenceservice: <name>`.""",
    bad="""
        apiVersion: serving.kserve.io/v1beta1
        kind: InferenceService
        metadata:
          name: fraud
          labels: {networking.kserve.io/visibility: exposed}
          annotations:
            serving.kserve.io/deploymentMode: RawDeployment
            security.opendatahub.io/enable-auth: 'false'""",
    good="""
        metadata:
          name: fraud
          labels: {networking.knative.dev/visibility: cluster-local}
          annotations: {security.opendatahub.io/enable-auth: "true"}""",
    references=(
        "KServe docs: cluster-local InferenceService (networking.knative.dev/visibility)",
        "Knative docs: configuring cluster-local visibility",
        "OpenDataHub: networking.kserve.io/visibility, security.opendatahub.io/enable-auth",
        f"{NSA}: Authentication and authorization", ML05, LLM10, *_atlas("AML.T0040", "AML.T0024.002"),
    ),
)
def kserve_visibility(obj: K8sObject, inventory: Inventory) -> Iterator[Hit]:
    labels, annotations = obj.labels, obj.annotations
    merged = {**labels, **annotations}
    if any(str(merged.get(k, "")).lower() == "cluster-local" for k in VISIBILITY_LABELS):
        return
    confidence = None
    if obj.kind == "LLMInferenceService":
        router = obj.get("spec", "router")
        parts = [k for k in ("gateway", "ingress", "route") if isinstance(router, dict) and k in router]
        if not parts:
            return
        where = obj.at("spec", "router", parts[0])
        visible = (f"has spec.router.{'/'.join(parts)}, so KServe attaches its route to the inference Gateway "
                   "(assumed reachable from outside the cluster)")
    else:
        declared = annotations.get("serving.kserve.io/deploymentMode")
        if declared is not None:
            mode, origin = _mode(str(declared)), f"serving.kserve.io/deploymentMode: {declared}"
        elif (default := _default_mode(inventory)) is not None:
            mode, origin = _mode(default[0]), f"defaultDeploymentMode {default[0]} in {default[1].ref}"
        else:
            mode = "Serverless"
            origin = ("assumed: no serving.kserve.io/deploymentMode annotation and no inferenceservice-config in "
                      "the scan; KServe's shipped default is Serverless")
            confidence = Confidence.LOW
        if mode == "Serverless":
            where = obj.at("metadata", "labels", "networking.knative.dev/visibility")
            visible = (f"runs in Serverless mode ({origin}) without the networking.knative.dev/visibility: "
                       "cluster-local label, so Knative routes it through the external ingress gateway")
        elif mode == "RawDeployment" and str(labels.get("networking.kserve.io/visibility", "")).lower() == "exposed":
            where = obj.at("metadata", "labels", "networking.kserve.io/visibility")
            visible = f"runs in RawDeployment mode ({origin}) with networking.kserve.io/visibility: exposed"
            confidence = Confidence.HIGH if declared is not None else confidence
        else:
            return
    enable_auth = merged.get("security.opendatahub.io/enable-auth")
    if str(enable_auth).lower() == "true" or \
            str(merged.get("security.openshift.io/enable-authentication", "")).lower() == "true":
        return
    selectors = [{"serving.kserve.io/inferenceservice": obj.name, "component": "predictor"}]
    if obj.kind == "LLMInferenceService":
        selectors.append({"app.kubernetes.io/name": obj.name, "app.kubernetes.io/part-of": "llminferenceservice"})
    for labels_set in selectors:
        if _istio_auth(inventory, obj.effective_namespace, labels_set) is not None:
            return
    if inventory.graph.gateway_auth() is not None or (obj.kind == "LLMInferenceService" and _kuadrant_auth(obj, inventory)):
        return
    if enable_auth is not None:
        key = "security.opendatahub.io/enable-auth"
        section = "annotations" if key in annotations else "labels"
        where = obj.at("metadata", section, key)
        auth = f"sets {key}: \"{enable_auth}\""
    else:
        target = f"serving.kserve.io/inferenceservice: {obj.name}" if obj.kind == "InferenceService" else "its pods"
        auth = (f"has no authentication: no security.opendatahub.io/enable-auth: \"true\" and no Istio "
                f"RequestAuthentication + AuthorizationPolicy selecting {target}")
    yield Hit(where, f"{obj.ref} {visible}, and {auth}", confidence=confidence)


# =========================================================================================================
# MLS-SRV-020 Known-vulnerable versions
# =========================================================================================================

@dataclass(frozen=True)
class _Vulnerable:
    component: str
    repository: re.Pattern[str]
    below: tuple[int, ...]  # vulnerable when version < below
    fixed: str
    cves: str
    rce: bool  # unauthenticated RCE: critical when the pod is exposed outside the cluster
    also: tuple[tuple[int, ...], ...] = ()  # exact vulnerable versions at or above ``below``
    skip_tag: re.Pattern[str] | None = None


def _repo(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern + r"$")


VULNERABLE: tuple[_Vulnerable, ...] = (
    _Vulnerable("TorchServe", _repo(r"(^|/)pytorch/torchserve(-kfs)?"), (0, 8, 2), "0.8.2; use >= 0.11",
                "CVE-2023-43654 (ShellTorch SSRF to RCE), CVE-2022-1471", True),
    _Vulnerable("Triton Inference Server", _repo(r"(^|/)nvidia/tritonserver"), (24, 4), "25.07",
                "CVE-2024-0087, CVE-2024-0088, CVE-2025-23319, CVE-2025-23320, CVE-2025-23334, CVE-2025-23310, "
                "CVE-2025-23311, CVE-2025-23317", True, skip_tag=re.compile(r"-sdk\b")),
    _Vulnerable("Triton Inference Server", _repo(r"(^|/)nvidia/tritonserver"), (25, 7), "25.07",
                "CVE-2025-23319, CVE-2025-23320, CVE-2025-23334, CVE-2025-23310, CVE-2025-23311, CVE-2025-23317",
                True, skip_tag=re.compile(r"-sdk\b")),
    _Vulnerable("Ray", _repo(r"(^|/)rayproject/ray(-ml|-llm)?"), (2, 8, 1), "2.8.1; token auth from 2.52.0",
                "CVE-2023-6019, CVE-2023-6020, CVE-2023-6021, CVE-2023-48023", True),
    _Vulnerable("MLflow", _repo(r"(^|/)(mlflow/mlflow|bitnami/mlflow)"), (2, 3, 1), "2.3.1",
                "CVE-2023-1177, CVE-2023-2356, CVE-2023-2780", True),
    _Vulnerable("vLLM", _repo(r"(^|/)vllm/vllm-openai(-cpu|-rocm)?"), (0, 8, 5), "0.9.0",
                "CVE-2025-32444 (Mooncake pickle over ZMQ), CVE-2025-30165, CVE-2024-11041, CVE-2025-47277", True),
    _Vulnerable("vLLM", _repo(r"(^|/)vllm/vllm-openai(-cpu|-rocm)?"), (0, 9, 0), "0.9.0",
                "CVE-2025-47277 (PyNcclPipe pickle)", True),
    _Vulnerable("Ollama", _repo(r"(^|/)ollama/ollama"), (0, 1, 34), "0.1.34", "CVE-2024-37032 (Probllama)", True),
    _Vulnerable("Langflow", _repo(r"(^|/)langflowai/langflow(-backend)?"), (1, 3, 0), "1.3.0",
                "CVE-2025-3248 (unauthenticated RCE, CISA KEV)", True),
    _Vulnerable("ingress-nginx controller", _repo(r"(^|/)ingress-nginx/controller(-chroot)?"), (1, 11, 5),
                "1.11.5 / 1.12.1", "CVE-2025-1974 (IngressNightmare), CVE-2025-1097, CVE-2025-1098, "
                "CVE-2025-24513, CVE-2025-24514", True, also=((1, 12, 0),)),
    _Vulnerable("NVIDIA Container Toolkit", _repo(r"(^|/)nvidia/k8s/container-toolkit"), (1, 17, 8), "1.17.8",
                "CVE-2025-23266 (NVIDIAScape container escape), CVE-2025-23267", False),
    _Vulnerable("NVIDIA GPU Operator", _repo(r"(^|/)nvidia/(cloud-native/)?gpu-operator"), (25, 3, 1), "25.3.1",
                "CVE-2025-23266 (NVIDIAScape container escape), CVE-2025-23267", False),
)
# pip pins in container scripts: package -> the table entries that apply
PIP_PACKAGES = {"mlflow": "MLflow", "vllm": "vLLM", "ray": "Ray", "torchserve": "TorchServe", "langflow": "Langflow"}
PIP_ONLY = (
    _Vulnerable("Gradio", re.compile(r"$^"), (4, 19, 2), "4.19.2", "CVE-2023-51449, CVE-2024-1561, CVE-2024-1728",
                True),
)
_NUMERIC_TAG = re.compile(r"^v?\d+\.\d+")
_PIP_PIN = re.compile(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?==(v?\d+(?:\.\d+)+)")


def _match_version(entries: tuple[_Vulnerable, ...], version: tuple[int, ...]) -> _Vulnerable | None:
    width = max(len(version), 3)
    padded = version + (0,) * (width - len(version))
    for entry in entries:
        below = entry.below + (0,) * (width - len(entry.below))
        if padded < below or any(padded[:len(v)] == v for v in entry.also):
            return entry
    return None


@rules.rule(
    id="MLS-SRV-020", name="ml-component-vulnerable-version",
    title="ML serving component pinned to a version with known critical CVEs",
    severity=Severity.HIGH, scope=Scope.CONTAINER,
    rationale="""
        The version of a model server, ML platform or GPU runtime component is visible in its image tag (or
        a `pip install pkg==x.y` pin), and these releases carry published unauthenticated RCE, file-read or
        container-escape vulnerabilities that are exploited in the wild (ShellTorch, ShadowRay, Probllama,
        IngressNightmare, NVIDIAScape, Langflow CVE-2025-3248).""",
    remediation="""
        Upgrade the component the finding names to at least the fixed release it gives (preferably the current
        one) and pin the image by digest, as in `<repository>:<fixed tag>@sha256:<digest>` (for a Ray head:
        `rayproject/ray:2.52.0-gpu@sha256:<digest>`).""",
    bad="image: rayproject/ray:2.6.3-gpu",
    good="image: rayproject/ray:2.52.0-gpu@sha256:<digest>",
    references=(
        "CVE-2023-43654", "CVE-2024-0087", "CVE-2025-23319", "CVE-2023-6019", "CVE-2023-48023", "CVE-2023-1177",
        "CVE-2025-32444", "CVE-2025-47277", "CVE-2024-37032", "CVE-2023-51449", "CVE-2025-3248", "CVE-2025-1974",
        "CVE-2025-23266", f"{NSA}: Upgrading and application security practices", ML06, LLM03,
        *_atlas("AML.T0049", "AML.T0010.001"),
    ),
)
def vulnerable_versions(c: Container) -> Iterator[Hit]:
    image = c.image
    if image and not is_templated(image):
        repository = image_repository(image).lower()
        tag = image_tag(image)
        candidates = tuple(e for e in VULNERABLE if e.repository.search(repository))
        if candidates and tag and _NUMERIC_TAG.match(tag) and \
                not any(e.skip_tag and e.skip_tag.search(tag) for e in candidates):
            version = version_tuple(tag)
            entry = _match_version(candidates, version) if version else None
            if entry is not None:
                yield from _version_hit(c, Hit(c.at("image"), ""), entry, f"image `{image}`", tag)
    for word in c.argv.words:
        match = _PIP_PIN.match(word.text)
        if not match:
            continue
        package = match.group(1).lower()
        version = version_tuple(match.group(3))
        if not version:
            continue
        if package == "gradio":
            entries = PIP_ONLY
        elif package in PIP_PACKAGES:
            component = PIP_PACKAGES[package]
            entries = tuple(e for e in VULNERABLE if e.component == component)
        else:
            continue
        entry = _match_version(entries, version)
        if entry is not None:
            yield from _version_hit(c, _word_hit(c, word, "", head=word.text), entry,
                                    f"`pip install {word.text}`", match.group(3))


def _version_hit(c: Container, where: Hit, entry: _Vulnerable, what: str, version: str) -> Iterator[Hit]:
    reach = _reach(c.pod) if entry.rce else _Reach(None)
    severity = Severity.CRITICAL if entry.rce and reach.external else Severity.HIGH
    exposed = f"; the pod is {reach.text}" if reach.external else ""
    yield _with(where, f"{c.display} uses {what}: {entry.component} {version} is affected by "
                f"{entry.cves} (fixed in {entry.fixed}){exposed}", severity=severity, related=reach.related())
