"""AWS ML rules (SageMaker, Bedrock, their log groups, secrets and IAM) -> benchmark categories.

Rules that check several settings decide per finding from the attribute path the finding names
(``finding["path"]``, e.g. ``direct_internet_access`` or ``data_capture_config[0].kms_key_id``).
"""


def _last(finding: dict) -> str:
    path = finding.get("path") or ""
    return path.rsplit(".", 1)[-1]


def _notebook(finding: dict) -> list[str]:
    # The notebook rule also judges lifecycle configurations (downloads piped into a shell): no category.
    if "aws_sagemaker_notebook_instance." not in (finding.get("resource") or ""):
        return []
    return {
        "direct_internet_access": ["net.public_access"],
        "root_access": ["auth.local_access"],
        "kms_key_id": ["enc.cmk_missing"],
        "subnet_id": ["net.no_isolation"],
    }.get(_last(finding), [])


def _studio(finding: dict) -> list[str]:
    return {
        "app_network_access_type": ["net.public_access"],
        "kms_key_id": ["enc.cmk_missing"],
        "s3_kms_key_id": ["enc.cmk_missing"],
    }.get(_last(finding), [])


def _data_capture(finding: dict) -> list[str]:
    return ["enc.cmk_missing"] if _last(finding) == "kms_key_id" else []


def _bedrock(finding: dict) -> list[str]:
    last = _last(finding)
    if last == "customer_encryption_key_arn":
        return ["enc.cmk_missing"]
    if last == "text_data_delivery_enabled" or "declares no aws_bedrock_model_invocation_logging" in finding["message"]:
        return ["log.disabled"]
    return []


def _log_group(finding: dict) -> list[str]:
    return {"kms_key_id": ["enc.cmk_missing"], "retention_in_days": ["log.retention"]}.get(_last(finding), [])


def _passrole(finding: dict) -> list[str]:
    return ["iam.wildcard"] if "iam:PassRole on all roles without" in finding["message"] else []


CATEGORIES: dict[str, object] = {
    "MLS-AWS-001": ["net.no_isolation"],
    "MLS-AWS-002": ["enc.cmk_missing"],
    "MLS-AWS-003": _data_capture,
    "MLS-AWS-005": _notebook,
    "MLS-AWS-006": _studio,
    "MLS-AWS-008": _bedrock,
    "MLS-LOG-001": _log_group,
    "MLS-IAM-004": ["iam.privileged_role"],
    "MLS-IAM-005": _passrole,
}
