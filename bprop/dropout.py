"""Dropout (Hinton et al. 2012, Srivastava et al. 2014), inverted, with the seeds' equations.

During training each neuron of layer l (the input layer included, the output layer never) is
kept with probability q_l = 1 − p_l, p_l the layer's rate.  A mask r^l holds 1/q_l for a kept
neuron and 0 for a dropped one, so the expected activation is unchanged and evaluation uses
the network as it is (no mask, no rescaling).  With r^l the forward pass and BP2 become

    ã^l = r^l ⊙ a^l,    z^(l+1) = w^(l+1) ã^l + b^(l+1)
    BP2  δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ r^l ⊙ σ'(z^l)
    BP4  ∂C/∂w^l_jk = ã^(l−1)_k δ^l_j

BP1 and BP3 are unchanged.  The masks are drawn per mini-batch from a generator the caller
seeds (training draws them from ``(seed, epoch, mini-batch)``, so a resumed run repeats them),
or passed in whole — the oracle tests hand PyTorch the very same masks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bprop.activations import Activation
from bprop.costs import Cost

Array = np.ndarray


def rates(spec: Any, sizes: Sequence[int]) -> tuple[float, ...]:
    """Per-layer dropout rates for layers 1 … L−1 (input first) from ``spec``.

    A number is the rate of every hidden layer (the input layer keeps all its neurons); a
    sequence gives one rate per layer before the output, input first (``len(sizes) − 1``).
    Each rate is in [0, 1).
    """
    n = len(sizes) - 1
    if spec is None:
        return (0.0,) * n
    if isinstance(spec, (int, float, np.floating)) and not isinstance(spec, bool):
        out = (0.0,) + (float(spec),) * (n - 1)
    else:
        try:
            out = tuple(float(r) for r in spec)
        except (TypeError, ValueError):
            raise ValueError(f"dropout must be a rate or a list of rates, got {spec!r}") from None
        if len(out) != n:
            raise ValueError(
                f"dropout needs one rate per layer before the output, input first ({n} for "
                f"sizes {list(sizes)}), got {len(out)}"
            )
    if not all(0 <= r < 1 for r in out):
        raise ValueError(f"dropout rates must be in [0, 1), got {list(out)}")
    return out


def masks(
    rng: np.random.Generator, layer_rates: Sequence[float], m: int, sizes: Sequence[int], dtype: Any
) -> list[Array | None]:
    """Masks r^l for a mini-batch of m: ``(m, sizes[i])`` arrays of 0 and 1/q, None where the
    rate is 0."""
    out: list[Array | None] = []
    for rate, width in zip(layer_rates, sizes):
        if not rate:
            out.append(None)
            continue
        keep = 1.0 - rate
        out.append((rng.random((m, width)) < keep).astype(dtype) / dtype(keep))
    return out


def backprop(
    weights: Sequence[Array],
    biases: Sequence[Array],
    acts: Sequence[Activation],
    cost: Cost,
    x: Array,
    y: Array,
    layer_masks: Sequence[Array | None],
) -> tuple[list[Array], list[Array], Array]:
    """:func:`bprop.backprop.backprop` with dropout masks: ``(nabla_b, nabla_w, a^L)``.

    ``layer_masks[i]`` multiplies the activations of layer i+1 (``[0]`` the inputs), one per
    layer before the output; None keeps every neuron of that layer.
    """
    m = x.shape[0]
    a = x if layer_masks[0] is None else x * layer_masks[0]  # ã^1 = r^1 ⊙ x
    dropped, raw, zs = [a], [], []
    for i, (w, b, act) in enumerate(zip(weights, biases, acts)):
        z = a @ w.T  # z^l = w^l ã^(l−1) + b^l: (m, n_l)
        z += b
        a = act(z)  # a^l = σ(z^l)
        zs.append(z)
        raw.append(a)
        if i + 1 < len(weights):
            mask = layer_masks[i + 1]
            a = a if mask is None else a * mask  # ã^l = r^l ⊙ a^l
            dropped.append(a)
    delta = cost.delta(zs[-1], raw[-1], y, acts[-1])  # BP1
    nabla_b: list[Array] = [np.empty(0)] * len(weights)
    nabla_w: list[Array] = [np.empty(0)] * len(weights)
    for i in range(len(weights) - 1, -1, -1):
        nabla_b[i] = delta.sum(axis=0) / m  # BP3
        nabla_w[i] = delta.T @ dropped[i]  # BP4 with ã^(l−1)
        nabla_w[i] /= m
        if i > 0:
            g = delta @ weights[i]  # (w^(l+1))ᵀ δ^(l+1), as rows
            if layer_masks[i] is not None:
                g *= layer_masks[i]  # ⊙ r^l
            delta = acts[i - 1].delta(zs[i - 1], raw[i - 1], g)  # BP2: ⊙ σ'(z^l)
    return nabla_b, nabla_w, raw[-1]
