"""``servegate init``: write a secure starting project for a model endpoint on one serving platform.

The projects are package data (``templates/<target>/`` plus ``templates/common/``): a reusable Terraform module and
an example root configuration (or Kubernetes manifests and the cluster identity), a policy folder wired to the Rego
bundle, a CI workflow running ``servegate scan``, and a README. They are text, never executed; the only
substitution is the project name (``%%{project}``, and ``%%{project_alnum}`` without hyphens for names such as an
Azure registry's), through ``string.Template`` with a ``%%`` delimiter that neither Terraform (``${}``), GitHub
Actions (``${{ }}``) nor a shell uses, so everything else passes through untouched.
"""

from __future__ import annotations

import re
import string
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

TARGETS = ("aws-sagemaker", "gcp-vertex", "azure-ml", "kubernetes")
COMMON = "common"  # files every target gets: the CI workflow and the policy folder
HIDDEN_PREFIX = "dot-"  # package data leaves out dotfiles, so `.github/` is stored as `dot-github/`
# Short enough for every name derived from it (a GCP service account id, a storage account, a bucket).
PROJECT_NAME = re.compile(r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$")


class InitError(Exception):
    """A project that cannot be written: an unknown target, a bad name, or files that would be overwritten."""


class _ProjectTemplate(string.Template):
    delimiter = "%%"


def project_name(directory: Path, name: str | None = None) -> str:
    """``name``, or one made from the directory's name; either must fit every resource it ends up in."""
    candidate = name if name is not None else re.sub(r"[^a-z0-9]+", "-", directory.resolve().name.lower()).strip("-")
    if not PROJECT_NAME.fullmatch(candidate):
        source = "--name" if name is not None else f"the directory name {directory.resolve().name!r}"
        raise InitError(f"{source} does not make a project name: use 3-20 lowercase letters, digits and hyphens, "
                        "starting with a letter (for example --name fraud-scoring)")
    return candidate


def render(target: str, name: str) -> dict[PurePosixPath, str]:
    """The project's files (path relative to the project folder -> text) for ``target`` and project ``name``."""
    if target not in TARGETS:
        raise InitError(f"unknown target {target!r}: choose one of {', '.join(TARGETS)}")
    values = {"project": name, "project_alnum": name.replace("-", "")}
    from importlib import resources  # here: `servegate --help` lists the targets without loading it

    templates = resources.files("servegate").joinpath("templates")
    files: dict[PurePosixPath, str] = {}
    for folder in (COMMON, target):
        for relative, source in _walk(templates.joinpath(folder), PurePosixPath()):
            files[relative] = _ProjectTemplate(source.read_text(encoding="utf-8")).substitute(values)
    return files


def init_project(target: str, directory: Path, name: str | None = None, force: bool = False) -> list[Path]:
    """Write the project into ``directory``; refuse to overwrite any file unless ``force``. Returns what it wrote."""
    files = render(target, project_name(directory, name))
    destinations = {directory / relative: text for relative, text in sorted(files.items())}
    existing = [path for path in destinations if path.exists() or path.is_symlink()]
    if existing and not force:
        shown = ", ".join(str(path) for path in existing[:5]) + (" ..." if len(existing) > 5 else "")
        raise InitError(f"{len(existing)} file(s) already exist ({shown}); nothing was written (use --force to "
                        "overwrite them)")
    for path, text in destinations.items():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_symlink():  # --force replaces the link itself, never the file it points to
                path.unlink()
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InitError(f"cannot write {path}: {exc.strerror or exc}") from None
    return list(destinations)


def _walk(folder: Traversable, relative: PurePosixPath) -> list[tuple[PurePosixPath, Traversable]]:
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        name = "." + entry.name[len(HIDDEN_PREFIX):] if entry.name.startswith(HIDDEN_PREFIX) else entry.name
        if entry.is_dir():
            if entry.name != "__pycache__":
                found.extend(_walk(entry, relative / name))
        else:
            found.append((relative / name, entry))
    return found
