"""The training step compiled with numba: an optional engine for small matrices.

For the book's 784-30-10 network with mini-batches of 10, one NumPy call costs about as much
as the arithmetic it launches, and a mini-batch step makes some thirty of them.  This module
runs whole stretches of mini-batches in one compiled function instead: the same equations,
in the same order as :meth:`bprop.train._Run.fused_step`, written as loops —

* feedforward ``z^l = w^l a^(l−1) + b^l``, ``a^l = σ(z^l)``;
* BP1 ``δ^L = ∇_a C ⊙ σ'(z^L)`` (or the exact ``a − y``), scaled by η/m;
* BP2 ``δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l)``, computed before ``w^(l+1)`` changes;
* BP3/BP4 summed over the mini-batch and applied at once, row by row of ``w^l``:
  ``w^l → (1 − ηλ/n) w^l − (η/m) Σ_x δ^(x,l) (a^(x,l−1))ᵀ`` (or the momentum form).

Each mini-batch's rows are gathered through the epoch's index order into one preallocated
buffer (the data set itself is never copied or shuffled).
Only the built-in activations and costs are compiled (a user's own falls back to NumPy), and
the engine is used only when numba is installed (``pip install "bprop[fast]"``).  Sums may be
reassociated (vectorised), so results agree with the NumPy engines to float rounding, which a
test checks; NaN and infinity still propagate, so divergence is still caught.
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:
    import numba
except ImportError:  # the engine is optional
    numba = None

Array = np.ndarray

#: Activation codes understood by the kernel.
SIGMOID, TANH, RELU, LEAKY_RELU, IDENTITY, SOFTMAX = range(6)
ACTIVATION_CODES = {
    "sigmoid": SIGMOID,
    "tanh": TANH,
    "relu": RELU,
    "leaky_relu": LEAKY_RELU,
    "identity": IDENTITY,
    "softmax": SOFTMAX,
}
#: Cost codes understood by the kernel.
QUADRATIC, CROSS_ENTROPY, LOG_LIKELIHOOD = range(3)
COST_CODES = {
    "quadratic": QUADRATIC,
    "cross-entropy": CROSS_ENTROPY,
    "log-likelihood": LOG_LIKELIHOOD,
}


def available() -> bool:
    """True when numba is installed."""
    return numba is not None


def _jit(fn: Any) -> Any:
    if numba is None:
        return fn
    # Reassociation lets the dot products vectorise; no "nnan"/"ninf", so NaN still propagates.
    return numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})(fn)


@_jit
def _activate(code, slope, z, a, k, one):  # pragma: no cover - compiled
    """a = σ(z) for the first k rows."""
    n = z.shape[1]
    for i in range(k):
        if code == SOFTMAX:
            top = z[i, 0]
            for j in range(1, n):
                top = max(top, z[i, j])
            total = z[i, 0] - z[i, 0]
            for j in range(n):
                e = np.exp(z[i, j] - top)
                a[i, j] = e
                total += e
            for j in range(n):
                a[i, j] /= total
            continue
        for j in range(n):
            v = z[i, j]
            if code == SIGMOID:
                a[i, j] = one / (one + np.exp(-v))
            elif code == TANH:
                a[i, j] = np.tanh(v)
            elif code == RELU:
                a[i, j] = max(v, v - v)
            elif code == LEAKY_RELU:
                a[i, j] = v if v > 0 else slope * v
            else:
                a[i, j] = v


@_jit
def _times_prime(code, slope, z, a, g, k, one):  # pragma: no cover - compiled
    """g ← g ⊙ σ'(z) for the first k rows (softmax: its Jacobian times g)."""
    n = z.shape[1]
    for i in range(k):
        if code == SOFTMAX:
            s = g[i, 0] - g[i, 0]
            for j in range(n):
                s += g[i, j] * a[i, j]
            for j in range(n):
                g[i, j] = (g[i, j] - s) * a[i, j]
            continue
        for j in range(n):
            if code == SIGMOID:
                g[i, j] = g[i, j] * a[i, j] * (one - a[i, j])
            elif code == TANH:
                g[i, j] = g[i, j] * (one - a[i, j] * a[i, j])
            elif code == RELU:
                if not z[i, j] > 0:
                    g[i, j] = g[i, j] * (one - one)
            elif code == LEAKY_RELU and not z[i, j] > 0:
                g[i, j] = g[i, j] * slope


