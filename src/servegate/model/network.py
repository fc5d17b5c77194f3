"""Label selection and Service exposure, shared by the network-facing rules."""

from __future__ import annotations

from servegate.model.k8s import K8sObject


def selects(selector: object, labels: dict) -> bool:
    """Kubernetes LabelSelector semantics (matchLabels and matchExpressions)."""
    if not isinstance(selector, dict):
        return False
    match_labels = selector.get("matchLabels") or {}
    if isinstance(match_labels, dict) and any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    expressions = selector.get("matchExpressions") or []
    for expr in expressions if isinstance(expressions, list) else ():
        if not isinstance(expr, dict):
            return False
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        present = key in labels
        if op == "In" and (not present or labels[key] not in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


INTERNAL_LB_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
    "networking.gke.io/load-balancer-type": "internal",
    "cloud.google.com/load-balancer-type": "internal",
    "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
    "service.beta.kubernetes.io/oci-load-balancer-internal": "true",
}


def is_internal_load_balancer(service: K8sObject) -> bool:
    annotations = service.annotations
    return any(str(annotations.get(k, "")).lower() == v for k, v in INTERNAL_LB_ANNOTATIONS.items())


def external_exposure(service: K8sObject) -> str | None:
    """How a Service is reachable from outside the cluster, or None."""
    spec_type = service.get("spec", "type")
    if spec_type == "LoadBalancer" and not is_internal_load_balancer(service):
        return "type LoadBalancer"
    if spec_type == "NodePort":
        return "type NodePort"
    if service.get("spec", "externalIPs"):
        return "externalIPs"
    return None
