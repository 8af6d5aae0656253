"""Mini-batch stochastic gradient descent: the seeds' training loop, and what it records.

For each mini-batch of m examples, with the gradients from BP1–BP4
(:func:`bprop.backprop.backprop`):

    w^l → w^l − (η/m) Σ_x δ^(x,l) (a^(x,l−1))ᵀ
    b^l → b^l − (η/m) Σ_x δ^(x,l)

Options beyond the seeds, all off by default: L2 regularisation in Nielsen's form
``w → (1 − ηλ/n) w − (η/m) Σ ∇C_x`` (n the size of the training set), momentum
``v → μv − η∇C, w → w + v``, a learning-rate schedule η(epoch), and ``update_biases=False``
(the seeds' program never updates its biases).

The loop never prints.  It reports through the returned :class:`History` and through
callbacks (:class:`Callback`); :class:`PrintEpochs` prints the book's ``Epoch N: k / total``
(all three in :mod:`bprop.history`, and importable from here).
Divergence stops it with a :class:`bprop.errors.DivergenceError` — a cost that becomes NaN or
infinite, or weights whose squares overflow — and a run that ends no better than chance is
told so by a :class:`bprop.errors.ChanceWarning` (both judged by :mod:`bprop.divergence`).
Training can stop after any mini-batch (a callback sets ``state.stop_requested``) and resume
from the returned :class:`TrainState` to bit-identical weights, because each epoch's order is
a pure function of ``(seed, epoch)``.

The network arrives as an argument: this module takes the math from :mod:`bprop.backprop`
and the input checks from :mod:`bprop._validate`, and never imports :mod:`bprop.network`
(whose ``Network.SGD`` calls :func:`sgd`), so the two make no import circle.
"""

from __future__ import annotations

import contextvars
import copy
import functools
import math
import time
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from bprop import _compiled, engines, fused, optimizers, regularization, techniques
from bprop._validate import (
    X_NOT_FINITE,
    all_finite,
    check_hyperparameters,
    check_seed,
    check_state,
    inputs,
    labels_of,
    sample_weights,
    targets,
)
from bprop.activations import LEAKY_SLOPE
from bprop.backprop import backprop, decide, feedforward
from bprop.costs import pairing_problem
from bprop.divergence import Blame, TriedEta, overflowing_weights, warn_if_chance
from bprop.engines import BlasThreads, KernelThreads, _engine, kernel_threads, subnormals_flushed
from bprop.engines import blas_threads as blas_threads_for
from bprop.errors import DivergenceError, PairingWarning
from bprop.history import (
    Callback,
    EpochRecord,
    History,
    PrintEpochs,
    TrainState,
)
from bprop.schedules import (
    Schedule,
    next_eta,
    schedule,  # noqa: F401 - bprop.train.schedule, as before
)

if TYPE_CHECKING:
    from bprop.network import Network

Array = np.ndarray
# Mini-batches per call of the compiled engine: few enough that Ctrl-C is noticed at once.
COMPILED_STRETCH = 256


# -- the loop ----------------------------------------------------------------------------------


def epoch_order(seed: int, epoch: int, n: int, shuffle: bool) -> Array:
    """The order of the n training examples in ``epoch``: a pure function of its arguments."""
    if not shuffle:
        return np.arange(n)
    return np.random.default_rng([seed, epoch]).permutation(n)


