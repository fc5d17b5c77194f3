"""Apply the fixes of a scan: in rounds, on working copies, re-parsing and re-scanning after each round.

A round scans the working copies, takes one fix per fixable finding (safe ones, and unsafe ones when asked),
and applies them file by file in position order. A fix whose edits overlap an edit already taken in the
round waits for the next round, where it is planned again against the updated text (two fixes that both
create `securityContext` cannot be applied blindly together, but one after the other they can). A file that
no longer parses after a round is rolled back to its text before the round, and the fixes that touched it
are reported and not tried again. The rounds end when nothing is left to apply; a final scan says what
remains. Nothing is written unless the caller writes ``FixOutcome.changed``.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path

from servegate.findings import Applicability, Finding, Fix
from servegate.fix.text import TextEdit, apply_edits, overlaps
from servegate.discover import SourceFile, discover
from servegate.scan import ScanOptions, ScanResult, read_text, scan

MAX_ROUNDS = 25


@dataclass(frozen=True)
class FixOptions:
    unsafe: bool = False  # also apply fixes that may change behaviour
    rules: tuple[str, ...] = ()  # only findings of rules whose id starts with one of these


@dataclass(frozen=True)
class Applied:
    finding: Finding
    fix: Fix


@dataclass
class FixOutcome:
    root: Path
    before: ScanResult  # the first scan
    after: ScanResult  # the scan of the fixed texts
    original: dict[str, str] = field(default_factory=dict)  # display path -> text as scanned
    changed: dict[str, str] = field(default_factory=dict)  # display path -> fixed text, for changed files
    applied: list[Applied] = field(default_factory=list)
    broken: list[tuple[Applied, str]] = field(default_factory=list)  # not applied: the file would not parse
    rounds: int = 0
    paths: dict[str, Path] = field(default_factory=dict)  # display path -> the file on disk

    @property
    def fixed(self) -> list[Finding]:
        """Findings of the first scan that the last one no longer reports."""
        remaining = {f.fingerprint for f in self.after.findings}
        return [f for f in self.before.findings if not f.suppressed and f.fingerprint not in remaining]

    def diff(self) -> str:
        out = []
        for file in sorted(self.changed):
            out.extend(difflib.unified_diff(self.original[file].splitlines(keepends=True),
                                            self.changed[file].splitlines(keepends=True),
                                            fromfile=f"a/{file}", tofile=f"b/{file}"))
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in out)

    def write(self) -> None:
        """Write every changed file, keeping a byte-order mark the original had."""
        for file, text in self.changed.items():
            path = self.paths[file]
            bom = path.read_bytes().startswith(b"\xef\xbb\xbf")
            path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))


def _wanted(finding: Finding, options: FixOptions) -> Fix | None:
    if finding.suppressed or (options.rules and not finding.rule_id.startswith(options.rules)):
        return None
    return next((fix for fix in finding.fixes
                 if fix.applicability is Applicability.SAFE or options.unsafe), None)


def _key(finding: Finding, fix: Fix) -> tuple[str, str, str]:
    return finding.fingerprint, finding.rule_id, fix.title


def fix_paths(paths: list[Path], scan_options: ScanOptions = ScanOptions(),
              options: FixOptions = FixOptions()) -> FixOutcome:
    options = dataclasses.replace(options, rules=tuple(r.upper() for r in options.rules))
    texts: dict[str, str] = dict(scan_options.texts)
    result = scan(paths, scan_options)
    outcome = FixOutcome(result.root, result, result)
    files, _ = discover(paths, result.root, scan_options.follow_outside_links, scan_options.exclude)
    outcome.paths = {source.display: source.path for source in files}
    failed: set[tuple[str, str, str]] = set()
    for _ in range(MAX_ROUNDS):
        chosen = [(f, fix) for f in result.findings if (fix := _wanted(f, options)) and _key(f, fix) not in failed]
        taken = _non_overlapping(chosen)
        if not taken:
            break
        outcome.rounds += 1
        applied = _apply_round(taken, texts, outcome, failed, scan_options.max_file_size)
        if not applied:
            break
        result = scan(paths, dataclasses.replace(scan_options, texts=texts))
    outcome.after = result
    outcome.changed = {file: text for file, text in texts.items() if outcome.original.get(file) != text}
    return outcome


def _non_overlapping(chosen: list[tuple[Finding, Fix]]) -> list[Applied]:
    """The fixes of one round: in finding order, each one whose edits touch nothing already taken."""
    taken: list[Applied] = []
    by_file: dict[str, list[TextEdit]] = {}
    for finding, fix in chosen:
        edits = [(e.file, (e.offset, e.end_offset, e.text)) for e in fix.edits]
        if any(overlaps(edit, other) for file, edit in edits for other in by_file.get(file, ())):
            continue  # planned again next round, against the text this round produces
        for file, edit in edits:
            by_file.setdefault(file, []).append(edit)
        taken.append(Applied(finding, fix))
    return taken


def _apply_round(taken: list[Applied], texts: dict[str, str], outcome: FixOutcome,
                 failed: set[tuple[str, str, str]], max_size: int) -> bool:
    """Apply the round's fixes to the working copies; a file that would no longer parse keeps its text, and
    the fixes that touched it are dropped. True when any file changed."""
    while taken:
        by_file: dict[str, list[TextEdit]] = {}
        for item in taken:
            for e in item.fix.edits:
                by_file.setdefault(e.file, []).append((e.offset, e.end_offset, e.text))
        new_texts, broken = {}, {}
        for file, edits in by_file.items():
            if file not in texts:
                current = read_text(SourceFile(outcome.paths[file], file, ""), max_size) \
                    if file in outcome.paths else None
                if not isinstance(current, str):
                    broken[file] = current.message if current is not None else "not a file of the scan"
                    continue
                texts[file] = current
            outcome.original.setdefault(file, texts[file])
            new_texts[file] = apply_edits(texts[file], edits)
        broken.update({file: problem for file, text in new_texts.items()
                       if (problem := parse_problem(file, text)) and not parse_problem(file, texts[file])})
        if not broken:
            changed = any(texts[file] != text for file, text in new_texts.items())
            texts.update(new_texts)
            outcome.applied.extend(taken)
            return changed
        keep = []
        for item in taken:
            problem = next((broken[e.file] for e in item.fix.edits if e.file in broken), None)
            if problem is None:
                keep.append(item)
            else:
                failed.add(_key(item.finding, item.fix))
                outcome.broken.append((item, problem))
        taken = keep
    return False


def parse_problem(file: str, text: str) -> str | None:
    """Why the text no longer loads as the kind of file it is, or None."""
    if file.endswith((".tf", ".tfvars")):
        from servegate.sources.hcl_loader import parse_hcl

        problems = parse_hcl(text).problems
        return f"line {problems[0].line}: {problems[0].message}" if problems else None
    from servegate.sources.yaml_loader import load_documents

    _, error = load_documents(text.replace("\t", " ") if file.endswith(".json") else text)
    return f"line {error.line}: {error.message}" if error else None
