# An Azure Machine Learning online endpoint that is private, encrypted, logged and monitored by construction:
# - the workspace and the endpoint accept no public traffic; clients reach them through private endpoints in
#   the application network; the managed network lets the workspace out to approved destinations only;
# - the workspace, its storage and its key vault are encrypted with the customer-managed key (HBI workspace);
# - the endpoint identity reads its own model's prefix of the models container, writes captured data to its own
#   prefix of the capture container, pulls from the platform registry, and nothing else; no storage keys exist;
# - the models container is versioned and private; callers authenticate with Entra ID tokens, never keys;
# - workspace, endpoint, storage and key vault logs go to Log Analytics; Application Insights holds the metrics.

data "azurerm_client_config" "current" {}

locals {
  resource_group_name = split("/", var.resource_group_id)[4]
  tags                = merge(var.tags, { "servegate-module" = "azureml-endpoint" })
  # Models and captured data live in separate accounts: the endpoint may write captures, never models.
  storage_accounts = {
    models  = substr(replace("${var.name}models", "-", ""), 0, 24)
    capture = substr(replace("${var.name}capture", "-", ""), 0, 24)
  }
}

# --- identities: one for encryption at rest, one for the endpoint ---

resource "azurerm_user_assigned_identity" "encryption" {
  name                = "${var.name}-encryption"
  location            = var.location
  resource_group_name = local.resource_group_name
  tags                = local.tags
}

resource "azurerm_user_assigned_identity" "endpoint" {
  name                = "${var.name}-endpoint"
  location            = var.location
  resource_group_name = local.resource_group_name
  tags                = local.tags
}

# --- the key vault and the customer-managed key ---

resource "azurerm_key_vault" "this" {
  name                          = "${var.name}-kv"
  location                      = var.location
  resource_group_name           = local.resource_group_name
  tenant_id                     = data.azurerm_client_config.current.tenant_id
  sku_name                      = "premium"
  enable_rbac_authorization     = true
  purge_protection_enabled      = true
  soft_delete_retention_days    = 90
  public_network_access_enabled = false
  tags                          = local.tags

  network_acls {
    default_action = "Deny"
    bypass         = "AzureServices"
  }
}

resource "azurerm_role_assignment" "deployer_manages_keys" {
  scope                = azurerm_key_vault.this.id
  role_definition_name = "Key Vault Crypto Officer"
  principal_id         = data.azurerm_client_config.current.object_id
}

resource "azurerm_role_assignment" "encryption_uses_keys" {
  scope                = azurerm_key_vault.this.id
  role_definition_name = "Key Vault Crypto Service Encryption User"
  principal_id         = azurerm_user_assigned_identity.encryption.principal_id
}

# The first version expires after a year; the rotation policy creates the next one a month before.
resource "time_offset" "key_expiry" {
  offset_years = 1
}

resource "azurerm_key_vault_key" "cmk" {
  name            = "${var.name}-cmk"
  key_vault_id    = azurerm_key_vault.this.id
  key_type        = "RSA-HSM"
  key_size        = 3072
  key_opts        = ["wrapKey", "unwrapKey"]
  expiration_date = time_offset.key_expiry.rfc3339

  rotation_policy {
    expire_after         = "P1Y"
    notify_before_expiry = "P29D"
    automatic {
      time_before_expiry = "P30D"
    }
  }

  depends_on = [azurerm_role_assignment.deployer_manages_keys]
}

# --- storage of models and captured data: private, keyless, versioned, encrypted with the customer key ---

resource "azurerm_storage_account" "this" {
  for_each = local.storage_accounts

  name                              = each.value
  location                          = var.location
  resource_group_name               = local.resource_group_name
  account_kind                      = "StorageV2"
  account_tier                      = "Standard"
  account_replication_type          = "ZRS"
  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  public_network_access_enabled     = false
  allow_nested_items_to_be_public   = false
  shared_access_key_enabled         = false
  default_to_oauth_authentication   = true
  infrastructure_encryption_enabled = true
  tags                              = local.tags

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.encryption.id]
  }

  customer_managed_key {
    key_vault_key_id          = azurerm_key_vault_key.cmk.versionless_id
    user_assigned_identity_id = azurerm_user_assigned_identity.encryption.id
  }

  blob_properties {
    versioning_enabled  = true
    change_feed_enabled = true
    delete_retention_policy {
      days = 30
    }
    container_delete_retention_policy {
      days = 30
    }
  }

  network_rules {
    default_action = "Deny"
    bypass         = ["AzureServices"]
  }

  depends_on = [azurerm_role_assignment.encryption_uses_keys]
}

