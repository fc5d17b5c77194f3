"""Container image references: tag, digest, repository and version."""

from __future__ import annotations

import re

_DIGEST = re.compile(r"@sha(?:256|384|512):[0-9a-fA-F]+$")
_VERSION = re.compile(r"^v?(\d+(?:\.\d+)*)")


def image_digest(image: str) -> str | None:
    match = _DIGEST.search(image)
    return match.group(0)[1:] if match else None


def is_templated(image: str) -> bool:
    """A reference still holding template syntax cannot be judged."""
    return "$" in image or "{{" in image


def image_tag(image: str) -> str | None:
    """The tag of an image reference, or None when it has none (a registry port is not a tag)."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def image_repository(image: str) -> str:
    """The reference without tag and digest: ``nvcr.io/nvidia/tritonserver``."""
    name = image.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    last = last.split(":", 1)[0]
    return f"{head}/{last}" if head else last


def version_tuple(tag: str | None) -> tuple[int, ...] | None:
    """The leading numeric version of a tag (``v2.9.0-gpu`` -> (2, 9, 0)), or None."""
    if not tag:
        return None
    match = _VERSION.match(tag)
    return tuple(int(part) for part in match.group(1).split(".")) if match else None
