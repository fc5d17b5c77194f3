"""Terraform's built-in functions, evaluated statically.

Every function takes already-evaluated arguments (see ``values.py`` for the value model) and
returns what Terraform would return, or raises ``EvalError`` where Terraform would reject the
call. ``call`` applies Terraform's unknown-value rules before dispatching: an ``Unknown``
argument makes the result unknown, except for the functions listed in ``_TOLERATE_UNKNOWN``
(``coalesce``, ``coalescelist``), and an ``Unknown`` nested inside an argument makes the result
unknown except for the functions listed in ``_TOLERATE_NESTED_UNKNOWN``, which carry unknown
elements through or decide what they can. ``jsonencode`` and ``yamlencode`` of a value holding
unknowns return an ``Unknown`` whose ``partial`` is that value, so its known parts can still be
judged; an unknown propagated through any other function loses ``partial`` (except through the
decoders and the sensitivity identities, whose result the structure still describes).

Not here: ``try`` and ``can`` (the evaluator handles them lazily) and the functions that read
files relative to the module directory (``file``, ``templatefile``, ``fileexists``,
``filebase64`` and friends).

Reference: the Terraform language documentation and the behaviour of the Go libraries behind it
(``go-cty`` function stdlib, ``go-cty-yaml``, Go's ``regexp``, ``fmt`` and ``encoding/json``).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import csv
import dataclasses
import functools
import hashlib
import inspect
import io
import ipaddress
import itertools
import json
import math
import re
import unicodedata
import urllib.parse
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction
from typing import Any, Callable

import yaml

from servegate.model.terraform.values import EvalError, Unknown, first_unknown, is_known, normalise_number

# ---------------------------------------------------------------------------------------------
# Errors and argument conversion (Terraform converts arguments to the parameter's type first)
# ---------------------------------------------------------------------------------------------


def _arg_error(message: str) -> EvalError:
    return EvalError(f"Invalid function argument: {message}")


def _param_error(param: str, message: str) -> EvalError:
    return _arg_error(f'Invalid value for "{param}" parameter: {message}.')


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _friendly_type(value: Any) -> str:
    """Terraform's name for the type of a value (literal lists are tuples, maps objects)."""
    return {"list": "tuple", "map": "object"}.get(_kind(value), _kind(value))


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, Unknown):
        return "unknown"
    if isinstance(value, bool):
        return "bool"
    if _is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    return type(value).__name__


_DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _parse_number(text: str) -> int | float | None:
    """A decimal number as Terraform's string-to-number conversion reads it, else None."""
    if not _DECIMAL_RE.fullmatch(text):
        return None
    dec = Decimal(text)
    if dec == dec.to_integral_value() and dec.adjusted() < 1000:
        return int(dec)
    return normalise_number(float(dec))


def _to_decimal(number: int | float) -> Decimal:
    """The decimal a number most likely came from (floats: their shortest repr)."""
    return Decimal(number) if isinstance(number, int) else Decimal(repr(number))


def _number_to_string(number: int | float) -> str:
    """Terraform's number-to-string conversion: plain decimal, no exponent, no trailing '.0'."""
    if isinstance(number, float):
        if math.isnan(number):
            return "NaN"
        if math.isinf(number):
            return "+Inf" if number > 0 else "-Inf"
        number = normalise_number(number)
    return format(_to_decimal(number), "f")


def _primitive_to_string(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if _is_number(value):
        return _number_to_string(value)
    return value


def _str(value: Any, param: str) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        raise _param_error(param, "argument must not be null")
    if isinstance(value, bool) or _is_number(value):
        return _primitive_to_string(value)
    raise _param_error(param, "string required")


def _num(value: Any, param: str) -> int | float:
    if _is_number(value):
        return value
    if value is None:
        raise _param_error(param, "argument must not be null")
    if isinstance(value, str):
        parsed = _parse_number(value)
        if parsed is None:
            raise _param_error(param, "a number is required")
        return parsed
    raise _param_error(param, "number required")


def _whole(value: Any, param: str) -> int:
    number = _num(value, param)
    if isinstance(number, float):
        if not math.isfinite(number) or not number.is_integer():
            raise _param_error(param, "value must be a whole number")
        return int(number)
    return number


def _bool(value: Any, param: str) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        raise _param_error(param, "argument must not be null")
    if value == "true":
        return True
    if value == "false":
        return False
    if isinstance(value, str):
        raise _param_error(param, "a bool is required")
    raise _param_error(param, "bool required")


def _seq(value: Any, param: str) -> list:
    if isinstance(value, list):
        return value
    if value is None:
        raise _param_error(param, "argument must not be null")
    raise _param_error(param, "list, set, or tuple required")


def _mapping(value: Any, param: str) -> dict:
    if isinstance(value, dict):
        return value
    if value is None:
        raise _param_error(param, "argument must not be null")
    raise _param_error(param, "map or object required")


def _str_elements(items: list, param: str) -> list:
    """Convert the elements of a list(string) parameter, keeping unknown elements."""
    out = []
    for item in items:
        if isinstance(item, Unknown) or item is None:
            out.append(item)
        elif isinstance(item, (list, dict)):
            raise _param_error(param, "list of string required")
        else:
            out.append(_primitive_to_string(item))
    return out


# ---------------------------------------------------------------------------------------------
# Comparing, unifying and ordering values
# ---------------------------------------------------------------------------------------------


def _equal(a: Any, b: Any) -> bool | None:
    """Terraform's ``==`` on two values: True, False, or None when an unknown decides it."""
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return None
    kind_a, kind_b = _kind(a), _kind(b)
    if kind_a != kind_b:
        return False
    if kind_a == "list":
        if len(a) != len(b):
            return False
        return _all_equal(_equal(x, y) for x, y in zip(a, b))
    if kind_a == "map":
        if a.keys() != b.keys():
            return False
        return _all_equal(_equal(a[k], b[k]) for k in a)
    return a == b


def _all_equal(results) -> bool | None:
    undecided = False
    for result in results:
        if result is False:
            return False
        if result is None:
            undecided = True
    return None if undecided else True


def _unify(items: list, message: str) -> list:
    """Terraform's element type unification for a collection: mixed primitives become strings."""
    kinds = {_kind(item) for item in items} - {"null", "unknown"}
    if len(kinds) <= 1:
        return list(items)
    if kinds <= {"string", "number", "bool"}:
        return [_primitive_to_string(item) for item in items]
    raise _arg_error(message)


def _distinct(items: list) -> list:
    """Drop later duplicates; elements whose equality is unknown are all kept."""
    out: list = []
    for item in items:
        if not is_known(item) or not any(_equal(item, seen) is True for seen in out):
            out.append(item)
    return out


def _set_sort_key(value: Any) -> tuple:
    kind = _kind(value)
    if kind == "number":
        return (0, value, "")
    if kind == "string":
        return (1, 0, value)
    if kind == "bool":
        return (2, int(value), "")
    return (3, 0, _json_encode(value))


def _as_set(items: list) -> list:
    """A set as the value model holds it: known elements deduplicated and sorted, unknowns last."""
    known = [item for item in items if is_known(item)]
    unknown = [item for item in items if not is_known(item)]
    return sorted(_distinct(known), key=_set_sort_key) + unknown


def _first_nested_unknown(value: Any) -> Unknown | None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Unknown):
            return item
        if isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return None


# ---------------------------------------------------------------------------------------------
# Unicode: grapheme clusters (Terraform counts "characters" as extended grapheme clusters)
# ---------------------------------------------------------------------------------------------

