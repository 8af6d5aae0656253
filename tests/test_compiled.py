"""The compiled (C) engine: the same training as the NumPy engines, to float rounding."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import bprop
from bprop.errors import DivergenceError
from bprop.train import Callback, TrainState
from tests.conftest import kernel_versions, needs_kernel

pytestmark = needs_kernel


def _train(engine: str, dtype=np.float64, callbacks=(), **kw):
    rng = np.random.default_rng(11)
    X, y = rng.random((53, 12)), rng.integers(0, 4, 53)
    net = bprop.Network(
        [12, 9, 7, 4], "tanh", "log-likelihood", output_activation="softmax", dtype=dtype, seed=5
    )
    options = {
        "seed": 3,
        "verbose": False,
        "callbacks": callbacks,
        "compiled": engine == "compiled",
    }
    history = net.SGD(X, y, 4, 6, 0.3, **(options | kw))
    return net, history


@pytest.fixture(params=kernel_versions())
def kernel_version(request):
    """Each version of the kernel this CPU runs, in turn."""
    from bprop import _compiled

    assert _compiled.limit_instruction_set(request.param) == request.param
    yield request.param
    _compiled.limit_instruction_set(None)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compiled_engine_tracks_the_fused_engine_over_epochs(dtype, kernel_version):
    """Four epochs of 9 mini-batches (the last one short), momentum and L2, in both dtypes,
    with every version of the kernel."""
    a, ha = _train("compiled", dtype, lmbda=0.5, momentum=0.7)
    b, hb = _train("fused", dtype, lmbda=0.5, momentum=0.7)
    assert ha.config["engine"] == "compiled" and hb.config["engine"] == "fused"
    rtol = 1e-11 if dtype == np.float64 else 2e-4
    for p, q in zip(a.weights + a.biases, b.weights + b.biases):
        assert p.dtype == dtype
        np.testing.assert_allclose(p, q, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(ha.column("train_cost"), hb.column("train_cost"), rtol=rtol)
    assert ha.column("train_accuracy") == hb.column("train_accuracy")


def test_compiled_engine_is_used_by_default_for_small_products_only():
    _, h = _train("auto", compiled=None)
    assert h.config["engine"] == "compiled"
    rng = np.random.default_rng(0)
    net = bprop.Network([784, 800, 10], seed=0)
    h = net.SGD(rng.random((130, 784)), rng.integers(0, 10, 130), 1, 128, 0.1, verbose=False)
    assert h.config["engine"] == "fused"  # 128 × 784 × 800 multiply-adds: BLAS does better


def test_compiled_engine_refuses_what_it_cannot_compile():
    softplus = bprop.Activation(
        "softplus", lambda z: np.log1p(np.exp(z)), lambda z, a: 1 - np.exp(-a)
    )
    net = bprop.Network([3, 4, 2], softplus, seed=0)
    X, y = np.ones((4, 3)), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="activation of its own"):
        net.SGD(X, y, 1, 2, 0.1, verbose=False, compiled=True)
    assert net.SGD(X, y, 1, 2, 0.1, verbose=False).config["engine"] == "fused"


class _StopAt(Callback):
    def __init__(self, batch: int) -> None:
        self.batch = batch

    def on_batch_end(self, state: TrainState) -> None:
        if state.epoch == 1 and state.batch == self.batch:
            state.stop_requested = True


def test_compiled_engine_stops_after_any_mini_batch_and_resumes_bit_identically():
    whole, _ = _train("compiled")
    stop = _StopAt(4)
    part, history = _train("compiled", callbacks=[stop])
    assert history.status == "interrupted" and history.state.batch == 4
    rng = np.random.default_rng(11)
    X, y = rng.random((53, 12)), rng.integers(0, 4, 53)
    stop.batch = -1
    part.SGD(
        X,
        y,
        4,
        6,
        0.3,
        seed=3,
        verbose=False,
        state=history.state,
        history=history,
        compiled=True,
    )
    for p, q in zip(whole.weights + whole.biases, part.weights + part.biases):
        np.testing.assert_array_equal(p, q)


def test_compiled_engine_reports_divergence_and_keeps_the_last_good_weights():
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(40, 3)) * 50, rng.normal(size=(40, 2)) * 50
    net = bprop.Network([3, 5, 2], "relu", "quadratic", output_activation="identity", seed=0)
    before = [w.copy() for w in net.weights]
    messages = []
    for compiled in (True, False):
        with pytest.raises(DivergenceError, match="too large") as info:
            net.SGD(X, Y, 3, 4, 5.0, verbose=False, compiled=compiled, seed=0)
        assert info.value.history.status == "diverged"
        for w, w0 in zip(net.weights, before):  # diverged in epoch 0: the weights it started with
            np.testing.assert_array_equal(w, w0)
        messages.append(str(info.value))
    assert messages[0] == messages[1]  # the same epoch and mini-batch as the NumPy engine


def test_compiled_engine_runs_the_diagnostics_probes_at_the_same_mini_batches():
    """Stretches end where a callback asks (Callback.next_batch_end), so the first epoch's
    probes at 1%, 5% and 20% see the same weights as with the NumPy engine."""
    from bprop.diagnostics import Diagnostics

    rng = np.random.default_rng(2)
    X, y = rng.random((600, 12)), rng.integers(0, 4, 600)
    records = []
    for compiled in (True, False):
        d = Diagnostics(X[:50], y[:50], batches_per_epoch=100)
        net = bprop.Network([12, 8, 4], "sigmoid", "cross-entropy", seed=1)
        h = net.SGD(X, y, 2, 6, 0.5, seed=0, verbose=False, callbacks=[d], compiled=compiled)
        assert h.config["engine"] == ("compiled" if compiled else "fused")
        records.append(d.records)
    compiled_records, numpy_records = records
    assert [(r["epoch"], r["batch"]) for r in compiled_records] == [
        (0, 0),
        (0, 1),
        (0, 5),
        (0, 20),
        (1, 0),
        (2, 0),
    ]
    assert [(r["epoch"], r["batch"]) for r in numpy_records] == [
        (r["epoch"], r["batch"]) for r in compiled_records
    ]
    for r, s in zip(compiled_records, numpy_records):
        np.testing.assert_allclose(r["layers"][0]["speed_b"], s["layers"][0]["speed_b"], rtol=1e-10)


def test_compiled_engine_is_skipped_for_weights_it_cannot_compile_for():
    """A user may assign any array to net.weights[i]; the auto engine then uses NumPy's."""
    net = bprop.Network([3, 4, 2], seed=0, dtype=np.float32)
    net.weights[0] = np.asfortranarray(net.weights[0])
    X, y = np.ones((4, 3)), np.array([0, 1, 0, 1])
    assert net.SGD(X, y, 1, 2, 0.1, verbose=False).config["engine"] == "fused"
    with pytest.raises(ValueError, match="C-contiguous"):
        net.SGD(X, y, 1, 2, 0.1, verbose=False, compiled=True)


