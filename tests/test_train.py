"""SGD: the batch form against the seeds' per-example algorithm, and the loop's contracts."""

from __future__ import annotations

import copy
import re
import warnings

import numpy as np
import pytest

import bprop
from bprop.errors import PairingWarning
from bprop.train import Callback, epoch_order, schedule, sgd
from tests.conftest import kernel_versions, needs_kernel, random_problem, valid_combinations


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def seeds_update_mini_batch(biases, weights, batch, eta, lmbda=0.0, n=1):
    """Nielsen's network.py, verbatim in spirit: a Python loop over examples, column vectors."""
    nabla_b = [np.zeros(b.shape) for b in biases]
    nabla_w = [np.zeros(w.shape) for w in weights]
    for x, y in batch:
        activation, activations, zs = x, [x], []
        for b, w in zip(biases, weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = (activations[-1] - y) * sigmoid(zs[-1]) * (1 - sigmoid(zs[-1]))
        delta_b, delta_w = [None] * len(biases), [None] * len(weights)
        delta_b[-1], delta_w[-1] = delta, np.dot(delta, activations[-2].T)
        for layer in range(2, len(biases) + 1):
            sp = sigmoid(zs[-layer]) * (1 - sigmoid(zs[-layer]))
            delta = np.dot(weights[-layer + 1].T, delta) * sp
            delta_b[-layer], delta_w[-layer] = delta, np.dot(delta, activations[-layer - 1].T)
        nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_b)]
        nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_w)]
    m = len(batch)
    weights = [(1 - eta * lmbda / n) * w - (eta / m) * nw for w, nw in zip(weights, nabla_w)]
    biases = [b - (eta / m) * nb for b, nb in zip(biases, nabla_b)]
    return biases, weights


@pytest.mark.parametrize("lmbda", [0.0, 0.5])
def test_sgd_trajectory_equals_the_seeds_per_example_algorithm(lmbda):
    rng = np.random.default_rng(0)
    X, labels = rng.normal(size=(23, 6)), rng.integers(0, 3, 23)
    net = bprop.Network([6, 5, 4, 3], seed=1)
    biases = [b[:, None].copy() for b in net.biases]
    weights = [w.copy() for w in net.weights]
    Y = np.eye(3)[labels]
    epochs, m, eta = 4, 5, 0.7
    net.SGD(X, labels, epochs, m, eta, lmbda=lmbda, shuffle=True, seed=3, verbose=False)
    for epoch in range(epochs):
        order = epoch_order(3, epoch, len(X), True)
        data = [(X[i][:, None], Y[i][:, None]) for i in order]
        for k in range(0, len(data), m):
            biases, weights = seeds_update_mini_batch(
                biases, weights, data[k : k + m], eta, lmbda, len(X)
            )
    for ours, theirs in zip(net.weights + net.biases, weights + [b[:, 0] for b in biases]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("engine", ["plain", "fused", pytest.param("compiled", marks=needs_kernel)])
def test_shuffle_false_keeps_the_given_order(engine):
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(6, 3)), rng.uniform(size=(6, 2))
    a = bprop.Network([3, 4, 2], seed=2)
    b = bprop.Network([3, 4, 2], seed=2)
    options = {"fast": engine != "plain", "compiled": engine == "compiled"}
    history = a.SGD(X, Y, 1, 2, 1.0, shuffle=False, verbose=False, **options)
    assert history.config["engine"] == engine
    for k in range(0, 6, 2):  # one mini-batch at a time, in order
        nb, nw = b.backprop(X[k : k + 2], Y[k : k + 2])
        for p, g in zip(b.weights + b.biases, nw + nb):
            p -= 1.0 * g
    for p, q in zip(a.weights + a.biases, b.weights + b.biases):
        if engine == "plain":  # the same arithmetic, bit for bit
            np.testing.assert_array_equal(p, q)
        else:  # the same order; sums and σ rounded their own way
            np.testing.assert_allclose(p, q, rtol=1e-13, atol=1e-15)


def test_update_biases_false_leaves_biases_alone():
    net = bprop.Network([2, 3, 1], seed=0)
    before = [b.copy() for b in net.biases]
    net.SGD(
        bprop.examples.XOR_X, bprop.examples.XOR_Y, 3, 2, 0.5, update_biases=False, verbose=False
    )
    for b, b0 in zip(net.biases, before):
        np.testing.assert_array_equal(b, b0)


