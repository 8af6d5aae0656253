"""Diagnostics: the measurements against independent oracles, and when the warnings fire."""

from __future__ import annotations

import json

import numpy as np
import pytest

import bprop
from bprop import datasets
from bprop.diagnostics import (
    SATURATION,
    Diagnostics,
    TrainingWarning,
    measure,
    probe_sample,
    warnings_for,
)


def _measure(net, X, Y):
    y = net.targets(Y, len(X))
    return measure(net.weights, net.biases, net.activations, net.cost, X, y)


@pytest.fixture(scope="module")
def mnist_probe():
    data = datasets.load("mnist")
    return probe_sample(data.train.X, data.train.y)


@pytest.mark.parametrize(
    ("hidden", "out", "cost"),
    [
        ("sigmoid", "sigmoid", "quadratic"),
        ("tanh", "sigmoid", "cross-entropy"),
        ("relu", "softmax", "log-likelihood"),
    ],
)
def test_learning_speeds_are_the_gradient_norms_by_finite_differences(hidden, out, cost):
    rng = np.random.default_rng(3)
    net = bprop.Network([5, 4, 3, 3], hidden, cost, output_activation=out, init="scaled", seed=2)
    X = rng.normal(size=(7, 5))
    Y = np.eye(3)[rng.integers(0, 3, 7)]
    stats = _measure(net, X, Y)
    nabla_b, nabla_w = bprop.numerical_gradient(net, X, Y)
    for layer, nb, nw in zip(stats["layers"], nabla_b, nabla_w):
        assert layer["speed_b"] == pytest.approx(np.linalg.norm(nb), rel=1e-6)
        assert layer["speed_w"] == pytest.approx(np.linalg.norm(nw), rel=1e-6)
    assert [layer["layer"] for layer in stats["layers"]] == [2, 3, 4]
    assert stats["cost"] == pytest.approx(net.total_cost(X, Y))


def test_mean_delta_is_the_mean_of_the_per_example_errors():
    # By BP3, ∂C_x/∂b^l = δ^(x,l): the seeds' per-example algorithm, one example at a time.
    rng = np.random.default_rng(4)
    net = bprop.Network([6, 5, 4, 2], "sigmoid", "quadratic", seed=5)
    X, Y = rng.normal(size=(9, 6)), rng.uniform(size=(9, 2))
    per_example = [net.backprop(X[i : i + 1], Y[i : i + 1])[0] for i in range(len(X))]
    stats = _measure(net, X, Y)
    for i, layer in enumerate(stats["layers"]):
        expected = np.mean([np.linalg.norm(nb[i]) for nb in per_example])
        assert layer["delta"] == pytest.approx(expected, rel=1e-10)


def test_saturation_of_a_deliberately_saturated_sigmoid_net():
    rng = np.random.default_rng(0)
    net = bprop.Network([20, 15, 4], "sigmoid", "quadratic", seed=0)
    X = rng.normal(size=(50, 20))
    healthy = _measure(net, X, np.zeros((50, 4)))["layers"][0]["saturated"]
    net.weights = [50 * w for w in net.weights]
    layers = _measure(net, X, np.zeros((50, 4)))["layers"]
    # Direct count: σ'(z) = a(1 − a) below 1% of its maximum ¼.
    with np.errstate(over="ignore"):
        a = 1 / (1 + np.exp(-(X @ net.weights[0].T + net.biases[0])))
    assert layers[0]["saturated"] == pytest.approx(np.mean(a * (1 - a) < SATURATION * 0.25))
    assert layers[0]["saturated"] > 0.9 > 0.2 > healthy
    assert layers[0]["dead"] is None


def test_dead_relus_are_those_silent_on_every_example():
    rng = np.random.default_rng(1)
    net = bprop.Network([8, 10, 3], "relu", "log-likelihood", output_activation="softmax", seed=1)
    net.biases[0][[1, 4, 7]] = -1e3  # z ≤ 0 whatever the input
    layers = _measure(net, rng.normal(size=(40, 8)), rng.integers(0, 3, 40))["layers"]
    assert layers[0]["dead"] == pytest.approx(0.3)
    assert layers[0]["saturated"] is None and layers[1]["dead"] is None
    w = net.weights[1]
    assert (layers[1]["w_mean"], layers[1]["w_std"]) == pytest.approx((w.mean(), w.std()))
    assert layers[1]["w_max"] == pytest.approx(np.abs(w).max())


def _warned(net, X, y):
    diagnostics = Diagnostics(X, y)
    diagnostics.on_train_begin(net, bprop.TrainState(seed=0))
    return {w.code for w in diagnostics.warnings}


