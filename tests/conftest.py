"""Shared helpers for the tests, and where they read the real data sets."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
from pathlib import Path

import numpy as np
import pytest

import bprop
from bprop import _compiled

REPO = Path(__file__).resolve().parents[1]
#: The shared datasets folder beside the checkout (holding mnist/ and fashion-mnist/), which
#: the README's test command relies on: it sets no BPROP_DATA_DIR.
SHARED_DATA = REPO.parent / "shared" / "datasets"


def _use_shared_data() -> None:
    """Point bprop at ``../shared/datasets`` through its own variable, BPROP_DATA_DIR, unless
    the caller set one: every test, and every ``bprop`` or benchmark process a test starts,
    then finds Fashion-MNIST the way the README says."""
    if not os.environ.get("BPROP_DATA_DIR") and SHARED_DATA.is_dir():
        os.environ["BPROP_DATA_DIR"] = str(SHARED_DATA)


_use_shared_data()


@pytest.fixture(autouse=True)
def _blas_threads_never_fall_back(monkeypatch):
    """Tests compare runs bit for bit; on a busy CI machine bprop's NumPy engine would move
    some epochs to one BLAS thread (bprop.engines.BlasThreads), which rounds float32 products
    otherwise.  The policy itself is tested with its clocks stubbed (tests/test_train.py)."""
    from bprop import engines

    monkeypatch.setattr(engines, "BUSY_SHARE", 0.0)


needs_kernel = pytest.mark.skipif(
    not _compiled.available(), reason="bprop's C kernel is not built (no C compiler at install)"
)


def kernel_versions() -> list[str]:
    """The compiled kernel's versions this CPU runs (all of them are tested)."""
    if not _compiled.available():
        return []
    best = _compiled.limit_instruction_set(None)
    return list(_compiled.INSTRUCTION_SETS[: _compiled.INSTRUCTION_SETS.index(best) + 1])


HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]
OUTPUT = ["sigmoid", "tanh", "relu", "leaky_relu", "identity", "softmax"]
COSTS = ["quadratic", "cross-entropy", "log-likelihood"]


def valid_combinations() -> list[tuple[str, str, str]]:
    """Every (hidden, output, cost) the library accepts."""
    combos = []
    for hidden, out, cost in itertools.product(HIDDEN, OUTPUT, COSTS):
        if cost != "quadratic" and out not in ("sigmoid", "softmax"):
            continue
        combos.append((hidden, out, cost))
    return combos


def random_problem(hidden: str, out: str, cost: str, seed: int, sizes=(4, 5, 3, 3), m: int = 6):
    """A small random network and mini-batch whose targets suit the cost."""
    rng = np.random.default_rng(seed)
    # Scaled initialisation keeps the outputs away from saturation, where C = −ln(1 − a) with
    # a within 1e-10 of 1 loses most of its digits in any float64 implementation.
    net = bprop.Network(list(sizes), hidden, cost, output_activation=out, init="scaled", seed=seed)
    X = rng.normal(size=(m, sizes[0]))
    if cost == "quadratic":
        Y = rng.normal(size=(m, sizes[-1]))
    elif out == "softmax" or cost == "log-likelihood":
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], m)]
    else:
        Y = rng.uniform(0.05, 0.95, size=(m, sizes[-1]))
    return net, X, Y


@contextlib.contextmanager
def alarm_after(seconds: int, what: str):
    """Fail with TimeoutError(``what``) instead of hanging: SIGALRM after ``seconds``."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def boom(*_):
        raise TimeoutError(what)

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
