"""Project configuration: ``.servegate.toml``, or ``[tool.servegate]`` in ``pyproject.toml``, found by
walking up from the scan root. Command-line options override it. Unknown keys are an error.

    select = ["MLS", "KUBE"]          # rule id prefixes to run (default: all)
    ignore = ["KUBE-018"]             # rule id prefixes to skip
    exclude = ["charts/**", "test"]   # paths to leave out (globs relative to the scan root)
    fail-on = "medium"
    policies = ["policies/"]          # Rego policy folders
    var-files = ["env/prod.tfvars"]
    vars = { region = "eu-west-1" }

    [severity]
    KUBE-018 = "info"

    [[suppress]]
    rule = "KUBE-020"
    path = "examples/**"
    reason = "demo manifests, never deployed"

    [admit]                           # the admission webhook (servegate.admit.settings checks this table)
    deny = ["high", "critical"]
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from servegate.findings import Severity
from servegate.suppression import ConfigSuppression

KEYS = {"select", "ignore", "exclude", "fail-on", "policies", "var-files", "vars", "severity", "suppress",
        "admit"}
SUPPRESS_KEYS = {"rule", "path", "reason"}


class ConfigError(Exception):
    pass


@dataclass
class Config:
    path: Path | None = None
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    fail_on: Severity | None = None
    policies: list[Path] = field(default_factory=list)
    var_files: list[Path] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)
    severity: dict[str, Severity] = field(default_factory=dict)
    suppress: list[ConfigSuppression] = field(default_factory=list)
    admit: dict[str, Any] = field(default_factory=dict)  # the [admit] table, read by servegate.admit.settings


def find_config(start: Path) -> Path | None:
    """The nearest .servegate.toml, or pyproject.toml with [tool.servegate], at or above ``start``."""
    for folder in [start, *start.parents]:
        candidate = folder / ".servegate.toml"
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            try:
                if "servegate" in tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}):
                    return pyproject
            except (tomllib.TOMLDecodeError, UnicodeDecodeError):
                continue
    return None


def load_config(path: Path) -> Config:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("servegate", {})
    return parse_config(data, path)


def _strings(data: dict, key: str, where: Path) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: `{key}` must be a list of strings")
    return value


def parse_config(data: dict[str, Any], where: Path) -> Config:
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(KEYS))})")
    base = where.parent
    config = Config(path=where, select=_strings(data, "select", where), ignore=_strings(data, "ignore", where),
                    exclude=_strings(data, "exclude", where),
                    policies=[base / p for p in _strings(data, "policies", where)],
                    var_files=[base / p for p in _strings(data, "var-files", where)])
    try:
        if "fail-on" in data:
            config.fail_on = Severity.parse(str(data["fail-on"]))
        severity = data.get("severity", {})
        if not isinstance(severity, dict):
            raise ConfigError(f"{where}: `severity` must be a table of rule id = severity")
        config.severity = {str(rule).upper(): Severity.parse(str(level)) for rule, level in severity.items()}
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    config.admit = data.get("admit", {})
    if not isinstance(config.admit, dict):
        raise ConfigError(f"{where}: `admit` must be a table (see `servegate admit --help`)")
    variables = data.get("vars", {})
    if not isinstance(variables, dict):
        raise ConfigError(f"{where}: `vars` must be a table of name = value")
    config.variables = [f"{name}={_hcl_literal(value)}" for name, value in variables.items()]
    for index, entry in enumerate(data.get("suppress", [])):
        if not isinstance(entry, dict) or "rule" not in entry or set(entry) - SUPPRESS_KEYS:
            raise ConfigError(f"{where}: suppress entry {index + 1} needs `rule` and may have only "
                              f"{', '.join(sorted(SUPPRESS_KEYS))}")
        config.suppress.append(ConfigSuppression(str(entry["rule"]).upper(), str(entry.get("path", "*")),
                                                 str(entry.get("reason", ""))))
    return config


def _hcl_literal(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
