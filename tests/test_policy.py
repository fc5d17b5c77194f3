"""Custom Rego policies: Conftest's conventions evaluated by real OPA, results as servegate findings.

Expected results are worked out from OPA's and Conftest's documented semantics (see the comments)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from servegate.cli import main
from servegate.findings import Severity
from servegate.policy import PolicyLoadError, PolicyOptions, load_policies
from servegate.policy.engine import PolicyTimeout
from servegate.scan import ScanOptions, scan

ROOT = Path(__file__).parent.parent
POLICY = Path(__file__).parent / "fixtures" / "policy"
CONFTEST = POLICY / "conftest"


def run(configs: Path, policy: Path, **options) -> tuple[list, object]:
    with load_policies(PolicyOptions((policy,), **options)) as policies:
        result = scan([configs], ScanOptions(rules=(), policies=policies))
    return [(f.rule_id, f.location.file, f.location.line, f.location.column, f.severity.label, f.message,
             f.resource, f.suppression) for f in result.findings], result


def test_conftest_policy_directory_gives_conftest_results():
    findings, result = run(CONFTEST / "configs", CONFTEST / "policy")
    assert findings == [
        # deployment.yaml, document 1: deny (no runAsNonRoot; no path, so the object's metadata line) and warn
        # (replicas < 2, at its path). Document 2 passes both.
        ("POL-MAIN-DENY", "deployment.yaml", 3, 1, "high",
         "Containers must not run as root in Deployment triton", "Deployment/models/triton", ""),
        ("POL-MAIN-WARN", "deployment.yaml", 7, 3, "info", "Deployment triton has 1 replica(s)",
         "Deployment/models/triton", ""),
        # main.tf in the hcl2 shape: deny_UNVERSIONED_1 names bucket `models`, so it points at that block;
        # warn_tags is exempted by `exception contains ["tags"]`, kept as suppressed; the dotted path
        # resource.aws_s3_bucket.models.acl finds the attribute inside the block list.
        ("POL-MAIN-WARN-TAGS", "main.tf", 1, 1, "info", "bucket models has no tags", "aws_s3_bucket.models",
         "exception"),
        ("UNVERSIONED-1", "main.tf", 1, 1, "high", "bucket models is not versioned", "aws_s3_bucket.models", ""),
        ("ACME-S3-001", "main.tf", 3, 3, "critical", "bucket models is public", "aws_s3_bucket.models", ""),
        # rules.json is an array: each item is its own input, and only the first is open to the world.
        ("POL-MAIN-DENY-PORT", "rules.json", 2, 3, "high", "port 8000 is open to the world", "", ""),
    ]
    assert [(w.file, w.line) for w in result.warnings] == [("tests/fixtures/policy/conftest/policy/kubernetes.rego", 4)]
    assert "rewrote 2 rule head(s)" in result.warnings[0].message
    assert {r.id for r in result.rules} == {"POL-MAIN-DENY", "POL-MAIN-WARN", "ACME-S3-001", "UNVERSIONED-1",
                                            "POL-MAIN-WARN-TAGS", "POL-MAIN-DENY-PORT"}


def test_metadata_maps_to_rule_and_severity():
    with load_policies(PolicyOptions((CONFTEST / "policy",))) as policies:
        rule = next(r for r in policies.rules if r.id == "ACME-S3-001")
    assert (rule.title, rule.severity, rule.rationale, rule.remediation) == (
        "Model buckets must not be public", Severity.CRITICAL, "A public ACL exposes model weights to the internet.",
        "Remove the ACL; grant access with a bucket policy.")
    assert rule.references == ("S3 ACLs: https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html",)
    assert rule.help_uri == "https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html"


def test_results_go_through_suppressions_fail_on_and_sarif(tmp_path, capsys):
    configs = tmp_path / "configs"
    configs.mkdir()
    text = (CONFTEST / "configs" / "main.tf").read_text()
    (configs / "main.tf").write_text(text.replace('  acl    = "public-read"',
                                                  '  acl    = "public-read" # servegate:ignore[ACME-S3-001] demo bucket'))
    code = main(["scan", str(configs), "--policy", str(CONFTEST / "policy"), "--only-policies", "-f", "sarif"])
    sarif = json.loads(capsys.readouterr().out)
    run_ = sarif["runs"][0]
    assert "ACME-S3-001" in [r["id"] for r in run_["tool"]["driver"]["rules"]]
    public = next(r for r in run_["results"] if r["ruleId"] == "ACME-S3-001")
    assert public["suppressions"][0]["justification"] == "demo bucket"
    assert public["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    assert code == 1  # UNVERSIONED-1 is high and not suppressed
    code = main(["scan", str(configs), "--policy", str(CONFTEST / "policy"), "--only-policies", "--fail-on",
                 "critical", "-f", "json"])
    assert code == 0
    capsys.readouterr()


def test_combined_input_and_paths_with_the_document_index(tmp_path):
    (tmp_path / "policy.rego").write_text(
        'package main\nimport rego.v1\n'
        'deny contains {"msg": sprintf("%d documents, first %s", [count(input), input[0].path]), '
        '"path": [1, "contents", "spec", "replicas"]} if is_array(input)\n')
    findings, _ = run(CONFTEST / "configs", tmp_path / "policy.rego", combine=True)
    # combined: deployment.yaml (2 documents), main.tf, rules.json (2 items), sorted by path
    assert findings == [("POL-MAIN-DENY", "deployment.yaml", 20, 3, "high", "5 documents, first deployment.yaml",
                         "Deployment/models/vllm", "")]


def test_namespaces_and_parser(tmp_path):
    # deny_all is a function, not a rule: never queried (querying it would be an error)
    (tmp_path / "a.rego").write_text('package a\nimport rego.v1\ndeny contains "a" if input\ndeny_all(x) := [x]\n')
    (tmp_path / "b.rego").write_text('package b.c\nimport rego.v1\nwarn contains "b" if input.resource\n')
    configs = CONFTEST / "configs" / "main.tf"
    assert [f[0] for f in run(configs, tmp_path, namespaces=("b.c",))[0]] == ["POL-B-C-WARN"]
    assert [f[0] for f in run(configs, tmp_path, all_namespaces=True)[0]] == ["POL-A-DENY", "POL-B-C-WARN"]
    # forced through the YAML parser, HCL is a plain string: no `resource` key
    assert [f[0] for f in run(configs, tmp_path, all_namespaces=True, parser="yaml")[0]] == ["POL-A-DENY"]


def test_opa_semantics_of_builtins(tmp_path):
    """Known OPA results for Rego v1, some/every, sprintf verbs, regex, glob, object.get and net.cidr_contains."""
    (tmp_path / "p.rego").write_text(r'''package main
import rego.v1
deny contains sprintf("%v %s %d %q", [{"a": [1, "x"]}, "text", 42, "quoted"]) if true
deny contains "regex" if regex.match(`^nvcr\.io/nvidia/`, "nvcr.io/nvidia/tritonserver")
deny contains "glob" if glob.match("*.example.com", ["."], "api.example.com")
deny contains "not-glob" if not glob.match("*.example.com", ["."], "a.api.example.com")
deny contains sprintf("default %v", [object.get({}, ["a", "b"], "fallback")]) if true
deny contains "cidr" if net.cidr_contains("10.0.0.0/8", "10.1.2.3")
deny contains "every" if every port in [80, 443] { port < 1024 }
deny contains sprintf("some %v", [name]) if { some name, value in {"x": 1, "y": 2}; value > 1 }
''')
    with load_policies(PolicyOptions((tmp_path,))) as policies:
        bindings, _ = policies.engine.query("x := data.main.deny", {}, has_input=True)
    assert sorted(bindings[0]["x"]) == sorted([
        '{"a": [1, "x"]} text 42 "quoted"', "regex", "glob", "not-glob", "default fallback", "cidr", "every",
        "some y"])


def test_broken_policy_fails_with_file_and_line(capsys):
    code = main(["scan", str(CONFTEST / "configs"), "--policy", str(POLICY / "broken")])
    assert code == 2
    error = capsys.readouterr().err
    assert "tests/fixtures/policy/broken/broken.rego:8: rego_parse_error" in error


def test_unparseable_v0_policy_names_file_line_and_the_fix(tmp_path):
    (tmp_path / "old.rego").write_text('package main\n\ndeny[msg] {\n  re_match("a", input.x)\n  msg := "x"\n}\n')
    with pytest.raises(PolicyLoadError) as error:
        load_policies(PolicyOptions((tmp_path,)))
    assert "old.rego:4: rego_type_error: deprecated built-in function calls in expression: re_match" in str(error.value)
    assert "opa fmt --v0-v1" in str(error.value)


@pytest.mark.parametrize("call, line", [('http.send({"method": "get", "url": "http://example.com"})', 5),
                                        ("net.lookup_ip_addr(\"example.com\")", 5), ("opa.runtime()", 5)])
def test_network_and_environment_builtins_refused(tmp_path, call, line):
    (tmp_path / "p.rego").write_text(f"package main\nimport rego.v1\n\ndeny contains msg if {{\n"
                                     f"  x := {call}\n  msg := sprintf(\"%v\", [x])\n}}\n")
    with pytest.raises(PolicyLoadError) as error:
        load_policies(PolicyOptions((tmp_path,)))
    assert str(error.value).startswith(f"{tmp_path / 'p.rego'}:{line}: {call.split('(')[0]} is not allowed")


def test_conftest_problematic_if_is_an_error(tmp_path):
    (tmp_path / "p.rego").write_text('package main\nimport rego.v1\n\ndeny[msg] if {\n  msg := "foo"\n}\n')
    with pytest.raises(PolicyLoadError, match=r"p.rego:4: rule deny uses `if` without `contains`"):
        load_policies(PolicyOptions((tmp_path,)))


def test_evaluation_time_is_bounded(tmp_path):
    (tmp_path / "p.rego").write_text(
        "package main\nimport rego.v1\ndeny contains \"slow\" if {\n"
        "  count([1 | some i in numbers.range(1, 5000); some j in numbers.range(1, 5000)]) > 0\n}\n")
    with load_policies(PolicyOptions((tmp_path,), timeout=0.5)) as policies:
        with pytest.raises(PolicyTimeout):
            policies.engine.query("x := data.main.deny", {}, has_input=True)
        result = scan([CONFTEST / "configs" / "rules.json"], ScanOptions(rules=(), policies=policies))
        assert [(e.file, e.message) for e in result.errors] == [
            ("rules.json", "policy evaluation took longer than 0.5 s and was stopped (policies over this input)")] * 2


def test_missing_bindings_is_a_loud_usage_error(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "opa_bindings" else real(name, *a))
    assert main(["scan", str(CONFTEST / "configs"), "--policy", str(CONFTEST / "policy")]) == 2
    assert "opa-golib-python-bindings" in capsys.readouterr().err


def test_policy_test_command_runs_rego_unit_tests(tmp_path, capsys):
    (tmp_path / "p.rego").write_text('package main\nimport rego.v1\ndeny contains "x" if input.x\n')
    (tmp_path / "p_test.rego").write_text('package main_test\nimport rego.v1\nimport data.main\n'
                                          'test_ok if main.deny == {"x"} with input as {"x": true}\n'
                                          'test_wrong if main.deny == {"y"} with input as {"x": true}\n'
                                          'todo_test_later if false\n')
    assert main(["policy", "test", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "data.main_test.test_wrong: FAIL" in out and out.rstrip().endswith("FAIL: 1/3 (1 failed)")


def test_the_policy_bundle_passes_its_own_tests(capsys):
    assert main(["policy", "test", str(ROOT / "policies")]) == 0
    assert capsys.readouterr().out.rstrip().endswith("PASS: 62/62")


IN_PROCESS_SCRIPT = """
import json, sys
from pathlib import Path
from servegate.policy import PolicyOptions, load_policies
from servegate.scan import ScanOptions, scan

answers = []
for in_process in (False, True):
    with load_policies(PolicyOptions((Path(sys.argv[2]),), in_process=in_process)) as policies:
        findings = scan([Path(sys.argv[1])], ScanOptions(rules=(), policies=policies)).findings
    answers.append([[f.rule_id, f.location.line, f.message, f.suppression] for f in findings])
print(json.dumps(answers))
"""


def test_opa_in_process_answers_as_the_worker_process_does():
    """The admission webhook runs OPA in its own process (no process hop per request). A separate interpreter
    here, because a process that has loaded Go must not fork, and these tests fork."""
    pytest.importorskip("opa_bindings")
    output = subprocess.run([sys.executable, "-c", IN_PROCESS_SCRIPT, str(CONFTEST / "configs"),
                             str(CONFTEST / "policy")], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    worker, in_process = json.loads(output)
    assert len(worker) == 6 and in_process == worker
