"""``bprop bench``: run ``benchmarks/speed.py`` or ``benchmarks/accuracy.py`` of a source checkout.

The benchmarks ship with the source, not the package: this command finds them beside the
installed ``bprop`` and runs them in a child process with the remaining arguments.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

BENCHMARKS = ("speed", "accuracy")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "bench",
        help="run a benchmark of a source checkout (speed or accuracy)",
        description=(
            "Run benchmarks/speed.py or benchmarks/accuracy.py of the source checkout this bprop "
            "is installed from, passing the remaining arguments on "
            "(bprop bench speed --help lists them)."
        ),
    )
    p.add_argument("benchmark", choices=BENCHMARKS)
    p.add_argument("arguments", nargs=argparse.REMAINDER, help="the benchmark's own arguments")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    import subprocess

    script = Path(__file__).resolve().parents[2] / "benchmarks" / f"{args.benchmark}.py"
    if not script.is_file():
        raise FileNotFoundError(
            f"benchmarks/{args.benchmark}.py is not next to this installation of bprop; the "
            "benchmarks ship with the source: git clone the repository and pip install -e it"
        )
    return subprocess.call([sys.executable, str(script), *args.arguments])
