package servegate.logging.control_plane_logs_test

import rego.v1

import data.servegate.logging.control_plane_logs

test_eks_without_audit_denied if {
	{r.msg | some r in control_plane_logs.violation} == {
		"aws_eks_cluster.main does not send \"audit\" control-plane logs (enabled_cluster_log_types)",
		"aws_eks_cluster.main does not send \"authenticator\" control-plane logs (enabled_cluster_log_types)",
	} with input as {"resource": {"aws_eks_cluster": {"main": [{"enabled_cluster_log_types": ["api"]}]}}}
}

test_eks_with_logs_allowed if {
	count(control_plane_logs.violation) == 0 with input as {"resource": {"aws_eks_cluster": {"main": [{"enabled_cluster_log_types": ["api", "audit", "authenticator", "scheduler"]}]}}}
}

test_gke_without_api_server_logs_denied if {
	count(control_plane_logs.violation) == 1 with input as {"resource": {"google_container_cluster": {"gke": [{"name": "gke"}]}}}
}

test_gke_with_api_server_logs_allowed if {
	count(control_plane_logs.violation) == 0 with input as {"resource": {"google_container_cluster": {"gke": [{"logging_config": [{"enable_components": ["SYSTEM_COMPONENTS", "APISERVER"]}]}]}}}
}

test_aks_without_diagnostics_denied if {
	count(control_plane_logs.violation) == 1 with input as {"resource": {"azurerm_kubernetes_cluster": {"aks": [{"name": "aks"}]}}}
}

test_aks_with_audit_diagnostics_allowed if {
	count(control_plane_logs.violation) == 0 with input as {"resource": {
		"azurerm_kubernetes_cluster": {"aks": [{"name": "aks"}]},
		"azurerm_monitor_diagnostic_setting": {"aks": [{
			"target_resource_id": "${azurerm_kubernetes_cluster.aks.id}",
			"enabled_log": [{"category": "kube-audit-admin"}],
		}]},
	}}
}
