"""Documents embedded in values: IAM policies and request bodies as JSON strings, Ray Serve configs and Helm values
as YAML strings. They come from the scanned files as much as the files do, so they get the same guards: invalid,
too deep or alias-bombed, they read as invalid, never as a crash or a hang in the rule that reads them."""

from __future__ import annotations

import json
from typing import Any

from servegate.sources.yaml_loader import MAX_DEPTH, load_documents


def decode_json(text: str) -> Any:
    """``json.loads``, raising ``ValueError`` (as for invalid JSON) when the value nests deeper than ``MAX_DEPTH``:
    rules walk what they decode recursively."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply to decode") from None
    if _deeper_than(value, MAX_DEPTH):
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
    return value


def load_embedded(text: str) -> Any:
    """The one document of embedded YAML, read as files are: invalid YAML, several documents, an alias bomb, a
    recursive alias or nesting deeper than ``MAX_DEPTH`` all give None."""
    documents, error = load_documents(text)
    return documents[0].data if error is None and len(documents) == 1 else None


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether more than ``limit`` objects and arrays nest inside one another (as the YAML loader counts)."""
    pending = [(value, 0)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, (dict, list)):
            if depth >= limit:
                return True
            pending.extend((inner, depth + 1) for inner in (node.values() if isinstance(node, dict) else node))
    return False