_ZWJ = "\u200d"
_GO_SPACE = (  # Go's unicode.IsSpace, which strings.TrimSpace uses
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def _is_control(ch: str) -> bool:
    if ch in "\u200c\u200d" or "\U000e0020" <= ch <= "\U000e007f":
        return False
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Cf")


def _is_extend(ch: str) -> bool:
    return (
        unicodedata.category(ch) in ("Mn", "Me", "Mc")
        or ch in "\u200c\u200d"
        or "\U0001f3fb" <= ch <= "\U0001f3ff"
        or "\U000e0020" <= ch <= "\U000e007f"
    )


def _is_pictographic(ch: str) -> bool:
    code = ord(ch)
    return (
        0x1F000 <= code <= 0x1FAFF
        or 0x2600 <= code <= 0x27BF
        or 0x2300 <= code <= 0x23FF
        or 0x2B00 <= code <= 0x2BFF
        or code in (0xA9, 0xAE, 0x203C, 0x2049, 0x2122, 0x2139)
        or 0x2194 <= code <= 0x21AA
    )


def _is_regional_indicator(ch: str) -> bool:
    return "\U0001f1e6" <= ch <= "\U0001f1ff"


def _hangul(ch: str) -> str:
    code = ord(ch)
    if 0x1100 <= code <= 0x115F or 0xA960 <= code <= 0xA97C:
        return "L"
    if 0x1160 <= code <= 0x11A7 or 0xD7B0 <= code <= 0xD7C6:
        return "V"
    if 0x11A8 <= code <= 0x11FF or 0xD7CB <= code <= 0xD7FB:
        return "T"
    if 0xAC00 <= code <= 0xD7A3:
        return "LV" if (code - 0xAC00) % 28 == 0 else "LVT"
    return ""


_HANGUL_NEXT = {"L": {"L", "V", "LV", "LVT"}, "LV": {"V", "T"}, "V": {"V", "T"}, "LVT": {"T"}, "T": {"T"}}


def _graphemes(text: str) -> list[str]:
    """Split into extended grapheme clusters (UAX #29, without the rarely relevant Prepend rule)."""
    clusters = []
    i, n = 0, len(text)
    while i < n:
        start, ch = i, text[i]
        i += 1
        if ch == "\r" and i < n and text[i] == "\n":
            i += 1
        elif not _is_control(ch):
            jamo = _hangul(ch)
            while jamo and i < n and _hangul(text[i]) in _HANGUL_NEXT[jamo]:
                jamo = _hangul(text[i])
                i += 1
            if _is_regional_indicator(ch) and i < n and _is_regional_indicator(text[i]):
                i += 1
            pictographic = _is_pictographic(ch)
            while i < n:
                if _is_extend(text[i]):
                    i += 1
                elif pictographic and text[i - 1] == _ZWJ and _is_pictographic(text[i]):
                    i += 1
                else:
                    break
        clusters.append(text[start:i])
    return clusters


def _simple_case(ch: str, mapped: str) -> str:
    """Go maps case one rune at a time; keep the rune when Python's mapping would expand it."""
    if len(mapped) == 1:
        return mapped
    if mapped and all(unicodedata.combining(c) for c in mapped[1:]):
        return mapped[0]
    return ch


# ---------------------------------------------------------------------------------------------
# String functions
# ---------------------------------------------------------------------------------------------


def fn_upper(s):
    return "".join(_simple_case(c, c.upper()) for c in _str(s, "str"))


def fn_lower(s):
    return "".join(_simple_case(c, c.lower()) for c in _str(s, "str"))


def _title_separator(ch: str) -> bool:
    if ch <= "\x7f":
        return not (ch.isascii() and (ch.isalnum() or ch == "_"))
    if ch.isalpha() or unicodedata.category(ch) == "Nd":
        return False
    return ch.isspace()


def fn_title(s):
    """Go's strings.Title: upper-case the first letter of each word, leave the rest alone."""
    out, prev = [], " "
    for ch in _str(s, "str"):
        out.append(_simple_case(ch, ch.title()) if _title_separator(prev) else ch)
        prev = ch
    return "".join(out)


def fn_trimspace(s):
    return _str(s, "str").strip(_GO_SPACE)


def fn_trim(s, cutset):
    return _str(s, "str").strip(_str(cutset, "cutset"))


def fn_trimprefix(s, prefix):
    return _str(s, "str").removeprefix(_str(prefix, "prefix"))


def fn_trimsuffix(s, suffix):
    return _str(s, "str").removesuffix(_str(suffix, "suffix"))


def fn_chomp(s):
    return _str(s, "str").rstrip("\r\n")


def fn_indent(spaces, s):
    count = _whole(spaces, "spaces")
    if count < 0:
        raise _param_error("spaces", "must not be negative")
    return _str(s, "str").replace("\n", "\n" + " " * count)


def fn_split(separator, s):
    sep, text = _str(separator, "separator"), _str(s, "str")
    return list(text) if sep == "" else text.split(sep)


def fn_join(separator, *lists):
    sep = _str(separator, "separator")
    if not lists:
        raise _arg_error("at least one list is required")
    items = []
    for list_number, value in enumerate(lists, start=1):
        for index, item in enumerate(_str_elements(_seq(value, "lists"), "lists")):
            if item is None:
                where = f"element {index} of list {list_number}" if len(lists) > 1 else f"element {index}"
                raise _arg_error(f"{where} is null; cannot concatenate null values")
            items.append(item)
    return sep.join(items)


def fn_strrev(s):
    return "".join(reversed(_graphemes(_str(s, "str"))))


def fn_substr(s, offset, length):
    """cty's substr, grapheme-based, including its handling of out-of-range arguments."""
    clusters = _graphemes(_str(s, "str"))
    start, count = _whole(offset, "offset"), _whole(length, "length")
    if start < 0:
        start += len(clusters)
    elif count == 0:
        return ""
    if start > len(clusters):
        return ""
    rest = clusters[max(start, 0):]
    if count <= 0:  # a count of 0 only gets here with a negative offset, and cty returns the rest
        return "".join(rest)
    return "".join(rest[:count])


def fn_startswith(s, prefix):
    return _str(s, "str").startswith(_str(prefix, "prefix"))


def fn_endswith(s, suffix):
    return _str(s, "str").endswith(_str(suffix, "suffix"))


def fn_strcontains(s, substr):
    return _str(substr, "substr") in _str(s, "str")


def fn_replace(s, substr, replacement):
    text, search, repl = _str(s, "str"), _str(substr, "substr"), _str(replacement, "replace")
    if len(search) > 1 and search.startswith("/") and search.endswith("/"):
        rx = _regex_or_unknown(search[1:-1])
        if isinstance(rx, Unknown):
            return rx
        return _go_replace_all(rx, text, repl)
    return text.replace(search, repl)


# ---------------------------------------------------------------------------------------------
# Regular expressions: Go's RE2 syntax translated to Python's re
# ---------------------------------------------------------------------------------------------


class _Re2Error(Exception):
    """A pattern Go's regexp package rejects."""


class _Re2Unsupported(Exception):
    """A valid RE2 feature this translation does not cover (the result becomes unknown)."""


_WORD = "[0-9A-Za-z_]"
_PERL_CLASSES = {"d": "0-9", "w": "0-9A-Za-z_", "s": "\\t\\n\\f\\r "}
_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f", "digit": "0-9", "graph": "!-~", "lower": "a-z", "print": " -~",
    "punct": "!-/:-@\\[-`{-~", "space": "\\t\\n\\v\\f\\r ", "upper": "A-Z", "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_SIMPLE_ESCAPES = {"a": "\a", "f": "\f", "t": "\t", "n": "\n", "r": "\r", "v": "\v"}
_REPEAT_RE = re.compile(r"\{([0-9]+)(,([0-9]*))?\}")


@dataclass
class _Re2Frame:
    flags: frozenset  # Go flags in force (i, m, s, U)
    py_i: bool  # whether case-insensitivity is in force in the Python output at this point
    base_py_i: bool  # the same, at the start of the group (restored after '|')
    opened: int = 0  # scoped (?i:...) groups opened by inline flags, closed with the group


@dataclass
class _Re2Translator:
    pattern: str
    pos: int = 0
    out: list = field(default_factory=list)
    frames: list = field(default_factory=list)
    can_repeat: bool = False

    def translate(self) -> str:
        self.frames = [_Re2Frame(frozenset(), False, False)]
        handlers = {"\\": self._escape, "[": self._char_class, "(": self._open_group,
                    ")": self._close_group, "|": self._alternate}
        while self.pos < len(self.pattern):
            ch = self.pattern[self.pos]
            if ch in handlers:
                handlers[ch]()
            elif ch in "*+?":
                self._repeat(ch, 1)
            elif ch == "{" and _REPEAT_RE.match(self.pattern, self.pos):
                self._repeat_braces()
            else:
                self._atom(self._special(ch))
                self.pos += 1
        if len(self.frames) > 1:
            raise _Re2Error(f"missing closing ): `{self.pattern}`")
        self.out.append(")" * self.frames[0].opened)
        return "".join(self.out)

    @property
    def _flags(self) -> frozenset:
        return self.frames[-1].flags

    def _special(self, ch: str) -> str:
        if ch == ".":
            return "(?s:.)" if "s" in self._flags else "."
        if ch == "^":
            return "(?m:^)" if "m" in self._flags else "(?:\\A)"
        if ch == "$":
            return "(?m:$)" if "m" in self._flags else "(?:\\Z)"
        return re.escape(ch)

    def _atom(self, text: str, repeatable: bool = True) -> None:
        self.out.append(text)
        self.can_repeat = repeatable

    def _repeat(self, op: str, width: int) -> None:
        if not self.can_repeat:
            raise _Re2Error(f"missing argument to repetition operator: `{op}`")
        self.pos += width
        lazy = self.pattern.startswith("?", self.pos)
        if lazy:
            self.pos += 1
        following = self.pattern[self.pos:self.pos + 1]
        if following and (following in "*+?" or _REPEAT_RE.match(self.pattern, self.pos)):
            raise _Re2Error(f"invalid nested repetition operator: `{op}{'?' if lazy else ''}{following}`")
        greedy = not lazy if "U" not in self._flags else lazy
        self.out.append(op + ("" if greedy else "?"))
        self.can_repeat = False

    def _repeat_braces(self) -> None:
        match = _REPEAT_RE.match(self.pattern, self.pos)
        low = int(match.group(1))
        high = low if match.group(2) is None else (int(match.group(3)) if match.group(3) else None)
        if low > 1000 or (high is not None and (high > 1000 or high < low)):
            raise _Re2Error(f"invalid repeat count: `{match.group(0)}`")
        self._repeat(match.group(0), len(match.group(0)))

    def _escape(self) -> None:
        kind, value, width = self._escape_at(self.pos, in_class=False)
        self.pos += width
        if kind == "char":
            self._atom(re.escape(value))
        elif kind == "literal":
            self._atom("".join(re.escape(c) for c in value), repeatable=bool(value))
        else:  # a class or an assertion, already in Python syntax
            self._atom(value)

    def _escape_at(self, pos: int, in_class: bool) -> tuple[str, str, int]:
        """Read one escape at ``pos``: ('char', c, width), ('class', fragment, width) or others."""
        p = self.pattern
        if pos + 1 >= len(p):
            raise _Re2Error("trailing backslash at end of expression")
        c = p[pos + 1]
        if c in "dws":
            return "class", (_PERL_CLASSES[c] if in_class else f"[{_PERL_CLASSES[c]}]"), 2
        if c in "DWS":
            if in_class:
                raise _Re2Unsupported(f"negated class \\{c} inside a character class")
            return "class", f"[^{_PERL_CLASSES[c.lower()]}]", 2
        if c in "pP":
            raise _Re2Unsupported("Unicode character classes (\\p)")
        if not in_class:
            if c == "b":
                return "assert", f"(?:(?<={_WORD})(?!{_WORD})|(?<!{_WORD})(?={_WORD}))", 2
            if c == "B":
                return "assert", f"(?:(?<={_WORD})(?={_WORD})|(?<!{_WORD})(?!{_WORD}))", 2
            if c == "A":
                return "assert", "(?:\\A)", 2
            if c == "z":
                return "assert", "(?:\\Z)", 2
            if c == "Q":
                end = p.find("\\E", pos + 2)
                literal = p[pos + 2:] if end < 0 else p[pos + 2:end]
                return "literal", literal, (len(p) - pos) if end < 0 else (end + 2 - pos)
        if c == "x":
            return self._hex_escape(pos)
        if c in "01234567":
            return self._octal_escape(pos)
        if c in _SIMPLE_ESCAPES:
            return "char", _SIMPLE_ESCAPES[c], 2
        if c.isascii() and not c.isalnum() and c != "_":
            return "char", c, 2
        raise _Re2Error(f"invalid escape sequence: `\\{c}`")

    def _hex_escape(self, pos: int) -> tuple[str, str, int]:
        p = self.pattern
        if p.startswith("{", pos + 2):
            end = p.find("}", pos + 3)
            digits = p[pos + 3:end] if end > 0 else ""
            width = end + 1 - pos
        else:
            digits, width = p[pos + 2:pos + 4], 4
            if len(digits) < 2:
                digits = ""
        if not digits or any(d not in "0123456789abcdefABCDEF" for d in digits) or int(digits, 16) > 0x10FFFF:
            raise _Re2Error(f"invalid escape sequence: `{p[pos:pos + width]}`")
        return "char", chr(int(digits, 16)), width

    def _octal_escape(self, pos: int) -> tuple[str, str, int]:
        p = self.pattern
        digits = p[pos + 1]
        while len(digits) < 3 and pos + 1 + len(digits) < len(p) and p[pos + 1 + len(digits)] in "01234567":
            digits += p[pos + 1 + len(digits)]
        if digits[0] != "0" and len(digits) == 1:  # \1 .. \7: a backreference, which RE2 lacks
            raise _Re2Error(f"invalid escape sequence: `\\{digits}`")
        return "char", chr(int(digits, 8)), 1 + len(digits)

    def _char_class(self) -> None:
        p, pos = self.pattern, self.pos + 1
        negate = p.startswith("^", pos)
        pos += negate
        items, first = [], True
        while True:
            if pos >= len(p):
                raise _Re2Error(f"missing closing ]: `{p[self.pos:]}`")
            if p[pos] == "]" and not first:
                pos += 1
                break
            first = False
            if p.startswith("[:", pos) and ":]" in p[pos + 2:]:
                end = p.index(":]", pos + 2)
                name = p[pos + 2:end]
                if name.startswith("^"):
                    raise _Re2Unsupported("negated POSIX class")
                if name not in _POSIX_CLASSES:
                    raise _Re2Error(f"invalid character class range: `{p[pos:end + 2]}`")
                items.append(_POSIX_CLASSES[name])
                pos = end + 2
                continue
            low, pos, is_class = self._class_atom(pos)
            if is_class:
                items.append(low)
            elif pos + 1 < len(p) and p[pos] == "-" and p[pos + 1] != "]":
                high, pos, high_is_class = self._class_atom(pos + 1)
                if high_is_class or high < low:
                    raise _Re2Error(f"invalid character class range: `{low}-{high}`")
                items.append(f"{_class_char(low)}-{_class_char(high)}")
            else:
                items.append(_class_char(low))
        self.pos = pos
        self._atom("[" + ("^" if negate else "") + "".join(items) + "]")

    def _class_atom(self, pos: int) -> tuple[str, int, bool]:
        if self.pattern[pos] != "\\":
            return self.pattern[pos], pos + 1, False
        kind, value, width = self._escape_at(pos, in_class=True)
        return value, pos + width, kind == "class"

    def _open_group(self) -> None:
        p, pos = self.pattern, self.pos
        current = self.frames[-1]
        if not p.startswith("(?", pos):
            self.frames.append(_Re2Frame(current.flags, current.py_i, current.py_i))
            self._advance("(", pos + 1)
            return
        named = re.compile(r"\(\?P?<([A-Za-z0-9_]+)>").match(p, pos)
        if named:
            name = named.group(1)
            if name[0].isdigit():
                raise _Re2Unsupported("capture group names starting with a digit")
            self.frames.append(_Re2Frame(current.flags, current.py_i, current.py_i))
            self._advance(f"(?P<{name}>", named.end())
            return
        flagged = re.compile(r"\(\?([imsU]*)(?:-([imsU]*))?([:)])").match(p, pos)
        if not flagged or flagged.group(2) == "" or flagged.group(0) == "(?)":
            raise _Re2Error(f"invalid or unsupported Perl syntax: `{p[pos:pos + 3]}`")
        flags = (current.flags | set(flagged.group(1))) - set(flagged.group(2) or "")
        if flagged.group(3) == ")":
            self._set_flags(frozenset(flags))
            self.pos = flagged.end()
            self.can_repeat = False
            return
        want_i = "i" in flags
        opener = "(?:" if want_i == current.py_i else ("(?i:" if want_i else "(?-i:")
        self.frames.append(_Re2Frame(frozenset(flags), want_i, want_i))
        self._advance(opener, flagged.end())

    def _advance(self, text: str, new_pos: int) -> None:
        self.out.append(text)
        self.pos = new_pos
        self.can_repeat = False

    def _set_flags(self, flags: frozenset) -> None:
        frame = self.frames[-1]
        want_i = "i" in flags
        if want_i != frame.py_i:
            self.out.append("(?i:" if want_i else "(?-i:")
            frame.opened += 1
            frame.py_i = want_i
        frame.flags = flags

    def _close_group(self) -> None:
        if len(self.frames) == 1:
            raise _Re2Error(f"unexpected ): `{self.pattern}`")
        frame = self.frames.pop()
        self.out.append(")" * frame.opened + ")")
        self.pos += 1
        self.can_repeat = True

    def _alternate(self) -> None:
        frame = self.frames[-1]
        self.out.append(")" * frame.opened + "|")
        frame.opened, frame.py_i = 0, frame.base_py_i
        self._set_flags(frame.flags)
        self.pos += 1
        self.can_repeat = False


def _class_char(ch: str) -> str:
    if ch in "\\]^-[&~|":
        return "\\" + ch
    if ch < " " or ch == "\x7f":
        return f"\\x{ord(ch):02x}"
    return ch


@functools.lru_cache(maxsize=512)
def _compile_re2(pattern: str) -> re.Pattern:
    translated = _Re2Translator(pattern).translate()
    try:
        return re.compile(translated)
    except (re.error, RecursionError, OverflowError) as exc:
        raise _Re2Error(f"{exc}: `{pattern}`") from None


def _regex_or_unknown(pattern: str) -> re.Pattern | Unknown:
    try:
        return _compile_re2(pattern)
    except _Re2Unsupported as exc:
        return Unknown(f"regular expression uses {exc}, which servegate does not evaluate")
    except _Re2Error as exc:
        raise _arg_error(f"invalid regexp pattern: {exc}") from None


def _go_expand(template: str, match: re.Match) -> str:
    """Go's Regexp.Expand: $1, ${1}, $name, ${name}, $$; unknown names expand to nothing."""
    out, i, n = [], 0, len(template)
    while i < n:
        dollar = template.find("$", i)
        if dollar < 0:
            out.append(template[i:])
            break
        out.append(template[i:dollar])
        i = dollar + 1
        if template.startswith("$", i):
            out.append("$")
            i += 1
            continue
        brace = template.startswith("{", i)
        start = end = i + brace
        while end < n and (template[end].isalnum() or template[end] == "_"):
            end += 1
        if end == start or (brace and not template.startswith("}", end)):
            out.append("$")
            continue
        name, i = template[start:end], end + brace
        out.append(_go_group(match, name) or "")
    return "".join(out)


def _go_group(match: re.Match, name: str) -> str | None:
    if name.isdigit() and name.isascii():
        number = int(name) if (name[0] != "0" or len(name) == 1) and len(name) < 9 else -1
        return match.group(number) if 0 <= number <= match.re.groups else None
    return match.group(name) if name in match.re.groupindex else None


def _go_replace_all(rx: re.Pattern, text: str, template: str) -> str:
    """Go's ReplaceAllString: an empty match right after a previous match is not replaced."""
    out, last_end, pos, n = [], 0, 0, len(text)
    while pos <= n:
        match = rx.search(text, pos)
        if match is None:
            break
        start, end = match.span()
        out.append(text[last_end:start])
        if end > last_end or start == 0:
            out.append(_go_expand(template, match))
        last_end = end
        pos = pos + 1 if pos + 1 > end else end
    out.append(text[last_end:])
    return "".join(out)


def _go_find_all(rx: re.Pattern, text: str) -> list[re.Match]:
    """Go's FindAll: non-overlapping matches, no empty match right after a previous match."""
    matches, pos, prev_end, n = [], 0, -1, len(text)
    while pos <= n:
        match = rx.search(text, pos)
        if match is None:
            break
        accept = True
        if match.end() == pos:
            accept = match.start() != prev_end
            pos += 1
        else:
            pos = match.end()
        prev_end = match.end()
        if accept:
            matches.append(match)
    return matches


def _regex_result(rx: re.Pattern, match: re.Match) -> Any:
    if rx.groups == 0:
        return match.group(0)
    if rx.groupindex:
        return {name: match.group(name) for name in rx.groupindex}
    return [match.group(i) for i in range(1, rx.groups + 1)]


def _regex_checked(pattern: Any) -> re.Pattern | Unknown:
    rx = _regex_or_unknown(_str(pattern, "pattern"))
    if not isinstance(rx, Unknown) and rx.groupindex and len(rx.groupindex) != rx.groups:
        raise _arg_error("invalid regexp pattern: cannot mix both named and unnamed capture groups")
    return rx


def fn_regex(pattern, s):
    rx = _regex_checked(pattern)
    if isinstance(rx, Unknown):
        return rx
    match = rx.search(_str(s, "string"))
    if match is None:
        raise _arg_error("pattern did not match any part of the given string")
    return _regex_result(rx, match)


def fn_regexall(pattern, s):
    rx = _regex_checked(pattern)
    if isinstance(rx, Unknown):
        return rx
    return [_regex_result(rx, match) for match in _go_find_all(rx, _str(s, "string"))]


# ---------------------------------------------------------------------------------------------
# format and formatlist (cty's printf-like verbs, which lean on Go's fmt for numbers)
# ---------------------------------------------------------------------------------------------


class _FormatError(Exception):
    pass


@dataclass
class _Verb:
    raw: str
    offset: int
    argnum: int
    mode: str = ""
    flags: str = ""
    width: int | None = None
    prec: int | None = None


def _go_quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _parse_verb(fmt: str, start: int, next_arg: int) -> _Verb:
    """Parse ``%[flags][[n]][width][.prec]verb`` starting at the ``%`` at ``start``."""
    verb, i, n = _Verb("", start, next_arg), start + 1, len(fmt)

    def expect(accept: Callable[[str], bool]) -> None:
        if i >= n:
            raise _FormatError(f"invalid format string starting at offset {start}")
        if not accept(fmt[i]):
            raise _FormatError(f"unrecognized format character '{fmt[i]}' at offset {i}")

    while i < n and fmt[i] in "0#-+ ":
        verb.flags += fmt[i]
        i += 1
    if i < n and fmt[i] == "[":
        i += 1
        expect(lambda c: c in "123456789")
        j = i
        while j < n and fmt[j].isdigit() and fmt[j].isascii():
            j += 1
        verb.argnum, i = int(fmt[i:j]), j
        expect(lambda c: c == "]")
        i += 1
    if i < n and fmt[i] in "123456789":
        j = i
        while j < n and fmt[j] in "0123456789":
            j += 1
        verb.width, i = int(fmt[i:j]), j
    if i < n and fmt[i] == ".":
        j = i + 1
        while j < n and fmt[j] in "0123456789":
            j += 1
        verb.prec, i = int(fmt[i + 1:j] or "0"), j
    expect(lambda c: c.isascii() and c.isalpha())
    verb.mode, verb.raw = fmt[i], fmt[start:i + 1]
    return verb


def _format(fmt: str, args: list) -> str:
    out, i, n = [], 0, len(fmt)
    next_arg, max_used, verbs = 1, 0, 0
    while i < n:
        if fmt[i] != "%":
            out.append(fmt[i])
            i += 1
        elif fmt.startswith("%%", i):
            out.append("%")
            i += 2
        else:
            verb = _parse_verb(fmt, i, next_arg)
            out.append(_format_verb(verb, args))
            verbs, max_used, next_arg = verbs + 1, max(max_used, verb.argnum), verb.argnum + 1
            i += len(verb.raw)
    if len(args) > max_used:
        if verbs == 0:
            raise _FormatError("too many arguments; no verbs in format string")
        raise _FormatError(f"too many arguments; only {max_used} used by format string")
    return "".join(out)


def _format_verb(verb: _Verb, args: list) -> str:
    if verb.argnum > len(args):
        raise _FormatError(
            f"not enough arguments for {_go_quote(verb.raw)} at {verb.offset}: "
            f"need index {verb.argnum} but have {len(args)} total"
        )
    arg = args[verb.argnum - 1]
    where = f"{_go_quote(verb.raw)} at {verb.offset}"
    if verb.mode != "v" and arg is None:
        raise _FormatError(f"unsupported value for {where}: null value cannot be formatted")
    try:
        if verb.mode == "v":
            return _format_default(verb, arg)
        if verb.mode == "t":
            return "true" if _bool(arg, "") else "false"
        if verb.mode in "bdoxX":
            return _format_integer(verb, _num(arg, ""), where)
        if verb.mode in "eEfgG":
            return _format_float(verb, _num(arg, ""))
        if verb.mode in "sq":
            return _format_string(verb, _str(arg, ""))
    except EvalError as exc:  # a conversion failed: keep just the reason ("number required")
        reason = str(exc).rsplit("parameter: ", 1)[-1].rstrip(".")
        raise _FormatError(f"unsupported value for {where}: {reason}") from None
    raise _FormatError(f"unsupported format verb '{verb.mode}' in {_go_quote(verb.raw)} at offset {verb.offset}")


def _pad_width(verb: _Verb, text: str) -> str:
    if verb.width is None:
        return text
    missing = verb.width - len(_graphemes(text))
    if missing <= 0:
        return text
    pad = ("0" if "0" in verb.flags else " ") * missing
    return text + pad if "-" in verb.flags else pad + text


def _format_default(verb: _Verb, arg: Any) -> str:
    if "#" not in verb.flags and isinstance(arg, str):
        return _pad_width(verb, arg)
    if "#" not in verb.flags and _is_number(arg):
        return _pad_width(verb, _go_float_text(arg, "g", None))
    return _pad_width(verb, _json_encode(arg))


def _format_string(verb: _Verb, text: str) -> str:
    if verb.prec:
        text = "".join(_graphemes(text)[:verb.prec])
    return _pad_width(verb, _json_string(text) if verb.mode == "q" else text)


def _format_integer(verb: _Verb, number: int | float, where: str) -> str:
    """Go's fmt for *big.Int: [left pad][sign][prefix][zeros][digits][right pad]."""
    if isinstance(number, float) and not (math.isfinite(number) and number.is_integer()):
        raise _FormatError(f"unsupported value for {where}: an integer is required")
    value = int(number)
    digits = format(abs(value), {"d": "d", "b": "b", "o": "o", "x": "x", "X": "X"}[verb.mode])
    zeros = 0
    if verb.prec is not None:
        if len(digits) < verb.prec:
            zeros = verb.prec - len(digits)
        elif digits == "0" and verb.prec == 0:
            return ""
    sign = "-" if value < 0 else "+" if "+" in verb.flags else " " if " " in verb.flags else ""
    prefix = {"b": "0b", "o": "0", "x": "0x", "X": "0X"}.get(verb.mode, "") if "#" in verb.flags else ""
    left = right = 0
    length = len(sign) + len(prefix) + zeros + len(digits)
    if verb.width is not None and length < verb.width:
        extra = verb.width - length
        if "-" in verb.flags:
            right = extra
        elif "0" in verb.flags and verb.prec is None:
            zeros += extra
        else:
            left = extra
    return " " * left + sign + prefix + "0" * zeros + digits + " " * right


def _decimal_digits(dec: Decimal) -> tuple[str, int]:
    """(mantissa digits without trailing zeros, exponent) with |dec| = 0.mantissa x 10**exponent."""
    _, digit_tuple, exponent = dec.as_tuple()
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    if not digits:
        return "", 0
    return digits.rstrip("0"), len(digits) + exponent


def _round_significant(dec: Decimal, places: int) -> Decimal:
    if dec == 0:
        return dec
    quantum = Decimal(1).scaleb(dec.adjusted() - places + 1)
    return dec.quantize(quantum, ROUND_HALF_EVEN, Context(prec=places + 2))


def _fmt_e(mant: str, exp: int, decimals: int) -> str:
    first, rest = (mant[:1] or "0"), mant[1:].ljust(decimals, "0")[:decimals]
    power = exp - 1 if mant else 0
    return first + ("." + rest if decimals else "") + f"e{'-' if power < 0 else '+'}{abs(power):02d}"


def _fmt_f(mant: str, exp: int, decimals: int) -> str:
    whole = (mant[:exp].ljust(exp, "0") if exp > 0 else "") or "0"
    fraction = ("0" * -exp + mant) if exp < 0 else mant[exp:]
    fraction = fraction.ljust(decimals, "0")[:decimals]
    return whole + ("." + fraction if decimals else "")


def _go_float_text(number: int | float, mode: str, prec: int | None) -> str:
    """big.Float.Text for modes e, f, g (lower case) without the sign handling of Format."""
    if isinstance(number, float) and math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    dec = _to_decimal(number)
    sign, dec = ("-" if dec.is_signed() and dec != 0 else ""), dec.copy_abs()
    if mode == "e":
        places = 6 if prec is None else prec
        mant, exp = _decimal_digits(_round_significant(dec, places + 1))
        return sign + _fmt_e(mant, exp, places)
    if mode == "f":
        places = 6 if prec is None else prec
        context = Context(prec=max(dec.adjusted(), 0) + places + 2)
        rounded = dec.quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN, context)
        mant, exp = _decimal_digits(rounded)
        return sign + _fmt_f(mant, exp, places)
    if prec is None:  # shortest representation; %e beyond exponent 6 like Go
        mant, exp = _decimal_digits(dec)
        if exp - 1 < -4 or exp - 1 >= 6:
            return sign + _fmt_e(mant, exp, max(len(mant) - 1, 0))
        return sign + _fmt_f(mant, exp, max(len(mant) - exp, 0))
    places = max(prec, 1)
    mant, exp = _decimal_digits(_round_significant(dec, places))
    eprec = len(mant) if places > len(mant) and len(mant) >= exp else places
    if exp - 1 < -4 or exp - 1 >= eprec:
        return sign + _fmt_e(mant, exp, min(places, len(mant)) - 1 if mant else 0)
    return sign + _fmt_f(mant, exp, max((len(mant) if places > exp else places) - exp, 0))


