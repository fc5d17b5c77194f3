"""Command line: ``servegate scan|baseline|rules|explain|fix|policy|admit|init``.

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage error or an input that could not be read.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

from servegate import __version__
from servegate.findings import Severity

EXIT_USAGE = 2
FORMATS = ("text", "json", "sarif", "junit", "github", "markdown", "html")


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
                        help="refuse files larger than this, and overlays that read one (default: 20 MiB)")
    parser.add_argument("--follow-links", action="store_true", help="follow symbolic links leaving the scan root")
    parser.add_argument("--jobs", "-j", type=_positive_int, default=None, metavar="N",
                        help="processes evaluating the rules (default: one per core on large scans; the report "
                             "is the same whatever N)")
    _add_render_options(parser)
    _add_policy_options(parser)


def _add_policy_options(parser: argparse.ArgumentParser) -> None:
    """Custom Rego policies, with Conftest's options (see servegate.policy)."""
    group = parser.add_argument_group("custom policies (Rego, Conftest conventions)")
    group.add_argument("--policy", action="append", default=[], type=Path, metavar="PATH",
                       help="Rego policies (.rego files and .json/.yaml data documents) to run (repeatable)")
    group.add_argument("--namespace", action="append", default=[], metavar="NAME",
                       help="policy package to run (repeatable; default: main)")
    group.add_argument("--all-namespaces", action="store_true", help="run every package of the policies")
    group.add_argument("--combine", action="store_true",
                       help="give policies every document at once: input = [{path, contents}, ...]")
    group.add_argument("--parser", choices=("yaml", "json", "hcl2"),
                       help="read every file with this parser (default: by file name)")
    group.add_argument("--data", action="append", default=[], type=Path, metavar="PATH",
                       help="data documents (.json/.yaml) merged into `data`, as Conftest's --data (repeatable)")
    group.add_argument("--only-policies", action="store_true", help="run the custom policies alone")
    group.add_argument("--policy-timeout", type=float, default=None, metavar="SECONDS",
                       help="limit for evaluating the policies over one input (default: 10)")


def _policy_set(args: argparse.Namespace, config, select: list[str], ignore: list[str]):
    """The loaded policies of --policy and the configuration's ``policies``, or None when there are none."""
    paths = tuple(args.policy) + tuple(config.policies if config else ())
    if not paths:
        if args.only_policies:
            raise UsageError("--only-policies needs policies: --policy PATH, or `policies` in the configuration")
        return None
    import atexit  # the policy machinery only when there are policies: a plain scan starts faster

    from servegate.policy import PolicyLoadError, PolicyOptions, load_policies
    from servegate.policy.engine import DEFAULT_TIMEOUT, BindingsMissing

    options = PolicyOptions(paths, tuple(args.data), tuple(args.namespace) or ("main",), args.all_namespaces,
                            args.combine, args.parser, args.policy_timeout or DEFAULT_TIMEOUT, tuple(select),
                            tuple(ignore))
    try:
        policies = load_policies(options)
    except BindingsMissing as exc:
        raise UsageError(f"{exc}\n*** custom policies were requested, and they cannot run: nothing was scanned "
                         f"***") from None
    except PolicyLoadError as exc:
        raise UsageError(f"policy error: {exc}") from None
    atexit.register(policies.close)
    return policies  # its warnings (a v0 rewrite, an empty namespace) are in the report


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def _add_render_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--helm-values", action="append", default=[], type=Path, metavar="FILE",
                        help="Helm values file applied to every chart in the scan, after values.yaml (repeatable)")
    parser.add_argument("--helm-set", action="append", default=[], metavar="KEY=VALUE",
                        help="Helm value applied to every chart, after the values files (repeatable)")
    parser.add_argument("--skip-render", action="store_true",
                        help="do not render Helm charts or build Kustomize overlays (templates are listed as "
                             "skipped, overlays read as plain YAML)")


def _render_options(args: argparse.Namespace):
    from servegate.render import RenderOptions

    missing = [str(p) for p in args.helm_values if not p.is_file()]
    if missing:
        raise UsageError(f"--helm-values: no such file: {', '.join(missing)}")
    bad = [s for s in args.helm_set if "=" not in s]
    if bad:
        raise UsageError(f"--helm-set takes KEY=VALUE, not {bad[0]!r}")
    return RenderOptions(tuple(args.helm_values), tuple(args.helm_set), args.skip_render)


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
    _add_fix_command(sub)
    _add_policy_command(sub)
    _add_admit_command(sub)
    _add_init_command(sub)
    _add_graph_command(sub)
    return parser


