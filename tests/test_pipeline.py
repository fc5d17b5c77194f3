"""Fitting into repositories and CI: suppressions, configuration, baselines, output formats, stdin, diffs."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from servegate.cli import main
from servegate.config import ConfigError, load_config
from servegate.scan import ScanOptions, scan, select_rules
from servegate.suppression import Baseline

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  annotations:
    ignore.servegate.dev/KUBE-018: "base image is rebuilt nightly, digest pinned at deploy"
spec:
  containers:
  - name: web
    image: nginx:1.27
    securityContext:
      privileged: true  # servegate:ignore[KUBE-001] needs raw sockets for the eBPF probe
      # servegate:ignore[KUBE-027]
      allowPrivilegeEscalation: false
"""
RULES = select_rules(["KUBE-001", "KUBE-018", "KUBE-027"])


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_inline_and_annotation_suppressions_keep_an_audit_trail(tmp_path: Path):
    (tmp_path / "pod.yaml").write_text(POD)
    result = scan([tmp_path], ScanOptions(rules=RULES))
    by_rule = {f.rule_id: f for f in result.findings}
    assert by_rule["KUBE-001"].suppressed and by_rule["KUBE-001"].suppression == "inline"
    assert by_rule["KUBE-001"].justification == "needs raw sockets for the eBPF probe"
    assert by_rule["KUBE-018"].suppressed and by_rule["KUBE-018"].suppression == "annotation"
    warnings = [(w.file, w.line, w.message) for w in result.warnings]
    assert ("pod.yaml", 13, "suppression of KUBE-027 gives no reason") in warnings
    assert ("pod.yaml", 13, "suppression of KUBE-027 matches no finding") in warnings


def test_suppressed_findings_stay_in_json_and_sarif_but_not_in_text(tmp_path: Path, capsys):
    (tmp_path / "pod.yaml").write_text(POD)
    code, out, _ = run(capsys, "scan", str(tmp_path), "--select", "KUBE-001,KUBE-018", "-f", "json")
    finding = next(f for f in json.loads(out)["findings"] if f["rule_id"] == "KUBE-001")
    assert finding["suppressed"] and finding["suppression"]["kind"] == "inline"
    assert code == 0  # everything found is suppressed
    _, out, _ = run(capsys, "scan", str(tmp_path), "--select", "KUBE-001,KUBE-018", "-f", "sarif")
    result = next(r for r in json.loads(out)["runs"][0]["results"] if r["ruleId"] == "KUBE-001")
    assert result["suppressions"][0]["justification"] == "needs raw sockets for the eBPF probe"
    _, out, _ = run(capsys, "scan", str(tmp_path), "--select", "KUBE-001,KUBE-018")
    assert "KUBE-001" not in out.split("warning")[0] and "2 suppressed" in out
    _, out, _ = run(capsys, "scan", str(tmp_path), "--select", "KUBE-001,KUBE-018", "--show-suppressed")
    assert "[suppressed: needs raw sockets" in out


def test_hcl_inline_suppression(tmp_path: Path):
    (tmp_path / "main.tf").write_text(
        'resource "aws_security_group" "ssh" {\n'
        '  ingress {\n'
        '    from_port   = 22\n    to_port     = 22\n    protocol    = "tcp"\n'
        '    # servegate:ignore[TF-NET-001] bastion, replaced by SSM next quarter\n'
        '    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n'
    )
    result = scan([tmp_path], ScanOptions(rules=select_rules(["TF-NET-001"])))
    assert [(f.rule_id, f.location.line, f.suppressed) for f in result.findings] == [("TF-NET-001", 7, True)]


def test_configuration_file(tmp_path: Path, capsys):
    (tmp_path / "pod.yaml").write_text(POD.replace("      # servegate:ignore[KUBE-027]\n", ""))
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "pod.yaml").write_text(POD.replace("servegate:ignore", "x"))
    (tmp_path / ".servegate.toml").write_text(
        'select = ["KUBE-001", "KUBE-018"]\nfail-on = "critical"\n'
        '[severity]\nKUBE-018 = "info"\n'
        '[[suppress]]\nrule = "KUBE-001"\npath = "demo/**"\nreason = "demo manifests, never deployed"\n'
    )
    code, out, _ = run(capsys, "scan", str(tmp_path), "-f", "json")
    report = json.loads(out)
    assert code == 0  # fail-on critical from the file
    assert {f["rule_id"] for f in report["findings"]} == {"KUBE-001", "KUBE-018"}
    assert all(f["severity"] == "info" for f in report["findings"] if f["rule_id"] == "KUBE-018")
    demo = next(f for f in report["findings"] if f["file"] == "demo/pod.yaml" and f["rule_id"] == "KUBE-001")
    assert demo["suppression"] == {"kind": "config", "justification": "demo manifests, never deployed"}


def test_pyproject_section_and_unknown_keys(tmp_path: Path, capsys):
    (tmp_path / "pyproject.toml").write_text('[tool.servegate]\nselect = ["KUBE-001"]\nfail_on = "high"\n')
    (tmp_path / "pod.yaml").write_text(POD)
    code, _, err = run(capsys, "scan", str(tmp_path))
    assert code == 2 and "unknown key(s) fail_on" in err and "pyproject.toml" in err
    bad = tmp_path / "bad.toml"
    bad.write_text("[[suppress]]\npath = 'x'\n")
    with pytest.raises(ConfigError, match="needs `rule`"):
        load_config(bad)


