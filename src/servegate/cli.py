"""Command line: ``servegate scan|baseline|rules|explain``.

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage error or an input that could not be read.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path

from servegate import __version__
from servegate.findings import Severity

EXIT_USAGE = 2
FORMATS = ("text", "json", "sarif", "junit", "github", "markdown")


class UsageError(Exception):
    pass


def _add_scan_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", type=Path,
                        help="files or folders (default: the current directory); `-` reads manifests from stdin")
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="configuration file (default: the nearest .servegate.toml or pyproject.toml)")
    parser.add_argument("--select", action="append", default=[], metavar="ID",
                        help="run only rules whose id starts with this (repeatable, comma-separated)")
    parser.add_argument("--ignore", action="append", default=[], metavar="ID",
                        help="skip rules whose id starts with this (repeatable, comma-separated)")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                        help="leave out paths matching this glob, relative to the scan root (repeatable)")
    parser.add_argument("--var-file", action="append", default=[], type=Path, metavar="FILE",
                        help="Terraform variable definitions file, applied to every root module (repeatable)")
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                        help="Terraform variable value, applied to every root module (repeatable)")
    parser.add_argument("--stdin-name", default="stdin.yaml", metavar="NAME",
                        help="the name findings give to manifests read from standard input")
    parser.add_argument("--max-file-size", type=int, default=None, metavar="BYTES",
                        help="refuse files larger than this (default: 20 MiB)")
    parser.add_argument("--follow-links", action="store_true", help="follow symbolic links leaving the scan root")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="servegate", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"servegate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    scan = sub.add_parser("scan", help="scan files and folders for insecure ML-serving configuration")
    _add_scan_options(scan)
    scan.add_argument("-f", "--format", default="text", choices=FORMATS)
    scan.add_argument("-o", "--output", type=Path, help="write the report to this file instead of standard output")
    scan.add_argument("--fail-on", default=None, metavar="SEVERITY",
                      help="exit 1 when a finding is at or above this severity (default: low)")
    scan.add_argument("--no-fail-on-error", dest="fail_on_error", action="store_false",
                      help="do not exit 2 when an input cannot be parsed (errors are still listed)")
    scan.add_argument("--baseline", type=Path, metavar="FILE", help="report only findings not in this baseline")
    scan.add_argument("--show-fixed", action="store_true", help="list baseline findings that are gone")
    scan.add_argument("--show-suppressed", action="store_true", help="show suppressed findings in text output")
    scan.add_argument("--diff-base", metavar="REF",
                      help="report only findings in files changed since this git ref (the whole scan is analysed)")

    baseline = sub.add_parser("baseline", help="record the current findings, to report only new ones later")
    _add_scan_options(baseline)
    baseline.add_argument("-o", "--output", type=Path, required=True, help="where to write the baseline")

    rules = sub.add_parser("rules", help="list the rules")
    rules.add_argument("-f", "--format", default="text", choices=("text", "markdown", "json"))

    explain = sub.add_parser("explain", help="explain one rule: why it matters and how to fix it")
    explain.add_argument("rule_id")
    return parser


def _split(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _options(args: argparse.Namespace):
    """ScanOptions from the configuration file and the command line (which wins)."""
    from servegate.config import ConfigError, find_config, load_config
    from servegate.model.terraform.values import VariableInputs
    from servegate.rules import BY_ID
    from servegate.scan import DEFAULT_MAX_FILE_SIZE, ScanOptions, scan_root, select_rules
    from servegate.suppression import Baseline

    paths = [p for p in (args.paths or [Path(".")]) if str(p) != "-"]
    reads_stdin = any(str(p) == "-" for p in args.paths)
    missing = [str(p) for p in paths if not p.exists() and not p.is_symlink()]
    if missing:
        raise UsageError(f"no such file or directory: {', '.join(missing)}")
    root = scan_root(paths) if paths else Path.cwd()
    try:
        config_path = args.config or find_config(root)
        config = load_config(config_path) if config_path else None
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    select = _split(args.select) or (config.select if config else [])
    ignore = _split(args.ignore) + (config.ignore if config else [])
    unknown = [s for s in select + ignore if not any(rule_id.startswith(s.upper()) for rule_id in BY_ID)]
    if unknown:
        raise UsageError(f"no rule id starts with: {', '.join(unknown)} (see `servegate rules`)")
    bad_vars = [v for v in args.var if "=" not in v]
    if bad_vars:
        raise UsageError(f"--var takes NAME=VALUE, not {bad_vars[0]!r}")
    baseline = None
    if getattr(args, "baseline", None):
        try:
            baseline = Baseline.load(args.baseline)
        except (OSError, ValueError, KeyError) as exc:
            raise UsageError(f"cannot use baseline {args.baseline}: {exc}") from None
    stdin = ((args.stdin_name, sys.stdin.read()),) if reads_stdin else ()
    options = ScanOptions(
        rules=select_rules(select, ignore),
        max_file_size=args.max_file_size or DEFAULT_MAX_FILE_SIZE,
        follow_outside_links=args.follow_links,
        exclude=tuple(args.exclude) + tuple(config.exclude if config else ()),
        terraform=VariableInputs(tuple((config.var_files if config else [])) + tuple(args.var_file),
                                 tuple((config.variables if config else [])) + tuple(args.var)),
        suppress=tuple(config.suppress if config else ()),
        severity_overrides=dict(config.severity if config else {}),
        baseline=baseline,
        stdin=stdin,
    )
    return paths, options, config


def _changed_files(base: str, root: Path) -> set[str]:
    """Files changed since ``base`` (committed, staged or not), relative to the scan root."""
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=root, capture_output=True, text=True,
                             check=True).stdout.strip()
        names = subprocess.run(["git", "diff", "--name-only", base, "--"], cwd=root, capture_output=True,
                               text=True, check=True).stdout.split()
        untracked = subprocess.run(["git", "ls-files", "--others", "--exclude-standard"], cwd=top,
                                   capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError) as exc:
        raise UsageError(f"--diff-base {base}: git failed: {getattr(exc, 'stderr', '') or exc}") from None
    changed = set()
    for name in names + untracked:
        absolute = Path(top, name).resolve()
        if absolute.is_relative_to(root.resolve()):
            changed.add(absolute.relative_to(root.resolve()).as_posix())
    return changed


class Progress:
    """A one-line counter on a terminal, shown only when a scan takes more than about a second."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if time.monotonic() - self.started < 1.0 or (done % 25 and done != total):
            return
        self.shown = True
        sys.stderr.write(f"\rservegate: reading {done}/{total} files")
        if done == total:
            sys.stderr.write(", evaluating rules...")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _scan(args: argparse.Namespace) -> int:
    from servegate.report import renderer
    from servegate.scan import exit_code, scan

    paths, options, config = _options(args)
    progress = Progress() if sys.stderr.isatty() else None
    if progress is not None:
        options = dataclasses.replace(options, progress=progress)
    try:
        fail_on = Severity.parse(args.fail_on) if args.fail_on else (config.fail_on if config else None)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    result = scan(paths, options)
    if progress is not None:
        progress.finish()
    if args.diff_base:
        changed = _changed_files(args.diff_base, result.root)
        result.findings = [f for f in result.findings if f.location.file in changed
                           or any(r.location.file in changed for r in f.related)]
    if not args.show_fixed:
        result.fixed = []
    report = renderer(args.format)(result, show_suppressed=args.show_suppressed)
    if args.output:
        args.output.write_text(report, encoding="utf-8")
    else:
        sys.stdout.write(report)
    return exit_code(result, fail_on or Severity.LOW, args.fail_on_error)


