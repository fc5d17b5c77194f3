#!/usr/bin/env python3
"""Wall time, CPU time and peak memory of servegate, side by side with Checkov when it is installed.

    .venv/bin/python bench/speed.py [FOLDER ...] [--corpus DIR] [--mode corpus|k8s|small|linear ...]
                                    [--repeat N] [--checkov PATH] [--checkov-modes MODE,...]
                                    [--servegate-args ARGS ...] [--json FILE]

Modes (all by default):

* ``corpus``: the whole corpus (``../shared/corpus`` next to the repository, or ``--corpus``), plus any FOLDER given.
* ``k8s``: the corpus's Kubernetes repositories only: those whose ``MANIFEST.tsv`` row says less than 1% of their
  files are Terraform.
* ``small``: one small manifest (``examples/ml-serving/triton.yaml``), interpreter start-up included: what a
  pre-commit hook or an editor integration pays on every run.
* ``linear``: 1, 2 and 4 copies of the corpus (hard links in a temporary folder), to show that time and memory
  grow linearly with the input.

Each measurement runs a fresh process (``python -m servegate scan ... --format json``, the report written to a
temporary file, so writing the report counts) and takes the median of ``--repeat`` runs. ``--servegate-args``
measures servegate with extra options, once per value (``--servegate-args= --servegate-args=--skip-render``
measures the default scan, which renders Helm charts and Kustomize overlays, and the scan without rendering).
All tools alternate run by run, and so do the linear mode's copy counts, so a change in the machine's load hits
them alike. CPU time and the peak resident
memory of the largest process come from ``os.wait4`` (the whole process tree: a process's usage includes the
children it waited for); the peak of the tree's summed resident memory is sampled from ``/proc`` every 0.1 s.
Before and after each run, ``calibration_ms`` times a fixed piece of Python (``bench/machine.py``): a shared virtual
machine runs the same code up to twice as slow from one hour to the next, and the ``cal ms`` column says which kind
of hour the figures come from.

servegate is measured as installed: when ``PYTHONDONTWRITEBYTECODE`` is set (this would recompile every module on
every run), the benchmark unsets it and points ``PYTHONPYCACHEPREFIX`` at a temporary folder, and a warm-up run per
mode fills that cache and the file-system cache for both tools (``--no-warm-up`` skips it).

Checkov is not a dependency of servegate. Install it in a separate virtual environment and pass its executable
(a ``checkov`` on PATH is found without the flag):

    python3 -m venv /tmp/checkov-venv && /tmp/checkov-venv/bin/pip install checkov
    .venv/bin/python bench/speed.py --checkov /tmp/checkov-venv/bin/checkov --checkov-modes k8s,small

Checkov runs with ``--framework kubernetes terraform helm kustomize --skip-download --quiet --compact -o json``.
On the whole corpus it takes about 11 minutes per run, which is why ``--checkov-modes`` can restrict it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from machine import calibration_ms

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
SMALL_MANIFEST = REPO / "examples" / "ml-serving" / "triton.yaml"
MODES = ("corpus", "k8s", "small", "linear")
CHECKOV_FRAMEWORKS = ("kubernetes", "terraform", "helm", "kustomize")
SAMPLE_SECONDS = 0.1  # how often the tree's memory is read during a run's first seconds
SLOW_SAMPLE_SECONDS = 0.5  # and after: reading smaps of gigabyte processes costs CPU the tools would use


@dataclass
class Run:
    wall: float  # seconds
    cpu: float  # user + system seconds of the whole process tree
    peak_rss: int  # bytes, the largest single process
    tree_rss: int  # bytes, the largest sampled PSS sum over the process tree (0 when /proc is not available)
    exit_code: int
    calibration_ms: float = 0.0  # the machine's speed just before the run (bench/machine.py): lower is faster
    calibration_after_ms: float = 0.0  # and just after it: far from the first, the machine changed speed mid-run


@dataclass
class Measure:
    mode: str
    label: str  # what was scanned
    tool: str
    runs: list[Run]

    def median(self, name: str) -> float:
        return statistics.median(getattr(run, name) for run in self.runs)


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, from /proc's children lists."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    queue.extend(int(child) for child in handle.read().split())
        except OSError:
            continue
    return found


def _tree_rss(pid: int) -> int:
    """Memory of the whole tree: proportional set sizes, so pages a forked worker shares with its parent count
    once (a plain RSS sum counts them in every process); RSS where the kernel has no smaps_rollup."""
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for member in _descendants(pid):
        try:
            with open(f"/proc/{member}/smaps_rollup") as handle:
                total += next(int(line.split()[1]) * 1024 for line in handle if line.startswith("Pss:"))
            continue
        except (OSError, StopIteration, IndexError, ValueError):
            pass
        try:
            with open(f"/proc/{member}/statm") as handle:
                total += int(handle.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


def measure(command: list[str], env: dict[str, str]) -> Run:
    """Run ``command`` once; its own and its descendants' usage come back from wait4."""
    sample_tree = os.path.isdir("/proc/self/task")
    speed = calibration_ms()
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_tree = 0
    finished = threading.Event()

    def sample() -> None:
        nonlocal peak_tree
        while not finished.wait(SAMPLE_SECONDS if time.perf_counter() - started < 5 else SLOW_SAMPLE_SECONDS):
            peak_tree = max(peak_tree, _tree_rss(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    if sample_tree:
        sampler.start()
    stderr = process.stderr.read() if process.stderr else b""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    finished.set()
    if sample_tree:
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):  # 1 means findings, for both tools
        sys.stderr.write(stderr.decode("utf-8", "replace")[-2000:])
    # ru_maxrss is in kilobytes on Linux.
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, peak_tree, process.returncode,
               speed, calibration_ms())


