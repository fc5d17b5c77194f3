"""Every rule has failing and passing fixtures; each fixture marks the exact lines where it must fire.

A fixture lives in ``fixtures/rules/<RULE-ID>/`` and is named ``fail*`` or ``pass*``: a file, or a folder
scanned as a whole (a Terraform configuration with its modules and tfvars). A line that must produce a
finding ends with ``# expect: <RULE-ID>`` (several ids comma-separated), in YAML and HCL alike.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from servegate.rules import BY_ID, REGISTRY
from servegate.scan import ScanOptions, scan

RULE_FIXTURES = Path(__file__).parent / "fixtures" / "rules"
MARKER = re.compile(r"#\s*expect:\s*([A-Z0-9,\s-]+)$")


def expected(fixture: Path) -> set[tuple[str, str, int]]:
    """(file relative to the scan root, rule id, line) for every marked line."""
    files = sorted(p for p in fixture.rglob("*") if p.is_file()) if fixture.is_dir() else [fixture]
    root = fixture if fixture.is_dir() else fixture.parent
    marks = set()
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = MARKER.search(line)
            if match:
                marks |= {(path.relative_to(root).as_posix(), rule_id.strip(), number)
                          for rule_id in match.group(1).split(",") if rule_id.strip()}
    return marks


def fixture_files() -> list[Path]:
    return sorted(RULE_FIXTURES.glob("*/*"))


@pytest.mark.parametrize("rule", REGISTRY, ids=lambda r: r.id)
def test_rule_has_failing_and_passing_fixtures(rule):
    folder = RULE_FIXTURES / rule.id
    names = [p.name for p in folder.glob("*")] if folder.is_dir() else []
    assert any(n.startswith("fail") for n in names), f"{rule.id} has no failing fixture in {folder}"
    assert any(n.startswith("pass") for n in names), f"{rule.id} has no passing fixture in {folder}"


def test_fixture_folders_name_real_rules():
    assert {p.name for p in RULE_FIXTURES.iterdir() if p.is_dir()} <= set(BY_ID)


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_findings_are_exactly_the_marked_lines(path: Path):
    rule_id = path.parent.name
    result = scan([path], ScanOptions(rules=REGISTRY))
    assert not result.errors, result.errors
    marks = expected(path)
    if path.name.startswith("pass"):
        assert not {m for m in marks if m[1] == rule_id}, "a passing fixture must not expect its own rule"
    else:
        assert any(m[1] == rule_id for m in marks), "a failing fixture must mark at least one line for its rule"
    marked_rules = {rule for _, rule, _ in marks} | {rule_id}
    found = {(f.location.file, f.rule_id, f.location.line) for f in result.findings if f.rule_id in marked_rules}
    assert found == marks
