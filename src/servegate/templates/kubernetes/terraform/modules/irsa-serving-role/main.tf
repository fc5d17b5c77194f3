# The serving identity of a model server on EKS (IRSA): only the model server's service account in its
# namespace can assume it, and it can read the model's own prefix of the artifact bucket, decrypt through S3
# with the artifacts' key, and nothing else.

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  # arn:aws:iam::<account>:oidc-provider/<issuer host and path>
  issuer     = split(":oidc-provider/", var.oidc_provider_arn)[1]
  bucket_arn = "arn:${data.aws_partition.current.partition}:s3:::${var.model_bucket_name}"
  tags       = merge(var.tags, { "servegate:module" = "irsa-serving-role" })
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:sub"
      values   = ["system:serviceaccount:${var.namespace}:${var.service_account}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "serving" {
  name                 = "${var.name}-serving"
  description          = "Model server ${var.namespace}/${var.service_account}: reads s3://${var.model_bucket_name}/${var.model_prefix}/ only"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 3600
  tags                 = local.tags
}

data "aws_iam_policy_document" "read_own_model" {
  statement {
    sid       = "ReadOwnModelOnly"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arn}/${var.model_prefix}/*"]
  }
  statement {
    sid       = "ListOwnPrefixOnly"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.model_prefix}/", "${var.model_prefix}/*"]
    }
  }
  statement {
    sid       = "DecryptArtifactsThroughS3"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${data.aws_region.current.name}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "read_own_model" {
  name   = "${var.name}-read-own-model"
  role   = aws_iam_role.serving.id
  policy = data.aws_iam_policy_document.read_own_model.json
}
