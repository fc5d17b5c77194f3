from __future__ import annotations

import json

from servegate.sources.located import format_path, get_path, line_within_scalar, span_of
from servegate.sources.yaml_loader import load_documents, load_json_documents

MANIFEST = """\
apiVersion: v1
kind: Pod
metadata:
  name: triton
spec:
  containers:
  - name: triton
    image: nvcr.io/nvidia/tritonserver:24.01-py3
    securityContext:
      privileged: true
    args: ["tritonserver", "--model-control-mode=explicit"]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: ts-config}
data:
  created: 2024-01-01
  config.properties: |
    inference_address=http://0.0.0.0:8080
    enable_model_api=true
"""


def test_every_key_and_item_has_its_line_and_column():
    documents, error = load_documents(MANIFEST)
    assert error is None
    assert [d.line for d in documents] == [1, 13]
    pod = documents[0].data
    span, resolved = span_of(pod, ("spec", "containers", 0, "securityContext", "privileged"))
    assert (span[0], span[1], resolved) == (10, 7, 5)
    span, _ = span_of(pod, ("spec", "containers", 0, "args", 1))
    assert (span[0], span[1]) == (11, 28)


def test_missing_key_resolves_to_the_block_that_should_hold_it():
    pod = load_documents(MANIFEST)[0][0].data
    span, resolved = span_of(pod, ("spec", "containers", 0, "securityContext", "runAsNonRoot"))
    assert (span[0], resolved) == (9, 4)
    span, resolved = span_of(pod, ("spec", "automountServiceAccountToken"))
    assert (span[0], resolved) == (5, 1)


def test_lines_inside_a_literal_block_scalar():
    config = load_documents(MANIFEST)[0][1].data
    assert line_within_scalar(config, ("data", "config.properties"), 1) == 20


def test_dates_stay_strings_and_documents_serialise_to_json():
    config = load_documents(MANIFEST)[0][1].data
    assert config["data"]["created"] == "2024-01-01"
    json.dumps(config)


def test_merge_keys_are_flattened():
    documents, error = load_documents("base: &b {a: 1}\nderived:\n  <<: *b\n  c: 2\n")
    assert error is None and documents[0].data["derived"] == {"a": 1, "c": 2}


def test_json_with_tab_indentation():
    documents, error = load_json_documents('{\n\t"kind": "Pod",\n\t"spec": {\n\t\t"hostPID": true\n\t}\n}\n')
    assert error is None
    assert span_of(documents[0].data, ("spec", "hostPID"))[0][0] == 4


def test_alias_bomb_is_refused_with_its_line():
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        levels.append(f"a{i}: &a{i} [{refs}]")
    documents, error = load_documents("\n".join(levels) + "\n")
    assert documents == [] and error is not None
    assert "alias bomb" in error.message and error.line == 7  # the level that explodes


def test_recursive_alias_is_refused():
    _, error = load_documents("a: &a [*a]\n")
    assert error is not None and "recursive alias" in error.message


def test_deep_nesting_is_refused():
    _, error = load_documents("[" * 1500 + "]" * 1500)
    assert error is not None and "nesting depth" in error.message
    # With anchors in play the document is measured, and a lower depth limit applies.
    _, error = load_documents("a: &x 1\nb: " + "[" * 300 + "]" * 300)
    assert error is not None and error.message == "nesting deeper than 200 levels"


def test_syntax_error_names_the_line_and_keeps_earlier_documents():
    text = "kind: A\n---\nkind: B\n  bad: [\n"
    documents, error = load_documents(text)
    assert [d.data["kind"] for d in documents] == ["A"]
    assert error is not None and error.line == 4 and error.message.startswith("invalid YAML")


def test_format_path_quotes_keys_with_dots():
    assert format_path(("spec", "containers", 0, "resources", "limits", "nvidia.com/gpu")) == \
        'spec.containers[0].resources.limits["nvidia.com/gpu"]'
    assert get_path({"a": [{"b": 1}]}, ("a", 0, "b")) == 1


def test_yaml_1_1_scalars_resolve_like_kubectl_even_when_memoised():
    for _ in range(2):
        data = load_documents('a: yes\nb: "true"\nc: 0755\nd: 0x1F90\ne: ~\n')[0][0].data
        assert data == {"a": True, "b": "true", "c": 493, "d": 8080, "e": None}


def test_crd_bodies_are_blanked_without_moving_lines():
    from servegate.sources.yaml_loader import blank_documents_of_kinds

    text = ("kind: ConfigMap\n---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
            "spec:\n  versions: [{name: v1}]\n---\nkind: Pod\nmetadata: {name: p}\n")
    blanked = blank_documents_of_kinds(text, frozenset({"CustomResourceDefinition"}))
    assert blanked.count("\n") == text.count("\n") and "CustomResourceDefinition" not in blanked
    documents = load_documents(blanked)[0]
    pod = next(d for d in documents if isinstance(d.data, dict) and d.data.get("kind") == "Pod")
    assert span_of(pod.data, ("metadata", "name"))[0][0] == 9


def test_json_is_read_as_json():
    # Exponents are numbers, surrogate pairs decode, raw DEL and NEL stay characters; later positions still
    # point into the text as written (the pair is 12 characters, the raw characters 1).
    text = '{"big": 1e5, "small": -2.5E-3, "smile": "\\ud83d\\ude00", "raw": "a\x7fb\x85c", "after": true}'
    documents, error = load_json_documents(text)
    assert error is None
    data = documents[0].data
    assert data == {"big": 100000.0, "small": -0.0025, "smile": "\U0001F600", "raw": "a\x7fb\x85c", "after": True}
    assert span_of(data, ("after",))[0][:2] == (1, text.index('"after"') + 1)
    assert data.value_spans["after"][:4] == (1, text.index("true") + 1, 1, text.index("true") + 5)


def test_lines_are_counted_at_line_feeds_only():
    # YAML also breaks lines at a lone CR, NEL, LS and PS; editors and code scanning do not.
    text = 'a: "x\u2028y"\nb: 1\rc: 2\nd: "x\x85y"\nf: [4]\n'
    documents, error = load_documents(text)
    assert error is None
    data = documents[0].data
    assert data == {"a": "x\u2028y", "b": 1, "c": 2, "d": "x y", "f": [4]}  # values as PyYAML reads them
    assert [data.key_spans[key][:2] for key in data] == [(1, 1), (2, 1), (2, 6), (3, 1), (4, 1)]
    assert data["f"].item_spans[0][:4] == (4, 5, 4, 6)
