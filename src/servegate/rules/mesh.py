"""MLS-MESH: Istio and ingress-nginx in front of model servers.

Each rule asks the resource graph which model-serving pods a policy, gateway or route reaches, so an
Istio object is judged by what it protects (or fails to protect), and severity rises when the pods are
reachable from outside the cluster. Findings list the way in as related locations.
"""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from typing import Any, Iterator

from servegate.findings import Confidence, Severity
from servegate.model.graph import (
    ISTIO_ROOT_NAMESPACE, Reach, ResourceGraph, Route, requires_principal, service_of_host,
)
from servegate.model.images import image_repository, image_tag, version_tuple
from servegate.model.k8s import K8sObject
from servegate.model.rbac import dangerous_powers
from servegate.model.servers import PORTS
from servegate.model.workloads import Container, PodSpec
from servegate.rules.base import Hit, RelatedHit, RuleSet, Scope
from servegate.sources.located import Path, get_path

rules = RuleSet("mesh")

NSA = "NSA/CISA Kubernetes Hardening Guidance v1.2: Network separation and hardening"
ISTIO_BP = "Istio docs: Security Best Practices"
ML05 = "OWASP ML05:2023 Model Theft"
LLM02 = "OWASP LLM02:2025 Sensitive Information Disclosure"
LLM10 = "OWASP LLM10:2025 Unbounded Consumption"

INJECTION_LABELS = (("istio-injection", "enabled"), ("istio.io/dataplane-mode", "ambient"))
MESH_KINDS = ("PeerAuthentication", "AuthorizationPolicy", "RequestAuthentication", "DestinationRule",
              "VirtualService", "Sidecar")
WEAK_MTLS = ("PERMISSIVE", "DISABLE")
WEAK_TLS_VERSIONS = ("TLSV1_0", "TLSV1_1")
LLM_SAAS_HOSTS = ("api.openai.com", "*.openai.azure.com", "bedrock-runtime.*", "api.anthropic.com",
                  "generativelanguage.googleapis.com", "*-aiplatform.googleapis.com", "api.cohere.ai",
                  "api.mistral.ai", "api-inference.huggingface.co")
SNIPPET_ANNOTATION = re.compile(r"^nginx\.ingress\.kubernetes\.io/[a-z-]*snippet$")
INJECTABLE_ANNOTATIONS = ("nginx.ingress.kubernetes.io/auth-url", "nginx.ingress.kubernetes.io/auth-tls-match-cn",
                          "nginx.ingress.kubernetes.io/mirror-target", "nginx.ingress.kubernetes.io/mirror-host")
INJECTION_CHARACTERS = re.compile(r"[\r\n#;{}`\"]")
NGINX_CONTROLLER_IMAGE = re.compile(r"(^|/)(ingress-nginx/controller(-chroot)?|nginx-ingress-controller)$")
NGINX_FIXED = ((1, 11, 5), (1, 12, 1))
# What each server answers on its inference port that is not inference: management, loading, code.
ADMIN_PATHS: dict[str, tuple[str, ...]] = {
    "triton": ("/v2/repository", "/v2/logging", "/v2/systemsharedmemory", "/v2/cudasharedmemory", "/v2/trace"),
    "vllm": ("/pause", "/update_weights", "/collective_rpc", "/invocations", "/v1/load_lora_adapter"),
    "sglang": ("/update_weights_from_disk", "/update_weights_from_tensor", "/load_lora_adapter"),
    "mlflow": ("/api/2.0/mlflow-artifacts", "/ajax-api", "/api/2.0/mlflow/registered-models"),
    "jupyter": ("/api/kernels", "/api/contents", "/terminals"),
    "ollama": ("/api/pull", "/api/delete", "/api/create", "/api/push"),
    "ray": ("/api/jobs",),
    "torchserve": ("/models",),
}


# --- shared ------------------------------------------------------------------------------------------------

def _namespace_has_mesh(graph: ResourceGraph, namespace: str) -> K8sObject | None:
    """Evidence that a namespace runs in the Istio mesh: its Namespace labelled for injection (or ambient),
    or Istio configuration of its own. Returns the object that says so."""
    found = next(iter(graph.inventory.named("Namespace", namespace)), None)
    if found is not None and (any(str(found.labels.get(k)) == v for k, v in INJECTION_LABELS)
                              or found.labels.get("istio.io/rev")):
        return found
    return graph.memo(("mesh-namespaces",), lambda: _configured_namespaces(graph)).get(namespace)


def _configured_namespaces(graph: ResourceGraph) -> dict[str, K8sObject]:
    configured: dict[str, K8sObject] = {}
    for kind in MESH_KINDS:
        for obj in graph.inventory.of_kind(kind):
            if obj.group.endswith("istio.io"):
                configured.setdefault(graph.namespace(obj), obj)
    return configured


def _pod_in_mesh(graph: ResourceGraph, pod: PodSpec) -> bool:
    inject = str(pod.annotations.get("sidecar.istio.io/inject", graph.labels(pod).get("sidecar.istio.io/inject",
                                                                                     ""))).lower()
    if inject == "false":
        return False
    return inject == "true" or _namespace_has_mesh(graph, graph.namespace(pod.obj)) is not None


