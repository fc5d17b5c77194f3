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
    kind: str  # "yaml", "json", "terraform", or "helm" (a chart template)


def scan_root(paths: list[Path]) -> Path:
    resolved = [_real(p) for p in paths]
    if len(resolved) == 1:
        only = resolved[0]
        return only if only.is_dir() else only.parent
    return Path(os.path.commonpath(resolved))


def _real(path: Path | str) -> Path:
    """``Path.resolve()`` without its RuntimeError on a symbolic link loop (the loop is reported when read)."""
    return Path(os.path.realpath(path))


def _given_root(paths: list[Path]) -> str:
    """What ``scan_root`` gives, without resolving symbolic links."""
    absolute = [os.path.abspath(p) for p in paths]
    if len(absolute) == 1:
        return absolute[0] if os.path.isdir(absolute[0]) else os.path.dirname(absolute[0])
    return os.path.commonpath(absolute)


def _kind(name: str) -> str:
    if name.endswith((".tf.json", ".tfvars.json")):
        return "terraform"
    dot = name.rfind(".")  # the suffix as Path.suffix sees it
    return KIND_BY_SUFFIX.get(name[dot:].lower(), "") if 0 < dot < len(name) - 1 else ""


def excluded(display: str, patterns: tuple[str, ...]) -> bool:
    """Glob patterns match the path relative to the scan root, or any of its leading folders."""
    parts = display.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(fnmatch.fnmatchcase(prefix, pattern) for pattern in patterns for prefix in prefixes)


class _Walk:
    """One discovery. Paths are plain strings spelt as ``pathlib`` would spell them (no ``./``, no trailing
    ``/``): on a monorepo, building a ``Path`` per directory entry cost more than the walk itself."""

    def __init__(self, root: Path, given_root: str, follow_outside_links: bool, exclude: tuple[str, ...]) -> None:
        self.root_prefix = str(root).rstrip("/") + "/"
        # The root as the paths spell it, when it differs from the resolved one (a path through a symbolic
        # link, such as a /tmp linked elsewhere): files under it are named relative to the root too.
        self.given_root_prefix = given_root.rstrip("/") + "/" if os.path.realpath(given_root) == str(root) \
            else self.root_prefix
        self.real_root = str(_real(root))
        self.real_root_prefix = self.real_root.rstrip("/") + "/"
        self.follow_outside_links = follow_outside_links
        self.exclude = exclude
        self.files: list[SourceFile] = []
        self.skipped: list[Skipped] = []
        self.seen: set[str] = set()
        self.chart_folders: dict[str, bool] = {}

    def display(self, path: str) -> str:
        """Relative to the scan root when the path lies under it as written, else the path itself."""
        if path.startswith(self.root_prefix):
            return path[len(self.root_prefix):]
        if path.startswith(self.given_root_prefix):
            return path[len(self.given_root_prefix):]
        return path

    def in_helm_templates(self, folder: str) -> bool:
        """Whether files of ``folder`` lie under a chart's ``templates/`` folder (memoised per folder; like
        ``Path.parent``, the climb stops at the top of the path as written)."""
        known = self.chart_folders.get(folder)
        if known is None:
            parent = os.path.dirname(folder) or "."
            if os.path.basename(folder) == "templates" and os.path.isfile(os.path.join(parent, "Chart.yaml")):
                known = True
            elif parent == folder:
                known = False
            else:
                known = self.in_helm_templates(parent)
            self.chart_folders[folder] = known
        return known

    def consider(self, path: str, explicit: bool, is_link: bool) -> None:
        display = self.display(path)
        if self.exclude and excluded(display, self.exclude):
            return
        real = path
        if is_link:
            real = os.path.realpath(path)
            if not self.follow_outside_links and real != self.real_root and \
                    not real.startswith(self.real_root_prefix):
                self.skipped.append(Skipped(display, "symbolic link pointing outside the scan root"))
                return
        if real in self.seen:
            return
        self.seen.add(real)
        kind = _kind(os.path.basename(path))
        if not kind:
            if explicit:
                self.skipped.append(Skipped(display, "not an infrastructure-as-code file"))
            return
        if kind == "yaml" and self.in_helm_templates(os.path.dirname(path) or "."):
            kind = "helm"  # a chart template: rendered with its chart (servegate.render), never read as YAML
        self.files.append(SourceFile(Path(path), display, kind))

    def folder(self, start: str) -> None:
        """Every file below ``start`` in sorted order, folder by folder, as ``os.walk`` visits them: links to
        folders are not followed, so link loops cannot trap the walk."""
        pending = [start]
        while pending:
            folder = pending.pop()
            try:
                with os.scandir(folder) as listing:
                    entries = sorted(listing, key=lambda entry: entry.name)
            except OSError:
                continue  # os.walk ignores folders it cannot list too
            subfolders = []
            for entry in entries:
                path = entry.name if folder == "." else f"{folder.rstrip('/')}/{entry.name}"
                try:
                    is_folder = entry.is_dir()
                except OSError:
                    is_folder = False
                if is_folder:
                    if entry.name not in SKIPPED_DIRS and not entry.is_symlink():
                        subfolders.append(path)
                else:
                    self.consider(path, explicit=False, is_link=entry.is_symlink())
            pending.extend(reversed(subfolders))


def discover(paths: list[Path], root: Path, follow_outside_links: bool = False,
             exclude: tuple[str, ...] = ()) -> tuple[list[SourceFile], list[Skipped]]:
    """Files to scan, in a stable order, and what was skipped on purpose (with why)."""
    walk = _Walk(root, _given_root(paths) if paths else str(root), follow_outside_links, exclude)
    for start in paths:
        if start.is_file() or (start.is_symlink() and not start.is_dir()):
            walk.consider(str(start), explicit=True, is_link=start.is_symlink())
        else:
            walk.folder(str(start))
    walk.files.sort(key=lambda f: f.display)
    return walk.files, walk.skipped
