"""A container's effective command line and environment, as the kubelet would build them.

argv = command + args, with ``sh -c``/``bash -c`` scripts split into words and ``$(VAR)``
expanded from literal environment values. Every word remembers the manifest path it came from,
so a finding about a flag points at the line that holds it.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from servegate.sources.located import Path

SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh"})
SHELL_OPERATORS = frozenset({"&&", "||", ";", "|", "&"})
_VAR_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


@dataclass(frozen=True, slots=True)
class EnvVar:
    name: str
    value: str | None  # None when the value comes from a Secret, a field or anything not literal
    path: Path  # where it is set: the env item, or the ConfigMap data key for envFrom
    file: str  # the file holding ``path`` (a ConfigMap can live elsewhere)
    source: str  # "value", "secret", "configmap", "field", "resource", "unknown"
    doc: Any = None  # the document holding ``path``


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    path: Path  # the command/args item this word came from


def expand_vars(text: str, env: dict[str, EnvVar]) -> str:
    """Kubernetes ``$(VAR)`` expansion: defined literal variables are replaced, ``$$`` escapes."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        var = env.get(match.group(1))
        if var is None or var.value is None:
            return match.group(0)
        return var.value

    return _VAR_REF.sub(replace, text)


_SHELL_COMMENT = re.compile(r"(^|[ \t;&|])#[^\n]*", re.MULTILINE)


def _split_script(script: str) -> list[str]:
    # A "#" starting a word starts a comment; inside a word (a URL fragment) it does not.
    script = _SHELL_COMMENT.sub(r"\1", script.replace("\\\n", " "))
    try:
        lexer = shlex.shlex(script, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.commenters = ""
        return list(lexer)
    except ValueError:  # unbalanced quotes: fall back to whitespace
        return script.split()


def _basename(word: str) -> str:
    return word.rsplit("/", 1)[-1]


class Argv:
    """The words of a container's command line, in order."""

    __slots__ = ("words",)

    def __init__(self, words: Iterable[Word]) -> None:
        self.words: tuple[Word, ...] = tuple(words)

    @classmethod
    def build(cls, items: list[tuple[str, Path]], env: dict[str, EnvVar]) -> Argv:
        words: list[Word] = []
        index = 0
        while index < len(items):
            text, path = items[index]
            text = expand_vars(text, env)
            is_shell = _basename(text) in SHELLS
            if is_shell:
                # sh [-e -x ...] -c SCRIPT: the script's words join the command line.
                words.append(Word(text, path))
                index += 1
                while index < len(items) and items[index][0].startswith("-"):
                    flag_text, flag_path = items[index]
                    words.append(Word(flag_text, flag_path))
                    index += 1
                    if "c" in flag_text.lstrip("-") and index < len(items):
                        if items[index][0] == "--" and index + 1 < len(items):  # bash -c -- "script"
                            index += 1
                        script, script_path = items[index]
                        words.extend(Word(w, script_path) for w in _split_script(expand_vars(script, env)))
                        index += 1
                        break
                continue
            words.append(Word(text, path))
            index += 1
        return cls(words)

    def __iter__(self) -> Iterator[Word]:
        return iter(self.words)

    def __bool__(self) -> bool:
        return bool(self.words)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    def find(self, *flags: str) -> Word | None:
        """The first word that is one of ``flags``, alone or as ``--flag=value``."""
        for word in self.words:
            head = word.text.split("=", 1)[0]
            if head in flags:
                return word
        return None

    def value(self, *flags: str) -> tuple[str, Word] | None:
        """The value of a flag given as ``--flag=value`` or ``--flag value`` (last one wins)."""
        found: tuple[str, Word] | None = None
        for index, word in enumerate(self.words):
            head, sep, tail = word.text.partition("=")
            if head not in flags:
                continue
            if sep:
                found = (tail, word)
            elif index + 1 < len(self.words) and not self.words[index + 1].text.startswith("--"):
                found = (self.words[index + 1].text, self.words[index + 1])
            else:
                found = ("", word)
        return found

    def has_program(self, *names: str) -> Word | None:
        """A word naming one of the programs (by basename, or as ``python -m name``)."""
        previous = ""
        for word in self.words:
            base = _basename(word.text)
            if base in names or (previous == "-m" and word.text.split(".", 1)[0] in names):
                return word
            previous = word.text
        return None

    def positional_after(self, program: Word, skip: Iterable[str] = ()) -> Word | None:
        """The first non-flag word after ``program``, skipping sub-commands listed in ``skip``."""
        skip_set = set(skip)
        seen = False
        for word in self.words:
            if word is program:
                seen = True
                continue
            if seen:
                if word.text in SHELL_OPERATORS:
                    return None
                if word.text in skip_set:
                    continue
                if not word.text.startswith("-"):
                    return word
                return None
        return None