def _format_float(verb: _Verb, number: int | float) -> str:
    """Go's fmt for *big.Float: sign handling, then zero- or space-padding to the width."""
    text = _go_float_text(number, verb.mode.lower(), verb.prec)
    if verb.mode in "EG":
        text = text.upper().replace("INF", "Inf")
    sign = ""
    if text[0] in "+-":
        sign, text = text[0], text[1:]
        if sign == "+" and " " in verb.flags:
            sign = " "
    elif "+" in verb.flags:
        sign = "+"
    elif " " in verb.flags:
        sign = " "
    padding = max((verb.width or 0) - len(sign) - len(text), 0)
    if "0" in verb.flags and text != "Inf":
        return sign + "0" * padding + text
    if "-" in verb.flags:
        return sign + text + " " * padding
    return " " * padding + sign + text


def fn_format(fmt, *args):
    try:
        return _format(_str(fmt, "format"), list(args))
    except _FormatError as exc:
        raise _arg_error(str(exc)) from None


def fn_formatlist(fmt, *args):
    template = _str(fmt, "format")
    length, chooser = None, 0
    for index, arg in enumerate(args):
        if isinstance(arg, list):
            if length is None:
                length, chooser = len(arg), index
            elif len(arg) != length:
                raise _arg_error(
                    f"argument {index + 1} has length {len(arg)}, which is inconsistent "
                    f"with argument {chooser + 1} of length {length}"
                )
    results = []
    for iteration in range(1 if length is None else length):
        row = [arg[iteration] if isinstance(arg, list) else arg for arg in args]
        unknown = _first_nested_unknown(row)
        if unknown is not None:
            results.append(unknown)
            continue
        try:
            results.append(_format(template, row))
        except _FormatError as exc:
            raise _arg_error(f"error on format iteration {iteration}: {exc}") from None
    return results


