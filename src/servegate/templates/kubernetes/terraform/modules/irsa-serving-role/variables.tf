# Inputs of the serving identity module. Every input that could widen what the model server may do carries a
# validation block, so an insecure value fails at `terraform plan` with a message saying why.

variable "name" {
  description = "Name of the model service; the role is named <name>-serving."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}[a-z0-9]$", var.name))
    error_message = "name must be 4-42 characters of lowercase letters, digits and hyphens."
  }
}

variable "oidc_provider_arn" {
  description = "ARN of the EKS cluster's IAM OIDC provider."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/oidc\\.eks\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/id/[A-Za-z0-9]+$", var.oidc_provider_arn))
    error_message = "oidc_provider_arn must be the ARN of an EKS cluster's OIDC provider."
  }
}

variable "namespace" {
  description = "Kubernetes namespace of the model server."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be one Kubernetes namespace name: no wildcard, so only that namespace's pods can assume the role."
  }
}

variable "service_account" {
  description = "Kubernetes service account of the model server."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$", var.service_account))
    error_message = "service_account must be one service account name: no wildcard, so only the model server can assume the role."
  }
}

variable "model_bucket_name" {
  description = "Bucket holding the model artifacts."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.model_bucket_name))
    error_message = "model_bucket_name must be a valid S3 bucket name."
  }
}

variable "model_prefix" {
  description = "The one top-level folder of the bucket this model owns; the role may read nothing else."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]*$", var.model_prefix))
    error_message = "model_prefix must be a single folder name (lowercase letters, digits, hyphens): no wildcard, no slash, never empty, so the role reads only this model's artifacts."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key the model artifacts are encrypted with."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "kms_key_arn must be the ARN of a customer-managed KMS key (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
