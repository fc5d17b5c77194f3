# Example values: replace them with your cluster, bucket and key.
region            = "eu-west-1"
oidc_provider_arn = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
model_bucket_name = "%%{project}-artifacts"
model_prefix      = "%%{project}"
kms_key_arn       = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000"