# ---------------------------------------------------------------------------------------------
# Collection functions
# ---------------------------------------------------------------------------------------------


def fn_length(value):
    if isinstance(value, str):
        return len(_graphemes(value))
    if isinstance(value, (list, dict)):
        return len(value)
    if value is None:
        raise _param_error("value", "argument must not be null")
    raise _arg_error("argument must be a string, a collection type, or a structural type")


def fn_coalesce(*args):
    """The first argument that is not null or "" (once arguments unify to string)."""
    kinds = {_kind(arg) for arg in args} - {"null", "unknown"}
    if len(kinds) > 1 and not kinds <= {"string", "number", "bool"}:
        raise _arg_error("all arguments must have the same type")
    as_string = len(kinds) > 1 or kinds == {"string"}
    for arg in args:
        if isinstance(arg, Unknown):
            return arg
        if arg is None:
            continue
        value = _primitive_to_string(arg) if as_string else arg
        if value == "" and as_string:
            continue
        return value
    raise _arg_error("no non-null, non-empty-string arguments")


def fn_coalescelist(*args):
    if not args:
        raise _arg_error("at least one argument is required")
    for arg in args:
        if isinstance(arg, Unknown):
            continue
        if not isinstance(arg, list):
            raise _arg_error("coalescelist arguments must be lists or tuples")
    for arg in args:
        if isinstance(arg, Unknown):
            return arg
        if arg:
            return arg
    raise _arg_error("no non-null arguments")


def fn_concat(*seqs):
    if not seqs:
        raise _arg_error("at least one argument is required")
    out = []
    for seq in seqs:
        if not isinstance(seq, list):
            raise _arg_error(f"all arguments must be lists or tuples; got {_friendly_type(seq)}")
        out.extend(seq)
    return out


def fn_merge(*maps):
    merged, all_null = {}, True
    for value in maps:
        if value is None:
            continue
        if not isinstance(value, dict):
            raise _arg_error(f'arguments must be maps or objects, got "{_friendly_type(value)}"')
        all_null = False
        merged.update(value)
    return None if maps and all_null else merged


def fn_lookup(inputmap, key, *default):
    if len(default) > 1:
        raise _arg_error(f"lookup() takes two or three arguments, got {2 + len(default)}")
    if not isinstance(inputmap, dict):
        raise _arg_error("lookup() requires a map as the first argument")
    name = _str(key, "key")
    if name in inputmap:
        return inputmap[name]
    if default:
        return default[0]
    raise _arg_error(f"lookup failed to find key {_go_quote(name)}")


def fn_element(lst, index):
    position = _whole(index, "index")
    if position < 0:
        raise _arg_error("cannot use element function with a negative index")
    if not isinstance(lst, list):
        raise _arg_error(f"cannot read elements from {_friendly_type(lst)}")
    if not lst:
        raise _arg_error("cannot use element function with an empty list")
    return lst[position % len(lst)]


def fn_keys(inputmap):
    if not isinstance(inputmap, dict):
        raise _arg_error("must have map or object type")
    return sorted(inputmap)


def fn_values(mapping):
    if not isinstance(mapping, dict):
        raise _arg_error("values() requires a map as the first argument")
    return [mapping[key] for key in sorted(mapping)]


def fn_flatten(lst):
    if not isinstance(lst, list):
        raise _arg_error("can only flatten lists, sets and tuples")
    out = []
    for item in lst:
        out.extend(fn_flatten(item) if isinstance(item, list) else [item])
    return out


def fn_distinct(lst):
    return _distinct(_unify(_seq(lst, "list"), "all elements must have the same type"))


def fn_compact(lst):
    return [item for item in _str_elements(_seq(lst, "list"), "list") if item is not None and item != ""]


def fn_contains(lst, value):
    if not isinstance(lst, list):
        raise _arg_error("argument must be list, tuple, or set")
    undecided = False
    for item in lst:
        result = _equal(value, item)
        if result is True:
            return True
        undecided = undecided or result is None
    return Unknown("contains() cannot tell: the list has unknown elements") if undecided else False


def fn_index(lst, value):
    if not isinstance(lst, list):
        raise _arg_error("argument must be a list or tuple")
    if not lst:
        raise _arg_error("cannot search an empty list")
    for position, item in enumerate(lst):
        result = _equal(item, value)
        if result is None:
            return Unknown("index() cannot tell: the list has unknown elements")
        if result:
            return position
    raise _arg_error("item not found")


def fn_reverse(lst):
    if not isinstance(lst, list):
        raise _arg_error(f"can only reverse list or tuple values, not {_friendly_type(lst)}")
    return list(reversed(lst))


