"""Turn the scan's Terraform files into a Project: module folders, root variable values, resources."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from servegate.findings import InputError
from servegate.model.terraform.config import ModuleDir, Origin, Project, TfFile
from servegate.model.terraform.evaluator import Scope, evaluate_safely
from servegate.model.terraform.values import EvalError, VariableInputs
from servegate.sources import hcl_ast as ast
from servegate.sources.hcl_loader import parse_hcl, parse_hcl_json


@dataclass
class LoadedTerraform:
    project: Project
    errors: list[InputError] = field(default_factory=list)


def _no_names(root: str, steps: list[str], scope: Scope) -> tuple[Any, int]:
    raise EvalError("variables may not be used in a tfvars file")


CONSTANT_SCOPE = Scope(_no_names)


def parse_file(display: str, name: str, text: str) -> tuple[TfFile, list[InputError]]:
    hcl = parse_hcl_json(text, tfvars=name.endswith(".tfvars.json")) if name.endswith(".json") else parse_hcl(text)
    errors = [InputError(display, p.line, f"invalid HCL: {p.message}") for p in hcl.problems[:5]]
    return TfFile(display, hcl), errors


def _tfvars_values(tf: TfFile, description: str) -> dict[str, tuple[Any, Origin]]:
    return {name: (evaluate_safely(attr.expr, CONSTANT_SCOPE), Origin(tf.display, attr.span, description))
            for name, attr in tf.hcl.body.attributes.items()}


def _is_tfvars(name: str) -> bool:
    return name.endswith((".tfvars", ".tfvars.json"))


def _tfvars_order(name: str) -> tuple[int, str]:
    """Terraform's precedence: terraform.tfvars, terraform.tfvars.json, then *.auto.tfvars in lexical order."""
    if name == "terraform.tfvars":
        return 0, name
    if name == "terraform.tfvars.json":
        return 1, name
    return 2, name


def _cli_variable(assignment: str) -> tuple[str, Any, Origin]:
    name, _, raw = assignment.partition("=")
    parsed = parse_hcl(f"v = {raw}\n")
    value: Any = raw
    if not parsed.problems and "v" in parsed.body.attributes:
        candidate = evaluate_safely(parsed.body.attributes["v"].expr, CONSTANT_SCOPE)
        value = candidate if not isinstance(candidate, str) or raw.startswith('"') else raw
    return name.strip(), value, Origin("<command line>", ast.NO_SPAN, f"--var {name.strip()}")


def load_terraform(files: list[tuple[Path, str, str]], inputs: VariableInputs,
                   read: Callable[[Path], str], root: Path | None = None) -> LoadedTerraform:
    """``files`` are (absolute path, display path, text) of every .tf/.tf.json/.tfvars file in the scan;
    ``root`` is the scan root, under which file() and templatefile() may read."""
    errors: list[InputError] = []
    dirs: dict[Path, ModuleDir] = {}
    tfvars: dict[Path, list[TfFile]] = {}
    resolved: dict[Path, Path] = {}  # module sources are resolved paths too; a folder holds several files
    for path, display, text in files:
        tf, problems = parse_file(display, path.name, text)
        errors.extend(problems)
        folder = resolved.get(path.parent) or resolved.setdefault(path.parent, path.parent.resolve())
        if _is_tfvars(path.name):
            if path.name == "terraform.tfvars" or path.name == "terraform.tfvars.json" or ".auto.tfvars" in path.name:
                tfvars.setdefault(folder, []).append(tf)
            continue
        module_dir = dirs.setdefault(folder, ModuleDir(folder, _folder_display(display)))
        module_dir.files.append(tf)

    extra: dict[str, tuple[Any, Origin]] = {}
    for var_file in inputs.var_files:
        try:
            tf, problems = parse_file(var_file.as_posix(), var_file.name, read(var_file))
        except OSError as exc:
            errors.append(InputError(var_file.as_posix(), 0, f"cannot read --var-file: {exc.strerror or exc}"))
            continue
        errors.extend(problems)
        extra.update(_tfvars_values(tf, f"--var-file {var_file.name}"))
    for assignment in inputs.variables:
        name, value, origin = _cli_variable(assignment)
        extra[name] = (value, origin)

    root_values: dict[Path, dict[str, tuple[Any, Origin]]] = {}
    for folder in dirs:
        values: dict[str, tuple[Any, Origin]] = {}
        for tf in sorted(tfvars.get(folder, []), key=lambda t: _tfvars_order(t.display.rsplit("/", 1)[-1])):
            values.update(_tfvars_values(tf, tf.display.rsplit("/", 1)[-1]))
        values.update(extra)
        root_values[folder] = values

    def load_outside(directory: Path) -> ModuleDir | None:
        """A local module folder outside the scanned paths: read it too (it is part of the configuration)."""
        if not directory.is_dir():
            return None
        module_dir = ModuleDir(directory, directory.as_posix())
        for path in sorted(directory.iterdir()):
            if path.suffix == ".tf" or path.name.endswith(".tf.json"):
                try:
                    tf, problems = parse_file(path.as_posix(), path.name, read(path))
                except (OSError, UnicodeDecodeError) as exc:
                    errors.append(InputError(path.as_posix(), 0, f"cannot read module file: {exc}"))
                    continue
                errors.extend(problems)
                module_dir.files.append(tf)
        return module_dir if module_dir.files else None

    return LoadedTerraform(Project(dirs, root_values, load_outside, root), errors)


def _folder_display(display: str) -> str:
    return display.rsplit("/", 1)[0] if "/" in display else ""