class _Replace(Callback):
    """Replaces w^2 after mini-batch 3 of epoch 0, as a user's callback may."""

    def __init__(self, make) -> None:
        self.make = make

    def on_batch_end(self, state: TrainState) -> None:
        if state.epoch == 0 and state.batch == 3:
            self.net.weights[0] = self.make(self.net.weights[0])

    def on_train_begin(self, net, state) -> None:
        self.net = net


def test_compiled_engine_follows_weights_a_callback_replaces():
    """The kernel writes into whatever arrays net.weights holds when a stretch starts."""
    nets = [
        _train(engine, callbacks=[_Replace(lambda w: w * 0.5)])[0]
        for engine in ("compiled", "fused")
    ]
    for p, q in zip(nets[0].weights + nets[0].biases, nets[1].weights + nets[1].biases):
        np.testing.assert_allclose(p, q, rtol=1e-11, atol=1e-13)


def test_compiled_engine_refuses_replaced_weights_it_cannot_write_into():
    with pytest.raises(ValueError, match="C-contiguous float64"):
        _train("compiled", callbacks=[_Replace(lambda w: np.asfortranarray(w))])


def test_compiled_engine_names_the_instruction_set_it_runs_with():
    from bprop import _compiled

    assert _compiled.instruction_set() in ("avx512", "avx2", "generic")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    ("sizes", "m"),
    [
        ((70, 37, 21, 5), 23),  # widths past a vector, not multiples of one; ragged blocks
        ((130, 64, 10), 10),  # whole vectors; the book's mini-batch size
        ((784, 30, 10), 10),  # the book's network
        ((130, 10), 7),  # no hidden layer: BP4 reads the training rows, no BP2
    ],
)
def test_every_kernel_version_vectorises_like_numpy(sizes, m, dtype, kernel_version):
    """Layers wide enough for the kernel's vector loops and register blocks (and their
    leftovers: rows of w beyond a multiple of 4, mini-batch rows beyond a block, columns
    beyond a vector): the same weights as the fused NumPy engine after 3 epochs."""
    rng = np.random.default_rng(7)
    X, y = rng.random((101, sizes[0])), rng.integers(0, sizes[-1], 101)
    nets = []
    for compiled in (True, False):
        net = bprop.Network(list(sizes), "sigmoid", "cross-entropy", dtype=dtype, seed=2)
        h = net.SGD(
            X, y, 3, m, 0.5, lmbda=0.1, momentum=0.3, seed=4, verbose=False, compiled=compiled
        )
        assert h.config["engine"] == ("compiled" if compiled else "fused")
        nets.append(net)
    rtol = 1e-11 if dtype == np.float64 else 1e-4
    for p, q in zip(nets[0].weights + nets[0].biases, nets[1].weights + nets[1].biases):
        np.testing.assert_allclose(p, q, rtol=rtol, atol=rtol)


