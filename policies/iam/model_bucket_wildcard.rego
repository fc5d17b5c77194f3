package servegate.iam.model_bucket_wildcard

import rego.v1

import data.lib.servegate.input as inputs
import data.lib.servegate.terraform as tf

# METADATA
# title: No wildcard actions on model buckets
# description: >-
#   "s3:*" or "*" on a bucket of models lets the holder overwrite or delete the weights a server loads (a
#   poisoned model runs with the server's identity), change the bucket policy or make it public. Policies read
#   here: aws_iam_policy_document data sources, and literal JSON documents (heredocs) of aws_iam_policy,
#   aws_iam_role_policy and aws_s3_bucket_policy; a bucket is a model bucket when its name or ARN says model,
#   artifact, weights or checkpoint.
# related_resources:
# - ref: https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege
#   description: IAM least privilege
# custom:
#   id: SGP-IAM-001
#   severity: high
#   remediation: List the S3 actions each principal needs (s3:GetObject for servers, s3:PutObject for the training pipeline).
violation contains result if {
	some [prefix, doc] in inputs.documents
	some [path, name, document] in tf.data_sources(doc, "aws_iam_policy_document")
	some i, statement in document.statement
	object.get(statement, "effect", "Allow") == "Allow"
	some action in tf.as_list(object.get(statement, "actions", []))
	wildcard(action)
	some resource in tf.as_list(object.get(statement, "resources", []))
	model_bucket(resource)
	msg := sprintf("data.aws_iam_policy_document.%s allows %q on model bucket %s", [name, action, resource])
	result := inputs.result(prefix, array.concat(path, ["statement", i, "actions"]), msg)
}

violation contains result if {
	some [prefix, doc] in inputs.documents
	some type in ["aws_iam_policy", "aws_iam_role_policy", "aws_s3_bucket_policy"]
	some [path, name, body] in tf.resources(doc, type)
	policy := tf.json_policy(body.policy)
	some statement in tf.statements(policy)
	object.get(statement, "Effect", "Allow") == "Allow"
	some action in tf.as_list(object.get(statement, "Action", []))
	wildcard(action)
	some resource in tf.as_list(object.get(statement, "Resource", []))
	model_bucket(resource)
	msg := sprintf("%s.%s allows %q on model bucket %s", [type, name, action, resource])
	result := inputs.result(prefix, array.concat(path, ["policy"]), msg)
}

wildcard(action) if action in {"*", "s3:*"}

model_bucket(resource) if regex.match(`(?i)^(arn:aws:s3:::|\$\{aws_s3_bucket\.).*(model|artifact|weights|checkpoint)`, resource)
