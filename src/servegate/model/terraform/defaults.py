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
    ("aws_sagemaker_domain", ("default_user_settings", 0, "sharing_settings", 0, "notebook_output_option")): "Disabled",
    ("aws_sagemaker_endpoint_configuration", ("data_capture_config", 0, "enable_capture")): False,
    ("aws_bedrock_model_invocation_logging_configuration", ("logging_config", 0, "text_data_delivery_enabled")): True,
    ("aws_s3_bucket_public_access_block", ("block_public_acls",)): False,
    ("aws_s3_bucket_public_access_block", ("block_public_policy",)): False,
    ("aws_s3_bucket_public_access_block", ("ignore_public_acls",)): False,
    ("aws_s3_bucket_public_access_block", ("restrict_public_buckets",)): False,
    ("aws_s3_account_public_access_block", ("block_public_acls",)): False,
    ("aws_s3_account_public_access_block", ("block_public_policy",)): False,
    ("aws_s3_account_public_access_block", ("ignore_public_acls",)): False,
    ("aws_s3_account_public_access_block", ("restrict_public_buckets",)): False,
    ("aws_s3_bucket", ("object_lock_enabled",)): False,
    ("aws_kms_key", ("enable_key_rotation",)): False,
    ("aws_ecr_repository", ("image_tag_mutability",)): "MUTABLE",
    ("aws_ecr_repository", ("image_scanning_configuration", 0, "scan_on_push")): False,
    ("aws_cloudwatch_log_group", ("retention_in_days",)): 0,
    ("aws_eks_cluster", ("vpc_config", 0, "endpoint_public_access")): True,
    ("aws_eks_cluster", ("vpc_config", 0, "endpoint_private_access")): False,
    ("aws_eks_cluster", ("vpc_config", 0, "public_access_cidrs")): ["0.0.0.0/0"],
    ("aws_launch_template", ("metadata_options", 0, "http_tokens")): "optional",
    ("aws_launch_template", ("metadata_options", 0, "http_put_response_hop_limit")): 1,
    ("aws_instance", ("metadata_options", 0, "http_tokens")): "optional",
    ("aws_db_instance", ("publicly_accessible",)): False,
    ("aws_db_instance", ("storage_encrypted",)): False,
    ("aws_rds_cluster", ("storage_encrypted",)): False,
    ("aws_api_gateway_domain_name", ("security_policy",)): "TLS_1_0",
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
    ("azurerm_ai_services", ("local_authentication_enabled",)): True,
    ("azurerm_ai_services", ("public_network_access",)): "Enabled",
    ("azurerm_cognitive_account", ("local_auth_enabled",)): True,
    ("azurerm_cognitive_account", ("public_network_access_enabled",)): True,
    ("azurerm_container_registry", ("anonymous_pull_enabled",)): False,
    ("azurerm_kubernetes_cluster", ("role_based_access_control_enabled",)): True,
    ("azurerm_machine_learning_compute_cluster", ("local_auth_enabled",)): True,
    ("azurerm_machine_learning_compute_cluster", ("node_public_ip_enabled",)): True,
    ("azurerm_machine_learning_compute_cluster", ("ssh_public_access_enabled",)): False,
    ("azurerm_machine_learning_compute_instance", ("local_auth_enabled",)): True,
    ("azurerm_machine_learning_compute_instance", ("node_public_ip_enabled",)): True,
    ("azurerm_machine_learning_workspace", ("managed_network", 0, "isolation_mode")): "Disabled",
    ("azurerm_search_service", ("local_authentication_enabled",)): True,
    ("azurerm_search_service", ("public_network_access_enabled",)): True,
    ("azurerm_storage_account", ("enable_https_traffic_only",)): True,
    ("azurerm_storage_container", ("container_access_type",)): "private",
    ("google_compute_instance", ("shielded_instance_config", 0, "enable_integrity_monitoring")): True,
    ("google_compute_instance", ("shielded_instance_config", 0, "enable_secure_boot")): False,
    ("google_compute_instance", ("shielded_instance_config", 0, "enable_vtpm")): True,
    ("google_compute_ssl_policy", ("min_tls_version",)): "TLS_1_0",
    ("google_container_cluster", ("database_encryption", 0, "state")): "DECRYPTED",
    ("google_container_cluster", ("logging_service",)): "logging.googleapis.com/kubernetes",
    ("google_container_cluster", ("master_auth", 0, "client_certificate_config", 0, "issue_client_certificate")): False,
    ("google_container_cluster", ("monitoring_service",)): "monitoring.googleapis.com/kubernetes",
    ("google_container_cluster", ("network_policy", 0, "enabled")): False,
    ("google_container_cluster", ("private_cluster_config", 0, "enable_private_endpoint")): False,
    ("google_container_cluster", ("private_cluster_config", 0, "enable_private_nodes")): False,
    ("google_container_node_pool", ("node_config", 0, "shielded_instance_config", 0, "enable_integrity_monitoring")): True,
    ("google_container_node_pool", ("node_config", 0, "shielded_instance_config", 0, "enable_secure_boot")): False,
    ("google_kms_crypto_key", ("purpose",)): "ENCRYPT_DECRYPT",
    ("google_notebooks_instance", ("shielded_instance_config", 0, "enable_integrity_monitoring")): True,
    ("google_notebooks_instance", ("shielded_instance_config", 0, "enable_secure_boot")): False,
    ("google_notebooks_instance", ("shielded_instance_config", 0, "enable_vtpm")): True,
    ("google_notebooks_runtime", ("virtual_machine", 0, "virtual_machine_config", 0, "internal_ip_only")): False,
    ("google_storage_bucket", ("versioning", 0, "enabled")): False,
    ("google_vertex_ai_index_endpoint", ("public_endpoint_enabled",)): False,
    ("google_workbench_instance", ("gce_setup", 0, "shielded_instance_config", 0, "enable_integrity_monitoring")): True,
    ("google_workbench_instance", ("gce_setup", 0, "shielded_instance_config", 0, "enable_secure_boot")): False,
    ("google_workbench_instance", ("gce_setup", 0, "shielded_instance_config", 0, "enable_vtpm")): True,
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
