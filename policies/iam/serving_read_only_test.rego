package servegate.iam.serving_read_only_test

import rego.v1

import data.servegate.iam.serving_read_only

assume := "${jsonencode({Statement = [{Action = \"sts:AssumeRole\", Effect = \"Allow\", Principal = {Service = \"sagemaker.amazonaws.com\"}}]})}"

config(statement) := {"resource": {
	"aws_iam_role": {"serving": [{"assume_role_policy": assume}]},
	"aws_iam_role_policy": {"models": [{"role": "${aws_iam_role.serving.id}", "policy": json.marshal({"Statement": [statement]})}]},
}}

test_write_access_denied if {
	{r.msg | some r in serving_read_only.violation} == {"serving role aws_iam_role.serving may \"s3:PutObject\" on S3: serving identities are read-only"} with input as config({"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::models/fraud/*"})
}

test_whole_bucket_denied if {
	some r in serving_read_only.violation with input as config({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::models/*"})
	r.path == ["resource", "aws_iam_role_policy", "models", 0, "policy"]
}

test_read_only_prefix_allowed if {
	count(serving_read_only.violation) == 0 with input as config({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::models/fraud/*"})
}

test_policy_document_reference if {
	count(serving_read_only.violation) == 1 with input as {
		"resource": {
			"aws_iam_role": {"serving": [{"assume_role_policy": assume}]},
			"aws_iam_role_policy": {"models": [{"role": "${aws_iam_role.serving.name}", "policy": "${data.aws_iam_policy_document.read.json}"}]},
		},
		"data": {"aws_iam_policy_document": {"read": [{"statement": [{"actions": ["s3:*"], "resources": ["arn:aws:s3:::models/fraud/*"]}]}]}},
	}
}

test_full_access_attachment_denied if {
	count(serving_read_only.violation) == 1 with input as {"resource": {
		"aws_iam_role": {"serving": [{"assume_role_policy": assume}]},
		"aws_iam_role_policy_attachment": {"full": [{"role": "${aws_iam_role.serving.name}", "policy_arn": "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"}]},
	}}
}

test_other_roles_not_checked if {
	count(serving_read_only.violation) == 0 with input as {"resource": {
		"aws_iam_role": {"pipeline": [{"assume_role_policy": "${jsonencode({Principal = {Service = \"glue.amazonaws.com\"}})}"}]},
		"aws_iam_role_policy": {"p": [{"role": "${aws_iam_role.pipeline.id}", "policy": json.marshal({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})}]},
	}}
}