def fn_slice(lst, start_index, end_index):
    if not isinstance(lst, list):
        raise _arg_error("must be a list or tuple value")
    start, end = _whole(start_index, "start_index"), _whole(end_index, "end_index")
    if start < 0:
        raise _arg_error("start index must not be less than zero")
    if start > len(lst):
        raise _arg_error("start index must not be greater than the length of the list")
    if end < 0:
        raise _arg_error("end index must not be less than zero")
    if end > len(lst):
        raise _arg_error("end index must not be greater than the length of the list")
    if start > end:
        raise _arg_error("start index must not be greater than end index")
    return lst[start:end]


def fn_one(lst):
    if isinstance(lst, list) and len(lst) <= 1:
        return lst[0] if lst else None
    raise _arg_error("must be a list, set, or tuple value with either zero or one elements")


def fn_sort(lst):
    items = _str_elements(_seq(lst, "list"), "list")
    for position, item in enumerate(items):
        if item is None:
            raise _arg_error(f"given list element {position} is null; a null string cannot be sorted")
    return sorted(items)


def fn_chunklist(lst, size):
    items, width = _seq(lst, "list"), _whole(size, "size")
    if width < 0:
        raise _arg_error("the size argument must be positive")
    if not items:
        return []
    if width == 0:
        return [list(items)]
    return [items[i:i + width] for i in range(0, len(items), width)]


def fn_zipmap(keys, values):
    names = _str_elements(_seq(keys, "keys"), "keys")
    if not isinstance(values, list):
        raise _param_error("values", "list or tuple required")
    if len(names) != len(values):
        raise _arg_error(f"number of keys ({len(names)}) does not match number of values ({len(values)})")
    unknown = _first_nested_unknown(names)
    if unknown is not None:
        return unknown
    for position, name in enumerate(names):
        if name is None:
            raise _arg_error(f"keys list has null value at index {position}")
    return dict(zip(names, values))


def fn_matchkeys(values, keys, searchset):
    vals, ks, search = _seq(values, "values"), _seq(keys, "keys"), _seq(searchset, "searchset")
    if len(vals) != len(ks):
        raise _arg_error("length of keys and values should be equal")
    unified = _unify(ks + search, "keys and searchset must be of the same type")
    ks, search = unified[:len(ks)], unified[len(ks):]
    return [vals[i] for i, key in enumerate(ks) if any(_equal(key, s) is True for s in search)]


def fn_transpose(values):
    mapping = _mapping(values, "values")
    out: dict[str, list[str]] = {}
    for key in sorted(mapping):
        items = mapping[key]
        if not isinstance(items, list) or any(isinstance(i, (list, dict)) or i is None for i in items):
            raise _arg_error("input must be a map of lists of strings")
        for item in _str_elements(items, "values"):
            out.setdefault(item, []).append(key)
    return {key: sorted(names) for key, names in out.items()}


def _truthiness(lst) -> list:
    items = _seq(lst, "list")
    return [item if isinstance(item, Unknown) or item is None else _bool(item, "list") for item in items]


def fn_alltrue(lst):
    items = _truthiness(lst)
    if any(item is False or item is None for item in items):
        return False
    unknown = next((item for item in items if isinstance(item, Unknown)), None)
    return unknown if unknown is not None else True


def fn_anytrue(lst):
    items = _truthiness(lst)
    if any(item is True for item in items):
        return True
    unknown = next((item for item in items if isinstance(item, Unknown)), None)
    return unknown if unknown is not None else False


def fn_range(*params):
    if not 1 <= len(params) <= 3:
        raise _arg_error("must have one, two, or three arguments")
    nums = [_fraction(_num(p, "params")) for p in params]
    if len(nums) == 1:
        start, end, step = Fraction(0), nums[0], Fraction(-1 if nums[0] < 0 else 1)
    elif len(nums) == 2:
        start, end = nums
        step = Fraction(-1 if end < start else 1)
    else:
        start, end, step = nums
    if step == 0:
        raise _arg_error("step must not be zero")
    if step < 0 and end > start:
        raise _arg_error("end must be less than start when step is negative")
    if step > 0 and end < start:
        raise _arg_error("end must be greater than start when step is positive")
    out, current = [], start
    while (current > end) if step < 0 else (current < end):
        if len(out) >= 1024:
            raise _arg_error(
                "more than 1024 values were generated; either decrease the difference "
                "between start and end or use a smaller step"
            )
        out.append(_from_fraction(current))
        current += step
    return out


# ---------------------------------------------------------------------------------------------
# Set functions (sets are sorted, deduplicated lists in the value model)
# ---------------------------------------------------------------------------------------------


def _set_args(sets: tuple, param: str) -> list[list]:
    lists = [_seq(s, param) for s in sets]
    flat = _unify([item for lst in lists for item in lst], "given sets must all have compatible element types")
    out, offset = [], 0
    for lst in lists:
        out.append(flat[offset:offset + len(lst)])
        offset += len(lst)
    return out


def fn_setunion(first_set, *other_sets):
    return _as_set([item for lst in _set_args((first_set, *other_sets), "sets") for item in lst])


def fn_setintersection(first_set, *other_sets):
    first, *others = _set_args((first_set, *other_sets), "sets")
    return _as_set([item for item in first if all(any(_equal(item, o) for o in other) for other in others)])


def fn_setsubtract(a, b):
    first, second = _set_args((a, b), "sets")
    return _as_set([item for item in first if not any(_equal(item, o) for o in second)])


def fn_setproduct(*sets):
    if len(sets) < 2:
        raise _arg_error("at least two arguments are required")
    for value in sets:
        if not isinstance(value, list):
            raise _arg_error("a set or a list is required")
    return [list(combo) for combo in itertools.product(*sets)]


# ---------------------------------------------------------------------------------------------
# Numeric functions
# ---------------------------------------------------------------------------------------------


def _fraction(number: int | float) -> Fraction:
    if isinstance(number, float) and not math.isfinite(number):
        raise _arg_error("cannot use an infinite number here")
    return Fraction(number) if isinstance(number, int) else Fraction(repr(number))


def _from_fraction(value: Fraction) -> int | float:
    return value.numerator if value.denominator == 1 else normalise_number(float(value))


def _finite_result(value: float) -> int | float:
    if math.isnan(value):
        raise _arg_error("the result is not a number (NaN)")
    return normalise_number(value)


def fn_abs(num):
    return abs(_num(num, "num"))


def fn_ceil(num):
    value = _num(num, "num")
    return value if isinstance(value, int) or math.isinf(value) else math.ceil(value)


def fn_floor(num):
    value = _num(num, "num")
    return value if isinstance(value, int) or math.isinf(value) else math.floor(value)


def fn_signum(num):
    value = _num(num, "num")
    return (value > 0) - (value < 0)


def _go_log(x: float) -> float:
    if math.isnan(x) or x < 0:
        return math.nan
    return -math.inf if x == 0 else math.log(x)


def _go_divide(a: float, b: float) -> float:
    if b == 0:
        return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a) * math.copysign(1, b)
    return a / b


def fn_log(num, base):
    return _finite_result(_go_divide(_go_log(float(_num(num, "num"))), _go_log(float(_num(base, "base")))))


def fn_pow(num, power):
    x, y = float(_num(num, "num")), float(_num(power, "power"))
    try:
        return _finite_result(math.pow(x, y))
    except OverflowError:
        return math.inf if x > 0 or float(y).is_integer() and int(y) % 2 == 0 else -math.inf
    except ValueError:
        if x == 0 and y < 0:
            odd = float(y).is_integer() and int(y) % 2 == 1
            return math.copysign(math.inf, x) if odd else math.inf
        raise _arg_error("the result is not a number (NaN)") from None


def _minmax(numbers: tuple, pick: Callable) -> int | float:
    if not numbers:
        raise _arg_error("must pass at least one number")
    return pick(_num(n, "numbers") for n in numbers)


def fn_max(*numbers):
    return _minmax(numbers, max)


def fn_min(*numbers):
    return _minmax(numbers, min)


def fn_sum(lst):
    if not isinstance(lst, list):
        raise _arg_error("cannot sum noniterable")
    if not lst:
        raise _arg_error("cannot sum an empty list")
    nums = []
    for item in lst:
        convertible = _is_number(item) or (isinstance(item, str) and _parse_number(item) is not None)
        if not convertible:
            raise _arg_error("argument must be list, set, or tuple of number values")
        nums.append(_num(item, "list"))
    infinities = {math.copysign(1, n) for n in nums if isinstance(n, float) and math.isinf(n)}
    if len(infinities) == 2:
        raise _arg_error("can't compute sum of opposing infinities")
    if infinities:
        return math.copysign(math.inf, infinities.pop())
    return _from_fraction(sum((_fraction(n) for n in nums), Fraction(0)))


_DIGITS62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def fn_parseint(number, base):
    if not isinstance(number, str):
        raise _arg_error(f"first argument must be a string, not {_friendly_type(number)}")
    radix = _whole(base, "base")
    if not 2 <= radix <= 62:
        raise _arg_error("base must be a whole number between 2 and 62 inclusive")
    text = number[1:] if number[:1] in "+-" else number
    value = 0
    for ch in text:
        digit = _DIGITS62.find(ch.lower() if radix <= 36 else ch)
        if digit < 0 or digit >= radix:
            value = None
            break
        value = value * radix + digit
    if not text or value is None:
        raise _arg_error(f"cannot parse {_go_quote(number)} as a base {radix} integer")
    return -value if number.startswith("-") else value


# ---------------------------------------------------------------------------------------------
# Type conversion
# ---------------------------------------------------------------------------------------------


def fn_tostring(v):
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool) or _is_number(v):
        return _primitive_to_string(v)
    raise _param_error("v", f"cannot convert {_friendly_type(v)} to string")


def fn_tonumber(v):
    if v is None or _is_number(v):
        return v
    if isinstance(v, str):
        parsed = _parse_number(v)
        if parsed is None:
            raise _param_error("v", f"cannot convert {_go_quote(v)} to number; "
                                    "given string must be a decimal representation of a number")
        return parsed
    raise _param_error("v", f"cannot convert {_friendly_type(v)} to number")


def fn_tobool(v):
    if v is None or isinstance(v, bool):
        return v
    if v in ("true", "false"):
        return v == "true"
    if isinstance(v, str):
        raise _param_error("v", f'cannot convert {_go_quote(v)} to bool; '
                                'only the strings "true" or "false" are allowed')
    raise _param_error("v", f"cannot convert {_friendly_type(v)} to bool")


def fn_tolist(v):
    if v is None:
        return None
    if not isinstance(v, list):
        raise _param_error("v", f"cannot convert {_friendly_type(v)} to list of any single type")
    return _unify(v, 'Invalid value for "v" parameter: cannot convert tuple to list of any single type.')


def fn_toset(v):
    if v is None:
        return None
    if not isinstance(v, list):
        raise _param_error("v", f"cannot convert {_friendly_type(v)} to set of any single type")
    return _as_set(_unify(v, 'Invalid value for "v" parameter: cannot convert tuple to set of any single type.'))


