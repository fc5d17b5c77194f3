from __future__ import annotations

import json
import random
import sys

import pytest

from servegate.sources.hcl_ast import (
    Attribute,
    Binary,
    Block,
    Body,
    Call,
    Conditional,
    ForExpr,
    GetAttr,
    HclFile,
    Index,
    Literal,
    ObjectExpr,
    Splat,
    Template,
    TemplateFor,
    TemplateIf,
    TupleExpr,
    Unary,
    Variable,
)
from servegate.sources.hcl_loader import MAX_DEPTH, parse_hcl, parse_hcl_json


def clean(text: str) -> HclFile:
    parsed = parse_hcl(text)
    assert parsed.problems == (), parsed.problems
    return parsed


def value(text: str, name: str = "x"):
    """The expression of attribute ``name`` of a one-attribute file."""
    return clean(text).body.attributes[name].expr


def strip(expr):
    """An expression with every span reset, to compare shapes."""
    if isinstance(expr, tuple):
        return tuple(strip(e) for e in expr)
    if isinstance(expr, str) or expr is None:
        return expr
    fields = {}
    for name in expr.__slots__:
        if name == "span":
            continue
        item = getattr(expr, name)
        if isinstance(item, tuple) and item and isinstance(item[0], tuple) and len(item[0]) == 2:
            item = tuple((strip(k) if not isinstance(k, str) else k, strip(v) if not isinstance(v, str) else v)
                         for k, v in item)
        elif isinstance(item, tuple):
            item = strip(item)
        elif hasattr(item, "__slots__") and not isinstance(item, str):
            item = strip(item)
        fields[name] = item
    return type(expr)(**fields)


def lit(v):
    return Literal(v)


def var(name):
    return Variable(name)


def ref(*names):
    expr = Variable(names[0])
    for name in names[1:]:
        expr = GetAttr(expr, name)
    return expr


# ----------------------------------------------------------------------------------------------------------------
# Structure

CONFIG = """\
terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
  backend "s3" {
    bucket = "state"
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  type    = string
  default = "us-east-1"
  validation {
    condition     = length(var.region) > 0
    error_message = "Empty."
  }
}

locals {
  name = "serve-${var.region}"
}

data "aws_ami" "ubuntu" {
  most_recent = true
}

resource "aws_instance" "web" {
  ami = data.aws_ami.ubuntu.id
  lifecycle {
    ignore_changes = [tags]
  }
}

module "vpc" {
  source = "./vpc"
}

output "ip" {
  value = aws_instance.web.public_ip
}

moved {
  from = aws_instance.old
  to   = aws_instance.web
}

dynamic_label_block unquoted "mixed" {}
"""


def test_every_block_kind_with_labels_and_spans():
    body = clean(CONFIG).body
    kinds = [(b.type, b.labels) for b in body.blocks]
    assert kinds == [
        ("terraform", ()),
        ("provider", ("aws",)),
        ("variable", ("region",)),
        ("locals", ()),
        ("data", ("aws_ami", "ubuntu")),
        ("resource", ("aws_instance", "web")),
        ("module", ("vpc",)),
        ("output", ("ip",)),
        ("moved", ()),
        ("dynamic_label_block", ("unquoted", "mixed")),
    ]
    terraform, provider, variable, locals_, data, resource, module, output, moved, last = body.blocks
    assert terraform.span == (1, 1, 9, 2)
    assert provider.span == (11, 1, 13, 2)
    assert variable.span == (15, 1, 22, 2)
    assert locals_.span == (24, 1, 26, 2)
    assert data.span == (28, 1, 30, 2)
    assert resource.span == (32, 1, 37, 2)
    assert module.span == (39, 1, 41, 2)
    assert output.span == (43, 1, 45, 2)
    assert moved.span == (47, 1, 50, 2)
    assert last.span == (52, 1, 52, 40)
    assert last.body == Body()

    assert [b.type for b in terraform.body.blocks] == ["required_providers", "backend"]
    required, backend = terraform.body.blocks
    assert required.span == (3, 3, 5, 4)
    assert backend.labels == ("s3",) and backend.span == (6, 3, 8, 4)
    assert strip(required.body.attributes["aws"].expr) == ObjectExpr(
        ((lit("source"), lit("hashicorp/aws")), (lit("version"), lit("~> 5.0")))
    )
    (validation,) = variable.body.blocks_of("validation")
    assert validation.span == (18, 3, 21, 4)
    assert list(variable.body.attributes) == ["type", "default"]
    assert strip(variable.body.attributes["type"].expr) == var("string")
    (lifecycle,) = resource.body.blocks_of("lifecycle")
    assert strip(lifecycle.body.attributes["ignore_changes"].expr) == TupleExpr((var("tags"),))
    assert strip(resource.body.attributes["ami"].expr) == ref("data", "aws_ami", "ubuntu", "id")
    assert strip(moved.body.attributes["to"].expr) == ref("aws_instance", "web")


