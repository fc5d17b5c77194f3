output "endpoint_name" {
  description = "Name of the SageMaker endpoint."
  value       = aws_sagemaker_endpoint.this.name
}

output "invoke_endpoint_dns_name" {
  description = "Private DNS name callers use to invoke the endpoint (set it as the SageMaker runtime endpoint URL)."
  value       = aws_vpc_endpoint.invoke.dns_entry[0].dns_name
}

output "model_bucket_arn" {
  description = "ARN of the model artifact bucket."
  value       = aws_s3_bucket.this["models"].arn
}

output "capture_bucket_arn" {
  description = "ARN of the data capture bucket."
  value       = aws_s3_bucket.this["capture"].arn
}

output "serving_role_arn" {
  description = "ARN of the role the model runs as."
  value       = aws_iam_role.serving.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the endpoint."
  value       = aws_cloudwatch_log_group.endpoint.name
}
