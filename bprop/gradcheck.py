"""Gradient check: backpropagation against central finite differences.

For every weight and bias θ, the numerical derivative is the five-point central difference

    ∂C/∂θ ≈ (−C(θ + 2ε) + 8C(θ + ε) − 8C(θ − ε) + C(θ − 2ε)) / 12ε,

whose truncation error is O(ε⁴), so a step as large as ε = 1e-4 is accurate and rounding in C
(≈ 1e-16 · C / ε) stays small.  The check compares it with BP1–BP4's gradient array by array (each
w^l and b^l) by the relative error ‖g_bp − g_num‖ / (‖g_bp‖ + ‖g_num‖), which stays meaningful
when single entries are near zero.  With float64 and ε = 1e-4 a correct backprop gives about
1e-9 or less; a wrong one gives 1e-2 or more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from bprop.network import backprop, feedforward

if TYPE_CHECKING:
    from bprop.network import Network

Array = np.ndarray
NORM_FLOOR = 1e-4


def numerical_gradient(
    net: Network, X: Any, Y: Any, eps: float = 1e-4
) -> tuple[list[Array], list[Array]]:
    """(∂C/∂b, ∂C/∂w) by five-point central differences of the mean cost, in float64.

    Costs ``4 × (number of parameters)`` forward passes: for small networks only.
    """
    weights, biases, x, y = _float64_problem(net, X, Y)

    def cost() -> float:
        return net.cost(feedforward(weights, biases, net.activations, x), y)

    grads = []
    for params in (biases, weights):
        layer_grads = []
        for p in params:
            g = np.empty_like(p)
            flat, gflat = p.reshape(-1), g.reshape(-1)
            for i in range(flat.size):
                keep = flat[i]
                c = []
                for step in (2 * eps, eps, -eps, -2 * eps):
                    flat[i] = keep + step
                    c.append(cost())
                flat[i] = keep
                gflat[i] = (-c[0] + 8 * c[1] - 8 * c[2] + c[3]) / (12 * eps)
            layer_grads.append(g)
        grads.append(layer_grads)
    return grads[0], grads[1]


def gradcheck(net: Network, X: Any, Y: Any, eps: float = 1e-4) -> float:
    """Largest relative error between backprop's gradient and finite differences.

    Parameters
    ----------
    net : Network
        Checked in float64 whatever its dtype (the network itself is not changed).
    X : array ``(m, n_in)``
    Y : array ``(m, n_out)`` or ``(m,)`` class labels
    eps : float
        The finite-difference step ε.

    Returns
    -------
    float
        max over the arrays w^l, b^l of ‖g_bp − g_num‖ / max(‖g_bp‖ + ‖g_num‖, 1e-4·max(1, C)).
        The floor keeps an array whose true gradient is 0 (behind a dead ReLU, say) from being
        judged by the finite difference's rounding noise (≈ 1e-16·C/ε): there the check is an
        absolute one, at about 1e-11·max(1, C).
    """
    weights, biases, x, y = _float64_problem(net, X, Y)
    nabla_b, nabla_w, _ = backprop(weights, biases, net.activations, net.cost, x, y)
    num_b, num_w = numerical_gradient(net, X, Y, eps)
    # Rounding in C(θ ± ε) leaves ≈ 1e-16·|C|/ε of noise in every numerical derivative.
    floor = NORM_FLOOR * max(
        1.0, abs(net.cost(feedforward(weights, biases, net.activations, x), y))
    )
    worst = 0.0
    for g_bp, g_num in zip(nabla_b + nabla_w, num_b + num_w):
        scale = max(np.linalg.norm(g_bp) + np.linalg.norm(g_num), floor)
        worst = max(worst, float(np.linalg.norm(g_bp - g_num) / scale))
    return worst


def _float64_problem(net: Network, X: Any, Y: Any) -> tuple[list, list, Array, Array]:
    x, _ = net._inputs(X, batch_only=True)
    y = net.targets(Y, len(x))
    weights = [w.astype(np.float64) for w in net.weights]
    biases = [b.astype(np.float64) for b in net.biases]
    return weights, biases, x.astype(np.float64), y.astype(np.float64)
