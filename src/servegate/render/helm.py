"""Helm charts rendered offline by real Helm, so their templates are scanned as the manifests they produce.

Renderer, in order of preference:

1. ``helm-python-sdk`` (``pip install 'servegate[helm]'``): Helm 4's Go SDK, about 0.4 ms per render once
   loaded (the research notes measured 244 MB installed, 58 ms to import). It runs in worker processes
   started by ``spawn`` (``helm_worker.py``), never in the scanning process: a Go runtime does not survive
   ``fork``, and the scan forks its rule workers later.
2. a ``helm`` binary on PATH (``helm template``, about 42 ms per chart).

Charts render concurrently with the scan recording the ones done (one ``helm template`` per core; with the
SDK, one worker that others join, up to one per core, when charts are slow to render), each within
RENDER_TIMEOUT. The scan records them in path order, so its output does not depend on which render ends first.

Either way the release is ``release-name`` in namespace ``default`` (what ``helm template`` assumes),
values are the chart's ``values.yaml``, then every ``--helm-values`` file in order, then every
``--helm-set``. Nothing is installed, so no hook runs: hook manifests are rendered and scanned like the
others, because the cluster runs them at install time. Dependencies are never fetched: the chart renders
with what is vendored under ``charts/``, and a declared dependency that is missing there (and not
disabled by its ``condition`` or ``tags``) is an input error. A subchart folder (``charts/x``) is
rendered only through the chart that vendors it, with that chart's values.
"""

from __future__ import annotations

import importlib.util
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from servegate.findings import InputError, Location, Skipped
from servegate.model.k8s import UNREAD_KINDS, is_wanted_document, objects_in
from servegate.discover import SourceFile
from servegate.render import HELM_SKIP_REASON, Displays, RenderOptions, Rendering, offline_environment
from servegate.render import helm_worker
from servegate.render.helm_worker import NAMESPACE, RELEASE_NAME, RenderError, merge_values
from servegate.render.mapping import HelmSourceMap, TemplateOutline, ValuesIndex, ValuesSource, as_rendered
from servegate.sources.located import format_path
from servegate.sources.yaml_loader import blank_documents_of_kinds, load_documents

INSTALL_HINT = ("install a Helm renderer (`pip install 'servegate[helm]'`, or put `helm` on PATH), "
                "or pass --skip-render to scan without charts")
RENDER_TIMEOUT = 120  # seconds, per chart
GROW_AFTER = 0.5  # seconds charts render before another SDK worker starts; starting one takes about 0.3 s

# What rendering one chart gave: its manifests by template name, or the exception that stopped it.
Outcome = dict[str, str] | Exception


def chart_folder(template: Path) -> Path:
    """The chart a template belongs to: the folder above ``templates/`` (discovery guarantees one)."""
    for folder in template.parents:
        if folder.name == "templates" and (folder.parent / "Chart.yaml").is_file():
            return folder.parent
    raise ValueError(f"{template} is not inside a chart's templates/ folder")


def top_chart(chart: Path) -> Path:
    """A vendored subchart (``parent/charts/x``) renders only as part of its parent."""
    while chart.parent.name == "charts" and (chart.parent.parent / "Chart.yaml").is_file():
        chart = chart.parent.parent
    return chart


def renderer() -> str | None:
    """``"sdk"`` for helm-python-sdk, the path of a ``helm`` binary, or None."""
    if importlib.util.find_spec("helm_python") is not None:
        return "sdk"
    return shutil.which("helm")


def render_charts(displays: Displays, templates: list[SourceFile], options: RenderOptions,
                  rendering: Rendering) -> None:
    by_chart: dict[Path, set[str]] = {}
    for template in templates:
        by_chart.setdefault(top_chart(chart_folder(template.path)), set()).add(template.display)
    if not by_chart:
        return
    tool = None if options.skip_render else renderer()
    if tool is None:
        for chart, wanted in sorted(by_chart.items()):
            rendering.skipped.extend(Skipped(display, HELM_SKIP_REASON) for display in sorted(wanted))
            if not options.skip_render:
                rendering.errors.append(InputError(
                    displays(chart / "Chart.yaml"), 0,
                    f"Helm chart not rendered, so its {len(wanted)} templates were not scanned: {INSTALL_HINT}"))
        return
    user_files = _values_files(options.helm_values, displays, rendering)
    plans = {chart: _plan_chart(chart, wanted, user_files) for chart, wanted in sorted(by_chart.items())}
    to_render = [plan for plan in plans.values() if isinstance(plan, _ChartPlan) and not plan.is_library]
    with closing(_render_concurrently(tool, to_render, options)) as finished:
        for chart, outcome in _in_order(list(plans), {plan.chart for plan in to_render}, finished):
            try:
                _record_chart(displays, plans[chart], outcome, options, user_files, rendering)
            except RenderError as exc:
                rendering.errors.append(InputError(displays(chart / "Chart.yaml"), 0,
                                                   f"Helm could not render the chart: {exc}"))


