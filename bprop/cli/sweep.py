"""``bprop sweep``: a hyperparameter grid, on the local cores or a Dask cluster.

Training and scoring the grid is :mod:`bprop.sweep`'s; this module loads the data, splits off a
validation set where the data set has none, shows a progress bar and writes the results CSV.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any, cast

import numpy as np

from bprop.cli._common import add_data_flags, finite_float, load_data, positive, seed
from bprop.cli._terminal import count, sweep_bar


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "sweep",
        help="a hyperparameter grid, locally or on a Dask cluster",
        description=(
            "Train a BPClassifier for every combination of the listed values and score each "
            "on the validation set (MNIST: the 10,000 validation images; other data sets: "
            "--validation-fraction of the training set). Runs on all local cores, or on a "
            "Dask cluster with --scheduler. Needs scikit-learn: pip install 'bprop[sklearn]'."
        ),
    )
    p.add_argument("--dataset", default="mnist", help="mnist, fashion-mnist, csv:PATH, npz:PATH")
    p.add_argument("--data-dir", help="folder holding mnist/ and fashion-mnist/")
    add_data_flags(p)
    values = _number_list(float)
    p.add_argument("--eta", type=values, default=[0.5], help="η values: 0.1,0.5,3 (default: 0.5)")
    p.add_argument("--lmbda", type=values, default=[0.0], help="λ values: 0,5 (default: 0)")
    p.add_argument(
        "--hidden",
        type=_hidden_list,
        default=[(30,)],
        help="hidden widths: 30,100 (one layer each) or 100-30 (two layers) (default: 30)",
    )
    p.add_argument(
        "--batch-size", type=_number_list(int), default=[10], help="m values (default: 10)"
    )
    p.add_argument("--momentum", type=values, default=[0.0], help="μ values (default: 0)")
    p.add_argument("--epochs", type=positive(int), default=10, help="epochs (default: 10)")
    p.add_argument("--activation", default="sigmoid", help="hidden activation (sigmoid)")
    p.add_argument("--output-activation", default="softmax", help="output activation (softmax)")
    p.add_argument("--cost", default="log-likelihood", help="cost (log-likelihood)")
    p.add_argument("--init", default="scaled", help="initialisation (scaled: N(0, 1/n_in))")
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    p.add_argument("--limit", type=positive(int), help="train on the first N examples only")
    p.add_argument(
        "--validation-fraction",
        type=finite_float,
        default=0.2,
        help="held-out share of the training set when the data set has no validation set",
    )
    p.add_argument("--seed", type=seed, help="seed of every grid point's weights and shuffling")
    p.add_argument("--n-jobs", type=int, default=-1, help="grid points at once (-1: all cores)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask cluster")
    p.add_argument("--out", help="results CSV (default: runs/sweep-<timestamp>.csv)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p


def _number_list(kind: type) -> Any:
    def parse(text: str) -> list[Any]:
        try:
            values = [kind(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated numbers like 0.1,0.5,3, got {text!r}"
            ) from None
        if any(not math.isfinite(v) for v in values):
            raise argparse.ArgumentTypeError(f"expected finite numbers, got {text!r}")
        if not values or any(not v >= 0 for v in values):
            raise argparse.ArgumentTypeError(f"expected numbers ≥ 0, got {text!r}")
        return values

    return parse


def _hidden_list(text: str) -> list[tuple[int, ...]]:
    try:
        values = [tuple(int(w) for w in v.split("-")) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected hidden widths like 30,100 or 100-30, got {text!r}"
        ) from None
    if not values or any(min(v) < 1 for v in values):
        raise argparse.ArgumentTypeError(f"hidden widths must be ≥ 1, got {text!r}")
    return values


def run(args: argparse.Namespace) -> int:
    from bprop import activations, costs, runs, serialize, sweep

    problem = costs.pairing_problem(costs.get(args.cost), activations.get(args.output_activation))
    if problem:  # as bprop train: every grid point would learn no classifier
        raise ValueError(f"{problem}: use --output-activation softmax, or --cost cross-entropy")
    seed = (
        args.seed if args.seed is not None else cast(int, np.random.SeedSequence().entropy) % 2**31
    )
    data = load_data(
        args.dataset,
        args.data_dir,
        np.dtype(args.dtype).type,
        header=args.header,
        scale=args.scale,
    )
    if data.scaling is not None:  # a note beside the results, which stdout keeps to itself
        print(f"Scaling the features: {data.scaling.reason}", file=sys.stderr, flush=True)
    X, y, validation = data.train.X, data.train.y, data.validation
    if validation is None:
        if not 0 < args.validation_fraction < 1:
            raise ValueError(
                f"--validation-fraction must be in (0, 1), got {args.validation_fraction}"
            )
        order = np.random.default_rng(seed).permutation(len(y))
        n_val = max(1, round(args.validation_fraction * len(y)))
        X_val, y_val, X, y = X[order[:n_val]], y[order[:n_val]], X[order[n_val:]], y[order[n_val:]]
    else:
        X_val, y_val = validation.X, validation.y
    if args.limit:
        X, y = X[: args.limit], y[: args.limit]
    grid = {
        "eta": args.eta,
        "lmbda": args.lmbda,
        "hidden_layer_sizes": args.hidden,
        "batch_size": args.batch_size,
        "momentum": args.momentum,
    }
    base = {
        "activation": args.activation,
        "output_activation": args.output_activation,
        "cost": args.cost,
        "init": args.init,
        "dtype": args.dtype,
        "max_iter": args.epochs,
        "tol": None,
        "random_state": seed,
    }
    n_points = len(sweep.grid_points(grid))
    where = f"the Dask cluster at {args.scheduler}" if args.scheduler else "local cores"
    print(
        f"Sweeping {count(n_points, 'grid point')} on {data.name} ({len(y)} training, "
        f"{count(len(y_val), 'validation example')}, {count(args.epochs, 'epoch')}, seed {seed}) "
        f"on {where}",
        flush=True,
    )
    bar = sweep_bar(n_points, show=not args.no_progress)
    try:
        rows = sweep.run(
            grid,
            X,
            y,
            X_val,
            y_val,
            base=base,
            n_jobs=args.n_jobs,
            scheduler=args.scheduler,
            on_result=(lambda row: bar.update(1)) if bar is not None else None,
        )
    finally:
        if bar is not None:
            bar.close()
    out = Path(args.out or runs.new_sweep_path())
    serialize.write_text(out, sweep.to_csv(rows))
    print(sweep.format_table(rows))
    print(f"Wrote {out}", flush=True)
    return 0