def test_attributes_have_exact_lines_and_columns():
    text = 'resource "a" "b" {\n  name     = "x"\n  count    = 2 # two\n  tags = {\n    k = 1\n  }\n}\n'
    attrs = clean(text).body.blocks[0].body.attributes
    assert list(attrs) == ["name", "count", "tags"]
    name, count, tags = attrs.values()
    assert name.name_span == (2, 3, 2, 7)
    assert name.span == (2, 3, 2, 17)
    assert name.expr.span == (2, 14, 2, 17)
    assert count.span == (3, 3, 3, 15)
    assert count.expr == Literal(2, (3, 14, 3, 15))
    assert tags.span == (4, 3, 6, 4)
    assert tags.expr.span == (4, 10, 6, 4)
    key, item = tags.expr.items[0]
    assert key == Literal("k", (5, 5, 5, 6)) and item == Literal(1, (5, 9, 5, 10))


def test_columns_count_characters_not_bytes():
    text = 'locals {\n  é = "ünï ${var.x}"\n  b = "日本" /* c */\n  c = var.y\n}\n'
    attrs = clean(text).body.blocks[0].body.attributes
    assert attrs["é"].name_span == (2, 3, 2, 4)
    template = attrs["é"].expr
    assert template.span == (2, 7, 2, 21)
    assert template.parts[1].span == (2, 14, 2, 19)
    assert attrs["b"].expr == Literal("日本", (3, 7, 3, 11))
    assert attrs["c"].expr.span == (4, 7, 4, 12)


def test_tfvars_is_a_body_of_attributes():
    text = 'region = "eu-west-1"\nreplicas = 3\nports = [80, 443]\ntags = {\n  team = "ml"\n}\nenabled = true\n'
    body = clean(text).body
    assert body.blocks == ()
    assert {k: strip(a.expr) for k, a in body.attributes.items()} == {
        "region": lit("eu-west-1"),
        "replicas": lit(3),
        "ports": TupleExpr((lit(80), lit(443))),
        "tags": ObjectExpr(((lit("team"), lit("ml")),)),
        "enabled": lit(True),
    }
    assert body.attributes["tags"].span == (4, 1, 6, 2)


def test_empty_and_comment_only_files():
    assert parse_hcl("") == HclFile(Body())
    assert parse_hcl("# nothing\n// here\n/* or\n here */\n") == HclFile(Body())


def test_duplicate_attribute_is_a_problem_and_the_first_wins():
    parsed = parse_hcl("a = 1\na = 2\n")
    assert parsed.body.attributes["a"].expr.value == 1
    assert [(p.line, p.message) for p in parsed.problems] == [(2, 'duplicate attribute "a"')]


# ----------------------------------------------------------------------------------------------------------------
# Expressions


def test_literals():
    body = clean('a = 1\nb = 1.5\nc = 2.0\nd = true\ne = false\nf = null\ng = "s"\nh = -3\ni = 1e3\nj = 2.5E-1\n'
                 'k = 12345678901234567890\n').body
    values = {name: a.expr.value for name, a in body.attributes.items()}
    assert values == {"a": 1, "b": 1.5, "c": 2, "d": True, "e": False, "f": None, "g": "s", "h": -3, "i": 1000,
                      "j": 0.25, "k": 12345678901234567890}
    assert type(values["c"]) is int and type(values["b"]) is float
    assert body.attributes["h"].expr.span == (8, 5, 8, 7)
    assert body.attributes["i"].expr.span == (9, 5, 9, 8)


def test_exponent_inside_strings_and_names_is_left_alone():
    body = clean('x = "1e3"\ny = a1e3\nz = [1e3, 2]\n').body
    assert body.attributes["x"].expr.value == "1e3"
    assert strip(body.attributes["y"].expr) == var("a1e3")
    assert strip(body.attributes["z"].expr) == TupleExpr((lit(1000), lit(2)))


def test_references_get_attr_and_index():
    assert strip(value("x = var.a.b")) == ref("var", "a", "b")
    expr = value('x = local.m["k"][0].name')
    assert strip(expr) == GetAttr(Index(Index(ref("local", "m"), lit("k")), lit(0)), "name")
    assert expr.span == (1, 5, 1, 25)
    assert expr.target.span == (1, 5, 1, 20)
    assert strip(value("x = aws_instance.web[count.index].id")) == GetAttr(
        Index(ref("aws_instance", "web"), ref("count", "index")), "id")


def test_legacy_index():
    expr = value("x = aws_instance.web.0.private_ip")
    assert strip(expr) == GetAttr(Index(ref("aws_instance", "web"), lit(0)), "private_ip")
    assert expr.target.key == Literal(0, (1, 21, 1, 23))
    assert strip(value("x = a.10")) == Index(var("a"), lit(10))


def test_splats_both_forms():
    full = value("x = aws_instance.web[*].network_interface[0].id")
    assert strip(full) == Splat(ref("aws_instance", "web"), (("attr", "network_interface"), ("index", lit(0)),
                                                             ("attr", "id")))
    assert full.span == (1, 5, 1, 48)
    attr = value("x = aws_instance.web.*.tags.Name")
    assert strip(attr) == Splat(ref("aws_instance", "web"), (("attr", "tags"), ("attr", "Name")))
    assert strip(value("x = a.*.b.0")) == Splat(var("a"), (("attr", "b"), ("index", lit(0))))
    # hclsyntax ends an attribute-only splat at the first [i]: it indexes the splat's result
    ended = value("x = a.*.b[0].c")
    assert strip(ended) == GetAttr(Index(Splat(var("a"), (("attr", "b"),)), lit(0)), "c")
    assert ended.target.target.span == (1, 5, 1, 10)
    assert strip(value("x = a[*]")) == Splat(var("a"), ())
    assert strip(value("x = a.*")) == Splat(var("a"), ())


