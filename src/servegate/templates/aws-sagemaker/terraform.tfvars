# Example values: replace them with your platform's network and your model.
region              = "eu-west-1"
vpc_id              = "vpc-0a1b2c3d4e5f60718"
vpc_cidr_block      = "10.20.0.0/16"
private_subnet_ids  = ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"]
allowed_cidr_blocks = ["10.20.64.0/20"]

model_bucket_name = "%%{project}-artifacts-eu-west-1"
model_prefix      = "%%{project}"
model_artifact    = "v1/model.tar.gz"
image             = "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference@sha256:0000000000000000000000000000000000000000000000000000000000000000"
