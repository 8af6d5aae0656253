"""Two benchmarks in short: ``benchmarks/book_seeds.py --smoke`` (bprop and the seeds'
per-example program, from the same weights through the same shuffles, score the same test
images alike; the full ten-seed run takes minutes and is not run here), and beside it
``benchmarks/kernel_threads.py`` on 2,000 images."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bprop import datasets

ROOT = Path(__file__).resolve().parents[1]


def test_the_smoke_run_trains_both_and_they_agree(tmp_path: Path) -> None:
    try:
        datasets.dataset_dir("mnist", download=False, verify=False)
    except datasets.DatasetNotFoundError as exc:
        pytest.skip(f"MNIST not found: {exc}")
    out = tmp_path / "seeds.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "book_seeds.py"), "--smoke", "--jobs", "1",
         "--json", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "| seed | bprop final" in proc.stdout and "The book's peak" in proc.stdout
    result = json.loads(out.read_text())
    assert [r["seed"] for r in result["rows"]] == [0, 1]
    for row in result["rows"]:
        ours, theirs = row["bprop"], row["baseline"]
        assert len(ours) == len(theirs) == 2 and ours[-1] > 0.2  # above chance (0.1)
        # The same algorithm on the same weights and mini-batches: float rounding only.
        assert max(abs(a - b) for a, b in zip(ours, theirs)) <= 0.001, row
    assert result["agree"] is True


def test_the_kernel_threads_benchmark_runs_and_finds_the_weights_identical() -> None:
    """``benchmarks/kernel_threads.py`` on 2,000 images, one round (timings not judged)."""
    try:
        datasets.dataset_dir("mnist", download=False, verify=False)
    except datasets.DatasetNotFoundError as exc:
        pytest.skip(f"MNIST not found: {exc}")
    script = ROOT / "benchmarks" / "kernel_threads.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--rounds", "1", "--limit", "2000"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "weights bit-identical" in proc.stdout and "two ÷ one per round" in proc.stdout
