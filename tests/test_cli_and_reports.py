"""The command line, its exit codes, and the JSON and SARIF reports."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from servegate.cli import main
from servegate.report.rule_docs import catalogue_markdown
from servegate.rules import FAMILIES, KUBERNETES, REGISTRY, TERRAFORM, rules_for
from servegate.rules.base import Scope

ROOT = Path(__file__).resolve().parents[1]
SARIF_SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"

POD = """\
apiVersion: v1
kind: Pod
metadata: {name: triton, namespace: ml}
spec:
  containers:
  - name: triton
    image: nvcr.io/nvidia/tritonserver:24.01-py3
    securityContext: {privileged: true}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "pod.yaml").write_text(POD)
    return tmp_path


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_report_shape(project: Path, capsys):
    code, out, _ = run(capsys, "scan", str(project), "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert report["version"] == 1 and report["tool"]["name"] == "servegate"
    finding = next(f for f in report["findings"] if f["path"].endswith("securityContext.privileged"))
    assert finding["file"] == "k8s/pod.yaml" and finding["line"] == 8
    assert finding["resource"] == "Pod/ml/triton"
    expected_keys = {"rule_id", "severity", "confidence", "title", "message", "file", "line", "column",
                     "end_line", "resource", "path", "suppressed", "related"}
    assert expected_keys <= set(finding)
    assert report["errors"] == [] and report["summary"]["files_scanned"] == 1


def test_sarif_validates_against_the_official_schema(project: Path, tmp_path: Path, capsys):
    jsonschema = pytest.importorskip("jsonschema")
    (project / "k8s" / "broken.yaml").write_text("kind: [\n")
    output = tmp_path / "out.sarif"
    code, _, _ = run(capsys, "scan", str(project), "--format", "sarif", "--output", str(output))
    assert code == 2
    log = json.loads(output.read_text())
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text()))
    run_ = log["runs"][0]
    assert run_["invocations"][0]["executionSuccessful"] is False
    result = next(r for r in run_["results"] if r["ruleId"] in ("KUBE-001", "MLS-K8S-001"))
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == 8
    rule = run_["tool"]["driver"]["rules"][result["ruleIndex"]]
    assert rule["id"] == result["ruleId"] and float(rule["properties"]["security-severity"]) >= 7.0
    assert rule["help"]["markdown"]


def test_exit_codes(project: Path, capsys):
    assert run(capsys, "scan", str(project), "--fail-on", "critical", "--select", "KUBE-001")[0] == 0
    assert run(capsys, "scan", str(project), "--fail-on", "high", "--select", "KUBE-001")[0] == 1
    assert run(capsys, "scan", str(project), "--fail-on", "bogus")[0] == 2
    assert run(capsys, "scan", str(project / "missing"))[0] == 2
    code, _, err = run(capsys, "scan", str(project), "--select", "NOPE-")
    assert code == 2 and "NOPE-" in err


def test_clean_input_exits_zero(tmp_path: Path, capsys):
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n")
    code, out, _ = run(capsys, "scan", str(tmp_path))
    assert code == 0 and "0 findings" in out


def test_text_output_groups_by_file(project: Path, capsys):
    _, out, _ = run(capsys, "scan", str(project), "--select", "KUBE-001")
    lines = out.splitlines()
    assert lines[0] == "k8s/pod.yaml"
    assert "KUBE-001" in lines[1] and "container `triton` in Pod/ml/triton" in lines[1]
    assert lines[2].strip() == "fix (unsafe): set privileged: false"  # the automatic fix, in place of the gist


def test_rules_and_explain(capsys):
    code, out, _ = run(capsys, "rules")
    assert code == 0 and len(out.splitlines()) == len(REGISTRY)
    code, out, _ = run(capsys, "explain", "KUBE-001")
    assert code == 0 and "Why it matters" in out and "Corrected" in out
    assert run(capsys, "explain", "privileged-container")[0] == 0
    assert run(capsys, "explain", "NOPE-1")[0] == 2


def test_rules_documentation_is_up_to_date():
    documented = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert documented == catalogue_markdown(REGISTRY), "run: servegate rules --format markdown > docs/rules.md"


def test_every_rule_has_complete_metadata():
    for rule in REGISTRY:
        assert rule.rationale and rule.remediation and rule.bad and rule.good and rule.references, rule.id
        assert rule.name == rule.name.lower() and " " not in rule.name, rule.id
    assert len({r.name for r in REGISTRY}) == len(REGISTRY)


def test_each_family_is_loaded_for_the_inputs_its_rules_read():
    reads = {Scope.RESOURCE: {TERRAFORM}, Scope.GRAPH: {KUBERNETES, TERRAFORM}}
    for module, declared in FAMILIES:
        family = importlib.import_module(f"servegate.rules.{module}").rules
        needed = set().union(*(reads.get(rule.scope, {KUBERNETES}) for rule in family.rules))
        assert declared <= needed and (declared & needed), module


KUBERNETES_ONLY_SCRIPT = """
import json, sys
from servegate.cli import main
code = main(["scan", sys.argv[1], "--format", "json", "--output", sys.argv[2]])
print(json.dumps(sorted(m for m in sys.modules if m.startswith("servegate.rules."))))
"""


def test_a_kubernetes_scan_does_not_import_the_terraform_families(tmp_path):
    (tmp_path / "pod.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
                                       "spec: {containers: [{name: c, image: nginx}]}\n")
    output = subprocess.run([sys.executable, "-c", KUBERNETES_ONLY_SCRIPT, str(tmp_path / "pod.yaml"),
                             str(tmp_path / "out.json")], capture_output=True, text=True, check=True).stdout
    loaded = {name.rpartition(".")[2] for name in json.loads(output)}
    assert loaded >= {"k8s_hardening", "graph"} and not loaded & {"aws_cloud", "aws_ml", "azure", "gcp",
                                                                   "cloud_network"}
    report = json.loads((tmp_path / "out.json").read_text())
    assert report["summary"]["rules"] == len(rules_for({KUBERNETES}))


def test_the_command_flushes_its_report_and_keeps_its_exit_code_when_it_ends_without_freeing(tmp_path):
    """``servegate`` ends with ``os._exit`` after a scan (``cli.run``): the report to a pipe must still arrive
    whole, and the exit code must be the scan's."""
    (tmp_path / "pod.yaml").write_text(POD)
    (tmp_path / "broken.yaml").write_text("a: [\n")
    done = subprocess.run([sys.executable, "-m", "servegate", "scan", str(tmp_path), "--format", "json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2  # a file that cannot be parsed fails the run
    report = json.loads(done.stdout)
    found = {(f["rule_id"], Path(f["file"]).name, f["line"]) for f in report["findings"]}
    assert ("MLS-K8S-001", "pod.yaml", 8) in found
    assert [(e["file"], e["line"]) for e in report["errors"]] == [("broken.yaml", 2)]
    clean = subprocess.run([sys.executable, "-m", "servegate", "scan", str(tmp_path / "pod.yaml"), "--format",
                            "sarif"], capture_output=True, text=True, timeout=120)
    assert clean.returncode == 1 and json.loads(clean.stdout)["runs"][0]["results"]
