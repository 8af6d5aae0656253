"""The Network holder: shapes, initialisation, lookup errors, predict and evaluate."""

from __future__ import annotations

import numpy as np
import pytest

import bprop


def test_shapes_follow_nielsens_w_jk():
    net = bprop.Network([4, 3, 2], seed=0)
    assert [w.shape for w in net.weights] == [(3, 4), (2, 3)]
    assert [b.shape for b in net.biases] == [(3,), (2,)]
    X = np.random.default_rng(0).normal(size=(5, 4))
    assert net.feedforward(X).shape == (5, 2)
    assert net.feedforward(X[0]).shape == (2,)
    # w_jk connects neuron k of the layer before to neuron j: change w^2_{1,3} and only
    # hidden neuron 1's input from input 3 changes.
    net.weights[0][1, 3] += 1.0
    z = X @ net.weights[0].T + net.biases[0]
    np.testing.assert_allclose(
        z[:, 1] - (X @ (net.weights[0][1] - [0, 0, 0, 1]) + net.biases[0][1]), X[:, 3]
    )


def test_feedforward_is_sigma_of_w_a_plus_b():
    net = bprop.Network([3, 2], seed=1)
    x = np.array([0.1, -0.2, 0.3])
    expected = 1 / (1 + np.exp(-(net.weights[0] @ x + net.biases[0])))
    np.testing.assert_allclose(net.feedforward(x), expected, rtol=1e-15)


@pytest.mark.parametrize(
    ("init", "w_std", "b_std"),
    [("standard", 1.0, 1.0), ("scaled", 1 / np.sqrt(400), 1.0), ("he", np.sqrt(2 / 400), 0.0)],
)
def test_initialisations_have_the_stated_spread(init, w_std, b_std):
    net = bprop.Network([400, 300, 10], init=init, seed=0)
    assert np.std(net.weights[0]) == pytest.approx(w_std, rel=0.02)
    assert np.std(net.biases[0]) == pytest.approx(b_std, rel=0.2, abs=1e-12)


def test_glorot_bounds():
    net = bprop.Network([300, 100], init="glorot", seed=0)
    limit = np.sqrt(6 / 400)
    assert np.abs(net.weights[0]).max() <= limit
    assert np.abs(net.weights[0]).max() > 0.99 * limit
    assert not net.biases[0].any()


def test_seed_reproduces_weights_in_both_dtypes():
    a = bprop.Network([5, 4, 3], seed=42)
    b = bprop.Network([5, 4, 3], seed=42)
    c = bprop.Network([5, 4, 3], seed=42, dtype="float32")
    for p, q, r in zip(a.weights, b.weights, c.weights):
        np.testing.assert_array_equal(p, q)
        assert r.dtype == np.float32
        np.testing.assert_array_equal(p.astype(np.float32), r)


def test_per_layer_activations_and_repr():
    net = bprop.Network([3, 4, 4, 2], ["relu", "tanh", "softmax"], "log-likelihood")
    assert [a.name for a in net.activations] == ["relu", "tanh", "softmax"]
    assert "['relu', 'tanh', 'softmax']" in repr(net) and "log-likelihood" in repr(net)
    out = net.feedforward(np.ones((2, 3)))
    np.testing.assert_allclose(out.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(activation="sigmod"), ValueError, "Did you mean 'sigmoid'"),
        (dict(cost="crossentropy-"), ValueError, "Did you mean"),
        (dict(init="xavier"), ValueError, "unknown init 'xavier'"),
        (dict(activation="softmax"), ValueError, "only be the output layer"),
        (dict(activation=["relu"]), ValueError, "one activation per layer"),
        (dict(cost="cross-entropy", output_activation="relu"), ValueError, "outputs in"),
        (dict(dtype="int32"), ValueError, "float64 or float32"),
        (dict(activation=3), TypeError, "activation must be a name"),
    ],
)
def test_bad_construction_is_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        bprop.Network([3, 4, 2], **kwargs)


@pytest.mark.parametrize("sizes", [[3], [3, 0, 2], [3, -1], [2.5, 3], "abc"])
def test_bad_sizes_are_refused(sizes):
    with pytest.raises(ValueError, match="sizes must list"):
        bprop.Network(sizes)


def test_predict_and_evaluate():
    net = bprop.Network([2, 3], seed=0)
    X = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, -1.0]])
    pred = net.predict(X)
    np.testing.assert_array_equal(pred, np.argmax(net.feedforward(X), axis=1))
    assert net.evaluate(X, pred) == 3
    assert net.evaluate(X, np.eye(3)[pred]) == 3
    wrong = (pred + 1) % 3
    assert net.evaluate(X, wrong) == 0
    single = bprop.Network([2, 1], seed=0)
    assert set(single.predict(X)) <= {0, 1}


def test_backprop_accepts_labels_or_targets():
    net = bprop.Network([2, 3], seed=0)
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    a = net.backprop(X, np.array([2, 0]))
    b = net.backprop(X, np.array([[0, 0, 1], [1, 0, 0]]))
    for p, q in zip(a[0] + a[1], b[0] + b[1]):
        np.testing.assert_array_equal(p, q)
    with pytest.raises(ValueError, match="targets of shape"):
        net.backprop(X, np.zeros((2, 4)))
