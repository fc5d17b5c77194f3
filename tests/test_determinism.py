"""The same input gives byte-identical JSON and SARIF, run after run.

Each run is a fresh interpreter with a different ``PYTHONHASHSEED``, so an order that leaks from a set or from
string hashing, rather than from the sorted file list and the rules' declaration order, shows up as a diff.
The first run evaluates the rules in one process, the second in three (``--jobs``): the report must not
depend on how the work was shared.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
# A mixed sample of the corpus: Kubernetes with Helm charts, Terraform with modules, AWS, GCP and Azure.
# Small repositories of both kinds: no chart rendering or overlay builds, so CI time stays bounded.
CORPUS_SAMPLE = ("madhuakula__kubernetes-goat", "bridgecrewio__terragoat", "Young-ook__terraform-aws-sagemaker")


def _report(paths: list[Path], report_format: str, seed: int, output: Path, jobs: int) -> bytes:
    env = dict(os.environ, PYTHONHASHSEED=str(seed))
    done = subprocess.run([sys.executable, "-m", "servegate", "scan", *map(str, paths), "--format", report_format,
                           "--output", str(output), "--no-fail-on-error", "--jobs", str(jobs)],
                          capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=600)
    assert done.returncode in (0, 1), done.stderr
    return output.read_bytes()


def _assert_identical_across_runs(paths: list[Path], tmp_path: Path) -> None:
    for report_format in ("json", "sarif"):
        first = _report(paths, report_format, 1, tmp_path / f"first.{report_format}", jobs=1)
        second = _report(paths, report_format, 2, tmp_path / f"second.{report_format}", jobs=3)
        assert b'"rule' in first  # a report with findings, not an empty shell
        assert first == second, f"{report_format} differs between runs"


def test_examples_give_byte_identical_reports(tmp_path: Path):
    _assert_identical_across_runs([ROOT / "examples"], tmp_path)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not next to the repository")
def test_a_corpus_sample_gives_byte_identical_reports(tmp_path: Path):
    _assert_identical_across_runs([CORPUS / name for name in CORPUS_SAMPLE if (CORPUS / name).is_dir()], tmp_path)
