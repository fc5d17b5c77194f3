"""Provider defaults, explicit: an absent attribute means the provider's default, often the insecure one.

Rules read attributes through ``setting()``, which says whether the value was written, defaulted or
unknown, so a finding on a default points at the block that should set it and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from servegate.model.terraform.config import TfResource
from servegate.model.terraform.values import Unknown, is_known

# (resource type, attribute path) -> default value. Paths use block index 0 for nested blocks.
DEFAULTS: dict[tuple[str, tuple], Any] = {
    ("aws_sagemaker_notebook_instance", ("direct_internet_access",)): "Enabled",
    ("aws_sagemaker_notebook_instance", ("root_access",)): "Enabled",
    ("aws_sagemaker_notebook_instance", ("instance_metadata_service_configuration", 0,
                                         "minimum_instance_metadata_service_version")): "1",
    ("aws_sagemaker_model", ("enable_network_isolation",)): False,
    ("aws_sagemaker_domain", ("app_network_access_type",)): "PublicInternetOnly",
    ("aws_s3_bucket_public_access_block", ("block_public_acls",)): False,
    ("aws_s3_bucket_public_access_block", ("block_public_policy",)): False,
    ("aws_s3_bucket_public_access_block", ("ignore_public_acls",)): False,
    ("aws_s3_bucket_public_access_block", ("restrict_public_buckets",)): False,
    ("aws_kms_key", ("enable_key_rotation",)): False,
    ("aws_ecr_repository", ("image_tag_mutability",)): "MUTABLE",
    ("aws_ecr_repository", ("image_scanning_configuration", 0, "scan_on_push")): False,
    ("aws_cloudwatch_log_group", ("retention_in_days",)): 0,
    ("aws_eks_cluster", ("vpc_config", 0, "endpoint_public_access")): True,
    ("aws_eks_cluster", ("vpc_config", 0, "endpoint_private_access")): False,
    ("aws_eks_cluster", ("vpc_config", 0, "public_access_cidrs")): ["0.0.0.0/0"],
    ("aws_launch_template", ("metadata_options", 0, "http_tokens")): "optional",
    ("aws_launch_template", ("metadata_options", 0, "http_put_response_hop_limit")): 1,
    ("aws_network_acl_rule", ("egress",)): False,
    ("google_storage_bucket", ("uniform_bucket_level_access",)): False,
    ("google_storage_bucket", ("public_access_prevention",)): "inherited",
    ("google_container_cluster", ("enable_legacy_abac",)): False,
    ("google_container_cluster", ("enable_shielded_nodes",)): True,
    ("google_workbench_instance", ("gce_setup", 0, "disable_public_ip")): False,
    ("google_notebooks_instance", ("no_public_ip",)): False,
    ("google_vertex_ai_endpoint", ("network",)): None,
    ("google_compute_firewall", ("direction",)): "INGRESS",
    ("google_compute_firewall", ("disabled",)): False,
    ("azurerm_machine_learning_workspace", ("public_network_access_enabled",)): True,
    ("azurerm_machine_learning_workspace", ("high_business_impact",)): False,
    ("azurerm_storage_account", ("allow_nested_items_to_be_public",)): True,
    ("azurerm_storage_account", ("public_network_access_enabled",)): True,
    ("azurerm_storage_account", ("min_tls_version",)): "TLS1_2",
    ("azurerm_storage_account", ("https_traffic_only_enabled",)): True,
    ("azurerm_storage_account", ("shared_access_key_enabled",)): True,
    ("azurerm_container_registry", ("admin_enabled",)): False,
    ("azurerm_container_registry", ("public_network_access_enabled",)): True,
    ("azurerm_key_vault", ("public_network_access_enabled",)): True,
    ("azurerm_key_vault", ("purge_protection_enabled",)): False,
    ("azurerm_kubernetes_cluster", ("local_account_disabled",)): False,
    ("azurerm_kubernetes_cluster", ("private_cluster_enabled",)): False,
}


@dataclass(frozen=True, slots=True)
class Setting:
    value: Any
    written: bool  # set in the configuration (else the provider default applies)

    @property
    def known(self) -> bool:
        return is_known(self.value)

    @property
    def unknown(self) -> bool:
        return isinstance(self.value, Unknown)


def setting(resource: TfResource, *path: str | int) -> Setting:
    """The attribute's value, or the provider default when the configuration leaves it out."""
    missing = object()
    value = resource.get(*path, default=missing)
    if value is not missing and value is not None:
        return Setting(value, True)
    return Setting(DEFAULTS.get((resource.type, tuple(path))), False)
