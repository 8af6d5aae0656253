"""The compiled kernel on one thread and on two: seconds per epoch on MNIST, taking turns.

One process loads the training set once, then trains the same network from the same weights
for one epoch on one kernel thread and on two (``SGD(..., blas_threads=1 or 2)``), alternating
which goes first, for ``--rounds`` rounds.  It prints each one's median wall and CPU time with
the range, and the per-round ratio two ÷ one; both runs end on bit-identical weights, which it
checks.  When the rounds' ratios spread by more than 1.5 × it says the machine is too noisy
for the figures to mean much.

Usage::

    python benchmarks/kernel_threads.py [--sizes 784-30-10] [--m 10] [--eta 3]
        [--rounds 8] [--limit N] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import bprop
from bprop import datasets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="784-30-10")
    parser.add_argument("--m", type=int, default=10)
    parser.add_argument("--eta", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    d = datasets.load("mnist", args.data_dir)
    X = np.ascontiguousarray(d.train.X[: args.limit], dtype=np.float32)
    y = d.train.y[: args.limit]
    sizes = [int(s) for s in args.sizes.split("-")]
    times: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    weights: dict[int, list[np.ndarray]] = {}
    for r in range(args.rounds):
        for threads in (1, 2) if r % 2 == 0 else (2, 1):
            net = bprop.Network(sizes, seed=0, dtype=np.float32)
            wall, cpu = time.perf_counter(), time.process_time()
            history = net.SGD(X, y, 1, args.m, args.eta, seed=0, blas_threads=threads)
            times[threads].append((time.perf_counter() - wall, time.process_time() - cpu))
            weights[threads] = net.weights
    print(f"{args.sizes}, m = {args.m}, {len(X):,} images, float32, engine "
          f"{history.config['engine']}, {args.rounds} rounds")  # fmt: skip
    for threads in (1, 2):
        wall = sorted(t for t, _ in times[threads])
        cpu = np.median([c for _, c in times[threads]])
        print(f"{threads} thread{'s' * (threads > 1)}: {np.median(wall):.3f} s "
              f"({wall[0]:.3f}–{wall[-1]:.3f}), CPU {cpu:.3f} s")  # fmt: skip
    ratios = [a[0] / b[0] for a, b in zip(times[2], times[1])]
    print(f"two ÷ one per round: {np.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})")
    same = all(np.array_equal(a, b) for a, b in zip(weights[1], weights[2]))
    print("weights bit-identical" if same else "WEIGHTS DIFFER")
    if max(ratios) > 1.5 * min(ratios):
        print("machine too noisy: the rounds' ratios spread by more than 1.5 ×")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