def test_function_calls():
    expr = value('x = merge(local.a, { b = 1 }, [for m in var.ms : m]...)')
    assert isinstance(expr, Call) and expr.name == "merge" and expr.expand_last
    assert len(expr.args) == 3 and expr.span == (1, 5, 1, 56)
    assert strip(value("x = f()")) == Call("f", ())
    assert strip(value("x = lower(upper(var.s))")) == Call("lower", (Call("upper", (ref("var", "s"),)),))
    assert strip(value("x = concat(var.a, var.b,)")) == Call("concat", (ref("var", "a"), ref("var", "b")))


def test_provider_defined_function_names():
    expr = value('x = provider::aws::arn_parse(aws_iam_role.r.arn).account_id')
    assert strip(expr) == GetAttr(Call("provider::aws::arn_parse", (ref("aws_iam_role", "r", "arn"),)),
                                  "account_id")
    assert expr.target.span == (1, 5, 1, 49)


def test_collections():
    assert strip(value("x = [1, \"a\", [true],]")) == TupleExpr((lit(1), lit("a"), TupleExpr((lit(True),))))
    assert strip(value("x = []")) == TupleExpr(())
    assert strip(value("x = {}")) == ObjectExpr(())
    obj = value('x = {\n  a = 1,\n  "b" : 2\n  (local.k) = 3\n  c.d = 4\n  true = 5\n}')
    assert strip(obj) == ObjectExpr((
        (lit("a"), lit(1)),
        (lit("b"), lit(2)),
        (ref("local", "k"), lit(3)),
        (ref("c", "d"), lit(4)),
        (lit(True), lit(5)),
    ))
    assert obj.items[2][0].span == (4, 4, 4, 11)


def test_operators_precedence_and_parentheses():
    assert strip(value("x = 1 + 2 * 3")) == Binary("+", lit(1), Binary("*", lit(2), lit(3)))
    assert strip(value("x = (1 + 2) * 3")) == Binary("*", Binary("+", lit(1), lit(2)), lit(3))
    assert strip(value("x = a == b && c != d || !e")) == Binary(
        "||", Binary("&&", Binary("==", var("a"), var("b")), Binary("!=", var("c"), var("d"))), Unary("!", var("e")))
    assert strip(value("x = a - b - c")) == Binary("-", Binary("-", var("a"), var("b")), var("c"))
    assert strip(value("x = a % 2 >= 1")) == Binary(">=", Binary("%", var("a"), lit(2)), lit(1))
    assert strip(value("x = -a.b")) == Unary("-", ref("a", "b"))
    assert strip(value("x = -(a)")) == Unary("-", var("a"))
    assert strip(value("x = -(1)")) == lit(-1)  # hclsyntax folds a negated number literal
    assert strip(value("x = (a).b")) == GetAttr(var("a"), "b")
    expr = value("x = (var.a + 1) * 2")
    assert expr.span == (1, 5, 1, 20) and expr.left.span == (1, 6, 1, 15)


def test_conditionals():
    expr = value("x = var.on ? 1 : var.other ? 2 : 3")
    assert strip(expr) == Conditional(ref("var", "on"), lit(1), Conditional(ref("var", "other"), lit(2), lit(3)))
    assert expr.span == (1, 5, 1, 35)
    assert strip(value("x = a > 1 ? [a] : []")) == Conditional(Binary(">", var("a"), lit(1)), TupleExpr((var("a"),)),
                                                               TupleExpr(()))


def test_for_expressions():
    assert strip(value("x = [for s in var.list : upper(s)]")) == ForExpr(
        None, "s", ref("var", "list"), Call("upper", (var("s"),)))
    assert strip(value("x = [for i, s in var.list : s if i > 0]")) == ForExpr(
        "i", "s", ref("var", "list"), var("s"), condition=Binary(">", var("i"), lit(0)))
    assert strip(value("x = {for k, v in var.map : k => v}")) == ForExpr(
        "k", "v", ref("var", "map"), var("v"), key=var("k"))
    grouped = value('x = {for u in var.users : u.role => u.name... if u.active}')
    assert strip(grouped) == ForExpr(None, "u", ref("var", "users"), ref("u", "name"), key=ref("u", "role"),
                                     condition=ref("u", "active"), group=True)
    assert grouped.span == (1, 5, 1, 59)
    multiline = value("x = [\n  for s in var.l :\n  s\n]")
    assert multiline.span == (1, 5, 4, 2) and multiline.value.span == (3, 3, 3, 4)


def test_comments_inside_expressions_are_ignored():
    expr = value("x = [\n  1, # one\n  /* two */ 2,\n  // three\n]\n")
    assert strip(expr) == TupleExpr((lit(1), lit(2)))


