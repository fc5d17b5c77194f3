"""Rules over the model, on one core or several.

The work is a fixed list of tasks (each object with its pods and containers, each inventory rule, each
graph rule, each Terraform resource). With several workers, the tasks are dealt round-robin to processes
forked once the model is built: they inherit it without copying or pickling, evaluate their share and
send back findings tagged with the task's number, so the merged list is in exactly the order one process
gives, whatever the number of workers. Forking is safe because the scanning process never loads a Go
runtime (Helm renders and Rego policies run in processes of their own) and has no thread running then.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from servegate.findings import Finding, InputError, Related
from servegate.fix.resolve import FixSources
from servegate.model.graph import link_layers
from servegate.model.k8s import Inventory
from servegate.model.terraform.inventory import TfInventory
from servegate.model.workloads import pod_specs
from servegate.rules.base import Hit, Located, Rule, Scope

# Below this many tasks, forking costs more than it saves.
PARALLEL_THRESHOLD = 2000

Outcome = tuple[list[Finding], list[InputError]]


@dataclass
class _Work:
    inventory: Inventory
    tf_inventory: TfInventory | None
    fix_sources: FixSources | None
    by_scope: dict[Scope, list[Rule]]

    def tasks(self) -> list[Callable[[], Outcome]]:
        tasks: list[Callable[[], Outcome]] = [lambda obj=obj: self._object(obj) for obj in self.inventory.objects]
        tasks += [lambda rule=rule: self._run(rule, None, self.inventory) for rule in self.by_scope[Scope.INVENTORY]]
        tasks += [lambda rule=rule: self._graph_rule(rule) for rule in self.by_scope[Scope.GRAPH]]
        resources = self.tf_inventory.resources if self.tf_inventory else ()
        tasks += [lambda resource=resource: self._resource(resource) for resource in resources]
        return tasks

    def _run(self, rule: Rule, obj: Located | None, *args: object) -> Outcome:
        try:
            return [to_finding(rule, hit, obj, self.fix_sources) for hit in rule.check(*args)], []
        except Exception as exc:  # noqa: BLE001 - one broken rule must not hide the others' results
            where = obj.file if obj else "<scan>"
            return [], [InputError(where, 0, f"internal error in rule {rule.id}: {type(exc).__name__}: {exc}")]

    def _object(self, obj: Located) -> Outcome:
        outcomes = [self._run(rule, obj, obj, self.inventory)
                    for rule in self.by_scope[Scope.OBJECT] if obj.kind in rule.kinds]
        for pod in pod_specs(obj, self.inventory):
            wanted_pod = [r for r in self.by_scope[Scope.POD] if not r.inference_only or pod.is_inference]
            outcomes += [self._run(rule, obj, pod) for rule in wanted_pod]
            wanted_container = [r for r in self.by_scope[Scope.CONTAINER] if not r.inference_only or pod.is_inference]
            outcomes += [self._run(rule, obj, container) for container in pod.containers for rule in wanted_container]
        return _joined(outcomes)

    def _graph_rule(self, rule: Rule) -> Outcome:
        graph = self.inventory.graph  # built before any fork, see evaluate()
        return self._run(rule, None, graph)

    def _resource(self, resource: Located) -> Outcome:
        return _joined(self._run(rule, resource, resource, self.tf_inventory)
                       for rule in self.by_scope[Scope.RESOURCE] if resource.type in rule.kinds)


def _joined(outcomes: Iterable[Outcome]) -> Outcome:
    findings: list[Finding] = []
    errors: list[InputError] = []
    for found, failed in outcomes:
        findings += found
        errors += failed
    return findings, errors


def evaluate(inventory: Inventory, rules: Iterable[Rule], tf_inventory: TfInventory | None = None,
             fix_sources: FixSources | None = None, jobs: int | None = 1) -> Outcome:
    """Run every rule over the inventory; a rule that crashes is reported, never silently dropped.

    ``jobs``: worker processes (``None``: one per available core, when the scan is big enough)."""
    rules = list(rules)
    link_layers(inventory, tf_inventory)  # before any rule asks for the graph across both layers
    by_scope: dict[Scope, list[Rule]] = {scope: [] for scope in Scope}
    for rule in rules:
        by_scope[rule.scope].append(rule)
    errors: list[InputError] = []
    if by_scope[Scope.GRAPH]:
        try:
            inventory.graph  # noqa: B018 - one graph for every graph rule, and for every worker
        except Exception as exc:  # noqa: BLE001 - report, and keep the other rules' results
            errors.append(InputError("<scan>", 0, f"internal error building the resource graph: "
                                                  f"{type(exc).__name__}: {exc}"))
            by_scope[Scope.GRAPH] = []
    tasks = _Work(inventory, tf_inventory, fix_sources, by_scope).tasks()
    findings, rule_errors = _joined(_outcomes(tasks, _workers(jobs, len(tasks))))
    unique = {(f.rule_id, f.location, f.resource, f.message): f for f in _drop_superseded(findings, rules)}
    return sorted(unique.values(), key=Finding.sort_key), errors + rule_errors


def _workers(jobs: int | None, tasks: int) -> int:
    if jobs is None:
        jobs = len(os.sched_getaffinity(0)) if tasks >= PARALLEL_THRESHOLD else 1
    return max(1, min(jobs, tasks))


# The tasks of the evaluation in progress: forked workers find them here instead of receiving them.
_TASKS: list[Callable[[], Outcome]] = []


def _outcomes(tasks: list[Callable[[], Outcome]], workers: int) -> Iterator[Outcome]:
    if workers == 1:
        yield from (task() for task in tasks)
        return
    import multiprocessing  # here: most scans are small, and start faster without it
    from concurrent.futures import ProcessPoolExecutor

    _TASKS[:] = tasks
    gc.freeze()  # the model is shared copy-on-write: keep the collector from touching (and copying) it
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers - 1, mp_context=context) as pool:
            others = [pool.submit(_share, shard, workers) for shard in range(1, workers)]
            shards = [_share(0, workers)] + [future.result() for future in others]
    finally:
        _TASKS.clear()
        gc.unfreeze()
    for index in range(len(tasks)):  # task i ran in shard i % workers, as its (i // workers)th task
        yield shards[index % workers][index // workers]


def _share(shard: int, workers: int) -> list[Outcome]:
    return [task() for task in _TASKS[shard::workers]]


def to_finding(rule: Rule, hit: Hit, checked: Located | None, fix_sources: FixSources | None = None) -> Finding:
    obj = hit.obj or checked
    if obj is None:
        raise ValueError(f"rule {rule.id} returned a hit without an object")
    related = tuple(Related(r.obj.locate(r.path), r.message) for r in hit.related)
    provenance = getattr(obj, "provenance", None)
    if provenance is not None:  # a Terraform value set by a variable, a tfvars file or a module call
        related += tuple(Related(location, message) for location, message in provenance(hit.path))
    return Finding(
        rule_id=rule.id, title=rule.title, severity=hit.severity or rule.severity,
        confidence=hit.confidence or rule.confidence, message=hit.message,
        location=obj.locate(hit.path, hit.scalar_line), resource=obj.ref, related=related,
        fixes=fix_sources.resolve(obj, hit.fixes) if fix_sources is not None and hit.fixes else (),
    )


def _drop_superseded(findings: list[Finding], rules: Iterable[Rule]) -> list[Finding]:
    """A specialised rule replaces the generic one it names when both flag the same line."""
    supersedes = {r.id: r.supersedes for r in rules if r.supersedes}
    replaced = {(generic, f.location.file, f.location.line, f.resource)
                for f in findings for generic in supersedes.get(f.rule_id, ())}
    return [f for f in findings if (f.rule_id, f.location.file, f.location.line, f.resource) not in replaced]