def fn_tomap(v):
    if v is None:
        return None
    if not isinstance(v, dict):
        raise _param_error("v", f"cannot convert {_friendly_type(v)} to map of any single type")
    keys = list(v)
    message = 'Invalid value for "v" parameter: cannot convert object to map of any single type.'
    unified = _unify([v[k] for k in keys], message)
    return dict(zip(keys, unified))


def fn_identity(value):
    return value


# ---------------------------------------------------------------------------------------------
# JSON (Go's encoding/json output: compact, sorted keys, HTML-safe escapes)
# ---------------------------------------------------------------------------------------------

_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_JSON_NEEDS_ESCAPE = re.compile("[\x00-\x1f\"\\\\<>&\u2028\u2029\ud800-\udfff]")


def _json_escape_char(match: re.Match) -> str:
    ch = match.group(0)
    if ch in _JSON_ESCAPES:
        return _JSON_ESCAPES[ch]
    if "\ud800" <= ch <= "\udfff":
        return "\\ufffd"
    return f"\\u{ord(ch):04x}"


def _json_string(text: str) -> str:
    return '"' + _JSON_NEEDS_ESCAPE.sub(_json_escape_char, text) + '"'


def _json_encode(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if _is_number(value):
        if isinstance(value, float) and not math.isfinite(value):
            raise _arg_error("cannot serialize infinity or NaN as JSON")
        return _number_to_string(value)
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, list):
        return "[" + ",".join(_json_encode(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{_json_string(k)}:{_json_encode(value[k])}" for k in sorted(value)) + "}"
    raise _arg_error(f"cannot serialize {type(value).__name__} as JSON")


def _encoded_unknown(function: str, value: Any) -> Unknown | None:
    """An encoding of a value holding unknowns is unknown, but keeps the value's structure."""
    if is_known(value):
        return None
    return Unknown(f"{function}() of a value holding unknown values", partial=value)


def fn_jsonencode(val):
    unknown = _encoded_unknown("jsonencode", val)
    return _json_encode(val) if unknown is None else unknown


def _json_object(pairs: list) -> dict:
    out = {}
    for key, value in pairs:
        if key in out:
            raise _arg_error(f"duplicate {_go_quote(key)} property in JSON object")
        out[key] = value
    return out


def _json_reject_constant(name: str) -> Any:
    raise _arg_error(f"invalid JSON: unexpected {name}")


def fn_jsondecode(s):
    text = _str(s, "str")
    try:
        return json.loads(
            text,
            object_pairs_hook=_json_object,
            parse_float=_parse_number,
            parse_int=int,
            parse_constant=_json_reject_constant,
        )
    except json.JSONDecodeError as exc:
        raise _arg_error(f"invalid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise _arg_error("invalid JSON: nested too deeply") from None


# ---------------------------------------------------------------------------------------------
# YAML (go-cty-yaml: block style, double-quoted strings, literal style for multi-line strings)
# ---------------------------------------------------------------------------------------------

_YAML_ESCAPES = {"\0": "0", "\a": "a", "\b": "b", "\t": "t", "\n": "n", "\v": "v", "\f": "f", "\r": "r",
                 "\x1b": "e", '"': '"', "\\": "\\", "\x85": "N", "\xa0": "_", "\u2028": "L", "\u2029": "P"}


def _libyaml_printable(ch: str) -> bool:
    code = ord(ch)
    return (code == 0x0A or 0x20 <= code <= 0x7E or code == 0x85 or 0xA0 <= code <= 0xD7FF
            or (0xE000 <= code <= 0xFFFD and code != 0xFEFF) or 0x10000 <= code <= 0x10FFFF)


def _yaml_escape(ch: str) -> str:
    if ch in _YAML_ESCAPES:
        return "\\" + _YAML_ESCAPES[ch]
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02X}"
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


class _GoYamlEmitter(yaml.emitter.Emitter):
    """PyYAML's emitter with the two behaviours where go-yaml's port of libyaml differs."""

    def check_empty_document(self):  # libyaml never treats a document as empty
        return False

    def _put(self, data: str) -> None:
        self.column += len(data)
        self.whitespace = self.indention = False
        self.stream.write(data)

    def write_double_quoted(self, text, split=True):  # libyaml's folding and escapes
        self.write_indicator('"', True)
        spaces = False
        for i, ch in enumerate(text):
            if not _libyaml_printable(ch) or ch in '"\\\n\x85\u2028\u2029':
                self._put(_yaml_escape(ch))
                spaces = False
            elif ch == " ":
                if split and not spaces and self.column > self.best_width and 0 < i < len(text) - 1:
                    self.write_indent()
                    if text[i + 1] == " ":
                        self._put("\\")
                else:
                    self._put(" ")
                spaces = True
            else:
                self._put(ch)
                spaces = False
        self.write_indicator('"', False)


def _yaml_events(value: Any):
    events = yaml.events
    if isinstance(value, list):
        yield events.SequenceStartEvent(None, None, True, flow_style=False)
        for item in value:
            yield from _yaml_events(item)
        yield events.SequenceEndEvent()
    elif isinstance(value, dict):
        yield events.MappingStartEvent(None, None, True, flow_style=False)
        for key in sorted(value):
            yield from _yaml_events(key)
            yield from _yaml_events(value[key])
        yield events.MappingEndEvent()
    elif isinstance(value, str):
        yield events.ScalarEvent(None, None, (True, True), value, style="|" if "\n" in value else '"')
    else:
        if value is None:
            text = "null"
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, float) and math.isinf(value):
            text = "+.Inf" if value > 0 else "-.Inf"
        elif isinstance(value, float) and math.isnan(value):
            raise _arg_error("cannot serialize NaN as YAML")
        else:
            text = _number_to_string(value)
        yield events.ScalarEvent(None, None, (True, True), text)


def fn_yamlencode(value):
    unknown = _encoded_unknown("yamlencode", value)
    if unknown is not None:
        return unknown
    stream = io.StringIO()
    emitter = _GoYamlEmitter(stream, allow_unicode=True)
    emitter.emit(yaml.events.StreamStartEvent())
    emitter.emit(yaml.events.DocumentStartEvent(explicit=False))
    for event in _yaml_events(value):
        emitter.emit(event)
    emitter.emit(yaml.events.DocumentEndEvent(explicit=False))
    emitter.emit(yaml.events.StreamEndEvent())
    return stream.getvalue()


_YAML_PLAIN = "!servegate/plain"
_YAML_TAG_PREFIX = "tag:yaml.org,2002:"
_YAML_CONSTANTS = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_YAML_INT = re.compile(r"[-+]?(?:0o[0-7_]+|[0-9_]+|0x[0-9a-fA-F_]+)")
_YAML_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_YAML_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:(?:[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2}))"
    r"|(?: (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d+)?))?"
)


class _YamlResolver(yaml.resolver.BaseResolver):
    """Tag plain scalars distinctly so go-cty-yaml's own resolution rules can be applied."""

    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode and implicit[0]:
            return _YAML_PLAIN
        return super().resolve(kind, value, implicit)


class _YamlComposer(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,
                    yaml.composer.Composer, _YamlResolver):
    def __init__(self, stream):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _YamlResolver.__init__(self)


def _timezone(zone: str) -> timezone:
    """A fixed zone from "Z" or "+hh:mm" / "-hh:mm"."""
    if zone == "Z":
        return timezone.utc
    offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    return timezone(-offset if zone[0] == "-" else offset)


def _yaml_timestamp(src: str) -> str | None:
    match = _YAML_TIMESTAMP.fullmatch(src)
    if not match:
        return None
    year, month, day = (int(g) for g in match.group(1, 2, 3))
    clock = match.group(4, 5, 6) if match.group(4) else match.group(8, 9, 10)
    hour, minute, second = (int(g) for g in clock) if clock[0] else (0, 0, 0)
    zone = match.group(7) or "Z"
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=_timezone(zone))
    except ValueError:
        return None
    return _rfc3339(moment)


def _yaml_number(src: str, tag: str) -> int | float:
    plain = src.replace("_", "")
    parsed = _parse_number(plain)
    if parsed is not None:
        return parsed
    match = re.fullmatch(r"([-+]?)0([xob])([0-9a-fA-F]+)", plain)
    if match:
        try:
            value = int(match.group(3), {"x": 16, "o": 8, "b": 2}[match.group(2)])
        except ValueError:
            value = None
        if value is not None and value < 2**64:
            return -value if match.group(1) == "-" else value
    raise _arg_error(f"cannot parse {_go_quote(src)} as {tag}")


def _yaml_scalar(src: str, tag: str, quoted: bool) -> Any:
    """go-cty-yaml's resolveScalar; ``tag`` is "" for a plain scalar without explicit tag."""
    known = {"", "!!str", "!!bool", "!!int", "!!float", "!!null", "!!timestamp", "!!binary"}
    if tag not in known:
        raise _arg_error(f"unsupported tag {_go_quote(tag)}")
    first = src[:1]
    hinted = src == "" or first in "+-0123456789.yYnNtTfFoO~"
    if hinted and tag not in ("!!str", "!!binary"):
        if quoted:
            return src
        if src in _YAML_CONSTANTS:
            return _YAML_CONSTANTS[src]
        if tag == "" and src in (".nan", ".NaN", ".NAN"):
            raise _arg_error("floating point NaN is not supported")
        if first == "." and _parse_number(src) is not None:
            return _parse_number(src)
        if first and first in "+-0123456789":
            if tag in ("", "!!timestamp") and (stamp := _yaml_timestamp(src)) is not None:
                return stamp
            if _YAML_INT.fullmatch(src):
                tag = "!!int"
            elif _YAML_FLOAT.fullmatch(src):
                tag = "!!float"
    if tag in ("", "!!str"):
        return src
    if tag == "!!binary":
        try:
            base64.b64decode(re.sub(r"\s", "", src), validate=True)
        except binascii.Error:
            raise _arg_error(f"cannot parse {_go_quote(src)} as !!binary: not valid base64") from None
        return src
    if tag == "!!bool":
        if not isinstance(_YAML_CONSTANTS.get(src, 0), bool):
            raise _arg_error(f"cannot parse {_go_quote(src)} as {tag}")
        return _YAML_CONSTANTS[src]
    if tag == "!!null":
        return None
    if tag == "!!timestamp":
        stamp = _yaml_timestamp(src)
        if stamp is None:
            raise _arg_error(f"cannot parse {_go_quote(src)} as {tag}")
        return stamp
    return _yaml_number(src, tag)


@dataclass
class _YamlConverter:
    budget: int = 1_000_000  # nodes, bounds alias expansion
    active: set = field(default_factory=set)

    def value(self, node) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise _arg_error("YAML document expands to too many values (alias bomb?)")
        if id(node) in self.active:
            raise _arg_error("YAML document contains a recursive alias")
        tag = node.tag.replace(_YAML_TAG_PREFIX, "!!")
        if isinstance(node, yaml.ScalarNode):
            if tag == _YAML_PLAIN:
                tag = "<<" if node.value == "<<" else ""
                if tag:
                    return _MERGE_KEY
            return _yaml_scalar(node.value, tag, node.style in ("'", '"'))
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                if tag != "!!seq":
                    raise _arg_error(f"unsupported tag {_go_quote(tag)}")
                return [self.value(item) for item in node.value]
            if tag != "!!map":
                raise _arg_error(f"unsupported tag {_go_quote(tag)}")
            return self.mapping(node)
        finally:
            self.active.discard(id(node))

    def mapping(self, node) -> dict:
        explicit, merged = {}, {}
        for key_node, value_node in node.value:
            key = self.value(key_node)
            value = self.value(value_node)
            if key is _MERGE_KEY:
                sources = value if isinstance(value, list) else [value]
                for source in reversed(sources):
                    if not isinstance(source, dict):
                        raise _arg_error("map merge requires map or sequence of maps as the value")
                    merged.update(source)
                continue
            if key is None:
                raise _arg_error("invalid YAML: mapping key cannot be null")
            if isinstance(key, (list, dict)):
                raise _arg_error("invalid YAML: only strings are allowed as mapping keys")
            explicit[_primitive_to_string(key)] = value
        return {**merged, **explicit}


