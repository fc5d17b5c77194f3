"""Policy rules as servegate ``Rule``s, built when the policies load, so reports list them like built-in rules.

One rule per (namespace, rule name) that Conftest would query: ``deny``, ``violation``, ``warn`` and their
``_suffix`` forms. Its metadata comes from OPA's ``# METADATA`` annotations, the most specific first (rule, then
document, then package, then subpackages scope):

* ``custom.id``: the rule id. Without it: a suffix written in capitals is the id (``deny_ACME_001`` -> ``ACME-001``);
  otherwise ``POL-<NAMESPACE>-<RULE>`` (``deny_run_as_root`` in ``main`` -> ``POL-MAIN-DENY-RUN-AS-ROOT``).
* ``custom.severity`` (critical, high, medium, low, info); without it ``deny``/``violation`` are high and ``warn``
  is info (so warnings do not fail a run unless ``--fail-on info``, as in Conftest).
* ``custom.confidence``, ``custom.remediation``; ``title``; ``description`` (the rationale); ``related_resources``
  (references; the first is the rule's help link).

Results of a rule all map to its one ``Rule``: several bodies of one ``deny`` share its metadata, so give checks
that need their own id or severity their own rule name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from servegate.findings import Confidence, Severity
from servegate.policy.loader import FAILURE, WARNING, Annotation, Loaded, PolicyLoadError
from servegate.rules.base import Rule, Scope

CAPITAL_SUFFIX = re.compile(r"^(?:deny|violation|warn)_([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)$")


@dataclass(frozen=True)
class PolicyRule(Rule):
    namespace: str = ""
    rule: str = ""  # the Rego rule name: deny, violation_x, warn_y
    files: tuple[str, ...] = ()  # the modules that define it
    link: str = ""

    @property
    def failure(self) -> bool:
        return bool(FAILURE.match(self.rule))

    @property
    def help_uri(self) -> str:
        return self.link or "https://servegate.dev/policies/"

    @property
    def exception_name(self) -> str:
        """The name Conftest's ``exception`` rule lists to exempt this rule (the rule without its kind prefix)."""
        if self.rule in ("deny", "violation", "warn"):
            return ""
        name = self.rule
        for prefix in ("violation_", "deny_", "warn_"):
            name = name.removeprefix(prefix)
        return name


def _no_check(*_: object) -> tuple[()]:
    """Policy rules are evaluated by OPA (``servegate.policy``), never by the built-in engine."""
    return ()


def build_rules(loaded: Loaded, namespaces: Iterable[str]) -> list[PolicyRule]:
    rules: list[PolicyRule] = []
    for namespace in namespaces:
        modules = [m for m in loaded.modules if m.package == namespace]
        names = dict.fromkeys(h.name for m in modules for h in m.heads
                              if h.name and not h.function and (FAILURE.match(h.name) or WARNING.match(h.name)))
        for name in names:
            files = tuple(dict.fromkeys(m.file for m in modules if any(h.name == name for h in m.heads)))
            rules.append(_rule(namespace, name, files, _metadata(loaded, namespace, name)))
    _check_unique(rules)
    return rules


def _metadata(loaded: Loaded, namespace: str, name: str) -> tuple[dict[str, Any], Annotation | None]:
    """The merged annotation fields for one rule, and the most specific annotation (for error messages)."""
    chain: list[Annotation] = []
    for scope in ("rule", "document"):
        chain += [a for m in loaded.modules if m.package == namespace for a in m.annotations
                  if a.scope == scope and a.target == name]
    chain += [a for m in loaded.modules if m.package == namespace for a in m.annotations if a.scope == "package"]
    chain += [a for m in loaded.modules for a in m.annotations if a.scope == "subpackages"
              and (namespace == m.package or namespace.startswith(m.package + "."))]
    merged: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for annotation in reversed(chain):  # least specific first, so the most specific wins
        custom.update(annotation.fields.get("custom") or {})
        if annotation.scope in ("rule", "document"):
            merged.update({k: v for k, v in annotation.fields.items() if k != "custom"})
    merged["custom"] = custom
    return merged, chain[0] if chain else None


def _rule(namespace: str, name: str, files: tuple[str, ...],
          metadata: tuple[dict[str, Any], Annotation | None]) -> PolicyRule:
    fields, source = metadata
    custom = fields["custom"]
    where = f"{source.file}:{source.line}" if source else files[0]
    failure = bool(FAILURE.match(name))
    try:
        severity = Severity.parse(str(custom["severity"])) if "severity" in custom else \
            Severity.HIGH if failure else Severity.INFO
        confidence = Confidence[str(custom.get("confidence", "high")).strip().upper()]
    except (ValueError, KeyError) as exc:
        raise PolicyLoadError(f"{where}: METADATA: {exc}") from None
    references = tuple(_reference(r) for r in fields.get("related_resources") or ())
    links = [r.get("ref") if isinstance(r, dict) else r for r in fields.get("related_resources") or ()]
    qualified = f"{namespace}.{name}"
    return PolicyRule(
        id=_rule_id(namespace, name, custom), name=re.sub(r"[._]+", "-", qualified).lower(),
        title=str(fields.get("title") or f"Policy {qualified}"), severity=severity, confidence=confidence,
        family="policy", scope=Scope.INVENTORY, check=_no_check,
        rationale=" ".join(str(fields.get("description") or f"Custom Rego policy {qualified} "
                                                               f"({', '.join(files)}).").split()),
        remediation=" ".join(str(custom.get("remediation") or "Change the configuration so that the policy "
                                                               "accepts it; see the policy's description.").split()),
        references=references, namespace=namespace, rule=name, files=files,
        link=str(links[0]) if links else "",
    )


def _rule_id(namespace: str, name: str, custom: dict[str, Any]) -> str:
    if custom.get("id"):
        return str(custom["id"]).strip().upper()
    capital = CAPITAL_SUFFIX.match(name)
    if capital:
        return capital.group(1).replace("_", "-")
    return "POL-" + re.sub(r"[^A-Z0-9]+", "-", f"{namespace}-{name}".upper()).strip("-")


def _reference(resource: Any) -> str:
    if isinstance(resource, dict):
        ref, description = resource.get("ref", ""), resource.get("description", "")
        return f"{description}: {ref}" if description else str(ref)
    return str(resource)


def _check_unique(rules: list[PolicyRule]) -> None:
    from servegate.rules import BY_ID  # the built-in registry, loaded only here

    seen: dict[str, PolicyRule] = {}
    for rule in rules:
        if rule.id in BY_ID:
            raise PolicyLoadError(f"{rule.files[0]}: policy rule {rule.namespace}.{rule.rule} has the id {rule.id}, "
                                  f"which a built-in rule already has: give it another `custom.id`")
        other = seen.setdefault(rule.id, rule)
        if other is not rule:
            raise PolicyLoadError(f"{rule.files[0]}: policy rules {other.namespace}.{other.rule} and "
                                  f"{rule.namespace}.{rule.rule} both have the id {rule.id}")