def _add_policy_command(sub) -> None:
    policy = sub.add_parser("policy", help="work with custom Rego policies")
    actions = policy.add_subparsers(dest="policy_command", required=True)
    test = actions.add_parser("test", help="run Rego unit tests (rules named test_*), as `opa test` does")
    test.add_argument("paths", nargs="+", type=Path, help="policy files or folders")
    test.add_argument("--data", action="append", default=[], type=Path, metavar="PATH",
                      help="data documents merged into `data` (repeatable)")
    test.add_argument("--run", default="", metavar="REGEX", help="run only tests whose data.<package>.<name> matches")
    test.add_argument("-v", "--verbose", action="store_true", help="list every test, not only failures")
    test.add_argument("--timeout", type=float, default=None, metavar="SECONDS", help="limit per test (default: 10)")


def _add_admit_command(sub) -> None:
    admit = sub.add_parser("admit", help="serve the rules as a Kubernetes validating admission webhook (HTTPS)",
                           description="Serve POST /validate (admission.k8s.io/v1 AdmissionReview), /healthz and "
                                       "/readyz over HTTPS until SIGTERM. See deploy/admission/README.md.")
    admit.add_argument("--tls-cert", type=Path, required=True, metavar="FILE",
                       help="serving certificate (PEM, chain included); reloaded when the file changes")
    admit.add_argument("--tls-key", type=Path, required=True, metavar="FILE", help="its private key (PEM)")
    admit.add_argument("--port", type=int, default=8443, help="port to listen on (default: 8443)")
    admit.add_argument("--host", default="0.0.0.0", help="address to listen on (default: every IPv4 address)")
    admit.add_argument("--config", type=Path, metavar="FILE",
                       help="configuration file: select, ignore, [severity], [[suppress]], policies and the [admit] "
                            "table (none by default)")
    admit.add_argument("--deny", metavar="SEVERITIES",
                       help="severities that refuse the object (default: high,critical)")
    admit.add_argument("--warn", metavar="SEVERITIES",
                       help="severities returned as warnings (default: every severity that does not deny)")
    admit.add_argument("--exclude-namespace", action="append", default=[], metavar="NAME",
                       help="never judge objects of this namespace (repeatable)")
    admit.add_argument("--dry-run", action="store_true",
                       help="never deny: return what would deny as warnings, and log it")
    admit.add_argument("--max-body-size", type=int, default=None, metavar="BYTES",
                       help="refuse larger requests with 413 (default: 8 MiB)")
    admit.add_argument("--request-timeout", type=float, default=None, metavar="SECONDS",
                       help="time to read and judge one request (default: 5)")
    admit.add_argument("--shutdown-delay", type=float, default=0.0, metavar="SECONDS",
                       help="after SIGTERM, keep serving this long with readiness failing, then stop (default: 0)")
    admit.add_argument("--workers", type=int, default=None, metavar="N",
                       help="server processes sharing the port (default: one per CPU the container may use)")
    admit.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    group = admit.add_argument_group("custom policies (Rego, as in `servegate scan`)")
    group.add_argument("--policy", action="append", default=[], type=Path, metavar="PATH",
                       help="Rego policies (.rego files and .json/.yaml data documents) to run (repeatable)")
    group.add_argument("--data", action="append", default=[], type=Path, metavar="PATH",
                       help="data documents merged into `data` (repeatable)")
    group.add_argument("--namespace", action="append", default=[], metavar="PACKAGE",
                       help="Rego package to run (repeatable; default: main)")
    group.add_argument("--all-namespaces", action="store_true", help="run every Rego package of the policies")


def _admit(args: argparse.Namespace) -> int:
    """``servegate admit``: the webhook, until SIGTERM or Ctrl-C (see servegate.admit.command)."""
    from servegate.admit.command import AdmitOptions, CommandError, run

    options = AdmitOptions(
        tls_cert=args.tls_cert, tls_key=args.tls_key, host=args.host, port=args.port, config=args.config,
        deny=tuple(_split([args.deny])) if args.deny is not None else None,
        warn=tuple(_split([args.warn])) if args.warn is not None else None,
        exclude_namespaces=tuple(args.exclude_namespace), dry_run=args.dry_run, max_body_bytes=args.max_body_size,
        request_timeout=args.request_timeout, shutdown_delay=args.shutdown_delay, log_level=args.log_level,
        workers=args.workers, policies=tuple(args.policy), data=tuple(args.data), namespaces=tuple(args.namespace),
        all_namespaces=args.all_namespaces)
    try:
        return run(options)
    except CommandError as exc:
        raise UsageError(str(exc)) from None


