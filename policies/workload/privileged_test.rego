package servegate.workload.privileged_test

import rego.v1

import data.servegate.workload.privileged

deployment(security) := {
	"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "triton"},
	"spec": {"template": {"spec": {"containers": [{"name": "triton", "image": "nvcr.io/nvidia/tritonserver", "securityContext": security}]}}},
}

test_privileged_container_denied if {
	privileged.violation == {{
		"msg": "Deployment triton: container \"triton\" runs privileged",
		"path": ["spec", "template", "spec", "containers", 0, "securityContext", "privileged"],
	}} with input as deployment({"privileged": true})
}

test_unprivileged_container_allowed if {
	count(privileged.violation) == 0 with input as deployment({"privileged": false})
}

test_combined_input_points_at_the_document if {
	some result in privileged.violation with input as [
		{"path": "a.yaml", "contents": {"kind": "Service"}},
		{"path": "b.yaml", "contents": deployment({"privileged": true})},
	]
	result.path == [1, "contents", "spec", "template", "spec", "containers", 0, "securityContext", "privileged"]
}

test_gatekeeper_review_object if {
	some result in privileged.violation with input as {"review": {"object": deployment({"privileged": true})}}
	result.path[0] == "review"
}