def _serving_by_namespace(graph: ResourceGraph) -> dict[str, list[PodSpec]]:
    out: dict[str, list[PodSpec]] = defaultdict(list)
    for pod in graph.serving_pods():
        if _pod_in_mesh(graph, pod):
            out[graph.namespace(pod.obj)].append(pod)
    return out


def _open_way_in(graph: ResourceGraph, pods: list[PodSpec]) -> Reach | None:
    return next((r for pod in pods for r in graph.external_reach(pod) if not r.authenticated), None)


def _reach_related(reach: Reach | None, what: str = "reaches it from outside the cluster") -> tuple[RelatedHit, ...]:
    if reach is None:
        return ()
    return tuple(RelatedHit(hop.obj, hop.path, f"{hop.text}: {what}" if i == 0 else hop.text)
                 for i, hop in enumerate(reach.hops))


def _names(pods: list[PodSpec], limit: int = 3) -> str:
    shown = list(dict.fromkeys(p.display for p in pods))
    return ", ".join(shown[:limit]) + (f" and {len(shown) - limit} more" if len(shown) > limit else "")


def _namespace_anchor(graph: ResourceGraph, namespace: str, pods: list[PodSpec]) -> tuple[Any, Path]:
    found = _namespace_has_mesh(graph, namespace)
    if found is not None and found.kind == "Namespace":
        return found, found.at("metadata", "labels")
    pod = pods[0]
    return pod.obj, pod.meta_path or pod.obj.at("metadata")


def _escalated(graph: ResourceGraph, pods: list[PodSpec], base: Severity) -> tuple[Severity | None, Reach | None]:
    reach = _open_way_in(graph, pods)
    return (Severity.CRITICAL if reach is not None and base < Severity.CRITICAL else None), reach


# --- MLS-MESH-001 ------------------------------------------------------------------------------------------

def _mtls_mode(policy: K8sObject) -> str:
    mode = policy.get("spec", "mtls", "mode")
    return str(mode).upper() if mode else "UNSET"


def _effective_peer_authentication(graph: ResourceGraph, pod: PodSpec) -> K8sObject | None:
    """The PeerAuthentication that decides the pod's mTLS mode: workload, else namespace, else mesh-wide."""
    policies = graph.istio_policies(pod, "PeerAuthentication")
    namespace = graph.namespace(pod.obj)
    ranked = sorted(policies, key=lambda p: (p.get("spec", "selector") is None, graph.namespace(p) != namespace))
    return next((p for p in ranked if _mtls_mode(p) != "UNSET"), None)


@rules.rule(
    id="MLS-MESH-001", name="mesh-mtls-not-strict",
    title="mTLS not enforced for model-serving workloads (PeerAuthentication PERMISSIVE/DISABLE)",
    severity=Severity.HIGH, scope=Scope.GRAPH,
    rationale="""
        Istio sidecars accept plaintext by default (PERMISSIVE), so any pod, or a process on a node, can call a
        model server without a mesh identity, and AuthorizationPolicies that name principals are bypassed by
        a plaintext caller. Prompts, completions and API keys also travel unencrypted.""",
    remediation="""
        Apply `PeerAuthentication` with `mtls.mode: STRICT` mesh-wide (in `istio-system`) or in every inference
        namespace, and remove PERMISSIVE/DISABLE overrides (including `portLevelMtls`) on model-serving pods.""",
    bad="""
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: llm}
        spec: {mtls: {mode: PERMISSIVE}}""",
    good="""
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: istio-system}
        spec: {mtls: {mode: STRICT}}""",
    references=(ISTIO_BP + " (Mutual TLS)", "Istio docs: PeerAuthentication", NSA, ML05, LLM02,
                "MITRE ATLAS AML.T0040"),
)
def mesh_mtls(graph: ResourceGraph) -> Iterator[Hit]:
    weak: dict[tuple[int, Path], tuple[K8sObject, Path, str, list[PodSpec]]] = {}
    unset: dict[str, list[PodSpec]] = defaultdict(list)
    for namespace, pods in _serving_by_namespace(graph).items():
        for pod in pods:
            policy = _effective_peer_authentication(graph, pod)
            if policy is None:
                unset[namespace].append(pod)
            elif _mtls_mode(policy) in WEAK_MTLS:
                entry = weak.setdefault((id(policy), policy.at("spec", "mtls", "mode")),
                                        (policy, policy.at("spec", "mtls", "mode"), _mtls_mode(policy), []))
                entry[3].append(pod)
            for policy in graph.istio_policies(pod, "PeerAuthentication"):
                for port, setting in (policy.get("spec", "portLevelMtls") or {}).items() \
                        if isinstance(policy.get("spec", "portLevelMtls"), dict) else ():
                    mode = str(get_path(setting, ("mode",)) or "").upper()
                    if mode in WEAK_MTLS:
                        path = policy.at("spec", "portLevelMtls", port, "mode")
                        weak.setdefault((id(policy), path), (policy, path, f"{mode} on port {port}", []))[3].append(pod)
    for policy, path, mode, pods in weak.values():
        yield Hit(path, f"{policy.ref} sets mTLS {mode} for model-serving pods ({_names(pods)}): they accept "
                        "plaintext calls from any pod without a mesh identity", obj=policy)
    for namespace, pods in unset.items():
        obj, path = _namespace_anchor(graph, namespace, pods)
        yield Hit(path, f"namespace `{namespace}` runs model servers in the Istio mesh ({_names(pods)}) but no "
                        f"PeerAuthentication with mtls.mode STRICT covers them (in `{namespace}` or mesh-wide in "
                        f"`{ISTIO_ROOT_NAMESPACE}`): Istio's default is PERMISSIVE, which accepts plaintext", obj=obj)