# ----------------------------------------------------------------------------------------------------------------
# Templates


def test_plain_strings_are_literals_and_single_interpolations_pass_through():
    assert value('x = "plain"') == Literal("plain", (1, 5, 1, 12))
    assert value('x = ""') == Literal("", (1, 5, 1, 7))
    passthrough = value('x = "${var.port}"')
    assert strip(passthrough) == ref("var", "port") and passthrough.span == (1, 8, 1, 16)
    assert strip(value('x = "${a} "')) == Template((var("a"), " "))


def test_template_parts_and_spans():
    expr = value('x = "http://${var.host}:${var.port}/v1"')
    assert strip(expr) == Template(("http://", ref("var", "host"), ":", ref("var", "port"), "/v1"))
    assert expr.span == (1, 5, 1, 40)
    assert expr.parts[1].span == (1, 15, 1, 23)
    assert expr.parts[3].span == (1, 27, 1, 35)


def test_escapes():
    expr = value(r'x = "a\nb\t\"q\" \\ \u00e9\U0001F600 $${not} %%{not} ${y}"')
    assert strip(expr) == Template(('a\nb\t"q" \\ é\U0001F600 ${not} %{not} ', var("y")))
    assert value(r'x = "\r"').value == "\r"
    assert value('x = "$$" ').value == "$$"


def test_invalid_escape_is_a_problem():
    parsed = parse_hcl('x = "bad \\q"\ny = 1\n')
    assert [(p.line, p.column, p.message) for p in parsed.problems] == [(1, 10, 'invalid escape sequence "\\q"')]
    assert parsed.body.attributes["y"].expr.value == 1


def test_strip_markers():
    assert strip(value('x = "a ${~ b ~} c"')) == Template(("a", var("b"), "c"))
    assert strip(value('x = "%{ if c ~}  yes  %{~ endif } !"')) == Template(
        (TemplateIf(var("c"), ("yes",), ()), " !"))


def test_directives_in_quoted_templates():
    expr = value('x = "%{ if var.tls }https%{ else }http%{ endif }://%{ for i, h in var.hosts }${i}=${h},%{ endfor }"')
    assert strip(expr) == Template((
        TemplateIf(ref("var", "tls"), ("https",), ("http",)),
        "://",
        TemplateFor("i", "h", ref("var", "hosts"), (var("i"), "=", var("h"), ",")),
    ))
    assert expr.parts[0].span == (1, 6, 1, 49)
    assert expr.parts[2].span == (1, 52, 1, 99)
    assert strip(value('x = "%{ for v in l }${v}%{ endfor }"')) == Template((TemplateFor(None, "v", var("l"),
                                                                                          (var("v"),)),))
    assert strip(value('x = "%{ if a }%{ if b }ab%{ endif }%{ endif }"')) == Template(
        (TemplateIf(var("a"), (TemplateIf(var("b"), ("ab",), ()),), ()),))


def test_heredoc_keeps_text_as_is():
    expr = value("x = <<EOT\n  #!/bin/sh\n  echo \"${var.msg}\" \\n\nEOT\n")
    assert strip(expr) == Template(('  #!/bin/sh\n  echo "', ref("var", "msg"), '" \\n\n'))
    assert expr.span == (1, 5, 4, 4)
    assert expr.parts[1].span == (3, 11, 3, 18)
    assert value("x = <<EOT\nplain\nEOT\n") == Literal("plain\n", (1, 5, 3, 4))
    assert value("x = <<EOT\nEOT\n").value == ""
    assert value("x = <<EOT\n  a\n  EOT\n").value == "  a\n"  # an indented closing marker
    assert strip(value("x = <<EOT\n${a}\nEOT\n")) == Template((var("a"), "\n"))
    assert value("x = <<EOT\n$${a} %%{b} \\n\nEOT\n").value == "${a} %{b} \\n\n"


def test_flush_heredoc_strips_common_indentation():
    text = "x = <<-EOT\n    server {\n      listen ${var.port};\n\n    }\n  EOT\n"
    expr = value(text)
    assert strip(expr) == Template(("server {\n  listen ", ref("var", "port"), ";\n\n}\n"))
    assert expr.parts[1].span == (3, 16, 3, 24)
    assert value("x = <<-EOT\n\tone\n\t  two\n\tEOT\n").value == "one\n  two\n"
    # a line that starts with an interpolation has no indentation, so nothing is stripped
    assert strip(value("x = <<-EOT\n    a\n${b}\nEOT\n")) == Template(("    a\n", var("b"), "\n"))


def test_heredoc_with_directives():
    text = """\
x = <<-EOT
  %{ if var.debug }
  log_level = debug
  %{ endif }
  %{ for name, port in var.ports }
  ${name} = ${port}
  %{ endfor }
EOT
"""
    expr = value(text)
    assert strip(expr) == Template((
        TemplateIf(ref("var", "debug"), ("\nlog_level = debug\n",), ()),
        "\n",
        TemplateFor("name", "port", ref("var", "ports"), ("\n", var("name"), " = ", var("port"), "\n")),
        "\n",
    ))
    assert expr.parts[0].span == (2, 3, 4, 13)
    assert expr.parts[2].span == (5, 3, 7, 14)
    assert expr.parts[2].body[1].span == (6, 5, 6, 9)


