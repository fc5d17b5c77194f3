"""Discovery and loading: what is scanned, skipped or refused, and that one bad file never hides the rest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from servegate.findings import Severity
from servegate.render import RenderOptions
from servegate.scan import ScanOptions, exit_code, scan

PRIVILEGED_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: c
    image: busybox:1.36
    securityContext: {privileged: true}
"""


def _ids(result) -> set[tuple[str, str, int]]:
    return {(f.rule_id, f.location.file, f.location.line) for f in result.findings}


def test_kind_list_items_are_objects(tmp_path: Path):
    (tmp_path / "list.yaml").write_text(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n"
        "  spec:\n    hostPID: true\n    containers: [{name: c, image: x:1}]\n"
    )
    result = scan([tmp_path])
    assert result.objects == 1
    finding = next(f for f in result.findings if f.rule_id == "KUBE-007")
    assert (finding.location.line, finding.location.path, finding.resource) == (8, "spec.hostPID", "Pod/a")


def test_json_manifest(tmp_path: Path):
    (tmp_path / "pod.json").write_text(
        '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j"},\n'
        ' "spec": {"containers": [{"name": "c", "image": "x:1",\n'
        '   "securityContext": {"privileged": true}}]}}\n'
    )
    result = scan([tmp_path])
    assert ("KUBE-001", "pod.json", 3) in _ids(result)


def test_helm_templates_are_skipped_and_reported_with_skip_render(tmp_path: Path):
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    (chart / "templates" / "deploy.yaml").write_text("kind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n")
    result = scan([tmp_path], ScanOptions(render=RenderOptions(skip_render=True)))
    assert not result.errors
    assert [(s.file, s.reason) for s in result.skipped] == [
        ("chart/templates/deploy.yaml", "Helm chart template (needs rendering, not plain YAML)")
    ]


def test_vendored_and_tool_directories_are_not_walked(tmp_path: Path):
    for folder in (".git", "node_modules", ".terraform"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "pod.yaml").write_text(PRIVILEGED_POD)
    assert scan([tmp_path]).files_scanned == 0


def test_broken_file_is_reported_and_the_others_still_scanned(tmp_path: Path):
    (tmp_path / "a_broken.yaml").write_text("kind: Pod\nspec: [\n")
    (tmp_path / "b_pod.yaml").write_text(PRIVILEGED_POD)
    result = scan([tmp_path])
    assert [(e.file, e.line) for e in result.errors] == [("a_broken.yaml", 3)]
    assert ("KUBE-001", "b_pod.yaml", 8) in _ids(result)
    assert exit_code(result, Severity.LOW) == 2
    assert exit_code(result, Severity.LOW, fail_on_error=False) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01binary", "binary content"),
        (b"kind: Pod\nname: caf\xe9\n", "not valid UTF-8"),
    ],
)
def test_unreadable_content_gets_a_clear_error(tmp_path: Path, content: bytes, message: str):
    (tmp_path / "bad.yaml").write_bytes(content)
    (tmp_path / "good.yaml").write_text(PRIVILEGED_POD)
    result = scan([tmp_path])
    assert len(result.errors) == 1 and result.errors[0].file == "bad.yaml"
    assert message in result.errors[0].message
    assert any(f.location.file == "good.yaml" for f in result.findings)


def test_oversized_file_is_refused(tmp_path: Path):
    (tmp_path / "big.yaml").write_text("a: " + "x" * 5000 + "\n")
    result = scan([tmp_path], ScanOptions(max_file_size=1000))
    assert result.errors[0].file == "big.yaml" and "limit" in result.errors[0].message


def test_empty_file_is_fine(tmp_path: Path):
    (tmp_path / "empty.yaml").write_text("")
    result = scan([tmp_path])
    assert not result.errors and result.files_scanned == 1


def test_links_outside_the_root_are_not_followed(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "pod.yaml").write_text(PRIVILEGED_POD)
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside / "pod.yaml", root / "linked.yaml")
    os.symlink(root, root / "loop")  # a directory loop must not trap the walk
    result = scan([root])
    assert result.files_scanned == 0
    assert [s.reason for s in result.skipped] == ["symbolic link pointing outside the scan root"]


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    target = tmp_path / "secret.yaml"
    target.write_text(PRIVILEGED_POD)
    target.chmod(0)
    (tmp_path / "other.yaml").write_text(PRIVILEGED_POD)
    if os.geteuid() == 0:  # root reads whatever the mode says (CI runs as root): simulate the refusal
        real_open = os.open

        def refusing_open(path, flags, *args, **kwargs):
            if os.path.basename(path) == "secret.yaml":
                raise PermissionError(13, "Permission denied")
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", refusing_open)
    result = scan([tmp_path])
    assert [(e.file, e.message) for e in result.errors] == [("secret.yaml", "cannot read file: Permission denied")]
    assert any(f.location.file == "other.yaml" for f in result.findings)


def test_non_kubernetes_yaml_is_read_without_findings(tmp_path: Path):
    (tmp_path / "values.yaml").write_text("replicaCount: 2\nimage: {repository: nginx}\n")
    (tmp_path / "workflow.yml").write_text("on: push\njobs: {}\n")
    result = scan([tmp_path])
    assert result.files_scanned == 2 and result.objects == 0 and not result.findings


def test_exclude_globs_match_files_and_folders(tmp_path: Path):
    (tmp_path / "charts" / "x").mkdir(parents=True)
    (tmp_path / "charts" / "x" / "pod.yaml").write_text(PRIVILEGED_POD)
    (tmp_path / "keep.yaml").write_text(PRIVILEGED_POD)
    (tmp_path / "gen.tmpl.yaml").write_text("kind: Pod\nmetadata:\n  name: {{ .Name }}-x\n")
    result = scan([tmp_path], ScanOptions(exclude=("charts",)))
    assert result.files_scanned == 2
    assert "template syntax" in result.errors[0].message
    result = scan([tmp_path], ScanOptions(exclude=("charts", "*.tmpl.yaml")))
    assert result.files_scanned == 1 and not result.errors
