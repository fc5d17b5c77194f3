package servegate.workload.resource_limits_test

import rego.v1

import data.servegate.workload.resource_limits

isvc(resources) := {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService", "metadata": {"name": "llm"},
	"spec": {"predictor": {"containers": [{"name": "kserve-container", "image": "x", "resources": resources}]}}}

test_missing_limits_denied if {
	{r.msg | some r in resource_limits.violation} == {
		"InferenceService llm: container \"kserve-container\" has no cpu limit",
		"InferenceService llm: container \"kserve-container\" has no memory limit",
	} with input as isvc({"requests": {"cpu": "1"}})
}

test_limits_allowed if {
	count(resource_limits.violation) == 0 with input as isvc({"limits": {"cpu": "4", "memory": "16Gi"}})
}
