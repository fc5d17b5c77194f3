"""Helm charts and Kustomize overlays rendered by the real tools, with findings mapped back to the template
line, base or patch that produced them (``servegate.render``).

These tests need the render extras (``pip install -e '.[test,helm,kustomize]'``, as ``.ci/run`` does).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from servegate.cli import main
from servegate.findings import Severity
from servegate.render import RenderOptions, helm, kustomize
from servegate.render.mapping import TemplateOutline
from servegate.render.patch_schema import patch_schema
from servegate.scan import ScanOptions, exit_code, scan, select_rules

FIXTURES = Path(__file__).parent / "fixtures"
HELM = FIXTURES / "helm"
KUSTOMIZE = FIXTURES / "kustomize"
DEPLOYMENT = "mlserve/templates/deployment.yaml"


def _scan(path: Path, *rule_ids: str, **render) -> object:
    rules = select_rules(rule_ids) if rule_ids else select_rules()
    return scan([path], ScanOptions(rules=rules, render=RenderOptions(**render)))


def _where(result) -> set[tuple[str, str, int]]:
    return {(f.rule_id, f.location.file, f.location.line) for f in result.findings}


def _related(result, rule_id: str, file: str, line: int) -> list[tuple[str, int, str]]:
    finding = next(f for f in result.findings if (f.rule_id, f.location.file, f.location.line) == (rule_id, file, line))
    return [(r.location.file, r.location.line, r.message) for r in finding.related]


# --- Helm ---------------------------------------------------------------------------------------------

PROD_RULES = ("MLS-K8S-001", "MLS-K8S-006", "MLS-K8S-009", "KUBE-010", "MLS-K8S-012")


def test_chart_with_values_override_maps_findings_to_template_lines():
    result = _scan(HELM, *PROD_RULES, helm_values=(HELM / "prod-values.yaml",))
    assert not result.errors
    assert _where(result) == {
        ("MLS-K8S-006", DEPLOYMENT, 19),  # hostNetwork: {{ .Values.hostNetwork }}
        ("MLS-K8S-012", DEPLOYMENT, 26),  # image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
        ("MLS-K8S-009", DEPLOYMENT, 34),  # {{- toYaml .Values.securityContext | nindent 12 }}
        ("MLS-K8S-012", DEPLOYMENT, 39),  # the debug container an `if` adds
        ("KUBE-010", DEPLOYMENT, 41),  # its securityContext lacks readOnlyRootFilesystem
        ("MLS-K8S-009", DEPLOYMENT, 41),  # ... and allowPrivilegeEscalation: false
        ("MLS-K8S-001", DEPLOYMENT, 42),  # privileged: true, written literally in the template
    }
    privileged = next(f for f in result.findings if f.rule_id == "MLS-K8S-001")
    assert (privileged.location.column, privileged.location.path, privileged.resource) == (
        13, "spec.template.spec.containers[1].securityContext.privileged", "Deployment/release-name-mlserve")


def test_values_keys_behind_a_template_line_are_related_locations():
    result = _scan(HELM, *PROD_RULES, helm_values=(HELM / "prod-values.yaml",))
    assert _related(result, "MLS-K8S-006", DEPLOYMENT, 19) == [
        ("prod-values.yaml", 2, "values key `hostNetwork` set in prod-values.yaml")]
    assert _related(result, "MLS-K8S-009", DEPLOYMENT, 34) == [
        ("prod-values.yaml", 4, "values key `securityContext.allowPrivilegeEscalation` set in prod-values.yaml")]
    assert _related(result, "MLS-K8S-012", DEPLOYMENT, 26) == [
        ("mlserve/values.yaml", 4, "values key `image.repository` set in mlserve/values.yaml"),
        ("mlserve/values.yaml", 5, "values key `image.tag` set in mlserve/values.yaml"),
    ]
    assert _related(result, "MLS-K8S-001", DEPLOYMENT, 42) == []  # a literal: no values key behind it


def test_default_values_render_the_safe_chart():
    result = _scan(HELM, *PROD_RULES)
    assert not result.errors
    assert _where(result) == {("MLS-K8S-012", DEPLOYMENT, 26)}
    assert result.objects == 2 and result.files_scanned == 5


def test_helm_set_through_a_with_block_points_at_the_toyaml_line():
    result = _scan(HELM, "MLS-K8S-009", helm_set=("podSecurityContext.runAsUser=0",))
    # {{- with .Values.podSecurityContext }} ... {{- toYaml . | nindent 8 }}; --helm-set has no file to name.
    assert _where(result) == {("MLS-K8S-009", DEPLOYMENT, 22)}
    assert _related(result, "MLS-K8S-009", DEPLOYMENT, 22) == []


def test_a_key_missing_from_values_points_at_the_values_block_that_fills_it(tmp_path: Path):
    chart = tmp_path / "chart"
    shutil.copytree(HELM / "mlserve", chart)
    values = (chart / "values.yaml").read_text().replace("  readOnlyRootFilesystem: true\n", "")
    (chart / "values.yaml").write_text(values)
    result = _scan(tmp_path, "KUBE-010")
    assert _where(result) == {("KUBE-010", "chart/templates/deployment.yaml", 33)}  # securityContext:
    assert _related(result, "KUBE-010", "chart/templates/deployment.yaml", 33) == [
        ("chart/values.yaml", 15,
         "values key `securityContext.readOnlyRootFilesystem` is not set; its nearest block in chart/values.yaml")]


def test_cli_passes_values_and_fails_on_findings(capsys: pytest.CaptureFixture[str]):
    code = main(["scan", str(HELM), "--helm-values", str(HELM / "prod-values.yaml"), "--select", "MLS-K8S-001"])
    out = capsys.readouterr().out
    assert code == 1
    assert "mlserve/templates/deployment.yaml\n    42:13  critical MLS-K8S-001" in out


def test_cli_rejects_malformed_helm_options(capsys: pytest.CaptureFixture[str]):
    assert main(["scan", str(HELM), "--helm-set", "hostNetwork"]) == 2
    assert "--helm-set takes KEY=VALUE" in capsys.readouterr().err
    assert main(["scan", str(HELM), "--helm-values", str(HELM / "missing.yaml")]) == 2


def test_without_a_renderer_the_scan_fails_closed(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(helm, "renderer", lambda: None)
    result = _scan(HELM)
    assert [(e.file, e.line) for e in result.errors] == [("mlserve/Chart.yaml", 0)]
    assert "Helm chart not rendered, so its 2 templates were not scanned" in result.errors[0].message
    assert "pip install 'servegate[helm]'" in result.errors[0].message
    assert {s.file for s in result.skipped} == {DEPLOYMENT, "mlserve/templates/service.yaml"}
    assert exit_code(result, Severity.LOW) == 2


def test_skip_render_lists_templates_without_failing():
    result = _scan(HELM, skip_render=True)
    assert not result.errors and not result.findings
    assert {s.file for s in result.skipped} == {DEPLOYMENT, "mlserve/templates/service.yaml"}


def _chart(folder: Path, name: str, chart_yaml: str = "", values: str = "", templates: dict[str, str] | None = None):
    (folder / "templates").mkdir(parents=True)
    (folder / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n{chart_yaml}")
    (folder / "values.yaml").write_text(values)
    for file, text in (templates or {}).items():
        (folder / "templates" / file).write_text(text)


POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-worker
spec:
  hostPID: {{ .Values.hostPID }}
  containers:
  - name: worker
    image: busybox:1.36
"""


