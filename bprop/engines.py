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

import numpy as np

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


# The compiled engine's first layer sums only the non-zero inputs when at most this share of
# the training inputs is non-zero — see sparse_input.  Measured, 784-30-10 with m = 10, float32,
# two threads: MNIST (19% non-zero) 0.87 × the dense kernel's epoch, Fashion-MNIST (50%) 1.53 ×;
# the line through the two crosses 1 near 25%.
SPARSE_INPUT_SHARE = 0.25
# The most inputs a mini-batch may have for the sparse first layer (its lists: 12 bytes each).
SPARSE_INPUT_ENTRIES = 4_000_000
# Rows of the training set sparse_input counts in (evenly spaced, the same rows every run).
SPARSE_INPUT_ROWS = 512
# The NumPy engine's sparse first layer (the same sparse_input decision, and a first layer of
# at least SPARSE_FIRST_WIDTH neurons) gathers the input columns each mini-batch uses; where more
# than SPARSE_BATCH_COLUMNS of them are used, that mini-batch takes the dense products.  Its
# fixed costs per mini-batch (finding the columns, gathering them from the inputs) shrink
# against what it saves as the layer widens.  Measured, float32, one epoch of 12,800 MNIST
# images, sparse ÷ dense, 2 threads: 784-100-10 0.97–1.01 (m = 10 … 512: nothing to gain),
# 784-300-10 0.86 (m = 32), 0.90 (128); 784-800-10 0.86 (128), 0.90 (1024); 784-800-800-10 0.95.
SPARSE_FIRST_WIDTH = 200
SPARSE_BATCH_COLUMNS = 0.9


def input_share(x: Any) -> float:
    """The share of non-zero entries among up to ``SPARSE_INPUT_ROWS`` evenly spaced rows of
    ``x`` (NaN counts as non-zero): what the first layer's sparse products would sum."""
    n = len(x)
    if n == 0 or x.shape[1] == 0:
        return 1.0
    rows = x[np.linspace(0, n - 1, min(n, SPARSE_INPUT_ROWS)).astype(np.int64)]
    return float(np.count_nonzero(rows)) / rows.size


def sparse_input(x: Any, m: int = 1) -> bool:
    """Whether the compiled engine's first layer should skip the zero inputs: exact (a zero
    input adds nothing to z¹ and gets nothing from BP4), and faster wherever at most
    ``SPARSE_INPUT_SHARE`` of the inputs are non-zero (measured; docs/performance.md).  Decided
    from the data alone, so a run's arithmetic never depends on the machine's load.  Not for
    mini-batches of ``m`` examples past ``SPARSE_INPUT_ENTRIES`` inputs: the kernel's lists of
    a mini-batch's non-zero inputs take 12 bytes an input."""
    return m * x.shape[1] <= SPARSE_INPUT_ENTRIES and input_share(x) <= SPARSE_INPUT_SHARE


def gathers_columns(net: Network) -> bool:
    """Whether the fused NumPy engine's first layer, given sparse inputs (``sparse_input``),
    is wide enough (``SPARSE_FIRST_WIDTH``) to multiply only the input columns each mini-batch
    uses: exact, a column of zeros adds nothing to z¹ and gets nothing from BP4."""
    return net.sizes[1] >= SPARSE_FIRST_WIDTH


def _largest_product(
    net: Network, m: int, *, sparse_first: bool = False, first_share: float = 1.0
) -> int:
    """Multiply-adds of the largest product of a mini-batch of m: m · max n_l n_(l−1) (over
    the layers after the first when ``sparse_first``; the first counted at ``first_share`` of
    its size, the share of its inputs it multiplies)."""
    return m * max(_products(net, first_share)[1 if sparse_first else 0 :], default=0)


def _products(net: Network, first_share: float = 1.0) -> list[int]:
    """Multiply-adds of each layer's product for one example, n_l n_(l−1), the first counted at
    ``first_share`` of its size."""
    products = [a * b for a, b in itertools.pairwise(net.sizes)]
    if products:
        products[0] = int(products[0] * first_share)
    return products


def engine_for(
    net: Network, mini_batch_size: int, *, compiled: bool | None = None, X: Any = None
) -> str:
    """The engine :func:`sgd` (with ``fast=True``) trains ``net`` on inputs ``X`` with:
    ``"compiled"`` (the C kernel) or ``"fused"`` (NumPy's); ValueError when ``compiled=True``
    cannot be honoured.  Without ``X`` the choice is the one for dense inputs."""
    sparse = isinstance(X, np.ndarray) and X.ndim == 2 and sparse_input(X, mini_batch_size)
    return _engine(net, mini_batch_size, True, compiled, sparse)


def _engine(net: Network, m: int, fast: bool, compiled: bool | None, sparse: bool = False) -> str:
    """Which mini-batch step trains ``net``: "plain", "fused" (NumPy) or "compiled" (C).

    With sparse inputs (:func:`sparse_input`) the compiled engine's first layer sums only
    the non-zero inputs, faster than BLAS's dense product at every size measured (784-2000-10
    with m = 128: 0.58 × NumPy's epoch), so only the later layers' products count against
    ``COMPILED_GEMM``."""
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
    if reason or _largest_product(net, m, sparse_first=sparse) >= COMPILED_GEMM:
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