@_jit
def _xlogy(x, y):  # pragma: no cover - compiled
    """x · ln y with 0 · ln 0 = 0, in float64."""
    if x == 0:
        return 0.0
    return float(x) * np.log(float(y))


@_jit
def _matmul_nt(A, B, bias, out, k, zero):  # pragma: no cover - compiled
    """out[:k] = A[:k] Bᵀ + bias, in blocks of 2 rows of A × 4 rows of B.

    Eight independent sums per block keep both FMA units busy (one sum at a time waits on
    the previous addition); each loaded element of A or B serves four or two of them.
    """
    rows, cols = B.shape
    for i in range(0, k, 2):
        for j in range(0, rows, 4):
            if i + 1 < k and j + 3 < rows:
                s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = zero
                for q in range(cols):
                    a0, a1 = A[i, q], A[i + 1, q]
                    b0, b1, b2, b3 = B[j, q], B[j + 1, q], B[j + 2, q], B[j + 3, q]
                    s00 += a0 * b0
                    s01 += a0 * b1
                    s02 += a0 * b2
                    s03 += a0 * b3
                    s10 += a1 * b0
                    s11 += a1 * b1
                    s12 += a1 * b2
                    s13 += a1 * b3
                out[i, j] = s00 + bias[j]
                out[i, j + 1] = s01 + bias[j + 1]
                out[i, j + 2] = s02 + bias[j + 2]
                out[i, j + 3] = s03 + bias[j + 3]
                out[i + 1, j] = s10 + bias[j]
                out[i + 1, j + 1] = s11 + bias[j + 1]
                out[i + 1, j + 2] = s12 + bias[j + 2]
                out[i + 1, j + 3] = s13 + bias[j + 3]
            else:
                for ii in range(i, min(i + 2, k)):
                    for jj in range(j, min(j + 4, rows)):
                        s = zero
                        for q in range(cols):
                            s += A[ii, q] * B[jj, q]
                        out[ii, jj] = s + bias[jj]


@_jit
def _column_times_rows(D, j, A, k, row, zero):  # pragma: no cover - compiled
    """row = Σ_i D[i, j] A[i] over the first k rows: row j of Dᵀ A (BP4 summed over x)."""
    cols = row.shape[0]
    for q in range(cols):
        row[q] = zero
    i = 0
    while i + 1 < k:
        c0, c1 = D[i, j], D[i + 1, j]
        for q in range(cols):
            row[q] += c0 * A[i, q] + c1 * A[i + 1, q]
        i += 2
    if i < k:
        c0 = D[i, j]
        for q in range(cols):
            row[q] += c0 * A[i, q]


