output "workspace_id" {
  description = "Id of the Azure Machine Learning workspace."
  value       = module.endpoint.workspace_id
}

output "deployment_yaml" {
  description = "Validated deployment spec: terraform output -raw deployment_yaml > deployment.yml"
  value       = module.endpoint.deployment_yaml
}
