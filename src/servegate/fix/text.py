"""A file's text with a line table: offsets from the 1-based (line, column) spans the loaders keep, and back.

Both planners use it; ``Edit`` positions come from here, so they always describe the text that was scanned.
"""

from __future__ import annotations

import re
from bisect import bisect_right

# A text edit before it is tied to a file: (start offset, end offset, replacement).
TextEdit = tuple[int, int, str]
_LINE_BREAK = re.compile("\n")


class Unsupported(Exception):
    """The source has a shape no minimal edit can express (the fix is then not offered)."""


class Conflict(Exception):
    """Two operations of one fix want different things at one place (the fix is then not offered)."""


class SourceText:
    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [match.end() for match in _LINE_BREAK.finditer(text)]
        self.newline = "\r\n" if "\r\n" in text else "\n"

    @property
    def line_count(self) -> int:
        return len(self.starts)

    def offset(self, line: int, column: int) -> int:
        if line > len(self.starts):
            return len(self.text)
        return min(self.starts[line - 1] + column - 1, len(self.text))

    def line_start(self, line: int) -> int:
        return self.starts[line - 1] if line <= len(self.starts) else len(self.text)

    def line_end(self, line: int) -> int:
        """The offset of the line break ending ``line`` (before a ``\\r``), or the end of the text."""
        if line >= len(self.starts):
            return len(self.text)
        end = self.starts[line] - 1
        if end > self.starts[line - 1] and self.text[end - 1] == "\r":
            end -= 1
        return end

    def line_text(self, line: int) -> str:
        return self.text[self.line_start(line):self.line_end(line)]

    def after_line(self, line: int) -> tuple[int, bool]:
        """Where text goes to start a new line after ``line``; True when the file has no final line break
        there (the insertion must then bring its own, before its text)."""
        if line < len(self.starts):
            return self.starts[line], False
        return len(self.text), True

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1

    def indentation(self, line: int) -> str:
        text = self.line_text(line)
        return text[: len(text) - len(text.lstrip(" \t"))]


def overlaps(a: TextEdit, b: TextEdit) -> bool:
    """Two edits touch the same text: intersecting ranges, or an insertion at the other's start or inside it
    (whose order would be ambiguous). Identical edits do not count: applying one applies both."""
    if a == b:
        return False
    (a0, a1, _), (b0, b1, _) = a, b
    if a0 == a1 or b0 == b1:
        return a0 == b0 or (a0 == a1 and b0 < a0 < b1) or (b0 == b1 and a0 < b0 < a1)
    return max(a0, b0) < min(a1, b1)


def apply_edits(text: str, edits: list[TextEdit]) -> str:
    """``text`` with non-overlapping ``edits`` applied (identical ones once). Insertions at one position are
    applied in the order given: a planner lists the innermost first."""
    unique = list(dict.fromkeys(edits))
    out, position = [], 0
    for start, end, replacement in sorted(unique, key=lambda edit: (edit[0], edit[1])):
        out.append(text[position:start])
        out.append(replacement)
        position = end
    out.append(text[position:])
    return "".join(out)
