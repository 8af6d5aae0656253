"""``bprop plot``: PNG figures of a training run, into ``RUN/figures/``.

The drawing is :mod:`bprop.plots`'s (matplotlib, imported only when the command runs).
"""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "plot",
        help="PNG figures of a training run",
        description=(
            "Draw a run's figures into RUN/figures/: cost, accuracy, per-layer learning speed, "
            "saturation, first-layer weights, confusion matrix and misclassified test images."
        ),
    )
    p.add_argument("run", metavar="RUN", help="run folder written by bprop train")
    p.add_argument("--data-dir", help="folder holding mnist/ and fashion-mnist/ (searched first)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from bprop.plots import write_figures

    for path in write_figures(args.run, data_dir=args.data_dir):
        print(path)
    return 0
