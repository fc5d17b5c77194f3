"""Helm charts and Kustomize overlays, rendered by the real tools and scanned as what they deploy.

A chart's templates and an overlay's bases are not the manifests a cluster receives: the chart's values
and the overlay's patches decide that. This package renders them offline (``helm.py``, ``kustomize.py``)
and hands the pipeline objects whose findings point back at the template line or the base/patch line
that produced them (``mapping.py``).

Both renderers are optional extras. When one is needed and missing, every chart or overlay it would have
rendered is an input error (the run fails closed) unless ``--skip-render`` says to scan without it: what
was not scanned never passes green.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from servegate.discover import SourceFile
from servegate.findings import Finding, InputError, Location, Related, Skipped
from servegate.model.k8s import K8sObject

HELM_SKIP_REASON = "Helm chart template (needs rendering, not plain YAML)"
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


@dataclass(frozen=True)
class RenderOptions:
    helm_values: tuple[Path, ...] = ()  # -f files, applied in order to every chart of the scan
    helm_set: tuple[str, ...] = ()  # --set expressions, applied after the values files
    skip_render: bool = False  # scan without rendering: chart templates skipped, overlays read as plain YAML
    max_file_size: int | None = None  # bytes: an overlay naming a larger file is not built (the scan's limit)


@dataclass
class Rendering:
    """What rendering adds to a scan, and which plain files its output replaces."""

    objects: list[K8sObject] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    consumed: set[str] = field(default_factory=set)  # files whose objects the built output already holds
    deployed_by: dict[str, str] = field(default_factory=dict)  # rendered object ref -> what deployed it


# Renderers are Go programs, several at a time on few cores: one Go thread each (more only spin when idle), and
# their small, short-lived heaps collected at 3x the live size rather than 2x. Measured on the corpus, Kustomize
# builds included: about 15% less CPU. At 5x, slightly less CPU but 30 MB more peak memory. Settings in the
# environment win.
GO_RUNTIME_DEFAULTS = {"GOMAXPROCS": "1", "GOGC": "200"}


def offline_environment() -> dict[str, str]:
    """The environment for a renderer process: any attempt to reach the network goes to a closed local port,
    git may use local files only, and nothing prompts."""
    dead = "http://127.0.0.1:9"
    return GO_RUNTIME_DEFAULTS | dict(os.environ) | {
        "HTTP_PROXY": dead, "HTTPS_PROXY": dead, "ALL_PROXY": dead, "http_proxy": dead, "https_proxy": dead,
        "all_proxy": dead, "NO_PROXY": "", "no_proxy": "", "GIT_ALLOW_PROTOCOL": "file", "GIT_TERMINAL_PROMPT": "0",
        "KUBECONFIG": os.devnull,
    }


class Displays:
    """Names files as discovery did (relative to the scan root, or as given), so that rendered objects and
    plain ones agree on what a file is called; a file discovery did not list is named relative to the
    root when inside it, else by its absolute path."""

    def __init__(self, root: Path, files: list[SourceFile]) -> None:
        self.root = os.path.abspath(root)
        self.known = {os.path.abspath(f.path): f.display for f in files}

    def __call__(self, path: Path | str) -> str:
        absolute = os.path.abspath(path)
        if absolute in self.known:
            return self.known[absolute]
        relative = os.path.relpath(absolute, self.root)
        return Path(absolute if relative.startswith("..") else relative).as_posix()


def start_rendering(root: Path, files: list[SourceFile], options: RenderOptions) -> PendingRendering:
    """Start building the Kustomize overlays and rendering the Helm charts among the discovered ``files``.

    Both run in background threads (their real work happens in Kustomize's and Helm's own processes) while
    the scan loads its plain files; ``PendingRendering.finish`` waits for them.
    """
    from servegate.render import helm, kustomize  # subprocess and tarfile only when there is work

    displays = Displays(root, files)

    def render_charts() -> Rendering:
        charts = Rendering()
        helm.render_charts(displays, [f for f in files if f.kind == "helm"], options, charts)
        return charts

    return PendingRendering(
        overlays=_Stage("Kustomize overlays", lambda: kustomize.build_overlays(
            displays, [f for f in files if f.kind == "yaml"], options)),
        charts=_Stage("Helm charts", render_charts))


class _Stage:
    """One rendering stage running in a thread of its own; ``result`` waits for what it returned."""

    def __init__(self, name: str, work: Callable[[], Any]) -> None:
        self.name, self._work = name, work
        self._value: Any = None
        self._error: Exception | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._work()
        except Exception as exc:  # noqa: BLE001 - handed to the scanning thread by result()
            self._error = exc

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


@dataclass
class PendingRendering:
    overlays: _Stage  # gives kustomize.BuiltOverlays
    charts: _Stage  # gives the charts' Rendering

    def finish(self, objects_by_file: dict[str, list[K8sObject]],
               load_file: Callable[[Path, str], list[K8sObject]]) -> Rendering:
        """What rendering gave, overlays first, then charts, as if each had run in turn.

        ``objects_by_file`` are the plain objects the scan loaded, by file name, which Kustomize output maps
        back into; ``load_file(path, name)`` loads a file the scan did not include (a base outside the root).
        """
        rendering = Rendering()
        problems: list[InputError] = []

        def reported(stage: _Stage, step: Callable[[], Any]) -> Any:
            try:
                return step()
            except Exception as exc:  # noqa: BLE001 - report, and keep the rest of the scan
                problems.append(InputError("<render>", 0, f"internal error rendering {stage.name}: "
                                                          f"{type(exc).__name__}: {exc}"))
                return None

        reported(self.overlays, lambda: self.overlays.result().record(objects_by_file, load_file, rendering))
        charts = reported(self.charts, self.charts.result) or Rendering()
        rendering.objects += charts.objects
        rendering.errors += problems + charts.errors
        rendering.skipped += charts.skipped
        rendering.consumed |= charts.consumed
        for ref, by in charts.deployed_by.items():
            rendering.deployed_by.setdefault(ref, by)
        return rendering


def collapse_repeats(findings: list[Finding], deployed_by: dict[str, str]) -> list[Finding]:
    """One finding per source line for what several renders produce from the same place.

    A base built by three overlays, or a template looped over three workers, is one line to fix: report it
    once, with a related location naming each other object it produced.
    """
    groups: dict[tuple, list[Finding]] = defaultdict(list)
    kept: list[Finding] = []
    for finding in findings:
        if finding.resource in deployed_by:
            loc = finding.location
            groups[(finding.rule_id, loc.file, loc.line, loc.column, loc.path)].append(finding)
        else:
            kept.append(finding)
    for group in groups.values():
        first, *others = group
        related = list(first.related)
        for other in others:
            related += [r for r in other.related if r not in related]
            if other.resource != first.resource:
                related.append(Related(Location(deployed_by[other.resource], 1), f"also produces {other.resource}"))
        kept.append(dataclasses.replace(first, related=tuple(related)))
    return sorted(kept, key=Finding.sort_key)
