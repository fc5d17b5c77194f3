package servegate.workload.privileged

import rego.v1

import data.lib.servegate.input as inputs
import data.lib.servegate.k8s

# METADATA
# title: Privileged containers are forbidden
# description: >-
#   A privileged container holds every Linux capability and the host's devices: a compromised model server then
#   owns the node, the GPUs, and every model and credential on it.
# related_resources:
# - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
#   description: Kubernetes Pod Security Standards, baseline
# custom:
#   id: SGP-WL-001
#   severity: critical
#   remediation: Remove securityContext.privileged (or set it to false) and add only the capability the container needs.
violation contains result if {
	some [prefix, obj] in inputs.documents
	some [path, container, _] in k8s.containers(obj)
	container.securityContext.privileged == true
	msg := sprintf("%s %s: container %q runs privileged", [obj.kind, k8s.name(obj), container.name])
	result := inputs.result(prefix, array.concat(path, ["securityContext", "privileged"]), msg)
}
