package servegate.workload.read_only_root_test

import rego.v1

import data.servegate.workload.read_only_root

job(security) := {"kind": "CronJob", "metadata": {"name": "refresh"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {
	"containers": [{"name": "export", "image": "x", "securityContext": security}],
}}}}}}

test_writable_root_denied if {
	some result in read_only_root.violation with input as job({})
	result.path == ["spec", "jobTemplate", "spec", "template", "spec", "containers", 0, "securityContext", "readOnlyRootFilesystem"]
}

test_read_only_root_allowed if {
	count(read_only_root.violation) == 0 with input as job({"readOnlyRootFilesystem": true})
}
