package servegate.workload.image_provenance

import rego.v1

import data.lib.servegate.input as inputs
import data.lib.servegate.k8s

# METADATA
# title: Images must be pinned by digest and come from an allowed registry
# description: >-
#   A tag can be moved to other content at any time and a public registry serves whatever was pushed last: a
#   model server must run exactly the image that was reviewed, from a registry the platform controls.
# related_resources:
# - ref: https://kubernetes.io/docs/concepts/containers/images/#image-names
#   description: Kubernetes image names and digests
# custom:
#   id: SGP-WL-005
#   severity: high
#   remediation: >-
#     Reference images as registry/name@sha256:<digest> from a registry listed in policies/data/registries.yaml
#     (data.servegate.registries.allowed; Gatekeeper: parameters.allowed_registries).
violation contains result if {
	some [prefix, obj] in inputs.documents
	some [path, container, _] in k8s.containers(obj)
	not regex.match(`@sha256:[a-f0-9]{64}$`, container.image)
	msg := sprintf("%s %s: container %q uses image %q, not pinned by digest", [obj.kind, k8s.name(obj), container.name, container.image])
	result := inputs.result(prefix, array.concat(path, ["image"]), msg)
}

violation contains result if {
	some [prefix, obj] in inputs.documents
	some [path, container, _] in k8s.containers(obj)
	not allowed(container.image)
	msg := sprintf("%s %s: container %q uses image %q from %s, which is not an allowed registry (allowed: %s)", [obj.kind, k8s.name(obj), container.name, container.image, registry(container.image), allowed_text])
	result := inputs.result(prefix, array.concat(path, ["image"]), msg)
}

# Gatekeeper passes the list as a constraint parameter; servegate and Conftest read it from data.
default allowed_registries := []

allowed_registries := input.parameters.allowed_registries if input.review

allowed_registries := data.servegate.registries.allowed if not input.review

allowed_text := concat(", ", allowed_registries) if count(allowed_registries) > 0

allowed_text := "none configured: set data.servegate.registries.allowed" if count(allowed_registries) == 0

allowed(image) if {
	some entry in allowed_registries
	registry(image) == entry
}

allowed(image) if {
	some entry in allowed_registries
	startswith(image, concat("", [entry, "/"]))
}

# The registry host of an image reference; Docker Hub when the first part is not a host.
registry(image) := host if {
	parts := split(image, "/")
	count(parts) > 1
	regex.match(`[.:]|^localhost$`, parts[0])
	host := parts[0]
}

registry(image) := "docker.io" if {
	parts := split(image, "/")
	not regex.match(`[.:]|^localhost$`, parts[0])
}
