"""A scan opens no network connection, starts no process and writes nothing but its report.

The command line runs in a fresh interpreter with an audit hook (``sys.addaudithook``) that records every
socket created or used, every process started, every file opened for writing and every file-system change.
The scanned tree is built to tempt a scanner that executes what it reads: shell commands in manifests, a
Terraform ``local-exec`` provisioner and ``external`` data source, ``file()`` reaching outside the root, an
HTTP module source. Helm charts and Kustomize overlays are rendered by their own tools when present (see
``servegate.render``); ``--skip-render`` turns that off, and then no process starts even for them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

AUDIT_DRIVER = r"""
import json, os, sys

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
PROCESS_EVENTS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
                  "pty.spawn", "ctypes.dlopen")
CHANGE_EVENTS = ("os.remove", "os.rename", "os.mkdir", "os.rmdir", "os.truncate", "os.chmod", "os.chown", "os.link",
                 "os.symlink", "os.utime", "os.chflags", "os.setxattr", "os.removexattr", "shutil.")
events = []
watching = True


def hook(event, args):
    if not watching:
        return
    if event == "open":
        path, mode, flags = args
        writes = any(c in mode for c in "wax+") if isinstance(mode, str) else bool((flags or 0) & WRITE_FLAGS)
        if writes:
            events.append(["write", os.path.abspath(os.fsdecode(path))])
    elif event.startswith("socket."):
        events.append([event, repr(args)[:200]])
    elif event.startswith(PROCESS_EVENTS) or event.startswith(CHANGE_EVENTS):
        events.append([event, repr(args)[:200]])


sys.addaudithook(hook)
from servegate.cli import main

code = main(sys.argv[1:])
watching = False
sys.stderr.write("\nAUDIT " + json.dumps(events) + "\n")
sys.exit(code)
"""

TEMPTING_MANIFEST = """\
apiVersion: v1
kind: Pod
metadata: {name: tempting}
spec:
  containers:
  - name: c
    image: busybox:1.36
    command: ["sh", "-c", "touch {marker} && curl http://127.0.0.1:9/exfiltrate"]
    securityContext: {privileged: true}
"""

TEMPTING_TERRAFORM = """\
module "remote" {
  source = "https://example.invalid/module.zip"
}

data "external" "run" {
  program = ["sh", "-c", "touch {marker}"]
}

resource "null_resource" "exec" {
  provisioner "local-exec" {
    command = "touch {marker}"
  }
}

locals {
  secret = file("/etc/hostname")
  template = templatefile("${path.module}/../outside.tpl", {})
}
"""


def _audited_scan(tree: Path, output: Path, *extra: str) -> tuple[int, list[list[str]]]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPYCACHEPREFIX", None)
    done = subprocess.run([sys.executable, "-c", AUDIT_DRIVER, "scan", str(tree), "--format", "sarif",
                           "--output", str(output), *extra], capture_output=True, text=True, env=env,
                          cwd=tree, timeout=300)
    audit = [line for line in done.stderr.splitlines() if line.startswith("AUDIT ")]
    assert audit, done.stderr
    return done.returncode, json.loads(audit[-1][len("AUDIT "):])


@pytest.fixture
def tempting_tree(tmp_path: Path) -> tuple[Path, Path]:
    tree = tmp_path / "tree"
    marker = tmp_path / "executed"
    (tree / "k8s").mkdir(parents=True)
    (tree / "infra").mkdir()
    (tree / "k8s" / "pod.yaml").write_text(TEMPTING_MANIFEST.replace("{marker}", str(marker)))
    (tree / "infra" / "main.tf").write_text(TEMPTING_TERRAFORM.replace("{marker}", str(marker)))
    (tree / "infra" / "plan.json").write_text(json.dumps({"format_version": "1.2", "planned_values": {
        "root_module": {"resources": [{"type": "null_resource", "name": "exec", "values": {"triggers": None}}]}}}))
    for example in (ROOT / "examples").rglob("*"):
        if example.is_file():
            target = tree / "examples" / example.relative_to(ROOT / "examples")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(example.read_bytes())
    return tree, marker


def test_a_scan_uses_no_network_starts_no_process_and_writes_only_its_report(tempting_tree, tmp_path: Path):
    tree, marker = tempting_tree
    output = tmp_path / "report.sarif"
    code, events = _audited_scan(tree, output)
    assert code == 1  # findings, among them the privileged pod: the scan did run
    assert "MLS-" in output.read_text() and "KUBE-001" in output.read_text()
    assert events == [["write", str(output)]]
    assert not marker.exists()


def test_with_skip_render_charts_and_overlays_start_no_process(tempting_tree, tmp_path: Path):
    tree, marker = tempting_tree
    chart = tree / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    (chart / "templates" / "job.yaml").write_text("kind: Job\nmetadata:\n  name: {{ .Release.Name }}\n")
    (tree / "overlay").mkdir()
    (tree / "overlay" / "kustomization.yaml").write_text("resources:\n- ../k8s/pod.yaml\n")
    output = tmp_path / "report.sarif"
    code, events = _audited_scan(tree, output, "--skip-render")
    assert code == 1
    assert events == [["write", str(output)]]
    assert not marker.exists()
