package servegate.network.default_deny_test

import rego.v1

import data.servegate.network.default_deny

triton := {"kind": "Deployment", "metadata": {"name": "triton", "namespace": "models"},
	"spec": {"template": {"spec": {"containers": [{"name": "t", "image": "nvcr.io/nvidia/tritonserver:24.01-py3"}]}}}}

default_deny_policy(namespace) := {"kind": "NetworkPolicy", "metadata": {"name": "default-deny", "namespace": namespace},
	"spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}

test_namespace_without_default_deny_denied if {
	default_deny.violation == {{
		"msg": "Deployment triton runs a model server in namespace models, which has no default-deny ingress NetworkPolicy",
		"path": [0, "contents", "metadata"],
	}} with input as [{"path": "triton.yaml", "contents": triton}, {"path": "np.yaml", "contents": default_deny_policy("other")}]
}

test_default_deny_in_namespace_allowed if {
	count(default_deny.violation) == 0 with input as [{"path": "triton.yaml", "contents": triton}, {"path": "np.yaml", "contents": default_deny_policy("models")}]
}

test_policy_with_ingress_rules_is_not_default_deny if {
	allow := json.patch(default_deny_policy("models"), [{"op": "add", "path": "/spec/ingress", "value": [{"from": [{"podSelector": {}}]}]}])
	count(default_deny.violation) == 1 with input as [{"path": "triton.yaml", "contents": triton}, {"path": "np.yaml", "contents": allow}]
}

test_per_file_mode_does_not_guess if {
	count(default_deny.violation) == 0 with input as triton
}
