package servegate.logging.control_plane_logs

import rego.v1

import data.lib.servegate.input as inputs
import data.lib.servegate.terraform as tf

# METADATA
# title: Kubernetes control-plane audit logs must be on (EKS, GKE, AKS)
# description: >-
#   The API server's audit log is the only record of who deployed, exec'd into or read secrets from a model
#   server; managed clusters leave it off unless asked. For AKS the diagnostic setting must be among the documents
#   checked together (the same file, or every file with --combine).
# related_resources:
# - ref: https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html
#   description: EKS control plane logging
# - ref: https://cloud.google.com/kubernetes-engine/docs/how-to/view-logs#control-plane-logs
#   description: GKE control plane logs
# - ref: https://learn.microsoft.com/azure/aks/monitor-aks#resource-logs
#   description: AKS resource logs
# custom:
#   id: SGP-LOG-003
#   severity: high
#   remediation: >-
#     EKS: enabled_cluster_log_types with api, audit and authenticator. GKE: logging_config { enable_components =
#     [..., "APISERVER"] }. AKS: an azurerm_monitor_diagnostic_setting on the cluster with the kube-audit (or
#     kube-audit-admin) category.
violation contains result if {
	some [prefix, doc] in inputs.documents
	some [path, name, cluster] in tf.resources(doc, "aws_eks_cluster")
	not tf.is_expression(object.get(cluster, "enabled_cluster_log_types", []))
	some wanted in ["api", "audit", "authenticator"]
	not wanted in object.get(cluster, "enabled_cluster_log_types", [])
	msg := sprintf("aws_eks_cluster.%s does not send %q control-plane logs (enabled_cluster_log_types)", [name, wanted])
	result := inputs.result(prefix, array.concat(path, ["enabled_cluster_log_types"]), msg)
}

violation contains result if {
	some [prefix, doc] in inputs.documents
	some [path, name, cluster] in tf.resources(doc, "google_container_cluster")
	not api_server_logged(cluster)
	msg := sprintf("google_container_cluster.%s does not log its API server (logging_config.enable_components lacks APISERVER)", [name])
	result := inputs.result(prefix, array.concat(path, ["logging_config"]), msg)
}

api_server_logged(cluster) if {
	some config in cluster.logging_config
	"APISERVER" in config.enable_components
}

api_server_logged(cluster) if {
	some config in cluster.logging_config
	tf.is_expression(config.enable_components)
}

violation contains result if {
	some [prefix, doc] in inputs.documents
	some [path, name, _] in tf.resources(doc, "azurerm_kubernetes_cluster")
	not audited_aks[name]
	msg := sprintf("azurerm_kubernetes_cluster.%s has no diagnostic setting sending kube-audit logs", [name])
	result := inputs.result(prefix, path, msg)
}

audit_categories := {"kube-audit", "kube-audit-admin"}

# AKS clusters (by name) that a diagnostic setting among the checked documents audits.
audited_aks contains cluster if {
	some [_, doc] in inputs.documents
	some [_, _, setting] in tf.resources(doc, "azurerm_monitor_diagnostic_setting")
	some [_, cluster] in regex.find_all_string_submatch_n(`azurerm_kubernetes_cluster\.([A-Za-z0-9_-]+)\.id`, setting.target_resource_id, 1)
	some block in array.concat(object.get(setting, "enabled_log", []), object.get(setting, "log", []))
	block.category in audit_categories
}
