"""L1 regularisation and the max-norm constraint, beside the L2 of :mod:`bprop.train`.

L1 (Nielsen, chapter 3) adds (λ₁/n) Σ_w |w| to the cost, so each weight's gradient gains
(λ₁/n) sgn(w), with sgn(0) = 0 (the sub-gradient PyTorch's autograd takes too):

    w → w − (ηλ₁/n) sgn(w) − η ∂C₀/∂w

Max-norm (Srivastava et al. 2014) keeps each neuron's incoming weights — row j of w^l —
inside a ball of radius c: after every update, ``w_j → w_j · min(1, c / ‖w_j‖)``.

Neither touches the biases.  Both work in place on NumPy arrays and know no network.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def add_l1(grad: Array, w: Array, l1_over_n: float) -> None:
    """Add the L1 sub-gradient (λ₁/n) sgn(w) to ``grad`` in place (0 where w = 0)."""
    grad += l1_over_n * np.sign(w)


def l1_cost(weights: list[Array], l1_over_n: float) -> float:
    """The L1 term (λ₁/n) Σ |w| of the cost."""
    return l1_over_n * sum(float(np.sum(np.abs(w))) for w in weights)


def max_norm(w: Array, c: float) -> None:
    """Scale each row of ``w`` whose Euclidean norm exceeds ``c`` back to norm ``c``."""
    norms = np.sqrt(np.einsum("jk,jk->j", w, w))
    over = norms > c
    if np.any(over):
        w[over] *= (c / norms[over])[:, None]


def check(l1: float, max_norm_c: float | None) -> tuple[float, float | None]:
    """``(l1, max_norm)`` checked: λ₁ ≥ 0 and finite, c > 0 and finite or None."""
    if not (isinstance(l1, (int, float, np.floating)) and np.isfinite(l1) and l1 >= 0):
        raise ValueError(f"l1 (L1 strength λ₁) must be ≥ 0 (and finite), got {l1!r}")
    if max_norm_c is not None and not (
        isinstance(max_norm_c, (int, float, np.floating))
        and np.isfinite(max_norm_c)
        and max_norm_c > 0
    ):
        raise ValueError(f"max_norm (the largest row norm c) must be > 0, got {max_norm_c!r}")
    return float(l1), None if max_norm_c is None else float(max_norm_c)
