"""Exact input sparsity in the fused NumPy engine (#20 item 2): the first layer multiplies only
the input columns its mini-batch uses, and gives the dense products' weights to float rounding.

The width the engine asks of the first layer before it gathers columns
(``engines.SPARSE_FIRST_WIDTH``) is a matter of speed, so most tests here lower it to 0 and
train small networks.
"""

from __future__ import annotations

import numpy as np
import pytest

import bprop
from bprop import engines, fused
from bprop.train import Callback


@pytest.fixture(autouse=True)
def any_width(monkeypatch):
    monkeypatch.setattr(engines, "SPARSE_FIRST_WIDTH", 0)


def _sparse_data(n, n_in, n_out, dtype=np.float64, seed=0, share=0.2):
    """Inputs that are 0 but for about ``share`` of them, with the first and last three columns
    0 in every example (as MNIST's borders are), and the targets' classes."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_in)) * (rng.random((n, n_in)) < share)
    X[:, :3] = 0
    X[:, -3:] = 0
    X[::7, 5] = -0.0  # a negative zero is a zero too
    return X.astype(dtype), rng.integers(0, n_out, n)


def _train(X, y, sizes, m, *, sparse, dtype=np.float64, epochs=3, **kw):
    """A fresh network trained by the fused NumPy engine with the first layer's column
    gathers on or off; returns (net, history)."""
    options = {"seed": 4, "verbose": False, "compiled": False} | kw
    old = engines.SPARSE_INPUT_SHARE
    engines.SPARSE_INPUT_SHARE = 1.0 if sparse else -1.0
    try:
        net = bprop.Network(list(sizes), "sigmoid", "cross-entropy", dtype=dtype, seed=2)
        history = net.SGD(X, y, epochs, m, 0.5, **options)
    finally:
        engines.SPARSE_INPUT_SHARE = old
    assert history.config["engine"] == "fused"
    assert history.config["sparse_input"] is sparse
    return net, history


RULES = [
    {},
    {"lmbda": 0.3},  # L2 decays every weight, the unused columns too
    {"momentum": 0.6},  # velocities of unused columns still decay by μ
    {"lmbda": 0.3, "momentum": 0.6},
    {"update_biases": False},
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("sizes", "m"), [((60, 17, 5), 10), ((130, 40, 20, 3), 23), ((50, 4), 1)])
@pytest.mark.parametrize("rule", RULES, ids=["plain", "l2", "momentum", "both", "no-biases"])
def test_gathered_columns_give_the_dense_weights(sizes, m, rule, dtype):
    """Three epochs (101 examples: the last mini-batch is short) end on the dense products'
    weights and biases to float rounding."""
    X, y = _sparse_data(101, sizes[0], sizes[-1], dtype)
    sparse, hs = _train(X, y, sizes, m, sparse=True, dtype=dtype, **rule)
    dense, hd = _train(X, y, sizes, m, sparse=False, dtype=dtype, **rule)
    rtol = 1e-11 if dtype == np.float64 else 1e-4
    for p, q in zip(sparse.weights + sparse.biases, dense.weights + dense.biases):
        np.testing.assert_allclose(p, q, rtol=rtol, atol=rtol * np.abs(q).max())
    costs = [r.train_cost for r in hs.epochs], [r.train_cost for r in hd.epochs]
    np.testing.assert_allclose(*costs, rtol=rtol)


def test_sample_weights_scale_the_gathered_columns_as_the_dense_ones():
    X, y = _sparse_data(90, 40, 3)
    weights = np.random.default_rng(1).random(90) + 0.5
    sparse, _ = _train(X, y, (40, 9, 3), 8, sparse=True, sample_weight=weights, lmbda=0.1)
    dense, _ = _train(X, y, (40, 9, 3), 8, sparse=False, sample_weight=weights, lmbda=0.1)
    for p, q in zip(sparse.weights + sparse.biases, dense.weights + dense.biases):
        np.testing.assert_allclose(p, q, rtol=1e-11, atol=1e-13)


def test_columns_no_example_uses_keep_their_weights_and_l2_still_decays_them():
    """Without L2 the always-zero inputs' weights are the initial ones bit for bit (momentum
    or not: their velocity stays 0); with L2 they shrink by (1 − ηλ/n) every mini-batch."""
    X, y = _sparse_data(60, 50, 4)
    start = bprop.Network([50, 12, 4], "sigmoid", "cross-entropy", seed=2).weights[0]
    for rule in ({}, {"momentum": 0.5}):
        plain, _ = _train(X, y, (50, 12, 4), 10, sparse=True, **rule)
        np.testing.assert_array_equal(plain.weights[0][:, :3], start[:, :3])
        np.testing.assert_array_equal(plain.weights[0][:, -3:], start[:, -3:])
        assert not np.array_equal(plain.weights[0][:, 10:20], start[:, 10:20])
    decayed, _ = _train(X, y, (50, 12, 4), 10, sparse=True, lmbda=2.0)
    shrink = (1 - 0.5 * 2.0 / 60) ** (3 * 6)  # 3 epochs of 6 mini-batches
    np.testing.assert_allclose(decayed.weights[0][:, :3], start[:, :3] * shrink, rtol=1e-12)


def test_the_users_arrays_stay_the_same_objects_in_their_own_layout():
    """w¹ is trained column-major (its columns contiguous for the gathers), and its values go
    back into the array the network had: a reference taken before training sees the result."""
    X, y = _sparse_data(80, 30, 3)
    net = bprop.Network([30, 8, 3], "sigmoid", "cross-entropy", seed=2)
    w1, before = net.weights[0], net.weights[0].copy()
    seen = []

    class Look(Callback):
        def on_epoch_end(self, record, net, state):
            seen.append((net.weights[0].flags.f_contiguous, state.velocity_w[0].flags.f_contiguous))

    old = engines.SPARSE_INPUT_SHARE
    engines.SPARSE_INPUT_SHARE = 1.0
    try:
        h = net.SGD(X, y, 2, 10, 0.5, momentum=0.5, callbacks=[Look()], compiled=False)
    finally:
        engines.SPARSE_INPUT_SHARE = old
    assert h.config["sparse_input"] and seen == [(True, True)] * 2
    assert net.weights[0] is w1 and w1.flags.c_contiguous and not np.array_equal(w1, before)
    assert h.state.velocity_w[0].flags.c_contiguous


class StopAfter(Callback):
    def __init__(self, batches):
        self.left = batches

    def on_batch_end(self, state):
        self.left -= 1
        if self.left == 0:
            state.stop_requested = True


def test_interrupt_and_resume_give_the_uninterrupted_weights_bit_for_bit():
    X, y = _sparse_data(70, 40, 3, seed=5)
    kw = {"lmbda": 0.1, "momentum": 0.5}
    straight, _ = _train(X, y, (40, 9, 3), 8, sparse=True, **kw)
    resumed, h = _train(X, y, (40, 9, 3), 8, sparse=True, callbacks=[StopAfter(12)], **kw)
    assert h.status == "interrupted" and (h.state.epoch, h.state.batch) == (1, 3)
    old = engines.SPARSE_INPUT_SHARE
    engines.SPARSE_INPUT_SHARE = 1.0
    try:
        h = resumed.SGD(
            X, y, 3, 8, 0.5, seed=4, verbose=False, compiled=False, state=h.state, history=h, **kw
        )
    finally:
        engines.SPARSE_INPUT_SHARE = old
    assert h.status == "completed"
    for p, q in zip(straight.weights + straight.biases, resumed.weights + resumed.biases):
        np.testing.assert_array_equal(p, q)


def test_a_mini_batch_that_uses_most_columns_takes_the_dense_products(monkeypatch):
    """Columns are gathered batch by batch: where a mini-batch uses more than
    ``SPARSE_BATCH_COLUMNS`` of them it multiplies them all; with every batch over the line,
    no batch gathers and the weights are the dense products' (to rounding only: w¹ is held
    column-major while training, and OpenBLAS rounds that product otherwise)."""
    X, y = _sparse_data(60, 40, 3)
    X[:20] = np.random.default_rng(3).random((20, 40))  # the first mini-batches are dense
    got = []
    original = fused.input_columns

    def spy(xb, sparse_input):
        cols = original(xb, sparse_input)
        got.append(None if cols is None else len(cols))
        return cols

    monkeypatch.setattr(fused, "input_columns", spy)
    _train(X, y, (40, 9, 3), 10, sparse=True, epochs=1, shuffle=False)
    assert got[:2] == [None, None] and all(k is not None and k <= 36 for k in got[2:])
    monkeypatch.setattr(engines, "SPARSE_BATCH_COLUMNS", -1.0)
    got.clear()
    over, _ = _train(X, y, (40, 9, 3), 10, sparse=True)
    assert got and set(got) == {None}
    dense, _ = _train(X, y, (40, 9, 3), 10, sparse=False)
    for p, q in zip(over.weights + over.biases, dense.weights + dense.biases):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-14)


def test_a_nan_input_is_not_a_zero(monkeypatch):
    """NaN's column is gathered (it reaches z¹ as in the dense products), and the inputs'
    check refuses it before training, as without the gathers."""
    X, y = _sparse_data(40, 20, 3)
    X[17, 8] = np.nan
    net = bprop.Network([20, 6, 3], "sigmoid", "cross-entropy", seed=2)
    monkeypatch.setattr(engines, "SPARSE_INPUT_SHARE", 1.0)
    assert 8 in fused.input_columns(X[10:20], True)
    with pytest.raises(ValueError, match="NaN"):
        net.SGD(X, y, 1, 10, 0.5, compiled=False, verbose=False)


def test_only_a_wide_first_layer_gathers_columns(monkeypatch):
    """The gathers pay where the first layer is wide (measured): MNIST-like inputs get them
    for 784-800-800-10, whose later layers keep it off the compiled engine, not for 784-30-10
    trained with NumPy."""
    monkeypatch.undo()
    X, y = _sparse_data(64, 784, 10)
    assert engines.gathers_columns(bprop.Network([784, 800, 800, 10]))
    assert not engines.gathers_columns(bprop.Network([784, 30, 10]))
    wide = bprop.Network([784, 800, 800, 10], seed=0, dtype=np.float32)
    h = wide.SGD(X.astype(np.float32), y, 1, 32, 0.1, verbose=False)
    assert h.config["engine"] == "fused" and h.config["sparse_input"] is True
    h = bprop.Network([784, 30, 10], seed=0).SGD(X, y, 1, 32, 0.1, verbose=False, compiled=False)
    assert h.config["sparse_input"] is False


def test_the_cli_says_when_numpy_gathers_the_columns(monkeypatch):
    from bprop.cli.train import describe_engine

    monkeypatch.undo()
    X, _ = _sparse_data(50, 784, 10)
    config = {"batch_size": 32, "engine": "numpy"}
    line = describe_engine(bprop.Network([784, 800, 10], seed=0), config, X)
    assert line.startswith("NumPy") and "input columns each mini-batch uses" in line
    narrow = describe_engine(bprop.Network([784, 30, 10], seed=0), config, X)
    assert "columns" not in narrow
    dense = np.random.default_rng(0).random((50, 784))
    assert "columns" not in describe_engine(bprop.Network([784, 800, 10], seed=0), config, dense)
