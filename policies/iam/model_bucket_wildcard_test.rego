package servegate.iam.model_bucket_wildcard_test

import rego.v1

import data.servegate.iam.model_bucket_wildcard

test_policy_document_wildcard_denied if {
	model_bucket_wildcard.violation == {{
		"msg": "data.aws_iam_policy_document.pipeline allows \"s3:*\" on model bucket ${aws_s3_bucket.models.arn}/*",
		"path": ["data", "aws_iam_policy_document", "pipeline", 0, "statement", 0, "actions"],
	}} with input as {"data": {"aws_iam_policy_document": {"pipeline": [{"statement": [{
		"actions": ["s3:*"], "resources": ["${aws_s3_bucket.models.arn}/*"],
	}]}]}}}
}

test_heredoc_policy_wildcard_denied if {
	policy := json.marshal({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::acme-model-artifacts/*"}})
	count(model_bucket_wildcard.violation) == 1 with input as {"resource": {"aws_iam_policy": {"p": [{"policy": policy}]}}}
}

test_listed_actions_allowed if {
	count(model_bucket_wildcard.violation) == 0 with input as {"data": {"aws_iam_policy_document": {"pipeline": [{"statement": [{
		"actions": ["s3:GetObject", "s3:PutObject"], "resources": ["arn:aws:s3:::acme-models/*"],
	}]}]}}}
}

test_other_buckets_not_checked if {
	count(model_bucket_wildcard.violation) == 0 with input as {"data": {"aws_iam_policy_document": {"logs": [{"statement": [{
		"actions": ["s3:*"], "resources": ["arn:aws:s3:::acme-logs/*"],
	}]}]}}}
}
