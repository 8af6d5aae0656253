"""Exact input sparsity in the first layer of the fused NumPy step.

Most pixels of an MNIST image are 0, and a 128-image mini-batch leaves about a third of the 784
input columns 0 in every example. Where ``a⁰_k = x_k = 0`` for every x of the mini-batch, column
k of w¹ adds nothing to any z¹ and BP4 gives it nothing:

    z¹ = w¹ x + b¹ = w¹[:, K] x[K] + b¹           (K: the columns non-zero somewhere in the batch)
    ∂C/∂w¹_jk = Σ_x δ¹_j x_k = 0   for k ∉ K      (BP4)

so the first layer's two products need only the columns in K: :class:`FirstLayer` gathers them
(``x[:, K]`` and ``w¹[:, K]``), multiplies, and writes BP4's columns back into the step, whose
other columns are exactly 0 — L2 decay and momentum still act on every weight, through the
step as before. The result is the dense one to float rounding (the products add the same
non-zero terms, blocked differently).

Compaction costs two gathers and a scatter per mini-batch; :func:`first_layer` turns it on only
where the data is sparse enough and the product large enough to gain (measured on MNIST,
``benchmarks/speed.py --configs wide``), judging the first mini-batches in storage order — so
a run and its resumption decide alike and the run stays reproducible.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Array = np.ndarray

#: Compact when, over the first mini-batches, at most this share of the input columns is non-zero.
SHARE_MAX = 0.8
#: …and the first layer's product has at least this many multiply-adds (m × n_in × n₁).
MIN_WORK = 4_000_000
#: Mini-batches, in storage order, whose share of non-zero columns decides.
PROBE_BATCHES = 16


def column_share(x: Array, m: int, batches: int = PROBE_BATCHES) -> float:
    """The mean share of input columns that are non-zero somewhere in a mini-batch of ``m``
    rows, over the first ``batches`` mini-batches of ``x`` in storage order."""
    rows = x[: batches * m]
    if rows.size == 0:
        return 1.0
    counts = [np.count_nonzero(np.any(rows[s : s + m], axis=0)) for s in range(0, len(rows), m)]
    return float(np.mean(counts)) / x.shape[1]


class FirstLayer:
    """The first layer's feedforward and BP4 over the mini-batch's non-zero input columns."""

    def __init__(self, m: int, n_in: int, n_1: int, dtype: Any, share: float) -> None:
        self.share = share  # what decided it (history.config["input_column_share"])
        self.x_cols = np.empty(m * n_in, dtype)  # x[:, K], (k, |K|), in a flat buffer
        self.w_cols = np.empty(n_1 * n_in, dtype)  # w¹[:, K], (n₁, |K|)
        self.cols = np.arange(n_in)

    def feedforward(self, xb: Array, w: Array, b: Array, z: Array) -> None:
        """z¹ = w¹[:, K] x[K] + b¹ for every example of the mini-batch ``xb`` (into ``z``)."""
        self.cols = cols = np.flatnonzero(np.any(xb, axis=0))
        k, c, n_1 = xb.shape[0], cols.size, w.shape[0]
        x_cols = self.x_cols[: k * c].reshape(k, c)
        w_cols = self.w_cols[: n_1 * c].reshape(n_1, c)
        np.take(xb, cols, axis=1, out=x_cols)
        np.take(w, cols, axis=1, out=w_cols)
        np.matmul(x_cols, w_cols.T, out=z)  # z¹ = w¹ x + b¹ over K: (k, n₁)
        z += b

    def bp4(self, delta: Array, nabla_w: Array) -> None:
        """BP4 summed over the mini-batch, into ``nabla_w``: Σ_x δ¹ x[K]ᵀ in the columns K,
        exactly 0 in the others (run after :meth:`feedforward` of the same mini-batch)."""
        cols = self.cols
        k, c, n_1 = delta.shape[0], cols.size, delta.shape[1]
        x_cols = self.x_cols[: k * c].reshape(k, c)
        g = self.w_cols[: n_1 * c].reshape(n_1, c)  # w¹[:, K] is not needed any more
        np.matmul(delta.T, x_cols, out=g)  # BP4: ∂C/∂w¹_jk = Σ_x δ¹_j x_k, k ∈ K
        nabla_w.fill(0)
        nabla_w[:, cols] = g


def first_layer(x: Any, m: int, sizes: list[int], dtype: Any) -> FirstLayer | None:
    """A :class:`FirstLayer` where compaction pays for ``x`` (a dense array) and mini-batches
    of ``m``, else None (dense data, small products, sparse matrices)."""
    if not isinstance(x, np.ndarray) or x.ndim != 2 or m * sizes[0] * sizes[1] < MIN_WORK:
        return None
    share = column_share(x, m)
    if share > SHARE_MAX:
        return None
    return FirstLayer(m, sizes[0], sizes[1], dtype, share)
