"""What the ``bprop`` commands share: exit codes, argument types and loading a data set.

Nothing here runs a command or prints; an argument type raises
``argparse.ArgumentTypeError`` (argparse turns it into the one-line usage error) and
:func:`load_data` the ValueError or OSError that :func:`bprop.cli.main` turns into one line on
stderr.
"""

from __future__ import annotations

import argparse
import math
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


def finite_float(text: str) -> float:
    """A float that is a finite number: ``inf``, ``1e400`` (which is inf) and ``nan`` are not."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive(kind: type) -> Any:
    """An argument type reading a ``kind`` (int or float, finite) that must be > 0."""

    def parse(text: str) -> Any:
        value = finite_float(text) if kind is float else _whole(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
        return value

    return parse


def non_negative(kind: type) -> Any:
    """An argument type reading a ``kind`` (int or float, finite) that must be ≥ 0."""

    def parse(text: str) -> Any:
        value = finite_float(text) if kind is float else _whole(text)
        if not value >= 0:
            raise argparse.ArgumentTypeError(f"must be ≥ 0, got {text!r}")
        return value

    return parse


def float_list(text: str) -> list[float]:
    """``0.05,0.10`` → ``[0.05, 0.1]``: finite numbers, comma-separated."""
    values = [v for v in text.split(",") if v.strip()]
    try:
        numbers = [float(v) for v in values]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers like 0.05,0.10, got {text!r}"
        ) from None
    bad = [v.strip() for v, x in zip(values, numbers) if not math.isfinite(x)]
    if bad:
        raise argparse.ArgumentTypeError(f"expected finite numbers, got {bad[0]!r} in {text!r}")
    return numbers


#: ``--seed``: a whole number ≥ 0 (NumPy's generators take no negative seeds).
seed = non_negative(int)


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def add_data_flags(p: argparse.ArgumentParser) -> None:
    """``--header`` and ``--scale``: how a CSV or npz data set is read."""
    p.add_argument(
        "--header",
        choices=["auto", "yes", "no"],
        default="auto",
        help="csv: whether the first row holds column names (default: auto, from its cells)",
    )
    p.add_argument(
        "--scale",
        choices=["auto", "standard", "minmax", "pixels", "none"],
        default="auto",
        help="csv/npz: scale the features, fitted on the training split (default: auto — "
        "integers in 0…255 are divided by 255 as MNIST's pixels, features in [0, 1] are kept, "
        "anything else is standardised)",
    )


def load_data(
    name: str, data_dir: str | None, dtype: Any, header: str = "auto", scale: str = "auto"
) -> Any:
    """The data set ``name`` (see :func:`bprop.datasets.load`), in ``dtype``; ``header`` and
    ``scale`` apply to CSV / npz files (MNIST's pixels are always divided by 255)."""
    from bprop import datasets

    kw: dict[str, Any] = {"dtype": dtype}
    kind = name.partition(":")[0].lower() if ":" in name else ""
    if kind == "csv":
        kw |= {"header": header, "scale": scale}
    elif kind == "npz":
        kw["scale"] = scale
    if header != "auto" and kind != "csv":
        raise ValueError(f"--header applies to CSV files (csv:PATH), not to {name}")
    if scale != "auto" and kind not in ("csv", "npz"):
        raise ValueError(
            f"--scale applies to your own data (csv:PATH, npz:PATH); {name}'s pixels are "
            "always divided by 255"
        )
    return datasets.load(name, data_dir=data_dir, **kw)
