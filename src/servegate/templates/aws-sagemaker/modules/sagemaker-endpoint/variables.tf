# Inputs of the secure SageMaker endpoint module. Every input that could weaken the endpoint carries a
# validation block, so an insecure value fails at `terraform plan` with a message saying why.

variable "name" {
  description = "Name of the endpoint, its model and the resources around it."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}[a-z0-9]$", var.name))
    error_message = "name must be 4-42 characters of lowercase letters, digits and hyphens."
  }
}

variable "model_bucket_name" {
  description = "Name of the S3 bucket the module creates for this model's artifacts."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.model_bucket_name))
    error_message = "model_bucket_name must be a valid S3 bucket name."
  }
}

variable "model_prefix" {
  description = "The one top-level folder of the bucket this model owns; the serving role may read nothing else."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]*$", var.model_prefix))
    error_message = "model_prefix must be a single folder name (lowercase letters, digits, hyphens): no wildcard, no slash, never empty, so the serving role reads only this model's artifacts."
  }
}

variable "model_artifact" {
  description = "Object key of the model archive under model_prefix, for example \"v3/model.tar.gz\"."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._/-]+$", var.model_artifact)) && !strcontains(var.model_artifact, "..")
    error_message = "model_artifact must be a plain object key under model_prefix."
  }
}

variable "image" {
  description = "Inference image in ECR, pinned by digest (<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<digest>)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$", var.image))
    error_message = "image must be an ECR image pinned by digest (...@sha256:<digest>): a tag can be moved to other content."
  }
}

variable "instance_type" {
  description = "SageMaker instance type of the production variant."
  type        = string
  default     = "ml.m5.xlarge"

  validation {
    condition     = startswith(var.instance_type, "ml.")
    error_message = "instance_type must be a SageMaker instance type (ml.*)."
  }
}

variable "instance_count" {
  description = "Instances behind the endpoint (at least two, in different Availability Zones)."
  type        = number
  default     = 2

  validation {
    condition     = var.instance_count >= 2
    error_message = "instance_count must be at least 2 so one instance failure does not take the endpoint down."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for artifacts, endpoint storage, captured data and logs."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "kms_key_arn must be the ARN of a customer-managed KMS key (arn:aws:kms:<region>:<account>:key/<id>): data at rest is never left to AWS-managed keys."
  }
}

variable "vpc_id" {
  description = "VPC the endpoint's network interfaces and the private invocation endpoint live in."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be a VPC id (vpc-...)."
  }
}

variable "vpc_cidr_block" {
  description = "CIDR block of the VPC: the model container may reach only this network (its VPC endpoints)."
  type        = string

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr_block)) && var.vpc_cidr_block != "0.0.0.0/0"
    error_message = "vpc_cidr_block must be the VPC's private CIDR block, not 0.0.0.0/0."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets (no route to an internet gateway), in at least two Availability Zones."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2 && alltrue([for id in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]+$", id))])
    error_message = "private_subnet_ids must list at least two private subnet ids (subnet-...)."
  }
}

variable "allowed_cidr_blocks" {
  description = "Networks of the applications allowed to invoke the endpoint (through its VPC endpoint)."
  type        = list(string)

  validation {
    condition     = length(var.allowed_cidr_blocks) > 0 && alltrue([for cidr in var.allowed_cidr_blocks : can(cidrnetmask(cidr)) && !contains(["0.0.0.0/0", "::/0"], cidr)])
    error_message = "allowed_cidr_blocks must list the callers' private networks: never 0.0.0.0/0 or ::/0."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the endpoint's logs (a CloudWatch retention value of at least 365)."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch retention period of at least 365 days (never 0: logs must expire by policy, not by accident)."
  }
}

variable "capture_sampling_percentage" {
  description = "Percentage of requests and responses recorded by data capture."
  type        = number
  default     = 100

  validation {
    condition     = var.capture_sampling_percentage >= 1 && var.capture_sampling_percentage <= 100
    error_message = "capture_sampling_percentage must be between 1 and 100: data capture is mandatory."
  }
}

variable "access_log_bucket" {
  description = "Existing bucket receiving S3 server access logs of the model bucket."
  type        = string
}

variable "alarm_topic_arn" {
  description = "SNS topic notified when the endpoint's error or latency alarms fire."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be an SNS topic ARN: monitoring alarms must notify someone."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