def _values_files(paths: tuple[Path, ...], displays: Displays, rendering: Rendering) -> list[ValuesSource]:
    """The ``--helm-values`` files, read with positions (for related locations) in the order given."""
    sources = []
    for path in paths:
        try:
            documents, error = load_documents(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            rendering.errors.append(InputError(str(path), 0, f"cannot read Helm values file: {exc}"))
            continue
        if error is not None:
            rendering.errors.append(InputError(displays(path), error.line, error.message))
            continue
        data = documents[0].data if documents else {}
        if not isinstance(data, dict):
            rendering.errors.append(InputError(displays(path), 0, "a Helm values file must be a mapping"))
            continue
        sources.append(ValuesSource(displays(path), data))
    return sources


def _plain(data: Any) -> Any:
    """Positions stripped: what goes to Helm is JSON."""
    return json.loads(json.dumps(data))


def _set_keys(expressions: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The keys ``--set a.b=c,d=e`` sets (only to know that no file set them)."""
    keys = []
    for expression in expressions:
        for assignment in re.split(r",(?![^{]*\})", expression):
            name = assignment.split("=", 1)[0].strip()
            if name:
                keys.append(tuple(re.sub(r"\[\d+\]", "", part) for part in re.split(r"(?<!\\)\.", name)))
    return keys


def _chart_yaml(chart: Path) -> dict:
    try:
        data = yaml.safe_load((chart / "Chart.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RenderError(f"cannot read Chart.yaml: {exc}") from None
    return data if isinstance(data, dict) else {}


def _dependencies(chart: Path, meta: dict) -> list[dict]:
    deps = meta.get("dependencies")
    if deps is None and (chart / "requirements.yaml").is_file():  # apiVersion v1 charts
        try:
            deps = (yaml.safe_load((chart / "requirements.yaml").read_text(encoding="utf-8")) or {}).get("dependencies")
        except (OSError, UnicodeDecodeError, yaml.YAMLError, AttributeError):
            deps = None
    return [d for d in deps if isinstance(d, dict) and d.get("name")] if isinstance(deps, list) else []


def _vendored(chart: Path) -> dict[str, Path]:
    """Charts vendored under ``charts/``, by chart name: folders, and ``.tgz`` archives (read, not unpacked)."""
    found: dict[str, Path] = {}
    folder = chart / "charts"
    if not folder.is_dir():
        return found
    for entry in sorted(folder.iterdir()):
        name = None
        if entry.is_dir() and (entry / "Chart.yaml").is_file():
            try:
                name = (yaml.safe_load((entry / "Chart.yaml").read_text(encoding="utf-8")) or {}).get("name")
            except (OSError, UnicodeDecodeError, yaml.YAMLError, AttributeError):
                name = entry.name
        elif entry.name.endswith((".tgz", ".tar.gz")):
            name = _archive_chart_name(entry)
        if isinstance(name, str) and name:
            found.setdefault(name, entry)
    return found


def _archive_chart_name(archive: Path) -> str | None:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.isfile() and member.name.count("/") == 1 and member.name.endswith("/Chart.yaml"):
                    handle = tar.extractfile(member)
                    meta = yaml.safe_load(handle.read(1_000_000)) if handle else None
                    return meta.get("name") if isinstance(meta, dict) else None
    except (OSError, tarfile.TarError, yaml.YAMLError):
        return None
    return None


def _lookup(values: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(values, dict) or part not in values:
            return None
        values = values[part]
    return values


def dependency_enabled(dep: dict, values: dict) -> bool:
    """Helm's rule: the first ``condition`` path holding a boolean decides; else any true tag enables, and
    tags that are all false disable."""
    for path in str(dep.get("condition") or "").split(","):
        value = _lookup(values, path.strip()) if path.strip() else None
        if isinstance(value, bool):
            return value
    states = [_lookup(values, f"tags.{tag}") for tag in dep.get("tags") or () if isinstance(tag, str)]
    states = [s for s in states if isinstance(s, bool)]
    return not states or any(states)


def _subchart_folders(chart: Path, meta: dict, vendored: dict[str, Path]) -> dict[str, Path]:
    """How Helm names each vendored subchart in its output (its alias, else its name) -> its folder."""
    folders = {name: path for name, path in vendored.items() if path.is_dir()}
    for dep in _dependencies(chart, meta):
        if dep.get("alias") and dep.get("name") in folders:
            folders[str(dep["alias"])] = folders[dep["name"]]
    return folders


@dataclass
class _ChartPlan:
    """What the scan reads of a chart before Helm renders it."""

    chart: Path
    wanted: set[str]  # display names of the templates to scan
    meta: dict  # Chart.yaml
    user: dict = field(default_factory=dict)  # the --helm-values files merged, as JSON
    vendored: dict[str, Path] = field(default_factory=dict)
    missing: list[dict] = field(default_factory=list)  # enabled dependencies not vendored: rendered without

    @property
    def is_library(self) -> bool:
        return self.meta.get("type") == "library"


def _plan_chart(chart: Path, wanted: set[str], user_files: list[ValuesSource]) -> _ChartPlan | Exception:
    """The chart's plan, or the exception that stopped reading it: raised at the chart's turn to be recorded,
    so that the report is the same as if each chart were read, rendered and recorded in turn."""
    try:
        plan = _ChartPlan(chart, wanted, _chart_yaml(chart))
        if plan.is_library:
            return plan
        for source in user_files:
            plan.user = merge_values(plan.user, _plain(source.doc))
        plan.vendored = _vendored(chart)
        effective = merge_values(_plain(_chart_values(chart) or {}), plan.user)
        plan.missing = [d for d in _dependencies(chart, plan.meta)
                        if d["name"] not in plan.vendored and dependency_enabled(d, effective)]
        return plan
    except Exception as exc:  # noqa: BLE001 - raised again by _record_chart, in chart order
        return exc


def _record_chart(displays: Displays, plan: _ChartPlan | Exception, outcome: Outcome | None,
                  options: RenderOptions, user_files: list[ValuesSource], rendering: Rendering) -> None:
    if isinstance(plan, Exception):
        raise plan
    chart, wanted, meta, vendored = plan.chart, plan.wanted, plan.meta, plan.vendored
    chart_yaml = displays(chart / "Chart.yaml")
    if plan.is_library:
        rendering.skipped.extend(Skipped(d, "template of a Helm library chart (rendered by the charts using it)")
                                 for d in sorted(wanted))
        return
    for dep in plan.missing:
        rendering.errors.append(InputError(
            chart_yaml, 0, f"dependency `{dep['name']}` is declared but not vendored in charts/ (servegate never "
                           "fetches charts; run `helm dependency build` first): the chart was rendered without it"))
    if isinstance(outcome, Exception):
        raise outcome
    assert outcome is not None  # every chart but a library chart is rendered
    manifests = outcome
    folders = _subchart_folders(chart, meta, vendored)
    outlines: dict[Path, TemplateOutline] = {}
    values_by_chain: dict[tuple[str, ...], ValuesIndex] = {}
    for key, text in sorted(manifests.items()):
        if not key.endswith((".yaml", ".yml", ".json")) or not text.strip():
            continue  # NOTES.txt, and templates an `if` left empty
        template, chain = _template_file(chart, key, folders)
        display = displays(template) if template is not None else chart_yaml
        if template is not None and display not in wanted:
            continue  # left out by --exclude, or not among the paths asked for
        documents, error = load_documents(blank_documents_of_kinds(text, UNREAD_KINDS), is_wanted_document)
        if error is not None:
            rendering.errors.append(InputError(display, 0, f"Helm rendered output that is not valid YAML "
                                                           f"({error.message}, line {error.line} of the output)"))
        source_map = None
        if template is not None and documents:  # not for templates of CRDs only, blanked unread
            if template not in outlines:
                try:
                    outlines[template] = TemplateOutline(template.read_text(encoding="utf-8", errors="replace"))
                except OSError:
                    outlines[template] = TemplateOutline("")  # Helm read it a moment ago; map to line 1
            if chain not in values_by_chain:
                values_by_chain[chain] = ValuesIndex(_values_sources(displays, chart, chain, user_files),
                                                     _set_keys(options.helm_set) if not chain else [])
            source_map = HelmSourceMap(display, outlines[template], values_by_chain[chain])
        for document in documents:
            for obj in objects_in(display, document.data):
                rendered = as_rendered(obj, source_map) if source_map is not None else \
                    as_rendered(obj, _FixedSource(Location(chart_yaml, 1), key))
                rendering.objects.append(rendered)
                rendering.deployed_by.setdefault(rendered.ref, chart_yaml)


class _FixedSource:
    """Objects of a subchart vendored as an archive: no file to point into but the parent's Chart.yaml."""

    def __init__(self, where: Location, key: str) -> None:
        self.where, self.key = where, key

    def locate(self, obj: Any, path: Any, scalar_line: int | None) -> Location:
        return Location(self.where.file, self.where.line, 1, self.where.line, 0, f"{self.key}:{format_path(path)}")

    def provenance(self, obj: Any, path: Any) -> list:
        return []


def _chart_values(chart: Path) -> Any:
    try:
        documents, _ = load_documents((chart / "values.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return {}
    return documents[0].data if documents and isinstance(documents[0].data, dict) else {}


def _values_sources(displays: Displays, chart: Path, chain: tuple[str, ...],
                    user_files: list[ValuesSource]) -> list[ValuesSource]:
    """Where a template's ``.Values`` come from, highest precedence first. A subchart's values sit under
    its name in the parent's values, and default to its own values.yaml."""
    sources = [ValuesSource(s.display, s.doc, chain) for s in reversed(user_files)]
    folder = chart
    for depth in range(len(chain) + 1):
        sources.append(ValuesSource(displays(folder / "values.yaml"), _chart_values(folder),
                                                     chain[depth:], defaults=depth == len(chain)))
        if depth < len(chain):
            meta = _chart_yaml(folder)
            folder = _subchart_folders(folder, meta, _vendored(folder)).get(chain[depth], folder)
    return sources


def _template_file(chart: Path, key: str, folders: dict[str, Path]) -> tuple[Path | None, tuple[str, ...]]:
    """The file behind a rendered template name (``mychart/charts/sub/templates/x.yaml``), and the
    subchart chain it sits in. None when the subchart is vendored as an archive."""
    parts = key.split("/")[1:]
    folder, chain = chart, []
    while len(parts) > 2 and parts[0] == "charts":
        sub = folders.get(parts[1])
        if sub is None:
            return None, tuple(chain)
        chain.append(parts[1])
        folder, parts = sub, parts[2:]
        folders = _subchart_folders(folder, _chart_yaml(folder), _vendored(folder))
    path = folder.joinpath(*parts)
    return (path if path.is_file() else None), tuple(chain)


def _render_concurrently(tool: str, plans: list[_ChartPlan],
                         options: RenderOptions) -> Generator[tuple[Path, Outcome], None, None]:
    """Each chart with its outcome, in the order the renders end."""
    if not plans:
        return  # no pool and no worker to start
    if tool == "sdk":
        yield from _render_in_workers({plan.chart: (str(plan.chart), plan.user, options.helm_set) for plan in plans})
    else:
        yield from _render_in_threads(Path(tool), plans, options)


def _in_order(charts: list[Path], rendered: set[Path],
              finished: Iterable[tuple[Path, Outcome]]) -> Iterator[tuple[Path, Outcome | None]]:
    """Every chart with its outcome (None when it is not rendered) in ``charts`` order, each as soon as it
    and the charts before it are done: the scan records one chart while the next ones still render."""
    ready: dict[Path, Outcome] = {}
    pending = iter(finished)
    for chart in charts:
        while chart in rendered and chart not in ready:
            done, outcome = next(pending)
            ready[done] = outcome
        yield chart, ready.pop(chart, None)


def _width(charts: int) -> int:
    """How many charts to render at once: one per core at most, since each render keeps its core busy."""
    return max(1, min(charts, os.cpu_count() or 1))


def _outcome(future: Future) -> Outcome:
    error = future.exception()
    return error if error is not None else future.result()


def _render_in_threads(helm: Path, plans: list[_ChartPlan],
                       options: RenderOptions) -> Generator[tuple[Path, Outcome], None, None]:
    """``helm template`` runs in a process of its own (with its own time limit): a thread only waits for it."""
    threads = ThreadPoolExecutor(_width(len(plans)))
    try:
        futures = {threads.submit(_render_with_binary, helm, plan.chart, options, {d["name"] for d in plan.missing}):
                   plan.chart for plan in plans}
        for future in as_completed(futures):
            yield futures[future], _outcome(future)
    finally:
        threads.shutdown(cancel_futures=True)


def _render_in_workers(jobs: dict[Path, tuple], work: Callable[..., dict[str, str]] = helm_worker.render_chart
                       ) -> Generator[tuple[Path, Outcome], None, None]:
    """``work(*job)`` for every chart (``helm_worker.render_chart``, or a stand-in in tests), in worker
    processes started by ``spawn``.

    Once helm_python is loaded most charts render in a few milliseconds, far less than a worker takes to
    start: one worker renders them one after another while this process records the ones done, and another
    worker (up to one per core) joins only when every chart in flight has rendered for GROW_AFTER seconds
    while others wait.

    A chart still rendering after RENDER_TIMEOUT, or whose worker dies, gets a RenderError, and a new pool
    takes over the charts that were cut off with it. A worker that dies while several charts are in flight
    does not say which one killed it: from then on charts render one at a time, so that the next death
    names its chart and the others still render.
    """
    waiting = list(jobs)
    most = _width(len(waiting))
    while waiting:
        if (yield from _render_batch(jobs, waiting, min(most, len(waiting)), work)):
            most = 1


# What a pool has in flight: each chart's future -> the chart, and when it was submitted.
_InFlight = dict[Future, tuple[Path, float]]


def _render_batch(jobs: dict[Path, tuple], waiting: list[Path], most: int,
                  work: Callable[..., dict[str, str]]) -> Generator[tuple[Path, Outcome], None, bool]:
    """Renders the ``waiting`` charts in one pool of up to ``most`` workers, yielding each outcome and taking
    its chart off ``waiting``, until all are done or the pool stops. Returns whether the pool stopped because
    a worker died while several charts were in flight, none of which can be blamed."""
    pool = _spawn_pool(most)  # it starts a worker when a chart is submitted and no worker is idle
    queue = list(waiting)
    in_flight: _InFlight = {}
    width = 1
    try:
        while queue or in_flight:
            try:
                while queue and len(in_flight) < width:  # no more charts than workers: a chart's time runs now
                    future = pool.submit(work, *jobs[queue[0]])
                    in_flight[future] = (queue.pop(0), time.monotonic())
            except BrokenProcessPool:  # a worker died between two charts
                return (yield from _stop(pool, in_flight, waiting, timed_out=False))
            may_grow = bool(queue) and width < most
            done, _ = wait(in_flight, timeout=_until_next_check(in_flight, may_grow), return_when=FIRST_COMPLETED)
            if any(isinstance(future.exception(), BrokenProcessPool) for future in done):
                return (yield from _stop(pool, in_flight, waiting, timed_out=False))
            if not done and _rendered_for(in_flight, RENDER_TIMEOUT, any):
                return (yield from _stop(pool, in_flight, waiting, timed_out=True))
            if not done and may_grow and _rendered_for(in_flight, GROW_AFTER, all):
                width += 1
            for future in done:
                chart, _ = in_flight.pop(future)
                waiting.remove(chart)
                yield chart, _outcome(future)
        return False
    except BaseException:  # including the scan closing this generator early: no worker outlives it
        _kill_workers(pool)
        raise
    finally:
        pool.shutdown(cancel_futures=True)


def _spawn_pool(width: int) -> ProcessPoolExecutor:
    # spawn, not fork: a worker starts from a fresh interpreter rather than a copy of the scan (its memory
    # and threads), and imports only helm_worker and helm_python. Its environment is offline_environment(),
    # like the helm binary's, though rendering reaches no network anyway.
    return ProcessPoolExecutor(width, mp_context=multiprocessing.get_context("spawn"),
                               initializer=helm_worker.use_environment, initargs=(offline_environment(),))


def _until_next_check(in_flight: _InFlight, may_grow: bool) -> float:
    """Seconds until the first chart in flight runs out of time, or (when the pool may grow) until all of
    them have rendered for GROW_AFTER."""
    submitted = [when for _, when in in_flight.values()]
    check = min(submitted) + RENDER_TIMEOUT
    if may_grow:
        check = min(check, max(submitted) + GROW_AFTER)
    return max(0.0, check - time.monotonic())


def _rendered_for(in_flight: _InFlight, seconds: float, which: Callable[[Iterable[bool]], bool]) -> bool:
    """Whether ``which`` (any, all) of the charts in flight have been rendering for ``seconds``."""
    now = time.monotonic()
    return which(now - when >= seconds for _, when in in_flight.values())


def _stop(pool: ProcessPoolExecutor, in_flight: _InFlight, waiting: list[Path],
          timed_out: bool) -> Generator[tuple[Path, Outcome], None, bool]:
    """Stops the pool, because a chart ran out of time or a worker died (which breaks the whole pool), and
    settles the charts in flight: a chart that finished keeps its outcome, a chart out of time gets a
    RenderError, and so does the only chart in flight when a worker died. The others go back to waiting,
    for the next pool. Returns whether a death could not be blamed on a single chart."""
    now = time.monotonic()
    _kill_workers(pool)  # the one that ran out of time is among them, but ProcessPoolExecutor does not say which
    wait(in_flight)
    cut_off = []
    for future, (chart, submitted) in in_flight.items():
        if not isinstance(future.exception(), BrokenProcessPool):
            outcome = _outcome(future)
        elif now - submitted >= RENDER_TIMEOUT:
            outcome = RenderError(f"rendering `{chart.name}` took longer than {RENDER_TIMEOUT} seconds, "
                                  "so its helm-python-sdk worker was stopped")
        else:
            cut_off.append(chart)
            continue
        waiting.remove(chart)
        yield chart, outcome
    if timed_out or len(cut_off) != 1:
        return not timed_out and len(cut_off) > 1
    waiting.remove(cut_off[0])
    yield cut_off[0], RenderError(f"the helm-python-sdk worker rendering `{cut_off[0].name}` died (a crash in "
                                  "the native Helm library, or the process was killed)")
    return False


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    # ProcessPoolExecutor cannot stop a task already running; _processes has held its workers since Python 3.2
    # (3.14 adds kill_workers()).
    for process in list((pool._processes or {}).values()):
        process.kill()


def _render_with_binary(helm: Path, chart: Path, options: RenderOptions, missing: set[str]) -> dict[str, str]:
    with tempfile.TemporaryDirectory(prefix="servegate-helm-") as scratch:
        target = chart
        if missing:  # `helm template` refuses a chart with missing dependencies: render a copy without them
            target = Path(scratch) / chart.name
            shutil.copytree(chart, target, symlinks=True, ignore=shutil.ignore_patterns(".git"))
            meta = _chart_yaml(chart)
            meta["dependencies"] = [d for d in _dependencies(chart, meta) if d["name"] not in missing]
            (target / "Chart.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
            (target / "Chart.lock").unlink(missing_ok=True)
        command = [str(helm), "template", RELEASE_NAME, str(target.resolve()), "--namespace", NAMESPACE]
        for path in options.helm_values:
            command += ["--values", str(path.resolve())]
        for expression in options.helm_set:
            command += ["--set", expression]
        env = offline_environment() | {"HELM_CACHE_HOME": scratch, "HELM_CONFIG_HOME": scratch,
                                       "HELM_DATA_HOME": scratch}
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=RENDER_TIMEOUT, env=env,
                                  stdin=subprocess.DEVNULL, cwd=scratch)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RenderError(f"{helm} failed: {exc}") from None
    if done.returncode != 0:
        raise RenderError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}")
    return split_sources(done.stdout)


_SOURCE_COMMENT = re.compile(r"^# Source: (\S.*?)\s*$", re.MULTILINE)
_SEPARATOR = re.compile(r"^---[ \t]*$", re.MULTILINE)


def split_sources(stream: str) -> dict[str, str]:
    """``helm template`` output, grouped by the ``# Source:`` comment Helm writes atop each document."""
    by_template: dict[str, str] = {}
    for chunk in _SEPARATOR.split(stream):
        match = _SOURCE_COMMENT.search(chunk)
        if match:
            by_template[match.group(1)] = by_template.get(match.group(1), "") + "---\n" + chunk
    return by_template