# At and above this many multiply-adds in the largest product of a mini-batch, the compiled
# kernel shares each product with a second thread (bit-identical results).  Measured, float32,
# one epoch of 6,000 examples, two threads against one: 784-30-10 with m = 10 (235,200) 0.68;
# 100-30-10 with m = 64 (192,000) 0.85; with m = 10 (30,000) 1.03; 30-30-10 with m = 10
# (9,000) 2.1 — the meeting after each product costs more than its half saves.
KERNEL_PAIR_GEMM = 100_000
# Where two threads are taken but the largest product has fewer multiply-adds than this, their
# gain depends on the machine, and one thread that proves as fast with the cores free trains
# the rest of the run (KernelThreads).  Measured with AVX-512 (float32, MNIST, two ÷ one):
# 784-30-10 with m = 10 (235,200) 1.04–1.06 and 784-300-10 (2,352,000) 1.13, where AVX2 gave
# 0.80 for the former; 784-100-10 with m = 64 (5,017,600) 0.84 and 784-1000-10 with m = 10
# (7,840,000) 0.86.
KERNEL_PAIR_CHECK = 8_000_000


# Seconds of an epoch's compiled stretches after which their CPU and wall-clock times tell
# whether the kernel's two threads have the cores to themselves (and, when they do not, how
# long one thread is tried against them).
TRIAL_SECONDS = 0.05
# Two threads timed below this share of their best rate in the run are tried against one.
SLOWED = 0.8
# A trial calls the kernel for about this many multiply-adds at a time (some 5–20 ms), so that
# it ends near TRIAL_SECONDS where one stretch of mini-batches lasts longer (784-256×3-10 with
# m = 64: 256 mini-batches take ~0.2 s).
TRIAL_WORK = 200_000_000
# A stretch of mini-batches with fewer multiply-adds than this in its feedforward trains on one
# thread unless two were asked for: starting the worker thread costs tens of microseconds (a
# callback that looks after every mini-batch makes stretches of one).
STRETCH_MIN_WORK = 2_000_000


