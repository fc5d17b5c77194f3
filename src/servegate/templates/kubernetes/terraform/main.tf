# The cluster identity of %%{project}'s model server: an IRSA role for the service account in ../k8s.
# After apply, put the role_arn output into the eks.amazonaws.com/role-arn annotation of that service account.

module "serving_identity" {
  source = "./modules/irsa-serving-role"

  name              = "%%{project}"
  oidc_provider_arn = var.oidc_provider_arn
  namespace         = var.namespace
  service_account   = var.service_account
  model_bucket_name = var.model_bucket_name
  model_prefix      = var.model_prefix
  kms_key_arn       = var.kms_key_arn

  tags = {
    Team = "%%{project}"
  }
}

output "role_arn" {
  description = "The eks.amazonaws.com/role-arn annotation of the model server's service account."
  value       = module.serving_identity.role_arn
}
