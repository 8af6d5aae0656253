"""The book's chapter-1 network over ten seeds: bprop against the seeds' own algorithm.

Nielsen's chapter 1 trains a 784-30-10 sigmoid network with the quadratic cost, η = 3 and
mini-batches of 10 for 30 epochs on 50,000 MNIST images and reports a peak of 95.42% on the
10,000 test images — at one seed.  For each seed this trains, in float64:

``bprop``
    :meth:`bprop.Network.SGD` (the engine it picks), the test images scored after each epoch;
``baseline``
    the seeds' algorithm as their program writes it (Nielsen's ``network.py``: column vectors,
    BP1–BP4 one example at a time, gradients summed in lists — ``benchmarks/speed.py``'s
    per-example peer), from the very weights bprop's network started with and through the
    very same shuffles (:func:`bprop.train.epoch_order`).

It prints each seed's final and peak test accuracy for both, their means, and whether the two
means agree within 0.15 points: the check that bprop's matrix form is the book's algorithm, not
just a network that also learns.  The per-example loop is slow (about 2 s an epoch): the whole
run takes 10–15 minutes on two cores (``--jobs 2`` trains two seeds at once).

Usage::

    python benchmarks/book_seeds.py [--seeds 0-9] [--epochs 30] [--jobs 2] [--data-dir DIR]
        [--json OUT] [--smoke]

``--smoke`` trains 2 seeds for 2 epochs on 1,000 images (seconds; the test suite runs it).
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from speed import CONFIGS, _baseline_epoch

import bprop
from bprop import datasets
from bprop.backprop import decide, feedforward
from bprop.train import epoch_order

BOOK = CONFIGS["book"]  # 784-30-10 sigmoid, quadratic, η = 3, m = 10
BOOK_PEAK = 0.9542  # Nielsen, chapter 1: "95.42 percent accuracy, at its peak (Epoch 28)"
AGREE = 0.0015  # the two means' largest allowed difference: 0.15 points


def train_seed(seed: int, epochs: int, n: int, data_dir: str | None) -> dict[str, Any]:
    """One seed: bprop's and the baseline's test accuracy after each epoch."""
    d = datasets.load("mnist", data_dir)
    X, y = np.asarray(d.train.X[:n], np.float64), d.train.y[:n]
    Xt, yt = np.asarray(d.test.X, np.float64), d.test.y
    net = bprop.Network(list(BOOK.sizes), seed=seed)
    start = {
        "weights": [w.copy() for w in net.weights],
        "biases": [b.reshape(-1, 1).copy() for b in net.biases],
    }
    history = net.SGD(X, y, epochs, BOOK.m, BOOK.eta, seed=seed, test_data=(Xt, yt), verbose=False)
    ours = [r.test_accuracy for r in history.epochs]

    eye = np.eye(10)
    data = [(X[i].reshape(-1, 1), eye[y[i]].reshape(-1, 1)) for i in range(n)]
    theirs = []
    for epoch in range(epochs):
        _baseline_epoch(BOOK, start, data, BOOK.eta, epoch_order(seed, epoch, n, True))
        # Scored as bprop's are: its feedforward over the baseline's column-vector parameters.
        biases = [b.ravel() for b in start["biases"]]
        out = feedforward(start["weights"], biases, net.activations, Xt)
        theirs.append(float(np.mean(decide(out) == yt)))
    return {"seed": seed, "bprop": ours, "baseline": theirs, "engine": history.config["engine"]}


def summarise(rows: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """The Markdown table, and the figures it shows."""
    lines = [
        "| seed | bprop final | bprop peak (epoch) | baseline final | baseline peak (epoch) |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        cells = [str(r["seed"])]
        for who in ("bprop", "baseline"):
            acc = r[who]
            best = int(np.argmax(acc))
            cells += [f"{100 * acc[-1]:.2f}%", f"{100 * acc[best]:.2f}% ({best})"]
        lines.append("| " + " | ".join(cells) + " |")
    figures: dict[str, Any] = {}
    for who in ("bprop", "baseline"):
        final = np.array([r[who][-1] for r in rows])
        peak = np.array([max(r[who]) for r in rows])
        figures[who] = {"final_mean": float(final.mean()), "peak_mean": float(peak.mean())}
        spread = f" ± {100 * final.std(ddof=1):.2f}" if len(rows) > 1 else ""
        lines.append(
            f"| mean, {who} | {100 * final.mean():.2f}%{spread} | {100 * peak.mean():.2f}% | | |"
        )
    gap = {
        k: abs(figures["bprop"][k] - figures["baseline"][k]) for k in ("final_mean", "peak_mean")
    }
    figures["gap"] = gap
    figures["agree"] = all(g <= AGREE for g in gap.values())
    verdict = "agree" if figures["agree"] else "DO NOT agree"
    lines.append(
        f"\nbprop and the per-example baseline {verdict} within {100 * AGREE:.2f} points: "
        f"final means differ by {100 * gap['final_mean']:.3f}, peak means by "
        f"{100 * gap['peak_mean']:.3f}. The book's peak, at one seed: {100 * BOOK_PEAK:.2f}%."
    )
    return "\n".join(lines), figures


def main(argv: list[str] | None = None) -> int:
    from accuracy import parse_seeds

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=parse_seeds, default=list(range(10)))
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2, help="seeds trained at once")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--json", default=None, help="also write the results to this file")
    parser.add_argument("--smoke", action="store_true", help="2 seeds, 2 epochs, 1,000 images")
    args = parser.parse_args(argv)
    seeds, epochs, n = args.seeds, args.epochs, 50_000
    if args.smoke:
        seeds, epochs, n = seeds[:2], 2, 1_000
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        rows = list(pool.map(train_seed, seeds, [epochs] * len(seeds), [n] * len(seeds),
                             [args.data_dir] * len(seeds)))  # fmt: skip
    table, figures = summarise(rows)
    print(f"784-30-10 sigmoid, quadratic, η = 3, m = 10, {epochs} epochs, {n:,} images, float64")
    print(table)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, **figures}, indent=1))
    return 0 if figures["agree"] or args.smoke else 1


if __name__ == "__main__":
    sys.exit(main())
