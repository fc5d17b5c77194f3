"""What the policy bundle costs per input: load and compile once, then evaluate every document of a folder.

    .venv/bin/python bench/policy_cost.py [FOLDER ...] [--policy policies/] [--repeat 20] [--combine]

Reports the one-time cost (worker start, parse, compile) and, per input document, the time of one evaluation of
every rule of the bundle (the query servegate sends: all rules and exceptions at once, through the worker's pipe),
with the input's conversion to Conftest's shape measured apart.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from servegate.discover import discover, scan_root  # noqa: E402
from servegate.policy import PolicyOptions, load_policies  # noqa: E402
from servegate.policy.inputs import combined, documents  # noqa: E402
from servegate.scan import read_text, DEFAULT_MAX_FILE_SIZE  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="*", type=Path, default=[ROOT / "examples"])
    parser.add_argument("--policy", type=Path, default=ROOT / "policies")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--combine", action="store_true")
    args = parser.parse_args()

    files, _ = discover(args.folders, scan_root(args.folders))
    sources = [(f, text) for f in files if f.kind in ("yaml", "json", "terraform")
               for text in [read_text(f, DEFAULT_MAX_FILE_SIZE)] if isinstance(text, str)]
    started = time.perf_counter()
    docs = documents(sources)
    shaping = time.perf_counter() - started

    started = time.perf_counter()
    policies = load_policies(PolicyOptions((args.policy,), all_namespaces=True, combine=args.combine))
    loading = time.perf_counter() - started
    with policies:
        query, _ = policies._query()
        inputs = [combined(sorted(docs, key=lambda d: d.file))] if args.combine else [d.contents for d in docs]
        policies.engine.query(query, inputs[0], has_input=True)  # prepare the query once, as a scan does
        samples: list[float] = []
        for _ in range(args.repeat):
            for value in inputs:
                started = time.perf_counter()
                policies.engine.query(query, value, has_input=True)
                samples.append(time.perf_counter() - started)

    per_input = statistics.median(samples) * 1000
    print(f"policies: {len(policies.rules)} rules in {len(policies.loaded.modules)} modules from {args.policy}")
    print(f"inputs: {len(inputs)} ({len(docs)} documents in {len(sources)} files)"
          f"{' combined into one' if args.combine else ''}")
    print(f"load and compile (once): {loading * 1000:.0f} ms")
    print(f"conversion to Conftest's shape: {shaping * 1000 / max(len(docs), 1):.2f} ms per document")
    print(f"evaluation per input: median {per_input:.2f} ms, p90 "
          f"{statistics.quantiles(samples, n=10)[-1] * 1000:.2f} ms, max {max(samples) * 1000:.2f} ms "
          f"({len(samples)} evaluations)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