BRANCHES = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  initContainers:
  {{- toYaml .Values.init | nindent 2 }}
  containers:
  - name: app
    {{- if .Values.custom.image }}
    image: {{ .Values.custom.image }}
    {{- else }}
    image: {{ .Values.image }}
    {{- end }}
"""
BRANCH_VALUES = """\
image: busybox:latest
custom: {}
init:
- name: setup
  image: busybox:1.36
  securityContext:
    privileged: true
"""


def test_if_else_branches_and_lists_written_at_their_keys_column(tmp_path: Path):
    _chart(tmp_path / "app", "app", "", BRANCH_VALUES, {"pod.yaml": BRANCHES})
    result = _scan(tmp_path, "KUBE-001", "KUBE-017")
    assert _where(result) == {("KUBE-001", "app/templates/pod.yaml", 7), ("KUBE-017", "app/templates/pod.yaml", 13)}
    assert _related(result, "KUBE-017", "app/templates/pod.yaml", 13) == [
        ("app/values.yaml", 1, "values key `image` set in app/values.yaml")]
    assert _related(result, "KUBE-001", "app/templates/pod.yaml", 7) == [
        ("app/values.yaml", 7, "values key `init.0.securityContext.privileged` set in app/values.yaml")]


def test_missing_dependency_is_reported_not_fetched(tmp_path: Path):
    deps = ("dependencies:\n- name: redis\n  version: 1.0.0\n  repository: https://charts.example.invalid\n"
            "- name: cache\n  version: 1.0.0\n  repository: https://charts.example.invalid\n"
            "  condition: cache.enabled\n")
    _chart(tmp_path / "app", "app", deps, "hostPID: true\ncache:\n  enabled: false\n", {"pod.yaml": POD})
    result = _scan(tmp_path, "KUBE-007")
    assert [(e.file, e.message) for e in result.errors] == [(
        "app/Chart.yaml", "dependency `redis` is declared but not vendored in charts/ (servegate never fetches "
                          "charts; run `helm dependency build` first): the chart was rendered without it")]
    assert _where(result) == {("KUBE-007", "app/templates/pod.yaml", 6)}  # the rest of the chart is scanned


def test_vendored_subchart_renders_with_the_parents_values(tmp_path: Path):
    parent = tmp_path / "parent"
    _chart(parent, "parent", "dependencies:\n- name: worker\n  version: 0.1.0\n", "worker:\n  hostPID: true\n")
    _chart(parent / "charts" / "worker", "worker", "", "hostPID: false\n", {"pod.yaml": POD})
    result = _scan(tmp_path, "KUBE-007")
    assert not result.errors
    assert _where(result) == {("KUBE-007", "parent/charts/worker/templates/pod.yaml", 6)}
    assert _related(result, "KUBE-007", "parent/charts/worker/templates/pod.yaml", 6) == [
        ("parent/values.yaml", 2, "values key `hostPID` set in parent/values.yaml")]


def test_library_charts_are_not_rendered_alone(tmp_path: Path):
    _chart(tmp_path / "lib", "lib", "type: library\n", "", {"pod.yaml": POD})
    result = _scan(tmp_path)
    assert not result.errors and not result.findings
    assert [s.reason for s in result.skipped] == ["template of a Helm library chart (rendered by the charts using it)"]


def test_a_helm_binary_on_path_is_called_like_helm_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The fallback renderer's plumbing, with a stand-in `helm` that records its arguments."""
    args = tmp_path / "args"
    fake = tmp_path / "helm"
    fake.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {args}\ncat <<'EOF'\n---\n"
                    "# Source: mlserve/templates/deployment.yaml\n"
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n"
                    "      containers:\n      - name: debug-shell\n        image: busybox:1.36\n"
                    "        securityContext:\n          privileged: true\nEOF\n")
    fake.chmod(0o755)
    monkeypatch.setattr(helm, "renderer", lambda: str(fake))
    result = _scan(HELM, "MLS-K8S-001", "KUBE-001", helm_values=(HELM / "prod-values.yaml",), helm_set=("a=b",))
    assert not result.errors
    assert args.read_text().splitlines() == [
        "template", "release-name", str((HELM / "mlserve").resolve()), "--namespace", "default",
        "--values", str((HELM / "prod-values.yaml").resolve()), "--set", "a=b"]
    assert _where(result) == {("KUBE-001", DEPLOYMENT, 42)}  # the same template line as with the SDK


