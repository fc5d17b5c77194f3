"""Property-based fuzzing of the loaders and of location mapping, on a bounded budget.

Two kinds of input: arbitrary text (the loaders must never raise, and every problem they report must lie in
the file), and generated documents whose source text is known (the loaded values must equal what was
written, and every span must cover exactly the text of its key or value). The location properties go
through the whole scan: a finding's line lies inside its file and points at the key the finding names.

CI runs a fixed, derandomised set of examples. To fuzz for longer with fresh randomness:
``SERVEGATE_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest tests/test_fuzz.py``.
"""

from __future__ import annotations

import json
import os
import string
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servegate.model.terraform.plan import plan_resources
from servegate.render import RenderOptions
from servegate.scan import ScanOptions, scan
from servegate.sources import hcl_ast as ast
from servegate.sources.hcl_loader import parse_hcl, parse_hcl_json
from servegate.sources.located import LDict, LList, TooDeep, located_from_plain
from servegate.sources.yaml_loader import MAX_DEPTH, load_documents, load_json_documents

EXAMPLES = os.environ.get("SERVEGATE_FUZZ_EXAMPLES")
FUZZ = settings(max_examples=int(EXAMPLES or 40), deadline=None, derandomize=EXAMPLES is None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
NO_RENDER = RenderOptions(skip_render=True)

# Text that stresses parsers: YAML and HCL syntax characters, quotes, escapes, tabs, CRs, non-ASCII.
SYNTAX = st.lists(st.sampled_from(list(":-?[]{},#&*!|>'\"%@`${}=\\/.<~ \t\r\n\x00\x85abcé1ü0") +
                                  ["\u2028", "---", "...", "<<", "${x}", "%{if}", "<<EOT\n", "EOT", "\ufeff"]),
                  max_size=150).map("".join)


def _lines(text: str) -> int:
    return text.count("\n") + 1


def _slice(text: str, line: int, column: int, end_line: int, end_column: int) -> str:
    """The text between two 1-based (line, column) positions, columns counting characters."""
    lines = text.split("\n")
    start = sum(len(x) + 1 for x in lines[: line - 1]) + column - 1
    end = sum(len(x) + 1 for x in lines[: end_line - 1]) + end_column - 1
    return text[start:end]


# ---------------------------------------------------------------------------------------------------------------
# YAML and JSON


@FUZZ
@given(SYNTAX)
def test_yaml_loader_never_raises_and_reports_lines_in_the_file(text: str):
    for load in (load_documents, load_json_documents):
        documents, error = load(text)
        assert error is None or 1 <= error.line <= _lines(text)
        assert all(1 <= document.line <= _lines(text) for document in documents)


# Any character but surrogates and NEL, which PyYAML's emitter writes raw where it reads back as a line break.
_CHARACTERS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x85")
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40),
                     st.floats(allow_nan=False, allow_infinity=False), st.text(_CHARACTERS, max_size=12))
_KEYS = st.one_of(st.text(_CHARACTERS, min_size=1, max_size=10), st.integers(-100, 100), st.booleans())
_TREES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(_KEYS, inner, max_size=4)), max_leaves=20)


def _spans_cover_their_text(node: Any, text: str, parse) -> None:
    """Each single-line span of a scalar key or value covers exactly the text that parses to it."""
    if isinstance(node, LDict):
        for key, value in node.items():
            key_span = node.key_spans[key]
            assert 1 <= key_span[0] <= _lines(text)
            if key_span[0] == key_span[2]:
                assert parse(_slice(text, *key_span[:4])) == key
            value_span = node.value_spans[key]
            if not isinstance(value, (LDict, LList)) and value_span[0] == value_span[2]:
                assert parse(_slice(text, *value_span[:4])) == value
            _spans_cover_their_text(value, text, parse)
    elif isinstance(node, LList):
        for item, span in zip(node, node.item_spans, strict=True):
            if not isinstance(item, (LDict, LList)) and span[0] == span[2]:
                assert parse(_slice(text, *span[:4])) == item
            _spans_cover_their_text(item, text, parse)


@FUZZ
@given(st.lists(_TREES, min_size=1, max_size=3), st.sampled_from([False, True, None]), st.sampled_from([2, 4]),
       st.booleans(), st.integers(0, 3))
def test_yaml_documents_load_as_written_with_exact_spans(trees, flow, indent, unicode, blank_lines):
    text = "\n" * blank_lines + yaml.safe_dump_all(trees, default_flow_style=flow, indent=indent,
                                                   allow_unicode=unicode, sort_keys=False, explicit_start=True)
    documents, error = load_documents(text)
    assert error is None
    assert [document.data for document in documents] == trees
    for document in documents:
        _spans_cover_their_text(document.data, text, yaml.safe_load)


_JSON_TREES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.text(max_size=12)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20)