resource "azurerm_storage_container" "this" {
  for_each = local.storage_accounts

  name                  = each.key
  storage_account_id    = azurerm_storage_account.this[each.key].id
  container_access_type = "private"
}

# --- monitoring backbone: Application Insights on the platform's Log Analytics workspace ---

resource "azurerm_application_insights" "this" {
  name                = "${var.name}-insights"
  location            = var.location
  resource_group_name = local.resource_group_name
  application_type    = "other"
  workspace_id        = var.log_analytics_workspace_id
  tags                = local.tags
}

# --- the workspace: no public access, approved outbound only, customer-managed key, high business impact ---

resource "azapi_resource" "workspace" {
  type      = "Microsoft.MachineLearningServices/workspaces@2024-10-01"
  name      = var.name
  location  = var.location
  parent_id = var.resource_group_id
  tags      = local.tags

  identity {
    type         = "SystemAssigned, UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.encryption.id]
  }

  body = {
    kind = "Default"
    sku = {
      name = "Basic"
      tier = "Basic"
    }
    properties = {
      friendlyName             = var.name
      publicNetworkAccess      = "Disabled"
      hbiWorkspace             = true
      storageAccount           = azurerm_storage_account.this["models"].id
      keyVault                 = azurerm_key_vault.this.id
      applicationInsights      = azurerm_application_insights.this.id
      containerRegistry        = var.container_registry_id
      systemDatastoresAuthMode = "identity"
      managedNetwork = {
        isolationMode = "AllowOnlyApprovedOutbound"
      }
      encryption = {
        status = "Enabled"
        identity = {
          userAssignedIdentity = azurerm_user_assigned_identity.encryption.id
        }
        keyVaultProperties = {
          keyVaultArmId = azurerm_key_vault.this.id
          keyIdentifier = azurerm_key_vault_key.cmk.id
        }
      }
    }
  }

  depends_on = [azurerm_role_assignment.encryption_uses_keys]
}

resource "azurerm_machine_learning_datastore_blobstorage" "this" {
  for_each = local.storage_accounts

  name                       = each.key
  workspace_id               = azapi_resource.workspace.id
  storage_container_id       = azurerm_storage_container.this[each.key].id
  service_data_auth_identity = "WorkspaceSystemAssignedIdentity"
}

# --- the online endpoint: Entra ID tokens only, no public network access ---

resource "azapi_resource" "endpoint" {
  type      = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints@2024-10-01"
  name      = var.name
  location  = var.location
  parent_id = azapi_resource.workspace.id
  tags      = local.tags

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.endpoint.id]
  }

  body = {
    kind = "Managed"
    properties = {
      description         = "${var.name}: private online endpoint"
      authMode            = var.endpoint_auth_mode
      publicNetworkAccess = "Disabled"
    }
  }
}

# --- what the endpoint identity may do: read its model, write its captures, pull its image, publish metrics ---

resource "azurerm_role_assignment" "endpoint_reads_own_model" {
  scope                = azurerm_storage_container.this["models"].id
  role_definition_name = "Storage Blob Data Reader"
  principal_id         = azurerm_user_assigned_identity.endpoint.principal_id
  description          = "Reads ${var.model_prefix}/ of the models container only"
  condition_version    = "2.0"
  condition            = <<-EOT
    (
      !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'})
      OR
      @Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringStartsWith '${var.model_prefix}/'
    )
  EOT
}

# Captures need blob writes only: a write-only role, not Storage Blob Data Contributor (which also reads and deletes).
resource "azurerm_role_definition" "capture_writer" {
  name        = "${var.name} inference capture writer"
  scope       = var.resource_group_id
  description = "Appends captured inference data; cannot read, list or delete blobs."

  permissions {
    data_actions = [
      "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
      "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action",
    ]
  }

  assignable_scopes = [var.resource_group_id]
}

resource "azurerm_role_assignment" "endpoint_writes_own_captures" {
  scope              = azurerm_storage_container.this["capture"].id
  role_definition_id = azurerm_role_definition.capture_writer.role_definition_resource_id
  principal_id       = azurerm_user_assigned_identity.endpoint.principal_id
  description        = "Writes ${var.name}/ of the capture container only"
  condition_version  = "2.0"
  condition          = <<-EOT
    (
      @Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringStartsWith '${var.name}/'
    )
  EOT
}

