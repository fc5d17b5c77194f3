output "role_arn" {
  description = "ARN of the serving role: the eks.amazonaws.com/role-arn annotation of the service account."
  value       = aws_iam_role.serving.arn
}