def sgd(
    net: Network,
    X: Any,
    Y: Any,
    epochs: int,
    mini_batch_size: int,
    eta: float | Callable[[int], float],
    *,
    lmbda: float = 0.0,
    momentum: float = 0.0,
    test_data: tuple[Any, Any] | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    update_biases: bool = True,
    callbacks: Sequence[Callback] = (),
    verbose: bool | None = False,
    state: TrainState | None = None,
    history: History | None = None,
    fast: bool = True,
    blas_threads: int | None = None,
    compiled: bool | None = None,
    flush_subnormals: bool = False,
    optimizer: str | optimizers.Optimizer | None = None,
    l1: float = 0.0,
    max_norm: float | None = None,
    dropout: float | Sequence[float] | None = None,
    early_stop: int | None = None,
    augment: Callable[[Array, np.random.Generator], Array] | None = None,
    sample_weight: Any = None,
) -> History:
    """Train ``net`` in place by mini-batch SGD and return the :class:`History`.

    Parameters
    ----------
    net : Network
        The network to train; its weights and biases change in place.
    X : array ``(n, n_in)``
        Training inputs, one per row.
    Y : array ``(n, n_out)`` or ``(n,)``
        Targets, or integer class labels (turned into one-hot targets).
    epochs : int
        Passes over the training data.
    mini_batch_size : int
        m; the last mini-batch of an epoch may be smaller when m does not divide n.
    eta : float or callable
        The learning rate η, or η(epoch) (see :class:`Schedule`).
    lmbda : float
        λ of L2 regularisation, Nielsen's ``(1 − ηλ/n) w`` form.
    momentum : float
        μ in [0, 1); 0 is plain SGD.
    test_data : (X_test, y_test), optional
        Evaluated after each epoch; y_test are labels or one-hot rows.
    shuffle : bool
        Shuffle the examples every epoch (by a permutation of indices, never of the data);
        False keeps the given order.
    seed : int, optional
        Seed of the shuffling; recorded in the history so any run can be repeated.
    update_biases : bool
        False keeps the biases fixed, as the seeds' program does.
    callbacks : sequence of Callback
    verbose : bool, optional
        Print the book's epoch line (adds :class:`PrintEpochs`) after each epoch. None (the
        default of :meth:`bprop.network.Network.SGD`) prints it when ``test_data`` is given —
        ``Epoch 0: 9129 / 10000``, as the book's ``network.py`` does — and nothing otherwise,
        where the book's line would only say ``Epoch 0 complete``; True prints either; False
        (the default here) never prints.
    state, history : optional
        A :class:`TrainState` and :class:`History` returned by an interrupted call: training
        resumes exactly where it stopped (pass the same data and options).
    fast : bool
        Use the fused, preallocated mini-batch step (default) rather than the textbook one;
        both compute the same update and agree to float rounding.
    blas_threads : int, optional
        Threads for the BLAS matrix products while training; by default the environment's
        ``BPROP_NUM_THREADS``, else 1 when the products are too small to gain from more (the
        book's 784-30-10 with m = 10), else all cores — falling to one for the rest of an
        epoch whose first mini-batches show the cores busy with other programs (see
        :class:`bprop.engines.BlasThreads`; such epochs are listed in
        ``history.config["blas_one_thread_epochs"]``).  Needs threadpoolctl; without it BLAS
        keeps its own setting.  The compiled engine shares each mini-batch's products between
        two threads (results bit-identical to one) when this, or ``BPROP_NUM_THREADS``, is 2
        or more, or by default where two cores are free and the products are large enough
        (:func:`bprop.engines.kernel_threads`; where the gain is small, one thread is timed
        against two in the first epoch and kept where it is as fast);
        ``history.config["kernel_threads"]`` says which trained, and
        ``"kernel_one_thread_epochs"`` the epochs one thread trained because it proved faster
        when timed against two — a busy or slowed machine, or the run's first comparison
        (:class:`bprop.engines.KernelThreads`).
    compiled : bool, optional
        Run the fused step compiled in C (``bprop/_kernel_step.h``, built when bprop is
        installed), which removes NumPy's per-call overhead where the matrices are small.
        None (the default) uses it when the kernel is built, the network's activations and
        cost are built-in ones and each mini-batch product is under 8 million multiply-adds;
        True insists on it (ValueError when it cannot be used); False never uses it. Ignored
        when ``fast`` is False. All engines agree to float rounding.
    flush_subnormals : bool
        Flush subnormal numbers to zero while training (the CPU's FTZ/DAZ modes, set in the
        training thread and restored after; see :func:`bprop._compiled.flush_subnormals`).
        Saturated sigmoid neurons make subnormals (below 1.2e-38 in float32, 2.2e-308 in
        float64) on which the arithmetic is many times slower; flushing them changes results
        only where such tiny numbers arise, so the run no longer equals IEEE arithmetic there.
        Needs the compiled kernel (it holds the switch); off by default.
    optimizer, l1, max_norm, dropout
        ``"sgd"`` (default), ``"nesterov"``, ``"adam"`` or ``"adamw"`` (:mod:`bprop.optimizers`);
        L1's λ₁ and max-norm's c (:mod:`bprop.regularization`); dropout rates, one number for
        the hidden layers or one per layer before the output, input first (:mod:`bprop.dropout`).
        Any of them runs :mod:`bprop.techniques`' NumPy step (``history.config["engine_note"]``).
    early_stop : int, optional
        Stop when ``test_data``'s accuracy has not improved for this many epochs (a ``plateau``
        schedule stops when η < η₀/128); ``history.config["stopped"]`` says why.
    augment : callable, optional
        ``augment(X, rng)``: the training inputs of an epoch (:func:`bprop.augment.augmenter`).
    sample_weight : array ``(n,)`` of numbers ≥ 0, optional
        The weighted cost C = Σ_x s_x C_x / Σ_x s_x: BP1's δ^(x,L) is scaled by ŝ_x = n s_x/Σ s
        (BP2–BP4 carry it); ``train_cost`` is the weighted C. Fused step only (the kernel has no
        per-example scale): compiled=None falls back, compiled=True and fast=False are refused.

    Returns
    -------
    History
        One :class:`EpochRecord` per epoch, the configuration (with the engine that ran) and,
        in ``state``, what :func:`sgd` needs to continue the run (``state=``, ``history=``).

    Raises
    ------
    bprop.errors.DivergenceError
        When the cost becomes NaN or infinite, or the weights grow so large that their squares
        overflow; the network keeps the weights it had at the start of that epoch.  The
        message blames λ when the weight decay factor 1 − ηλ/n is negative, else η.

    Warns
    -----
    bprop.errors.ChanceWarning
        When training completes no better than chance: the last epoch's accuracy on
        ``test_data`` (of 100 examples or more) is within three standard errors of the share
        of its commonest class (see :mod:`bprop.divergence`).
    """
    x, _ = inputs(X, net.sizes[0], net.dtype, batch_only=True, sparse=fast and compiled is not True)
    n = x.shape[0]
    if n == 0:
        raise ValueError("no training examples: X has 0 rows")
    y = targets(Y, n, net.sizes[-1], net.dtype)
    labels = labels_of(Y, y)
    s_hat = sample_weights(sample_weight, n, net.dtype, fast, compiled)
    epochs, mini_batch_size, lmbda, momentum = check_hyperparameters(
        epochs, mini_batch_size, n, eta, lmbda, momentum
    )
    problem = pairing_problem(net.cost, net.activations[-1])
    if problem:
        warnings.warn(
            f'{problem}. Use output_activation="softmax", or cost="cross-entropy".',
            PairingWarning,
            stacklevel=3,
        )
    eta_at = eta if callable(eta) else (lambda _epoch, _eta=float(eta): _eta)
    test = _test_arrays(net, test_data)
    tech = techniques.check(net, optimizer, l1, n, max_norm, dropout, early_stop, test, eta_at)
    seed = check_seed(seed)

    if state is None:
        state = TrainState(seed=_fresh_seed() if seed is None else seed)
    else:  # a state to resume from (a checkpoint's, perhaps edited): check it all
        check_state(state, net, n, mini_batch_size)
    if history is None:
        history = History()
    history.config = {
        "epochs": epochs,
        "mini_batch_size": mini_batch_size,
        "eta": eta.describe() if isinstance(eta, Schedule) else eta_at(0),
        "lmbda": lmbda,
        "momentum": momentum,
        "shuffle": shuffle,
        "seed": state.seed,
        "update_biases": update_biases,
        "n_train": n,
    }
    history.config |= techniques.record(tech, l1, early_stop, augment)
    history.status, history.state = "running", state
    state.stop_requested = False
    if (momentum or tech[0].name != "sgd") and state.velocity_w is None:
        state.velocity_w = [np.zeros_like(w) for w in net.weights]
        state.velocity_b = [np.zeros_like(b) for b in net.biases]
    if tech[0].adaptive and state.moments_w is None:
        state.moments_w = [np.zeros_like(w) for w in net.weights]
        state.moments_b = [np.zeros_like(b) for b in net.biases]
    if verbose is None:
        verbose = test_data is not None
    callbacks = list(callbacks) + ([PrintEpochs()] if verbose else [])
    for c in callbacks:
        c.on_train_begin(net, state)

    # Overflow on the way to a NaN cost is reported once, as a DivergenceError, not as warnings.
    extended = techniques.extended(tech)
    note = techniques.engine_note(extended, augment is not None)
    if note and compiled is True:
        raise ValueError(f"cannot train with the compiled engine: {note}")
    fused_only = s_hat is not None or not isinstance(x, np.ndarray)  # weights, or a CSR X
    if fused_only and (extended or augment is not None):
        raise ValueError(
            "sample_weight and sparse X train with the book's SGD step only: not with "
            "optimizer, l1, max_norm, dropout or augment"
        )
    sparse = fast and isinstance(x, np.ndarray) and engines.sparse_input(x, mini_batch_size)
    engine = _engine(net, mini_batch_size, fast, False if note or fused_only else compiled, sparse)
    engine = "plain" if extended else engine
    run = _Run(
        net, x, y, labels, mini_batch_size, lmbda / n, momentum, update_biases, engine, sparse
    )
    run.s_hat = s_hat
    run.early_stop, run.augment, run.x0 = early_stop, augment, x
    if not _probing.get():  # a probe's own divergence is only counted, never probed again
        run.try_smaller_eta = functools.partial(
            _try_smaller_eta,
            x=x,
            y=y,
            m=mini_batch_size,
            s_hat=s_hat,
            options=dict(
                lmbda=lmbda,
                momentum=momentum,
                update_biases=update_biases,
                fast=fast,
                compiled=compiled,
                optimizer=optimizer,
                l1=l1,
                max_norm=max_norm,
                dropout=dropout,
                seed=state.seed,
            ),
        )
    if extended:
        run.tech, run.step = tech, functools.partial(techniques.step, run)
    history.config["engine"] = engine
    if note:
        history.config["engine_note"] = note
    if engine == "compiled":
        history.config["kernel"] = _compiled.instruction_set()
        run.kernel = kernel_threads(run.compiled, blas_threads, net, mini_batch_size)
        history.config["kernel_threads"] = run.kernel.threads
        history.config["sparse_input"] = run.compiled.sparse_input
    elif engine == "fused":
        history.config["sparse_input"] = run.sparse_input
    history.config["flush_subnormals"] = bool(flush_subnormals)
    with (
        np.errstate(over="ignore", invalid="ignore"),
        # The kernel needs no BLAS: one BLAS thread, whose idle siblings would spin on the core
        # the kernel's second thread wants (OpenBLAS's spin for up to a tenth of a second).
        blas_threads_for(
            1 if engine == "compiled" else blas_threads, net, mini_batch_size
        ) as run.threads,
        subnormals_flushed(flush_subnormals),
        fused.columns_contiguous(net.weights if run.sparse_input else None),
        fused.columns_contiguous(state.velocity_w if run.sparse_input else None),
    ):
        try:
            run.loop(epochs, eta_at, lmbda, shuffle, callbacks, test, state, history)
        finally:
            if run.threads.busy_epochs:
                history.config["blas_one_thread_epochs"] = run.threads.busy_epochs
            if run.kernel is not None:
                run.kernel.close()
                history.config["kernel_threads"] = run.kernel.threads  # after its trial
                if run.kernel.busy_epochs:
                    history.config["kernel_one_thread_epochs"] = run.kernel.busy_epochs
    return history


