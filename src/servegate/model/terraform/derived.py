"""Computed attributes whose value follows from configured ones (an S3 bucket's ARN from its name).

Knowing them lets IAM policies that say ``"${aws_s3_bucket.models.arn}/fraud/*"`` be judged exactly.
"""

from __future__ import annotations

from typing import Any, Callable

from servegate.model.terraform.values import is_known


def _s3_bucket(values: dict) -> dict[str, Any]:
    bucket = values.get("bucket")
    if isinstance(bucket, str) and is_known(bucket):
        return {"id": bucket, "arn": f"arn:aws:s3:::{bucket}", "bucket": bucket}
    return {}


def _named(values: dict) -> dict[str, Any]:
    name = values.get("name")
    return {"id": name} if isinstance(name, str) else {}


def _gcs_bucket(values: dict) -> dict[str, Any]:
    name = values.get("name")
    return {"id": name, "url": f"gs://{name}", "self_link": f"https://www.googleapis.com/storage/v1/b/{name}"} \
        if isinstance(name, str) else {}


def _google_service_account(values: dict) -> dict[str, Any]:
    account, project = values.get("account_id"), values.get("project")
    if isinstance(account, str) and isinstance(project, str):
        email = f"{account}@{project}.iam.gserviceaccount.com"
        return {"email": email, "member": f"serviceAccount:{email}", "name": f"projects/{project}/serviceAccounts/{email}"}
    return {}


DERIVED: dict[str, Callable[[dict], dict[str, Any]]] = {
    "aws_s3_bucket": _s3_bucket,
    "aws_iam_role": _named,
    "aws_iam_user": _named,
    "aws_iam_group": _named,
    "aws_sagemaker_model": _named,
    "aws_sagemaker_endpoint_configuration": _named,
    "aws_sagemaker_endpoint": _named,
    "aws_sagemaker_notebook_instance": _named,
    "aws_cloudwatch_log_group": _named,
    "google_storage_bucket": _gcs_bucket,
    "google_service_account": _google_service_account,
}


def derived_attributes(resource_type: str, values: dict) -> dict[str, Any]:
    compute = DERIVED.get(resource_type)
    return compute(values) if compute else {}