def _split(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _options(args: argparse.Namespace):
    """ScanOptions from the configuration file and the command line (which wins)."""
    from servegate.config import ConfigError, find_config, load_config
    from servegate.model.terraform.values import VariableInputs
    from servegate.scan import DEFAULT_MAX_FILE_SIZE, ScanOptions, scan_root
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
    policies = _policy_set(args, config, select, ignore)
    if select or ignore:  # checked against every rule: the families a scan imports depend on what it finds
        from servegate.rules import BY_ID

        known = set(BY_ID) | (policies.known_ids if policies else set())
        unknown = [s for s in select + ignore if not any(rule_id.startswith(s.upper()) for rule_id in known)]
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
        rules=() if args.only_policies else None, select=tuple(select), ignore=tuple(ignore),
        max_file_size=args.max_file_size or DEFAULT_MAX_FILE_SIZE,
        follow_outside_links=args.follow_links,
        exclude=tuple(args.exclude) + tuple(config.exclude if config else ()),
        terraform=VariableInputs(tuple((config.var_files if config else [])) + tuple(args.var_file),
                                 tuple((config.variables if config else [])) + tuple(args.var)),
        suppress=tuple(config.suppress if config else ()),
        severity_overrides=dict(config.severity if config else {}),
        baseline=baseline,
        stdin=stdin,
        render=_render_options(args),
        policies=policies,
        jobs=args.jobs,
    )
    return paths, options, config


def _changed_files(base: str, root: Path) -> set[str]:
    """Files changed since ``base`` (committed, staged or not), relative to the scan root."""
    import subprocess  # only here: every other command starts faster without it

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
    from servegate.collector import collector_paused

    with collector_paused():  # until the report is written: it walks the whole model the scan built
        return _scan_and_report(args)


def _scan_and_report(args: argparse.Namespace) -> int:
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
    code = exit_code(result, fail_on or Severity.LOW, args.fail_on_error)
    if args.exit_when_done:
        if options.policies is not None:
            options.policies.close()  # its worker process: exit handlers do not run after os._exit
        _exit_now(code)  # with ``result`` still referenced, so nothing of it is freed
    return code


