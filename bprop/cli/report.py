"""``bprop report``: one self-contained HTML page summarising training runs.

The page is :mod:`bprop.report`'s; this module only names the runs and the file.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "report",
        help="a self-contained HTML report of a training run",
        description=(
            "Write one self-contained HTML file (figures embedded) summarising a run: "
            "configuration, accuracies, warnings and figures. Several runs (say, quadratic "
            "and cross-entropy cost) are also compared side by side."
        ),
    )
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folders written by bprop train")
    p.add_argument(
        "--out",
        metavar="FILE",
        help="HTML file to write (default: RUN/report.html; report.html for several runs)",
    )
    p.add_argument("--data-dir", help="folder holding mnist/ and fashion-mnist/ (searched first)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from bprop.report import write_report

    print(write_report(args.runs, args.out, data_dir=args.data_dir))
    return 0
