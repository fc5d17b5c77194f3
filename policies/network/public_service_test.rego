package servegate.network.public_service_test

import rego.v1

import data.servegate.network.public_service

service(type, annotations, port) := {"apiVersion": "v1", "kind": "Service",
	"metadata": {"name": "frontend", "namespace": "ml", "annotations": annotations},
	"spec": {"type": type, "selector": {"app": "web"}, "ports": [{"port": port}]}}

test_public_load_balancer_on_model_port_denied if {
	public_service.violation == {{"msg": "Service frontend exposes a model server on a public load balancer", "path": ["spec", "type"]}} with input as service("LoadBalancer", {}, 8000)
}

test_node_port_denied if {
	count(public_service.violation) == 1 with input as service("NodePort", {}, 8501)
}

test_internal_load_balancer_allowed if {
	count(public_service.violation) == 0 with input as service("LoadBalancer", {"networking.gke.io/load-balancer-type": "Internal"}, 8000)
}

test_web_service_allowed if {
	count(public_service.violation) == 0 with input as service("LoadBalancer", {}, 443)
}

test_combined_selector_finds_model_server if {
	some result in public_service.violation with input as [
		{"path": "svc.yaml", "contents": service("LoadBalancer", {}, 443)},
		{"path": "deploy.yaml", "contents": {"kind": "Deployment", "metadata": {"name": "web", "namespace": "ml"}, "spec": {"template": {
			"metadata": {"labels": {"app": "web"}},
			"spec": {"containers": [{"name": "s", "image": "vllm/vllm-openai@sha256:00"}]},
		}}}},
	]
	result.path == [0, "contents", "spec", "type"]
}
