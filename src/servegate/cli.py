"""Command line: ``servegate scan|rules|explain``. Exit codes: 0 clean, 1 findings, 2 usage or input errors."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from servegate import __version__
from servegate.findings import Severity

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="servegate", description=__doc__.split(".")[0] + ".")
    parser.add_argument("--version", action="version", version=f"servegate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    scan = sub.add_parser("scan", help="scan files and folders for insecure ML-serving configuration")
    scan.add_argument("paths", nargs="*", type=Path, help="files or folders (default: the current directory)")
    scan.add_argument("-f", "--format", default="text", choices=("text", "json", "sarif"))
    scan.add_argument("-o", "--output", type=Path, help="write the report to this file instead of standard output")
    scan.add_argument("--fail-on", default="low", metavar="SEVERITY",
                      help="exit 1 when a finding is at or above this severity (default: low)")
    scan.add_argument("--no-fail-on-error", dest="fail_on_error", action="store_false",
                      help="do not exit 2 when an input cannot be parsed (errors are still listed)")
    scan.add_argument("--select", action="append", default=[], metavar="ID",
                      help="run only rules whose id starts with this (repeatable, comma-separated)")
    scan.add_argument("--ignore", action="append", default=[], metavar="ID",
                      help="skip rules whose id starts with this (repeatable, comma-separated)")
    scan.add_argument("--max-file-size", type=int, default=None, metavar="BYTES",
                      help="refuse files larger than this (default: 20 MiB)")
    scan.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                      help="leave out paths matching this glob, relative to the scan root (repeatable)")
    scan.add_argument("--var-file", action="append", default=[], type=Path, metavar="FILE",
                      help="Terraform variable definitions file, applied to every root module (repeatable)")
    scan.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                      help="Terraform variable value, applied to every root module (repeatable)")
    scan.add_argument("--follow-links", action="store_true", help="follow symbolic links leaving the scan root")

    rules = sub.add_parser("rules", help="list the rules")
    rules.add_argument("-f", "--format", default="text", choices=("text", "markdown", "json"))

    explain = sub.add_parser("explain", help="explain one rule: why it matters and how to fix it")
    explain.add_argument("rule_id")
    return parser


def _split(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _scan(args: argparse.Namespace) -> int:
    from servegate.report import renderer
    from servegate.rules import BY_ID
    from servegate.model.terraform.values import VariableInputs
    from servegate.scan import DEFAULT_MAX_FILE_SIZE, ScanOptions, exit_code, scan, select_rules

    try:
        fail_on = Severity.parse(args.fail_on)
    except ValueError as exc:
        return _usage(str(exc))
    select, ignore = _split(args.select), _split(args.ignore)
    unknown = [s for s in select + ignore if not any(rule_id.startswith(s.upper()) for rule_id in BY_ID)]
    if unknown:
        return _usage(f"no rule id starts with: {', '.join(unknown)} (see `servegate rules`)")
    bad_vars = [v for v in args.var if "=" not in v]
    if bad_vars:
        return _usage(f"--var takes NAME=VALUE, not {bad_vars[0]!r}")
    paths = args.paths or [Path(".")]
    missing = [str(p) for p in paths if not p.exists() and not p.is_symlink()]
    if missing:
        return _usage(f"no such file or directory: {', '.join(missing)}")
    options = ScanOptions(
        rules=select_rules(select, ignore),
        max_file_size=args.max_file_size or DEFAULT_MAX_FILE_SIZE,
        follow_outside_links=args.follow_links,
        exclude=tuple(args.exclude),
        terraform=VariableInputs(tuple(args.var_file), tuple(args.var)),
    )
    result = scan(paths, options)
    report = renderer(args.format)(result)
    if args.output:
        args.output.write_text(report, encoding="utf-8")
    else:
        sys.stdout.write(report)
    return exit_code(result, fail_on, args.fail_on_error)


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
        return _usage(f"unknown rule {wanted!r} (see `servegate rules`)")
    sys.stdout.write(rule_text(rule))
    return 0


def _usage(message: str) -> int:
    sys.stderr.write(f"servegate: error: {message}\n")
    return EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"scan": _scan, "rules": _rules, "explain": _explain}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
