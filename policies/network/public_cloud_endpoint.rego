package servegate.network.public_cloud_endpoint

import rego.v1

import data.lib.servegate.input as inputs
import data.lib.servegate.terraform as tf

# METADATA
# title: Managed model endpoints must be private
# description: >-
#   A SageMaker model outside a VPC, a Vertex AI endpoint without private networking and an Azure ML workspace
#   with public network access are reachable from the internet; the platform's network controls (security
#   groups, firewalls, private endpoints) never see their traffic.
# related_resources:
# - ref: https://docs.aws.amazon.com/sagemaker/latest/dg/host-vpc.html
#   description: SageMaker hosted models in a VPC
# - ref: https://cloud.google.com/vertex-ai/docs/predictions/using-private-endpoints
#   description: Vertex AI private endpoints
# - ref: https://learn.microsoft.com/azure/machine-learning/how-to-configure-private-link
#   description: Azure ML private link
# custom:
#   id: SGP-NET-002
#   severity: high
#   remediation: >-
#     Give aws_sagemaker_model a vpc_config; give google_vertex_ai_endpoint a network or a
#     private_service_connect_config; set public_network_access_enabled = false on azurerm_machine_learning_workspace.
violation contains result if {
	some [prefix, doc] in inputs.documents
	some [path, name, model] in tf.resources(doc, "aws_sagemaker_model")
	not model.vpc_config
	msg := sprintf("aws_sagemaker_model.%s has no vpc_config: its endpoint containers run outside the platform's network", [name])
	result := inputs.result(prefix, array.concat(path, ["vpc_config"]), msg)
}

violation contains result if {
	some [prefix, doc] in inputs.documents
	some [path, name, endpoint] in tf.resources(doc, "google_vertex_ai_endpoint")
	not endpoint.network
	not endpoint.private_service_connect_config
	msg := sprintf("google_vertex_ai_endpoint.%s is a public endpoint (no network, no private_service_connect_config)", [name])
	result := inputs.result(prefix, array.concat(path, ["network"]), msg)
}

violation contains result if {
	some [prefix, doc] in inputs.documents
	some [path, name, workspace] in tf.resources(doc, "azurerm_machine_learning_workspace")
	object.get(workspace, "public_network_access_enabled", true) == true
	msg := sprintf("azurerm_machine_learning_workspace.%s accepts traffic from the internet (public_network_access_enabled is true or unset)", [name])
	result := inputs.result(prefix, array.concat(path, ["public_network_access_enabled"]), msg)
}
