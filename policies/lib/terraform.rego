# METADATA
# description: >-
#   Terraform helpers over Conftest's hcl2 shape (hcl2json): labels nest as keys, every block body is a list,
#   expressions that are not literals are "${...}" strings.
package lib.servegate.terraform

import rego.v1

# {[path, name, body]} of every block of one resource type in an hcl2 document.
resources(doc, type) := {[["resource", type, name, i], name, body] |
	some name, bodies in doc.resource[type]
	some i, body in bodies
}

# The same for data sources.
data_sources(doc, type) := {[["data", type, name, i], name, body] |
	some name, bodies in doc.data[type]
	some i, body in bodies
}

# A value Terraform computes ("${var.x}", "${aws_kms_key.k.arn}"): present, but unknown here.
is_expression(value) if {
	is_string(value)
	startswith(value, "${")
}

# A literal JSON policy document (a heredoc or quoted JSON), parsed; undefined for jsonencode(...) and references.
json_policy(value) := json.unmarshal(value) if {
	is_string(value)
	not is_expression(value)
	json.is_valid(value)
}

# Statements of a JSON policy document, whether `Statement` is one object or a list.
statements(policy) := policy.Statement if is_array(policy.Statement)

statements(policy) := [policy.Statement] if is_object(policy.Statement)

as_list(value) := value if is_array(value)

as_list(value) := [value] if is_string(value)