# --- MLS-MESH-002 ------------------------------------------------------------------------------------------

def _allows_everything(rule: Any) -> bool:
    """An ALLOW rule that matches every request: empty, or only wildcard sources and nothing else."""
    if not isinstance(rule, dict):
        return False
    if rule.get("to") or rule.get("when"):
        return False
    sources = [s.get("source") for s in rule.get("from") or () if isinstance(s, dict)]
    if not sources:
        return True
    return all(isinstance(s, dict) and set(s) <= {"principals", "namespaces", "requestPrincipals"}
               and all(v == ["*"] for v in s.values()) for s in sources)


def _allow_nothing(policy: K8sObject) -> bool:
    spec = policy.get("spec")
    return isinstance(spec, dict) and (spec.get("action") or "ALLOW") == "ALLOW" and not spec.get("rules") \
        and spec.get("selector") is None


def _path_normalization(graph: ResourceGraph) -> tuple[str, K8sObject, Path] | None:
    for operator in graph.inventory.of_kind("IstioOperator"):
        value = operator.get("spec", "meshConfig", "pathNormalization", "normalization")
        if value is not None:
            return str(value).upper(), operator, operator.at("spec", "meshConfig", "pathNormalization",
                                                             "normalization")
    return None


@rules.rule(
    id="MLS-MESH-002", name="mesh-authorization-allow-all",
    title="AuthorizationPolicy allows all traffic, default-deny missing, or path rules built on negative or "
          "normalisation-sensitive matching",
    severity=Severity.HIGH, scope=Scope.GRAPH,
    rationale="""
        An ALLOW policy whose rule is empty (or only `*` sources) matches every request and silently overrides
        the namespace's other ALLOW policies; without an allow-nothing policy every caller is allowed; a DENY on
        admin paths is bypassed with encoded or doubled slashes unless path normalisation is strict, and
        `notPaths` in an ALLOW policy opens every path it does not name.""",
    remediation="""
        Add `spec: {}` (allow-nothing) in every inference namespace, then ALLOW only named principals on the
        inference paths (`to.operation.paths: [/v1/chat/completions]`); prefer positive ALLOW rules over DENY
        lists, and set `meshConfig.pathNormalization.normalization: MERGE_SLASHES` (or stricter).""",
    bad="""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: allow-all, namespace: llm}
        spec: {action: ALLOW, rules: [{}]}""",
    good="""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: allow-nothing, namespace: llm}
        spec: {}""",
    references=(ISTIO_BP + " (Authorization policies, path normalization)", "Istio docs: AuthorizationPolicy", ML05,
                "OWASP ML10:2023 Model Poisoning", LLM10, "MITRE ATLAS AML.T0040", "MITRE ATLAS AML.T0049"),
)
def mesh_authorization(graph: ResourceGraph) -> Iterator[Hit]:
    by_namespace = _serving_by_namespace(graph)
    affected: dict[int, tuple[K8sObject, list[PodSpec]]] = {}
    for pods in by_namespace.values():
        for pod in pods:
            for policy in graph.istio_policies(pod, "AuthorizationPolicy"):
                affected.setdefault(id(policy), (policy, []))[1].append(pod)
    normalization = _path_normalization(graph)
    for policy, pods in affected.values():
        action = str(policy.get("spec", "action") or "ALLOW").upper()
        policy_rules = policy.get("spec", "rules")
        for index, rule in enumerate(policy_rules if isinstance(policy_rules, list) else ()):
            if action == "ALLOW" and _allows_everything(rule):
                severity, reach = _escalated(graph, pods, Severity.HIGH)
                yield Hit(policy.at("spec", "rules", index),
                          f"{policy.ref} rule {index + 1} allows every request to model-serving pods ({_names(pods)}),"
                          " whatever other ALLOW policies say", obj=policy, severity=severity,
                          related=_reach_related(reach))
            for j, target in enumerate(rule.get("to") or () if isinstance(rule, dict) else ()):
                operation = target.get("operation") if isinstance(target, dict) else None
                if not isinstance(operation, dict):
                    continue
                if action == "ALLOW" and operation.get("notPaths"):
                    yield Hit(policy.at("spec", "rules", index, "to", j, "operation", "notPaths"),
                              f"{policy.ref} allows every path except {operation['notPaths']} to model-serving pods "
                              f"({_names(pods)}): new or encoded admin paths are allowed", obj=policy)
                if action == "DENY" and operation.get("paths") and normalization is not None and \
                        normalization[0] in ("NONE", "BASE"):
                    yield Hit(policy.at("spec", "rules", index, "to", j, "operation", "paths"),
                              f"{policy.ref} denies {operation['paths']} with path normalization "
                              f"{normalization[0]}: `//`, `%2F` or case variants of the path pass the deny",
                              obj=policy, related=(RelatedHit(normalization[1], normalization[2],
                                                              "mesh path normalization"),))
    for namespace, pods in by_namespace.items():
        defaults = [p for ns in (namespace, ISTIO_ROOT_NAMESPACE) for p in graph.policies("AuthorizationPolicy", ns)
                    if _allow_nothing(p)]
        if defaults:
            continue
        obj, path = _namespace_anchor(graph, namespace, pods)
        severity, reach = _escalated(graph, pods, Severity.HIGH)
        yield Hit(path, f"namespace `{namespace}` runs model servers in the Istio mesh ({_names(pods)}) without an "
                        "allow-nothing AuthorizationPolicy (`spec: {}`): every caller is allowed unless a policy "
                        "says otherwise", obj=obj, severity=severity, related=_reach_related(reach))