def test_plain_sgd_updates_through_the_kernel_equal_numpy(kernel_version):
    """Without momentum or L2 the kernel subtracts BP4's sums straight from w."""
    rng = np.random.default_rng(8)
    X, y = rng.random((64, 100)), rng.integers(0, 10, 64)
    nets = []
    for compiled in (True, False):
        net = bprop.Network([100, 45, 10], seed=1)
        net.SGD(X, y, 2, 10, 3.0, seed=0, verbose=False, compiled=compiled)
        nets.append(net)
    for p, q in zip(nets[0].weights + nets[0].biases, nets[1].weights + nets[1].biases):
        np.testing.assert_allclose(p, q, rtol=1e-11, atol=1e-13)


def _flushes() -> bool:
    """Whether this thread now flushes subnormal results to zero."""
    return float(np.float32(1e-38) * np.float32(1e-3)) == 0.0


def test_flush_subnormals_holds_for_training_only_and_is_restored_after_divergence():
    """#20 item 6: FTZ/DAZ while training when asked, IEEE gradual underflow after — also when
    training ends in a DivergenceError; off by default."""
    seen = []

    class Probe(Callback):
        def on_batch_end(self, state: TrainState) -> None:
            seen.append(_flushes())

    rng = np.random.default_rng(0)
    X, y = rng.random((40, 4)), rng.integers(0, 2, 40)
    net = bprop.Network([4, 3, 2], seed=0)
    history = net.SGD(X, y, 1, 10, 1.0, flush_subnormals=True, callbacks=[Probe()])
    assert seen == [True] * 4 and not _flushes()
    assert history.config["flush_subnormals"] is True
    seen.clear()
    assert net.SGD(X, y, 1, 10, 1.0, callbacks=[Probe()]).config["flush_subnormals"] is False
    assert seen == [False] * 4
    with pytest.raises(DivergenceError):
        net.SGD(X * 1e300, y, 1, 10, 1e300, flush_subnormals=True)
    assert not _flushes()


def test_flushing_changes_nothing_where_no_subnormals_arise():
    """Only the FTZ/DAZ bits change: rounding and the rest of the arithmetic stay IEEE's, so a
    run whose numbers stay normal gives the very same weights flushed or not (both dtypes,
    sigmoid neurons pushed to saturation, where σ' gets small)."""
    rng = np.random.default_rng(1)
    X, y = rng.normal(0, 30, (200, 20)), rng.integers(0, 3, 200)
    for dtype in (np.float32, np.float64):
        nets = [bprop.Network([20, 16, 3], seed=2, dtype=dtype) for _ in range(2)]
        for net, flush in zip(nets, (False, True)):
            net.SGD(X, y, 2, 10, 3.0, seed=0, flush_subnormals=flush)
        for a, b in zip(nets[0].weights + nets[0].biases, nets[1].weights + nets[1].biases):
            np.testing.assert_array_equal(a, b)