def test_flush_heredoc_and_strip_markers_interact_as_in_terraform():
    # hashicorp/terraform#23710: a strip marker that empties the indentation token of the next line stops
    # that line from counting as a line, so its indentation survives. Terraform does this; so do we.
    text = "x = <<-EOT\n  %{ for s in var.l ~}\n  ${s}\n  %{ endfor }\nEOT\n"
    assert strip(value(text)) == Template((TemplateFor(None, "s", ref("var", "l"), ("  ", var("s"), "\n")), "\n"))


# ----------------------------------------------------------------------------------------------------------------
# Syntax errors


def test_stray_brace_is_reported_and_the_rest_recovered():
    text = 'resource "a" "one" {\n  x = 1\n}\n}\nresource "a" "two" {\n  y = 2\n}\nvariable "v" {}\n'
    parsed = parse_hcl(text)
    assert [(p.line, p.column, p.message) for p in parsed.problems] == [(4, 1, 'unexpected "}"')]
    assert [(b.type, b.labels, b.span) for b in parsed.body.blocks] == [
        ("resource", ("a", "one"), (1, 1, 3, 2)),
        ("resource", ("a", "two"), (5, 1, 7, 2)),
        ("variable", ("v",), (8, 1, 8, 16)),
    ]
    assert parsed.body.blocks[1].body.attributes["y"].span == (6, 3, 6, 8)


def test_error_inside_a_block_keeps_the_other_attributes():
    text = 'resource "a" "b" {\n  x = = 1\n  z = 4\n}\n\noutput "o" {\n  value = 1\n}\n'
    parsed = parse_hcl(text)
    assert [(p.line, p.column, p.message) for p in parsed.problems] == [(2, 7, 'unexpected "="')]
    resource, output = parsed.body.blocks
    assert list(resource.body.attributes) == ["z"]
    assert resource.body.attributes["z"].span == (3, 3, 3, 8)
    assert output.body.attributes["value"].expr.value == 1


def test_missing_equals_and_missing_value():
    parsed = parse_hcl('resource "a" "b" {\n  x = 1\n  oops\n  y = 2\n}\n')
    assert [(p.line, p.column, p.message) for p in parsed.problems] == [(3, 7, 'expected "=" after "oops"')]
    assert list(parsed.body.blocks[0].body.attributes) == ["x", "y"]
    parsed = parse_hcl("a = 1\nb =\nc = 3\n")
    assert [(p.line, p.message) for p in parsed.problems] == [(2, "expected an expression")]
    assert list(parsed.body.attributes) == ["a", "c"]


def test_missing_closing_bracket_and_brace():
    parsed = parse_hcl('resource "a" "b" {\n  x = [1, 2\n  z = 4\n}\n')
    assert [(p.line, p.column, p.message) for p in parsed.problems] == [(2, 12, 'missing "]"')]
    attrs = parsed.body.blocks[0].body.attributes
    assert strip(attrs["x"].expr) == TupleExpr((lit(1), lit(2))) and attrs["z"].expr.value == 4
    parsed = parse_hcl('resource "a" "b" {\n  x = 1\n\nresource "c" "d" {\n  y = 2\n}\n')
    assert [(p.line, p.message) for p in parsed.problems] == [(2, 'missing "}"')]
    assert [b.labels for b in parsed.body.blocks] == [("a", "b"), ("c", "d")]


def test_unterminated_string():
    parsed = parse_hcl('x = "abc\ny = 2\n')
    assert [(p.line, p.message) for p in parsed.problems] == [(1, "missing closing quote")]
    assert parsed.body.attributes["y"].expr.value == 2


def test_recovery_does_not_split_constructs_that_parsed():
    text = 'locals {\n  p = jsonencode({\nStatement = []\n  })\n}\n}\nresource "a" "b" {\n  x = 1\n}\n'
    parsed = parse_hcl(text)
    assert [(p.line, p.message) for p in parsed.problems] == [(6, 'unexpected "}"')]
    locals_, resource = parsed.body.blocks
    assert strip(locals_.body.attributes["p"].expr) == Call("jsonencode", (ObjectExpr(((lit("Statement"),
                                                                                        TupleExpr(())),)),))
    assert resource.span == (7, 1, 9, 2)


def test_heredoc_marker_lines_do_not_split_recovery():
    text = 'x = <<EOT\nresource "not" "a block" {\nEOT\n}\ny = 1\n'
    parsed = parse_hcl(text)
    assert [(p.line, p.message) for p in parsed.problems] == [(4, 'unexpected "}"')]
    assert parsed.body.attributes["x"].expr.value == 'resource "not" "a block" {\n'
    assert parsed.body.attributes["y"].expr.value == 1