# --- MLS-MESH-003 ------------------------------------------------------------------------------------------

@rules.rule(
    id="MLS-MESH-003", name="mesh-jwt-not-required",
    title="RequestAuthentication without an AuthorizationPolicy that requires a principal",
    severity=Severity.HIGH, scope=Scope.GRAPH,
    rationale="""
        `RequestAuthentication` only rejects requests that carry an invalid token; a request with no token at
        all passes. Unless an AuthorizationPolicy requires `requestPrincipals` (or `request.auth.claims`), an
        LLM endpoint that looks "JWT-protected" is open to anyone.""",
    remediation="""
        Add an AuthorizationPolicy on the same selector with `action: ALLOW` and
        `rules: [{from: [{source: {requestPrincipals: ["https://idp.example.com/*"]}}]}]`.""",
    bad="""
        apiVersion: security.istio.io/v1
        kind: RequestAuthentication
        metadata: {name: jwt, namespace: llm}
        spec:
          selector: {matchLabels: {app: vllm}}
          jwtRules: [{issuer: "https://idp.example.com", jwksUri: "https://idp.example.com/jwks"}]""",
    good="""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: require-jwt, namespace: llm}
        spec:
          selector: {matchLabels: {app: vllm}}
          action: ALLOW
          rules: [{from: [{source: {requestPrincipals: ["https://idp.example.com/*"]}}]}]""",
    references=("Istio docs: Authorization with JWT", "Istio docs: RequestAuthentication", LLM10,
                "MITRE ATLAS AML.T0040", "MITRE ATLAS AML.T0012"),
)
def mesh_jwt_not_required(graph: ResourceGraph) -> Iterator[Hit]:
    open_pods: dict[int, tuple[K8sObject, list[PodSpec]]] = {}
    for pod in graph.serving_pods():
        authentications = graph.istio_policies(pod, "RequestAuthentication")
        if not authentications:
            continue
        if any(requires_principal(p) for p in graph.istio_policies(pod, "AuthorizationPolicy")):
            continue
        for policy in authentications:
            open_pods.setdefault(id(policy), (policy, []))[1].append(pod)
    for policy, pods in open_pods.values():
        severity, reach = _escalated(graph, pods, Severity.HIGH)
        yield Hit(policy.at("spec", "jwtRules"),
                  f"{policy.ref} validates JWTs for model-serving pods ({_names(pods)}), but no AuthorizationPolicy "
                  "requires a request principal: requests without a token pass", obj=policy, severity=severity,
                  related=_reach_related(reach))


# --- MLS-MESH-004 ------------------------------------------------------------------------------------------

def _tls_settings(rule: K8sObject) -> Iterator[tuple[Path, dict]]:
    """Every ClientTLSSettings of a DestinationRule: top level, per port, per subset."""
    def of_policy(policy: Any, path: Path) -> Iterator[tuple[Path, dict]]:
        if not isinstance(policy, dict):
            return
        if isinstance(policy.get("tls"), dict):
            yield path + ("tls",), policy["tls"]
        for index, setting in enumerate(policy.get("portLevelSettings") or ()):
            if isinstance(setting, dict) and isinstance(setting.get("tls"), dict):
                yield path + ("portLevelSettings", index, "tls"), setting["tls"]

    yield from of_policy(rule.get("spec", "trafficPolicy"), rule.at("spec", "trafficPolicy"))
    for index, subset in enumerate(rule.get("spec", "subsets") or ()):
        if isinstance(subset, dict):
            yield from of_policy(subset.get("trafficPolicy"), rule.at("spec", "subsets", index, "trafficPolicy"))


def _serving_behind(graph: ResourceGraph, rule: K8sObject) -> list[PodSpec]:
    target = service_of_host(rule.get("spec", "host"), graph.namespace(rule))
    service = graph.inventory.find("Service", target[1], target[0]) if target else None
    return [p for p in graph.service_pods(service) if p.is_inference] if service is not None else []


