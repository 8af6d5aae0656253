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
import os
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

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


#: Environment variable that sets BLAS's thread count while bprop trains (a whole number ≥ 1).
THREADS_ENV = "BPROP_NUM_THREADS"
# Mini-batches of each epoch whose CPU and wall-clock times tell whether BLAS's threads have the
# cores to themselves (after one mini-batch to settle), and the share of `threads` CPU seconds
# per second below which they do not.
TRIAL_BATCHES = 8
BUSY_SHARE = 0.65


def forced_threads() -> int | None:
    """The thread count ``BPROP_NUM_THREADS`` asks for, or None when it is not set."""
    value = os.environ.get(THREADS_ENV, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{THREADS_ENV} must be a whole number ≥ 1 (BLAS threads), got {value!r}")
    return int(value)


class BlasThreads:
    """BLAS's thread count while training: fixed, or measured each epoch on a busy machine.

    With several threads, the first mini-batches of each epoch compare the process's CPU time
    with the wall-clock time.  Threads that have the cores to themselves run about
    ``threads`` CPU seconds a second; when other programs hold the cores, OpenBLAS's threads
    wait for one another and the epoch gets slower than on one thread (measured on 2 busy
    cores, 784-800-10 with m = 128: 1.9–2.3 s on two threads, 1.3 s on one; quiet: 0.5 and 0.8).
    Below ``BUSY_SHARE`` of that, the rest of the epoch trains on one thread, and the next
    epoch measures again.  On a quiet machine nothing changes, so seeded runs stay bit for bit
    what they were; the epochs that fell back are listed in ``busy_epochs`` (one thread rounds
    float32 products differently from two).
    """

    def __init__(
        self,
        controller: Any,
        threads: int,
        adaptive: bool,
        clocks: tuple[Callable[[], float], Callable[[], float]] = (
            time.perf_counter,
            time.process_time,
        ),
    ) -> None:
        self.controller, self.threads, self.adaptive = controller, threads, adaptive
        self.wall, self.cpu = clocks
        self.busy_epochs: list[int] = []
        self._count, self._start, self._epoch = 0, (0.0, 0.0), 0
        self._one = False

    def epoch_begins(self, epoch: int) -> None:
        """Back to all threads, and measure again."""
        self._epoch, self._count = epoch, 0
        if self._one:
            self.controller.limit(limits=self.threads)
            self._one = False

    def batch_done(self) -> None:
        """After each mini-batch: at the end of the trial, fall to one thread if starved."""
        if not self.adaptive or self._one:
            return
        self._count += 1
        if self._count == 1:
            self._start = (self.wall(), self.cpu())
        elif self._count == 1 + TRIAL_BATCHES:
            wall, cpu = self.wall() - self._start[0], self.cpu() - self._start[1]
            if wall > 0 and cpu / wall < BUSY_SHARE * self.threads:
                self.controller.limit(limits=1)
                self._one = True
                self.busy_epochs.append(self._epoch)


@contextlib.contextmanager
def blas_threads(threads: int | None, net: Network, m: int) -> Iterator[BlasThreads]:
    """BLAS's threads while training: ``threads``, else ``BPROP_NUM_THREADS``, else one for
    small products and all of them, measured each epoch (:class:`BlasThreads`), for large."""
    forced = threads if threads is not None else forced_threads()
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        yield BlasThreads(None, 1, False)
        return
    controller = ThreadpoolController().select(user_api="blas")
    if forced is not None:
        n, adaptive = forced, False
    elif _largest_product(net, m) < SMALL_GEMM:
        n, adaptive = 1, False
    else:
        n = max([lib["num_threads"] for lib in controller.info()] or [1])
        adaptive = n > 1
    original = controller.limit(limits=n)
    try:
        yield BlasThreads(controller, n, adaptive)
    finally:
        original.restore_original_limits()
