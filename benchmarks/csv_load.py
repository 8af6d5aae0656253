"""CSV loading benchmark: wall time, CPU time and peak memory of ``bprop.datasets.load_csv``
against the loader it replaced (hardening issue #14, item 22), on a CSV it writes itself.

The file is MNIST-like: ``--rows`` examples of ``--features`` integer "pixels" in 0…255 (about
80% zeros, as in MNIST) and an integer label, with a header row. Each loader runs in a fresh
process per round (so peak RSS is its own), ``--rounds`` times, alternating; the medians are
printed. Loaders:

``before``
    the loader of bprop before #14, kept here as it was: the whole file decoded, every row a
    list of strings from Python's ``csv`` module, every cell through ``float()``, then copies
    for the split and the dtype;
``bprop``
    today's ``load_csv``: two streaming passes, chunks of 256 KB parsed by NumPy (vectorised
    integer parsing on the bytes, else ``numpy.loadtxt``) straight into a preallocated array,
    every cell still checked, split in place.

Peak RSS is the child's maximum resident set (``ru_maxrss``), including Python and NumPy
(about 30 MB); the goal was at most 2 × the final array + 100 MB. CPU time is the child's
user + system time. On a machine shared with other work, wall times are noisy: compare the
CPU times, and run it again on a quiet machine. Example (the issue's size; `before` needs
some 8 GB of memory for it)::

    python benchmarks/csv_load.py --rows 200000 --rounds 3 --dtype float32
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

LOADERS = ("before", "bprop")


def make_csv(path: Path, rows: int, features: int, seed: int = 0) -> None:
    """An MNIST-like integer CSV with a header, written in blocks."""
    rng = np.random.default_rng(seed)
    with path.open("w") as f:
        f.write(",".join([*(f"pixel{j}" for j in range(features)), "label"]) + "\n")
        for start in range(0, rows, 10_000):
            k = min(10_000, rows - start)
            X = rng.integers(0, 256, (k, features))
            X[rng.random((k, features)) < 0.8] = 0
            y = rng.integers(0, 10, k)
            np.savetxt(f, np.column_stack([X, y]), fmt="%d", delimiter=",")


def before(path: Path, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """The loader of bprop before #14 (its parsing, labels, split and cast), for comparison."""
    import csv
    import io

    text = path.read_bytes().decode("utf-8-sig")
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=",")
    for row in reader:
        if row and any(c.strip() for c in row):
            rows.append((reader.line_num, [c.strip() for c in row]))
    n_cols = len(rows[0][1])
    lab = n_cols - 1
    feat_cols = [j for j in range(n_cols) if j != lab]
    data_rows = rows[1:]
    X = np.empty((len(data_rows), len(feat_cols)), dtype=np.float64)
    labels = []
    for i, (_, row) in enumerate(data_rows):
        X[i] = [float(row[j]) for j in feat_cols]
        labels.append(row[lab])
    assert np.isfinite(X).all()
    numeric = np.array([float(v) for v in np.array(labels).astype(str)])
    np.unique(numeric, return_inverse=True)  # the labels, re-coded (not used further)
    order = np.random.default_rng(0).permutation(len(X))
    n_test = round(0.2 * len(X))
    X = X.astype(dtype, copy=False)
    return X[order[n_test:]], X[order[:n_test]]


def child(loader: str, path: Path, dtype: str) -> dict[str, float]:
    """Load once in this process; the figures as a dict (printed as JSON by --child)."""
    if loader == "bprop":
        from bprop.datasets import load_csv

        def load() -> Any:
            d = load_csv(path, dtype=dtype, scale="none")
            return d.train.X, d.test.X
    else:

        def load() -> Any:
            return before(path, np.dtype(dtype))

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    wall, cpu = time.perf_counter(), time.process_time()
    train, test = load()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "wall": wall,
        "cpu": cpu,
        "peak_rss_mb": peak / 1024,
        "start_rss_mb": rss0 / 1024,
        "array_mb": (train.nbytes + test.nbytes) / 2**20,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=50_000, help="examples (default: 50,000)")
    p.add_argument("--features", type=int, default=784, help="features (default: 784)")
    p.add_argument("--rounds", type=int, default=3, help="rounds per loader (default: 3)")
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    p.add_argument("--loaders", default=",".join(LOADERS), help="before,bprop (default: both)")
    p.add_argument("--csv", help="use this CSV (written if missing) instead of a temporary one")
    p.add_argument("--child", nargs=2, metavar=("LOADER", "PATH"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]), args.dtype)))
        return 0
    loaders = [name for name in args.loaders.split(",") if name]
    if not set(loaders) <= set(LOADERS):
        p.error(f"--loaders: choose from {', '.join(LOADERS)}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.csv) if args.csv else Path(tmp) / "bench.csv"
        if not path.exists():
            print(f"writing {args.rows:,} × {args.features} integers to {path} ...", flush=True)
            make_csv(path, args.rows, args.features)
        size = path.stat().st_size / 2**20
        print(f"{path.name}: {size:.0f} MiB, {args.rows:,} rows, dtype {args.dtype}")
        results: dict[str, list[dict[str, float]]] = {name: [] for name in loaders}
        for _ in range(args.rounds):
            for name in loaders:
                cmd = [sys.executable, __file__, "--dtype", args.dtype, "--child", name, str(path)]
                done = subprocess.run(cmd, capture_output=True, text=True, check=True)
                results[name].append(json.loads(done.stdout.splitlines()[-1]))
    print(f"{'loader':<8} {'wall s':>8} {'CPU s':>8} {'peak RSS MiB':>13} {'array MiB':>10}")
    medians = {}
    for name, rows in results.items():
        med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        medians[name] = med
        print(
            f"{name:<8} {med['wall']:8.2f} {med['cpu']:8.2f} {med['peak_rss_mb']:13.0f} "
            f"{med['array_mb']:10.0f}"
        )
    if {"before", "bprop"} <= medians.keys():
        b, n = medians["before"], medians["bprop"]
        budget = 2 * n["array_mb"] + 100 + n["start_rss_mb"]
        print(
            f"bprop is {b['wall'] / n['wall']:.1f}× faster in wall time, "
            f"{b['cpu'] / n['cpu']:.1f}× in CPU time; peak RSS {n['peak_rss_mb']:.0f} MiB "
            f"(goal ≤ 2 × array + 100 MiB above the {n['start_rss_mb']:.0f} MiB at start: "
            f"{budget:.0f} MiB)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
