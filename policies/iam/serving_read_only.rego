package servegate.iam.serving_read_only

import rego.v1

import data.lib.servegate.input as inputs
import data.lib.servegate.terraform as tf

# METADATA
# title: Serving identities read their own model prefix, and nothing more
# description: >-
#   An endpoint's execution role that can write to S3 can replace the models it and others serve; one that reads
#   a whole bucket leaks every other team's models once the endpoint is compromised. A serving role (assumed by
#   sagemaker.amazonaws.com) may only get and list objects, under a key prefix of its own, and must not hold the
#   SageMaker or S3 full-access managed policies. Policies read here: inline aws_iam_role_policy documents
#   (literal JSON or an aws_iam_policy_document among the checked documents) and managed policy attachments.
# related_resources:
# - ref: https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html
#   description: SageMaker execution roles
# custom:
#   id: SGP-IAM-002
#   severity: high
#   remediation: >-
#     Grant s3:GetObject on arn:aws:s3:::<bucket>/<model prefix>/* (and s3:ListBucket with an s3:prefix condition)
#     to the execution role, nothing else on S3.
violation contains result if {
	some [prefix, path, role, statement] in serving_statements
	some action in tf.as_list(statement.actions)
	startswith(lower(action), "s3:")
	not read_only(action)
	not action in {"*", "s3:*"}
	msg := sprintf("serving role aws_iam_role.%s may %q on S3: serving identities are read-only", [role, action])
	result := inputs.result(prefix, path, msg)
}

violation contains result if {
	some [prefix, path, role, statement] in serving_statements
	some action in tf.as_list(statement.actions)
	action in {"*", "s3:*"}
	msg := sprintf("serving role aws_iam_role.%s may %q: serving identities are read-only", [role, action])
	result := inputs.result(prefix, path, msg)
}

violation contains result if {
	some [prefix, path, role, statement] in serving_statements
	some resource in tf.as_list(statement.resources)
	whole_bucket(resource)
	msg := sprintf("serving role aws_iam_role.%s reads %s: limit it to the model's own key prefix", [role, resource])
	result := inputs.result(prefix, path, msg)
}

violation contains result if {
	some [prefix, doc] in inputs.documents
	some [path, name, attachment] in tf.resources(doc, "aws_iam_role_policy_attachment")
	role := attached_role(attachment.role)
	serving_roles[role]
	some managed in ["AmazonSageMakerFullAccess", "AmazonS3FullAccess"]
	endswith(attachment.policy_arn, concat("", ["/", managed]))
	msg := sprintf("serving role aws_iam_role.%s holds %s (aws_iam_role_policy_attachment.%s)", [role, managed, name])
	result := inputs.result(prefix, array.concat(path, ["policy_arn"]), msg)
}

read_only_actions := {"s3:getobject", "s3:getobjectversion", "s3:listbucket", "s3:getbucketlocation", "s3:getobjecttagging"}

read_only(action) if lower(action) in read_only_actions

# An object ARN with no key prefix ("bucket/*"), or every resource.
whole_bucket(resource) if resource == "*"

whole_bucket(resource) if regex.match(`^arn:aws:s3:::[^/]+/\*$`, resource)

# Roles (by name) that SageMaker assumes, among the checked documents.
serving_roles contains name if {
	some [_, doc] in inputs.documents
	some [_, name, role] in tf.resources(doc, "aws_iam_role")
	contains(role.assume_role_policy, "sagemaker.amazonaws.com")
}

attached_role(reference) := name if {
	[[_, name, _]] := regex.find_all_string_submatch_n(`aws_iam_role\.([A-Za-z0-9_-]+)\.(id|name)`, reference, 1)
}

# [prefix, path, role, {"actions", "resources"}] of every statement granted to a serving role by an inline policy.
serving_statements contains [prefix, array.concat(path, ["policy"]), role, statement] if {
	some [prefix, doc] in inputs.documents
	some [path, _, body] in tf.resources(doc, "aws_iam_role_policy")
	role := attached_role(body.role)
	serving_roles[role]
	some raw in tf.statements(tf.json_policy(body.policy))
	object.get(raw, "Effect", "Allow") == "Allow"
	statement := {"actions": object.get(raw, "Action", []), "resources": object.get(raw, "Resource", [])}
}

serving_statements contains [document_prefix, array.concat(document_path, ["statement", i]), role, statement] if {
	some [_, doc] in inputs.documents
	some [_, _, body] in tf.resources(doc, "aws_iam_role_policy")
	role := attached_role(body.role)
	serving_roles[role]
	[[_, document_name]] := regex.find_all_string_submatch_n(`data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json`, body.policy, 1)
	some [document_prefix, other] in inputs.documents
	some [document_path, name, document] in tf.data_sources(other, "aws_iam_policy_document")
	name == document_name
	some i, raw in document.statement
	object.get(raw, "effect", "Allow") == "Allow"
	statement := {"actions": object.get(raw, "actions", []), "resources": object.get(raw, "resources", [])}
}
