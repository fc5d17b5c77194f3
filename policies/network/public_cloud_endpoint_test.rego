package servegate.network.public_cloud_endpoint_test

import rego.v1

import data.servegate.network.public_cloud_endpoint

test_sagemaker_model_without_vpc_denied if {
	public_cloud_endpoint.violation == {{
		"msg": "aws_sagemaker_model.fraud has no vpc_config: its endpoint containers run outside the platform's network",
		"path": ["resource", "aws_sagemaker_model", "fraud", 0, "vpc_config"],
	}} with input as {"resource": {"aws_sagemaker_model": {"fraud": [{"name": "fraud", "execution_role_arn": "${aws_iam_role.r.arn}"}]}}}
}

test_sagemaker_model_in_vpc_allowed if {
	count(public_cloud_endpoint.violation) == 0 with input as {"resource": {"aws_sagemaker_model": {"fraud": [{"vpc_config": [{"subnets": ["${aws_subnet.a.id}"]}]}]}}}
}

test_vertex_public_endpoint_denied if {
	count(public_cloud_endpoint.violation) == 1 with input as {"resource": {"google_vertex_ai_endpoint": {"e": [{"display_name": "e"}]}}}
}

test_vertex_private_endpoint_allowed if {
	count(public_cloud_endpoint.violation) == 0 with input as {"resource": {"google_vertex_ai_endpoint": {"e": [{"network": "${google_compute_network.n.id}"}]}}}
}

test_azure_workspace_public_by_default if {
	count(public_cloud_endpoint.violation) == 1 with input as {"resource": {"azurerm_machine_learning_workspace": {"w": [{"name": "w"}]}}}
}

test_azure_workspace_private_allowed if {
	count(public_cloud_endpoint.violation) == 0 with input as {"resource": {"azurerm_machine_learning_workspace": {"w": [{"public_network_access_enabled": false}]}}}
}