def test_the_cli_records_flush_subnormals_and_says_so(tmp_path, capsys, monkeypatch):
    from bprop.cli import main

    monkeypatch.chdir(tmp_path)
    argv = ["train", "--limit", "500", "--epochs", "1", "--no-progress", "--seed", "1"]
    assert main([*argv, "--flush-subnormals", "--out", "run"]) == 0
    out = capsys.readouterr().out
    assert "subnormals flushed to zero" in out
    import json

    assert json.loads((tmp_path / "run/config.json").read_text())["flush_subnormals"] is True


# -- two threads (#20 item 1) -----------------------------------------------------------------


def _two_ways(sizes, m, dtype, **kw):
    """The same training on one and on two kernel threads: the two (net, history) pairs."""
    rng = np.random.default_rng(5)
    X, y = rng.random((397, sizes[0])).astype(dtype), rng.integers(0, sizes[-1], 397)
    out = []
    for threads in (1, 2):
        net = bprop.Network(list(sizes), seed=3, dtype=dtype)
        h = net.SGD(X, y, 2, m, 0.5, seed=1, compiled=True, blas_threads=threads, **kw)
        out.append((net, h))
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    ("sizes", "m", "options"),
    [
        ((784, 30, 10), 10, {}),  # the book's: rows of w cut at 16 | 14 and 4 | 6
        ((70, 37, 21, 5), 23, {"lmbda": 0.3, "momentum": 0.6}),  # ragged blocks; 5 rows: BP4 whole
        ((130, 10), 7, {"update_biases": False}),  # no hidden layer: no BP2
        ((40, 9, 3), 1, {}),  # mini-batches of one: BP2 and the small layers' halves are empty
    ],
)
def test_two_threads_give_the_very_weights_one_thread_gives(
    sizes, m, options, dtype, kernel_version
):
    """The kernel's two threads compute disjoint rows of z, δ and w by the same code as one
    thread, so the weights come out bit for bit the same (every kernel version, both dtypes)."""
    (one, h1), (two, h2) = _two_ways(sizes, m, dtype, **options)
    assert h1.config["kernel_threads"] == 1 and h2.config["kernel_threads"] == 2
    for p, q in zip(one.weights + one.biases, two.weights + two.biases):
        np.testing.assert_array_equal(p, q)
    assert h1.column("train_cost") == h2.column("train_cost")


def test_the_second_thread_takes_its_halves_of_the_products():
    """Two threads do share the work (else the tests above compare one thread with itself).
    The worker takes a half only where it is free to start it before the caller has done its
    own; OpenBLAS's idle threads spin on the cores for up to a tenth of a second after a BLAS
    call, so they are let go to sleep first.  On a machine whose cores other programs hold
    (a CI runner beside other jobs) the worker may be scheduled too late for most halves of a
    pass — the caller then takes them, by design — so up to 20 passes are given to reach the
    count; a worker that never works fails them all."""
    import time

    from threadpoolctl import threadpool_limits

    from bprop import _compiled

    rng = np.random.default_rng(0)
    X, y = rng.random((2000, 784)), rng.integers(0, 10, 2000)
    products = 200 * 5  # mini-batches × (2 feedforward, 1 BP2, 2 BP4) in a pass
    taken = 0
    with threadpool_limits(limits=1, user_api="blas"):
        time.sleep(0.3)
        net = bprop.Network([784, 30, 10], seed=1)
        for _ in range(20):
            before = _compiled.worker_halves()
            net.SGD(X, y, 1, 10, 0.5, seed=0, compiled=True, blas_threads=2)
            taken += _compiled.worker_halves() - before
            if taken > products // 10:
                break
    assert taken > products // 10


def test_two_threads_agree_for_every_activation_and_softmax_output():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(64, 33)), rng.integers(0, 4, 64)
    for hidden in ("tanh", "relu", "leaky_relu", "identity"):
        nets = []
        for threads in (1, 2):
            net = bprop.Network(
                [33, 17, 12, 4], hidden, "log-likelihood", output_activation="softmax", seed=1
            )
            net.SGD(X, y, 2, 8, 0.1, seed=0, compiled=True, blas_threads=threads)
            nets.append(net)
        for p, q in zip(nets[0].weights, nets[1].weights):
            np.testing.assert_array_equal(p, q, err_msg=hidden)