def test_momentum_follows_the_velocity_rule():
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(4, 3)), rng.uniform(size=(4, 2))
    net = bprop.Network([3, 2], seed=1)
    w, b = net.weights[0].copy(), net.biases[0].copy()
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    ref = bprop.Network([3, 2], seed=1)
    for _ in range(3):
        ref.weights[0][:], ref.biases[0][:] = w, b
        nb, nw = ref.backprop(X, Y)
        vw, vb = 0.9 * vw - 0.1 * nw[0], 0.9 * vb - 0.1 * nb[0]
        w, b = w + vw, b + vb
    net.SGD(X, Y, 3, 4, 0.1, momentum=0.9, verbose=False)
    np.testing.assert_allclose(net.weights[0], w, rtol=1e-13)
    np.testing.assert_allclose(net.biases[0], b, rtol=1e-13)


def test_history_records_cost_accuracy_and_the_book_line(capsys):
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(40, 4)), rng.integers(0, 3, 40)
    net = bprop.Network([4, 8, 3], "sigmoid", "cross-entropy", init="scaled", seed=0)
    h = net.SGD(X, y, 3, 10, 0.5, test_data=(X[:20], y[:20]), seed=0)
    printed = capsys.readouterr().out.splitlines()
    assert printed == [f"Epoch {r.epoch}: {r.test_correct} / 20" for r in h.epochs]
    assert [r.epoch for r in h.epochs] == [0, 1, 2]
    assert all(0 <= r.train_accuracy <= 1 and r.train_cost > 0 for r in h.epochs)
    assert h.epochs[-1].test_correct == net.evaluate(X[:20], y[:20])
    assert h.epochs[-1].test_cost == pytest.approx(net.total_cost(X[:20], y[:20]))
    assert h.status == "completed" and h.config["seed"] == 0
    again = bprop.History.from_dict(h.to_dict())
    assert again.epochs == h.epochs


def test_same_seed_gives_bit_identical_weights():
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(30, 5)), rng.integers(0, 2, 30)
    nets = []
    for _ in range(2):
        net = bprop.Network([5, 6, 2], seed=7)
        net.SGD(X, y, 2, 4, 1.0, seed=11, verbose=False)
        nets.append(net)
    for p, q in zip(nets[0].weights, nets[1].weights):
        np.testing.assert_array_equal(p, q)


class StopAfter(Callback):
    def __init__(self, batches):
        self.left = batches

    def on_batch_end(self, state):
        self.left -= 1
        if self.left == 0:
            state.stop_requested = True


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_interrupt_and_resume_gives_bit_identical_weights(momentum):
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(50, 5)), rng.integers(0, 3, 50)
    kw = dict(lmbda=0.1, momentum=momentum, seed=9, verbose=False)
    straight = bprop.Network([5, 7, 3], seed=1)
    full = straight.SGD(X, y, 3, 8, 0.5, **kw)
    resumed = bprop.Network([5, 7, 3], seed=1)
    h = resumed.SGD(X, y, 3, 8, 0.5, callbacks=[StopAfter(10)], **kw)
    assert h.status == "interrupted" and (h.state.epoch, h.state.batch) == (1, 3)
    h = resumed.SGD(X, y, 3, 8, 0.5, state=h.state, history=h, **kw)
    assert h.status == "completed" and len(h.epochs) == 3
    for p, q in zip(straight.weights + straight.biases, resumed.weights + resumed.biases):
        np.testing.assert_array_equal(p, q)
    assert [r.train_cost for r in h.epochs] == [r.train_cost for r in full.epochs]