@rules.rule(
    id="MLS-MESH-004", name="mesh-destination-tls-weak",
    title="DestinationRule disables or weakens TLS to model services",
    severity=Severity.HIGH, scope=Scope.GRAPH,
    rationale="""
        `tls.mode: DISABLE` sends prompts, completions and bearer tokens in cleartext inside the mesh and turns
        off auto-mTLS for the host; `insecureSkipVerify: true`, or SIMPLE TLS to an external LLM API without a
        CA to verify against, lets anyone on the path impersonate the model service.""",
    remediation="""
        Use `tls: {mode: ISTIO_MUTUAL}` (or remove the block to get auto-mTLS) for in-mesh model services; for
        external LLM APIs use `mode: SIMPLE` with `caCertificates` (or `credentialName`) and `sni`, never
        `insecureSkipVerify`.""",
    bad="spec: {host: vllm.llm.svc.cluster.local, trafficPolicy: {tls: {mode: DISABLE}}}",
    good="spec: {host: vllm.llm.svc.cluster.local, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}",
    references=("Istio docs: DestinationRule ClientTLSSettings", LLM02, "MITRE ATLAS AML.T0057"),
)
def mesh_destination_tls(graph: ResourceGraph) -> Iterator[Hit]:
    for rule in graph.policies("DestinationRule"):
        host = str(rule.get("spec", "host") or "")
        pods = None
        for path, tls in _tls_settings(rule):
            mode = str(tls.get("mode") or "").upper()
            if tls.get("insecureSkipVerify") is True:
                yield Hit(path + ("insecureSkipVerify",), f"{rule.ref} skips certificate verification for `{host}`: "
                                                          "anyone on the path can impersonate it", obj=rule)
            if mode == "DISABLE":
                pods = _serving_behind(graph, rule) if pods is None else pods
                if pods:
                    yield Hit(path + ("mode",), f"{rule.ref} disables TLS to `{host}`, which serves models "
                                                f"({_names(pods)}): prompts, outputs and tokens travel in cleartext",
                              obj=rule)
            elif mode == "SIMPLE" and tls.get("insecureSkipVerify") is not True and any(fnmatch.fnmatch(host, pattern) for pattern in LLM_SAAS_HOSTS) and \
                    not tls.get("caCertificates") and not tls.get("credentialName"):
                yield Hit(path + ("mode",), f"{rule.ref} originates TLS to the LLM API `{host}` without "
                                            "caCertificates or credentialName to verify it against",
                          obj=rule, severity=Severity.MEDIUM, confidence=Confidence.MEDIUM)


# --- MLS-MESH-005 ------------------------------------------------------------------------------------------

def _hosts_overlap(server_hosts: list, route_hosts: tuple[str, ...]) -> bool:
    names = [str(h).split("/", 1)[-1] for h in server_hosts]
    if not route_hosts or "*" in names:
        return True
    return any(fnmatch.fnmatch(r, n) or fnmatch.fnmatch(n, r) for n in names for r in route_hosts)


def _serving_routes(graph: ResourceGraph, gateway: K8sObject) -> list[tuple[Route, list[PodSpec]]]:
    out = []
    for route in graph.routes_through(gateway):
        service = graph.inventory.find("Service", route.namespace, route.service)
        pods = [p for p in graph.service_pods(service) if p.is_inference] if service is not None else []
        if pods:
            out.append((route, pods))
    return out


def _redirects_to_https(graph: ResourceGraph, gateway: K8sObject) -> bool:
    for route in graph.inventory.of_kind("HTTPRoute"):
        parents = route.get("spec", "parentRefs") or ()
        if not any(isinstance(p, dict) and p.get("name") == gateway.name for p in parents):
            continue
        for rule in route.get("spec", "rules") or ():
            for entry in rule.get("filters") or () if isinstance(rule, dict) else ():
                if isinstance(entry, dict) and get_path(entry, ("requestRedirect", "scheme")) == "https":
                    return True
    return False


@rules.rule(
    id="MLS-MESH-005", name="mesh-gateway-plain-http",
    title="Gateway serves model APIs over plain HTTP or weak TLS",
    severity=Severity.MEDIUM, scope=Scope.GRAPH,
    rationale="""
        API keys, prompts and completions sent to a gateway listener without TLS travel in cleartext; TLS
        PASSTHROUGH hands the connection straight to the model server, past the gateway's authentication; TLS
        1.0/1.1 are broken.""",
    remediation="""
        Serve model APIs on HTTPS listeners (`tls: {mode: SIMPLE, credentialName: ..., minProtocolVersion:
        TLSV1_2}`), keep port 80 only to redirect (`tls.httpsRedirect: true`, or an HTTPRoute `RequestRedirect`
        to https), and terminate TLS at the gateway instead of PASSTHROUGH.""",
    bad='servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["llm.example.com"]}]',
    good="""
        servers:
        - {port: {number: 80, name: http, protocol: HTTP}, hosts: ["llm.example.com"], tls: {httpsRedirect: true}}
        - port: {number: 443, name: https, protocol: HTTPS}
          hosts: ["llm.example.com"]
          tls: {mode: SIMPLE, credentialName: llm-example-com-tls, minProtocolVersion: TLSV1_2}""",
    references=("Istio docs: Secure Gateways", "CIS Amazon EKS Benchmark v1.5.0 5.4.5", LLM02),
)
def mesh_gateway_plain(graph: ResourceGraph) -> Iterator[Hit]:
    for gateway in graph.inventory.of_kind("Gateway"):
        routes = _serving_routes(graph, gateway)
        if not routes:
            continue
        if gateway.group.startswith("networking.istio.io"):
            yield from _istio_gateway(gateway, routes)
        elif not _redirects_to_https(graph, gateway):
            for index, listener in enumerate(gateway.get("spec", "listeners") or ()):
                if isinstance(listener, dict) and str(listener.get("protocol", "")).upper() == "HTTP":
                    pods = [p for _, pods in routes for p in pods]
                    yield Hit(gateway.at("spec", "listeners", index, "protocol"),
                              f"{gateway.ref} listener `{listener.get('name', index)}` serves model APIs "
                              f"({_names(pods)}) over plain HTTP without a redirect to HTTPS", obj=gateway)