def _exit_now(code: int) -> None:
    """End the process without freeing the scan's model, as mypy does: on a monorepo, freeing a million objects
    one by one and collecting the cycles between them takes one or two seconds, for memory the process gives
    back anyway. Only when servegate runs as a command (``run``), after every temporary folder is removed and
    every worker process has ended; the streams are flushed here, as ``os._exit`` would drop their buffers."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass
    os._exit(code)


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
    import json

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


def _policy(args: argparse.Namespace) -> int:
    """``servegate policy test``: exit 0 when every test passes, 1 when one fails or errors, 2 when the policies
    cannot be loaded."""
    from servegate.policy import PolicyLoadError
    from servegate.policy.engine import DEFAULT_TIMEOUT, BindingsMissing
    from servegate.policy.testing import ERROR, FAIL, PASS, run_tests

    def show(result) -> None:
        if args.verbose or result.outcome in (FAIL, ERROR):
            sys.stdout.write(f"{result.query}: {result.outcome} ({result.seconds * 1000:.1f}ms)  [{result.file}]\n")
            for line in ([result.detail] if result.detail else []) + list(result.prints if args.verbose else ()):
                sys.stdout.write(f"    {line}\n")

    try:
        _, results = run_tests(args.paths, args.data, args.run, args.timeout or DEFAULT_TIMEOUT, show)
    except (BindingsMissing, PolicyLoadError) as exc:
        raise UsageError(str(exc)) from None
    passed = sum(r.outcome == PASS for r in results)
    failed = sum(r.outcome in (FAIL, ERROR) for r in results)
    sys.stdout.write("-" * 80 + "\n")
    if not results:
        sys.stdout.write("no tests found\n")
        return 1
    sys.stdout.write(f"{'FAIL' if failed else 'PASS'}: {passed}/{len(results)}"
                     + (f" ({failed} failed)" if failed else "") + "\n")
    return 1 if failed else 0


def _add_fix_command(sub) -> None:
    fix = sub.add_parser("fix", help="apply the automatic fixes of the findings, then re-scan",
                         description="Apply safe fixes (and unsafe ones with --unsafe) to the files, re-parse and "
                                     "re-scan them, and report what was fixed and what remains. With --diff nothing "
                                     "is written: the changes are shown as a unified diff.")
    _add_scan_options(fix)
    fix.add_argument("--unsafe", action="store_true",
                     help="also apply fixes that may change what the workload can do (review the diff)")
    fix.add_argument("--diff", action="store_true", help="print a unified diff and write nothing")
    fix.add_argument("--rule", action="append", default=[], metavar="ID",
                     help="fix only findings of rules whose id starts with this (repeatable, comma-separated)")


def _fix(args: argparse.Namespace) -> int:
    from servegate.fix.engine import FixOptions, fix_paths
    from servegate.report.fix_summary import render_summary
    from servegate.rules import BY_ID

    if any(str(p) == "-" for p in args.paths):
        raise UsageError("fix edits files: standard input (`-`) cannot be fixed")
    rule_prefixes = _split(args.rule)
    unknown = [r for r in rule_prefixes if not any(rule_id.startswith(r.upper()) for rule_id in BY_ID)]
    if unknown:
        raise UsageError(f"no rule id starts with: {', '.join(unknown)} (see `servegate rules`)")
    paths, options, _ = _options(args)
    outcome = fix_paths(paths, options, FixOptions(unsafe=args.unsafe, rules=tuple(rule_prefixes)))
    summary = render_summary(outcome, unsafe=args.unsafe, written=not args.diff)
    if args.diff:
        sys.stdout.write(outcome.diff())
        sys.stderr.write(summary)
    else:
        outcome.write()
        sys.stdout.write(summary)
    if outcome.after.errors:
        return EXIT_USAGE
    return 1 if any(not f.suppressed for f in outcome.after.findings) else 0


def _add_init_command(sub) -> None:
    from servegate.init import TARGETS

    init = sub.add_parser("init", help="write a secure starting project for a model endpoint (Terraform module, "
                                       "policies, CI workflow)")
    init.add_argument("--target", required=True, choices=TARGETS, help="the serving platform")
    init.add_argument("--dir", type=Path, default=Path("."), metavar="DIR",
                      help="where to write the project (default: the current directory)")
    init.add_argument("--name", metavar="NAME", help="project name used in resource names (default: from DIR)")
    init.add_argument("--force", action="store_true", help="overwrite files that already exist")


def _init(args: argparse.Namespace) -> int:
    from servegate.init import InitError, init_project

    try:
        written = init_project(args.target, args.dir, args.name, args.force)
    except InitError as exc:
        raise UsageError(str(exc)) from None
    for path in written:
        sys.stdout.write(f"{path}\n")
    sys.stderr.write(f"servegate: wrote {len(written)} files; next: read {args.dir / 'README.md'}, then "
                     f"`servegate scan {args.dir}`\n")
    return 0


def _add_graph_command(sub) -> None:
    graph = sub.add_parser("graph", help="show how each model server is reached, who it runs as and what it may "
                                         "read, write and see (the blast radius)")
    _add_scan_options(graph)
    graph.add_argument("-f", "--format", default="text", choices=("text", "json", "dot"))
    graph.add_argument("-o", "--output", type=Path, help="write to this file instead of standard output")


def _graph(args: argparse.Namespace) -> int:
    """The resource graph of the scan, without running the rules; exit 2 when an input cannot be read."""
    from servegate.report.blast_radius import RENDERERS
    from servegate.scan import scan

    paths, options, _ = _options(args)
    result = scan(paths, dataclasses.replace(options, rules=(), policies=None))
    text = RENDERERS[args.format](result.inventory.graph)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    for error in result.errors:
        sys.stderr.write(f"servegate: error: {error.file}:{error.line}: {error.message}\n")
    return EXIT_USAGE if result.errors else 0


def run() -> None:
    """The ``servegate`` command."""
    raise SystemExit(main(exit_when_done=True))


def main(argv: list[str] | None = None, exit_when_done: bool = False) -> int:
    args = _parser().parse_args(argv)
    args.exit_when_done = exit_when_done
    handlers = {"scan": _scan, "baseline": _baseline, "rules": _rules, "explain": _explain, "fix": _fix,
                "policy": _policy,
                "admit": _admit, "init": _init, "graph": _graph}
    try:
        return handlers[args.command](args)
    except UsageError as exc:
        sys.stderr.write(f"servegate: error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
