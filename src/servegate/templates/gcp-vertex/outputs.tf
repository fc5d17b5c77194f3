output "endpoint_id" {
  description = "Full resource id of the Vertex AI endpoint."
  value       = module.endpoint.endpoint_id
}

output "deployment" {
  description = "Validated settings for the model upload and deployment step."
  value       = module.endpoint.deployment
}