@pytest.mark.parametrize("compiled", [False, True])
def test_a_stop_after_an_epochs_last_mini_batch_closes_the_epoch_first(compiled):
    """A stop asked at the epoch's last mini-batch (a signal in the last stretch) returns a
    state at the next epoch's start — never one holding mini-batch ⌈n/m⌉ of the epoch, which
    resume refuses — and resuming from it ends on the very weights of a run never stopped."""
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(50, 5)), rng.integers(0, 3, 50)  # 7 mini-batches of 8
    kw = dict(seed=9, verbose=False, compiled=compiled)
    straight = bprop.Network([5, 7, 3], seed=1)
    straight.SGD(X, y, 3, 8, 0.5, **kw)
    resumed = bprop.Network([5, 7, 3], seed=1)
    h = resumed.SGD(X, y, 3, 8, 0.5, callbacks=[StopAfter(7)], **kw)
    assert h.status == "interrupted" and (h.state.epoch, h.state.batch) == (1, 0)
    assert len(h.epochs) == 1
    h = resumed.SGD(X, y, 3, 8, 0.5, state=h.state, history=h, **kw)
    assert h.status == "completed" and len(h.epochs) == 3
    for p, q in zip(straight.weights + straight.biases, resumed.weights + resumed.biases):
        np.testing.assert_array_equal(p, q)


def test_divergence_stops_keeps_the_last_good_weights_and_says_why():
    rng = np.random.default_rng(6)
    X, Y = rng.normal(size=(20, 3)) * 10, rng.normal(size=(20, 1)) * 1e3
    net = bprop.Network([3, 20, 1], "relu", output_activation="identity", seed=0)
    snapshots = []

    class Keep(Callback):
        def on_epoch_end(self, record, net, state):
            snapshots.append([w.copy() for w in net.weights])

    # η/10, η/100, η/1000, 100, 10, … 10⁻⁴ are tried from the same weights (50 passes over
    # the 20 examples, 200 mini-batches): only the smallest lowers the cost of these inputs of
    # ~10 and targets of ~1000.
    with pytest.raises(
        bprop.DivergenceError,
        match=r"η = 1e\+06 is too large for this network: try η = 0.0001, which of the smaller "
        r"η tried lowered the cost the most on the same first 20 examples \(50 passes\) from "
        r"the weights of the start of epoch 0 \(3.74e\+05 → 2.5e\+05, without diverging\)",
    ) as e:
        net.SGD(X, Y, 50, 5, 1e6, seed=0, callbacks=[Keep()], verbose=False)
    assert e.value.history.status == "diverged"
    assert all(np.all(np.isfinite(w)) for w in net.weights)
    if snapshots:
        for w, w0 in zip(net.weights, snapshots[-1]):
            np.testing.assert_array_equal(w, w0)


