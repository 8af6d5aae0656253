"""Backpropagation as pure functions: the forward pass, BP1–BP4 over a whole mini-batch, and
the class an output answers.

Notation (Nielsen, and the seeds): layers are numbered 1 (input) … L (output); ``w^l_jk`` is
the weight from neuron k of layer l−1 to neuron j of layer l, ``b^l_j`` the bias of neuron j
of layer l, and

    z^l = w^l a^(l−1) + b^l,    a^l = σ(z^l),    δ^l = ∂C/∂z^l.

Backpropagation is the four equations

    BP1  δ^L = ∇_a C ⊙ σ'(z^L)
    BP2  δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l)
    BP3  ∂C/∂b^l_j = δ^l_j
    BP4  ∂C/∂w^l_jk = a^(l−1)_k δ^l_j

Like Nielsen's ``network.py``, the Python lists are 0-based and hold only the layers that have
weights: ``weights[i]`` is w^(i+2), of shape ``(sizes[i+1], sizes[i])``, so ``weights[i][j, k]``
is w_jk exactly as in the equations.  Unlike it, data holds one example per *row*, so a
mini-batch of m examples goes through each layer as one matrix product: with ``a`` of shape
``(m, n_(l−1))`` the weighted input is ``z = a wᵀ + b``, of shape ``(m, n_l)`` — the transpose of
the column form above, with the m columns side by side.  BP4 summed over the mini-batch is then
the single product ``δᵀ a`` and BP3 a column sum.

Every function takes the parameters ``(weights, biases, activations, cost)`` explicitly and
trusts its inputs: :class:`bprop.network.Network` holds the parameters and checks what users
give it, :mod:`bprop.train` calls these functions in its loop.  Nothing here imports either of
them, reads files or prints.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bprop.activations import Activation
from bprop.costs import Cost

Array = np.ndarray


def feedforward_trace(
    weights: Sequence[Array], biases: Sequence[Array], acts: Sequence[Activation], x: Array
) -> tuple[list[Array], list[Array]]:
    """Run the forward pass and keep every layer's weighted input and activation.

    Parameters
    ----------
    x : array ``(m, n_1)``
        The input activations a^1, one example per row.

    Returns
    -------
    zs : list of arrays
        ``zs[i]`` is z^(i+2), shape ``(m, sizes[i+1])``.
    activations : list of arrays
        ``activations[0]`` is x (a^1) and ``activations[i]`` is a^(i+1), shape ``(m, sizes[i])``.
    """
    a = x
    zs, activations = [], [x]
    for w, b, act in zip(weights, biases, acts):
        z = a @ w.T  # z^l = w^l a^(l−1) + b^l, as rows: (m, n_l)
        z += b
        a = act(z)  # a^l = σ(z^l): (m, n_l)
        zs.append(z)
        activations.append(a)
    return zs, activations


def feedforward(
    weights: Sequence[Array], biases: Sequence[Array], acts: Sequence[Activation], x: Array
) -> Array:
    """Return the network's output a^L for inputs ``x`` ``(m, n_1)``; shape ``(m, n_L)``."""
    a = x
    for w, b, act in zip(weights, biases, acts):
        z = a @ w.T  # (m, n_l)
        z += b
        a = act(z)
    return a


def deltas(
    weights: Sequence[Array],
    acts: Sequence[Activation],
    cost: Cost,
    zs: Sequence[Array],
    activations: Sequence[Array],
    y: Array,
) -> list[Array]:
    """The error δ^l of every layer with weights, by BP1 and BP2, from a forward trace.

    ``zs`` and ``activations`` are :func:`feedforward_trace`'s; ``y`` the targets
    ``(m, n_L)``.  Returns ``delta[i]`` = δ^(i+2), shape ``(m, sizes[i+1])``: one row per
    example (so BP3/BP4 summed over the examples, and per-example diagnostics, both read it).
    """
    delta: list[Array] = [np.empty(0)] * len(weights)
    # BP1: δ^L = ∇_a C ⊙ σ'(z^L), one row per example: (m, n_L)
    delta[-1] = cost.delta(zs[-1], activations[-1], y, acts[-1])
    # As in Nielsen's code, index -l counts layers back from the output: -1 is layer L.
    for i in range(2, len(weights) + 1):
        # BP2: δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l); as rows, δ^(l+1) w^(l+1): (m, n_l)
        delta[-i] = acts[-i].delta(zs[-i], activations[-i], delta[-i + 1] @ weights[-i + 1])
    return delta


def backprop(
    weights: Sequence[Array],
    biases: Sequence[Array],
    acts: Sequence[Activation],
    cost: Cost,
    x: Array,
    y: Array,
) -> tuple[list[Array], list[Array], Array]:
    """Gradient of the mean cost C = (1/m) Σ_x C_x over a mini-batch, by BP1–BP4.

    All m examples go through together: no Python loop over examples.

    Parameters
    ----------
    x : array ``(m, n_1)``
        Inputs, one per row.
    y : array ``(m, n_L)``
        Target outputs, one per row.

    Returns
    -------
    nabla_b : list of arrays
        ∂C/∂b^l, shapes ``(n_l,)``, in the order of ``biases``.
    nabla_w : list of arrays
        ∂C/∂w^l, shapes ``(n_l, n_(l−1))``, in the order of ``weights``.
    output : array ``(m, n_L)``
        a^L from the forward pass, so callers can report the cost without a second pass.
    """
    m = x.shape[0]
    zs, activations = feedforward_trace(weights, biases, acts, x)
    nabla_b, nabla_w = [], []
    for delta, a_prev in zip(deltas(weights, acts, cost, zs, activations, y), activations):
        # BP3: ∂C/∂b^l = δ^l, averaged over the m examples: (n_l,)
        nabla_b.append(delta.sum(axis=0) / m)
        # BP4: ∂C/∂w^l_jk = a^(l−1)_k δ^l_j, summed over examples as δᵀ a: (n_l, n_(l−1))
        nabla_w.append(delta.T @ a_prev)
        nabla_w[-1] /= m
    return nabla_b, nabla_w, activations[-1]


def decide(a: Array) -> Array:
    """The class each row of outputs ``a`` ``(m, n_L)`` answers: argmax, or a > ½ for one output."""
    if a.shape[1] == 1:
        return (a[:, 0] > 0.5).astype(np.int64)
    return np.argmax(a, axis=1)