def _istio_gateway(gateway: K8sObject, routes: list[tuple[Route, list[PodSpec]]]) -> Iterator[Hit]:
    for index, server in enumerate(gateway.get("spec", "servers") or ()):
        if not isinstance(server, dict):
            continue
        hosts = server.get("hosts") if isinstance(server.get("hosts"), list) else []
        pods = [p for route, pods in routes if _hosts_overlap(hosts, route.hosts) for p in pods]
        if not pods:
            continue
        protocol = str(get_path(server, ("port", "protocol")) or "").upper()
        tls = server.get("tls") if isinstance(server.get("tls"), dict) else {}
        base = gateway.at("spec", "servers", index)
        if protocol == "HTTP" and tls.get("httpsRedirect") is not True:
            yield Hit(base + ("port", "protocol"), f"{gateway.ref} serves model APIs ({_names(pods)}) over plain HTTP "
                                                   f"on port {get_path(server, ('port', 'number'))} without "
                                                   "tls.httpsRedirect", obj=gateway)
        if str(tls.get("mode", "")).upper() == "PASSTHROUGH":
            yield Hit(base + ("tls", "mode"), f"{gateway.ref} passes TLS through to model servers ({_names(pods)}): "
                                              "the gateway cannot authenticate or filter those requests",
                      obj=gateway)
        if str(tls.get("minProtocolVersion", "")).upper() in WEAK_TLS_VERSIONS:
            yield Hit(base + ("tls", "minProtocolVersion"), f"{gateway.ref} accepts {tls['minProtocolVersion']} for "
                                                            f"model APIs ({_names(pods)})", obj=gateway)


# --- ingress-nginx: controllers, classes and the Ingresses they serve (G-09) ---------------------------------

def _nginx_controllers(graph: ResourceGraph) -> list[tuple[PodSpec, Container]]:
    return graph.memo(("nginx-controllers",), lambda: _find_nginx_controllers(graph))


def _find_nginx_controllers(graph: ResourceGraph) -> list[tuple[PodSpec, Container]]:
    found = []
    for pod in graph.pods:
        for container in pod.main_containers:
            if NGINX_CONTROLLER_IMAGE.search(image_repository(container.image).lower()):
                found.append((pod, container))
    return found


def _nginx_ingresses(graph: ResourceGraph) -> list[K8sObject]:
    """Ingresses an ingress-nginx controller serves: class nginx (by name or IngressClass), or no class when
    the default class (or the only controller in the scan) is ingress-nginx."""
    classes = {c.name: str(c.get("spec", "controller") or "") for c in graph.inventory.of_kind("IngressClass")}
    default = next((c.name for c in graph.inventory.of_kind("IngressClass")
                    if str(c.annotations.get("ingressclass.kubernetes.io/is-default-class")) == "true"), None)
    out = []
    for ingress in graph.inventory.of_kind("Ingress"):
        name = ingress.get("spec", "ingressClassName") or ingress.annotations.get("kubernetes.io/ingress.class")
        if name is None:
            name = default
        if name is None:
            if _nginx_controllers(graph) or any(SNIPPET_ANNOTATION.match(str(k)) for k in ingress.annotations):
                out.append(ingress)
        elif "nginx" in str(name) or "ingress-nginx" in classes.get(str(name), ""):
            out.append(ingress)
    return out


def _inference_behind(graph: ResourceGraph, ingress: K8sObject) -> list[PodSpec]:
    pods = []
    for route in graph.routes_of(ingress):
        service = graph.inventory.find("Service", route.namespace, route.service)
        pods += [p for p in graph.service_pods(service) if p.is_inference] if service is not None else []
    return pods


def _controller_secrets(graph: ResourceGraph) -> tuple[PodSpec, Any] | None:
    """An ingress-nginx controller whose service account may read Secrets cluster-wide (the default chart)."""
    for pod, _ in _nginx_controllers(graph):
        for grant in graph.grants(pod):
            if grant.scope == "" and any(p.endswith("secrets") for p in dangerous_powers(grant)):
                return pod, grant
    return None