@pytest.mark.parametrize(
    "engine",
    [dict(compiled=False), pytest.param(dict(compiled=True), marks=needs_kernel), dict(fast=False)],
)
def test_the_eta_a_divergence_advises_was_tried_and_trains(engine):
    """The advice is no guess: training from the same weights with the advised η (from the
    same shuffle) does not diverge and lowers the cost, where η itself diverged."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 6))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int) + (X[:, 3] > 1)
    net = bprop.Network([6, 16, 3], "relu", "log-likelihood", output_activation="softmax",
                        init="he", seed=0)  # fmt: skip
    start = copy.copy(net)
    start.weights, start.biases = [w.copy() for w in net.weights], [b.copy() for b in net.biases]
    with pytest.raises(bprop.DivergenceError) as e:
        sgd(net, X, y, 3, 10, 1e5, momentum=0.9, seed=1, **engine)
    advised = re.search(r"try η = (\S+), which of the smaller η tried lowered", str(e.value))
    assert advised, str(e.value)
    eta = float(advised.group(1))
    assert eta in [1e4, 1e3, 1e2, 10, 1, 0.1, 0.01, 0.001, 0.0001]
    assert e.value.history.config["tried_eta"] == eta
    before = start.total_cost(X, y)
    sgd(start, X, y, 1, 10, eta, momentum=0.9, seed=1, **engine)  # raises if it diverges
    assert start.total_cost(X, y) < before
    assert start.evaluate(X, y) > 0.7 * len(X)  # always the commonest class: 49%


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(epochs=-1), "epochs must be"),
        (dict(mini_batch_size=0), "mini_batch_size must be between 1 and"),
        (dict(mini_batch_size=11), "mini_batch_size must be between 1 and"),
        (dict(eta=0), "eta must be a number > 0"),
        (dict(eta=float("nan")), "eta must be a number > 0"),
        (dict(lmbda=-1.0), "lmbda"),
        (dict(momentum=1.0), "momentum must be in"),
    ],
)
def test_bad_hyperparameters_are_refused(kwargs, message):
    args = dict(epochs=1, mini_batch_size=2, eta=1.0) | kwargs
    net = bprop.Network([2, 2], seed=0)
    with pytest.raises(ValueError, match=message):
        net.SGD(np.zeros((10, 2)), np.zeros((10, 2)), verbose=False, **args)


def test_bad_data_is_refused_with_a_clear_message():
    net = bprop.Network([3, 2], seed=0)
    with pytest.raises(ValueError, match=r"X must have shape \(m, 3\)"):
        net.SGD(np.zeros((5, 4)), np.zeros(5, int), 1, 1, 1.0)
    with pytest.raises(ValueError, match="NaN"):
        net.SGD(np.full((5, 3), np.nan), np.zeros(5, int), 1, 1, 1.0)
    with pytest.raises(ValueError, match=r"labels must lie in 0…1"):
        net.SGD(np.zeros((5, 3)), np.array([0, 1, 2, 0, 1]), 1, 1, 1.0)
    with pytest.raises(ValueError, match="no training examples"):
        net.SGD(np.zeros((0, 3)), np.zeros(0, int), 1, 1, 1.0)


def test_schedules():
    assert schedule("constant", 0.1, 10)(7) == 0.1
    step = schedule("step:2:0.5", 1.0, 10)
    assert [step(e) for e in range(5)] == [1.0, 1.0, 0.5, 0.5, 0.25]
    cos = schedule("cosine", 1.0, 10)
    assert cos(0) == 1.0 and cos(5) == pytest.approx(0.5) and cos(10) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="unknown schedule"):
        schedule("exponential", 1.0, 3)
    net = bprop.Network([2, 2], seed=0)
    h = net.SGD(np.eye(2), np.eye(2), 4, 1, step, verbose=False)
    assert [r.eta for r in h.epochs] == [1.0, 1.0, 0.5, 0.5]


def test_float32_training_stays_float32_and_tracks_float64():
    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(64, 6)), rng.integers(0, 3, 64)
    nets = {}
    for dt in (np.float32, np.float64):
        nets[dt] = bprop.Network([6, 8, 3], init="scaled", dtype=dt, seed=3)
        nets[dt].SGD(X, y, 3, 8, 0.5, seed=1, verbose=False)
    assert all(w.dtype == np.float32 for w in nets[np.float32].weights)
    for a, b in zip(nets[np.float32].weights, nets[np.float64].weights):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


# The compiled engine in every version this CPU runs (AVX-512, AVX2, baseline x86-64).
ENGINES = ["fused", pytest.param("compiled", marks=needs_kernel)] + [
    f"compiled/{isa}" for isa in kernel_versions()
]


# Every pairing trains, log-likelihood with sigmoid outputs too (its warning is tested apart).
@pytest.mark.filterwarnings("ignore::bprop.errors.PairingWarning")
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("hidden", "out", "cost"), valid_combinations())
def test_fast_engines_equal_the_plain_step(hidden, out, cost, engine):
    """The optimised paths (buffers, δ scaled by η/m; compiled loops) = BP1–BP4 then the
    update, to rounding, with momentum, L2 and a short last mini-batch."""
    engine, _, isa = engine.partition("/")
    if isa:
        from bprop import _compiled

        assert _compiled.limit_instruction_set(isa) == isa
    try:
        nets = _train_both_ways(hidden, out, cost, engine)
    finally:
        if isa:
            _compiled.limit_instruction_set(None)
    (a, ha), (b, hb) = nets
    for p, q in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_allclose(p, q, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(ha.column("train_cost"), hb.column("train_cost"), rtol=1e-11)
    assert ha.column("train_accuracy") == hb.column("train_accuracy")


def _train_both_ways(hidden, out, cost, engine):
    nets = []
    for fast in (True, False):
        net, X, Y = random_problem(hidden, out, cost, 8, m=23)
        labels = np.argmax(Y, axis=1) if cost != "quadratic" else None
        history = net.SGD(
            X,
            labels if labels is not None and out == "softmax" else Y,
            3,
            5,
            0.05,
            lmbda=0.2,
            momentum=0.5,
            seed=2,
            verbose=False,
            fast=fast,
            compiled=engine == "compiled",
        )
        assert history.config["engine"] == (engine if fast else "plain")
        nets.append((net, history))
    return nets


def test_fused_step_with_a_users_own_activation_and_float32():
    softplus = bprop.Activation(
        "softplus", lambda z: np.log1p(np.exp(z)), lambda z, a: 1 / (1 + np.exp(-z))
    )
    rng = np.random.default_rng(9)
    X, y = rng.normal(size=(40, 5)), rng.integers(0, 3, 40)
    for dtype, rtol in ((np.float64, 1e-11), (np.float32, 1e-4)):
        nets = []
        for fast in (True, False):
            net = bprop.Network(
                [5, 6, 3], softplus, output_activation="sigmoid", dtype=dtype, seed=4
            )
            history = net.SGD(X, y, 2, 8, 0.5, seed=1, verbose=False, fast=fast)
            assert history.config["engine"] == ("fused" if fast else "plain")
            nets.append(net)
        for p, q in zip(nets[0].weights, nets[1].weights):
            assert p.dtype == dtype
            np.testing.assert_allclose(p, q, rtol=rtol, atol=rtol / 10)


def test_without_the_c_kernel_training_uses_numpy(monkeypatch):
    """An install without a C compiler has no bprop._kernel: the auto engine is NumPy's and
    insisting on the compiled one says why it cannot be had."""
    from bprop import _compiled

    monkeypatch.setattr(_compiled, "available", lambda: False)
    net = bprop.Network([3, 4, 2], seed=0)
    X, y = np.ones((4, 3)), np.array([0, 1, 0, 1])
    assert net.SGD(X, y, 1, 2, 0.1, verbose=False).config["engine"] == "fused"
    with pytest.raises(ValueError, match="C kernel is not built"):
        net.SGD(X, y, 1, 2, 0.1, verbose=False, compiled=True)


def test_log_likelihood_with_sigmoid_outputs_warns_that_it_learns_no_classifier():
    net, X, Y = random_problem("sigmoid", "sigmoid", "log-likelihood", 3)
    with pytest.warns(PairingWarning, match=r"δ\^L_j = 0.*output_activation=\"softmax\""):
        net.SGD(X, Y, 1, 3, 0.5, seed=0, verbose=False)
    for out, cost in [("softmax", "log-likelihood"), ("sigmoid", "cross-entropy")]:
        net, X, Y = random_problem("sigmoid", out, cost, 3)
        with warnings.catch_warnings():
            warnings.simplefilter("error", PairingWarning)
            net.SGD(X, Y, 1, 3, 0.5, seed=0, verbose=False)


def test_sgd_prints_the_books_line_only_when_there_is_something_to_count(capsys):
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(40, 4)), rng.integers(0, 3, 40)
    net = bprop.Network([4, 8, 3], "sigmoid", "cross-entropy", init="scaled", seed=0)
    net.SGD(X, y, 2, 10, 0.5, seed=0)  # no test data: nothing to say but "Epoch N complete"
    assert capsys.readouterr().out == ""
    net.SGD(X, y, 2, 10, 0.5, seed=0, verbose=True)
    assert capsys.readouterr().out.splitlines() == ["Epoch 0 complete", "Epoch 1 complete"]
    net.SGD(X, y, 1, 10, 0.5, seed=0, test_data=(X, y), verbose=False)
    assert capsys.readouterr().out == ""


def test_a_historys_repr_is_a_short_summary():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(2000, 4)), rng.integers(0, 3, 2000)
    net = bprop.Network([4, 8, 3], "sigmoid", "cross-entropy", init="scaled", seed=0)
    h = net.SGD(X, y, 3, 10, 0.5, seed=0, test_data=(X[:50], y[:50]), momentum=0.5)
    best = max(h.epochs, key=lambda r: r.test_accuracy)
    engine = h.config["engine"] + (f" ({h.config['kernel']})" if "kernel" in h.config else "")
    assert repr(h) == (
        f"History(3 epochs, completed, engine {engine}, test accuracy "
        f"{h.epochs[-1].test_accuracy:.2%} last, {best.test_accuracy:.2%} best "
        f"(epoch {best.epoch}))"
    )
    assert len(str(h)) < 200  # not the records and the resume state's arrays
    h = net.SGD(X, y, 1, 10, 0.5, seed=0, compiled=False)
    cost = f"{h.epochs[0].train_cost:.4g}"
    assert repr(h) == f"History(1 epoch, completed, engine fused, train cost {cost} last)"
    assert repr(bprop.History()) == "History(0 epochs, running)"


@pytest.mark.parametrize("compiled", [False, None])
def test_a_training_set_is_scanned_once_and_nan_written_later_is_still_xs_fault(
    monkeypatch, compiled
):
    """The finiteness scan of X is paid once per array, not at every SGD call (#20 item 4);
    NaN written into X after its scan still ends training with X's error, not divergence."""
    import bprop._validate as validate

    scans = []
    real = validate.all_finite
    monkeypatch.setattr(validate, "all_finite", lambda a: scans.append(a.shape) or real(a))
    rng = np.random.default_rng(3)
    X = rng.random((1000, 100))
    y = rng.integers(0, 2, 1000)
    net = bprop.Network([100, 10, 2], seed=0)
    for _ in range(2):
        net.SGD(X, y, 1, 10, 0.5, seed=1, compiled=compiled)
    assert scans.count(X.shape) == 1
    X[700, 3] = np.nan
    before = [w.copy() for w in net.weights]
    with pytest.raises(ValueError, match="X contains NaN or infinite values"):
        net.SGD(X, y, 1, 10, 0.5, seed=1, compiled=compiled)
    assert all(np.array_equal(w, b) for w, b in zip(net.weights, before))
    X2 = X.copy()  # a new array is scanned before training starts
    with pytest.raises(ValueError, match="X contains NaN"):
        net.SGD(X2, y, 1, 10, 0.5, seed=1, compiled=compiled)
    assert scans.count(X.shape) == 2  # (the rescan after divergence is not counted here)


class _Limits:
    """A stand-in for threadpoolctl's controller: records the limits asked for."""

    def __init__(self):
        self.asked = []

    def limit(self, limits):
        self.asked.append(limits)


@pytest.mark.parametrize("cpu_per_second, falls_back", [(1.95, False), (1.0, True)])
def test_busy_cores_move_the_rest_of_the_epoch_to_one_blas_thread(
    cpu_per_second, falls_back, monkeypatch
):
    """#20 item 3: two threads that get about one core's worth of CPU lose to one thread; the
    epoch continues on one and the next measures again. Quiet cores change nothing."""
    from bprop import engines
    from bprop.engines import TRIAL_BATCHES, BlasThreads

    monkeypatch.setattr(engines, "BUSY_SHARE", 0.65)  # conftest turns the fallback off

    clock = {"wall": 0.0}
    controller = _Limits()
    policy = BlasThreads(
        controller, 2, True, clocks=(lambda: clock["wall"], lambda: clock["wall"] * cpu_per_second)
    )
    for epoch in range(2):
        policy.epoch_begins(epoch)
        for _ in range(3 * TRIAL_BATCHES):
            clock["wall"] += 0.01
            policy.batch_done()
    assert controller.asked == ([1, 2, 1] if falls_back else [])
    assert policy.busy_epochs == ([0, 1] if falls_back else [])


def test_bprop_num_threads_sets_blas_threads_and_is_checked(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    seen = []

    class Probe(Callback):
        def on_batch_end(self, state):
            seen.extend(
                i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"
            )

    rng = np.random.default_rng(0)
    X, y = rng.random((256, 400)), rng.integers(0, 10, 256)
    net = bprop.Network([400, 300, 10], seed=0)  # 128 · 400 · 300 ≥ SMALL_GEMM: many threads
    monkeypatch.setenv("BPROP_NUM_THREADS", "1")
    net.SGD(X, y, 1, 128, 0.1, compiled=False, callbacks=[Probe()])
    assert seen and set(seen) == {1}
    monkeypatch.setenv("BPROP_NUM_THREADS", "two")
    with pytest.raises(ValueError, match="BPROP_NUM_THREADS must be a whole number ≥ 1"):
        net.SGD(X, y, 1, 128, 0.1, compiled=False)