def test_baseline_survives_an_inserted_line(tmp_path: Path, capsys):
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(POD.replace("servegate:ignore", "x").replace("ignore.servegate.dev", "x.example.com"))
    baseline = tmp_path / "baseline.json"
    assert run(capsys, "baseline", str(manifest), "--select", "KUBE-001,KUBE-018", "-o", str(baseline))[0] == 0
    assert len(json.loads(baseline.read_text())["findings"]) == 2
    manifest.write_text("# a new comment line shifts everything down\n" + manifest.read_text()
                        + "  - name: sidecar\n    image: busybox:1.36\n    securityContext: {privileged: true}\n")
    code, out, _ = run(capsys, "scan", str(manifest), "--select", "KUBE-001,KUBE-018", "--baseline", str(baseline),
                       "-f", "json", "--show-fixed")
    report = json.loads(out)
    new = [f for f in report["findings"] if not f["suppressed"]]
    assert code == 1 and {(f["rule_id"], f["line"]) for f in new} == {("KUBE-001", 18), ("KUBE-018", 17)}
    assert all(f["suppression"]["kind"] == "baseline" for f in report["findings"] if f["suppressed"])
    assert report["fixed"] == []
    manifest.write_text(POD.replace("servegate:ignore", "x").replace("privileged: true", "privileged: false"))
    _, out, _ = run(capsys, "scan", str(manifest), "--select", "KUBE-001", "--baseline", str(baseline), "-f", "json",
                    "--show-fixed")
    assert [e["rule_id"] for e in json.loads(out)["fixed"]] == ["KUBE-001"]


def test_baseline_file_must_be_ours(tmp_path: Path, capsys):
    bogus = tmp_path / "b.json"
    bogus.write_text('{"findings": []}')
    (tmp_path / "pod.yaml").write_text(POD)
    code, _, err = run(capsys, "scan", str(tmp_path / "pod.yaml"), "--baseline", str(bogus))
    assert code == 2 and "not a servegate baseline" in err
    assert Baseline.render([]).startswith('{\n  "version": 1')


def test_junit_github_and_markdown_formats(tmp_path: Path, capsys):
    (tmp_path / "pod.yaml").write_text(POD.replace("servegate:ignore", "x"))
    (tmp_path / "broken.yaml").write_text("kind: [\n")
    _, out, _ = run(capsys, "scan", str(tmp_path), "--select", "KUBE-001", "-f", "junit")
    suites = ET.fromstring(out.split("\n", 1)[1])
    assert suites.get("failures") == "1" and suites.get("errors") == "1"
    case = suites.find("testsuite/testcase")
    assert case.get("classname") == "KUBE-001" and case.get("line") == "12"
    _, out, _ = run(capsys, "scan", str(tmp_path), "--select", "KUBE-001", "-f", "github")
    lines = out.splitlines()
    assert lines[0].startswith("::error file=pod.yaml,line=12,endLine=12,col=7,title=KUBE-001 Container runs privileged::")
    assert lines[1].startswith("::error file=broken.yaml,line=2,title=servegate input error::")
    _, out, _ = run(capsys, "scan", str(tmp_path), "--select", "KUBE-001", "-f", "markdown")
    assert "**1 findings**" in out and "| 🟧 high | `KUBE-001` | `pod.yaml:12` |" in out
    assert "1 inputs could not be read" in out


def test_standard_input(capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(POD.replace("servegate:ignore", "x")))
    code, out, _ = run(capsys, "scan", "-", "--stdin-name", "rendered.yaml", "--select", "KUBE-001", "-f", "json")
    report = json.loads(out)
    assert code == 1 and [(f["file"], f["line"]) for f in report["findings"]] == [("rendered.yaml", 12)]


def test_diff_base_reports_only_changed_files(tmp_path: Path, capsys):
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    (tmp_path / "old.yaml").write_text(POD.replace("servegate:ignore", "x"))
    git("add", ".")
    git("commit", "-qm", "base")
    (tmp_path / "new.yaml").write_text(POD.replace("servegate:ignore", "x").replace("name: web", "name: api"))
    code, out, _ = run(capsys, "scan", str(tmp_path), "--select", "KUBE-001", "--diff-base", "HEAD", "-f", "json")
    assert code == 1 and {f["file"] for f in json.loads(out)["findings"]} == {"new.yaml"}
    code, _, err = run(capsys, "scan", str(tmp_path), "--diff-base", "no-such-ref")
    assert code == 2 and "git failed" in err


def test_progress_is_reported_through_a_callback(tmp_path: Path):
    for index in range(3):
        (tmp_path / f"p{index}.yaml").write_text(POD)
    seen: list[tuple[int, int]] = []
    scan([tmp_path], ScanOptions(rules=RULES, progress=lambda done, total: seen.append((done, total))))
    assert seen == [(1, 3), (2, 3), (3, 3)]
