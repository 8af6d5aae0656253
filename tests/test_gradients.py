"""Backprop's gradients against two independent oracles: finite differences and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import bprop
from bprop.network import backprop
from tests.conftest import random_problem, valid_combinations

COMBOS = valid_combinations()


@pytest.mark.parametrize(("hidden", "out", "cost"), COMBOS)
def test_gradcheck_every_activation_and_cost(hidden, out, cost):
    for seed in (0, 1):
        net, X, Y = random_problem(hidden, out, cost, seed)
        assert bprop.gradcheck(net, X, Y) < 1e-7


def test_gradcheck_catches_a_wrong_bp2():
    """A gradient check that could not fail would prove nothing: break σ' and watch it fail."""
    net, X, Y = random_problem("tanh", "sigmoid", "quadratic", 3)
    wrong = bprop.Activation("tanh", np.tanh, lambda z, a: 1.0 - a)  # should be 1 − a²
    net.activations[0] = wrong
    net.activations[1] = wrong
    assert bprop.gradcheck(net, X, Y) > 1e-3


def test_gradcheck_of_a_users_own_activation():
    softplus = bprop.Activation(
        "softplus", lambda z: np.log1p(np.exp(z)), lambda z, a: 1 / (1 + np.exp(-z))
    )
    net = bprop.Network([3, 4, 2], activation=softplus, output_activation="sigmoid", seed=2)
    rng = np.random.default_rng(2)
    assert bprop.gradcheck(net, rng.normal(size=(5, 3)), rng.uniform(size=(5, 2))) < 1e-7


@pytest.mark.parametrize(
    ("out", "cost"), [("sigmoid", "cross-entropy"), ("softmax", "log-likelihood")]
)
def test_simplified_bp1_equals_the_general_product(out, cost):
    """δ^L = a − y is exact for these pairs: it equals ∇_a C ⊙ σ'(z^L) computed the long way."""
    net, X, Y = random_problem("sigmoid", out, cost, 4)
    zs, acts = bprop.network.feedforward_trace(net.weights, net.biases, net.activations, X)
    short = net.cost.delta(zs[-1], acts[-1], Y, net.activations[-1])
    general = net.activations[-1].delta(zs[-1], acts[-1], net.cost.nabla_a(acts[-1], Y))
    np.testing.assert_allclose(short, general, rtol=1e-12, atol=1e-15)


def test_float32_gradients_track_float64():
    net64, X, Y = random_problem("sigmoid", "sigmoid", "cross-entropy", 5)
    net32 = bprop.Network(
        [4, 5, 3, 3], "sigmoid", "cross-entropy", init="scaled", dtype=np.float32, seed=5
    )
    b64, w64 = net64.backprop(X, Y)
    b32, w32 = net32.backprop(X, Y)
    assert all(w.dtype == np.float32 for w in w32 + b32)
    for g32, g64 in zip(w32 + b32, w64 + b64):
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-6)


# -- PyTorch autograd as the oracle -------------------------------------------------------------

torch = pytest.importorskip("torch")

TORCH_ACT = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01),
    "identity": lambda z: z,
    "softmax": lambda z: torch.softmax(z, dim=1),
}


def torch_cost(name, a, y):
    m = a.shape[0]
    if name == "quadratic":
        return 0.5 * ((a - y) ** 2).sum() / m
    if name == "cross-entropy":
        return -(y * torch.log(a) + (1 - y) * torch.log(1 - a)).sum() / m
    return -(torch.where(y > 0, y * torch.log(a), torch.zeros_like(a))).sum() / m


def torch_gradients(net, X, Y):
    ws = [torch.tensor(w, requires_grad=True) for w in net.weights]
    bs = [torch.tensor(b, requires_grad=True) for b in net.biases]
    a = torch.tensor(X)
    for w, b, act in zip(ws, bs, net.activations):
        a = TORCH_ACT[act.name](a @ w.T + b)
    torch_cost(net.cost.name, a, torch.tensor(Y)).backward()
    return [b.grad.numpy() for b in bs], [w.grad.numpy() for w in ws]


@pytest.mark.parametrize(("hidden", "out", "cost"), COMBOS)
def test_gradients_equal_torch_autograd(hidden, out, cost):
    rng = np.random.default_rng(hash((hidden, out, cost)) % 2**32)
    for trial in range(3):
        depth = int(rng.integers(1, 4))
        sizes = [int(s) for s in rng.integers(1, 7, size=depth + 1)] + [int(rng.integers(2, 5))]
        net, X, Y = random_problem(hidden, out, cost, trial, sizes=sizes, m=int(rng.integers(1, 9)))
        nabla_b, nabla_w = net.backprop(X, Y)
        t_b, t_w = torch_gradients(net, X, Y)
        for ours, theirs in zip(nabla_b + nabla_w, t_b + t_w):
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-14)


def test_batch_gradient_is_the_mean_of_per_example_gradients():
    """Matrix form over m rows = (1/m) Σ_x of the per-example BP1–BP4, the seeds' definition."""
    net, X, Y = random_problem("sigmoid", "sigmoid", "quadratic", 6, m=7)
    nabla_b, nabla_w, _ = backprop(net.weights, net.biases, net.activations, net.cost, X, Y)
    sum_b = [np.zeros_like(b) for b in net.biases]
    sum_w = [np.zeros_like(w) for w in net.weights]
    for x, y in zip(X, Y):
        db, dw = net.backprop(x[None, :], y[None, :])
        sum_b = [s + d for s, d in zip(sum_b, db)]
        sum_w = [s + d for s, d in zip(sum_w, dw)]
    for batch, summed in zip(nabla_b + nabla_w, sum_b + sum_w):
        np.testing.assert_allclose(batch, summed / len(X), rtol=1e-12)
