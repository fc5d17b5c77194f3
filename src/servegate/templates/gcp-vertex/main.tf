# Example root configuration for %%{project}: the project-level pieces (the customer-managed key and who may use
# it, the access-log bucket, Data Access audit logs, membership of the VPC Service Controls perimeter, the alert
# channel) and one call of the secure endpoint module. Copy the module call for each model.

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  # Google-managed service agents that encrypt and decrypt with the key on the project's behalf.
  key_users = {
    vertex   = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-aiplatform.iam.gserviceaccount.com"
    storage  = "serviceAccount:service-${data.google_project.this.number}@gs-project-accounts.iam.gserviceaccount.com"
    bigquery = "serviceAccount:bq-${data.google_project.this.number}@bigquery-encryption.iam.gserviceaccount.com"
  }
  # The key's id spelled out from its configured names (the same string as google_kms_crypto_key.ml.id), so
  # it is known at plan time and the module's validation checks it then, not after apply.
  kms_key_id = "projects/${var.project_id}/locations/${google_kms_key_ring.ml.location}/keyRings/${google_kms_key_ring.ml.name}/cryptoKeys/${google_kms_crypto_key.ml.name}"
}

# --- the customer-managed key: model artifacts, endpoint, request logs, access logs ---

resource "google_kms_key_ring" "ml" {
  project  = var.project_id
  name     = "%%{project}-ml"
  location = var.region
}

resource "google_kms_crypto_key" "ml" {
  name            = "%%{project}-ml"
  key_ring        = google_kms_key_ring.ml.id
  purpose         = "ENCRYPT_DECRYPT"
  rotation_period = "7776000s"

  lifecycle {
    prevent_destroy = true
  }
}

resource "google_kms_crypto_key_iam_member" "service_agents" {
  for_each = local.key_users

  crypto_key_id = google_kms_crypto_key.ml.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = each.value
}

# --- where the model bucket's usage logs go ---

resource "google_storage_bucket" "access_logs" {
  project                     = var.project_id
  name                        = "${var.model_bucket_name}-access-logs"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = true
  }

  encryption {
    default_kms_key_name = local.kms_key_id
  }

  depends_on = [google_kms_crypto_key_iam_member.service_agents]
}

resource "google_storage_bucket_iam_member" "usage_log_delivery" {
  bucket = google_storage_bucket.access_logs.name
  role   = "roles/storage.objectCreator"
  member = "group:cloud-storage-analytics@google.com"
}

# --- Data Access audit logs: who read or wrote models, who called the endpoint ---

resource "google_project_iam_audit_config" "all" {
  project = var.project_id
  service = "allServices"

  audit_log_config {
    log_type = "ADMIN_READ"
  }
  audit_log_config {
    log_type = "DATA_READ"
  }
  audit_log_config {
    log_type = "DATA_WRITE"
  }
}

# --- the project joins the platform's VPC Service Controls perimeter ---

resource "google_access_context_manager_service_perimeter_resource" "ml" {
  perimeter_name = var.service_perimeter
  resource       = "projects/${data.google_project.this.number}"
}

# --- where alerts go ---

resource "google_monitoring_notification_channel" "oncall" {
  project      = var.project_id
  display_name = "%%{project} on-call"
  type         = "email"

  labels = {
    email_address = var.alert_email
  }
}

# --- the endpoint ---

module "endpoint" {
  source = "./modules/vertex-endpoint"

  project_id        = var.project_id
  region            = var.region
  name              = "%%{project}"
  endpoint_id       = var.endpoint_id
  model_bucket_name = var.model_bucket_name
  model_prefix      = var.model_prefix
  image             = var.image

  kms_key_id                = local.kms_key_id
  consumer_projects         = var.consumer_projects
  request_log_sampling_rate = var.request_log_sampling_rate
  log_retention_days        = var.log_retention_days
  access_log_bucket         = google_storage_bucket.access_logs.name
  notification_channels     = [google_monitoring_notification_channel.oncall.id]

  labels = {
    team = "%%{project}"
  }

  depends_on = [google_kms_crypto_key_iam_member.service_agents, google_access_context_manager_service_perimeter_resource.ml]
}
