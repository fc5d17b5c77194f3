# Inputs of the secure Azure Machine Learning endpoint module. Every input that could weaken the endpoint
# carries a validation block, so an insecure value fails at `terraform plan` with a message saying why.

variable "name" {
  description = "Name of the model service: the workspace, the online endpoint and the resources around them."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,18}[a-z0-9]$", var.name))
    error_message = "name must be 4-20 characters of lowercase letters, digits and hyphens."
  }
}

variable "location" {
  description = "Azure region."
  type        = string
}

variable "resource_group_id" {
  description = "Resource group the module creates everything in."
  type        = string

  validation {
    condition     = can(regex("^/subscriptions/[^/]+/resourceGroups/[^/]+$", var.resource_group_id))
    error_message = "resource_group_id must be a resource group id (/subscriptions/<id>/resourceGroups/<name>)."
  }
}

variable "virtual_network_id" {
  description = "Virtual network of the applications; the module adds a private endpoint subnet to it."
  type        = string

  validation {
    condition     = can(regex("^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft.Network/virtualNetworks/[^/]+$", var.virtual_network_id))
    error_message = "virtual_network_id must be a virtual network id: the workspace is reachable only through private endpoints."
  }
}

variable "private_endpoint_address_prefix" {
  description = "Address range of the private endpoint subnet the module creates, inside the virtual network."
  type        = string

  validation {
    condition     = can(cidrnetmask(var.private_endpoint_address_prefix))
    error_message = "private_endpoint_address_prefix must be a CIDR range."
  }
}

variable "allowed_source_address_prefixes" {
  description = "Networks of the applications allowed to reach the workspace and the endpoint (HTTPS)."
  type        = list(string)

  validation {
    condition     = length(var.allowed_source_address_prefixes) > 0 && alltrue([for prefix in var.allowed_source_address_prefixes : can(cidrnetmask(prefix)) && !contains(["0.0.0.0/0", "::/0"], prefix)])
    error_message = "allowed_source_address_prefixes must list the callers' private networks as CIDR ranges: never 0.0.0.0/0, ::/0, * or Internet."
  }
}

variable "private_dns_zone_ids" {
  description = "Private DNS zones per private endpoint subresource (amlworkspace, blob, vault) of the platform's hub."
  type        = map(list(string))
  default     = {}
}

variable "container_registry_id" {
  description = "The platform's private container registry (Premium, no public access) that holds the serving image."
  type        = string

  validation {
    condition     = can(regex("^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft.ContainerRegistry/registries/[^/]+$", var.container_registry_id))
    error_message = "container_registry_id must be the id of a container registry: without one, Azure ML creates a public one."
  }
}

variable "log_analytics_workspace_id" {
  description = "Log Analytics workspace receiving the workspace, endpoint, storage and key vault logs."
  type        = string

  validation {
    condition     = can(regex("^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft.OperationalInsights/workspaces/[^/]+$", var.log_analytics_workspace_id))
    error_message = "log_analytics_workspace_id must be a Log Analytics workspace id: logging is mandatory."
  }
}

variable "model_prefix" {
  description = "The one top-level folder of the models container this model owns; the endpoint identity may read nothing else."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]*$", var.model_prefix))
    error_message = "model_prefix must be a single folder name (lowercase letters, digits, hyphens): no wildcard, no slash, never empty, so the endpoint identity reads only this model's artifacts."
  }
}

variable "model_path" {
  description = "Path of the model files under model_prefix, for example \"v1\"."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._/-]+$", var.model_path)) && !strcontains(var.model_path, "..")
    error_message = "model_path must be a plain path under model_prefix."
  }
}

variable "image" {
  description = "Serving image in the platform registry, pinned by digest (<registry>.azurecr.io/<repository>@sha256:<digest>)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]+\\.azurecr\\.io/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$", var.image))
    error_message = "image must be an Azure Container Registry image pinned by digest (...@sha256:<digest>): a tag can be moved to other content."
  }
}

variable "endpoint_auth_mode" {
  description = "How callers authenticate to the online endpoint: Entra ID tokens (AADToken) or short-lived Azure ML tokens (AMLToken)."
  type        = string
  default     = "AADToken"

  validation {
    condition     = contains(["AADToken", "AMLToken"], var.endpoint_auth_mode)
    error_message = "endpoint_auth_mode must be AADToken or AMLToken: static, non-expiring keys (Key) are not allowed."
  }
}

variable "instance_type" {
  description = "VM size of the deployment."
  type        = string
  default     = "Standard_DS3_v2"
}

variable "instance_count" {
  description = "Instances behind the deployment (at least two)."
  type        = number
  default     = 2

  validation {
    condition     = var.instance_count >= 2
    error_message = "instance_count must be at least 2 so one instance failure does not take the endpoint down."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
