package servegate.workload.read_only_root

import rego.v1

import data.lib.servegate.input as inputs
import data.lib.servegate.k8s

# METADATA
# title: Root filesystems must be read-only
# description: >-
#   A writable root filesystem lets an attacker replace the server's code or the model it loads and persist until
#   the pod is replaced; models and caches belong on explicit volumes.
# related_resources:
# - ref: https://kubernetes.io/docs/tasks/configure-pod-container/security-context/
#   description: Kubernetes security context
# custom:
#   id: SGP-WL-003
#   severity: medium
#   remediation: Set securityContext.readOnlyRootFilesystem to true and mount an emptyDir for scratch and model caches.
violation contains result if {
	some [prefix, obj] in inputs.documents
	some [path, container, _] in k8s.containers(obj)
	object.get(container, ["securityContext", "readOnlyRootFilesystem"], false) != true
	msg := sprintf("%s %s: container %q has a writable root filesystem", [obj.kind, k8s.name(obj), container.name])
	result := inputs.result(prefix, array.concat(path, ["securityContext", "readOnlyRootFilesystem"]), msg)
}
