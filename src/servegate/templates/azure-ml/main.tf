# Example root configuration for %%{project}: the resource group, the application network, the Log Analytics
# workspace (with the subscription's activity log), the platform's private container registry, and one call of
# the secure endpoint module. Copy the module call for each model.

data "azurerm_subscription" "current" {}

resource "azurerm_resource_group" "ml" {
  name     = "%%{project}-ml"
  location = var.location
}

# --- the application network ---

resource "azurerm_virtual_network" "app" {
  name                = "%%{project}-app"
  location            = var.location
  resource_group_name = azurerm_resource_group.ml.name
  address_space       = var.address_space
}

resource "azurerm_subnet" "platform" {
  name                              = "platform-private-endpoints"
  resource_group_name               = azurerm_resource_group.ml.name
  virtual_network_name              = azurerm_virtual_network.app.name
  address_prefixes                  = [cidrsubnet(var.address_space[0], 8, 251)]
  private_endpoint_network_policies = "Enabled"
}

# --- logs: a year of retention; the subscription's activity log (control plane) goes there too ---

resource "azurerm_log_analytics_workspace" "ml" {
  name                = "%%{project}-ml-logs"
  location            = var.location
  resource_group_name = azurerm_resource_group.ml.name
  sku                 = "PerGB2018"
  retention_in_days   = 365
}

resource "azurerm_monitor_diagnostic_setting" "activity_log" {
  name                       = "%%{project}-activity-log"
  target_resource_id         = data.azurerm_subscription.current.id
  log_analytics_workspace_id = azurerm_log_analytics_workspace.ml.id

  dynamic "enabled_log" {
    for_each = ["Administrative", "Security", "Policy", "Alert", "ServiceHealth", "Recommendation", "Autoscale", "ResourceHealth"]
    content {
      category = enabled_log.value
    }
  }
}

# --- the private registry of serving images: no admin user, no anonymous pull, no public network ---

resource "azurerm_container_registry" "serving" {
  name                          = "%%{project_alnum}acr"
  location                      = var.location
  resource_group_name           = azurerm_resource_group.ml.name
  sku                           = "Premium"
  admin_enabled                 = false
  anonymous_pull_enabled        = false
  public_network_access_enabled = false
  network_rule_bypass_option    = "AzureServices"
  zone_redundancy_enabled       = true
}

resource "azurerm_private_endpoint" "registry" {
  name                = "%%{project}-registry"
  location            = var.location
  resource_group_name = azurerm_resource_group.ml.name
  subnet_id           = azurerm_subnet.platform.id

  private_service_connection {
    name                           = "%%{project}-registry"
    private_connection_resource_id = azurerm_container_registry.serving.id
    subresource_names              = ["registry"]
    is_manual_connection           = false
  }
}

resource "azurerm_monitor_diagnostic_setting" "registry" {
  name                       = "%%{project}-registry"
  target_resource_id         = azurerm_container_registry.serving.id
  log_analytics_workspace_id = azurerm_log_analytics_workspace.ml.id

  enabled_log {
    category_group = "allLogs"
  }
}

# --- the endpoint ---

module "endpoint" {
  source = "./modules/azureml-endpoint"

  name              = "%%{project}"
  location          = var.location
  resource_group_id = azurerm_resource_group.ml.id
  model_prefix      = var.model_prefix
  model_path        = var.model_path
  image             = var.image

  virtual_network_id              = azurerm_virtual_network.app.id
  private_endpoint_address_prefix = var.private_endpoint_address_prefix
  allowed_source_address_prefixes = var.allowed_source_address_prefixes
  container_registry_id           = azurerm_container_registry.serving.id
  log_analytics_workspace_id      = azurerm_log_analytics_workspace.ml.id
  endpoint_auth_mode              = var.endpoint_auth_mode
  instance_type                   = var.instance_type
  instance_count                  = var.instance_count

  tags = {
    team = "%%{project}"
  }
}