@rules.rule(
    id="MLS-MESH-006", name="ingress-nginx-snippets",
    title="ingress-nginx snippet annotations enabled or used on inference Ingresses",
    severity=Severity.HIGH, scope=Scope.GRAPH,
    rationale="""
        `*-snippet` annotations inject raw nginx configuration into the shared controller. With the default
        controller RBAC that reads every Secret of the cluster (CVE-2021-25742) and can run commands
        (CVE-2023-5043); anyone who may create an Ingress next to a model server gets the model server's
        traffic, credentials and the cluster's Secrets.""",
    remediation="""
        Set `allow-snippet-annotations: "false"` in the controller ConfigMap (Helm
        `controller.allowSnippetAnnotations: false`) and `annotations-risk-level: High`; use dedicated
        annotations (`auth-url`, `enable-cors`, `limit-rps`) instead of snippets.""",
    bad="""
        metadata:
          annotations:
            nginx.ingress.kubernetes.io/configuration-snippet: |
              more_set_headers "X-Model: fraud";""",
    good="""
        metadata:
          annotations:
            nginx.ingress.kubernetes.io/auth-url: "https://oauth2-proxy.auth.svc.cluster.local/oauth2/auth\"""",
    references=("CVE-2021-25742", "CVE-2023-5043", "GHSA-5wj4-wffq-3378", "Kyverno policy: Disallow Custom Snippets",
                "MITRE ATLAS AML.T0106", NSA),
)
def ingress_nginx_snippets(graph: ResourceGraph) -> Iterator[Hit]:
    secrets = _controller_secrets(graph)
    escalation = ()
    if secrets is not None:
        pod, grant = secrets
        escalation = (RelatedHit(grant.binding, grant.subject_path,
                                 f"the controller {pod.display} may read Secrets cluster-wide"),)
    any_inference = False
    for ingress in _nginx_ingresses(graph):
        pods = _inference_behind(graph, ingress)
        any_inference |= bool(pods)
        if not pods:
            continue
        for key in ingress.annotations:
            if SNIPPET_ANNOTATION.match(str(key)):
                extra = "; the controller's service account reads every Secret of the cluster" if escalation else ""
                yield Hit(ingress.at("metadata", "annotations", key),
                          f"{ingress.ref} routes to model servers ({_names(pods)}) and injects raw nginx "
                          f"configuration with `{key}`{extra}", obj=ingress,
                          severity=Severity.CRITICAL if escalation else None, related=escalation)
    for configmap in graph.inventory.of_kind("ConfigMap"):
        if not re.search(r"ingress-nginx|nginx-ingress|nginx-configuration", configmap.name):
            continue
        data = configmap.get("data") if isinstance(configmap.get("data"), dict) else {}
        for key, bad, text in (("allow-snippet-annotations", "true", "lets every Ingress inject raw nginx "
                                                                     "configuration"),
                               ("annotations-risk-level", "critical", "accepts Critical-risk annotations "
                                                                      "(snippets)")):
            if str(data.get(key, "")).strip().lower() == bad:
                severity = Severity.CRITICAL if escalation and any_inference else None
                yield Hit(configmap.at("data", key), f"{configmap.ref} sets {key}: {data[key]}: the controller "
                                                     f"{text}, including next to model servers", obj=configmap,
                          severity=severity, related=escalation if severity else ())


def _vulnerable(version: tuple[int, ...] | None) -> bool:
    if version is None:
        return False
    padded = version + (0,) * (3 - len(version))
    return padded < NGINX_FIXED[0] or padded[:3] == (1, 12, 0)


@rules.rule(
    id="MLS-MESH-007", name="ingress-nginx-ingressnightmare",
    title="ingress-nginx vulnerable to IngressNightmare (admission webhook RCE, annotation injection)",
    severity=Severity.CRITICAL, scope=Scope.GRAPH,
    rationale="""
        ingress-nginx before 1.11.5 and 1.12.0 run an admission webhook that any pod can reach and that
        executes injected nginx configuration (CVE-2025-1974, CVSS 9.8), chained with annotation injection in
        `auth-url`, `auth-tls-match-cn` and `mirror-*` (CVE-2025-24514, CVE-2025-1097, CVE-2025-1098). The
        controller reads every Secret of the cluster, model-serving credentials included.""",
    remediation="""
        Upgrade the controller to v1.11.5 / v1.12.1 or later (pinned by digest); until then disable the
        admission webhook or allow its port (8443) only from the API server with a NetworkPolicy, and reject
        annotations holding `;`, `#`, `{`, `}`, quotes or newlines.""",
    bad="image: registry.k8s.io/ingress-nginx/controller:v1.11.3",
    good="image: registry.k8s.io/ingress-nginx/controller:v1.12.1@sha256:<digest>",
    references=("CVE-2025-1974", "CVE-2025-24514", "CVE-2025-1097", "CVE-2025-1098", "CVE-2025-24513",
                "kubernetes/kubernetes issues #131006-#131009", "Wiz: IngressNightmare", "MITRE ATLAS AML.T0049",
                "MITRE ATLAS AML.T0106"),
)
def ingress_nightmare(graph: ResourceGraph) -> Iterator[Hit]:
    vulnerable_controller = None
    for pod, container in _nginx_controllers(graph):
        tag = image_tag(container.image)
        if not _vulnerable(version_tuple(tag)):
            continue
        vulnerable_controller = (pod, container)
        webhook = next((w for w in container.argv.words if w.text.startswith("--validating-webhook")), None)
        if webhook is None or not graph.network(pod).ingress_open:
            continue
        inference = [p for ingress in _nginx_ingresses(graph) for p in _inference_behind(graph, ingress)]
        note = f"; it routes to model servers ({_names(inference)})" if inference else ""
        yield Hit(webhook.path, f"{container.display} runs ingress-nginx {tag} with its admission webhook "
                                f"(`{webhook.text}`) reachable from every pod (no NetworkPolicy limits it): "
                                f"CVE-2025-1974 lets any pod run code in the controller and read all Secrets{note}",
                  obj=pod.obj, related=(RelatedHit(pod.obj, container.at("image"), f"vulnerable image {tag}"),))
    for ingress in graph.inventory.of_kind("Ingress"):
        for key in INJECTABLE_ANNOTATIONS:
            value = ingress.annotations.get(key)
            if isinstance(value, str) and INJECTION_CHARACTERS.search(value):
                severity = None if vulnerable_controller is not None else Severity.HIGH
                yield Hit(ingress.at("metadata", "annotations", key),
                          f"{ingress.ref} annotation `{key}` holds characters that inject nginx configuration "
                          f"(CVE-2025-24514, CVE-2025-1097, CVE-2025-1098)", obj=ingress, severity=severity)