def test_the_second_thread_flushes_subnormals_as_the_first_does():
    """FTZ/DAZ is a per-thread setting: the worker takes the caller's.  Subnormal float32
    weights and inputs: flushed, every weight of w² the two threads update becomes 0 (read as
    zero); left IEEE, they stay subnormal — on one thread and on two alike."""
    tiny = np.float32(1e-39)  # below float32's smallest normal number, 1.2e-38
    rng = np.random.default_rng(0)
    X = (rng.random((60, 784)) * tiny).astype(np.float32)
    y = rng.integers(0, 10, 60)
    results = {}
    for flush in (False, True):
        for threads in (1, 2):
            net = bprop.Network([784, 30, 10], seed=1, dtype=np.float32)
            net.weights[0][:] = tiny
            net.SGD(X, y, 1, 10, 0.5, seed=0, blas_threads=threads, flush_subnormals=flush)
            results[flush, threads] = net.weights[0].copy()
    assert np.count_nonzero(results[True, 1]) == 0
    assert np.count_nonzero(results[False, 1]) == results[False, 1].size
    np.testing.assert_array_equal(results[True, 1], results[True, 2])
    np.testing.assert_array_equal(results[False, 1], results[False, 2])


class _Kernel:
    """A stand-in for the compiled step: records the threads each stretch ran on."""

    def __init__(self, clock):
        self.threads, self.calls, self.ranges, self.clock = 1, [], [], clock

    def close(self):
        pass

    def __call__(self, order, first, last, eta, state):
        self.calls.append(self.threads)
        self.ranges.append((first, last))
        self.clock.advance(last - first, self.threads)
        return last


class _Clocks:
    """Wall and CPU clocks where a mini-batch takes 1 ms and `share` CPU seconds a second on
    two threads, and `one_ms` ms (at most one CPU second a second) on one."""

    def __init__(self, share, one_ms=1.6):
        self.share, self.one_ms, self.t, self.c = share, one_ms, 0.0, 0.0
        self.two_ms = 1.0  # a test slows the second core by raising it

    def advance(self, batches, threads=2):
        wall = batches * (self.two_ms * 1e-3 if threads > 1 else self.one_ms * 1e-3)
        self.t += wall
        self.c += wall * (self.share if threads > 1 else min(self.share, 1.0))

    def pair(self):
        return (lambda: self.t), (lambda: self.c)


# An epoch that one thread wins: 50 ms on two, 50 on one, 50 on two again, the rest on one.
ONE_WINS = [2] * 4 + [1] * 5 + [2] * 4 + [1] * 3


@pytest.mark.parametrize(
    ("share", "one_ms", "forced", "expected", "busy"),
    [
        # Quiet: the run's first epoch times one thread after two; two win, and the next epoch
        # keeps them without a trial.
        (1.95, 1.6, False, ([2] * 5 + [1] * 3 + [2] * 8, [2] * 16), []),
        # Quiet, and one thread gets through more mini-batches a second: two are timed once
        # more, and one still wins and takes the epoch (one that won is tried again the next).
        (1.95, 0.8, False, ([2] * 5 + [1] * 5 + [2] * 4 + [1] * 2, ONE_WINS), [0, 1]),
        # Busy, and one thread is faster: it takes the epoch.
        (1.1, 0.8, False, ([2] * 5 + [1] * 5 + [2] * 4 + [1] * 2, ONE_WINS), [0, 1]),
        # Busy, but two threads still win (the worker never stalls the caller): back to two,
        # and the next epoch, busy again, tries again.
        (1.1, 1.5, False, ([2] * 5 + [1] * 3 + [2] * 8, [2] * 4 + [1] * 3 + [2] * 9), []),
        (1.1, 0.8, True, ([2] * 16,) * 2, []),  # two asked for: two, busy or not
    ],
)
def test_one_thread_is_tried_and_the_faster_trains_the_epoch(
    share, one_ms, forced, expected, busy, monkeypatch
):
    """The first 50 ms of an epoch run on two threads (the run's first call, which starts the
    worker, untimed), and one thread is timed next where the cores are busy (under 1.3 CPU
    seconds a second), in the run's first epoch, or after an epoch that one thread won:
    whichever trained more mini-batches a second trains the rest (one thread only after two
    are timed once more and lose again)."""
    from bprop import engines
    from bprop.engines import TRIAL_SECONDS, KernelThreads

    monkeypatch.setattr(engines, "BUSY_SHARE", 0.65)  # conftest turns BLAS's fallback off

    clocks = _Clocks(share, one_ms)
    kernel = _Kernel(clocks)
    policy = KernelThreads(kernel, 2, forced=forced, work=10**7, clocks=clocks.pair())
    stretch = round(TRIAL_SECONDS / 1e-3) // 4 + 1  # the trial ends after the 4th stretch
    for epoch in range(2):
        policy.epoch_begins(epoch)
        for first in range(0, 16 * stretch, stretch):
            policy.run(None, first, first + stretch, 0.1, None)
    assert (kernel.calls[:16], kernel.calls[16:]) == expected
    assert policy.busy_epochs == busy