def _baseline(args: argparse.Namespace) -> int:
    from servegate.scan import scan
    from servegate.suppression import Baseline

    paths, options, _ = _options(args)
    result = scan(paths, options)
    args.output.write_text(Baseline.render(result.findings), encoding="utf-8")
    recorded = sum(1 for f in result.findings if not f.suppressed)
    sys.stderr.write(f"servegate: recorded {recorded} findings in {args.output}\n")
    for error in result.errors:
        sys.stderr.write(f"servegate: error: {error.file}:{error.line}: {error.message}\n")
    return EXIT_USAGE if result.errors else 0


def _rules(args: argparse.Namespace) -> int:
    from servegate.report.rule_docs import catalogue_markdown
    from servegate.rules import REGISTRY

    if args.format == "markdown":
        sys.stdout.write(catalogue_markdown(REGISTRY))
    elif args.format == "json":
        rows = [{"id": r.id, "name": r.name, "title": r.title, "severity": r.severity.label,
                 "confidence": r.confidence.label, "family": r.family} for r in REGISTRY]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    else:
        for rule in REGISTRY:
            sys.stdout.write(f"{rule.id:<13} {rule.severity.label:<9} {rule.name:<40} {rule.title}\n")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from servegate.report.rule_docs import rule_text
    from servegate.rules import BY_ID, REGISTRY

    wanted = args.rule_id.strip()
    rule = BY_ID.get(wanted.upper()) or next((r for r in REGISTRY if r.name == wanted), None)
    if rule is None:
        raise UsageError(f"unknown rule {wanted!r} (see `servegate rules`)")
    sys.stdout.write(rule_text(rule))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"scan": _scan, "baseline": _baseline, "rules": _rules, "explain": _explain}
    try:
        return handlers[args.command](args)
    except UsageError as exc:
        sys.stderr.write(f"servegate: error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
