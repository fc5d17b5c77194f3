output "endpoint_id" {
  description = "Full resource id of the Vertex AI endpoint."
  value       = google_vertex_ai_endpoint.this.id
}

output "service_attachment" {
  description = "Service attachment the consumer projects connect their Private Service Connect endpoints to (known once a model is deployed)."
  value       = try(google_vertex_ai_endpoint.this.private_service_connect_config[0].service_attachment, null)
}

output "model_bucket" {
  description = "Bucket of the model artifacts (under the model's own prefix)."
  value       = google_storage_bucket.models.name
}

# Everything the deploy step passes to `gcloud ai models upload` and `gcloud ai endpoints deploy-model`:
# the pinned image, the model's own prefix, the serving account and the key, all validated by this module.
output "deployment" {
  description = "Validated settings for uploading and deploying the model to the endpoint."
  value = {
    endpoint              = google_vertex_ai_endpoint.this.name
    region                = var.region
    container_image_uri   = var.image
    artifact_uri          = local.artifact_uri
    service_account       = google_service_account.serving.email
    encryption_key_name   = var.kms_key_id
    request_log_dataset   = google_bigquery_dataset.requests.dataset_id
    request_sampling_rate = var.request_log_sampling_rate
  }
}
