# Inputs of the secure Vertex AI endpoint module. Every input that could weaken the endpoint carries a
# validation block, so an insecure value fails at `terraform plan` with a message saying why.

variable "project_id" {
  description = "Project of the endpoint, its bucket and its service account."
  type        = string
}

variable "region" {
  description = "Region of the endpoint, the bucket and the log dataset (the KMS key must be in it too)."
  type        = string
}

variable "name" {
  description = "Name of the model service (display name, service account and bucket prefix)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,20}[a-z0-9]$", var.name))
    error_message = "name must be 6-22 characters of lowercase letters, digits and hyphens (it names a service account)."
  }
}

variable "endpoint_id" {
  description = "Numeric id of the Vertex AI endpoint (at most 10 digits, no leading zero)."
  type        = string

  validation {
    condition     = can(regex("^[1-9][0-9]{0,9}$", var.endpoint_id))
    error_message = "endpoint_id must be numeric, at most 10 digits, without a leading zero."
  }
}

variable "model_bucket_name" {
  description = "Name of the Cloud Storage bucket the module creates for this model's artifacts."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]$", var.model_bucket_name))
    error_message = "model_bucket_name must be a valid Cloud Storage bucket name."
  }
}

variable "model_prefix" {
  description = "The one top-level folder of the bucket this model owns; the serving account may read nothing else."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]*$", var.model_prefix))
    error_message = "model_prefix must be a single folder name (lowercase letters, digits, hyphens): no wildcard, no slash, never empty, so the serving account reads only this model's artifacts."
  }
}

variable "image" {
  description = "Serving container in Artifact Registry, pinned by digest (<region>-docker.pkg.dev/<project>/<repository>/<image>@sha256:<digest>)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9-]+-docker\\.pkg\\.dev/[a-z0-9-]+/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$", var.image))
    error_message = "image must be an Artifact Registry image pinned by digest (...@sha256:<digest>): a tag can be moved to other content."
  }
}

variable "kms_key_id" {
  description = "Customer-managed Cloud KMS key (projects/.../locations/<region>/keyRings/.../cryptoKeys/...)."
  type        = string

  validation {
    condition     = can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.kms_key_id))
    error_message = "kms_key_id must name a customer-managed Cloud KMS key: data at rest is never left to Google-managed keys."
  }
}

variable "consumer_projects" {
  description = "Projects of the applications allowed to connect to the endpoint through Private Service Connect."
  type        = list(string)

  validation {
    condition     = length(var.consumer_projects) > 0 && alltrue([for project in var.consumer_projects : can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", project))])
    error_message = "consumer_projects must list the callers' project ids: an empty allow-list lets any project connect."
  }
}

variable "request_log_sampling_rate" {
  description = "Fraction of prediction requests and responses logged to BigQuery."
  type        = number
  default     = 1

  validation {
    condition     = var.request_log_sampling_rate > 0 && var.request_log_sampling_rate <= 1
    error_message = "request_log_sampling_rate must be above 0 and at most 1: request/response logging is mandatory."
  }
}

variable "log_retention_days" {
  description = "Days the request/response log tables are kept."
  type        = number
  default     = 365

  validation {
    condition     = var.log_retention_days >= 365
    error_message = "log_retention_days must be at least 365."
  }
}

variable "access_log_bucket" {
  description = "Existing bucket receiving the usage logs of the model bucket."
  type        = string
}

variable "notification_channels" {
  description = "Cloud Monitoring notification channels paged when the endpoint errors or slows down."
  type        = list(string)

  validation {
    condition     = length(var.notification_channels) > 0
    error_message = "notification_channels must not be empty: monitoring alerts must notify someone."
  }
}

variable "labels" {
  description = "Labels added to every resource that takes them."
  type        = map(string)
  default     = {}
}
