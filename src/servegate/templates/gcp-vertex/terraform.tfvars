# Example values: replace them with your project, perimeter and model.
project_id        = "%%{project}-prod"
region            = "europe-west4"
service_perimeter = "accessPolicies/123456789012/servicePerimeters/ml_platform"
alert_email       = "ml-oncall@example.com"

endpoint_id       = "1001"
consumer_projects = ["%%{project}-app-prod"]

model_bucket_name = "%%{project}-artifacts-europe-west4"
model_prefix      = "%%{project}"
image             = "europe-west4-docker.pkg.dev/%%{project}-prod/serving/predictor@sha256:0000000000000000000000000000000000000000000000000000000000000000"
