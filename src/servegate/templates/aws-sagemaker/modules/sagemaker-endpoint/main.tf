# A SageMaker real-time endpoint that is private, encrypted, logged and monitored by construction:
# - the model container runs with network isolation, its interfaces in private subnets whose security group
#   reaches only the VPC; callers invoke it through a private VPC endpoint open to their networks only;
# - artifacts, captured data, endpoint storage and logs are encrypted with the customer-managed key;
# - the serving role reads its own model's prefix, writes its own capture prefix, and nothing else;
# - both buckets are versioned, private and access-logged; every request and response is captured;
# - the endpoint's log group exists before the endpoint (KMS, retention) and alarms watch errors and latency.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  buckets = {
    models  = var.model_bucket_name
    capture = "${var.model_bucket_name}-capture"
  }
  model_data_url = "s3://${var.model_bucket_name}/${var.model_prefix}/${var.model_artifact}"
  # <account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:...: the one repository the role may pull from.
  image_parts      = regex("^([0-9]{12})\\.dkr\\.ecr\\.([a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?/([^@:]+)", var.image)
  image_repository = "arn:${data.aws_partition.current.partition}:ecr:${local.image_parts[1]}:${local.image_parts[0]}:repository/${local.image_parts[2]}"
  # Instance types with NVMe instance storage encrypt their volumes in hardware; SageMaker rejects a key for them.
  instance_storage = can(regex("^ml\\.([a-z]+[0-9]+[a-z-]*d[a-z-]*|g5|g6|g6e|gr6|p5|p5e|p5en|p6|trn1|trn1n|trn2)\\.", var.instance_type))
  tags             = merge(var.tags, { "servegate:module" = "sagemaker-endpoint" })
}

# --- artifact and capture buckets: private, versioned, encrypted with the customer key, access-logged ---

resource "aws_s3_bucket" "this" {
  for_each = local.buckets

  bucket = each.value
  tags   = local.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = aws_s3_bucket.this

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_logging" "this" {
  for_each = aws_s3_bucket.this

  bucket        = each.value.id
  target_bucket = var.access_log_bucket
  target_prefix = "s3/${each.value.bucket}/"
}

