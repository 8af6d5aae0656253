"""The ``bprop`` command: train, evaluate, predict, export, explain, plot, report, sweep and bench.

One module per subcommand, each a pair: ``add_parser(sub)`` declares its flags, ``run(args)``
runs it and returns the exit code.  :func:`main` turns every expected failure (bad flags,
missing files, wrong shapes) into one line on stderr and exit code 2; ``--debug`` shows the
traceback.  The commands import what they need (NumPy's math, matplotlib, scikit-learn) only
when they run, so ``import bprop.cli`` and ``bprop --help`` stay quick; the math, the files and
the figures are the other modules' — this package parses, calls and prints.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from bprop.cli import bench, evaluate, explain, export, lab, plot, predict, report, sweep, train
from bprop.cli._common import EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_INTERRUPTED

__all__ = ["EXIT_BAD_INPUT", "EXIT_DIVERGED", "EXIT_INTERRUPTED", "build_parser", "main"]

# In the order `bprop --help` lists them.
COMMANDS = (train, evaluate, predict, export, explain, lab, plot, report, sweep, bench)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit code 2), not usage + message."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``bprop`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("bprop: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `bprop evaluate … | head`: the reader left, nothing is wrong
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter's flush quiet
        return 0
    except (ValueError, TypeError, OSError, ImportError) as e:
        if args.debug:
            raise
        message = " ".join(str(e).split()) or type(e).__name__
        print(f"bprop {args.command}: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``bprop`` command and its subcommands."""
    from bprop import __version__

    parser = _Parser(
        prog="bprop",
        description="Backpropagation for fully connected networks, exactly as the book says.",
    )
    parser.add_argument("--version", action="version", version=f"bprop {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in COMMANDS:
        p = command.add_parser(sub)
        p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    return parser
