"""Walk the scan paths and classify each file by the loader it needs."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path

from servegate.findings import Skipped

SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".terraform", "node_modules", ".venv", "venv", "__pycache__", ".tox",
     ".mypy_cache", ".pytest_cache", ".ruff_cache", ".idea", ".vscode"}
)
KIND_BY_SUFFIX = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".tf": "terraform", ".tfvars": "terraform"}


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path  # absolute
    display: str  # relative to the scan root, with forward slashes
    kind: str


def scan_root(paths: list[Path]) -> Path:
    resolved = [p.resolve() for p in paths]
    if len(resolved) == 1:
        only = resolved[0]
        return only if only.is_dir() else only.parent
    return Path(os.path.commonpath(resolved))


def _in_helm_templates(directory: Path, cache: dict[Path, bool]) -> bool:
    """Whether files of ``directory`` lie under a chart's ``templates/`` folder (memoised per folder)."""
    known = cache.get(directory)
    if known is None:
        if directory.name == "templates" and (directory.parent / "Chart.yaml").is_file():
            known = True
        elif directory.parent == directory:
            known = False
        else:
            known = _in_helm_templates(directory.parent, cache)
        cache[directory] = known
    return known


def classify(path: Path, root: Path, chart_cache: dict[Path, bool] | None = None) -> SourceFile | Skipped:
    display = _display(path, root)
    terraform_json = path.name.endswith((".tf.json", ".tfvars.json"))
    kind = "terraform" if terraform_json else KIND_BY_SUFFIX.get(path.suffix.lower(), "")
    if not kind:
        return Skipped(display, "not an infrastructure-as-code file")
    if kind == "yaml" and _in_helm_templates(path.parent, {} if chart_cache is None else chart_cache):
        return Skipped(display, "Helm chart template (needs rendering, not plain YAML)")
    return SourceFile(path, display, kind)


def _display(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def excluded(display: str, patterns: tuple[str, ...]) -> bool:
    """Glob patterns match the path relative to the scan root, or any of its leading folders."""
    parts = display.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(fnmatch.fnmatchcase(prefix, pattern) for pattern in patterns for prefix in prefixes)


def discover(paths: list[Path], root: Path, follow_outside_links: bool = False,
             exclude: tuple[str, ...] = ()) -> tuple[list[SourceFile], list[Skipped]]:
    """Files to scan, in a stable order, and what was skipped on purpose (with why)."""
    files: list[SourceFile] = []
    skipped: list[Skipped] = []
    seen: set[Path] = set()
    root_resolved = root.resolve()

    chart_cache: dict[Path, bool] = {}

    def consider(path: Path, explicit: bool) -> None:
        if exclude and excluded(_display(path, root), exclude):
            return
        real = path
        if path.is_symlink():
            real = path.resolve()
            if not follow_outside_links and not real.is_relative_to(root_resolved):
                skipped.append(Skipped(_display(path, root), "symbolic link pointing outside the scan root"))
                return
        if real in seen:
            return
        seen.add(real)
        item = classify(path, root, chart_cache)
        if isinstance(item, Skipped):
            if explicit or item.reason != "not an infrastructure-as-code file":
                skipped.append(item)
        else:
            files.append(item)

    for start in paths:
        if start.is_file() or (start.is_symlink() and not start.is_dir()):
            consider(start, explicit=True)
            continue
        # os.walk does not follow directory links, so link loops cannot trap it.
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
            for name in sorted(filenames):
                consider(Path(dirpath) / name, explicit=False)
    files.sort(key=lambda f: f.display)
    return files, skipped
