# A Vertex AI endpoint that is private, encrypted, logged and monitored by construction:
# - the endpoint is reachable only through Private Service Connect, from the listed consumer projects;
# - the model bucket, the endpoint and the request logs are encrypted with the customer-managed key;
# - the serving account reads its own model's prefix of the bucket and nothing else;
# - the bucket is private (public access prevention, uniform access), versioned and usage-logged;
# - every prediction request and response is logged to BigQuery, kept for the retention period;
# - alert policies page the owning team on errors and latency.

locals {
  labels       = merge(var.labels, { "servegate-module" = "vertex-endpoint" })
  artifact_uri = "gs://${var.model_bucket_name}/${var.model_prefix}/"
  dataset_id   = replace("${var.name}_requests", "-", "_")
}

# --- the serving identity ---

resource "google_service_account" "serving" {
  project      = var.project_id
  account_id   = "${var.name}-serving"
  display_name = "Serving identity of ${var.name}"
  description  = "Runs the ${var.name} model on Vertex AI; reads gs://${var.model_bucket_name}/${var.model_prefix}/ only."
}

# --- the model bucket: private, versioned, encrypted with the customer key, usage-logged ---

resource "google_storage_bucket" "models" {
  project                     = var.project_id
  name                        = var.model_bucket_name
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = local.labels

  versioning {
    enabled = true
  }

  encryption {
    default_kms_key_name = var.kms_key_id
  }

  logging {
    log_bucket        = var.access_log_bucket
    log_object_prefix = var.model_bucket_name
  }
}

resource "google_storage_bucket_iam_member" "serving_reads_own_model" {
  bucket = google_storage_bucket.models.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.serving.email}"

  condition {
    title       = "own-model-prefix-only"
    description = "Objects under ${var.model_prefix}/ only"
    expression  = "resource.name.startsWith(\"projects/_/buckets/${var.model_bucket_name}/objects/${var.model_prefix}/\")"
  }
}

# --- request/response logs: BigQuery, encrypted with the customer key, expiring after the retention period ---

resource "google_bigquery_dataset" "requests" {
  project                     = var.project_id
  dataset_id                  = local.dataset_id
  friendly_name               = "${var.name} prediction requests and responses"
  location                    = var.region
  default_table_expiration_ms = var.log_retention_days * 86400000
  labels                      = local.labels

  default_encryption_configuration {
    kms_key_name = var.kms_key_id
  }
}

# --- the endpoint: Private Service Connect only, allow-listed consumers, CMEK, request/response logging ---

resource "google_vertex_ai_endpoint" "this" {
  project      = var.project_id
  name         = var.endpoint_id
  display_name = var.name
  description  = "${var.name}: private endpoint (Private Service Connect)"
  location     = var.region
  region       = var.region
  labels       = local.labels

  encryption_spec {
    kms_key_name = var.kms_key_id
  }

  private_service_connect_config {
    enable_private_service_connect = true
    project_allowlist              = var.consumer_projects
  }

  predict_request_response_logging_config {
    enabled       = true
    sampling_rate = var.request_log_sampling_rate
    bigquery_destination {
      output_uri = "bq://${var.project_id}.${google_bigquery_dataset.requests.dataset_id}.request_response_logging"
    }
  }
}

# --- monitoring: errors and latency page the owning team ---

resource "google_monitoring_alert_policy" "errors" {
  project               = var.project_id
  display_name          = "${var.name}: prediction errors"
  combiner              = "OR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "Online prediction errors on endpoint ${var.endpoint_id}"
    condition_threshold {
      filter          = "resource.type = \"aiplatform.googleapis.com/Endpoint\" AND resource.labels.endpoint_id = \"${var.endpoint_id}\" AND metric.type = \"aiplatform.googleapis.com/prediction/online/error_count\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "300s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }
}

resource "google_monitoring_alert_policy" "latency" {
  project               = var.project_id
  display_name          = "${var.name}: prediction latency"
  combiner              = "OR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "p99 prediction latency over one second on endpoint ${var.endpoint_id}"
    condition_threshold {
      filter          = "resource.type = \"aiplatform.googleapis.com/Endpoint\" AND resource.labels.endpoint_id = \"${var.endpoint_id}\" AND metric.type = \"aiplatform.googleapis.com/prediction/online/prediction_latencies\""
      comparison      = "COMPARISON_GT"
      threshold_value = 1000
      duration        = "900s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_PERCENTILE_99"
      }
    }
  }
}
