# The example root configuration's inputs: where the workspace lives, the application network, the model
# to serve and the knobs of the module. The module validates every value; an insecure one fails at plan time.

variable "location" {
  description = "Azure region."
  type        = string
}

variable "address_space" {
  description = "Address space of the application virtual network."
  type        = list(string)
}

variable "private_endpoint_address_prefix" {
  description = "Subnet range for the private endpoints of the workspace, its storage and its key vault."
  type        = string
}

variable "allowed_source_address_prefixes" {
  description = "Networks of the applications allowed to call the endpoint."
  type        = list(string)
}

variable "model_prefix" {
  description = "Top-level folder of the models container this model owns."
  type        = string
}

variable "model_path" {
  description = "Path of the model files under model_prefix."
  type        = string
}

variable "image" {
  description = "Serving image in the platform registry, pinned by digest."
  type        = string
}

variable "endpoint_auth_mode" {
  description = "AADToken (Entra ID) or AMLToken."
  type        = string
  default     = "AADToken"
}

variable "instance_type" {
  description = "VM size of the deployment."
  type        = string
  default     = "Standard_DS3_v2"
}

variable "instance_count" {
  description = "Instances behind the deployment."
  type        = number
  default     = 2
}
