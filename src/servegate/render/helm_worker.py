"""What runs inside a Helm render worker: a process of its own, started by ``spawn`` (see ``helm.py``).

helm-python-sdk loads Helm's Go runtime into the process that imports it, and a Go runtime does not
survive ``fork``; so the scanning process never imports it, and charts are rendered here instead.

Every worker imports this module, so it imports only the standard library (helm_python on first use).
Besides it, a worker imports ``servegate.render``'s ``__init__`` and, as ``spawn`` does, the parent's main
script (``servegate.cli`` under the ``servegate`` command, which imports little): never the rule set.
"""

from __future__ import annotations

import os

RELEASE_NAME = "release-name"
NAMESPACE = "default"


class RenderError(Exception):
    pass


def merge_values(base: dict, override: dict) -> dict:
    """Helm's merge of values files: maps merge key by key, anything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = value
    return merged


def use_environment(environment: dict[str, str]) -> None:
    """Pool initializer: the renderer's offline environment, set before the Go runtime loads and reads it."""
    os.environ.update(environment)


def render_chart(chart: str, user: dict, set_expressions: tuple[str, ...]) -> dict[str, str]:
    """The chart's manifests by template name, as helm-python-sdk renders them with the user's values."""
    try:
        import helm_python as helm
    except Exception as exc:  # noqa: BLE001 - a broken native library must be a clear error
        raise RenderError(f"helm-python-sdk failed to load: {exc}") from None
    values = dict(user)
    try:
        for expression in set_expressions:
            values = merge_values(values, helm.parse_set_string(expression))
        with helm.Chart.load(chart) as loaded:
            return loaded.render(values or None, name=RELEASE_NAME, namespace=NAMESPACE, is_install=True)
    except helm.HelmError as exc:
        raise RenderError(str(exc).strip() or type(exc).__name__) from None
