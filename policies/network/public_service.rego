package servegate.network.public_service

import rego.v1

import data.lib.servegate.input as inputs
import data.lib.servegate.k8s

# METADATA
# title: Model servers must not be exposed by LoadBalancer or NodePort Services
# description: >-
#   Model servers ship management and inference APIs without authentication (Triton's model control, TorchServe's
#   management API, Ray's dashboard and job API). A public load balancer or a port open on every node hands them
#   to anyone who scans the cloud's address ranges.
# related_resources:
# - ref: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types
#   description: Kubernetes Service types
# custom:
#   id: SGP-NET-001
#   severity: critical
#   remediation: >-
#     Use a ClusterIP Service behind an authenticated gateway or ingress, or an internal load balancer
#     (service.beta.kubernetes.io/aws-load-balancer-internal, networking.gke.io/load-balancer-type: Internal,
#     service.beta.kubernetes.io/azure-load-balancer-internal).
violation contains result if {
	some [prefix, svc] in inputs.documents
	svc.kind == "Service"
	exposure := public_exposure(svc)
	serves_models(svc)
	msg := sprintf("Service %s exposes a model server %s", [k8s.name(svc), exposure])
	result := inputs.result(prefix, ["spec", "type"], msg)
}

public_exposure(svc) := "on a port of every node (NodePort)" if svc.spec.type == "NodePort"

public_exposure(svc) := "on a public load balancer" if {
	svc.spec.type == "LoadBalancer"
	not internal_load_balancer(svc)
}

internal_annotations := {
	"service.beta.kubernetes.io/aws-load-balancer-internal": {"true", "0.0.0.0/0"},
	"service.beta.kubernetes.io/aws-load-balancer-scheme": {"internal"},
	"networking.gke.io/load-balancer-type": {"Internal"},
	"cloud.google.com/load-balancer-type": {"Internal", "internal"},
	"service.beta.kubernetes.io/azure-load-balancer-internal": {"true"},
}

internal_load_balancer(svc) if {
	some annotation, values in internal_annotations
	svc.metadata.annotations[annotation] in values
}

# Ports model servers listen on: Triton 8000-8002, TF Serving 8500/8501, TorchServe 7070/7071/8081/8082,
# Ray 8265/10001, MLflow 5000, MLServer and Seldon 9000.
model_ports := {8000, 8001, 8002, 8500, 8501, 7070, 7071, 8081, 8082, 8265, 10001, 5000, 9000}

serves_models(svc) if {
	some port in svc.spec.ports
	some number in [port.port, object.get(port, "targetPort", 0)]
	number in model_ports
}

serves_models(svc) if {
	some value in array.concat([k8s.name(svc)], [v | some v in object.get(svc, ["spec", "selector"], {})])
	regex.match(k8s.model_server_pattern, value)
}

# With --combine: the Service selects the pods of a model-server workload in its namespace.
serves_models(svc) if {
	inputs.combined
	some [_, workload] in inputs.documents
	k8s.is_model_server(workload)
	k8s.namespace(workload) == k8s.namespace(svc)
	labels := object.get(workload, ["spec", "template", "metadata", "labels"], {})
	count(svc.spec.selector) > 0
	every key, value in svc.spec.selector {
		labels[key] == value
	}
}
