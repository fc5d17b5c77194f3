#!/usr/bin/env python3
"""Where a scan's CPU goes: the scanning process, each Kustomize build, and everything else it starts.

    python bench/cpu_ledger.py [FOLDER] [--starts 20]

Scans FOLDER (default: the corpus) once, in this process, with every ``kubectl kustomize`` build started
through ``os.wait4`` so that each build's own CPU time is known; then starts the same builder ``--starts``
times on a one-object Kustomization, which is what a build costs before it reads anything. It prints the
scanning process's CPU, the builds' CPU (and how much of it is the builder starting), the other child
processes' CPU (Helm render workers, rule workers), and the least wall time that CPU allows on this
machine's cores. ``speed.py`` measures the command as users run it; this script says why it takes what it
takes.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import types
from pathlib import Path

from machine import calibration_ms

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


class _Builds:
    """A stand-in for ``subprocess`` inside the Kustomize module: runs each build as ``subprocess.run``
    would, and records its CPU time from ``wait4``."""

    def __init__(self) -> None:
        self.cpu: list[float] = []
        self.lock = threading.Lock()

    def run(self, command, *, capture_output, text, timeout, env, stdin, cwd):  # noqa: ANN001 - as subprocess.run
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=text, env=env,
                                   stdin=stdin, cwd=cwd)
        errors: list[str] = []
        reader = threading.Thread(target=lambda: errors.append(process.stderr.read()))
        reader.start()  # stderr drains while stdout is read here, until the build ends
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)  # reaped here, with its own usage (communicate would lose it)
        process.returncode = os.waitstatus_to_exitcode(status)
        reader.join()
        process.stdout.close()
        process.stderr.close()
        with self.lock:
            self.cpu.append(usage.ru_utime + usage.ru_stime)
        return subprocess.CompletedProcess(command, process.returncode, output, errors[0])


def start_cost(tool: list[str], starts: int) -> float:
    """Seconds of CPU one build of a single ConfigMap takes: the builder starting, nearly all of it."""
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
        Path(folder, "kustomization.yaml").write_text("resources: [cm.yaml]\n")
        before = _children_cpu()
        for _ in range(starts):
            subprocess.run(tool + [folder], capture_output=True, check=True)
        return (_children_cpu() - before) / starts


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=CORPUS)
    parser.add_argument("--starts", type=int, default=20, help="builder starts to time (default 20)")
    args = parser.parse_args()
    # Imported here: the Helm render workers are spawned and import this script again, as the command's do
    # its small entry module, and should not pay for the scanner.
    import servegate.render.kustomize as kustomize
    from servegate.scan import scan

    tool = kustomize.builder()
    if tool is None:
        sys.exit("no Kustomize builder: pip install 'servegate[kustomize]'")
    builds = _Builds()
    kustomize.subprocess = types.SimpleNamespace(run=builds.run, DEVNULL=subprocess.DEVNULL,
                                                 TimeoutExpired=subprocess.TimeoutExpired)
    print(f"calibration {calibration_ms()} ms (about 115 at this project's machine's normal speed)")
    own, children, started = _own_cpu(), _children_cpu(), time.perf_counter()
    result = scan([args.folder])
    wall = time.perf_counter() - started
    own, children = _own_cpu() - own, _children_cpu() - children
    per_start = start_cost(tool, args.starts)
    build_cpu = sum(builds.cpu)
    others = children - build_cpu
    total = own + children
    cores = len(os.sched_getaffinity(0))
    print(f"scan of {args.folder}: {result.files_scanned} files, {len(result.findings)} findings, {wall:.1f} s wall")
    print(f"  scanning process      {own:6.1f} s CPU")
    print(f"  Kustomize builds      {build_cpu:6.1f} s CPU in {len(builds.cpu)} builds, of which starting the builder "
          f"{len(builds.cpu) * per_start:.1f} s ({per_start * 1000:.0f} ms a start)")
    print(f"  other processes       {others:6.1f} s CPU (Helm render workers, rule workers)")
    print(f"  all                   {total:6.1f} s CPU: at least {total / cores:.1f} s wall on {cores} cores")


if __name__ == "__main__":
    main()
