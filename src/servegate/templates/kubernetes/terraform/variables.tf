# Inputs of the example root configuration; the module validates each of them.

variable "region" {
  description = "AWS region of the EKS cluster."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the EKS cluster's IAM OIDC provider."
  type        = string
}

variable "model_bucket_name" {
  description = "Bucket holding the model artifacts."
  type        = string
}

variable "model_prefix" {
  description = "Top-level folder of the bucket this model owns."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key of the model artifacts."
  type        = string
}

variable "namespace" {
  description = "Kubernetes namespace of the model server."
  type        = string
  default     = "%%{project}"
}

variable "service_account" {
  description = "Kubernetes service account of the model server."
  type        = string
  default     = "%%{project}-serving"
}
