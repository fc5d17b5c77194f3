"""What ``servegate admit`` runs: the configuration, rules and policies assembled into a reviewer for each
server process, and one process or several (``workers.py``) serving until SIGTERM.

Everything that can be wrong with the configuration, the policies or the certificate is found before the
command listens, and reported as a ``CommandError`` (the command line's usage error, exit code 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from servegate.admit.logs import JsonLog
from servegate.admit.review import Reviewer, admission_rules, policy_check, rule_check
from servegate.admit.settings import AdmitSettings, SettingsError, settings_from
from servegate.config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from servegate.policy import PolicySet


class CommandError(Exception):
    pass


@dataclass(frozen=True)
class AdmitOptions:
    """The command line of ``servegate admit`` (None: not given)."""

    tls_cert: Path
    tls_key: Path
    host: str = "0.0.0.0"
    port: int = 8443
    config: Path | None = None
    deny: tuple[str, ...] | None = None
    warn: tuple[str, ...] | None = None
    exclude_namespaces: tuple[str, ...] = ()
    dry_run: bool = False
    max_body_bytes: int | None = None
    request_timeout: float | None = None
    shutdown_delay: float = 0.0
    log_level: str = "info"
    workers: int | None = None  # None: one per available CPU
    policies: tuple[Path, ...] = ()
    data: tuple[Path, ...] = ()
    namespaces: tuple[str, ...] = ()
    all_namespaces: bool = False


class Assembly:
    """The configuration read once; ``reviewer()`` builds what one server process judges with."""

    def __init__(self, options: AdmitOptions) -> None:
        from servegate.rules import BY_ID
        from servegate.scan import select_rules

        self.options = options
        try:
            self.config: Config | None = load_config(options.config) if options.config else None
            self.settings: AdmitSettings = settings_from(
                self.config.admit if self.config else {},
                f"{options.config} [admit]" if options.config else "servegate admit",
                deny=options.deny, warn=options.warn, exclude_namespaces=options.exclude_namespaces,
                dry_run=options.dry_run, max_body_bytes=options.max_body_bytes, timeout=options.request_timeout)
        except (ConfigError, SettingsError) as exc:
            raise CommandError(str(exc)) from None
        self.select = list(self.config.select) if self.config else []
        self.ignore = list(self.config.ignore) if self.config else []
        self.policy_paths = options.policies + tuple(self.config.policies if self.config else ())
        policies = self.load_policies()  # loaded here once, so a broken policy stops the command now
        try:
            known = set(BY_ID) | (policies.known_ids if policies else set())
            prefixes = self.select + self.ignore + list(self.settings.skip_rules)
            unknown = [s for s in prefixes if not any(rule_id.startswith(s.upper()) for rule_id in known)]
            if unknown:
                raise CommandError(f"no rule id starts with: {', '.join(unknown)} (see `servegate rules`)")
            self.warnings = list(policies.warnings) if policies else []
        finally:
            if policies is not None:
                policies.close()
        self.rules = admission_rules(select_rules(self.select, self.ignore), self.settings.skip_rules)

    def load_policies(self, in_process: bool = False) -> PolicySet | None:
        """The policies compiled by OPA: in a worker process, or (``in_process``) in this process, which must then
        never fork."""
        if not self.policy_paths:
            return None
        from servegate.policy import PolicyLoadError, PolicyOptions, load_policies
        from servegate.policy.engine import BindingsMissing

        options = PolicyOptions(
            policies=self.policy_paths, data=self.options.data, namespaces=self.options.namespaces or ("main",),
            all_namespaces=self.options.all_namespaces, parser="json", timeout=self.settings.timeout,
            select=tuple(self.select), ignore=tuple(self.ignore) + self.settings.skip_rules, in_process=in_process)
        try:
            return load_policies(options)
        except BindingsMissing as exc:
            raise CommandError(f"{exc}\n*** custom policies were requested, and they cannot run: the webhook did "
                               f"not start ***") from None
        except PolicyLoadError as exc:
            raise CommandError(f"policy error: {exc}") from None

    def reviewer(self, policies: PolicySet | None) -> Reviewer:
        checks = [rule_check(self.rules)] + ([policy_check(policies)] if policies else [])
        return Reviewer(self.settings, checks, self.rules + (policies.rules if policies else ()),
                        self.config.suppress if self.config else (), self.config.severity if self.config else {})


def run(options: AdmitOptions) -> int:
    """Serve until SIGTERM; the exit code."""
    from servegate.admit.server import Webhook, tls_context
    from servegate.admit.workers import ConnectionShares, available_cpus, listen, run_workers

    assembly = Assembly(options)
    log = JsonLog(level=options.log_level)
    for warning in assembly.warnings:
        log("warning", "policy_warning", file=warning.file, line=warning.line, message=warning.message)
    try:
        tls_context(options.tls_cert, options.tls_key)
        listener = listen(options.host, options.port)
    except OSError as exc:  # ssl.SSLError included: a certificate or key that does not load
        raise CommandError(f"cannot serve on {options.host}:{options.port} with {options.tls_cert}: {exc}") from None

    workers = options.workers or available_cpus()
    shares = ConnectionShares(workers) if workers > 1 else None

    def serve(worker: int | None) -> None:
        if shares is not None and worker is not None:
            shares.index = worker
            shares.report(0)  # a replaced worker starts with none
        # Each server process its own OPA, in the process: it forks nothing, and bounds each request itself.
        policies = assembly.load_policies(in_process=True)
        try:
            Webhook(assembly.reviewer(policies), options.tls_cert, options.tls_key, log=JsonLog(
                level=options.log_level, **({} if worker is None else {"worker": worker})),
                shutdown_delay=options.shutdown_delay, listener=listener, shares=shares).run_until_signalled()
        finally:
            if policies is not None:
                policies.close()

    if workers == 1:
        serve(None)
        return 0
    return run_workers(workers, serve, log)