def servegate_command(paths: list[Path], output: Path, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "servegate", "scan", *map(str, paths), "--format", "json", "--output", str(output),
            "--no-fail-on-error", *extra]


def checkov_command(checkov: str, paths: list[Path]) -> list[str]:
    targets = [arg for path in paths for arg in (("-d" if path.is_dir() else "-f"), str(path))]
    return [checkov, *targets, "--framework", *CHECKOV_FRAMEWORKS, "--skip-download", "--quiet", "--compact",
            "-o", "json"]


def servegate_env(cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    if env.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
        env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def kubernetes_repositories(corpus: Path) -> list[Path]:
    """Repositories of the corpus with less than 1% Terraform files, from its MANIFEST.tsv."""
    manifest = corpus / "MANIFEST.tsv"
    if not manifest.is_file():
        raise SystemExit(f"{manifest} not found: the k8s mode needs the corpus manifest")
    with manifest.open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    folders = [corpus / row["repo"].replace("/", "__") for row in rows
               if int(row["tf_files"]) * 100 < int(row["files"])]
    return [folder for folder in folders if folder.is_dir()]


def copies(corpus: Path, count: int, workdir: Path) -> Path:
    """``count`` copies of the corpus under one folder, hard-linked when the file system allows it."""
    target = workdir / f"x{count}"
    if not target.exists():
        for index in range(count):
            try:
                shutil.copytree(corpus, target / f"copy{index}", copy_function=os.link, symlinks=True)
            except OSError:
                shutil.rmtree(target / f"copy{index}", ignore_errors=True)
                shutil.copytree(corpus, target / f"copy{index}", symlinks=True)
    return target


def _mb(value: float) -> str:
    return f"{value / 2**20:,.0f} MB"


def report(measures: list[Measure]) -> str:
    lines = [f"{'mode':<8} {'input':<18} {'tool':<26} {'wall s':>8} {'cpu s':>8} {'peak RSS':>9} "
             f"{'tree PSS':>9} {'runs':>4} {'cal ms':>7}"]
    for m in measures:
        lines.append(f"{m.mode:<8} {m.label:<18} {m.tool:<26} {m.median('wall'):>8.2f} {m.median('cpu'):>8.2f} "
                     f"{_mb(m.median('peak_rss')):>9} {_mb(m.median('tree_rss')):>9} {len(m.runs):>4} "
                     f"{m.median('calibration_ms'):>7.0f}")
    by_key: dict[tuple[str, str], dict[str, Measure]] = {}
    for m in measures:
        by_key.setdefault((m.mode, m.label), {})[m.tool] = m
    ratios = []
    for (mode, label), tools in by_key.items():
        theirs = tools.get("checkov")
        for tool, ours in tools.items():
            if theirs is None or tool == "checkov":
                continue
            ratio = {name: theirs.median(name) / max(ours.median(name), 1e-9)
                     for name in ("wall", "cpu", "peak_rss", "tree_rss")}
            ratios.append(f"{mode:<8} {label:<18} Checkov / {tool}: wall {ratio['wall']:.1f}x, "
                          f"cpu {ratio['cpu']:.1f}x, peak RSS {ratio['peak_rss']:.1f}x, "
                          f"tree PSS {ratio['tree_rss']:.1f}x")
    if ratios:
        lines += ["", *ratios]
    return "\n".join(lines + _growth(measures)) + "\n"


def _growth(measures: list[Measure]) -> list[str]:
    """For the linear mode: how each tool's median wall and CPU time grow from one copy count to the next."""
    lines = []
    by_tool: dict[str, list[Measure]] = {}
    for m in measures:
        if m.mode == "linear":
            by_tool.setdefault(m.tool, []).append(m)
    for tool, steps in by_tool.items():
        for smaller, larger in zip(steps, steps[1:]):
            lines.append(f"linear   {tool}: {smaller.label} -> {larger.label}: wall "
                         f"{larger.median('wall') / max(smaller.median('wall'), 1e-9):.2f}x, cpu "
                         f"{larger.median('cpu') / max(smaller.median('cpu'), 1e-9):.2f}x")
    return ["", *lines] if lines else []


def _measure_group(group: list[tuple[str, str, list[Path]]], variants: list[list[str]], env: dict[str, str],
                   report_file: Path, args: argparse.Namespace, checkov_modes: set[str]) -> list[Measure]:
    """Every tool on every input of the group, ``args.repeat`` times, alternating inputs and tools run by run."""
    plans = []
    for mode, label, paths in group:
        tools = {" ".join(["servegate", *extra]): (servegate_command(paths, report_file, extra), env)
                 for extra in variants}
        if mode in checkov_modes:
            tools["checkov"] = (checkov_command(args.checkov, paths), dict(os.environ))
        if args.warm_up:
            sys.stderr.write(f"{mode}: {label}: warming up {', '.join(tools)}\n")
            for command, tool_env in tools.values():
                measure(command, tool_env)
        plans.append((mode, label, tools, {tool: Measure(mode, label, tool, []) for tool in tools}))
    for repetition in range(args.repeat):
        for mode, label, tools, results in plans:
            for tool, (command, tool_env) in tools.items():
                run = measure(command, tool_env)
                results[tool].runs.append(run)
                sys.stderr.write(f"{mode}: {label}: {tool} run {repetition + 1}: {run.wall:.2f} s wall, "
                                 f"{run.cpu:.2f} s cpu, {_mb(run.peak_rss)}, calibration "
                                 f"{run.calibration_ms:.0f} ms before, {run.calibration_after_ms:.0f} after\n")
    return [m for _, _, _, results in plans for m in results.values()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="*", type=Path, help="more folders to scan in the corpus mode")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--mode", action="append", choices=MODES, help="what to measure (repeatable; default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool and input; the median is reported")
    parser.add_argument("--checkov", default=shutil.which("checkov"), help="the checkov executable")
    parser.add_argument("--checkov-modes", default=",".join(MODES),
                        help="modes in which Checkov runs too (comma-separated; default: all)")
    parser.add_argument("--small", type=Path, default=SMALL_MANIFEST, help="the manifest of the small mode")
    parser.add_argument("--servegate-args", action="append", metavar="ARGS",
                        help="extra scan options, one measured variant per value (default: none)")
    parser.add_argument("--json", type=Path, help="also write every run as JSON to this file")
    parser.add_argument("--no-warm-up", dest="warm_up", action="store_false",
                        help="skip the warm-up run per mode (when the caches are known to be warm: a Checkov run on "
                             "the Kubernetes repositories takes about 23 minutes)")
    args = parser.parse_args()
    modes = args.mode or list(MODES)
    checkov_modes = set(args.checkov_modes.split(",")) if args.checkov else set()
    variants = [shlex.split(value) for value in (args.servegate_args or [""])]
    if not args.corpus.is_dir() and any(m != "small" for m in modes):
        raise SystemExit(f"corpus not found: {args.corpus} (pass --corpus)")

    measures: list[Measure] = []
    with tempfile.TemporaryDirectory(prefix="servegate-speed-") as tmp:
        workdir = Path(tmp)
        env = servegate_env(workdir / "pycache")
        report_file = workdir / "report.json"
        # Inputs measured together, run by run in turn: the linear mode's copy counts form one group, so that
        # a change in the machine's speed hits each count alike instead of the last one.
        groups: list[list[tuple[str, str, list[Path]]]] = []
        for mode in modes:
            if mode == "corpus":
                groups.append([(mode, "corpus", [args.corpus, *args.folders])])
            elif mode == "k8s":
                groups.append([(mode, "kubernetes repos", kubernetes_repositories(args.corpus))])
            elif mode == "small":
                groups.append([(mode, args.small.name, [args.small])])
            else:
                groups.append([(mode, f"corpus x{count}", [copies(args.corpus, count, workdir)])
                               for count in (1, 2, 4)])
        for group in groups:
            measures.extend(_measure_group(group, variants, env, report_file, args, checkov_modes))
    sys.stdout.write(report(measures))
    if args.json:
        args.json.write_text(json.dumps([asdict(m) for m in measures], indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
