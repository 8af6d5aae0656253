"""Which engine trains a network, and the CPU's settings while it trains.

The engines are :mod:`bprop.train`'s mini-batch steps: "plain" (BP1–BP4 as the seeds write
them), "fused" (the same arithmetic in NumPy buffers) and "compiled" (bprop's C kernel, reached
through :mod:`bprop._compiled`).  Here is the choice between them, from the network and the
mini-batch's products, and the settings training runs under: BLAS's threads and the CPU's
flushing of subnormal numbers.  Nothing here trains, reads files or prints.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING

from bprop import _compiled
from bprop.activations import ACTIVATIONS
from bprop.costs import COSTS

if TYPE_CHECKING:
    from bprop.network import Network

# Below this many multiply-adds per mini-batch product, a second BLAS thread costs more in
# hand-over than it saves (the book's 784-30-10 with m = 10 does 235,200).
SMALL_GEMM = 1_000_000
# Below this many multiply-adds per mini-batch product the compiled engine (one thread, no
# per-call overhead) beats NumPy + BLAS (measured, float32 s/epoch: 784-100-10 with m = 64,
# 5 million, 0.25 against 0.29; 784-1000-10 with m = 10, 7.8 million, 3.0 against 4.4; with
# m = 128, 10 million, BLAS on two cores wins: 0.21 against 0.26).
COMPILED_GEMM = 8_000_000


def _largest_product(net: Network, m: int) -> int:
    """Multiply-adds of the largest product of a mini-batch of m: m · max n_l n_(l−1)."""
    return m * max(a * b for a, b in itertools.pairwise(net.sizes))


def engine_for(net: Network, mini_batch_size: int, *, compiled: bool | None = None) -> str:
    """The engine :func:`sgd` (with ``fast=True``) trains ``net`` with: ``"compiled"`` (the C
    kernel) or ``"fused"`` (NumPy's); ValueError when ``compiled=True`` cannot be honoured."""
    return _engine(net, mini_batch_size, True, compiled)


def _engine(net: Network, m: int, fast: bool, compiled: bool | None) -> str:
    """Which mini-batch step trains ``net``: "plain", "fused" (NumPy) or "compiled" (C)."""
    if not fast:
        return "plain"
    if compiled is False:
        return "fused"
    reason = None
    if not _compiled.available():
        reason = "bprop's C kernel is not built (reinstall bprop where a C compiler is at hand)"
    elif any(ACTIVATIONS.get(f.name) is not f for f in net.activations):
        reason = "the network has an activation of its own (only built-in ones are compiled)"
    elif COSTS.get(net.cost.name) is not net.cost:
        reason = "the network has a cost of its own (only built-in ones are compiled)"
    elif any(f.name == "softmax" for f in net.activations[:-1]):
        reason = "softmax is compiled only as the output layer"
    elif not all(p.flags.c_contiguous and p.dtype == net.dtype for p in net.weights + net.biases):
        reason = "the network's weights or biases are not C-contiguous arrays of its dtype"
    if compiled is True:
        if reason:
            raise ValueError(f"cannot train with the compiled engine: {reason}")
        return "compiled"
    if reason or _largest_product(net, m) >= COMPILED_GEMM:
        return "fused"
    return "compiled"


@contextlib.contextmanager
def subnormals_flushed(on: bool) -> Iterator[None]:
    """FTZ/DAZ on in this thread while training when ``on``; the previous mode after."""
    if not on:
        yield
        return
    if not _compiled.available():
        raise ValueError(
            "flush_subnormals needs bprop's compiled kernel, which is not built "
            "(reinstall bprop where a C compiler is at hand)"
        )
    was = _compiled.flush_subnormals(True)
    if was is None:
        raise ValueError("flush_subnormals: this CPU has no flush-to-zero mode")
    try:
        yield
    finally:
        _compiled.flush_subnormals(was)


@contextlib.contextmanager
def blas_threads(threads: int | None, net: Network, m: int) -> Iterator[None]:
    """Limit BLAS to ``threads`` (chosen from the matrix sizes when None) while training."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    if threads is None:
        threads = 1 if _largest_product(net, m) < SMALL_GEMM else None
    with threadpool_limits(limits=threads, user_api="blas"):
        yield