_MERGE_KEY = object()


def fn_yamldecode(src):
    text = _str(src, "src")
    try:
        loader = _YamlComposer(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise _arg_error(f"invalid YAML: {exc}") from None
    if node is None:
        return None
    try:
        return _YamlConverter().value(node)
    except RecursionError:
        raise _arg_error("YAML document is nested too deeply") from None


# ---------------------------------------------------------------------------------------------
# Other encodings: base64, URL, CSV, text encodings
# ---------------------------------------------------------------------------------------------


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "replace")


def fn_base64encode(s):
    return base64.b64encode(_utf8(_str(s, "str"))).decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.b64decode(text.replace("\r", "").replace("\n", ""), validate=True)


def fn_base64decode(s):
    text = _str(s, "str")
    try:
        decoded = _b64decode(text)
    except (binascii.Error, ValueError):
        raise _arg_error(f"failed to decode base64 data {_go_quote(text)}") from None
    try:
        return decoded.decode("utf-8")
    except UnicodeDecodeError:
        raise _arg_error("the result of decoding the provided string is not valid UTF-8") from None


def fn_base64gzip(s):
    _str(s, "str")
    return Unknown("base64gzip() output depends on Go's compressor byte for byte")


def _text_codec(name: str) -> codecs.CodecInfo:
    try:
        return codecs.lookup(name)
    except LookupError:
        raise _arg_error(f"{_go_quote(name)} is not a supported IANA encoding name or alias "
                         "in this Terraform version") from None


def fn_textencodebase64(string, encoding):
    text, name = _str(string, "string"), _str(encoding, "encoding")
    codec = _text_codec(name)
    try:
        data = codec.encode(text)[0]
    except UnicodeError:
        raise _arg_error(f"the given string contains characters that cannot be represented in {name}") from None
    if codec.name == "utf-16":  # IANA UTF-16: big-endian with a byte order mark
        data = codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    return base64.b64encode(data).decode("ascii")


def fn_textdecodebase64(source, encoding):
    text, name = _str(source, "source"), _str(encoding, "encoding")
    codec = _text_codec(name)
    try:
        data = _b64decode(text)
    except (binascii.Error, ValueError):
        raise _arg_error("the given value is has an invalid base64 symbol") from None
    try:
        decoded = codec.decode(data)[0]
    except UnicodeError:
        decoded = "\ufffd"
    if "\ufffd" in decoded:
        raise _arg_error(f"the given string contains symbols that are not defined for {name}")
    return decoded


def fn_urlencode(s):
    return urllib.parse.quote_plus(_str(s, "str"), safe="", errors="replace")


def fn_csvdecode(s):
    text = _str(s, "str")
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline=""), strict=True) if row]
    except csv.Error as exc:
        raise _arg_error(f"invalid CSV: {exc}") from None
    if not rows:
        raise _arg_error("missing header line")
    header, records = rows[0], rows[1:]
    if len(set(header)) != len(header):
        duplicate = next(name for name in header if header.count(name) > 1)
        raise _arg_error(f"duplicate column name {_go_quote(duplicate)}")
    for line, record in enumerate(records, start=2):
        if len(record) != len(header):
            raise _arg_error(f"record on line {line}: wrong number of fields")
    return [dict(zip(header, record)) for record in records]


# ---------------------------------------------------------------------------------------------
# Hashes and UUIDs
# ---------------------------------------------------------------------------------------------


def _hasher(algorithm: str, encode: Callable[[bytes], str]) -> Callable[[Any], str]:
    def digest(s):
        return encode(hashlib.new(algorithm, _utf8(_str(s, "str"))).digest())

    digest.__name__ = f"fn_{algorithm}"
    return digest


def _hex(data: bytes) -> str:
    return data.hex()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


_UUID_NAMESPACES = {"dns": uuidlib.NAMESPACE_DNS, "url": uuidlib.NAMESPACE_URL,
                    "oid": uuidlib.NAMESPACE_OID, "x500": uuidlib.NAMESPACE_X500}


def fn_uuidv5(namespace, name):
    ns, text = _str(namespace, "namespace"), _str(name, "name")
    if ns in _UUID_NAMESPACES:
        space = _UUID_NAMESPACES[ns]
    else:
        try:
            space = uuidlib.UUID(ns)
        except ValueError:
            raise _arg_error(f"uuidv5() doesn't support namespace prefix {_go_quote(ns)}") from None
    return str(uuidlib.uuid5(space, text))


def _unknowable(reason: str) -> Callable[..., Unknown]:
    def unknown(*_args):
        return Unknown(reason)

    return unknown


# ---------------------------------------------------------------------------------------------
# IP network functions (Terraform reads IPv4 octets with leading zeros as decimal)
# ---------------------------------------------------------------------------------------------

_IPV4_CIDR = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)/([0-9]+)")


def _parse_cidr(prefix: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    text = _str(prefix, "prefix")
    invalid = _arg_error(f"invalid CIDR expression: invalid CIDR address: {text}")
    match = _IPV4_CIDR.fullmatch(text)
    if match:
        octets, length = [int(g) for g in match.group(1, 2, 3, 4)], int(match.group(5))
        if any(o > 255 for o in octets) or length > 32:
            raise invalid
        return ipaddress.IPv4Network((".".join(map(str, octets)), length), strict=False)
    if "/" not in text or "%" in text:
        raise invalid
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise invalid from None
    if network.version != 6:
        raise invalid
    return network


def _address(network, number: int) -> str:
    return str(type(network.network_address)(number))


def fn_cidrhost(prefix, hostnum):
    network, number = _parse_cidr(prefix), _whole(hostnum, "hostnum")
    max_host = 2 ** (network.max_prefixlen - network.prefixlen) - 1
    host = max_host + number + 1 if number < 0 else number
    if not 0 <= host <= max_host:
        raise _arg_error(f"prefix of {network.prefixlen} does not accommodate a host numbered {number}")
    return _address(network, int(network.network_address) + host)


def fn_cidrnetmask(prefix):
    network = _parse_cidr(prefix)
    if network.version != 4:
        raise _arg_error(f"IPv6 addresses cannot have a netmask: {prefix}")
    return str(network.netmask)


def fn_cidrsubnet(prefix, newbits, netnum):
    network = _parse_cidr(prefix)
    bits, number = _whole(newbits, "newbits"), _whole(netnum, "netnum")
    if bits < 0:
        raise _arg_error("newbits must not be negative")
    new_length = network.prefixlen + bits
    if new_length > network.max_prefixlen:
        raise _arg_error(f"insufficient address space to extend prefix of {network.prefixlen} by {bits}")
    if not 0 <= number <= 2**bits - 1:
        raise _arg_error(f"prefix extension of {bits} does not accommodate a subnet numbered {number}")
    base = int(network.network_address) + (number << (network.max_prefixlen - new_length))
    return f"{_address(network, base)}/{new_length}"


def fn_cidrsubnets(prefix, *newbits):
    """Consecutive subnets, each aligned after the previous one (go-cidr's NextSubnet)."""
    network = _parse_cidr(prefix)
    if not newbits:
        return []
    width, base = network.max_prefixlen, int(network.network_address)
    size = 2**width

    def mask(length: int) -> int:
        return (size - 1) ^ ((1 << (width - length)) - 1)

    first = _whole(newbits[0], "newbits") + network.prefixlen
    current = (((base - 1) % size) & mask(min(max(first, 0), width)), min(max(first, 0), width))
    out = []
    for value in newbits:
        extension = _whole(value, "newbits")
        if extension < 1:
            raise _arg_error("must extend prefix by at least one bit")
        if extension > 32:
            raise _arg_error("may not extend prefix by more than 32 bits")
        length = extension + network.prefixlen
        if length > width:
            raise _arg_error(f"would extend prefix to {length} bits, "
                             f"which is too long for an IPv{network.version} address")
        current_last = current[0] | ((1 << (width - current[1])) - 1)
        subnet_last = (current_last & mask(length)) | ((1 << (width - length)) - 1)
        following = (subnet_last + 1) % size
        if following == 0 or following not in range(base, base + network.num_addresses):
            raise _arg_error(
                f"not enough remaining address space for a subnet with a prefix of {length} bits "
                f"after {_address(network, current[0])}/{current[1]}"
            )
        current = (following & mask(length), length)
        out.append(f"{_address(network, current[0])}/{length}")
    return out


# ---------------------------------------------------------------------------------------------
# Dates and times (RFC 3339 strings)
# ---------------------------------------------------------------------------------------------

_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})")
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _parse_rfc3339(text: str) -> datetime:
    match = _RFC3339.fullmatch(text)
    if not match:
        raise _arg_error(f"not a valid RFC3339 timestamp: {_go_quote(text)}")
    year, month, day, hour, minute, second = (int(g) for g in match.group(1, 2, 3, 4, 5, 6))
    micros = int((match.group(7) or "0")[:6].ljust(6, "0"))
    zone = match.group(8)
    try:
        return datetime(year, month, day, hour, minute, second, micros, tzinfo=_timezone(zone))
    except ValueError as exc:
        raise _arg_error(f"not a valid RFC3339 timestamp: {exc}") from None


def _zone(moment: datetime, colon: bool) -> str:
    minutes = int(moment.utcoffset().total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{':' if colon else ''}{mins:02d}"


def _rfc3339(moment: datetime) -> str:
    zone = "Z" if moment.utcoffset() == timedelta(0) else _zone(moment, True)
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
            f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}{zone}")


def _date_verb(token: str, moment: datetime) -> str:
    letter, count = token[0], len(token)
    hour12 = moment.hour % 12 or 12
    month = _MONTHS[moment.month - 1]
    table = {
        "Y": {2: f"{moment.year % 100:02d}", 4: f"{moment.year:04d}"},
        "M": {1: str(moment.month), 2: f"{moment.month:02d}", 3: month[:3], 4: month},
        "D": {1: str(moment.day), 2: f"{moment.day:02d}"},
        "E": {3: _WEEKDAYS[moment.weekday()][:3], 4: _WEEKDAYS[moment.weekday()]},
        "h": {1: str(moment.hour), 2: f"{moment.hour:02d}"},
        "H": {1: str(hour12), 2: f"{hour12:02d}"},
        "A": {2: "AM" if moment.hour < 12 else "PM"},
        "a": {2: "am" if moment.hour < 12 else "pm"},
        "m": {1: str(moment.minute), 2: f"{moment.minute:02d}"},
        "s": {1: str(moment.second), 2: f"{moment.second:02d}"},
        "Z": {
            1: "Z" if moment.utcoffset() == timedelta(0) else _zone(moment, True),
            3: "UTC" if moment.utcoffset() == timedelta(0) else _zone(moment, False),
            4: _zone(moment, False),
            5: _zone(moment, True),
        },
    }
    if letter not in table or count not in table[letter]:
        raise _arg_error(f"invalid date format verb {_go_quote(token)}")
    return table[letter][count]