# --- MLS-MESH-008 ------------------------------------------------------------------------------------------

def _path_reaches(url_path: str | None, path_type: str, endpoint: str) -> bool:
    if url_path is None:
        return True
    clean = url_path.strip()
    if clean in ("", "/*", "/.*", "/(.*)", "/(.*)$"):
        clean = "/"
    if path_type == "Exact":
        return clean.rstrip("/") == endpoint
    prefix = clean.rstrip("*").rstrip("/")
    return endpoint == prefix or endpoint.startswith(prefix + "/") or prefix == ""


def _admin_exposure(reach: Reach) -> str | None:
    """What management or code-running API a way in carries, if any."""
    container, route = reach.container, reach.route
    if container is None or route is None:
        return None
    for server in sorted(container.servers):
        role = PORTS.get(server, {}).get(reach.port or -1)
        if role in ("admin", "control"):
            return f"the {server} {role} port {reach.port}"
        paths = [p for p in ADMIN_PATHS.get(server, ()) if _path_reaches(route.url_path, route.path_type, p)]
        if paths:
            return f"{server} admin paths {', '.join(paths[:3])}"
    return None


@rules.rule(
    id="MLS-MESH-008", name="route-to-model-server-unauthenticated",
    title="Route to a model server without authentication, or exposing admin paths",
    severity=Severity.HIGH, scope=Scope.GRAPH,
    rationale="""
        An Ingress, HTTPRoute or gateway-bound VirtualService that forwards `/` to a model server publishes
        every API the server has, management planes included: TorchServe `/models`, Triton `/v2/repository`
        and `/v2/logging`, vLLM `/pause` and `/collective_rpc`, Ray `/api/jobs`, MLflow artifacts, Jupyter
        kernels, Ollama `/api/pull`. Without authentication at the route, anyone on the internet can call them.""",
    remediation="""
        Authenticate at the route (nginx `auth-url`/`auth-signin` to oauth2-proxy, an Istio
        RequestAuthentication plus an AuthorizationPolicy requiring a principal) and route only the inference
        paths (`/v2/models/fraud/infer`, `/v1/chat/completions`) with `pathType: Exact`.""",
    bad="""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: triton}
        spec:
          ingressClassName: nginx
          rules: [{host: infer.example.com, http: {paths: [{path: /, pathType: Prefix,
            backend: {service: {name: triton, port: {number: 8000}}}}]}}]""",
    good="""
        metadata:
          name: triton
          annotations:
            nginx.ingress.kubernetes.io/auth-url: "https://oauth2-proxy.auth.svc.cluster.local/oauth2/auth"
        spec:
          rules: [{host: infer.example.com, http: {paths: [{path: /v2/models/fraud/infer, pathType: Exact,
            backend: {service: {name: triton, port: {number: 8000}}}}]}}]""",
    references=("vLLM docs: Security", "Triton Inference Server: Secure Deployment Considerations",
                "TorchServe SECURITY.md", "MITRE ATLAS AML.T0049", "MITRE ATLAS AML.T0040", LLM10),
)
def unauthenticated_routes(graph: ResourceGraph) -> Iterator[Hit]:
    seen: set[tuple[int, Path, int]] = set()
    for pod in graph.serving_pods():
        for reach in graph.external_reach(pod):
            route = reach.route
            if route is None or reach.authenticated or route.source_restricted or reach.container is None:
                continue
            key = (id(route.obj), route.match_path, id(reach.container.spec))
            if key in seen:
                continue
            seen.add(key)
            admin = _admin_exposure(reach)
            what = f", including {admin}" if admin else ""
            related = tuple(RelatedHit(h.obj, h.path, h.text) for h in reach.hops if h.obj is not route.obj)
            yield Hit(route.match_path, f"{route.obj.ref} publishes {route.shown_path} of {reach.container.display} "
                                        f"(port {reach.port}) outside the cluster without authentication{what}",
                      obj=route.obj, severity=Severity.CRITICAL if admin else None, related=related)
