"""What a rule is: frozen metadata plus a pure check over one kind of typed view.

A check yields ``Hit``s that name symbolic paths; the engine turns them into located findings.
Rules hold no per-scan state.
"""

from __future__ import annotations

import enum
import textwrap
from dataclasses import dataclass, field
from typing import Callable, Iterable, Protocol

from servegate.findings import Confidence, Location, Severity
from servegate.fix.model import SymbolicFix
from servegate.sources.located import Path


class Scope(enum.Enum):
    CONTAINER = "container"  # check(container: Container)
    POD = "pod"  # check(pod: PodSpec)
    OBJECT = "object"  # check(obj: K8sObject, inventory: Inventory), for the kinds listed
    INVENTORY = "inventory"  # check(inventory: Inventory), for rules across objects
    RESOURCE = "resource"  # check(resource: TfResource, inventory: TfInventory), for the resource types listed
    GRAPH = "graph"  # check(graph: ResourceGraph), for rules that walk across resources and layers


class Located(Protocol):
    """What a hit can point into: a Kubernetes object or a Terraform resource."""

    file: str

    @property
    def ref(self) -> str: ...

    def locate(self, path: Path, scalar_line: int | None = None) -> Location: ...


@dataclass(frozen=True, slots=True)
class RelatedHit:
    obj: Located
    path: Path
    message: str


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule's verdict on one place. ``obj`` is needed only when the place is not the checked object."""

    path: Path
    message: str
    obj: Located | None = None
    severity: Severity | None = None  # escalation or de-escalation of the rule's default
    confidence: Confidence | None = None
    related: tuple[RelatedHit, ...] = ()
    scalar_line: int | None = None  # a line (0-based) inside the string at ``path``, e.g. a config file key
    fixes: tuple[SymbolicFix, ...] = ()  # symbolic patches; the engine turns them into edits (``servegate.fix``)


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    title: str
    severity: Severity
    confidence: Confidence
    family: str
    scope: Scope
    check: Callable[..., Iterable[Hit]] = field(repr=False)
    rationale: str
    remediation: str
    bad: str = ""
    good: str = ""
    references: tuple[str, ...] = ()
    kinds: frozenset[str] = frozenset()  # OBJECT scope: the kinds it looks at; RESOURCE scope: resource types
    inference_only: bool = False  # POD/CONTAINER scope: only model-serving workloads
    supersedes: tuple[str, ...] = ()  # generic rules this one replaces where both fire on one line

    @property
    def help_uri(self) -> str:
        return f"https://servegate.dev/rules/#{self.id.lower()}"


@dataclass
class RuleSet:
    """The rules of one family, in declaration order."""

    family: str
    rules: list[Rule] = field(default_factory=list)

    def rule(self, *, id: str, name: str, title: str, severity: Severity, scope: Scope, rationale: str,
             remediation: str, confidence: Confidence = Confidence.HIGH, bad: str = "", good: str = "",
             references: Iterable[str] = (), kinds: Iterable[str] = (), inference_only: bool = False,
             supersedes: Iterable[str] = ()) -> Callable[[Callable[..., Iterable[Hit]]], Rule]:
        def register(check: Callable[..., Iterable[Hit]]) -> Rule:
            new = Rule(
                id=id, name=name, title=title, severity=severity, confidence=confidence, family=self.family,
                scope=scope, check=check, rationale=_clean(rationale), remediation=_clean(remediation),
                bad=_clean(bad), good=_clean(good), references=tuple(references), kinds=frozenset(kinds),
                inference_only=inference_only, supersedes=tuple(supersedes),
            )
            self.rules.append(new)
            return new

        return register

    def __iter__(self):
        return iter(self.rules)


def _clean(text: str) -> str:
    """Dedent triple-quoted metadata so docs and terminal output stay tidy."""
    return textwrap.dedent(text).strip("\n")
