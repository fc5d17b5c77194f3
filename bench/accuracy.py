#!/usr/bin/env python3
"""Score servegate against a labelled split (for example ../shared/groundtruth/dev).

    python bench/accuracy.py SPLIT_DIR [--findings FILE] [--platform k8s] [-- extra score.py args]

Scans SPLIT_DIR with servegate's JSON output, converts each finding to the scorer's format by
mapping rule ids to benchmark categories, writes that to FILE, and runs the ``score.py`` that sits
next to SPLIT_DIR when there is one. The mapping says what each rule detects; a rule maps to a
category only when it detects what the category means.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

# rule id -> categories. A callable decides per finding (rules that detect two things).
CATEGORIES: dict[str, object] = {
    "KUBE-001": ["k8s.privileged"],
    "KUBE-002": ["k8s.priv_escalation"],
    "KUBE-003": ["k8s.run_as_root"],
    "KUBE-004": ["k8s.caps_added"],
    "KUBE-005": ["k8s.caps_not_dropped"],
    "KUBE-006": ["k8s.host_namespace"],
    "KUBE-007": ["k8s.host_namespace"],
    "KUBE-008": ["k8s.host_namespace"],
    "KUBE-009": ["k8s.host_path"],
    "KUBE-010": ["k8s.rw_rootfs"],
    "KUBE-011": ["k8s.cpu_limits"],
    "KUBE-012": ["k8s.memory_limits"],
    "KUBE-013": ["k8s.cpu_requests"],
    "KUBE-015": ["k8s.sa_token_automount"],
    "KUBE-016": ["k8s.default_sa"],
    "KUBE-017": ["k8s.image_latest_tag"],
    "KUBE-018": ["k8s.image_no_digest"],
    "KUBE-019": ["k8s.service_exposed"],
    "KUBE-020": ["k8s.netpol"],
    "KUBE-021": ["k8s.rbac_overprivileged"],
    "KUBE-022": ["k8s.rbac_overprivileged"],
    "KUBE-023": ["k8s.rbac_overprivileged"],
    "KUBE-024": ["k8s.secrets_env"],
    "KUBE-025": ["k8s.seccomp"],
    "KUBE-026": ["k8s.apparmor"],
    "KUBE-028": ["k8s.rbac_overprivileged"],
    "MLS-K8S-001": ["k8s.privileged"],
    "MLS-K8S-003": ["k8s.host_path"],
    "MLS-K8S-004": ["k8s.host_namespace"],
    "MLS-K8S-006": ["k8s.host_namespace"],
    "MLS-K8S-007": ["k8s.caps_added"],
    "MLS-K8S-009": lambda f: ["k8s.priv_escalation"] if f["path"].endswith("allowPrivilegeEscalation")
    else ["k8s.run_as_root"],
    "MLS-K8S-010": ["k8s.sa_token_automount"],
    "MLS-K8S-011": lambda f: ["k8s.memory_limits"] if f["path"].endswith("memory") else [],
    "MLS-K8S-012": ["k8s.image_no_digest"],
    "MLS-NET-001": ["k8s.service_exposed"],
}


def categories(finding: dict) -> list[str]:
    mapped = CATEGORIES.get(finding["rule_id"], [])
    return list(mapped(finding) if callable(mapped) else mapped)


def convert(report: dict) -> dict:
    out = []
    for finding in report["findings"]:
        if finding.get("suppressed"):
            continue
        for category in categories(finding):
            out.append({"file": finding["file"], "line": finding["line"], "category": category,
                        "resource": finding["resource"], "rule_id": finding["rule_id"]})
    return {"findings": out}


def run_servegate(split: Path) -> dict:
    command = [sys.executable, "-m", "servegate", "scan", str(split), "--format", "json", "--no-fail-on-error"]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode not in (0, 1):
        sys.stderr.write(completed.stderr)
        raise SystemExit(f"servegate failed with exit code {completed.returncode}")
    return json.loads(completed.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("split", type=Path)
    parser.add_argument("--findings", type=Path, help="where to write the scorer-format findings")
    parser.add_argument("score_args", nargs="*", help="passed to score.py (after --)")
    args = parser.parse_args()
    report = run_servegate(args.split)
    converted = convert(report)
    target = args.findings or Path(tempfile.mkstemp(suffix=".json", prefix="servegate-findings-")[1])
    target.write_text(json.dumps(converted, indent=1), encoding="utf-8")
    print(f"{len(converted['findings'])} scorer findings from {len(report['findings'])} servegate findings "
          f"-> {target}", file=sys.stderr)
    for error in report["errors"]:
        print(f"input error: {error['file']}:{error['line']}: {error['message']}", file=sys.stderr)
    scorer = args.split.resolve().parent / "score.py"
    if not scorer.is_file():
        return 0
    return subprocess.run([sys.executable, str(scorer), str(args.split), str(target), *args.score_args],
                          check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
