"""What the ``bprop`` commands share: exit codes, argument types and loading a data set.

Nothing here runs a command or prints; an argument type raises
``argparse.ArgumentTypeError`` (argparse turns it into the one-line usage error) and
:func:`load_data` the ValueError or OSError that :func:`bprop.cli.main` turns into one line on
stderr.
"""

from __future__ import annotations

import argparse
from typing import Any

EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130


def int_list(text: str) -> list[int]:
    """``784,30,10`` → ``[784, 30, 10]``: layer sizes, at least two, each ≥ 1."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated whole numbers like 784,30,10, got {text!r}"
        ) from None
    if len(values) < 2 or min(values) < 1:
        raise argparse.ArgumentTypeError(f"need at least two positive layer sizes, got {text!r}")
    return values


def positive(kind: type) -> Any:
    """An argument type reading a ``kind`` (int or float) that must be > 0."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not value > 0 or value != value:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
        return value

    return parse


def load_data(name: str, data_dir: str | None, dtype: Any) -> Any:
    """The data set ``name`` (see :func:`bprop.datasets.load`), in ``dtype``."""
    from bprop import datasets

    kw: dict[str, Any] = {"dtype": dtype}
    return datasets.load(name, data_dir=data_dir, **kw)
