package servegate.workload.non_root

import rego.v1

import data.lib.servegate.input as inputs
import data.lib.servegate.k8s

# METADATA
# title: Containers must run as a non-root user
# description: >-
#   A model server running as root turns any code execution (a pickled model, a remote-code model, a server bug)
#   into root inside the container, one kernel bug away from the node.
# related_resources:
# - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
#   description: Kubernetes Pod Security Standards, restricted
# custom:
#   id: SGP-WL-002
#   severity: high
#   remediation: Set securityContext.runAsNonRoot to true (pod or container) and a non-zero runAsUser.
violation contains result if {
	some [prefix, obj] in inputs.documents
	some [path, container, spec] in k8s.containers(obj)
	effective(spec, container, "runAsUser") == 0
	msg := sprintf("%s %s: container %q runs as UID 0 (root)", [obj.kind, k8s.name(obj), container.name])
	result := inputs.result(prefix, array.concat(path, ["securityContext", "runAsUser"]), msg)
}

violation contains result if {
	some [prefix, obj] in inputs.documents
	some [path, container, spec] in k8s.containers(obj)
	effective(spec, container, "runAsNonRoot") != true
	not effective(spec, container, "runAsUser") > 0
	msg := sprintf("%s %s: container %q may run as root: runAsNonRoot is not true", [obj.kind, k8s.name(obj), container.name])
	result := inputs.result(prefix, array.concat(path, ["securityContext", "runAsNonRoot"]), msg)
}

# A container's setting, else its pod's, else null.
effective(spec, container, field) := object.get(container, ["securityContext", field], object.get(spec, ["securityContext", field], null))
