package servegate.network.mtls_strict_test

import rego.v1

import data.servegate.network.mtls_strict

peer(namespace, mode) := {"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
	"metadata": {"name": "default", "namespace": namespace}, "spec": {"mtls": {"mode": mode}}}

vllm := {"kind": "Deployment", "metadata": {"name": "llm", "namespace": "models"},
	"spec": {"template": {"spec": {"containers": [{"name": "v", "image": "vllm/vllm-openai"}]}}}}

test_permissive_denied if {
	mtls_strict.violation == {{"msg": "PeerAuthentication models/default sets mTLS mode PERMISSIVE, not STRICT", "path": ["spec", "mtls", "mode"]}} with input as peer("models", "PERMISSIVE")
}

test_port_level_disable_denied if {
	count(mtls_strict.violation) == 1 with input as json.patch(peer("models", "STRICT"), [{"op": "add", "path": "/spec/portLevelMtls", "value": {"8000": {"mode": "DISABLE"}}}])
}

test_model_namespace_without_strict_denied if {
	count(mtls_strict.violation) == 1 with input as [{"path": "llm.yaml", "contents": vllm}]
}

test_mesh_wide_strict_allowed if {
	count(mtls_strict.violation) == 0 with input as [{"path": "llm.yaml", "contents": vllm}, {"path": "mesh.yaml", "contents": peer("istio-system", "STRICT")}]
}
