# The example root configuration's inputs: the network the endpoint lives in, the model to serve and the
# knobs of the module. The module validates every value; an insecure one fails at plan time.

variable "region" {
  description = "AWS region of the endpoint."
  type        = string
}

variable "vpc_id" {
  description = "Existing VPC of the serving platform."
  type        = string
}

variable "vpc_cidr_block" {
  description = "CIDR block of that VPC."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets of that VPC (no route to an internet gateway)."
  type        = list(string)
}

variable "allowed_cidr_blocks" {
  description = "Networks of the applications allowed to invoke the endpoint."
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

variable "model_artifact" {
  description = "Key of the model archive under model_prefix."
  type        = string
}

variable "image" {
  description = "Inference image in ECR, pinned by digest."
  type        = string
}

variable "instance_type" {
  description = "SageMaker instance type."
  type        = string
  default     = "ml.m5.xlarge"
}

variable "instance_count" {
  description = "Number of endpoint instances."
  type        = number
  default     = 2
}

variable "log_retention_days" {
  description = "Days the endpoint's logs are kept."
  type        = number
  default     = 365
}

variable "capture_sampling_percentage" {
  description = "Percentage of requests and responses captured."
  type        = number
  default     = 100
}