@pytest.mark.parametrize("text", [
    "\x00\x01\x02",
    "}}}}",
    "{{{{",
    '"' * 7,
    "resource",
    'resource "a" "b"',
    "x = ${",
    'x = "${',
    'x = "%{ if }"',
    'x = "%{ endif }"',
    'x = "%{ for }${x}"',
    "x = <<EOT\nno end",
    "x = <<-\n",
    "x = [for",
    "x = {for k, v in m : k => }",
    "x = a.*.[0]",
    "x = f(...)",
    "x = 1 +",
    "x = ? :",
    "x = a[",
    "x = provider::",
    "block { x = 1 ",
    "\ufeffa = 1",
    "a = 1\r\nb = 2\r\n",
    "é = ü ? 日 : 本",
    "x = \"\udcff\"",
])
def test_garbage_never_raises(text):
    parsed = parse_hcl(text)
    assert isinstance(parsed, HclFile)
    for problem in parsed.problems:
        assert problem.line >= 1 and problem.column >= 1 and problem.message


def test_random_garbage_never_raises():
    rng = random.Random(1234)
    alphabet = 'abcxyz_019 \n\t{}[]()"=:,.*?!<>-+%/\\$~#@&|^\'`éü'
    pieces = ['resource "a" "b" {', "}", "${", "%{ if x }", "%{ endif }", "<<EOT\n", "\nEOT\n", "<<-X\n",
              "[for x in y :", "=>", "...", "[*]", ".*", "/*", "*/", "//", "#", '"', "\\", "1e3", "provider::", "\r\n"]
    for _ in range(300):
        parts = [rng.choice(pieces) if rng.random() < 0.3 else rng.choice(alphabet) for _ in range(rng.randint(0, 80))]
        parsed = parse_hcl("".join(parts))
        assert isinstance(parsed, HclFile)


def test_deep_nesting_is_reported_not_raised():
    limit = sys.getrecursionlimit()
    for text in [
        "x = " + "[" * 10_000 + "]" * 10_000,
        "x = " + "{a = " * 5_000 + "1" + "}" * 5_000,
        "x = " + "(" * 5_000 + "1" + ")" * 5_000,
        "x = " + "f(" * 5_000 + ")" * 5_000,
        "x = " + " + ".join(["1"] * 5_000),
        "x = " + "-" * 5_000 + "a",
        "x = " + "a ? 1 : " * 5_000 + "2",
        "x = a" + "[a" * 5_000 + "]" * 5_000,
        "x = a" + ".b" * 5_000,
        "x = a" + "[0]" * 5_000,
        'x = "' + "%{ if a }" * 1_000 + "%{ endif }" * 1_000 + '"',
        "b {\n" * 5_000 + "}\n" * 5_000,
    ]:
        parsed = parse_hcl(text)
        assert [p.message for p in parsed.problems] == [f"nesting too deep (more than {MAX_DEPTH} levels)"], text[:40]
    assert sys.getrecursionlimit() == limit


def test_nesting_below_the_limit_is_fine():
    depth = MAX_DEPTH - 5
    expr = value("x = " + "[" * depth + "]" * depth)
    for _ in range(depth - 1):
        (expr,) = expr.items
    assert expr == TupleExpr((), (1, 4 + depth, 1, 6 + depth))
    body = clean("b {\n" * depth + "}\n" * depth).body
    assert len(body.blocks) == 1


# ----------------------------------------------------------------------------------------------------------------
# JSON syntax

TF_JSON = """\
{
  "//": "generated",
  "terraform": {
    "required_providers": {"aws": {"source": "hashicorp/aws"}},
    "backend": {"s3": {"bucket": "state"}}
  },
  "variable": {
    "region": {
      "type": "string",
      "default": "us-east-1",
      "validation": {"condition": "${length(var.region) > 0}", "error_message": "Empty."}
    }
  },
  "locals": {"name": "serve-${var.region}", "replicas": 3, "literal": "$${not} %%{not}"},
  "resource": {
    "aws_security_group": {
      "web": {
        "name": "web",
        "tags": {"Name": "web", "${local.name}": true},
        "ingress": [{"from_port": 22, "cidr_blocks": ["0.0.0.0/0"]}, {"from_port": 443}],
        "lifecycle": {"ignore_changes": ["tags"]},
        "provisioner": [{"local-exec": {"command": "echo %{ if true }on%{ endif }"}}],
        "dynamic": {"rule": {"for_each": "${var.rules}", "content": {"port": "${rule.value}"}}},
        "egress": []
      }
    }
  },
  "data": [{"aws_ami": {"u": {"most_recent": true}}}],
  "provider": {"aws": [{"region": "us-east-1"}, {"alias": "west", "region": "us-west-2"}]},
  "module": {"m": {"source": "./m", "count": 2}},
  "output": {"id": {"value": "${aws_security_group.web.id}", "precondition": {"condition": true}}}
}
"""


