"""Azure rules (``servegate.rules.azure``) -> benchmark categories (see CATEGORIES.md next to the labelled split).

Rules that report several distinct problems map per finding, by the attribute path the finding names.
"""


def _by_path(default: list[str], **fragments: list[str]):
    """Categories chosen by a fragment of the finding's path (lower-case), else ``default``."""

    def pick(finding: dict) -> list[str]:
        path = (finding.get("path") or "").lower()
        for fragment, categories in fragments.items():
            if fragment in path:
                return categories
        return default

    return pick


CATEGORIES: dict[str, object] = {
    # Azure Machine Learning (catalogue)
    "MLS-AZ-001": ["net.public_access"],
    "MLS-AZ-002": ["net.no_isolation"],
    "MLS-AZ-003": _by_path([], encryption=["enc.cmk_missing"]),
    "MLS-AZ-004": _by_path([], local_auth=["auth.local_access"], disablelocalauth=["auth.local_access"],
                           public_ip=["net.public_access"], publicip=["net.public_access"],
                           ssh_public_access=["net.open_admin_port"], sshpublicaccess=["net.open_admin_port"],
                           remoteloginport=["net.open_admin_port"], admin_password=["auth.local_access"],
                           adminuserpassword=["auth.local_access"], ssh=["net.open_admin_port"]),
    "MLS-AZ-005": _by_path([], authmode=["auth.local_access"], publicnetworkaccess=["net.public_access"]),
    "MLS-ART-001-AZ": _by_path([], container_access_type=["storage.public_access"],
                           allow_nested_items=["storage.public_access_block"],
                           allow_blob_public_access=["storage.public_access_block"],
                           public_network_access=["net.public_access"]),
    "MLS-ART-002-AZ": ["storage.no_versioning"],
    "MLS-ART-003-AZ": ["enc.cmk_missing"],
    "MLS-LOG-002-AKS": ["log.disabled"],
    "MLS-SEC-004-AZ": ["auth.local_access"],
    "MLS-IAM-007": ["iam.privileged_role"],
    "MLS-LOG-003": ["log.disabled"],
    # Baseline
    "TF-AZ-001": ["cluster.public_endpoint"],
    "TF-AZ-002": ["cluster.authorized_networks"],
    "TF-AZ-003": ["cluster.legacy_auth"],
    "TF-AZ-004": ["auth.local_access"],
    "TF-AZ-005": ["cluster.network_policy"],
    "TF-AZ-006": ["net.public_access"],
    "TF-AZ-007": ["enc.cmk_missing"],
    "TF-AZ-008": ["log.disabled"],
    "TF-AZ-009": ["enc.at_rest_disabled"],
    "TF-AZ-010": ["storage.public_access"],
    "TF-AZ-011": ["storage.public_access_block"],
    "TF-AZ-012": ["net.public_access"],
    "TF-AZ-013": ["enc.in_transit"],
    "TF-AZ-014": ["enc.weak_tls"],
    "TF-AZ-015": ["enc.cmk_missing"],
    "TF-AZ-016": ["log.disabled"],
    "TF-AZ-017": ["auth.local_access"],
    "TF-AZ-020": ["net.public_access"],
    "TF-AZ-022": ["secret.no_expiry"],
    "TF-AZ-023": ["secret.no_expiry"],
    "TF-AZ-024": ["log.disabled"],
    "TF-AZ-025": ["enc.key_rotation"],
    "TF-AZ-030": ["auth.local_access"],
    "TF-AZ-031": ["net.public_access"],
    "TF-AZ-040": ["auth.local_access"],
    "TF-AZ-041": ["net.public_access"],
    "TF-AZ-042": ["auth.local_access"],
    "TF-AZ-043": ["net.public_access"],
    "TF-AZ-044": ["enc.cmk_missing"],
    "TF-AZ-045": ["net.public_access"],
    "TF-AZ-046": ["net.public_access"],
    "TF-AZ-050": ["iam.privileged_role"],
    "TF-AZ-051": ["iam.wildcard"],
    "TF-AZ-060": ["log.retention"],
    "TF-AZ-061": ["log.disabled"],
    "TF-AZ-062": ["log.retention"],
    "TF-AZ-063": ["log.retention"],
    "TF-AZ-064": ["log.retention"],
    "TF-AZ-065": ["log.disabled"],
    "TF-AZ-066": ["log.disabled"],
    "TF-AZ-070": ["enc.in_transit"],
    "TF-AZ-071": ["enc.weak_tls"],
    "TF-AZ-072": ["enc.in_transit"],
    "TF-AZ-073": ["enc.weak_tls"],
    "TF-AZ-074": ["log.disabled"],
}