def test_quadratic_cost_with_saturated_outputs_warns_and_cross_entropy_does_not(mnist_probe):
    X, y = mnist_probe
    quadratic = bprop.Network([784, 30, 10], "sigmoid", "quadratic", init="scaled", seed=0)
    quadratic.weights[1] *= 20  # push the outputs to 0 or 1, many of them wrong
    assert "saturated-output" in _warned(quadratic, X, y)
    healthy = bprop.Network([784, 30, 10], "sigmoid", "cross-entropy", init="scaled", seed=0)
    assert _warned(healthy, X, y) == set()
    healthy.weights[1] *= 20  # the same saturation: cross-entropy's δᴸ = a − y does not mind
    assert "saturated-output" not in _warned(healthy, X, y)


def test_the_books_network_warns_of_saturated_neurons_before_training(mnist_probe):
    net = bprop.Network([784, 30, 10], "sigmoid", "quadratic", seed=1)  # w ~ N(0, 1)
    assert _warned(net, *mnist_probe) == {"saturated-output", "saturated-hidden"}


def test_vanishing_gradient_in_a_deep_sigmoid_net_and_not_with_relu(mnist_probe):
    X, y = mnist_probe
    deep = bprop.Network([784, 30, 30, 30, 30, 10], "sigmoid", "cross-entropy", seed=0)
    diagnostics = Diagnostics(X, y)
    diagnostics.on_train_begin(deep, bprop.TrainState(seed=0))
    (warning,) = [w for w in diagnostics.warnings if w.code == "vanishing-gradient"]
    assert "layer 2 learns" in warning.message and "layer 6" in warning.message
    assert "BP2" in warning.message and "--activation relu" in warning.message
    relu = bprop.Network(
        [784, 30, 30, 30, 30, 10], "relu", "log-likelihood", output_activation="softmax", init="he"
    )
    assert "vanishing-gradient" not in _warned(relu, X, y)


def test_the_callback_records_the_start_the_first_epoch_and_each_epoch(mnist_probe):
    data = datasets.load("mnist")
    X, y = data.train.X[:1000], data.train.y[:1000]
    net = bprop.Network([784, 30, 10], "sigmoid", "quadratic", seed=1)
    raised = []
    diagnostics = Diagnostics(*mnist_probe, batches_per_epoch=100, on_warning=raised.append)
    net.SGD(X, y, 3, 10, 3.0, seed=1, callbacks=[diagnostics], verbose=False)
    positions = [r["position"] for r in diagnostics.records]
    assert positions == [0.0, 0.01, 0.05, 0.2, 1.0, 2.0, 3.0]
    assert diagnostics.records[-1]["train_cost"] > 0 and diagnostics.records[-1]["eta"] == 3.0
    assert diagnostics.records[-1]["accuracy"] > diagnostics.records[0]["accuracy"]
    codes = [w.code for w in raised]
    assert len(codes) == len(set(codes)) and set(codes) == {w.code for w in diagnostics.warnings}
    saved = json.loads(json.dumps(diagnostics.to_dict()))
    assert saved["format"] == "bprop-diagnostics" and saved["probe_size"] == 1000
    assert saved["output_delta_has_sigma_prime"] is True

    # Resuming keeps the records and raises nothing already raised.
    again = []
    resumed = Diagnostics(*mnist_probe, on_warning=again.append, previous=saved)
    net.SGD(X, y, 4, 10, 3.0, seed=1, callbacks=[resumed], verbose=False, state=None)
    assert len(resumed.records) > len(saved["records"])
    assert not {w.code for w in again} & set(codes)


def test_divergence_warns_with_a_smaller_learning_rate():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(100, 4)) * 10, rng.integers(0, 2, 100)
    net = bprop.Network([4, 8, 2], "relu", "quadratic", output_activation="identity", seed=0)
    diagnostics = Diagnostics(X, y)
    with pytest.raises(bprop.DivergenceError) as caught:
        net.SGD(X, y, 5, 10, 1e6, seed=0, callbacks=[diagnostics])
    found = warnings_for(diagnostics.to_dict(), caught.value.history.to_dict())
    (warning,) = [w for w in found if w.code == "divergence"]
    tried = caught.value.history.config["tried_eta"]  # and the error advised it, too
    assert f"try η = {tried:g}, which of the smaller η tried" in str(caught.value)
    assert f"smaller learning rate η, η = {tried:g}, the smaller η that" in warning.message


