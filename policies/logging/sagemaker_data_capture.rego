package servegate.logging.sagemaker_data_capture

import rego.v1

import data.lib.servegate.input as inputs
import data.lib.servegate.terraform as tf

# METADATA
# title: SageMaker endpoints must capture their traffic
# description: >-
#   Without data capture there is no record of what an endpoint was asked and answered: prompt injection, model
#   extraction and data exfiltration through the model leave no trace to investigate.
# related_resources:
# - ref: https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture.html
#   description: SageMaker data capture
# custom:
#   id: SGP-LOG-001
#   severity: medium
#   remediation: Add a data_capture_config block (enable_capture = true, a KMS key, an S3 destination) to the endpoint configuration.
violation contains result if {
	some [prefix, doc] in inputs.documents
	some [path, name, config] in tf.resources(doc, "aws_sagemaker_endpoint_configuration")
	not config.data_capture_config
	msg := sprintf("aws_sagemaker_endpoint_configuration.%s has no data_capture_config", [name])
	result := inputs.result(prefix, array.concat(path, ["data_capture_config"]), msg)
}

violation contains result if {
	some [prefix, doc] in inputs.documents
	some [path, name, config] in tf.resources(doc, "aws_sagemaker_endpoint_configuration")
	some i, capture in config.data_capture_config
	capture.enable_capture == false
	msg := sprintf("aws_sagemaker_endpoint_configuration.%s turns data capture off", [name])
	result := inputs.result(prefix, array.concat(path, ["data_capture_config", i, "enable_capture"]), msg)
}
