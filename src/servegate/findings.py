"""The one result type every rule produces, and its parts.

Locations are computed by the loaders (see ``sources``); rules only name symbolic paths.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass


class Severity(enum.IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def security_severity(self) -> str:
        """GitHub code scanning's numeric scale (critical >= 9.0, high >= 7.0, medium >= 4.0)."""
        return {0: "0.0", 1: "3.0", 2: "5.5", 3: "8.0", 4: "9.5"}[self.value]

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (choose from {choices})") from None


class Confidence(enum.IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Location:
    """A region of a source file. Lines and columns are 1-based; ``path`` is symbolic."""

    file: str
    line: int
    column: int = 1
    end_line: int = 0
    end_column: int = 0
    path: str = ""

    def __post_init__(self) -> None:
        if self.end_line < self.line:
            object.__setattr__(self, "end_line", self.line)
        if self.end_line == self.line and self.end_column < self.column:
            object.__setattr__(self, "end_column", self.column)


@dataclass(frozen=True, slots=True)
class Related:
    """Another place that explains a finding: the Service that exposes it, the Role that grants it."""

    location: Location
    message: str


class Applicability(enum.Enum):
    """How freely a fix may be applied (ruff's terms)."""

    SAFE = "safe"  # changes nothing but the security property the finding is about
    UNSAFE = "unsafe"  # may change what the workload can do: review it before applying


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text of one file between two positions (1-based lines and columns, end column exclusive;
    equal positions insert). ``offset``/``end_offset`` are the same positions as character offsets."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    offset: int
    end_offset: int
    text: str


@dataclass(frozen=True, slots=True)
class Fix:
    """A patch for a finding: minimal text edits against the file as scanned."""

    title: str
    applicability: Applicability
    edits: tuple[Edit, ...]


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    title: str
    severity: Severity
    confidence: Confidence
    message: str
    location: Location
    resource: str = ""
    related: tuple[Related, ...] = ()
    suppressed: bool = False
    justification: str = ""
    suppression: str = ""  # how: "inline", "annotation", "config" or "baseline"
    fixes: tuple[Fix, ...] = ()

    def sort_key(self) -> tuple:
        loc = self.location
        return (loc.file, loc.line, loc.column, self.rule_id, self.resource, self.message)

    @property
    def fingerprint(self) -> str:
        """Stable across line shifts and reformatting: rule, file, resource and symbolic path, not the line."""
        key = "\0".join((self.rule_id, self.location.file, self.resource, self.location.path))
        return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class InputError:
    """An input that could not be read or parsed; it fails the run unless told otherwise."""

    file: str
    line: int
    message: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """An input deliberately not scanned, with the reason shown in the summary."""

    file: str
    reason: str