def test_two_threads_that_slow_down_are_timed_against_one_again():
    """The host can slow the second core while the worker spins (the CPU time still says two
    seconds a second): two threads below SLOWED of their best rate are tried against one."""
    from bprop.engines import SLOWED, TRIAL_SECONDS, KernelThreads

    assert SLOWED > 1 / 2.5  # the third epoch's two threads are slowed

    clocks = _Clocks(1.95, 1.6)
    kernel = _Kernel(clocks)
    policy = KernelThreads(kernel, 2, work=10**7, clocks=clocks.pair())
    stretch = round(TRIAL_SECONDS / 1e-3) // 4 + 1
    epochs = []
    for epoch, two_ms in enumerate((1.0, 1.0, 2.5, 1.0, 1.0)):
        clocks.two_ms = two_ms
        kernel.calls.clear()
        policy.epoch_begins(epoch)
        for first in range(0, 16 * stretch, stretch):
            policy.run(None, first, first + stretch, 0.1, None)
        epochs.append(kernel.calls[:])
    assert epochs[1] == [2] * 16  # as fast as at best: no trial
    # 2.5 ms a batch on two, 1.6 on one: one wins, two lose again, one takes the epoch
    assert epochs[2] == [2] * 2 + [1] * 3 + [2] * 2 + [1] * 9
    assert epochs[3][0] == 2 and 1 in epochs[3] and epochs[3][-1] == 2  # tried again: two win
    assert epochs[4] == [2] * 16
    assert policy.busy_epochs == [2]


def test_a_slow_moment_of_the_second_core_does_not_send_the_epoch_to_one_thread():
    """The run's first look at two threads falls on a slow moment of the second core (its
    start, the host): one thread beats it, but two are timed again, beat one, and keep the
    epoch."""
    from bprop.engines import TRIAL_SECONDS, KernelThreads

    clocks = _Clocks(1.95, 1.6)
    kernel = _Kernel(clocks)
    policy = KernelThreads(kernel, 2, work=10**7, clocks=clocks.pair())
    stretch = round(TRIAL_SECONDS / 1e-3) // 4 + 1
    clocks.two_ms = 2.5
    for first in range(0, 16 * stretch, stretch):
        if first == 5 * stretch:  # the untimed first call and 50 ms of two: the core recovers
            clocks.two_ms = 1.0
        policy.run(None, first, first + stretch, 0.1, None)
    assert kernel.calls[:2] == [2, 2] and kernel.calls.count(1) == 3
    assert kernel.calls[-8:] == [2] * 8 and policy.busy_epochs == []


