package servegate.workload.image_provenance_test

import rego.v1

import data.servegate.workload.image_provenance

digest := "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

pod(image) := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": image}]}}

registries := {"allowed": ["registry.example.com", "nvcr.io/nvidia"]}

test_pinned_allowed_image_passes if {
	count(image_provenance.violation) == 0 with input as pod(concat("", ["registry.example.com/llm/vllm", digest]))
		with data.servegate.registries as registries
}

test_path_prefix_entry if {
	count(image_provenance.violation) == 0 with input as pod(concat("", ["nvcr.io/nvidia/tritonserver", digest]))
		with data.servegate.registries as registries
}

test_tag_denied if {
	{r.msg | some r in image_provenance.violation} == {"Pod p: container \"c\" uses image \"registry.example.com/vllm:latest\", not pinned by digest"} with input as pod("registry.example.com/vllm:latest")
		with data.servegate.registries as registries
}

test_docker_hub_denied if {
	some r in image_provenance.violation with input as pod(concat("", ["vllm/vllm-openai", digest]))
		with data.servegate.registries as registries
	contains(r.msg, "from docker.io, which is not an allowed registry")
}

test_lookalike_host_denied if {
	count(image_provenance.violation) == 1 with input as pod(concat("", ["nvcr.io/nvidia-evil/x", digest]))
		with data.servegate.registries as registries
}

test_gatekeeper_parameters if {
	count(image_provenance.violation) == 0 with input as {
		"review": {"object": pod(concat("", ["quay.io/acme/server", digest]))},
		"parameters": {"allowed_registries": ["quay.io"]},
	}
}

test_no_allowlist_fails_closed if {
	some r in image_provenance.violation with input as pod(concat("", ["registry.example.com/x", digest]))
		with data.servegate.registries as {}
	contains(r.msg, "none configured")
}