def test_a_rising_training_cost_is_divergence():
    layer = {"layer": 2, "activation": "identity", "speed_b": 1.0, "dead": None}
    records = [
        {"position": e + 1, "cost": c, "train_cost": c, "eta": 2.0, "layers": [layer]}
        for e, c in enumerate([1.0, 0.5, 0.6, 0.9])
    ]
    (warning,) = warnings_for({"records": records})
    assert warning == TrainingWarning(
        "divergence",
        "the training cost rose from 0.5 to 0.9 after epoch 3; the gradient steps overshoot the "
        "minimum instead of descending into it. Remedy: a smaller learning rate η, e.g. η = 0.2.",
        4,
    )
    assert warnings_for({"records": records[:3]}) == []


def test_probe_sample_is_fixed_and_validated():
    X, y = np.arange(50).reshape(25, 2), np.arange(25)
    a, b = probe_sample(X, y, size=10), probe_sample(X, y, size=10)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[0][:, 0] // 2, a[1])
    assert len(probe_sample(X, y, size=100)[0]) == 25
    with pytest.raises(ValueError, match="0 examples"):
        probe_sample(X[:0], y[:0])


# -- the advice knows the configuration: it never suggests a flag already in use ----------------


def _advice(net, X, y, code):
    diagnostics = Diagnostics(X, y)
    diagnostics.on_train_begin(net, bprop.TrainState(seed=0))
    assert diagnostics.to_dict()["init"] == net.init
    (warning,) = [w for w in diagnostics.warnings if w.code == code]
    return warning.message


@pytest.mark.parametrize("init", ["he", "standard", "glorot"])
def test_dead_relu_advice_suggests_he_only_when_it_is_not_in_use(init):
    rng = np.random.default_rng(1)
    net = bprop.Network(
        [8, 10, 3], "relu", "log-likelihood", output_activation="softmax", init=init, seed=1
    )
    net.biases[0][:5] = -1e3  # half the ReLUs dead whatever the input
    message = _advice(net, rng.normal(size=(40, 8)), rng.integers(0, 3, 40), "dead-relu")
    assert "--activation leaky_relu" in message and "smaller learning rate" in message
    assert ("--init he" in message) == (init != "he"), message


@pytest.mark.parametrize(
    ("hidden", "init", "suggested", "not_suggested"),
    [
        ("sigmoid", "standard", ["--activation relu --init he", "--init scaled"], []),
        ("sigmoid", "scaled", ["--activation relu --init he"], ["--init scaled"]),
        ("sigmoid", "he", ["--activation relu", "--init scaled"], ["--init he"]),
        ("relu", "scaled", ["--init he"], ["--init scaled", "--activation relu"]),
        ("relu", "he", [], ["--init", "--activation relu"]),
    ],
)
def test_vanishing_gradient_advice_leaves_out_what_is_in_use(
    hidden, init, suggested, not_suggested
):
    layers = [
        {"layer": 2, "activation": hidden, "speed_b": 0.001, "dead": None},
        {"layer": 3, "activation": hidden, "speed_b": 0.01, "dead": None},
        {"layer": 4, "activation": "softmax", "speed_b": 1.0, "dead": None},
    ]
    d = {
        "activations": [hidden, hidden, "softmax"],
        "init": init,
        "records": [{"position": 0.0, "cost": 1.0, "layers": layers}],
    }
    (warning,) = warnings_for(d)
    assert warning.code == "vanishing-gradient" and "1000× slower" in warning.message
    for flag in suggested:
        assert flag in warning.message, (flag, warning.message)
    for flag in not_suggested:
        assert flag not in warning.message, (flag, warning.message)
    if not suggested:
        assert "in use already" in warning.message and "--activation leaky_relu" in warning.message


def test_a_deep_scaled_sigmoid_net_is_not_told_to_use_scaled_initialisation(mnist_probe):
    X, y = mnist_probe
    deep = bprop.Network([784, 30, 30, 30, 30, 10], "sigmoid", "quadratic", init="scaled", seed=0)
    message = _advice(deep, X, y, "vanishing-gradient")
    assert "--activation relu --init he" in message and "--init scaled" not in message


def test_saturated_hidden_advice_with_scaled_weights_points_at_the_inputs():
    rng = np.random.default_rng(2)
    net = bprop.Network([20, 15, 4], "sigmoid", "cross-entropy", init="scaled", seed=0)
    X = 100 * rng.normal(size=(50, 20))  # inputs far too large for any initialisation
    message = _advice(net, X, rng.integers(0, 4, 50), "saturated-hidden")
    assert "--init scaled" not in message and "N(0, 1) a neuron" not in message
    assert "large inputs" in message
    net = bprop.Network([20, 15, 4], "sigmoid", "cross-entropy", seed=0)  # N(0, 1)
    assert "--init scaled" in _advice(net, X, rng.integers(0, 4, 50), "saturated-hidden")
