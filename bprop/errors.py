"""Exceptions and warnings bprop raises, each a subclass of the built-in type a caller would
expect."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any


class DivergenceError(FloatingPointError):
    """Training stopped because the cost became NaN or infinite.

    The network keeps the weights of the last epoch that finished with a finite cost;
    ``history`` holds the epochs that completed.
    """

    def __init__(self, message: str, history: Any = None) -> None:
        super().__init__(message)
        self.history = history


class ChanceWarning(RuntimeWarning):
    """Training ended no better than chance: the network answers no better than always
    giving the commonest class (a warning, not an error: the run and its history are kept)."""


class PairingWarning(UserWarning):
    """A cost and output layer that train, with exact gradients, but learn nothing useful (the
    log-likelihood cost with sigmoid outputs: see :func:`bprop.costs.pairing_problem`)."""


def unknown_name(kind: str, name: str, known: Iterable[str], extra: str = "") -> ValueError:
    """A ValueError for an unknown registered name, suggesting the closest known one."""
    known = list(known)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ValueError(f"unknown {kind} {name!r}.{hint} Known: {', '.join(known)}.{extra}")
