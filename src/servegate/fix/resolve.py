"""From a hit's symbolic fixes to a finding's text edits, against the text the scan loaded.

The scan registers the text of every plain manifest and ``.tf`` file it read; objects that came from
anywhere else (rendered Helm charts, Kustomize builds, ``kubernetes_*`` Terraform resources, plan files)
have no text of their own here, so they get no fixes: an edit must always point into the file as written.
"""

from __future__ import annotations

from typing import Any

from servegate.findings import Edit, Fix
from servegate.fix.model import DeclareVariable, SymbolicFix
from servegate.fix.text import Conflict, SourceText, TextEdit, Unsupported, overlaps
from servegate.fix.yaml_patch import YamlPatch


class FixSources:
    """The texts fixes may edit: manifests with the documents loaded from them, and ``.tf`` files."""

    def __init__(self) -> None:
        self._raw: dict[str, str] = {}
        self._texts: dict[str, SourceText] = {}  # line tables, built for the files a fix touches
        self._documents: dict[str, set[int]] = {}
        self._terraform: set[str] = set()

    def add_manifests(self, file: str, text: str, objects: list[Any]) -> None:
        if objects:  # no fix edits a file without objects, and CRD-only files are most of an operator repo's text
            self._raw[file] = text
            self._documents[file] = {id(obj.doc) for obj in objects}

    def add_terraform(self, file: str, text: str) -> None:
        if file.endswith(".tf"):
            self._raw[file] = text
            self._terraform.add(file)

    def _source(self, file: str) -> SourceText:
        source = self._texts.get(file)
        if source is None:
            source = self._texts[file] = SourceText(self._raw[file])
        return source

    def resolve(self, target: Any, fixes: tuple[SymbolicFix, ...]) -> tuple[Fix, ...]:
        """The fixes that can be expressed as edits of the target's file (the others are dropped)."""
        out = []
        for fix in fixes:
            try:
                edits = self._plan(target, fix)
            except (Unsupported, Conflict):
                continue
            if edits:
                out.append(Fix(fix.title, fix.applicability, edits))
        return tuple(out)

    def _plan(self, target: Any, fix: SymbolicFix) -> tuple[Edit, ...]:
        file = getattr(target, "file", None)
        if file in self._documents and id(getattr(target, "doc", None)) in self._documents[file]:
            patch = YamlPatch(self._source(file), json_style=file.endswith(".json"))
            for op in fix.operations:
                patch.add(target.doc, op)
            return self._edits({file: patch.edits()})
        if file in self._terraform and getattr(target, "block", None) is not None and hasattr(target.module, "dir"):
            from servegate.fix.hcl_patch import HclPatch  # the HCL model, only when Terraform is fixed

            hcl = HclPatch(self._source(file))
            variables: dict[str, DeclareVariable] = {}
            for op in fix.operations:
                if isinstance(op, DeclareVariable):
                    variables.setdefault(op.name, op)
                else:
                    hcl.add(target, op)
            by_file: dict[str, list[TextEdit]] = {file: hcl.edits()}
            for variable in variables.values():  # after the resource's own edits, at the end of a file
                self._declare(target, variable, by_file)
            return self._edits(by_file)
        raise Unsupported("no source text for this object")

    def _declare(self, resource: Any, op: DeclareVariable, by_file: dict[str, list[TextEdit]]) -> None:
        """``variable "name"`` at the end of the module's variables.tf (else of the resource's file)."""
        module_files = resource.module.dir.files
        if any(block.type == "variable" and block.labels[:1] == (op.name,)
               for tf in module_files for block in tf.hcl.body.blocks):
            return
        names = [tf.display for tf in module_files if tf.display in self._terraform]
        file = next((n for n in names if n.rsplit("/", 1)[-1] == "variables.tf"), resource.file)
        source = self._source(file)
        lines = [f'variable "{op.name}" {{', f"  type        = {op.type}"]
        if op.description:
            lines.append(f'  description = "{op.description}"')
        block = source.newline.join(lines + ["}", ""])
        end = len(source.text)
        lead = source.newline if source.text.endswith("\n") else source.newline * 2
        by_file.setdefault(file, []).append((end, end, (lead if source.text else "") + block))

    def _edits(self, by_file: dict[str, list[TextEdit]]) -> tuple[Edit, ...]:
        out: list[Edit] = []
        for file, edits in by_file.items():
            ranges = [e for e in edits if e[0] != e[1]]
            if any(overlaps(a, b) for i, a in enumerate(ranges) for b in ranges[i + 1:]):
                raise Unsupported("the fix's own edits overlap")
            source = self._source(file)
            for start, end, text in edits:
                line, column = source.position(start)
                end_line, end_column = source.position(end)
                out.append(Edit(file, line, column, end_line, end_column, start, end, text))
        return tuple(out)
