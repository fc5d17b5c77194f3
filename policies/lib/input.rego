# METADATA
# description: >-
#   The documents a policy checks, whichever tool hands them over: one document as `input` (servegate and
#   Conftest, per file), every document at once (`--combine`: [{"path", "contents"}]), or the object of a
#   Gatekeeper admission review. Each comes with the path that leads to it inside `input`, so results can say
#   where the problem is.
package lib.servegate.input

import rego.v1

# [prefix, document] pairs; prefix ++ a path inside the document is a path inside `input`.
documents contains [[], input] if {
	not is_array(input)
	not input.review.object
}

documents contains [["review", "object"], input.review.object] if input.review.object

documents contains [[i, "contents"], doc.contents] if {
	is_array(input)
	some i, doc in input
}

# Checks across documents (a namespace's NetworkPolicies, an AKS cluster's diagnostic settings) need them all.
combined if is_array(input)

# A result: a message and where (the document's prefix followed by the path inside it).
result(prefix, path, msg) := {"msg": msg, "path": array.concat(prefix, path)}