resource "azurerm_role_assignment" "endpoint_pulls_images" {
  scope                = var.container_registry_id
  role_definition_name = "AcrPull"
  principal_id         = azurerm_user_assigned_identity.endpoint.principal_id
}

resource "azurerm_role_assignment" "endpoint_writes_metrics" {
  scope                = azapi_resource.workspace.id
  role_definition_name = "AzureML Metrics Writer (preview)"
  principal_id         = azurerm_user_assigned_identity.endpoint.principal_id
}

# --- network: a private endpoint subnet in the application network, HTTPS from the callers only ---

locals {
  network_resource_group_name = split("/", var.virtual_network_id)[4]
  virtual_network_name        = split("/", var.virtual_network_id)[8]
}

resource "azurerm_subnet" "private_endpoints" {
  name                              = "${var.name}-private-endpoints"
  resource_group_name               = local.network_resource_group_name
  virtual_network_name              = local.virtual_network_name
  address_prefixes                  = [var.private_endpoint_address_prefix]
  private_endpoint_network_policies = "Enabled"
}

resource "azurerm_network_security_group" "private_endpoints" {
  name                = "${var.name}-private-endpoints"
  location            = var.location
  resource_group_name = local.resource_group_name
  tags                = local.tags

  security_rule {
    name                       = "https-from-callers"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "443"
    source_address_prefixes    = var.allowed_source_address_prefixes
    destination_address_prefix = var.private_endpoint_address_prefix
  }

  security_rule {
    name                       = "deny-everything-else"
    priority                   = 4096
    direction                  = "Inbound"
    access                     = "Deny"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "*"
    destination_address_prefix = "*"
  }
}

resource "azurerm_subnet_network_security_group_association" "private_endpoints" {
  subnet_id                 = azurerm_subnet.private_endpoints.id
  network_security_group_id = azurerm_network_security_group.private_endpoints.id
}

locals {
  private_endpoints = {
    workspace    = { id = azapi_resource.workspace.id, subresource = "amlworkspace" }
    models-blob  = { id = azurerm_storage_account.this["models"].id, subresource = "blob" }
    capture-blob = { id = azurerm_storage_account.this["capture"].id, subresource = "blob" }
    key-vault    = { id = azurerm_key_vault.this.id, subresource = "vault" }
  }
}

resource "azurerm_private_endpoint" "this" {
  for_each = local.private_endpoints

  name                = "${var.name}-${each.key}"
  location            = var.location
  resource_group_name = local.resource_group_name
  subnet_id           = azurerm_subnet.private_endpoints.id
  tags                = local.tags

  private_service_connection {
    name                           = "${var.name}-${each.key}"
    private_connection_resource_id = each.value.id
    subresource_names              = [each.value.subresource]
    is_manual_connection           = false
  }

  dynamic "private_dns_zone_group" {
    for_each = contains(keys(var.private_dns_zone_ids), each.value.subresource) ? [var.private_dns_zone_ids[each.value.subresource]] : []
    content {
      name                 = "default"
      private_dns_zone_ids = private_dns_zone_group.value
    }
  }
}

# --- logs: workspace, endpoint, storage and key vault, all categories, to Log Analytics ---

locals {
  diagnostics = {
    workspace    = azapi_resource.workspace.id
    endpoint     = azapi_resource.endpoint.id
    key_vault    = azurerm_key_vault.this.id
    models-blob  = "${azurerm_storage_account.this["models"].id}/blobServices/default"
    capture-blob = "${azurerm_storage_account.this["capture"].id}/blobServices/default"
  }
}

resource "azurerm_monitor_diagnostic_setting" "this" {
  for_each = local.diagnostics

  name                       = "${var.name}-${each.key}"
  target_resource_id         = each.value
  log_analytics_workspace_id = var.log_analytics_workspace_id

  enabled_log {
    category_group = "allLogs"
  }

  enabled_metric {
    category = "AllMetrics"
  }
}

resource "azurerm_monitor_diagnostic_setting" "storage_account" {
  for_each = azurerm_storage_account.this

  name                       = "${var.name}-${each.key}-account"
  target_resource_id         = each.value.id
  log_analytics_workspace_id = var.log_analytics_workspace_id

  enabled_metric {
    category = "Transaction"
  }
}