@pytest.mark.parametrize(
    ("share", "one_ms", "forced", "expected", "threads"),
    [
        # Quiet, and one thread is as fast: two are timed once more, and one trains the rest
        # of the run, never tried again.
        (1.95, 1.0, False, [2] * 5 + [1] * 4 + [2] * 4 + [1] * 3 + [1] * 16, 1),
        (1.95, 0.9, False, [2] * 5 + [1] * 5 + [2] * 4 + [1] * 2 + [1] * 16, 1),
        # Quiet, and two are faster: back to two, and later epochs don't try one again.
        (1.95, 1.2, False, [2] * 5 + [1] * 4 + [2] * 7 + [2] * 16, 2),
        (1.95, 0.5, True, [2] * 32, 2),  # two asked for: no trial
    ],
)
def test_a_close_call_times_one_thread_once_on_a_quiet_machine(
    share, one_ms, forced, expected, threads, monkeypatch
):
    """Below KERNEL_PAIR_CHECK two threads' gain depends on the machine (AVX-512 made the
    book's network a little slower on two): with the cores free, the first epoch times one
    thread after two, and one that trains at least as many mini-batches a second keeps the run."""
    from bprop import engines
    from bprop.engines import TRIAL_SECONDS, KernelThreads

    monkeypatch.setattr(engines, "BUSY_SHARE", 0.65)
    clocks = _Clocks(share, one_ms)
    kernel = _Kernel(clocks)
    policy = KernelThreads(
        kernel, 2, forced=forced, work=10**7, check_one=True, clocks=clocks.pair()
    )
    stretch = round(TRIAL_SECONDS / 1e-3) // 4 + 1  # two threads' trial ends after 4 stretches
    for epoch in range(2):
        policy.epoch_begins(epoch)
        for first in range(0, 16 * stretch, stretch):
            policy.run(None, first, first + stretch, 0.1, None)
    assert kernel.calls == expected
    assert policy.threads == threads and policy.busy_epochs == []


def test_a_long_stretch_is_cut_into_short_timed_calls_during_a_trial():
    """784-256×3-10 with m = 64 takes ~0.2 s per stretch of 256 mini-batches: a trial calls
    the kernel TRIAL_WORK multiply-adds at a time, so it ends near TRIAL_SECONDS, and the rest
    of the stretch is one call on the chosen count."""
    from bprop.engines import TRIAL_WORK, KernelThreads

    clocks = _Clocks(1.95, 1.6)
    kernel = _Kernel(clocks)
    policy = KernelThreads(kernel, 2, work=TRIAL_WORK // 2, clocks=clocks.pair())
    assert policy.run(None, 0, 256, 0.1, None) == 256
    # the untimed first call, 50 ms of two threads, 51.2 ms of one, the rest on two
    assert kernel.calls == [2] + [2] * 25 + [1] * 16 + [2]
    assert kernel.ranges[:2] == [(0, 2), (2, 4)] and kernel.ranges[-1] == (84, 256)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(kernel.ranges))


def test_short_stretches_run_on_one_thread_unless_two_are_asked_for():
    """A callback that looks at every mini-batch makes stretches of one: starting the second
    thread for each would cost more than it saves — unless the user asked for two."""
    from bprop.engines import STRETCH_MIN_WORK, KernelThreads

    clocks = _Clocks(2.0)
    for forced, expected in ((False, [1, 2]), (True, [2, 2])):
        kernel = _Kernel(clocks)
        policy = KernelThreads(
            kernel, 2, forced=forced, work=STRETCH_MIN_WORK // 4, clocks=clocks.pair()
        )
        policy.run(None, 0, 1, 0.1, None)
        policy.run(None, 1, 5, 0.1, None)
        assert kernel.calls == expected


def test_the_kernel_takes_two_threads_for_large_enough_products_on_two_cores(monkeypatch):
    import os

    from bprop.engines import kernel_threads

    book, small = bprop.Network([784, 30, 10]), bprop.Network([30, 30, 10])
    monkeypatch.delenv("BPROP_NUM_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert kernel_threads(_Kernel(None), None, book, 10).threads == 2
    assert kernel_threads(_Kernel(None), None, book, 10).check_one  # 235,200: a close call
    assert not kernel_threads(_Kernel(None), None, bprop.Network([784, 800, 10]), 128).check_one
    assert kernel_threads(_Kernel(None), None, small, 10).threads == 1
    # a sparse first layer counts at the share of non-zero inputs it multiplies: MNIST's fifth
    # of 235,200 is under KERNEL_PAIR_GEMM, half of it is not
    mnist_like, half = _Kernel(None), _Kernel(None)
    mnist_like.input_share, half.input_share = 0.2, 0.5
    assert kernel_threads(mnist_like, None, book, 10).threads == 1
    assert kernel_threads(half, None, book, 10).threads == 2
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert kernel_threads(_Kernel(None), None, book, 10).threads == 1
    monkeypatch.setenv("BPROP_NUM_THREADS", "2")
    assert kernel_threads(_Kernel(None), None, small, 10).threads == 2
    assert kernel_threads(_Kernel(None), 1, book, 10).threads == 1