SCAN_IN_A_FRESH_PROCESS = """
import json, sys
from pathlib import Path
from servegate.render import helm
from servegate.scan import ScanOptions, scan, select_rules

result = scan([Path(sys.argv[1])], ScanOptions(rules=select_rules(("MLS-K8S-012",))))
print(json.dumps({"renderer": helm.renderer(), "objects": result.objects, "errors": [e.message for e in result.errors],
                  "helm_python imported": "helm_python" in sys.modules}))
"""


def test_the_scanning_process_never_imports_helm_python():
    """Its Go runtime would not survive the fork of the rule workers: charts render in spawned workers."""
    done = subprocess.run([sys.executable, "-c", SCAN_IN_A_FRESH_PROCESS, str(HELM)], capture_output=True, text=True,
                          timeout=300, check=True)
    assert json.loads(done.stdout.splitlines()[-1]) == {
        "renderer": "sdk", "objects": 2, "errors": [], "helm_python imported": False}


def test_a_chart_helm_cannot_render_does_not_stop_the_others(tmp_path: Path):
    _chart(tmp_path / "app", "app", "", "hostPID: true\n", {"pod.yaml": POD})
    _chart(tmp_path / "broken", "broken", "", "", {"pod.yaml": '{{ fail "no model image configured" }}\n'})
    _chart(tmp_path / "worker", "worker", "", "hostPID: true\n", {"pod.yaml": POD})
    result = _scan(tmp_path, "KUBE-007")
    assert [(e.file, e.message) for e in result.errors] == [(
        "broken/Chart.yaml",
        "Helm could not render the chart: execution error at (broken/templates/pod.yaml:1:3): no model image configured")]
    assert _where(result) == {("KUBE-007", "app/templates/pod.yaml", 6), ("KUBE-007", "worker/templates/pod.yaml", 6)}


