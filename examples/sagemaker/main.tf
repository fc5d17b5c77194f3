# A SageMaker real-time endpoint for the fraud model, with the mistakes servegate catches.
# Do not apply it.

variable "model_prefix" {
  default = "fraud/v3"
}

variable "capture_enabled" {
  type    = bool
  default = true
}

module "models" {
  source = "./modules/model-bucket"
  name   = "acme-ml-models-prod"
}

resource "aws_iam_role" "fraud_endpoint" {
  name = "fraud-endpoint"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "sagemaker.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "fraud_full_access" {
  role       = aws_iam_role.fraud_endpoint.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
}

data "aws_iam_policy_document" "fraud_models" {
  statement {
    actions   = ["s3:*"]
    resources = ["${module.models.arn}/*"]
  }
}

resource "aws_iam_role_policy" "fraud_models" {
  role   = aws_iam_role.fraud_endpoint.id
  policy = data.aws_iam_policy_document.fraud_models.json
}

resource "aws_sagemaker_model" "fraud" {
  name               = "fraud-v3"
  execution_role_arn = aws_iam_role.fraud_endpoint.arn

  primary_container {
    image          = "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.1-gpu-py310"
    model_data_url = "s3://acme-ml-models-prod/${var.model_prefix}/model.tar.gz"
    environment = {
      HF_MODEL_ID                 = "someorg/fraud-bert"
      HF_MODEL_TRUST_REMOTE_CODE  = "true"
    }
  }
}

resource "aws_sagemaker_endpoint_configuration" "fraud" {
  name = "fraud-v3"

  production_variants {
    variant_name           = "primary"
    model_name             = aws_sagemaker_model.fraud.name
    initial_instance_count = 2
    instance_type          = "ml.g5.xlarge"
  }

  data_capture_config {
    enable_capture              = var.capture_enabled
    initial_sampling_percentage = 100
    destination_s3_uri          = "s3://acme-ml-capture/fraud"
    capture_options {
      capture_mode = "InputAndOutput"
    }
  }
}

resource "aws_sagemaker_endpoint" "fraud" {
  name                 = "fraud-prod"
  endpoint_config_name = aws_sagemaker_endpoint_configuration.fraud.name
}

resource "aws_sagemaker_notebook_instance" "research" {
  name          = "fraud-research"
  role_arn      = aws_iam_role.fraud_endpoint.arn
  instance_type = "ml.t3.medium"
}

resource "aws_security_group" "ray" {
  name = "ray-head"
  ingress {
    from_port   = 8265
    to_port     = 8265
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
