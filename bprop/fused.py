"""The NumPy engine's mini-batch step: the arithmetic of :func:`bprop.backprop.backprop` and
the update, in preallocated buffers, with δ^L scaled by η/m before it is backpropagated.

BP2 is linear in δ, so BP3 and BP4 then give the update itself, η·∂C/∂b and η·∂C/∂w, summed
over the mini-batch:

    w^l → (1 − ηλ/n) w^l − (η/m) Σ_x δ^(x,l) (a^(x,l−1))ᵀ,    b^l → b^l − (η/m) Σ_x δ^(x,l)

(or the momentum form ``v → μv − η∇C − ηλ/n w, w → w + v``).  On a sparse input
(:func:`bprop.engines.gathers_columns`) the first layer multiplies only the input columns
its mini-batch uses (:func:`input_columns`): a column that is zero in every example adds
nothing to z¹ and its BP4 step Σ_x δ_j a_k is exactly 0, so the result is the dense one.

:func:`step` reads its context from a ``bprop.train._Run`` (the network, the data, the
buffers) and updates the network in place; it prints nothing and reads no files.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from bprop import engines

Array = np.ndarray


def step(run: Any, rows: Any, eta: float, state: Any, offset: int) -> float:
    """One mini-batch of ``run`` (a ``bprop.train._Run``) in its preallocated buffers, the
    update folded into BP3/BP4; returns Σ_x C_x (Σ_x ŝ_x C_x with sample weights)."""
    net = run.net
    W, b, acts = net.weights, net.biases, net.activations
    if isinstance(rows, slice) or not isinstance(run.x, np.ndarray):
        xb, yb = run.x[rows], run.y[rows]
        xb = xb if isinstance(xb, np.ndarray) else xb.toarray()  # CSR: this mini-batch only
    else:
        k = len(rows)
        xb, yb = run.xb[:k], run.yb[:k]
        np.take(run.x, rows, axis=0, out=xb)
        np.take(run.y, rows, axis=0, out=yb)
    k = len(xb)
    z = [t[:k] for t in run.z]
    a = [t[:k] for t in run.a]
    delta = [t[:k] for t in run.delta]
    tmp = [t[:k] for t in run.tmp]
    cols = input_columns(xb, run.sparse_input)
    if cols is not None:  # z¹ = w¹ a⁰ + b¹ over the inputs non-zero in this mini-batch
        xb = np.take(xb, cols, axis=1)
        np.matmul(xb, W[0][:, cols].T, out=z[0])
    prev = xb
    for i in range(len(W)):
        if i or cols is None:
            np.matmul(prev, W[i].T, out=z[i])  # z^l = w^l a^(l−1) + b^l: (m, n_l)
        z[i] += b[i]
        acts[i].forward_into(z[i], a[i])  # a^l = σ(z^l)
        prev = a[i]
    out = a[-1]
    if out.shape[1] == 1:
        run.predicted[offset : offset + k] = out[:, 0] > 0.5
    else:
        np.argmax(out, axis=1, out=run.predicted[offset : offset + k])
    s_hat = None if run.s_hat is None else run.s_hat[rows]
    c_x = net.cost.fn(out, yb)
    batch_cost = float(np.sum(c_x if s_hat is None else s_hat * c_x))  # Σ_x ŝ_x C_x
    if not math.isfinite(batch_cost):
        return batch_cost
    # BP1: δ^L = ∇_a C ⊙ σ'(z^L), scaled by η/m so that BP3/BP4 give the update itrun.
    net.cost.delta_into(z[-1], out, yb, acts[-1], delta[-1], tmp[-1])
    delta[-1] *= eta / k
    if s_hat is not None:
        delta[-1] *= s_hat[:, None]  # BP1 of the weighted cost: ŝ_x δ^(x,L)
    for i in range(len(W) - 1, -1, -1):
        if i > 0:
            # BP2: δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l), before w^(l+1) changes: (m, n_l)
            np.matmul(delta[i], W[i], out=delta[i - 1])
            acts[i - 1].delta_into(z[i - 1], a[i - 1], delta[i - 1], tmp[i - 1])
        # BP4 summed over the mini-batch, times η/m: (η/m) Σ_x δ^x (a^(x,l−1))ᵀ
        if i or cols is None:
            np.matmul(delta[i].T, a[i - 1] if i > 0 else xb, out=run.nabla_w[i])
            _apply(run, i, run.nabla_w[i], eta, delta[i], state)
        else:  # only the used columns: the others' Σ_x δ_j a_k is exactly 0
            _apply(run, 0, np.matmul(xb.T, delta[0]).T, eta, delta[0], state, cols)
    return batch_cost


def input_columns(xb: Array, sparse_input: bool) -> Array | None:
    """The input columns non-zero (NaN included) somewhere in the mini-batch ``xb``, or
    None for the dense products: without a sparse input, or where more than
    ``SPARSE_BATCH_COLUMNS`` of the columns are used and the gathers cost what they save."""
    if not sparse_input:
        return None
    cols = np.flatnonzero(xb.any(axis=0))
    return cols if len(cols) <= engines.SPARSE_BATCH_COLUMNS * xb.shape[1] else None


def _apply(
    run: Any, i: int, step_w: Array, eta: float, delta: Array, state: Any, cols: Array | None = None
) -> None:
    """w → (1 − ηλ/n) w − (η/m) Σ δ aᵀ (or the momentum form), b → b − (η/m) Σ δ, with
    ``step_w`` = (η/m) Σ δ aᵀ.  With ``cols`` (the sparse first layer) ``step_w`` holds only
    those columns: the L2 decay and momentum still reach every weight, the step skips the
    columns whose Σ_x δ_j a_k is exactly 0."""
    w = run.net.weights[i]
    where = ... if cols is None else (slice(None), cols)
    if run.momentum:
        assert state.velocity_w is not None  # sgd makes them with momentum
        v = state.velocity_w[i]
        v *= run.momentum
        v[where] -= step_w
        if run.lmbda_over_n:
            v -= (eta * run.lmbda_over_n) * w
        w += v
    else:
        if run.lmbda_over_n:
            w *= 1.0 - eta * run.lmbda_over_n
        w[where] -= step_w
    if run.update_biases:
        _apply_biases(run, i, delta, state)


def _apply_biases(run: Any, i: int, delta: Array, state: Any) -> None:
    """b → b − (η/m) Σ δ (BP3; ``delta`` carries η/m), or the momentum form."""
    step_b = np.sum(delta, axis=0, out=run.nabla_b[i])  # BP3, times η/m
    if run.momentum:
        assert state.velocity_b is not None
        v = state.velocity_b[i]
        v *= run.momentum
        v -= step_b
        run.net.biases[i] += v
    else:
        run.net.biases[i] -= step_b


@contextlib.contextmanager
def columns_contiguous(arrays: list[Array] | None) -> Iterator[None]:
    """``arrays[0]`` (w¹ or its velocity) in column-major order while training, so that the
    sparse first layer gathers and updates whole columns (contiguous memory); afterwards the
    values go back into the array that was there, which keeps its layout."""
    if not arrays:
        yield
        return
    own = arrays[0]
    arrays[0] = np.asfortranarray(own)
    try:
        yield
    finally:
        if arrays[0] is not own:
            own[...] = arrays[0]
            arrays[0] = own