@_jit
def train_batches(
    x,
    y,
    order,
    first,
    last,
    m,
    eta,
    lmbda_over_n,
    momentum,
    update_biases,
    W,
    b,
    vW,
    vb,
    codes,
    slope,
    cost_code,
    exact,
    z,
    a,
    delta,
    xb,
    row,
    scalars,
    predicted,
    batch_costs,
):  # pragma: no cover - compiled
    """Train on mini-batches ``first`` … ``last − 1`` of the epoch ordered by ``order``.

    ``W``, ``b`` (and the velocities ``vW``, ``vb`` when ``momentum`` > 0) are tuples of the
    network's arrays, updated in place; ``z``, ``a``, ``delta`` are ``(m, n_l)`` buffers, ``row``
    a buffer as long as the widest layer's input.  The class picked for each example goes to
    ``predicted`` (by position in ``order``) and each mini-batch's Σ_x C_x to ``batch_costs``.
    Returns the index of the first mini-batch not trained: ``last``, or a mini-batch whose
    cost is not finite (its update is skipped, as the NumPy engines do).
    """
    n = order.shape[0]
    L = len(W)
    n_out = y.shape[1]
    n_in = x.shape[1]
    # Scalars in the network's dtype, so float32 arithmetic stays float32.
    scalars[0] = 0.0
    scalars[1] = 1.0
    scalars[2] = slope
    zero, one, slope_t = scalars[0], scalars[1], scalars[2]
    scalars[4] = 1.0 - eta * lmbda_over_n
    scalars[5] = eta * lmbda_over_n
    scalars[6] = momentum
    shrink, decay, mu = scalars[4], scalars[5], scalars[6]
    for k in range(first, last):
        start = k * m
        kk = min(m, n - start)
        # The mini-batch's training rows, gathered once (they are read twice: z^1 and BP4).
        for i in range(kk):
            r = order[start + i]
            for q in range(n_in):
                xb[i, q] = x[r, q]
        # Feedforward: z^l = w^l a^(l−1) + b^l, a^l = σ(z^l).
        for l in range(L):  # noqa: E741 - the layer index, as in the equations
            _matmul_nt(xb if l == 0 else a[l - 1], W[l], b[l], z[l], kk, zero)
            _activate(codes[l], slope_t, z[l], a[l], kk, one)
        out, target = a[L - 1], y
        # The picked classes and the mini-batch's cost Σ_x C_x.
        cost = 0.0
        for i in range(kk):
            r = order[start + i]
            if n_out == 1:
                predicted[start + i] = 1 if out[i, 0] > 0.5 else 0
            else:
                best = 0
                for j in range(1, n_out):
                    if out[i, j] > out[i, best]:
                        best = j
                predicted[start + i] = best
            for j in range(n_out):
                av, yv = out[i, j], target[r, j]
                if cost_code == QUADRATIC:
                    d = float(av) - float(yv)
                    cost += 0.5 * d * d
                elif cost_code == CROSS_ENTROPY:
                    cost -= _xlogy(yv, av) + _xlogy(one - yv, one - av)
                else:
                    cost -= _xlogy(yv, av)
        batch_costs[k] = cost
        if not np.isfinite(cost):
            return k
        # BP1: δ^L = ∇_a C ⊙ σ'(z^L), scaled by η/m so that BP3/BP4 give the update itself.
        scalars[3] = eta / kk
        scale = scalars[3]
        dL = delta[L - 1]
        for i in range(kk):
            r = order[start + i]
            for j in range(n_out):
                av, yv = out[i, j], target[r, j]
                if exact or cost_code == QUADRATIC:
                    g = av - yv
                elif cost_code == CROSS_ENTROPY:
                    g = (av - yv) / (av * (one - av))
                elif yv == 0:
                    g = zero
                else:
                    g = -yv / av
                dL[i, j] = g
        if not exact:
            _times_prime(codes[L - 1], slope_t, z[L - 1], out, dL, kk, one)
        for i in range(kk):
            for j in range(n_out):
                dL[i, j] *= scale
        for l in range(L - 1, -1, -1):  # noqa: E741
            Wl, bl, dl = W[l], b[l], delta[l]
            rows_out, cols = Wl.shape
            if l > 0:
                # BP2: δ^(l−1) = ((w^l)ᵀ δ^l) ⊙ σ'(z^(l−1)), before w^l changes.
                dp = delta[l - 1]
                for i in range(kk):
                    for q in range(cols):
                        dp[i, q] = zero
                    for j in range(rows_out):
                        c = dl[i, j]
                        for q in range(cols):
                            dp[i, q] += c * Wl[j, q]
                _times_prime(codes[l - 1], slope_t, z[l - 1], a[l - 1], dp, kk, one)
            # BP4 summed over the mini-batch (times η/m), applied one row of w^l at a time.
            src = xb if l == 0 else a[l - 1]
            for j in range(rows_out):
                _column_times_rows(dl, j, src, kk, row[:cols], zero)
                wj = Wl[j]
                if momentum != 0.0:
                    vj = vW[l][j]
                    for q in range(cols):
                        v = vj[q] * mu - row[q]
                        if lmbda_over_n != 0.0:
                            v -= decay * wj[q]
                        vj[q] = v
                        wj[q] += v
                else:
                    for q in range(cols):
                        if lmbda_over_n != 0.0:
                            wj[q] *= shrink
                        wj[q] -= row[q]
            # BP3 summed over the mini-batch (times η/m).
            if update_biases:
                for j in range(rows_out):
                    s = zero
                    for i in range(kk):
                        s += dl[i, j]
                    if momentum != 0.0:
                        v = vb[l][j] * mu - s
                        vb[l][j] = v
                        bl[j] += v
                    else:
                        bl[j] -= s
    return last
