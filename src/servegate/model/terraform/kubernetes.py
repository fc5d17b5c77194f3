"""``kubernetes_*`` Terraform resources as Kubernetes objects, so the Kubernetes rules judge them too.

The provider's schema is the manifest's in snake_case with blocks for nested objects: blocks become
mappings (or lists, for the repeated ones), block keys become camelCase, map attributes (labels,
data, limits) keep their keys. Every key keeps the span of the Terraform attribute it came from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from servegate.model.k8s import K8sObject
from servegate.sources.located import LDict, LList, Span

if TYPE_CHECKING:
    from servegate.model.terraform.config import TfResource

KINDS: dict[str, tuple[str, str]] = {
    "pod": ("Pod", "v1"), "deployment": ("Deployment", "apps/v1"), "stateful_set": ("StatefulSet", "apps/v1"),
    "daemonset": ("DaemonSet", "apps/v1"), "daemon_set": ("DaemonSet", "apps/v1"), "job": ("Job", "batch/v1"),
    "cron_job": ("CronJob", "batch/v1"), "replication_controller": ("ReplicationController", "v1"),
    "service": ("Service", "v1"), "ingress": ("Ingress", "networking.k8s.io/v1"),
    "role": ("Role", "rbac.authorization.k8s.io/v1"), "cluster_role": ("ClusterRole", "rbac.authorization.k8s.io/v1"),
    "role_binding": ("RoleBinding", "rbac.authorization.k8s.io/v1"),
    "cluster_role_binding": ("ClusterRoleBinding", "rbac.authorization.k8s.io/v1"),
    "service_account": ("ServiceAccount", "v1"), "network_policy": ("NetworkPolicy", "networking.k8s.io/v1"),
    "config_map": ("ConfigMap", "v1"), "secret": ("Secret", "v1"), "namespace": ("Namespace", "v1"),
}
# Repeated blocks: the provider names them in the singular.
PLURALS = {
    "container": "containers", "init_container": "initContainers", "volume": "volumes",
    "volume_mount": "volumeMounts", "port": "ports", "env": "env", "env_from": "envFrom",
    "toleration": "tolerations", "image_pull_secrets": "imagePullSecrets", "host_aliases": "hostAliases",
    "rule": "rules", "subject": "subjects", "ingress": "ingress", "egress": "egress", "from": "from", "to": "to",
    "match_expressions": "matchExpressions", "items": "items", "path": "paths", "tls": "tls",
    "ephemeral_container": "ephemeralContainers",
}
SPECIAL_KEYS = {
    "host_pid": "hostPID", "host_ipc": "hostIPC", "external_ips": "externalIPs", "cluster_ip": "clusterIP",
    "cluster_ips": "clusterIPs", "host_ip": "hostIP", "load_balancer_ip": "loadBalancerIP",
}
# Blocks that are lists in Kubernetes only at some depths ("ingress" rules of a NetworkPolicy, not
# the Ingress kind's spec) are handled by PLURALS regardless; "rule" of an Ingress is also a list.


def kubernetes_type(resource_type: str) -> tuple[str, str] | None:
    if not resource_type.startswith("kubernetes_"):
        return None
    base = resource_type.removeprefix("kubernetes_").removesuffix("_v1").removesuffix("_v2")
    return KINDS.get(base)


def camel(key: str) -> str:
    if key in SPECIAL_KEYS:
        return SPECIAL_KEYS[key]
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _span(resource: TfResource, path: tuple) -> tuple[int, int, int, int, str]:
    return (*resource.span_of(path), "")


def _convert_block(resource: TfResource, block: dict, path: tuple) -> LDict:
    out = LDict(span=_span(resource, path))
    for key, value in block.items():
        key_path = path + (key,)
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value) and key_path + (0,) in resource.spans:
            if key in PLURALS:
                items = LList(span=_span(resource, key_path + (0,)))
                for index, item in enumerate(value):
                    items.append(_convert_block(resource, item, key_path + (index,)))
                    items.item_spans.append(_span(resource, key_path + (index,)))
                name, converted = PLURALS[key], items
            else:
                name, converted = camel(key), _convert_block(resource, value[0], key_path + (0,))
            span: Span = _span(resource, key_path + (0,))
        else:
            name, converted, span = camel(key), _plain(value, resource, key_path), _span(resource, key_path)
        out[name] = converted
        out.key_spans[name] = span
        out.value_spans[name] = span
    return out


def _plain(value: Any, resource: TfResource, path: tuple) -> Any:
    """Attribute values (maps, lists, scalars) keep their keys; positions are the attribute's."""
    span = _span(resource, path)
    if isinstance(value, dict):
        out = LDict(value, span=span)
        for key in value:
            out.key_spans[key] = out.value_spans[key] = span
        return out
    if isinstance(value, list):
        out_list = LList(value, span=span)
        out_list.item_spans.extend(span for _ in value)
        return out_list
    return value


def as_kubernetes_object(resource: TfResource) -> K8sObject | None:
    """The Kubernetes object a ``kubernetes_*`` resource creates, with spans into the .tf file."""
    if resource.type in ("kubernetes_manifest",):
        manifest = resource.values.get("manifest")
        if not isinstance(manifest, dict):
            return None
        doc = _plain_deep(manifest, resource, ("manifest",))
        kind, api_version = manifest.get("kind"), manifest.get("apiVersion")
        if not isinstance(kind, str) or not isinstance(api_version, str):
            return None
        return _object(resource, doc, kind, api_version)
    found = kubernetes_type(resource.type)
    if found is None:
        return None
    kind, api_version = found
    doc = _convert_block(resource, resource.values, ())
    doc["kind"], doc["apiVersion"] = kind, api_version
    return _object(resource, doc, kind, api_version)


def _plain_deep(value: Any, resource: TfResource, path: tuple) -> Any:
    span = _span(resource, path)
    if isinstance(value, dict):
        out = LDict(span=span)
        for key, item in value.items():
            out[key] = _plain_deep(item, resource, path)
            out.key_spans[key] = out.value_spans[key] = span
        return out
    if isinstance(value, list):
        out_list = LList(span=span)
        for item in value:
            out_list.append(_plain_deep(item, resource, path))
            out_list.item_spans.append(span)
        return out_list
    return value


def _object(resource: TfResource, doc: LDict, kind: str, api_version: str) -> K8sObject:
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    name = str(metadata.get("name") or resource.name) if isinstance(metadata.get("name", ""), str) else resource.name
    namespace = metadata.get("namespace")
    return K8sObject(resource.file, doc, (), doc, kind, api_version, name,
                     namespace if isinstance(namespace, str) else "", origin=resource.address)