@FUZZ
@given(_JSON_TREES, st.sampled_from([None, 1, "\t"]), st.booleans())
def test_json_documents_load_as_written_with_exact_spans(tree, indent, ascii_only):
    text = json.dumps(tree, indent=indent, ensure_ascii=ascii_only)
    documents, error = load_json_documents(text)
    assert error is None
    assert documents[0].data == tree
    _spans_cover_their_text(documents[0].data, text.replace("\t", " "), json.loads)


@FUZZ
@given(st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False, allow_infinity=False),
              st.text(max_size=12)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20))
def test_admitted_objects_are_located_as_in_their_indented_json(tree):
    """The admission webhook builds the located tree of an object without text: its spans must be those of
    the object printed as indented JSON."""
    located = located_from_plain(tree, MAX_DEPTH)
    assert located == tree
    _spans_cover_their_text(located, json.dumps(tree, indent=2, ensure_ascii=False), json.loads)


def test_located_objects_nest_no_deeper_than_the_loaders_allow():
    for levels in (MAX_DEPTH, MAX_DEPTH + 1):
        deep: Any = "leaf"
        for _ in range(levels):
            deep = [deep]
        _, error = load_json_documents(json.dumps(deep))
        if levels <= MAX_DEPTH:
            assert error is None and located_from_plain(deep, MAX_DEPTH) == deep
        else:
            assert error is not None and "deeper" in error.message
            with pytest.raises(TooDeep):
                located_from_plain(deep, MAX_DEPTH)


# ---------------------------------------------------------------------------------------------------------------
# HCL


def _within(span: ast.Span, text: str) -> bool:
    return 1 <= span[0] <= span[2] <= _lines(text) + 1


def _all_spans(body: ast.Body):
    for attribute in body.attributes.values():
        yield attribute.span
        yield attribute.name_span
    for block in body.blocks:
        yield block.span
        yield from _all_spans(block.body)


@FUZZ
@given(SYNTAX)
def test_hcl_loaders_never_raise_and_stay_inside_the_file(text: str):
    for parsed in (parse_hcl(text), parse_hcl_json(text), parse_hcl_json(text, tfvars=True)):
        assert all(1 <= problem.line <= _lines(text) + 1 for problem in parsed.problems)
        assert all(_within(span, text) for span in _all_spans(parsed.body))


_NAMES = st.from_regex(r"[a-z_][a-z0-9_-]{0,8}", fullmatch=True).filter(
    lambda name: name not in {"true", "false", "null", "for", "in", "if"})
_HCL_SCALARS = st.one_of(st.booleans(), st.none(), st.integers(0, 2**50),
                         st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12))


def _hcl_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "$${").replace("%{", "%%{")
    return f'"{escaped}"'


@st.composite
def _hcl_bodies(draw, depth: int = 0) -> tuple[str, dict[str, Any], list]:
    """HCL text of a body, the scalar value of each attribute, and the (type, labels, nested) of each block."""
    names = draw(st.lists(_NAMES, unique=True, max_size=5))
    lines, attributes, blocks = [], {}, []
    pad = "  " * depth
    for name in names:
        if depth < 3 and draw(st.booleans()):
            labels = draw(st.lists(st.text(string.ascii_letters + "é-_ .", max_size=6), max_size=2))
            inner_text, inner_attributes, inner_blocks = draw(_hcl_bodies(depth + 1))
            quoted = "".join(f' "{label}"' for label in labels)
            lines.append(f"{pad}{name}{quoted} {{\n{inner_text}{pad}}}")
            blocks.append((name, tuple(labels), inner_attributes, inner_blocks))
        else:
            value = draw(_HCL_SCALARS)
            spacing = draw(st.sampled_from([" = ", "=", "   =   "]))
            comment = draw(st.sampled_from(["", " # note", " // note", " /* note */"]))
            lines.append(f"{pad}{name}{spacing}{_hcl_value(value)}{comment}")
            attributes[name] = value
        lines.extend([""] * draw(st.integers(0, 1)))
    return "".join(line + "\n" for line in lines), attributes, blocks


def _assert_body(body: ast.Body, attributes: dict[str, Any], blocks: list, text: str) -> None:
    assert list(body.attributes) == list(attributes)
    for name, value in attributes.items():
        attribute = body.attributes[name]
        assert isinstance(attribute.expr, ast.Literal) and attribute.expr.value == value
        assert _slice(text, *attribute.name_span) == name
        assert _slice(text, *attribute.expr.span) == _hcl_value(value)
    assert [(b.type, b.labels) for b in body.blocks] == [(name, labels) for name, labels, _, _ in blocks]
    for block, (name, _, inner_attributes, inner_blocks) in zip(body.blocks, blocks):
        assert _slice(text, *block.span).startswith(name) and _slice(text, *block.span).endswith("}")
        _assert_body(block.body, inner_attributes, inner_blocks, text)


