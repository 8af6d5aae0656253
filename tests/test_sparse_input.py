"""bprop.sparse_input: the fused step's first layer over the mini-batch's non-zero input columns
gives the dense step's weights to float rounding, and turns itself on only for sparse data."""

from __future__ import annotations

import numpy as np
import pytest

import bprop
from bprop import sparse_input


def _sparse_data(n=300, n_in=120, n_out=10, dead=50, seed=0, dtype=np.float64):
    """Inputs whose first ``dead`` columns are 0 in every example and the rest 0 three times
    in four (MNIST-like: a mini-batch leaves about half the columns 0)."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_in)) * (rng.random((n, n_in)) < 0.25)
    X[:, :dead] = 0.0
    X[5:40] = 0.0  # a few whole mini-batches with no ink at all
    y = rng.integers(0, n_out, n)
    return X.astype(dtype), y


def _train(X, y, compact, monkeypatch, dtype=np.float64, **options):
    monkeypatch.setattr(sparse_input, "MIN_WORK", 0 if compact else 10**18)
    net = bprop.Network([X.shape[1], 40, 10], cost="cross-entropy", dtype=dtype, seed=3)
    start = [w.copy() for w in net.weights]
    history = net.SGD(X, y, 3, 16, 0.5, seed=1, compiled=False, **options)
    assert history.config["engine"] == "fused"
    return net, start, history


@pytest.mark.parametrize("options", [{}, {"lmbda": 2.0, "momentum": 0.9}])
def test_compacted_first_layer_gives_the_dense_weights(options, monkeypatch):
    X, y = _sparse_data()
    dense, _, h_dense = _train(X, y, False, monkeypatch, **options)
    sparse, _, h_sparse = _train(X, y, True, monkeypatch, **options)
    assert "input_column_share" not in h_dense.config
    assert 0.3 < h_sparse.config["input_column_share"] < 0.6
    for w_s, w_d, b_s, b_d in zip(sparse.weights, dense.weights, sparse.biases, dense.biases):
        np.testing.assert_allclose(w_s, w_d, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(b_s, b_d, rtol=1e-12, atol=1e-14)
    # …and the textbook step (BP1–BP4 by bprop.backprop.backprop over every column) agrees.
    monkeypatch.setattr(sparse_input, "MIN_WORK", 0)
    plain = bprop.Network([X.shape[1], 40, 10], cost="cross-entropy", seed=3)
    plain.SGD(X, y, 3, 16, 0.5, seed=1, fast=False, **options)
    np.testing.assert_allclose(sparse.weights[0], plain.weights[0], rtol=1e-12, atol=1e-14)


def test_float32_agrees_to_its_rounding(monkeypatch):
    X, y = _sparse_data(dtype=np.float32)
    dense, _, _ = _train(X, y, False, monkeypatch, dtype=np.float32)
    sparse, _, _ = _train(X, y, True, monkeypatch, dtype=np.float32)
    for w_s, w_d in zip(sparse.weights, dense.weights):
        np.testing.assert_allclose(w_s, w_d, rtol=2e-4, atol=2e-6)


def test_weights_of_inputs_that_are_always_zero_do_not_move(monkeypatch):
    """BP4 gives the columns of w¹ whose input is 0 in every example exactly 0: without L2 or
    momentum those weights end where they started, bit for bit; the others learn."""
    X, y = _sparse_data()
    sparse, start, _ = _train(X, y, True, monkeypatch)
    np.testing.assert_array_equal(sparse.weights[0][:, :50], start[0][:, :50])
    assert not np.array_equal(sparse.weights[0][:, 50:], start[0][:, 50:])


def test_dense_data_keeps_the_dense_product(monkeypatch):
    rng = np.random.default_rng(0)
    X, y = rng.random((200, 120)) + 0.01, rng.integers(0, 10, 200)
    monkeypatch.setattr(sparse_input, "MIN_WORK", 0)
    assert sparse_input.column_share(X, 16) == 1.0
    assert sparse_input.first_layer(X, 16, [120, 40, 10], np.float64) is None
    history = bprop.Network([120, 40, 10], seed=0).SGD(X, y, 1, 16, 0.5, compiled=False)
    assert "input_column_share" not in history.config


def test_the_decision_reads_the_first_mini_batches_in_storage_order():
    X, _ = _sparse_data(n=1000)
    X[sparse_input.PROBE_BATCHES * 16 :] = 1.0  # dense after the probed rows: not looked at
    assert sparse_input.column_share(X, 16) < 0.6
    layer = sparse_input.first_layer(X, 16, [120, 3000, 10], np.float64)  # 5.8 M multiply-adds
    assert layer is not None and layer.share == sparse_input.column_share(X, 16)
    assert sparse_input.first_layer(X, 16, [120, 30, 10], np.float64) is None  # too small