data "aws_iam_policy_document" "bucket" {
  for_each = local.buckets

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = ["arn:${data.aws_partition.current.partition}:s3:::${each.value}", "arn:${data.aws_partition.current.partition}:s3:::${each.value}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = aws_s3_bucket.this

  bucket     = each.value.id
  policy     = data.aws_iam_policy_document.bucket[each.key].json
  depends_on = [aws_s3_bucket_public_access_block.this]
}

# --- the serving identity: its own model prefix, its own capture prefix, its key, its log group ---

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["sagemaker.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "serving" {
  name               = "${var.name}-serving"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "serving" {
  statement {
    sid       = "ReadOwnModelOnly"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.this["models"].arn}/${var.model_prefix}/*"]
  }
  statement {
    sid       = "WriteOwnCaptureOnly"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.this["capture"].arn}/${var.name}/*"]
  }
  statement {
    sid       = "UseTheCustomerKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
  statement {
    sid       = "PullTheInferenceImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [local.image_repository]
  }
  statement {
    sid       = "AuthenticateToTheRegistry"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.endpoint.arn}:*"]
  }
  statement {
    sid       = "PublishEndpointMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringLike"
      variable = "cloudwatch:namespace"
      values   = ["/aws/sagemaker/*"]
    }
  }
  statement {
    sid = "NetworkInterfacesInTheVpc"
    actions = [
      "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
      "ec2:DeleteNetworkInterfacePermission", "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs",
      "ec2:DescribeDhcpOptions", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "serving" {
  name   = "${var.name}-serving"
  role   = aws_iam_role.serving.id
  policy = data.aws_iam_policy_document.serving.json
}

# --- network: the container reaches only the VPC; callers reach the endpoint only from their networks ---

resource "aws_security_group" "model" {
  name        = "${var.name}-model"
  description = "SageMaker model container of ${var.name}: no inbound, HTTPS to the VPC (its endpoints) only"
  vpc_id      = var.vpc_id
  tags        = local.tags

  egress {
    description = "HTTPS to VPC endpoints"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr_block]
  }
}

resource "aws_security_group" "invoke" {
  name        = "${var.name}-invoke"
  description = "Private invocation endpoint of ${var.name}: HTTPS from the calling applications only"
  vpc_id      = var.vpc_id
  tags        = local.tags

  ingress {
    description = "HTTPS from the applications allowed to invoke the model"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = var.allowed_cidr_blocks
  }
}

data "aws_iam_policy_document" "invoke" {
  statement {
    sid       = "InvokeThisEndpointFromThisAccountOnly"
    actions   = ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"]
    resources = ["arn:${data.aws_partition.current.partition}:sagemaker:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:endpoint/${var.name}"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:PrincipalAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_vpc_endpoint" "invoke" {
  vpc_id              = var.vpc_id
  service_name        = "com.amazonaws.${data.aws_region.current.name}.sagemaker.runtime"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = var.private_subnet_ids
  security_group_ids  = [aws_security_group.invoke.id]
  private_dns_enabled = false
  policy              = data.aws_iam_policy_document.invoke.json
  tags                = merge(local.tags, { Name = "${var.name}-invoke" })
}

# --- model, endpoint configuration, endpoint ---

resource "aws_sagemaker_model" "this" {
  name                     = var.name
  execution_role_arn       = aws_iam_role.serving.arn
  enable_network_isolation = true
  tags                     = local.tags

  primary_container {
    image          = var.image
    model_data_url = local.model_data_url
    mode           = "SingleModel"
  }

  vpc_config {
    subnets            = var.private_subnet_ids
    security_group_ids = [aws_security_group.model.id]
  }

  depends_on = [aws_iam_role_policy.serving]
}

resource "aws_sagemaker_endpoint_configuration" "this" {
  name_prefix = "${var.name}-"
  kms_key_arn = local.instance_storage ? null : var.kms_key_arn
  tags        = local.tags

  production_variants {
    variant_name           = "primary"
    model_name             = aws_sagemaker_model.this.name
    initial_instance_count = var.instance_count
    instance_type          = var.instance_type
  }

  data_capture_config {
    enable_capture              = true
    initial_sampling_percentage = var.capture_sampling_percentage
    destination_s3_uri          = "s3://${local.buckets.capture}/${var.name}"
    kms_key_id                  = var.kms_key_arn

    capture_options {
      capture_mode = "Input"
    }
    capture_options {
      capture_mode = "Output"
    }
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "endpoint" {
  name              = "/aws/sagemaker/Endpoints/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = local.tags
}

resource "aws_sagemaker_endpoint" "this" {
  name                 = var.name
  endpoint_config_name = aws_sagemaker_endpoint_configuration.this.name
  tags                 = local.tags

  depends_on = [aws_cloudwatch_log_group.endpoint]
}

# --- monitoring: errors and latency page the owning team ---

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${var.name}-5xx"
  alarm_description   = "The ${var.name} endpoint returns server errors."
  namespace           = "AWS/SageMaker"
  metric_name         = "Invocation5XXErrors"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = local.tags

  dimensions = {
    EndpointName = aws_sagemaker_endpoint.this.name
    VariantName  = "primary"
  }
}

resource "aws_cloudwatch_metric_alarm" "latency" {
  alarm_name          = "${var.name}-latency"
  alarm_description   = "The ${var.name} endpoint answers slowly (p99 model latency over one second)."
  namespace           = "AWS/SageMaker"
  metric_name         = "ModelLatency"
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 3
  threshold           = 1000000
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = local.tags

  dimensions = {
    EndpointName = aws_sagemaker_endpoint.this.name
    VariantName  = "primary"
  }
}