def test_a_render_worker_that_dies_is_reported_for_its_chart_and_the_others_render():
    """``work=eval`` stands in for the SDK: each job is the expression a worker evaluates."""
    jobs = {Path("/charts/a"): ("{'a.yaml': 'kind: A'}",),
            Path("/charts/crash"): ("__import__('os')._exit(3)",), Path("/charts/z"): ("{'z.yaml': 'kind: Z'}",)}
    outcomes = dict(helm._render_in_workers(jobs, work=eval))
    assert outcomes[Path("/charts/a")] == {"a.yaml": "kind: A"} and outcomes[Path("/charts/z")] == {"z.yaml": "kind: Z"}
    assert isinstance(outcomes[Path("/charts/crash")], helm.RenderError)
    assert str(outcomes[Path("/charts/crash")]) == ("the helm-python-sdk worker rendering `crash` died (a crash in the "
                                                    "native Helm library, or the process was killed)")


def test_a_chart_still_rendering_after_the_time_limit_is_stopped(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(helm, "RENDER_TIMEOUT", 3)
    jobs = {Path("/charts/hang"): ("__import__('time').sleep(600)",), Path("/charts/a"): ("{'a.yaml': 'kind: A'}",)}
    started = time.monotonic()
    outcomes = dict(helm._render_in_workers(jobs, work=eval))
    assert time.monotonic() - started < 60
    assert outcomes[Path("/charts/a")] == {"a.yaml": "kind: A"}
    assert str(outcomes[Path("/charts/hang")]) == ("rendering `hang` took longer than 3 seconds, so its helm-python-sdk "
                                                   "worker was stopped")


def test_no_worker_starts_without_a_chart_to_render(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(helm, "_spawn_pool", lambda width: pytest.fail("a worker pool started for nothing"))
    _chart(tmp_path / "lib", "lib", "type: library\n", "", {"pod.yaml": POD})
    assert not _scan(tmp_path).errors


def test_dependency_conditions_and_tags_follow_helm():
    values = {"a": {"enabled": False}, "tags": {"gpu": False, "cpu": True}}
    assert not helm.dependency_enabled({"condition": "missing.enabled,a.enabled"}, values)
    assert helm.dependency_enabled({"condition": "missing.enabled"}, values)
    assert not helm.dependency_enabled({"tags": ["gpu"]}, values)
    assert helm.dependency_enabled({"tags": ["gpu", "cpu"]}, values)


def test_helm_template_output_is_split_by_source_comment():
    stream = ("---\n# Source: app/templates/a.yaml\nkind: A\n---\n# Source: app/templates/b.yaml\nkind: B\n"
              "---\n# Source: app/templates/a.yaml\nkind: A2\n")
    split = helm.split_sources(stream)
    assert sorted(split) == ["app/templates/a.yaml", "app/templates/b.yaml"]
    assert "kind: A\n" in split["app/templates/a.yaml"] and "kind: A2" in split["app/templates/a.yaml"]


def test_template_outline_reads_keys_by_indentation_and_skips_block_scalars():
    outline = TemplateOutline(
        "kind: ConfigMap\ndata:\n  config.yaml: |\n    privileged: true\n    {{- if .Values.x }}\n"
        "  other: {{ .Values.y }}\n---\nkind: Service\nspec:\n  {{- toYaml .Values.spec | nindent 2 }}\n")
    first, second = outline.sections
    assert first.kind == "ConfigMap" and second.kind == "Service"
    assert [(e.line, e.key, e.parents) for e in first.entries] == [
        (1, "kind", ()), (2, "data", ()), (3, "config.yaml", ("data",)), (6, "other", ("data",))]
    assert [(i.line, i.parents, i.col) for i in second.inserts] == [(10, ("spec",), 2)]


# --- Kustomize ----------------------------------------------------------------------------------------

BASE = "base/deployment.yaml"
PROD = "overlays/prod/kustomization.yaml"
OVERLAY_RULES = ("MLS-K8S-004", "MLS-K8S-007", "MLS-NET-001", "MLS-K8S-014", "MLS-K8S-012")


def test_overlays_are_built_and_findings_map_to_base_patch_and_kustomization():
    result = _scan(KUSTOMIZE, *OVERLAY_RULES)
    assert not result.errors
    assert _where(result) == {
        ("MLS-K8S-012", BASE, 17),  # the image line of the base, in both overlays
        ("MLS-NET-001", BASE, 24),  # hostPort: 8000, in both overlays
        ("MLS-K8S-014", "overlays/dev/kustomization.yaml", 3),  # namespace: ml-dev
        ("MLS-K8S-014", PROD, 3),  # namespace: ml-prod
        ("MLS-K8S-004", "overlays/prod/shared-memory.yaml", 9),  # hostIPC: true, in the patch
        ("MLS-K8S-007", "overlays/prod/shared-memory.yaml", 14),  # IPC_LOCK, added by the patch
    }
    resources = {(f.rule_id, f.resource) for f in result.findings}
    assert ("MLS-K8S-004", "Deployment/ml-prod/prod-llm") in resources  # namePrefix and namespace applied


def test_a_base_deployed_by_two_overlays_is_reported_once():
    result = _scan(KUSTOMIZE, *OVERLAY_RULES)
    host_port = [f for f in result.findings if f.rule_id == "MLS-NET-001"]
    assert len(host_port) == 1
    assert host_port[0].resource == "Deployment/ml-dev/llm"
    assert [(r.location.file, r.location.line, r.message) for r in host_port[0].related] == [
        (PROD, 1, "also produces Deployment/ml-prod/prod-llm")]


def test_an_image_rewritten_by_images_relates_to_that_entry():
    result = _scan(KUSTOMIZE, "MLS-K8S-012")
    assert _related(result, "MLS-K8S-012", BASE, 17) == [
        (PROD, 8, f"image rewritten to `vllm/vllm-openai:v0.6.4` by `images:` in {PROD}"),
        (PROD, 1, "also produces Deployment/ml-prod/prod-llm"),
    ]


def test_skip_render_reads_overlays_as_plain_yaml():
    result = _scan(KUSTOMIZE, *OVERLAY_RULES, skip_render=True)
    assert not result.errors
    assert [(s.file, s.reason) for s in result.skipped] == [
        (f"overlays/{name}/kustomization.yaml",
         "Kustomize overlay not built (--skip-render): its files are scanned as plain YAML") for name in ("dev", "prod")]
    assert ("MLS-NET-001", BASE, 24) in _where(result)
    assert {f.resource for f in result.findings if f.rule_id == "MLS-NET-001"} == {"Deployment/llm"}


def test_without_a_builder_overlays_fail_closed_and_are_read_as_plain_yaml(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(kustomize, "builder", lambda: None)
    result = _scan(KUSTOMIZE, *OVERLAY_RULES)
    assert [e.file for e in result.errors] == ["overlays/dev/kustomization.yaml", PROD]
    assert "pip install 'servegate[kustomize]'" in result.errors[0].message
    assert ("MLS-NET-001", BASE, 24) in _where(result)
    assert exit_code(result, Severity.LOW) == 2


def _overlay(tmp_path: Path, resources: str) -> None:
    shutil.copytree(KUSTOMIZE / "base", tmp_path / "base")
    (tmp_path / "overlay").mkdir()
    (tmp_path / "overlay" / "kustomization.yaml").write_text(
        f"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../base\n{resources}")


def test_remote_resources_are_refused_before_building(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    _overlay(tmp_path, "- https://github.com/example/models//deploy?ref=v1\n")
    monkeypatch.setattr(kustomize.subprocess, "run", lambda *a, **k: pytest.fail("the builder must not run"))
    result = _scan(tmp_path, "MLS-NET-001")
    assert [(e.file, e.message) for e in result.errors] == [(
        "overlay/kustomization.yaml",
        "Kustomize overlay not built: overlay/kustomization.yaml loads `https://github.com/example/models//deploy"
        "?ref=v1` from the network, which servegate never does; its local files were scanned as plain YAML")]
    assert _where(result) == {("MLS-NET-001", BASE, 24)}


def test_an_overlay_reading_a_file_over_the_size_limit_is_not_built(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch):
    # Kustomize would read the file whole and a generator would copy it into the output the scan parses.
    _overlay(tmp_path, "configMapGenerator:\n- name: weights\n  files:\n  - weights.bin\n")
    (tmp_path / "overlay" / "weights.bin").write_bytes(b"\0" * 5_000)
    monkeypatch.setattr(kustomize.subprocess, "run", lambda *a, **k: pytest.fail("the builder must not run"))
    result = scan([tmp_path], ScanOptions(rules=select_rules(("MLS-NET-001",)), max_file_size=4_096))
    assert [(e.file, e.message) for e in result.errors] == [(
        "overlay/kustomization.yaml",
        "Kustomize overlay not built: overlay/kustomization.yaml names `weights.bin`, 5,000 bytes, over the "
        "4,096-byte limit (--max-file-size); its files were scanned as plain YAML")]
    assert _where(result) == {("MLS-NET-001", BASE, 24)}


def test_a_failing_build_is_reported_and_the_files_read_as_plain_yaml(tmp_path: Path):
    _overlay(tmp_path, "patches:\n- path: patch.yaml\n")  # a patch for an object the base does not have
    (tmp_path / "overlay" / "patch.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
                                                     "  name: no-such-deployment\nspec:\n  replicas: 2\n")
    result = _scan(tmp_path, "MLS-NET-001")
    assert [e.file for e in result.errors] == ["overlay/kustomization.yaml"]
    assert result.errors[0].message.startswith("Kustomize could not build the overlay")
    assert "no-such-deployment" in result.errors[0].message
    assert _where(result) == {("MLS-NET-001", BASE, 24)}


@pytest.mark.parametrize("entries, missing", [
    ("- no-such-file.yaml\n", "`no-such-file.yaml` (no such file or folder;"),
    ("configMapGenerator:\n- name: params\n  envs:\n  - params.env\n", "`params.env` (no such file;"),
    ("secretGenerator:\n- name: keys\n  files:\n  - token=token.txt\n", "`token.txt` (no such file;"),
])
def test_an_overlay_naming_a_missing_file_is_reported_without_starting_kustomize(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entries: str, missing: str):
    _overlay(tmp_path, entries)
    monkeypatch.setattr(kustomize.subprocess, "run", lambda *a, **k: pytest.fail("the builder must not run"))
    result = _scan(tmp_path, "MLS-NET-001")
    assert [e.file for e in result.errors] == ["overlay/kustomization.yaml"]
    assert result.errors[0].message.startswith(f"Kustomize cannot build the overlay: overlay/kustomization.yaml "
                                               f"names {missing}")
    assert _where(result) == {("MLS-NET-001", BASE, 24)}


def test_existing_rule_fixture_overlay_maps_a_patch_added_container():
    fixture = FIXTURES / "rules" / "KUBE-010" / "fail_kustomize_sidecar"
    result = _scan(fixture, "KUBE-010")
    assert _where(result) == {("KUBE-010", "overlays/debug/log-sidecar.yaml", 13)}
    assert result.findings[0].resource == "Deployment/ml-debug/feature-api"


# --- Kustomize: the light patch schema ---------------------------------------------------------------

PATCH_SCHEMA = FIXTURES / "render" / "patch-schema"


def test_the_light_patch_schema_merges_patches_as_kustomizes_own_schema():
    tool = kustomize.builder()
    overlay = PATCH_SCHEMA / "overlay"
    own = kustomize._build(tool, overlay, None)
    light = kustomize._build(tool, overlay, patch_schema())
    no_definitions = kustomize._build(tool, overlay, b'{"swagger": "2.0", "definitions": {}}')
    assert own.failure is None and light.failure is None and no_definitions.failure is None
    assert light.output == own.output
    # The fixture's patch depends on the schema (merge keys, replaced lists): a schema missing them shows.
    assert no_definitions.output != own.output
    assert "name: http\n    port: 8000" in own.output and "key: nvidia.com/gpu" not in own.output


def test_an_overlay_naming_its_own_schema_is_built_with_it_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    shutil.copytree(PATCH_SCHEMA, tmp_path, dirs_exist_ok=True)
    schemas = []
    build = kustomize._build
    monkeypatch.setattr(kustomize, "_build", lambda tool, folder, schema: schemas.append(schema) or
                        build(tool, folder, schema))
    assert not _scan(tmp_path).errors
    assert schemas == [patch_schema()]
    (tmp_path / "base" / "kustomization.yaml").write_text(
        (tmp_path / "base" / "kustomization.yaml").read_text() + "openapi:\n  path: own-schema.json\n")
    (tmp_path / "base" / "own-schema.json").write_text('{"swagger": "2.0", "definitions": {}}')
    assert not _scan(tmp_path).errors
    assert schemas == [patch_schema(), None]


# --- Kustomize: the CRD-light mirror ------------------------------------------------------------------

CRD_OVERLAY = FIXTURES / "render" / "crd-overlay"


def _findings(result) -> list[tuple]:
    return [(f.rule_id, f.location.file, f.location.line, f.location.column, f.location.path, f.resource, f.message,
             tuple((r.location.file, r.location.line, r.message) for r in f.related)) for f in result.findings]


def _record_builds(monkeypatch: pytest.MonkeyPatch, on_build=lambda folder: None) -> list[tuple[Path, str | None]]:
    """Every build of the scans that follow: the folder built, and its failure (None when it built)."""
    builds: list[tuple[Path, str | None]] = []
    build = kustomize._build

    def recording(tool, folder, schema):
        on_build(folder)
        built = build(tool, folder, schema)
        builds.append((folder, built.failure))
        return built

    monkeypatch.setattr(kustomize, "_build", recording)
    return builds


def _scan_real_files(monkeypatch: pytest.MonkeyPatch, path: Path):
    with monkeypatch.context() as patched:
        patched.setattr(kustomize, "_mirror_or_none", lambda *args: None)
        return _scan(path)


def test_an_overlay_with_a_crd_is_built_from_the_mirror_with_the_findings_of_the_real_files(
        monkeypatch: pytest.MonkeyPatch):
    mirrored: dict[str, bytes] = {}

    def read_mirror(folder: Path) -> None:
        for name in ("crd.yaml", "deployment.yaml"):
            mirrored[name] = (folder.parent / "base" / name).read_bytes()

    builds = _record_builds(monkeypatch, read_mirror)
    light = _scan(CRD_OVERLAY)
    assert [("servegate-mirror-" in str(folder), failure) for folder, failure in builds] == [(True, None)]
    real_crd = (CRD_OVERLAY / "base" / "crd.yaml").read_text()
    assert mirrored == {"crd.yaml": kustomize.lighten_crd_schemas(real_crd).encode(),
                        "deployment.yaml": (CRD_OVERLAY / "base" / "deployment.yaml").read_bytes()}
    assert len(mirrored["crd.yaml"]) < len(real_crd) / 10

    real = _scan_real_files(monkeypatch, CRD_OVERLAY)
    assert builds[1:] == [(CRD_OVERLAY / "overlay", None)]
    assert not light.errors and not real.errors
    assert _findings(light) == _findings(real)
    assert light.objects == real.objects and light.files_scanned == real.files_scanned
    assert {("KUBE-027", "base/deployment.yaml", 20),  # hostPort, in the base
            ("KUBE-008", "overlay/shared-memory.yaml", 8),  # hostIPC, added by the patch
            ("KUBE-001", "overlay/shared-memory.yaml", 12)} <= _where(light)  # privileged, added by the patch
    assert _related(light, "KUBE-018", "base/deployment.yaml", 17) == [(
        "overlay/kustomization.yaml", 10,
        "image rewritten to `example.com/model-server:v1.2.0` by `images:` in overlay/kustomization.yaml")]
    assert {f.resource for f in light.findings} == {"Deployment/serving/prod-model-server"}


CRD_STREAM = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: schemas
data:
  crd.yaml: |
    openAPIV3Schema:
      type: object
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: models.example.com
spec:
  versions:
  - name: v1
    schema:
      openAPIV3Schema:  # the whole schema
        type: object

        # a comment inside the block
        properties:
          spec:
            description: |
              Free text.

              More text.
            type: object
    served: true
  - name: v2
    schema:
      openAPIV3Schema:
        type: object
    # a comment after the block stays
    served: false
---
apiVersion: apiextensions.k8s.io/v1beta1
kind: CustomResourceDefinition
metadata:
  name: legacy.example.com
spec:
  validation:
    openAPIV3Schema:
      properties:
# a comment at the margin, still inside the block
        spec:
          type: object
  version: v1alpha1
"""


def test_the_mirror_cuts_every_schema_of_crd_documents_and_nothing_else():
    import yaml

    light = kustomize.lighten_crd_schemas(CRD_STREAM)
    assert light == CRD_STREAM.replace("""\
      openAPIV3Schema:  # the whole schema
        type: object

        # a comment inside the block
        properties:
          spec:
            description: |
              Free text.

              More text.
            type: object
""", """\
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
""").replace("""\
      openAPIV3Schema:
        type: object
    # a comment""", """\
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
    # a comment""").replace("""\
    openAPIV3Schema:
      properties:
# a comment at the margin, still inside the block
        spec:
          type: object
""", """\
    openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
""")
    assert light.count("x-kubernetes-preserve-unknown-fields") == 3
    assert light.startswith(CRD_STREAM.split("---")[0])  # the ConfigMap's text is not a schema
    config_map, v1, v1beta1 = yaml.safe_load_all(light)
    assert config_map["data"]["crd.yaml"] == "openAPIV3Schema:\n  type: object\n"
    light_schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    assert [(v["name"], v["schema"]["openAPIV3Schema"], v["served"]) for v in v1["spec"]["versions"]] == [
        ("v1", light_schema, True), ("v2", light_schema, False)]
    assert v1beta1["spec"] == {"validation": {"openAPIV3Schema": light_schema}, "version": "v1alpha1"}
    assert kustomize.lighten_crd_schemas(CRD_STREAM.split("---")[0]) == CRD_STREAM.split("---")[0]


SCHEMA_PATCH = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../base
patches:
- path: shared-memory.yaml
- target:
    kind: CustomResourceDefinition
    name: modelservers.serving.example.com
  patch: |-
    - op: replace
      path: /spec/versions/0/schema/openAPIV3Schema/properties/spec/description
      value: The model server's settings.
"""


def test_an_overlay_the_mirror_cannot_build_is_built_from_the_real_files(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch):
    shutil.copytree(CRD_OVERLAY, tmp_path, dirs_exist_ok=True)
    (tmp_path / "overlay" / "kustomization.yaml").write_text(SCHEMA_PATCH)  # a path only the real schema has
    builds = _record_builds(monkeypatch)
    light = _scan(tmp_path)
    assert [("servegate-mirror-" in str(folder), failure is None) for folder, failure in builds] == [
        (True, False), (False, True)]
    assert "openAPIV3Schema/properties/spec/description" in builds[0][1]
    real = _scan_real_files(monkeypatch, tmp_path)
    assert not light.errors
    assert _findings(light) == _findings(real)
    assert light.objects == real.objects
    assert ("KUBE-008", "overlay/shared-memory.yaml", 8) in _where(light)


def test_the_mirror_touches_no_scanned_file_and_no_result_names_it(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch):
    shutil.copytree(CRD_OVERLAY, tmp_path, dirs_exist_ok=True)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "kustomization.yaml").write_text("resources:\n- ../base\npatches:\n- path: stray.yaml\n")
    (tmp_path / "broken" / "stray.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
                                                    "  name: missing\nspec:\n  replicas: 2\n")
    files = sorted(path for path in tmp_path.rglob("*") if path.is_file())
    before = [(path, path.stat().st_mtime_ns, path.read_bytes()) for path in files]
    scratches: list[Path] = []
    make_mirror = kustomize._mirror_or_none
    monkeypatch.setattr(kustomize, "_mirror_or_none", lambda *args: scratches.append(args[2]) or make_mirror(*args))
    builds = _record_builds(monkeypatch)
    result = _scan(tmp_path)
    assert sorted(path for path in tmp_path.rglob("*") if path.is_file()) == files
    assert [(path, path.stat().st_mtime_ns, path.read_bytes()) for path in files] == before
    [scratch] = scratches
    assert not scratch.exists()  # removed after the scan
    assert sum(scratch in folder.parents for folder, _ in builds) == 2  # both overlays were built in it
    said = repr((result.findings, result.errors, result.skipped))
    assert str(scratch) not in said and "servegate-mirror-" not in said
    assert [e.file for e in result.errors] == ["broken/kustomization.yaml"]
    assert result.errors == _scan_real_files(monkeypatch, tmp_path).errors  # the real build's error
    assert "Deployment.v1.apps/missing" in result.errors[0].message
    assert ("KUBE-008", "overlay/shared-memory.yaml", 8) in _where(result)


# --- Renderer processes -------------------------------------------------------------------------------

def test_renderers_run_offline_with_one_go_thread_unless_the_environment_says_otherwise(monkeypatch):
    from servegate.render import offline_environment

    monkeypatch.delenv("GOMAXPROCS", raising=False)
    monkeypatch.setenv("GOGC", "100")
    env = offline_environment()
    assert (env["GOMAXPROCS"], env["GOGC"]) == ("1", "100")
    assert env["HTTPS_PROXY"] == "http://127.0.0.1:9" and env["GIT_ALLOW_PROTOCOL"] == "file"
