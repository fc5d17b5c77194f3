"""AWS cloud rules (family aws-cloud) -> benchmark categories (see CATEGORIES.md next to the labelled split)."""

PUBLIC_ACCESS_BLOCK_TYPES = ("aws_s3_bucket_public_access_block", "aws_s3_account_public_access_block")


def _resource_type(finding: dict) -> str:
    """The Terraform type of a finding's resource address (module prefixes and instance keys dropped)."""
    parts = [p for p in finding.get("resource", "").split(".") if p.startswith("aws_")]
    return parts[-1] if parts else ""


def _model_bucket_public(finding: dict) -> list[str]:
    """MLS-ART-001 reports a missing or partial public access block, or a public ACL or bucket policy."""
    if _resource_type(finding) in PUBLIC_ACCESS_BLOCK_TYPES or finding.get("path") == "public_access_block":
        return ["storage.public_access_block"]
    return ["storage.public_access"]


def _serving_wildcard(finding: dict) -> list[str]:
    """MLS-IAM-002 reports administrator managed policies (as TF-AWS-011 does), all-actions statements (as
    TF-AWS-010 does) and service-wide wildcards such as s3:* (no category of its own)."""
    message = finding.get("message", "")
    if "AWS-managed" in message:
        admin = any(f"AWS-managed {name} " in message for name in ("AdministratorAccess", "PowerUserAccess"))
        return ["iam.privileged_role"] if admin else []
    return ["iam.wildcard"] if "all actions" in message else []


def _registry_shared(finding: dict) -> list[str]:
    """MLS-ART-009: mutable serving-image tags, or registry policies open to any principal."""
    if finding.get("path") == "image_tag_mutability":
        return ["registry.tag_mutable"]
    return ["iam.public_principal"] if 'Principal "*"' in finding.get("message", "") else []


CATEGORIES: dict[str, object] = {
    "MLS-ART-001": _model_bucket_public,
    "MLS-ART-002": ["storage.no_versioning"],
    "MLS-ART-003": ["enc.cmk_missing"],
    "MLS-ART-009": _registry_shared,
    "MLS-LOG-002": ["log.disabled"],
    "MLS-LOG-005": ["log.disabled"],
    "MLS-IAM-002": _serving_wildcard,
    "TF-AWS-001": ["storage.public_access_block"],
    "TF-AWS-002": ["storage.public_access_block"],
    "TF-AWS-003": ["storage.public_access"],
    "TF-AWS-004": ["storage.public_access"],
    "TF-AWS-005": ["storage.no_versioning"],
    "TF-AWS-006": ["log.disabled"],
    "TF-AWS-007": ["storage.uniform_access"],
    "TF-AWS-008": ["enc.key_rotation"],
    "TF-AWS-009": ["iam.public_principal"],
    "TF-AWS-010": ["iam.wildcard"],
    "TF-AWS-011": ["iam.privileged_role"],
    "TF-AWS-012": ["cluster.public_endpoint"],
    "TF-AWS-013": ["cluster.authorized_networks"],
    "TF-AWS-014": ["enc.at_rest_disabled"],
    "TF-AWS-015": ["registry.image_scan"],
    "TF-AWS-016": ["registry.tag_mutable"],
    "TF-AWS-017": ["log.retention"],
    "TF-AWS-018": ["enc.cmk_missing"],
    "TF-AWS-019": ["log.disabled"],
    "TF-AWS-020": ["enc.in_transit"],
    "TF-AWS-021": ["enc.weak_tls"],
    "TF-AWS-023": ["net.public_access"],
    "TF-AWS-024": ["enc.at_rest_disabled"],
}