def test_json_blocks_labels_and_spans():
    parsed = parse_hcl_json(TF_JSON)
    assert parsed.problems == ()
    blocks = parsed.body.blocks
    assert [(b.type, b.labels) for b in blocks] == [
        ("terraform", ()),
        ("variable", ("region",)),
        ("locals", ()),
        ("resource", ("aws_security_group", "web")),
        ("data", ("aws_ami", "u")),
        ("provider", ("aws",)),
        ("provider", ("aws",)),
        ("module", ("m",)),
        ("output", ("id",)),
    ]
    terraform, variable, locals_, resource, data, provider, provider_west, module, output = blocks
    assert terraform.span == (3, 3, 6, 4)
    assert variable.span == (8, 5, 12, 6)
    assert resource.span == (17, 7, 25, 8)
    assert data.span == (28, 25, 28, 51)
    assert provider.span == (29, 24, 29, 47) and provider_west.span == (29, 49, 29, 89)
    assert provider_west.body.attributes["alias"].expr.value == "west"
    assert module.body.attributes["count"].expr == Literal(2, (30, 46, 30, 47))
    assert [b.type for b in terraform.body.blocks] == ["required_providers", "backend"]
    assert terraform.body.blocks[1].labels == ("s3",)
    assert [b.type for b in variable.body.blocks] == ["validation"]
    assert [b.type for b in output.body.blocks] == ["precondition"]


def test_json_attributes_and_spans():
    parsed = parse_hcl_json(TF_JSON)
    variable = parsed.body.blocks[1]
    default = variable.body.attributes["default"]
    assert default.name_span == (10, 7, 10, 16)
    assert default.span == (10, 7, 10, 29)
    assert default.expr == Literal("us-east-1", (10, 18, 10, 29))
    locals_ = parsed.body.blocks[2]
    assert list(locals_.body.attributes) == ["name", "replicas", "literal"]
    assert locals_.span == (14, 3, 14, 89)
    assert locals_.body.attributes["replicas"].expr == Literal(3, (14, 57, 14, 58))
    assert locals_.body.attributes["literal"].expr.value == "${not} %{not}"


def test_json_nested_block_rule():
    resource = parse_hcl_json(TF_JSON).body.blocks[3]
    body = resource.body
    assert list(body.attributes) == ["name", "tags", "egress"]
    assert strip(body.attributes["tags"].expr) == ObjectExpr(
        ((lit("Name"), lit("web")), (ref("local", "name"), lit(True))))
    assert strip(body.attributes["egress"].expr) == TupleExpr(())
    assert [(b.type, b.labels) for b in body.blocks] == [
        ("ingress", ()), ("ingress", ()), ("lifecycle", ()), ("provisioner", ("local-exec",)), ("dynamic", ("rule",)),
    ]
    first, second, lifecycle, provisioner, dynamic = body.blocks
    assert first.span == (20, 21, 20, 68) and second.span == (20, 70, 20, 88)
    assert strip(first.body.attributes["cidr_blocks"].expr) == TupleExpr((lit("0.0.0.0/0"),))
    assert strip(lifecycle.body.attributes["ignore_changes"].expr) == TupleExpr((var("tags"),))
    assert strip(provisioner.body.attributes["command"].expr) == Template(("echo ", TemplateIf(lit(True), ("on",), ())))
    assert strip(dynamic.body.attributes["for_each"].expr) == ref("var", "rules")
    (content,) = dynamic.body.blocks
    assert content.type == "content"
    assert strip(content.body.attributes["port"].expr) == ref("rule", "value")


def test_json_templates_have_spans_inside_the_string():
    parsed = parse_hcl_json(TF_JSON)
    condition = parsed.body.blocks[1].body.blocks[0].body.attributes["condition"].expr
    assert strip(condition) == Binary(">", Call("length", (ref("var", "region"),)), lit(0))
    assert condition.span == (11, 38, 11, 60)
    name = parsed.body.blocks[2].body.attributes["name"].expr
    assert strip(name) == Template(("serve-", ref("var", "region")))
    assert name.span == (14, 22, 14, 43)
    assert name.parts[1].span == (14, 31, 14, 41)


def test_json_template_spans_account_for_escapes():
    text = '{"locals": {"a": "\\t\\"${upper(\\"x\\")}\\u00e9${var.b}"}}'
    expr = parse_hcl_json(text).body.blocks[0].body.attributes["a"].expr
    assert strip(expr) == Template(('\t"', Call("upper", (lit("x"),)), "é", ref("var", "b")))
    # {"locals": {"a": "\t\"${upper(\"x\")}\u00e9${var.b}"}}
    #                   ^18  ^23             ^37   ^43
    assert expr.span == (1, 18, 1, 53)
    assert expr.parts[1].span == (1, 25, 1, 37)
    assert expr.parts[3].span == (1, 46, 1, 51)


def test_json_multiline_template():
    text = '{"output": {"o": {"value": "%{ for x in var.l }\\n${x}%{ endfor }"}}}'
    expr = parse_hcl_json(text).body.blocks[0].body.attributes["value"].expr
    assert strip(expr) == Template((TemplateFor(None, "x", ref("var", "l"), ("\n", var("x"))),))
    assert expr.parts[0].body[1].span == (1, 52, 1, 53)