#: Where η diverges, smaller η (:func:`_smaller_etas`) are tried on the first examples of the
#: diverging epoch — those up to the mini-batch that diverged, at least PROBE_MIN and at most
#: PROBE_MAX of them, over at least PROBE_STEPS mini-batches — from the weights the epoch
#: started with: the message advises the one that lowered their cost the most, a number that
#: was tried.
PROBE_MIN, PROBE_MAX, PROBE_STEPS = 2_000, 10_000, 200
_probing = contextvars.ContextVar("bprop_probing_eta", default=False)


def _smaller_etas(eta: float) -> list[float]:
    """η/10, η/100, η/1000, then the powers of ten from 100 down to 10⁻⁴ below those: the
    steps tried where η diverged, largest first (η = 10³⁰⁰ is not answered with 10²⁹⁹)."""
    near = [eta / 10, eta / 100, eta / 1000]
    return near + [10.0**p for p in range(2, -5, -1) if 10.0**p < near[-1]]


def _try_smaller_eta(
    net: Network,
    eta: float,
    order: Array,
    k: int,
    *,
    x: Any,
    y: Array,
    m: int,
    s_hat: Array | None,
    options: dict[str, Any],
) -> TriedEta:
    """Train copies of ``net`` (holding the diverging epoch's starting weights) with η/10,
    η/100, … on the examples ``order`` lists first, up to mini-batch ``k``: the η that lowers
    their cost C the most without diverging (see :data:`PROBE_DECADES`)."""
    n = x.shape[0]
    rows = order[: min(n, max((k + 1) * m, PROBE_MIN), PROBE_MAX)]
    xs, ys = x[rows], y[rows]
    dense = xs if isinstance(xs, np.ndarray) else np.asarray(xs.todense(), dtype=net.dtype)
    share = len(rows) / n  # λ/n and λ₁/n as in the run itself
    kwargs = options | {"lmbda": options["lmbda"] * share, "l1": options["l1"] * share}
    before = net.total_cost(dense, ys)
    batch = min(m, len(rows))
    epochs = -(-PROBE_STEPS // -(-len(rows) // batch))  # a small data set: passes over it
    lowest, best = eta, None
    token = _probing.set(True)
    try:
        for lowest in _smaller_etas(eta):
            probe = copy.copy(net)  # the very activations and cost (the kernel needs its own)
            probe.weights = [w.copy() for w in net.weights]
            probe.biases = [b.copy() for b in net.biases]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    sgd(probe, xs, ys, epochs, batch, lowest, shuffle=False,
                        blas_threads=1, sample_weight=None if s_hat is None else s_hat[rows],
                        **kwargs)  # fmt: skip
                    after = probe.total_cost(dense, ys)
            except DivergenceError:
                continue
            if not (math.isfinite(after) and after < before):
                continue
            if best is not None and after >= best.after:
                break  # past the best: smaller steps only learn less
            best = TriedEta(lowest, len(rows), lowest, before, after, epochs)
    finally:
        _probing.reset(token)
    return best or TriedEta(None, len(rows), lowest, passes=epochs)


class _Run:
    """The training loop over epochs and mini-batches, with its fixed context.

    Three interchangeable engines: :meth:`plain_step` is the textbook one — BP1–BP4 by
    :func:`bprop.backprop.backprop`, then the update; :meth:`fused_step` does the same
    arithmetic in preallocated buffers, with δ^L scaled by η/m before it is backpropagated
    (BP2 is linear in δ, so BP3 and BP4 then give η·∂C/∂b and η·∂C/∂w directly); and
    ``self.compiled`` (:class:`bprop._compiled.Step`) runs the fused step for stretches of
    mini-batches in one C function. All agree to float rounding; tests check it.
    """

    tech: tuple[Any, ...] | None = None  # (optimizer, λ₁/n, max-norm c, dropout rates)
    early_stop: int | None = None
    augment: Any = None
    x0: Any = None  # the training inputs before augmentation

    def __init__(
        self, net, x, y, labels, m, lmbda_over_n, momentum, update_biases, engine, sparse=False
    ):
        self.net, self.x, self.y, self.labels, self.m = net, x, y, labels, m
        self.lmbda_over_n, self.momentum, self.update_biases = lmbda_over_n, momentum, update_biases
        self.step = self.plain_step if engine == "plain" else self.fused_step
        self.engine = engine
        # The fused step's first layer over the input columns its mini-batch uses (see
        # bprop.fused.input_columns); the compiled engine decides inside the kernel.
        self.sparse_input = bool(sparse) and engine == "fused" and engines.gathers_columns(net)
        self.threads = BlasThreads(None, 1, False)  # sgd sets the one it trains under
        self.kernel: KernelThreads | None = None  # the compiled engine's threads (sgd sets it)
        self.predicted = np.empty(x.shape[0], np.int64)
        self.s_hat: Array | None = None  # ŝ_x = n s_x / Σ s, when sgd got sample weights
        self.try_smaller_eta: Callable[..., TriedEta] | None = None  # sgd sets it
        dt, widths = net.dtype, net.sizes[1:]
        if engine != "plain":
            self.z = [np.empty((m, w), dt) for w in widths]
            self.a = [np.empty((m, w), dt) for w in widths]
            self.delta = [np.empty((m, w), dt) for w in widths]
        if engine == "fused":
            self.xb = np.empty((m, net.sizes[0]), dt)
            self.yb = np.empty((m, net.sizes[-1]), dt)
            self.tmp = [np.empty((m, w), dt) for w in widths]
            self.nabla_w = [np.empty_like(w) for w in net.weights]
            self.nabla_b = [np.empty_like(b) for b in net.biases]
        if engine == "compiled":
            self.batch_costs = np.empty(-(-len(x) // m), np.float64)
            self.compiled = _compiled.Step(
                net,
                x,
                y,
                m,
                lmbda_over_n,
                momentum,
                update_biases,
                (self.z, self.a, self.delta),
                self.predicted,
                self.batch_costs,
                LEAKY_SLOPE,
                sparse_input=sparse,
            )

    def loop(self, epochs, eta_at, lmbda, shuffle, callbacks, test, state, history) -> None:
        net, n, m = self.net, self.x.shape[0], self.m
        batch_hooks = [c for c in callbacks if type(c).on_batch_end is not Callback.on_batch_end]
        n_batches = -(-n // m)
        accuracies = [r.test_accuracy for r in history.epochs]  # kept as epochs end
        while state.epoch < epochs:
            epoch = state.epoch
            eta, stopped = next_eta(eta_at, epoch, accuracies, self.early_stop)
            if eta is None:
                history.config["stopped"] = stopped
                break
            if self.augment is not None:
                rng = np.random.default_rng([state.seed, epoch, 2])
                self.x = np.ascontiguousarray(self.augment(self.x0, rng), dtype=net.dtype)
            blame = Blame(eta, lmbda, n)
            order = epoch_order(state.seed, epoch, n, shuffle)
            last_good = ([w.copy() for w in net.weights], [b.copy() for b in net.biases])
            first, started = state.batch, time.perf_counter()
            self.threads.epoch_begins(epoch)
            if self.kernel is not None:
                self.kernel.epoch_begins(epoch)
            k = first
            while k < n_batches:
                if self.engine == "compiled":
                    # A stretch of mini-batches in one compiled call, ending where a callback
                    # asks to see the state (Callback.next_batch_end).
                    stop = min(
                        [n_batches, k + COMPILED_STRETCH]
                        + [c.next_batch_end(state) for c in batch_hooks]
                    )
                    stop = max(stop, k + 1)
                    assert self.kernel is not None  # sgd sets it for the compiled engine
                    done = self.kernel.run(order, k, stop, eta, state)
                    for kb in range(k, done):
                        state.cost_sum += float(self.batch_costs[kb])
                    if done < stop:
                        k, batch_cost = done, float(self.batch_costs[done])
                    else:
                        k, batch_cost = stop - 1, 0.0
                else:
                    rows = order[k * m : (k + 1) * m] if shuffle else slice(k * m, (k + 1) * m)
                    batch_cost = self.step(rows, eta, state, k * m)
                    self.threads.batch_done()
                    if math.isfinite(batch_cost):
                        state.cost_sum += batch_cost
                if not math.isfinite(batch_cost):
                    net.weights[:], net.biases[:] = last_good
                    history.status = "diverged"
                    self._blame_inputs()
                    what = f"the cost became {batch_cost} in epoch {epoch}, mini-batch {k}"
                    message = self._diverged(what, blame, epoch, order, k, eta_at, history)
                    raise DivergenceError(message, history)
                k += 1
                state.batch = k
                for c in batch_hooks:
                    c.on_batch_end(state)
                # A stop asked after the epoch's last mini-batch waits for the epoch to close
                # (below), so that a checkpoint never holds a mini-batch past the epoch.
                if state.stop_requested and k < n_batches:
                    self._count(state, order, first * m, state.batch * m)
                    state.seconds += time.perf_counter() - started
                    history.status = "interrupted"
                    return
            self._count(state, order, first * m, n)
            state.seconds += time.perf_counter() - started
            largest = overflowing_weights(net)
            if largest is not None:
                net.weights[:], net.biases[:] = last_good
                history.status = "diverged"
                self._blame_inputs()
                what = (
                    f"the weights grew past what {np.dtype(net.dtype).name} can square in epoch "
                    f"{epoch} (largest |w| = {largest:.2g}), though the cost stayed finite"
                )
                message = self._diverged(what, blame, epoch, order, n_batches - 1, eta_at, history)
                raise DivergenceError(message, history)
            record = _close_epoch(net, state, epoch, eta, lmbda, n, self.labels is not None, test)
            if self.tech is not None and self.tech[1]:
                record.train_cost += regularization.l1_cost(net.weights, self.tech[1])
            history.epochs.append(record)
            accuracies.append(record.test_accuracy)
            state.epoch, state.batch = epoch + 1, 0
            state.cost_sum, state.correct, state.seen, state.seconds = 0.0, 0, 0, 0.0
            for c in callbacks:
                c.on_epoch_end(record, net, state)
            if state.stop_requested:
                history.status = "interrupted"
                return
        history.status = "completed"
        if history.epochs:
            warn_if_chance(history.epochs[-1], test)

    def _diverged(
        self, what: str, blame: Blame, epoch: int, order: Array, k: int, eta_at: Any, history: Any
    ) -> str:
        """The divergence message of mini-batch ``k`` (the weights already put back), with an η
        that was tried when η is to blame."""
        tried = None
        if blame.eta_to_blame and self.try_smaller_eta is not None:
            tried = self.try_smaller_eta(self.net, blame.eta, order, k)
            if tried.eta is not None:  # for the diagnostics' advice
                history.config["tried_eta"] = tried.eta
        return blame.message(what, epoch, tried, eta0=float(eta_at(0)))

    def _blame_inputs(self) -> None:
        """Divergence that X caused is X's error: an array found finite at an earlier call is not
        rescanned (see :mod:`bprop._validate`), so NaN written into it since shows up here."""
        if not all_finite(self.x if isinstance(self.x, np.ndarray) else self.x.data):
            raise ValueError(X_NOT_FINITE)

    def _count(self, state: TrainState, order: Array, start: int, stop: int) -> None:
        """Add the examples ``order[start:stop]`` to the running totals of the epoch."""
        state.seen += stop - start
        if self.labels is not None:
            hits = self.predicted[start:stop] == self.labels[order[start:stop]]
            state.correct += int(np.count_nonzero(hits))

    def plain_step(self, rows: Any, eta: float, state: TrainState, offset: int) -> float:
        """One mini-batch: BP1–BP4 by ``backprop``, then the update; returns Σ_x C_x."""
        net = self.net
        xb, yb = self.x[rows], self.y[rows]
        nabla_b, nabla_w, out = backprop(net.weights, net.biases, net.activations, net.cost, xb, yb)
        self.predicted[offset : offset + len(xb)] = decide(out)
        batch_cost = float(np.sum(net.cost.fn(out, yb)))
        if math.isfinite(batch_cost):
            _update(
                net,
                nabla_b,
                nabla_w,
                eta,
                self.lmbda_over_n,
                self.momentum,
                self.update_biases,
                state,
            )
        return batch_cost

    def fused_step(self, rows: Any, eta: float, state: TrainState, offset: int) -> float:
        """The same mini-batch step in preallocated buffers (:func:`bprop.fused.step`)."""
        return fused.step(self, rows, eta, state, offset)


def _update(
    net: Network,
    nabla_b: list[Array],
    nabla_w: list[Array],
    eta: float,
    lmbda_over_n: float,
    momentum: float,
    update_biases: bool,
    state: TrainState,
) -> None:
    """Apply one gradient step in place (the gradients are consumed)."""
    for i, (w, nw) in enumerate(zip(net.weights, nabla_w)):
        if momentum:
            assert state.velocity_w is not None  # sgd makes them with momentum
            v = state.velocity_w[i]  # v → μv − η(∇C + (λ/n) w);  w → w + v
            v *= momentum
            if lmbda_over_n:
                nw += lmbda_over_n * w
            nw *= eta
            v -= nw
            w += v
        else:
            if lmbda_over_n:
                w *= 1.0 - eta * lmbda_over_n  # weight decay: (1 − ηλ/n) w
            nw *= eta
            w -= nw  # w → w − (η/m) Σ_x δ (a^(l−1))ᵀ
    if not update_biases:
        return
    for i, (b, nb) in enumerate(zip(net.biases, nabla_b)):
        nb *= eta
        if momentum:
            assert state.velocity_b is not None
            v = state.velocity_b[i]
            v *= momentum
            v -= nb
            b += v
        else:
            b -= nb  # b → b − (η/m) Σ_x δ


def _close_epoch(
    net: Network,
    state: TrainState,
    epoch: int,
    eta: float,
    lmbda: float,
    n: int,
    has_labels: bool,
    test: tuple[Array, Array, Array] | None,
) -> EpochRecord:
    cost = state.cost_sum / max(state.seen, 1)
    if lmbda:
        cost += 0.5 * lmbda / n * sum(float(np.sum(w * w)) for w in net.weights)
    record = EpochRecord(
        epoch=epoch,
        eta=eta,
        train_cost=cost,
        train_accuracy=state.correct / state.seen if has_labels and state.seen else None,
        seconds=state.seconds,
    )
    if test is not None:
        tx, ty, tlabels = test
        out = feedforward(net.weights, net.biases, net.activations, tx)
        record.test_cost = net.cost(out, ty)
        record.test_correct = int(np.sum(decide(out) == tlabels))
        record.test_total = len(tx)
    return record


def _test_arrays(net: Network, test_data: Any) -> tuple[Array, Array, Array] | None:
    if test_data is None:
        return None
    try:
        tX, ty = test_data
    except (TypeError, ValueError):
        raise TypeError("test_data must be a pair (X_test, y_test)") from None
    tx, _ = inputs(tX, net.sizes[0], net.dtype, batch_only=True)
    ty_targets = targets(ty, len(tx), net.sizes[-1], net.dtype)
    labels = labels_of(ty, ty_targets)
    if labels is None:
        raise ValueError("y_test must be class labels or one-hot rows to count correct answers")
    return tx, ty_targets, labels


def _fresh_seed() -> int:
    return cast(int, np.random.SeedSequence().entropy) % (2**63)