@FUZZ
@given(_hcl_bodies(), st.integers(0, 3))
def test_hcl_bodies_load_as_written_with_exact_spans(generated, blank_lines):
    text, attributes, blocks = generated
    text = "# generated\n" * blank_lines + text
    parsed = parse_hcl(text)
    assert parsed.problems == ()
    _assert_body(parsed.body, attributes, blocks, text)


# ---------------------------------------------------------------------------------------------------------------
# Plans


_PLAN_KEYS = st.sampled_from(["root_module", "resources", "child_modules", "address", "type", "name", "values",
                              "index", "mode", "enable_network_isolation", "x"])
_PLAN_TREES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(["aws_sagemaker_model", "a", ""])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_PLAN_KEYS, inner, max_size=4)),
    max_leaves=25)


@FUZZ
@given(_PLAN_TREES)
def test_plans_of_any_shape_are_read_without_crashing(planned_values):
    text = json.dumps({"format_version": "1.2", "planned_values": planned_values}, indent=1)
    document = load_json_documents(text)[0][0].data
    for resource in plan_resources("plan.json", document):
        assert 1 <= resource.block.span[0] <= _lines(text)
    result = scan([], ScanOptions(stdin=(("plan.json", text),), render=NO_RENDER))
    assert not result.errors
    for finding in result.findings:
        assert 1 <= finding.location.line <= finding.location.end_line <= _lines(text)


# ---------------------------------------------------------------------------------------------------------------
# Location mapping through the whole scan


_NOISE_KEYS = st.from_regex(r"x[a-z]{0,6}", fullmatch=True)
_NOISE = st.dictionaries(_NOISE_KEYS, st.one_of(st.integers(0, 9), st.text("abc \n", max_size=6)), max_size=3)


def _located(text: str, needle: str) -> tuple[int, int]:
    """Line and column of the only occurrence of ``needle`` in ``text``."""
    assert text.count(needle) == 1
    before = text[: text.index(needle)]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


@FUZZ
@given(st.sampled_from(["Pod", "Deployment", "Job"]), _NOISE, _NOISE, _NOISE, st.sampled_from([False, None]),
       st.integers(0, 2), st.sampled_from(["", "# leading comment\n", "\n\n"]), st.booleans())
def test_kubernetes_finding_points_at_the_key_it_names(kind, noise_meta, noise_container, noise_context, flow,
                                                       documents_before, prefix, host_pid):
    container = {"name": "c", **noise_container, "image": "busybox:1.36",
                 "securityContext": {**noise_context, "privileged": True}}
    pod_spec = {**({"hostPID": True} if host_pid else {}), "containers": [container]}
    spec: dict[str, Any] = {"containers": [container]}
    if kind == "Pod":
        spec = pod_spec
    elif kind == "Deployment":
        spec = {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
                                                                      "spec": pod_spec}}
    else:
        spec = {"template": {"spec": pod_spec}}
    api = {"Pod": "v1", "Deployment": "apps/v1", "Job": "batch/v1"}[kind]
    manifest = {"apiVersion": api, "kind": kind, "metadata": {"name": "w", **noise_meta}, "spec": spec}
    others = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}"}, "data": {"k": "v\n" * i}}
              for i in range(documents_before)]
    text = prefix + yaml.safe_dump_all([*others, manifest], default_flow_style=flow, sort_keys=False, width=60)
    result = scan([], ScanOptions(stdin=(("w.yaml", text),), render=NO_RENDER))
    assert not result.errors
    for finding in result.findings:
        assert finding.location.file == "w.yaml"
        assert 1 <= finding.location.line <= finding.location.end_line <= _lines(text)
    located = {(f.rule_id, f.location.line, f.location.column) for f in result.findings}
    assert ("KUBE-001", *_located(text, "privileged")) in located
    if host_pid:
        assert ("KUBE-007", *_located(text, "hostPID")) in located


@FUZZ
@given(st.lists(_NAMES.map(lambda n: "x_" + n), unique=True, max_size=4), st.integers(0, 4),
       st.sampled_from(["", "# models\n", "\n\n/* a\n comment */\n"]), st.sampled_from([" = ", "="]))
def test_terraform_finding_points_at_the_attribute_it_names(noise, position, prefix, spacing):
    attributes = [f'{name} = "{index}"' for index, name in enumerate(noise)]
    attributes.insert(min(position, len(attributes)), f"enable_network_isolation{spacing}false")
    body = "".join(f"  {line}\n" for line in attributes)
    text = (f'{prefix}resource "aws_sagemaker_model" "m" {{\n  name = "m"\n{body}'
            '  primary_container {\n    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/x:1"\n  }\n}\n')
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "main.tf").write_text(text)
        result = scan([Path(folder)], ScanOptions(render=NO_RENDER))
    assert not result.errors
    for finding in result.findings:
        assert 1 <= finding.location.line <= finding.location.end_line <= _lines(text)
    located = {(f.rule_id, f.location.line, f.location.column) for f in result.findings}
    assert ("MLS-AWS-001", *_located(text, "enable_network_isolation")) in located
