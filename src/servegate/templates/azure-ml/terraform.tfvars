# Example values: replace them with your network and your model.
location                        = "westeurope"
address_space                   = ["10.30.0.0/16"]
private_endpoint_address_prefix = "10.30.250.0/24"
allowed_source_address_prefixes = ["10.30.0.0/20"]

model_prefix = "%%{project}"
model_path   = "v1"
image        = "%%{project_alnum}acr.azurecr.io/serving/predictor@sha256:0000000000000000000000000000000000000000000000000000000000000000"