class KernelThreads:
    """The compiled kernel's threads while training, measured as it trains.

    With two threads, the first stretches of mini-batches of each epoch (the kernel's calls,
    until ``TRIAL_SECONDS`` have passed) are timed: their mini-batches a second, and the
    process's CPU time against the wall-clock time, as :class:`BlasThreads` does for BLAS (two
    threads with the cores to themselves run two CPU seconds a second).  The next
    ``TRIAL_SECONDS`` run on one thread, and whichever trained more mini-batches a second
    trains the rest of the epoch, when

    * the CPU time is below ``BUSY_SHARE`` of two seconds a second: other programs hold the
      cores;
    * two threads run below ``SLOWED`` of their best rate in the run: the host slowed the
      second core, which the CPU time cannot tell (the worker spins while it waits);
    * it is the run's first trial, or one thread won the epoch before.

    Where one thread trains at least as fast, two are timed once more and one must beat the
    better of their two trials (A B A: a slow moment of the second core, or the worker's start,
    does not decide alone).  Otherwise the epoch stays on two threads.  (The kernel's worker
    never stalls the caller, and beside a program running two threads one thread of ours gets a
    third of the cores where two get half, so two often still win: 784-800-10, m = 128, 12,800
    images beside a two-thread BLAS loop, 0.82 s on two, 1.01 on one.)  One thread and two give
    bit-identical results, so this changes only the time; the epochs that went to one thread are
    listed in ``busy_epochs``.  With ``check_one`` (products small enough that the second
    thread's gain depends on the machine, ``KERNEL_PAIR_CHECK``) a one thread that is as fast
    as two with the cores free trains the rest of the run (``threads`` becomes 1) and leaves the
    second core free.  A count that was ``forced`` is kept, and unless two were forced, a
    stretch too short to pay for the second thread (``STRETCH_MIN_WORK``) trains on one.
    """

    def __init__(
        self,
        step: Any,
        threads: int,
        *,
        forced: bool = False,
        work: int = 0,
        check_one: bool = False,
        clocks: tuple[Callable[[], float], Callable[[], float]] = (
            time.perf_counter,
            time.process_time,
        ),
    ) -> None:
        self.step, self.threads, self.forced, self.work = step, threads, forced, work
        self.check_one = check_one and not forced  # a close call, not yet judged for the run
        self.wall, self.cpu = clocks
        self.busy_epochs: list[int] = []
        self._best = 0.0  # two threads' best mini-batches a second in the run (0: not timed)
        self._one_won = False  # one thread trained the last epoch that timed it
        self._warm = False  # the run's first kernel call is not timed (it starts the worker)
        self._rate_one = 0.0
        self.epoch_begins(0)

    def epoch_begins(self, epoch: int) -> None:
        """Back to all threads, and measure again."""
        if self._rate_one:  # the last epoch ended before its second look
            self._one_won = True
        self._epoch = epoch
        self._trying: int | None = self.threads  # the count on trial; None once judged
        self._chosen = self.threads
        self._spent = (0.0, 0.0, 0)  # wall, CPU seconds and mini-batches of this trial
        self._rate_all = 0.0  # mini-batches a second on all threads, before one is tried
        self._rate_one = 0.0  # on one thread, where it won and all threads are timed again
        self._quiet = False  # whether the cores were ours during two threads' trial

    def close(self) -> None:
        """Training is over: the kernel's second thread stops."""
        self.step.close()

    def run(self, order: Any, first: int, last: int, eta: float, state: Any) -> int:
        """The kernel's mini-batches ``first`` … ``last − 1``; during a trial in calls of about
        ``TRIAL_WORK`` multiply-adds, each timed, so that the trial ends near
        ``TRIAL_SECONDS`` even where one stretch lasts longer."""
        short = not self.forced and (last - first) * self.work < STRETCH_MIN_WORK
        chunk = max(1, TRIAL_WORK // max(self.work, 1))
        done = first
        while done < last:
            trying = None if self.forced or self.threads < 2 or short else self._trying
            if trying is None:
                self.step.threads = 1 if short else self._chosen
                return int(self.step(order, done, last, eta, state))
            stop = min(last, done + chunk)
            self.step.threads = trying
            wall, cpu = self.wall(), self.cpu()
            got = int(self.step(order, done, stop, eta, state))
            if self._warm:
                self._timed(trying, self.wall() - wall, self.cpu() - cpu, got - done)
            self._warm, done = True, got  # the run's first call starts the worker, fills caches
            if got < stop:  # a cost that is not finite
                break
        return done

    def _timed(self, trying: int, wall: float, cpu: float, batches: int) -> None:
        """Add a trial call's times; past ``TRIAL_SECONDS``, judge the count on trial."""
        spent = self._spent
        self._spent = (spent[0] + wall, spent[1] + cpu, spent[2] + batches)
        wall, cpu, batches = self._spent
        if wall < TRIAL_SECONDS:
            return
        self._spent = (0.0, 0.0, 0)
        rate = batches / wall
        if trying == self.threads and self._rate_one:  # all threads again, after one won
            self._trying = None
            self._best = max(self._best, rate)
            self._judge(self._rate_one, max(self._rate_all, rate))
        elif trying == self.threads:
            self._quiet = cpu / wall >= BUSY_SHARE * self.threads  # the cores are ours
            slowed = rate < SLOWED * self._best
            untried, self._best = self._best == 0.0, max(self._best, rate)
            if self._quiet and not (slowed or untried or self._one_won or self.check_one):
                self._trying = None
            else:  # starved, slowed, not yet compared, or a close call: try one thread
                self._rate_all, self._trying = rate, 1
        elif rate >= self._rate_all:  # one thread won: time all of them once more first
            self._rate_one, self._trying = rate, self.threads
        else:
            self._trying = None
            self._judge(rate, self._rate_all)

    def _judge(self, rate_one: float, rate_all: float) -> None:
        """Choose from one thread's rate and all threads' (the better of their two trials
        where one thread won the first comparison: a slow moment of the second core, or its
        start, does not decide alone)."""
        self._rate_one = 0.0
        self._one_won = rate_one > rate_all
        if self._quiet and self.check_one:  # judged once for the run; a tie: one thread
            self.check_one = False
            if rate_one >= rate_all:
                self.threads = self._chosen = 1
        elif self._one_won:
            self._chosen = 1
            self.busy_epochs.append(self._epoch)


def kernel_threads(step: Any, threads: int | None, net: Network, m: int) -> KernelThreads:
    """The compiled kernel's threads (1 or 2) for ``step``: ``threads``, else
    ``BPROP_NUM_THREADS``, else 2 where two cores are this process's and the products are
    large enough to gain (``KERNEL_PAIR_GEMM``, a sparse first layer counted at the share of
    its inputs that are non-zero), timed against one below ``KERNEL_PAIR_CHECK``."""
    forced = threads if threads is not None else forced_threads()
    # a sparse first layer multiplies only its non-zero inputs (the book's 784-30-10 with
    # m = 10 on MNIST: 235,200 multiply-adds dense, 46,000 of them non-zero — one thread)
    share = getattr(step, "input_share", 1.0)
    work = m * sum(_products(net, share))
    if forced is not None:
        return KernelThreads(step, 2 if forced >= 2 else 1, forced=True, work=work)
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    largest = _largest_product(net, m, first_share=share)
    pair = cores >= 2 and largest >= KERNEL_PAIR_GEMM
    return KernelThreads(
        step, 2 if pair else 1, work=work, check_one=pair and largest < KERNEL_PAIR_CHECK
    )


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
