# Conventions of %%{project} on top of the platform bundle. Each rule reads one document as `input` (servegate and
# Conftest per file) or every document at once (`--combine`, as the bundle is run in CI).
package main

import rego.v1

# [prefix, document]: prefix ++ a path inside the document is the path inside `input`.
documents contains [[], input] if not is_array(input)

documents contains [[i, "contents"], item.contents] if {
	is_array(input)
	some i, item in input
}

# METADATA
# title: Terraform modules come from this repository or a pinned reference
# description: >-
#   A module call whose source floats (a registry module without a version, a git URL without ?ref=) can change
#   what is deployed without any change in this repository, and without a review.
# custom:
#   id: PLATFORM-001
#   severity: high
#   remediation: Use a local ./modules/... path, or pin the source with ?ref=<tag or commit>.
deny_floating_module contains result if {
	some [prefix, doc] in documents
	some name, calls in doc.module
	some index, call in calls
	not pinned_source(call.source)
	result := {
		"msg": sprintf("module %q uses source %q, which can change without a change here", [name, call.source]),
		"path": array.concat(prefix, ["module", name, index, "source"]),
	}
}

pinned_source(source) if startswith(source, "./")

pinned_source(source) if startswith(source, "../")

pinned_source(source) if contains(source, "?ref=")

# METADATA
# title: Kubernetes objects name the team that owns them
# description: >-
#   Findings and alerts about an object without an owner label reach nobody.
# custom:
#   id: PLATFORM-002
#   severity: low
#   remediation: Add the label app.kubernetes.io/part-of with the team's project name.
deny_missing_owner contains result if {
	some [prefix, doc] in documents
	doc.apiVersion
	doc.kind
	not doc.metadata.labels["app.kubernetes.io/part-of"]
	result := {
		"msg": sprintf("%s %s has no app.kubernetes.io/part-of label", [doc.kind, object.get(doc, ["metadata", "name"], "<unnamed>")]),
		"path": array.concat(prefix, ["metadata"]),
	}
}