_DATE_TOKEN = re.compile(r"'(?:[^']|'')*'|''|'|([A-Za-z])\1*|[^A-Za-z']+")


def fn_formatdate(spec, timestamp):
    fmt, moment = _str(spec, "format"), _parse_rfc3339(_str(timestamp, "time"))
    out = []
    for match in _DATE_TOKEN.finditer(fmt):
        token = match.group(0)
        if token == "''":
            out.append("'")
        elif token.startswith("'"):
            if len(token) == 1 or not token.endswith("'"):
                raise _arg_error("unterminated literal '")
            out.append(token[1:-1].replace("''", "'"))
        elif token[0].isascii() and token[0].isalpha():
            out.append(_date_verb(token, moment))
        else:
            out.append(token)
    return "".join(out)


_DURATION_UNITS = {"ns": Fraction(1, 1000), "us": Fraction(1), "µs": Fraction(1), "μs": Fraction(1),
                   "ms": Fraction(1000), "s": Fraction(10**6), "m": Fraction(60 * 10**6), "h": Fraction(3600 * 10**6)}
_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)([^0-9.]+)")


def _parse_duration(text: str) -> timedelta:
    """Go's time.ParseDuration, e.g. "1h30m", "-2.5s", "300ms"."""
    invalid = _arg_error(f"time: invalid duration {_go_quote(text)}")
    sign, body = (-1, text[1:]) if text.startswith("-") else (1, text[1:] if text.startswith("+") else text)
    if body == "0":
        return timedelta(0)
    if not body:
        raise invalid
    total, pos = Fraction(0), 0
    while pos < len(body):
        match = _DURATION_PART.match(body, pos)
        if not match or match.group(1) in ("", "."):
            if match is None and re.fullmatch(r"[0-9.]+", body[pos:]):
                raise _arg_error(f"time: missing unit in duration {_go_quote(text)}")
            raise invalid
        unit = match.group(2)
        if unit not in _DURATION_UNITS:
            raise _arg_error(f"time: unknown unit {_go_quote(unit)} in duration {_go_quote(text)}")
        total += Fraction(match.group(1)) * _DURATION_UNITS[unit]
        pos = match.end()
    return timedelta(microseconds=round(sign * total))


def fn_timeadd(timestamp, duration):
    moment = _parse_rfc3339(_str(timestamp, "timestamp"))
    return _rfc3339(moment + _parse_duration(_str(duration, "duration")))


def fn_timecmp(timestamp_a, timestamp_b):
    a = _parse_rfc3339(_str(timestamp_a, "timestamp_a"))
    b = _parse_rfc3339(_str(timestamp_b, "timestamp_b"))
    return (a > b) - (a < b)


# ---------------------------------------------------------------------------------------------
# Paths (pure string functions, Go's path/filepath on a Unix host)
# ---------------------------------------------------------------------------------------------


def _clean_path(path: str) -> str:
    if path == "":
        return "."
    rooted, parts = path.startswith("/"), []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    joined = "/".join(parts)
    return ("/" + joined) if rooted else (joined or ".")


def fn_basename(path):
    text = _str(path, "path").rstrip("/")
    if _str(path, "path") == "":
        return "."
    return text.rsplit("/", 1)[-1] if text else "/"


def fn_dirname(path):
    text = _str(path, "path")
    return _clean_path(text[:text.rfind("/") + 1])


# ---------------------------------------------------------------------------------------------
# Removed functions (Terraform reports them with a pointer to the replacement)
# ---------------------------------------------------------------------------------------------


def fn_list(*_vals):
    raise _arg_error('the "list" function was deprecated in Terraform v0.12 and is no longer available; '
                     "use tolist([ ... ]) syntax to write a literal list")


def fn_map(*_vals):
    raise _arg_error('the "map" function was deprecated in Terraform v0.12 and is no longer available; '
                     "use tomap({ ... }) syntax to write a literal map")


# ---------------------------------------------------------------------------------------------
# Registry and dispatch
# ---------------------------------------------------------------------------------------------

FUNCTIONS: dict[str, Callable[..., Any]] = {
    # strings
    "chomp": fn_chomp, "endswith": fn_endswith, "format": fn_format, "formatlist": fn_formatlist,
    "indent": fn_indent, "join": fn_join, "lower": fn_lower, "regex": fn_regex,
    "regexall": fn_regexall, "replace": fn_replace, "split": fn_split, "startswith": fn_startswith,
    "strcontains": fn_strcontains, "strrev": fn_strrev, "substr": fn_substr, "title": fn_title,
    "trim": fn_trim, "trimprefix": fn_trimprefix, "trimspace": fn_trimspace,
    "trimsuffix": fn_trimsuffix, "upper": fn_upper,
    # collections
    "alltrue": fn_alltrue, "anytrue": fn_anytrue, "chunklist": fn_chunklist,
    "coalesce": fn_coalesce, "coalescelist": fn_coalescelist, "compact": fn_compact,
    "concat": fn_concat, "contains": fn_contains, "distinct": fn_distinct, "element": fn_element,
    "flatten": fn_flatten, "index": fn_index, "keys": fn_keys, "length": fn_length,
    "lookup": fn_lookup, "matchkeys": fn_matchkeys, "merge": fn_merge, "one": fn_one,
    "range": fn_range, "reverse": fn_reverse, "setintersection": fn_setintersection,
    "setproduct": fn_setproduct, "setsubtract": fn_setsubtract, "setunion": fn_setunion,
    "slice": fn_slice, "sort": fn_sort, "sum": fn_sum, "transpose": fn_transpose,
    "values": fn_values, "zipmap": fn_zipmap, "list": fn_list, "map": fn_map,
    # numbers
    "abs": fn_abs, "ceil": fn_ceil, "floor": fn_floor, "log": fn_log, "max": fn_max,
    "min": fn_min, "parseint": fn_parseint, "pow": fn_pow, "signum": fn_signum,
    # encodings
    "base64decode": fn_base64decode, "base64encode": fn_base64encode, "base64gzip": fn_base64gzip,
    "csvdecode": fn_csvdecode, "jsondecode": fn_jsondecode, "jsonencode": fn_jsonencode,
    "textdecodebase64": fn_textdecodebase64, "textencodebase64": fn_textencodebase64,
    "urlencode": fn_urlencode, "yamldecode": fn_yamldecode, "yamlencode": fn_yamlencode,
    # hashes, UUIDs and values that are only known at apply time
    "md5": _hasher("md5", _hex), "sha1": _hasher("sha1", _hex), "sha256": _hasher("sha256", _hex),
    "sha512": _hasher("sha512", _hex), "base64sha256": _hasher("sha256", _b64),
    "base64sha512": _hasher("sha512", _b64), "uuidv5": fn_uuidv5,
    "uuid": _unknowable("uuid() returns a new random UUID on every run"),
    "bcrypt": _unknowable("bcrypt() uses a random salt on every run"),
    "rsadecrypt": _unknowable("rsadecrypt() is not evaluated statically"),
    "timestamp": _unknowable("timestamp() is only known at apply time"),
    "plantimestamp": _unknowable("plantimestamp() is only known at plan time"),
    "issensitive": _unknowable("servegate does not track sensitivity"),
    # networks
    "cidrhost": fn_cidrhost, "cidrnetmask": fn_cidrnetmask, "cidrsubnet": fn_cidrsubnet,
    "cidrsubnets": fn_cidrsubnets,
    # dates and times
    "formatdate": fn_formatdate, "timeadd": fn_timeadd, "timecmp": fn_timecmp,
    # paths (pure)
    "basename": fn_basename, "dirname": fn_dirname,
    # type conversion
    "tobool": fn_tobool, "tolist": fn_tolist, "tomap": fn_tomap, "tonumber": fn_tonumber,
    "toset": fn_toset, "tostring": fn_tostring,
    # sensitivity and ephemerality are not tracked: identity
    "sensitive": fn_identity, "nonsensitive": fn_identity, "ephemeralasnull": fn_identity,
}

# Functions that look at their arguments even when one of them is unknown.
_TOLERATE_UNKNOWN = frozenset({"coalesce", "coalescelist"})

# Functions whose arguments may hold unknown values inside a known list or map.
_TOLERATE_NESTED_UNKNOWN = frozenset({
    "alltrue", "anytrue", "chunklist", "coalesce", "coalescelist", "compact", "concat", "contains",
    "distinct", "element", "ephemeralasnull", "flatten", "formatlist", "index", "jsonencode", "keys",
    "length", "lookup", "merge", "nonsensitive", "one", "reverse", "sensitive", "setproduct", "slice",
    "tolist", "tomap", "toset", "values", "yamlencode", "zipmap",
})

# Functions whose result is what an unknown argument's ``partial`` structure describes; any other
# function propagating an unknown drops ``partial``, which would misdescribe its result.
_KEEP_PARTIAL = frozenset({"sensitive", "nonsensitive", "ephemeralasnull", "jsondecode", "yamldecode"})


def _arity(fn: Callable[..., Any]) -> tuple[int, float]:
    params = inspect.signature(fn).parameters.values()
    required = sum(1 for p in params if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty)
    variadic = any(p.kind is p.VAR_POSITIONAL for p in params)
    return required, (math.inf if variadic else sum(1 for p in params if p.kind is p.POSITIONAL_OR_KEYWORD))


_ARITY: dict[str, tuple[int, float]] = {name: _arity(fn) for name, fn in FUNCTIONS.items()}
_ARITY.update(  # functions whose Python signature is looser than Terraform's
{"uuid": (0, 0), "timestamp": (0, 0), "plantimestamp": (0, 0), "bcrypt": (1, 2),
               "rsadecrypt": (2, 2), "issensitive": (1, 1), "lookup": (2, 3), "range": (1, 3)})


def _check_arity(name: str, count: int) -> None:
    low, high = _ARITY[name]
    if count < low:
        raise EvalError(f'Not enough function arguments: function "{name}" expects at least {low} '
                        f"argument(s), got {count}.")
    if count > high:
        raise EvalError(f'Too many function arguments: function "{name}" expects only {int(high)} '
                        f"argument(s), got {count}.")


def call(name: str, args: list) -> Any:
    """Call Terraform function ``name`` on evaluated ``args``, propagating unknowns."""
    fn = FUNCTIONS.get(name)
    if fn is None:
        raise EvalError(f"call to unknown function {name!r}")
    args = list(args)
    _check_arity(name, len(args))
    unknown = None
    if name not in _TOLERATE_UNKNOWN:
        unknown = first_unknown(*args)
    if unknown is None and name not in _TOLERATE_NESTED_UNKNOWN:
        unknown = _first_nested_unknown(args)
    if unknown is None:
        return fn(*args)
    if unknown.partial is not None and name not in _KEEP_PARTIAL:
        return dataclasses.replace(unknown, partial=None)
    return unknown
