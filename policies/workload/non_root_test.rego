package servegate.workload.non_root_test

import rego.v1

import data.servegate.workload.non_root

pod(pod_security, container_security) := {
	"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "vllm"},
	"spec": {"securityContext": pod_security, "containers": [{"name": "vllm", "image": "vllm", "securityContext": container_security}]},
}

test_root_uid_denied if {
	some result in non_root.violation with input as pod({"runAsNonRoot": true}, {"runAsUser": 0})
	result.msg == "Pod vllm: container \"vllm\" runs as UID 0 (root)"
}

test_missing_run_as_non_root_denied if {
	some result in non_root.violation with input as pod({}, {})
	result.path == ["spec", "containers", 0, "securityContext", "runAsNonRoot"]
}

test_pod_level_run_as_non_root_allowed if {
	count(non_root.violation) == 0 with input as pod({"runAsNonRoot": true}, {})
}

test_container_overrides_pod if {
	count(non_root.violation) == 1 with input as pod({"runAsNonRoot": true}, {"runAsNonRoot": false})
}

test_non_zero_uid_allowed if {
	count(non_root.violation) == 0 with input as pod({}, {"runAsUser": 1000})
}
