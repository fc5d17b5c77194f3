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
import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path

def load_categories() -> dict[str, object]:
    """rule id -> categories, merged from ``bench/categories/*.py`` (one module per rule family).

    A value is a list of category ids, or a callable deciding per finding (rules detecting two things).
    """
    merged: dict[str, object] = {}
    folder = Path(__file__).parent / "categories"
    for path in sorted(folder.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"categories_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        merged.update(module.CATEGORIES)
    return merged


CATEGORIES = load_categories()


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
    # Absolute, so that findings name files relative to the split, as its labels do, from any working directory.
    command = [sys.executable, "-m", "servegate", "scan", str(split.resolve()), "--format", "json", "--no-fail-on-error"]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode not in (0, 1):
        sys.stderr.write(completed.stderr)
        raise SystemExit(f"servegate failed with exit code {completed.returncode}")
    return json.loads(completed.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("split", type=Path)
    parser.add_argument("--findings", type=Path, help="where to write the scorer-format findings")
    args, score_args = parser.parse_known_args()  # the rest goes to score.py (``--per-case``, ``--json F``...)
    score_args = [a for a in score_args if a != "--"]
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
    return subprocess.run([sys.executable, str(scorer), str(args.split), str(target), *score_args],
                          check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
