"""What the webhook does with findings, and its limits: the ``[admit]`` table of the configuration file,
overridden by the command line. As everywhere in the configuration, an unknown key is an error.

    [admit]
    deny = ["high", "critical"]            # severities that refuse the object (default)
    warn = ["info", "low", "medium"]       # severities returned as warnings (default: those that do not deny)
    exclude-namespaces = ["kube-system"]   # never judged; the webhook's namespaceSelector should keep them away too
    dry-run = false                        # never deny: what would deny is returned as a warning and logged
    skip-rules = ["KUBE-020"]              # rule id prefixes not run at admission (default: KUBE-020)
    max-body-bytes = 8388608               # larger requests are refused with 413
    timeout = 5.0                          # seconds to read and judge one request

The rest of the configuration file applies as in scans: ``select``, ``ignore``, ``[severity]``, ``[[suppress]]``
(whose ``path`` matches ``admission/<namespace>/<kind>/<name>``) and ``policies``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from servegate.findings import Severity

KEYS = {"deny", "warn", "exclude-namespaces", "dry-run", "skip-rules", "max-body-bytes", "timeout"}
DEFAULT_DENY = frozenset({Severity.HIGH, Severity.CRITICAL})
# KUBE-020 asks whether any NetworkPolicy selects the pod: policies are never part of an admission request, so at
# admission it would flag every pod, whatever the namespace holds.
DEFAULT_SKIP_RULES = ("KUBE-020",)
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024  # an object and its old version, each up to etcd's 1.5 MiB, as JSON
DEFAULT_TIMEOUT = 5.0  # under the webhook configuration's timeoutSeconds (10), so the API server gets our answer


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class AdmitSettings:
    deny: frozenset[Severity] = DEFAULT_DENY
    warn: frozenset[Severity] = frozenset(Severity) - DEFAULT_DENY
    exclude_namespaces: frozenset[str] = frozenset()
    dry_run: bool = False
    skip_rules: tuple[str, ...] = DEFAULT_SKIP_RULES
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    timeout: float = DEFAULT_TIMEOUT


def settings_from(table: dict[str, Any], where: str = "[admit]", *, deny: Iterable[str] | None = None,
                  warn: Iterable[str] | None = None, exclude_namespaces: Iterable[str] = (), dry_run: bool = False,
                  max_body_bytes: int | None = None, timeout: float | None = None) -> AdmitSettings:
    """The configuration's ``[admit]`` table with the command line's values on top (None: not given)."""
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise SettingsError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(KEYS))})")
    deny_levels = _severities(deny if deny is not None else table.get("deny"), "deny", where)
    warn_levels = _severities(warn if warn is not None else table.get("warn"), "warn", where)
    if deny_levels is None:
        deny_levels = DEFAULT_DENY
    if warn_levels is None:
        warn_levels = frozenset(Severity) - deny_levels
    both = deny_levels & warn_levels
    if both:
        raise SettingsError(f"{where}: {', '.join(s.label for s in sorted(both))} both deny and warn; choose one")
    excluded = _strings(table.get("exclude-namespaces", []), "exclude-namespaces", where) + list(exclude_namespaces)
    skip = _strings(table.get("skip-rules", list(DEFAULT_SKIP_RULES)), "skip-rules", where)
    configured_dry_run = table.get("dry-run", False)
    if not isinstance(configured_dry_run, bool):
        raise SettingsError(f"{where}: `dry-run` must be true or false")
    size = max_body_bytes if max_body_bytes is not None else table.get("max-body-bytes", DEFAULT_MAX_BODY_BYTES)
    if not isinstance(size, int) or isinstance(size, bool) or size < 1024:
        raise SettingsError(f"{where}: `max-body-bytes` must be a whole number of bytes, at least 1024")
    seconds = timeout if timeout is not None else table.get("timeout", DEFAULT_TIMEOUT)
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 < seconds <= 30:
        raise SettingsError(f"{where}: `timeout` must be a number of seconds above 0 and at most 30 "
                            "(the API server waits 30 seconds at most)")
    return AdmitSettings(deny=deny_levels, warn=warn_levels, exclude_namespaces=frozenset(excluded),
                         dry_run=dry_run or configured_dry_run, skip_rules=tuple(s.upper() for s in skip),
                         max_body_bytes=size, timeout=float(seconds))


def _severities(value: Any, key: str, where: str) -> frozenset[Severity] | None:
    if value is None:
        return None
    names = [part.strip() for item in _strings(value, key, where) for part in item.split(",") if part.strip()]
    try:
        return frozenset(Severity.parse(name) for name in names)
    except ValueError as exc:
        raise SettingsError(f"{where}: `{key}`: {exc}") from None


def _strings(value: Any, key: str, where: str) -> list[str]:
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise SettingsError(f"{where}: `{key}` must be a list of strings")
