"""GCP rules (Vertex AI, Workbench, GKE, GCS, KMS, IAM) -> benchmark categories (see CATEGORIES.md)."""


def _by_path(*pairs: tuple[str, list[str]], default: list[str] | None = None):
    """A rule detecting several things: the category follows the attribute the finding names."""
    def decide(finding: dict) -> list[str]:
        path = finding.get("path") or ""
        for marker, categories in pairs:
            if marker in path:
                return categories
        return list(default or [])
    return decide


PUBLIC_GRANT = ["storage.public_access", "iam.public_principal"]

CATEGORIES: dict[str, object] = {
    # catalogue rules
    "MLS-GCP-001": ["net.public_access"],
    "MLS-GCP-003": ["enc.cmk_missing"],
    "MLS-GCP-004": _by_path(("public_ip", ["net.public_access"]), ("internal_ip_only", ["net.public_access"]),
                            ("shielded_instance_config", ["cluster.node_hardening"])),
    "MLS-IAM-006": ["iam.privileged_role"],
    "MLS-ART-001-GCP": _by_path(("public_access_prevention", ["storage.public_access_block"]),
                                ("uniform_bucket_level_access", ["storage.uniform_access"]),
                                ("member", PUBLIC_GRANT), ("policy_data", PUBLIC_GRANT),
                                default=["storage.public_access"]),
    "MLS-ART-002-GCP": ["storage.no_versioning"],
    "MLS-ART-003-GCP": ["enc.cmk_missing"],
    "MLS-LOG-002-GKE": ["log.disabled"],
    "MLS-LOG-004-GCP": ["log.disabled"],
    "MLS-K8S-015-GKE": ["cluster.workload_identity"],
    # baseline
    "TF-GCP-001": ["cluster.public_endpoint"],
    "TF-GCP-002": ["cluster.authorized_networks"],
    "TF-GCP-003": ["cluster.legacy_auth"],
    "TF-GCP-004": ["cluster.legacy_auth"],
    "TF-GCP-005": ["cluster.network_policy"],
    "TF-GCP-006": ["cluster.node_hardening"],
    "TF-GCP-007": ["cluster.node_hardening"],
    "TF-GCP-008": ["cluster.workload_identity"],
    "TF-GCP-009": ["log.disabled"],
    "TF-GCP-010": ["enc.at_rest_disabled", "enc.cmk_missing"],
    "TF-GCP-011": ["iam.privileged_role"],
    "TF-GCP-012": ["iam.privileged_role"],
    "TF-GCP-013": ["iam.privileged_role"],
    "TF-GCP-014": ["iam.privileged_role"],
    "TF-GCP-015": ["iam.public_principal"],
    "TF-GCP-016": _by_path(("member", PUBLIC_GRANT), ("policy_data", PUBLIC_GRANT), default=["storage.public_access"]),
    "TF-GCP-017": ["storage.public_access_block"],
    "TF-GCP-018": ["storage.uniform_access"],
    "TF-GCP-019": ["storage.no_versioning"],
    "TF-GCP-020": ["log.disabled"],
    "TF-GCP-021": ["enc.cmk_missing"],
    "TF-GCP-022": ["enc.key_rotation"],
    "TF-GCP-023": ["enc.cmk_missing"],
    "TF-GCP-024": ["net.public_access"],
    "TF-GCP-025": ["cluster.node_hardening"],
    "TF-GCP-026": ["enc.weak_tls"],
    "TF-GCP-027": ["iam.privileged_role"],
    "TF-GCP-028": ["log.disabled"],
    "TF-GCP-029": ["log.disabled"],
}
