output "workspace_id" {
  description = "Id of the Azure Machine Learning workspace."
  value       = azapi_resource.workspace.id
}

output "endpoint_name" {
  description = "Name of the online endpoint."
  value       = azapi_resource.endpoint.name
}

output "endpoint_identity_client_id" {
  description = "Client id of the identity the deployment runs as."
  value       = azurerm_user_assigned_identity.endpoint.client_id
}

# The deployment spec the team's pipeline passes to `az ml online-deployment create --file`: the pinned image,
# the model's own prefix, data capture to the endpoint's own prefix, no public egress, Application Insights on.
output "deployment_yaml" {
  description = "Validated managed online deployment spec for this endpoint."
  value = yamlencode({
    "$schema"                    = "https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json"
    name                         = "primary"
    endpoint_name                = azapi_resource.endpoint.name
    model                        = { path = "azureml://datastores/models/paths/${var.model_prefix}/${var.model_path}" }
    environment                  = { image = var.image }
    instance_type                = var.instance_type
    instance_count               = var.instance_count
    egress_public_network_access = "disabled"
    app_insights_enabled         = true
    data_collector = {
      collections = {
        model_inputs  = { enabled = "True", data = { path = "azureml://datastores/capture/paths/${var.name}/inputs" } }
        model_outputs = { enabled = "True", data = { path = "azureml://datastores/capture/paths/${var.name}/outputs" } }
      }
      request_logging = { capture_headers = ["x-ms-client-request-id"] }
    }
  })
}
