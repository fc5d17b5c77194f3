output "endpoint_name" {
  description = "Name of the SageMaker endpoint."
  value       = module.endpoint.endpoint_name
}

output "invoke_endpoint_dns_name" {
  description = "Private DNS name the applications invoke the endpoint through."
  value       = module.endpoint.invoke_endpoint_dns_name
}

output "model_bucket_arn" {
  description = "Where the model artifacts go (under the model's own prefix)."
  value       = module.endpoint.model_bucket_arn
}
