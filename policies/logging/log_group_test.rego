package servegate.logging.log_group_test

import rego.v1

import data.servegate.logging.log_group

group(body) := {"resource": {"aws_cloudwatch_log_group": {"endpoint": [body]}}}

test_unencrypted_unretained_denied if {
	{r.msg | some r in log_group.violation} == {
		"aws_cloudwatch_log_group.endpoint is not encrypted with a KMS key (kms_key_id)",
		"aws_cloudwatch_log_group.endpoint has no retention_in_days (logs are never expired nor governed)",
	} with input as group({"name": "/aws/sagemaker/Endpoints/fraud"})
}

test_short_retention_denied if {
	some r in log_group.violation with input as group({"kms_key_id": "${aws_kms_key.k.arn}", "retention_in_days": 30})
	r.msg == "aws_cloudwatch_log_group.endpoint keeps logs 30 days, fewer than the required 365"
}

test_minimum_from_data if {
	count(log_group.violation) == 0 with input as group({"kms_key_id": "${aws_kms_key.k.arn}", "retention_in_days": 90})
		with data.servegate.logging.min_retention_days as 90
}

test_compliant_allowed if {
	count(log_group.violation) == 0 with input as group({"kms_key_id": "${aws_kms_key.k.arn}", "retention_in_days": "${var.retention}"})
}
