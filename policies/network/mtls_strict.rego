package servegate.network.mtls_strict

import rego.v1

import data.lib.servegate.input as inputs
import data.lib.servegate.k8s

# METADATA
# title: Model traffic must use mutual TLS in STRICT mode
# description: >-
#   PERMISSIVE or DISABLE accepts plaintext: prompts, completions and model weights cross the network readable,
#   and any pod can call a model server without a workload identity. A namespace running model servers needs an
#   Istio PeerAuthentication in STRICT mode (the mesh-wide one in istio-system counts); that check runs with
#   --combine.
# related_resources:
# - ref: https://istio.io/latest/docs/reference/config/security/peer_authentication/
#   description: Istio PeerAuthentication
# custom:
#   id: SGP-NET-004
#   severity: high
#   remediation: Set spec.mtls.mode to STRICT in a PeerAuthentication of the namespace (or mesh-wide in istio-system).
violation contains result if {
	some [prefix, policy] in inputs.documents
	policy.kind == "PeerAuthentication"
	mode := policy.spec.mtls.mode
	mode != "STRICT"
	msg := sprintf("PeerAuthentication %s/%s sets mTLS mode %s, not STRICT", [k8s.namespace(policy), k8s.name(policy), mode])
	result := inputs.result(prefix, ["spec", "mtls", "mode"], msg)
}

violation contains result if {
	some [prefix, policy] in inputs.documents
	policy.kind == "PeerAuthentication"
	some port, setting in policy.spec.portLevelMtls
	setting.mode != "STRICT"
	msg := sprintf("PeerAuthentication %s/%s sets mTLS mode %s on port %v", [k8s.namespace(policy), k8s.name(policy), setting.mode, port])
	result := inputs.result(prefix, ["spec", "portLevelMtls", port, "mode"], msg)
}

violation contains result if {
	inputs.combined
	some [prefix, workload] in inputs.documents
	k8s.is_model_server(workload)
	ns := k8s.namespace(workload)
	not strict[ns]
	not strict["istio-system"]
	msg := sprintf("%s %s runs a model server in namespace %s, which has no STRICT mTLS PeerAuthentication", [workload.kind, k8s.name(workload), ns])
	result := inputs.result(prefix, ["metadata"], msg)
}

# Namespaces whose namespace-wide PeerAuthentication is STRICT.
strict contains k8s.namespace(policy) if {
	some [_, policy] in inputs.documents
	policy.kind == "PeerAuthentication"
	not policy.spec.selector
	policy.spec.mtls.mode == "STRICT"
}
