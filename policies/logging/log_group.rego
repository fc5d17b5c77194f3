package servegate.logging.log_group

import rego.v1

import data.lib.servegate.input as inputs
import data.lib.servegate.terraform as tf

# METADATA
# title: Log groups must be encrypted with a KMS key and kept long enough
# description: >-
#   Inference and training logs hold prompts, outputs and identifiers; without a customer-managed key anyone with
#   CloudWatch read access reads them, and without a retention period they are either kept forever or, set too
#   short, gone before an incident is noticed. The minimum is data.servegate.logging.min_retention_days (365).
# related_resources:
# - ref: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
#   description: Encrypt CloudWatch Logs with AWS KMS
# custom:
#   id: SGP-LOG-002
#   severity: medium
#   remediation: Set kms_key_id and a retention_in_days of at least the platform's minimum on every aws_cloudwatch_log_group.
violation contains result if {
	some [prefix, doc] in inputs.documents
	some [path, name, group] in tf.resources(doc, "aws_cloudwatch_log_group")
	not group.kms_key_id
	msg := sprintf("aws_cloudwatch_log_group.%s is not encrypted with a KMS key (kms_key_id)", [name])
	result := inputs.result(prefix, array.concat(path, ["kms_key_id"]), msg)
}

violation contains result if {
	some [prefix, doc] in inputs.documents
	some [path, name, group] in tf.resources(doc, "aws_cloudwatch_log_group")
	not group.retention_in_days
	msg := sprintf("aws_cloudwatch_log_group.%s has no retention_in_days (logs are never expired nor governed)", [name])
	result := inputs.result(prefix, array.concat(path, ["retention_in_days"]), msg)
}

violation contains result if {
	some [prefix, doc] in inputs.documents
	some [path, name, group] in tf.resources(doc, "aws_cloudwatch_log_group")
	is_number(group.retention_in_days)
	group.retention_in_days < min_retention_days
	msg := sprintf("aws_cloudwatch_log_group.%s keeps logs %d days, fewer than the required %d", [name, group.retention_in_days, min_retention_days])
	result := inputs.result(prefix, array.concat(path, ["retention_in_days"]), msg)
}

default min_retention_days := 365

min_retention_days := data.servegate.logging.min_retention_days
