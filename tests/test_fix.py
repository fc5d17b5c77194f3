"""Automatic fixes: every fix, applied to a fixture, gives exactly the expected diff; the fixed file still
parses and the rule no longer fires. Comments survive, overlapping fixes wait for the next round, a fix that
breaks a file is rolled back, and the reports and the `fix` command carry all of it."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from servegate.cli import main
from servegate.findings import Applicability
from servegate.fix.engine import FixOptions, fix_paths, parse_problem
from servegate.fix.hcl_patch import HclPatch
from servegate.fix.model import AddItem, RemoveKey, SetAttribute, SetKey
from servegate.fix.text import SourceText, apply_edits, overlaps
from servegate.fix.yaml_patch import YamlPatch
from servegate.model.terraform.values import VariableInputs
from servegate.scan import ScanOptions, scan
from servegate.sources.hcl_loader import parse_hcl
from servegate.sources.yaml_loader import load_documents

ROOT = Path(__file__).resolve().parents[1]
FIX = Path(__file__).parent / "fixtures" / "fix"
EXPECTED = FIX / "expected"
SARIF_SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
# The fixes that reference a customer-managed key take it as a variable; a deployment gives it a value.
KMS = VariableInputs(variables=("kms_key_arn=arn:aws:kms:eu-west-1:123456789012:key/ml",))


def copy_fixture(tmp_path: Path, fixture: str) -> Path:
    source, target = FIX / fixture, tmp_path / fixture
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy(source, target)
    return target


CASES = [
    ("KUBE-001", "privileged-generic.yaml"),
    ("MLS-K8S-001", "privileged-gpu.yaml"),
    ("KUBE-002", "escalation.yaml"),
    ("KUBE-002", "pod.json"),
    ("KUBE-003", "run-as-root.yaml"),
    ("MLS-K8S-009", "model-server-root.yaml"),
    ("KUBE-004", "capabilities.yaml"),
    ("KUBE-005", "drop-all.yaml"),
    ("KUBE-007", "host-pid.yaml"),
    ("KUBE-010", "read-only-root.yaml"),
    ("KUBE-011", "limits.yaml"),
    ("KUBE-012", "limits.yaml"),
    ("MLS-K8S-011", "gpu-request.yaml"),
    ("KUBE-015", "token.yaml"),
    ("KUBE-016", "token.yaml"),
    ("MLS-K8S-010", "gpu-request.yaml"),
    ("KUBE-025", "seccomp.yaml"),
    ("KUBE-027", "host-port.yaml"),
    ("MLS-K8S-002", "visible-devices.yaml"),
    ("MLS-K8S-004", "host-ipc.yaml"),
    ("MLS-SRV-001", "torchserve-flag.yaml"),
    ("MLS-SRV-001", "torchserve-config.yaml"),
    ("MLS-SRV-002", "torchserve-config.yaml"),
    ("MLS-SRV-004", "torchserve-config.yaml"),
    ("MLS-SRV-005", "triton-restricted.yaml"),
    ("MLS-SRV-006", "triton-restricted.yaml"),
    ("MLS-SRV-008", "ray-dashboard.yaml"),
    ("MLS-SRV-008", "kuberay-token.yaml"),
    ("MLS-AWS-001", "sagemaker"),
    ("MLS-AWS-002", "sagemaker"),
    ("MLS-AWS-003", "sagemaker"),
    ("MLS-AWS-005", "sagemaker"),
    ("MLS-ART-001", "buckets"),
    ("TF-AWS-002", "buckets"),
    ("MLS-IAM-002", "iam"),
    ("MLS-IAM-003", "iam"),
    ("TF-AWS-017", "logs"),
    ("MLS-LOG-001", "logs"),
]


@pytest.mark.parametrize("rule, fixture", CASES, ids=[f"{r}-{f}" for r, f in CASES])
def test_fix_gives_the_expected_diff_parses_and_silences_the_rule(tmp_path, rule, fixture):
    target = copy_fixture(tmp_path, fixture)
    before = [f for f in scan([target], ScanOptions(terraform=KMS)).findings if f.rule_id == rule]
    assert before and all(f.fixes for f in before)
    outcome = fix_paths([target], ScanOptions(), FixOptions(unsafe=True, rules=(rule,)))
    assert outcome.diff() == (EXPECTED / f"{rule}--{fixture}.diff").read_text()
    assert outcome.broken == [] and outcome.after.errors == []
    assert outcome.changed and all(parse_problem(file, text) is None for file, text in outcome.changed.items())
    outcome.write()
    for file, text in outcome.changed.items():
        assert (target.parent / file if target.is_file() else target / file).read_text() == text
    after = scan([target], ScanOptions(terraform=KMS))
    assert after.errors == []
    assert [f for f in after.findings if f.rule_id == rule] == []


def test_a_key_taken_as_a_variable_stays_reported_until_the_variable_has_a_value(tmp_path):
    target = copy_fixture(tmp_path, "sagemaker")
    fix_paths([target], ScanOptions(), FixOptions(unsafe=True, rules=("MLS-AWS-002",))).write()
    left = [f for f in scan([target]).findings if f.rule_id == "MLS-AWS-002"]
    assert [(f.location.line, f.confidence.label, f.fixes) for f in left] == [(14, "low", ())]
    assert "var.kms_key_arn has no value" in left[0].message


def test_comments_key_order_and_quoting_survive(tmp_path):
    target = copy_fixture(tmp_path, "comments.yaml")
    original = target.read_text()
    outcome = fix_paths([target], ScanOptions(), FixOptions(unsafe=True))
    fixed = iter(outcome.changed["comments.yaml"].splitlines())
    # Every original line, comments included, is still there unchanged and in order: the fixes only insert.
    assert all(any(line == new for new in fixed) for line in original.splitlines())
    assert outcome.diff() == (EXPECTED / "all--comments.yaml.diff").read_text()


def test_overlapping_fixes_wait_for_the_next_round(tmp_path):
    target = copy_fixture(tmp_path, "host-pid.yaml")
    outcome = fix_paths([target], ScanOptions(), FixOptions(unsafe=True, rules=("KUBE-002", "KUBE-005")))
    # Both create the container's securityContext at the same place: one per round, planned on the new text.
    assert outcome.rounds == 2
    assert [item.finding.rule_id for item in outcome.applied] == ["KUBE-002", "KUBE-005"]
    assert outcome.changed["host-pid.yaml"].endswith(
        "    image: busybox:1.36\n"
        "    securityContext:\n"
        "      allowPrivilegeEscalation: false\n"
        "      capabilities:\n"
        "        drop: [ALL]\n")


def test_only_safe_fixes_without_unsafe(tmp_path):
    target = copy_fixture(tmp_path, "escalation.yaml")
    outcome = fix_paths([target], ScanOptions(), FixOptions())
    assert sorted(item.finding.rule_id for item in outcome.applied) == ["KUBE-002", "KUBE-025"]
    assert all(item.fix.applicability is Applicability.SAFE for item in outcome.applied)
    unsafe_left = sorted(f.rule_id for f in outcome.after.findings if f.fixes)
    assert unsafe_left == ["KUBE-005", "KUBE-010", "KUBE-015"]


def test_a_fix_that_breaks_the_file_is_rolled_back(tmp_path, monkeypatch):
    target = copy_fixture(tmp_path, "privileged-generic.yaml")
    monkeypatch.setattr(YamlPatch, "_scalar", lambda self, value, flow, style="": "[unclosed")
    outcome = fix_paths([target], ScanOptions(), FixOptions(unsafe=True, rules=("KUBE-001",)))
    assert outcome.changed == {} and outcome.applied == []
    [(item, problem)] = outcome.broken
    assert item.finding.rule_id == "KUBE-001" and problem.startswith("line 13: invalid YAML")
    assert [f.rule_id for f in outcome.after.findings if f.rule_id == "KUBE-001"] == ["KUBE-001"]


def test_objects_without_their_own_text_get_no_fixes(tmp_path):
    (tmp_path / "main.tf").write_text(
        'resource "kubernetes_pod" "p" {\n  metadata { name = "p" }\n  spec {\n    container {\n'
        '      name  = "c"\n      image = "busybox:1.36"\n      security_context { privileged = true }\n'
        '    }\n  }\n}\n')
    findings = [f for f in scan([tmp_path]).findings if f.rule_id == "KUBE-001"]
    assert len(findings) == 1 and findings[0].fixes == ()  # a Kubernetes object read from Terraform


# --- the planners on their own ------------------------------------------------------------------------

def yaml_fix(text: str, *operations) -> str:
    root = load_documents(text)[0][0].data
    patch = YamlPatch(SourceText(text))
    for op in operations:
        patch.add(root, op)
    fixed = apply_edits(text, patch.edits())
    assert load_documents(fixed)[1] is None
    return fixed


def test_yaml_insertions_follow_the_style_of_their_neighbours():
    assert yaml_fix("a: {}\n", SetKey(("a", "b"), 1)) == "a: {b: 1}\n"
    assert yaml_fix("a:\r\n  b: 1\r\n", SetKey(("a", "c"), True)) == "a:\r\n  b: 1\r\n  c: true\r\n"
    assert yaml_fix("a:\n  b: 1", SetKey(("a", "c"), "x y")) == 'a:\n  b: 1\n  c: "x y"'
    assert yaml_fix("a:\n    b: 1\n", SetKey(("a", "c", "d"), "1")) == 'a:\n    b: 1\n    c:\n        d: "1"\n'
    assert yaml_fix("a:\n  s: 'single'\n", SetKey(("a", "s"), "it's")) == "a:\n  s: 'it''s'\n"
    assert yaml_fix("a:\n  sc:\n  b: 1\n", SetKey(("a", "sc", "x"), False), SetKey(("a", "sc", "y"), 1)) == \
        "a:\n  sc: {x: false, y: 1}\n  b: 1\n"
    assert yaml_fix("l:\n  - 1\n", AddItem(("l",), "true"), AddItem(("l",), 1)) == 'l:\n  - 1\n  - "true"\n'


def test_yaml_insertions_skip_block_scalars_and_trailing_comments():
    text = "z:\n  k: |\n    text\n\n  # about m\nm: 1\n"
    assert yaml_fix(text, SetKey(("z", "n"), "no")) == "z:\n  k: |\n    text\n  n: \"no\"\n\n  # about m\nm: 1\n"


def test_yaml_removals_take_whole_lines_and_the_last_item_takes_its_key():
    assert yaml_fix("a:\n  add:\n  - X\n  b: 2\n", RemoveKey(("a", "add", 0))) == "a:\n  b: 2\n"
    assert yaml_fix("a: [1, 2, 3]\n", RemoveKey(("a", 1))) == "a: [1, 3]\n"
    assert yaml_fix("a: {x: 1, y: 2}\n", RemoveKey(("a", "x"))) == "a: {y: 2}\n"


class _Resource:
    """Enough of a TfResource for the HCL planner: the block the operations edit."""

    def __init__(self, text: str) -> None:
        self.block = parse_hcl(text).body.blocks[0]


def hcl_fix(text: str, *operations) -> str:
    patch = HclPatch(SourceText(text))
    resource = _Resource(text)
    for op in operations:
        patch.add(resource, op)
    fixed = apply_edits(text, patch.edits())
    assert parse_hcl(fixed).problems == ()
    return fixed


def test_hcl_attributes_go_into_the_block_with_its_indentation():
    assert hcl_fix('resource "a" "b" {}', SetAttribute(("z",), "true")) == 'resource "a" "b" {\n  z = true\n}'
    assert hcl_fix('resource "a" "b" { x = 1 }\n', SetAttribute(("z",), "true")) == \
        'resource "a" "b" {\n  x = 1\n  z = true\n}\n'
    assert hcl_fix('resource "a" "b" {\n    name = "n"\n}\n', SetAttribute(("cfg", 0, "on"), "true")) == \
        'resource "a" "b" {\n    name = "n"\n    cfg {\n      on = true\n    }\n}\n'
    assert hcl_fix('resource "a" "b" {\n  x = var.x # why\n}\n', SetAttribute(("x",), "false")) == \
        'resource "a" "b" {\n  x = false # why\n}\n'


def test_edits_overlap_when_they_touch_the_same_text():
    assert overlaps((5, 5, "a"), (5, 5, "b")) and overlaps((3, 8, ""), (5, 5, "x")) and overlaps((3, 8, ""), (7, 9, ""))
    assert not overlaps((5, 5, "a"), (5, 5, "a")) and not overlaps((3, 5, ""), (5, 7, ""))


# --- reports and the command line -------------------------------------------------------------------

def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_text_json_and_sarif_carry_the_fixes(tmp_path, capsys):
    jsonschema = pytest.importorskip("jsonschema")
    target = copy_fixture(tmp_path, "escalation.yaml")
    _, out, _ = run(capsys, "scan", str(target), "--select", "KUBE-002")
    assert out.splitlines()[2].strip() == "fix (safe): set allowPrivilegeEscalation: false"
    _, out, _ = run(capsys, "scan", str(target), "--select", "KUBE-002", "--format", "json")
    [finding] = json.loads(out)["findings"]
    assert finding["fixes"] == [{
        "title": "set allowPrivilegeEscalation: false", "applicability": "safe",
        "edits": [{"file": "escalation.yaml", "line": 10, "column": 57, "end_line": 10, "end_column": 57,
                   "offset": 179, "end_offset": 179, "text": ", allowPrivilegeEscalation: false"}],
    }]
    _, out, _ = run(capsys, "scan", str(target), "--format", "sarif")
    log = json.loads(out)
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text()))
    result = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "KUBE-002")
    assert result["fixes"] == [{
        "description": {"text": "set allowPrivilegeEscalation: false (safe)"},
        "artifactChanges": [{"artifactLocation": {"uri": "escalation.yaml", "uriBaseId": "%SRCROOT%"},
                             "replacements": [{"deletedRegion": {"startLine": 10, "startColumn": 57, "endLine": 10,
                                                                 "endColumn": 57},
                                               "insertedContent": {"text": ", allowPrivilegeEscalation: false"}}]}],
        "properties": {"applicability": "safe"},
    }]


def test_fix_command_diff_writes_nothing(tmp_path, capsys):
    target = copy_fixture(tmp_path, "escalation.yaml")
    original = target.read_text()
    code, out, err = run(capsys, "fix", str(target), "--diff", "--rule", "KUBE-002")
    assert code == 1 and out == (EXPECTED / "KUBE-002--escalation.yaml.diff").read_text()
    assert target.read_text() == original
    assert err.splitlines()[:2] == [
        "would apply 1 fixes (1 safe) to 1 files in 1 rounds; 1 findings fixed",
        "  escalation.yaml:10  KUBE-002  fix (safe): set allowPrivilegeEscalation: false"]


def test_fix_command_writes_and_reports_what_remains(tmp_path, capsys):
    target = copy_fixture(tmp_path, "host-port.yaml")
    code, out, _ = run(capsys, "fix", str(target), "--rule", "KUBE-027,KUBE-025", "--unsafe")
    assert code == 1
    assert "hostPort" not in target.read_text() and "type: RuntimeDefault" in target.read_text()
    lines = out.splitlines()
    assert lines[0] == "applied 2 fixes (1 safe, 1 unsafe) to 1 files in 1 rounds; 2 findings fixed"
    assert lines[3] == "11 findings remain:" and len(lines) == 15
    fixable = sorted(line.split()[1] for line in lines[4:] if line.endswith("[fix available]"))
    assert fixable == ["KUBE-002", "KUBE-003", "KUBE-005", "KUBE-010", "KUBE-015"]


def test_fix_command_refuses_stdin_and_unknown_rules(tmp_path, capsys):
    assert run(capsys, "fix", "-")[0] == 2
    code, _, err = run(capsys, "fix", str(copy_fixture(tmp_path, "escalation.yaml")), "--rule", "NOPE-1")
    assert code == 2 and "NOPE-1" in err


# --- the examples ---------------------------------------------------------------------------------------

# What `servegate fix --unsafe examples/` fixes, by rule. What it leaves are findings no automatic fix can
# address: a version upgrade, a digest, a NetworkPolicy, credentials moved to a Secret, probes and sizes only
# the team knows (the report lists them).
EXAMPLES_FIXED = {
    "KUBE-005": 6, "KUBE-010": 6, "KUBE-011": 1, "KUBE-025": 6, "MLS-ART-001": 1, "MLS-AWS-001": 1,
    "MLS-AWS-003": 1, "MLS-AWS-005": 2, "MLS-IAM-001": 1, "MLS-IAM-002": 1, "MLS-IAM-003": 1, "MLS-K8S-001": 1,
    "MLS-K8S-002": 1, "MLS-K8S-004": 1, "MLS-K8S-007": 1, "MLS-K8S-009": 12, "MLS-K8S-010": 7, "MLS-K8S-011": 1,
    "MLS-LOG-001": 1, "MLS-SRV-001": 1, "MLS-SRV-002": 1, "MLS-SRV-004": 1, "MLS-SRV-005": 1, "MLS-SRV-006": 1,
}


def test_fixing_the_examples_leaves_only_findings_without_an_automatic_fix(tmp_path):
    target = tmp_path / "examples"
    shutil.copytree(ROOT / "examples", target)
    outcome = fix_paths([target], ScanOptions(), FixOptions(unsafe=True))
    assert outcome.broken == [] and outcome.after.errors == []
    assert all(parse_problem(file, text) is None for file, text in outcome.changed.items())
    assert [f"{f.rule_id} {f.location.file}:{f.location.line}" for f in outcome.after.findings if f.fixes] == []
    fixable = {f.rule_id for f in outcome.before.findings if f.fixes}
    assert {rule: n for rule, n in Counter(f.rule_id for f in outcome.fixed).items() if rule in fixable} == \
        EXAMPLES_FIXED
    # Findings the fixes leave in another form: the KMS key variable still needs a value (low confidence), the
    # TorchServe flag is gone but 0.8.1 predates token authorization, and the Triton admin key is read from a
    # Secret into the environment (KUBE-024, the price of `$(TRITON_ADMIN_KEY)` on the command line).
    before = {f.fingerprint for f in outcome.before.findings}
    new = [(f.rule_id, f.confidence.label) for f in outcome.after.findings if f.fingerprint not in before]
    assert sorted(new) == [("KUBE-024", "high"), ("MLS-AWS-003", "low"), ("MLS-LOG-001", "low"),
                           ("MLS-SRV-001", "medium")]
    assert sorted(outcome.changed) == ["ml-serving/kserve.yaml", "ml-serving/mlflow.yaml", "ml-serving/ray.yaml",
                                       "ml-serving/torchserve.yaml", "ml-serving/triton.yaml",
                                       "ml-serving/vllm.yaml", "sagemaker/main.tf",
                                       "sagemaker/modules/model-bucket/main.tf"]
    assert (ROOT / "examples" / "ml-serving" / "triton.yaml").read_text() != outcome.changed["ml-serving/triton.yaml"]
