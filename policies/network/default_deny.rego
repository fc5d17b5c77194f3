package servegate.network.default_deny

import rego.v1

import data.lib.servegate.input as inputs
import data.lib.servegate.k8s

# METADATA
# title: Namespaces running model servers need a default-deny NetworkPolicy
# description: >-
#   Without a default-deny NetworkPolicy every pod in the cluster can reach a model server's inference,
#   management and metrics ports; one compromised workload anywhere reaches every model. Needs every manifest at
#   once: run with --combine (Conftest: --combine).
# related_resources:
# - ref: https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-deny-all-ingress-traffic
#   description: Kubernetes default-deny NetworkPolicy
# custom:
#   id: SGP-NET-003
#   severity: high
#   remediation: >-
#     Add a NetworkPolicy with podSelector {} and policyTypes [Ingress] (and Egress) to the namespace, then allow
#     the gateway's traffic explicitly.
violation contains result if {
	inputs.combined
	some [prefix, workload] in inputs.documents
	k8s.is_model_server(workload)
	ns := k8s.namespace(workload)
	not default_deny[ns]
	msg := sprintf("%s %s runs a model server in namespace %s, which has no default-deny ingress NetworkPolicy", [workload.kind, k8s.name(workload), ns])
	result := inputs.result(prefix, ["metadata"], msg)
}

# Namespaces with a NetworkPolicy that selects every pod and allows no ingress.
default_deny contains k8s.namespace(policy) if {
	some [_, policy] in inputs.documents
	policy.kind == "NetworkPolicy"
	count(object.get(policy, ["spec", "podSelector", "matchLabels"], {})) == 0
	count(object.get(policy, ["spec", "podSelector", "matchExpressions"], [])) == 0
	"Ingress" in object.get(policy, ["spec", "policyTypes"], ["Ingress"])
	count(object.get(policy, ["spec", "ingress"], [])) == 0
}
