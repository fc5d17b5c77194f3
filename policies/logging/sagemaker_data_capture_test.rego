package servegate.logging.sagemaker_data_capture_test

import rego.v1

import data.servegate.logging.sagemaker_data_capture

config(body) := {"resource": {"aws_sagemaker_endpoint_configuration": {"fraud": [body]}}}

test_missing_data_capture_denied if {
	sagemaker_data_capture.violation == {{
		"msg": "aws_sagemaker_endpoint_configuration.fraud has no data_capture_config",
		"path": ["resource", "aws_sagemaker_endpoint_configuration", "fraud", 0, "data_capture_config"],
	}} with input as config({"name": "fraud"})
}

test_capture_turned_off_denied if {
	count(sagemaker_data_capture.violation) == 1 with input as config({"data_capture_config": [{"enable_capture": false}]})
}

test_capture_on_allowed if {
	count(sagemaker_data_capture.violation) == 0 with input as config({"data_capture_config": [{"enable_capture": true, "kms_key_id": "${aws_kms_key.k.arn}"}]})
}
