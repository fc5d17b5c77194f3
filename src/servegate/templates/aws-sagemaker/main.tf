# Example root configuration for %%{project}: the platform pieces one account needs once (the customer-managed
# key, the log buckets, the CloudTrail trail, the alarm topic) and one call of the secure endpoint module.
# Copy the module call for each model; keep one key, trail and log bucket pair per account and region.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
}

# --- the customer-managed key: artifacts, endpoint storage, captured data, logs, trail ---

data "aws_iam_policy_document" "key" {
  statement {
    sid       = "AccountAdministersTheKey"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
  statement {
    sid       = "CloudWatchLogsOfThisAccount"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${var.region}:${local.account_id}:*"]
    }
  }
  statement {
    sid       = "CloudTrailOfThisAccount"
    actions   = ["kms:GenerateDataKey*", "kms:DescribeKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
  statement {
    sid       = "CloudWatchAlarmsPublishToTheTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "ml" {
  description         = "%%{project}: model artifacts, endpoint storage, captured data and logs"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.key.json
}

resource "aws_kms_alias" "ml" {
  name          = "alias/%%{project}-ml"
  target_key_id = aws_kms_key.ml.key_id
}

# --- log buckets: S3 access logs (S3-managed keys: the only encryption log delivery supports) and the trail ---

resource "aws_s3_bucket" "access_logs" {
  bucket = "${var.model_bucket_name}-access-logs"
}

resource "aws_s3_bucket" "audit" {
  bucket = "${var.model_bucket_name}-audit"
}

locals {
  log_buckets = {
    access_logs = aws_s3_bucket.access_logs
    audit       = aws_s3_bucket.audit
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  for_each = local.log_buckets

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  for_each = local.log_buckets

  bucket = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "logs" {
  for_each = local.log_buckets

  bucket = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "audit" {
  bucket = aws_s3_bucket.audit.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.ml.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_logging" "audit" {
  bucket        = aws_s3_bucket.audit.id
  target_bucket = aws_s3_bucket.access_logs.id
  target_prefix = "s3/${aws_s3_bucket.audit.bucket}/"
}

data "aws_iam_policy_document" "access_logs" {
  statement {
    sid       = "S3LogDeliveryFromThisAccount"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.access_logs.arn}/s3/*"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_s3_bucket_policy" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  policy = data.aws_iam_policy_document.access_logs.json
}

data "aws_iam_policy_document" "audit" {
  statement {
    sid       = "CloudTrailChecksTheAcl"
    actions   = ["s3:GetBucketAcl"]
    resources = [aws_s3_bucket.audit.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
  statement {
    sid       = "CloudTrailWritesThisAccountsLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.audit.arn}/AWSLogs/${local.account_id}/*"]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_s3_bucket_policy" "audit" {
  bucket = aws_s3_bucket.audit.id
  policy = data.aws_iam_policy_document.audit.json
}

# --- control-plane and object-level audit: management events everywhere, data events on the model bucket ---

resource "aws_cloudtrail" "ml" {
  name                          = "%%{project}-ml-audit"
  s3_bucket_name                = aws_s3_bucket.audit.id
  kms_key_id                    = aws_kms_key.ml.arn
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true

  advanced_event_selector {
    name = "Management events"
    field_selector {
      field  = "eventCategory"
      equals = ["Management"]
    }
  }

  advanced_event_selector {
    name = "Reads and writes of model artifacts"
    field_selector {
      field  = "eventCategory"
      equals = ["Data"]
    }
    field_selector {
      field  = "resources.type"
      equals = ["AWS::S3::Object"]
    }
    field_selector {
      field       = "resources.ARN"
      starts_with = ["${module.endpoint.model_bucket_arn}/"]
    }
  }

  depends_on = [aws_s3_bucket_policy.audit]
}

# --- where alarms go ---

resource "aws_sns_topic" "alarms" {
  name              = "%%{project}-ml-alarms"
  kms_master_key_id = aws_kms_key.ml.arn
}

# --- the endpoint ---

module "endpoint" {
  source = "./modules/sagemaker-endpoint"

  name              = "%%{project}"
  model_bucket_name = var.model_bucket_name
  model_prefix      = var.model_prefix
  model_artifact    = var.model_artifact
  image             = var.image
  instance_type     = var.instance_type
  instance_count    = var.instance_count

  kms_key_arn                 = aws_kms_key.ml.arn
  vpc_id                      = var.vpc_id
  vpc_cidr_block              = var.vpc_cidr_block
  private_subnet_ids          = var.private_subnet_ids
  allowed_cidr_blocks         = var.allowed_cidr_blocks
  log_retention_days          = var.log_retention_days
  capture_sampling_percentage = var.capture_sampling_percentage
  access_log_bucket           = aws_s3_bucket.access_logs.id
  alarm_topic_arn             = aws_sns_topic.alarms.arn

  tags = {
    Team = "%%{project}"
  }
}
