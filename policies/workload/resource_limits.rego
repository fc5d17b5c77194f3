package servegate.workload.resource_limits

import rego.v1

import data.lib.servegate.input as inputs
import data.lib.servegate.k8s

# METADATA
# title: Containers must set CPU and memory limits
# description: >-
#   An inference server without limits can be driven to exhaust its node with large or many requests, starving
#   every other model on it: a denial of service for the price of a few prompts.
# related_resources:
# - ref: https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
#   description: Kubernetes resource management
# custom:
#   id: SGP-WL-004
#   severity: medium
#   remediation: Set resources.limits.cpu and resources.limits.memory on every container.
violation contains result if {
	some [prefix, obj] in inputs.documents
	some [path, container, _] in k8s.containers(obj)
	some resource in ["cpu", "memory"]
	not container.resources.limits[resource]
	msg := sprintf("%s %s: container %q has no %s limit", [obj.kind, k8s.name(obj), container.name, resource])
	result := inputs.result(prefix, array.concat(path, ["resources", "limits", resource]), msg)
}