def test_tfvars_json():
    text = '{\n  "region": "eu-west-1",\n  "tags": {"team": "${x}"},\n  "sizes": [1, 2.5]\n}\n'
    for parsed in (parse_hcl_json(text, tfvars=True), parse_hcl_json(text)):
        assert parsed.problems == () and parsed.body.blocks == ()
        attrs = parsed.body.attributes
        assert attrs["region"].span == (2, 3, 2, 24)
        assert strip(attrs["tags"].expr) == ObjectExpr(((lit("team"), var("x")),))
        assert strip(attrs["sizes"].expr) == TupleExpr((lit(1), lit(2.5)))
    assert parse_hcl_json('{"resource": {}}', tfvars=True).body.attributes["resource"].expr.items == ()


def test_json_errors_keep_what_parsed():
    text = '{\n  "locals": {"a": 1},\n  "resource": {\n    "t": {"n": {"x": 1,}}\n  },\n  "variable": {"v": {}}\n}'
    parsed = parse_hcl_json(text)
    assert [(p.line, p.column) for p in parsed.problems] == [(4, 24)]
    assert "property name" in parsed.problems[0].message
    assert [(b.type, b.labels) for b in parsed.body.blocks] == [("locals", ()), ("resource", ("t", "n"))]
    assert parsed.body.blocks[1].body.attributes["x"].expr.value == 1


@pytest.mark.parametrize("text, message", [
    ("", "unexpected end of JSON input"),
    ("[1, 2]", "the root of a Terraform JSON file must be an object"),
    ('{"a": 1} x', "unexpected data after the JSON value"),
    ('{"a": tru}', "unexpected 't' in JSON"),
    ('{"a": "\\x"}', "invalid JSON string"),
    ('{"resource": "x"}', 'expected an object for "resource"'),
    ('{"locals": {"a": "${"}}', None),
    ('{"a": ' * 300 + "1" + "}" * 300, f"nesting too deep (more than {MAX_DEPTH} levels)"),
    ('{"locals": {"a": ' + "[" * 5000 + "]" * 5000 + "}}", f"nesting too deep (more than {MAX_DEPTH} levels)"),
])
def test_json_problems_never_raise(text, message):
    parsed = parse_hcl_json(text)
    assert parsed.problems
    if message is not None:
        assert parsed.problems[0].message.startswith(message), parsed.problems


def test_json_and_native_agree():
    native = parse_hcl('resource "aws_s3_bucket" "b" {\n  bucket = "logs-${var.env}"\n  tags = { team = "ml" }\n'
                       '  versioning {\n    enabled = true\n  }\n}\n')
    doc = {"resource": {"aws_s3_bucket": {"b": {"bucket": "logs-${var.env}", "tags": {"team": "ml"},
                                                "versioning": [{"enabled": True}]}}}}
    from_json = parse_hcl_json(json.dumps(doc, indent=2))
    assert native.problems == () and from_json.problems == ()

    def shape(body: Body):
        return ({k: strip(a.expr) for k, a in body.attributes.items()},
                [(b.type, b.labels, shape(b.body)) for b in body.blocks])

    assert shape(native.body) == shape(from_json.body)


def test_results_are_plain_values():
    parsed = parse_hcl('resource "a" "b" { x = 1 }')
    block = parsed.body.blocks[0]
    assert isinstance(block, Block) and isinstance(block.body.attributes["x"], Attribute)
    hash(parsed.problems)


def test_json_meta_arguments_hold_native_expressions():
    text = (
        '{"variable": {"v": {"type": "map(list(string))"}},\n'
        ' "resource": {"a": {"b": {"depends_on": ["aws_iam_role.r"], "provider": "aws.west",\n'
        '   "lifecycle": {"ignore_changes": "all", "replace_triggered_by": ["null_resource.x.id"]}}}},\n'
        ' "module": {"m": {"source": "./m", "providers": {"aws": "aws.west"}}},\n'
        ' "moved": {"from": "aws_x.a", "to": "aws_x.b[\\"k\\"]"}}'
    )
    parsed = parse_hcl_json(text)
    assert parsed.problems == ()
    variable, resource, module, moved = parsed.body.blocks
    type_expr = variable.body.attributes["type"].expr
    assert strip(type_expr) == Call("map", (Call("list", (var("string"),)),))
    assert type_expr.span == (1, 30, 1, 47)
    assert strip(resource.body.attributes["depends_on"].expr) == TupleExpr((ref("aws_iam_role", "r"),))
    assert strip(resource.body.attributes["provider"].expr) == ref("aws", "west")
    (lifecycle,) = resource.body.blocks
    assert strip(lifecycle.body.attributes["ignore_changes"].expr) == var("all")
    assert strip(lifecycle.body.attributes["replace_triggered_by"].expr) == TupleExpr(
        (ref("null_resource", "x", "id"),))
    assert strip(module.body.attributes["providers"].expr) == ObjectExpr(((lit("aws"), ref("aws", "west")),))
    assert strip(module.body.attributes["source"].expr) == lit("./m")
    to = moved.body.attributes["to"].expr
    assert strip(to) == Index(ref("aws_x", "b"), lit("k"))
    assert to.span == (5, 38, 5, 52)
    parsed = parse_hcl_json('{"output": {"o": {"value": 1, "depends_on": ["bad ="]}}}')
    assert [(p.line, p.column, p.message) for p in parsed.problems] == [(1, 51, 'unexpected "="')]
