# The example root configuration's inputs: the project and perimeter the endpoint lives in, the model to
# serve and the knobs of the module. The module validates every value; an insecure one fails at plan time.

variable "project_id" {
  description = "Project of the model service."
  type        = string
}

variable "region" {
  description = "Region of the endpoint and everything around it."
  type        = string
}

variable "service_perimeter" {
  description = "VPC Service Controls perimeter the project joins (accessPolicies/<id>/servicePerimeters/<name>)."
  type        = string
}

variable "alert_email" {
  description = "Where monitoring alerts go."
  type        = string
}

variable "endpoint_id" {
  description = "Numeric id of the Vertex AI endpoint."
  type        = string
}

variable "consumer_projects" {
  description = "Projects of the applications allowed to connect to the endpoint."
  type        = list(string)
}

variable "model_bucket_name" {
  description = "Name of the model artifact bucket the module creates."
  type        = string
}

variable "model_prefix" {
  description = "Top-level folder of the bucket this model owns."
  type        = string
}

variable "image" {
  description = "Serving container in Artifact Registry, pinned by digest."
  type        = string
}

variable "request_log_sampling_rate" {
  description = "Fraction of prediction requests and responses logged."
  type        = number
  default     = 1
}

variable "log_retention_days" {
  description = "Days the request/response logs are kept."
  type        = number
  default     = 365
}
