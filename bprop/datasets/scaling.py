"""Scaling the features of the user's own data: fitted on the training split, kept with the model.

A sigmoid neuron learns only while its weighted input z = w·a + b stays near 0, so the inputs
must be of order 1: MNIST's pixels are divided by 255, and a CSV of wine measurements (proline
in the hundreds beside hues near 1) must be scaled before the book's network can learn from it.
:func:`fit` chooses and fits a :class:`Scaling` on the training split only; its
:meth:`~Scaling.apply` transforms any split in place, and :meth:`~Scaling.to_dict` /
:meth:`~Scaling.from_dict` carry it in a model's metadata so that evaluating or predicting
applies the very same numbers.  Kinds:

``pixels``
    x / 255: the default for integer features in 0 … 255 (pixel-like data, scaled as MNIST is).
``standard``
    (x − mean) / standard deviation per feature: the default for anything else that is not
    already in [0, 1].
``minmax``
    (x − min) / (max − min) per feature, into [0, 1] on the training split.
``none``
    the features as they are (the default when they already lie in [0, 1]).

A constant feature is shifted but not divided (its spread counts as 1).  Everything here works
a block of rows at a time, so fitting needs no temporary as large as the data; nothing here
reads files or knows what the data is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: The values of ``scale=`` / ``--scale``.
SCALES = ("auto", "standard", "minmax", "pixels", "none")
#: The kinds a fitted Scaling can be (what model metadata may hold).
KINDS = ("standard", "minmax", "pixels", "none")
_BLOCK = 8192  # rows per block when scanning
_CHOSEN = {
    "standard": "standardised to mean 0 and standard deviation 1 per feature, fitted on the "
    "training split",
    "minmax": "mapped into [0, 1] per feature by the training split's minimum and maximum",
    "pixels": "divided by 255, as MNIST's pixels are",
    "none": "used as they are",
}


@dataclass(frozen=True, eq=False)
class Scaling:
    """``x → (x − shift) / scale``, per feature (or one number for all).

    Attributes
    ----------
    kind : {"standard", "minmax", "pixels", "none"}
    shift, scale : arrays ``(n_features,)`` or ``()``
        What is subtracted and what is divided by; ``scale`` > 0.
    reason : str
        One line saying what was done and why (printed by ``bprop train``).
    low, high : float
        The smallest and largest raw training feature: the units of the raw data (``bprop
        predict`` maps a photo's [0, 1] pixels onto 0 … 255 when ``high`` > 1).
    """

    kind: str
    shift: np.ndarray
    scale: np.ndarray
    reason: str = ""
    low: float = 0.0
    high: float = 1.0

    def apply(self, X: np.ndarray) -> np.ndarray:
        """Scale ``X`` ``(m, n_features)`` in place (it must be a writable float array) and
        return it."""
        if self.kind != "none":
            X -= self.shift.astype(X.dtype)
            X /= self.scale.astype(X.dtype)
        return X

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"kind", "shift", "scale", "range"}`` (shift and scale are lists, or
        numbers for pixels and none)."""
        return {
            "kind": self.kind,
            "shift": self.shift.tolist(),
            "scale": self.scale.tolist(),
            "range": [self.low, self.high],
        }

    @classmethod
    def from_dict(cls, d: Any, n_features: int) -> Scaling:
        """The Scaling of model metadata, checked: it came from a file and is untrusted.

        Raises ValueError saying what is wrong (unknown kind, a shift or scale that is not
        ``n_features`` finite numbers or one, a scale that is not > 0).
        """
        if not isinstance(d, dict) or d.get("kind") not in KINDS:
            kinds = ", ".join(KINDS)
            raise ValueError(f"'scaling' must be an object whose kind is one of {kinds}, got {d!r}")
        parts = {}
        for key in ("shift", "scale"):
            v = d.get(key)
            ok = isinstance(v, (int, float)) and not isinstance(v, bool)
            if isinstance(v, list) and len(v) == n_features:
                ok = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
            if not ok:
                raise ValueError(
                    f"'scaling' {key} must be one number or {n_features} numbers (one per input)"
                )
            arr = np.asarray(v, dtype=np.float64)
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"'scaling' {key} must hold finite numbers")
            parts[key] = arr
        if not np.all(parts["scale"] > 0):
            raise ValueError("'scaling' scale must hold numbers > 0")
        bounds = d.get("range", [0.0, 1.0])
        if not (
            isinstance(bounds, list)
            and len(bounds) == 2
            and all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)
            and all(np.isfinite(bounds))
            and bounds[0] <= bounds[1]
        ):
            raise ValueError("'scaling' range must be two finite numbers, low ≤ high")
        low, high = (float(b) for b in bounds)
        return cls(d["kind"], parts["shift"], parts["scale"], "as the model was trained", low, high)


def fit(X: np.ndarray, how: str = "auto") -> Scaling:
    """The Scaling ``how`` names (one of :data:`SCALES`), fitted on the training inputs ``X``.

    ``"auto"`` picks ``pixels`` for integer features in 0 … 255 (some above 1), ``none`` for
    features already in [0, 1], and ``standard`` otherwise; the result's ``reason`` says which
    and why.
    """
    if how not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {how!r}")
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"cannot fit a scaling to inputs of shape {X.shape}")
    low, high = float(np.min(X)), float(np.max(X))
    if how == "auto":
        if low >= 0 and high <= 255 and high > 1 and _integral(X):
            how = "pixels"
            why = "pixel-like integer data in 0…255 → scaled to [0, 1] as MNIST is"
        elif low >= 0 and high <= 1:
            how = "none"
            why = "the features already lie in [0, 1]: used as they are"
        else:
            how = "standard"
            why = (
                f"the features range over [{low:.3g}, {high:.3g}] → standardised to mean 0 "
                "and standard deviation 1 per feature, fitted on the training split"
            )
        reason = f"{why} (--scale standard|minmax|none to choose)"
    else:
        reason = f"{_CHOSEN[how]} (--scale {how})"
    zero, one = np.zeros(()), np.ones(())
    if how == "none":
        return Scaling("none", zero, one, reason, low, high)
    if how == "pixels":
        return Scaling("pixels", zero, np.full((), 255.0), reason, low, high)
    if how == "minmax":
        lo, hi = np.min(X, axis=0).astype(np.float64), np.max(X, axis=0).astype(np.float64)
        return Scaling("minmax", lo, np.where(hi > lo, hi - lo, 1.0), reason, low, high)
    mean, std = _mean_std(X)
    # A constant feature's computed spread is rounding error, far below its size: not divided.
    spread = np.where(std > 1e-10 * np.abs(mean), std, 1.0)
    return Scaling("standard", mean, spread, reason, low, high)


def _integral(X: np.ndarray) -> bool:
    """Whether every entry is a whole number, checked a block of rows at a time."""
    for i in range(0, X.shape[0], _BLOCK):
        block = X[i : i + _BLOCK]
        if not np.array_equal(block, np.floor(block)):
            return False
    return True


def _mean_std(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and (population) standard deviation in float64, two passes by blocks."""
    m = X.shape[0]
    total = np.zeros(X.shape[1])
    for i in range(0, m, _BLOCK):
        total += X[i : i + _BLOCK].sum(axis=0, dtype=np.float64)
    mean = total / m
    squares = np.zeros(X.shape[1])
    for i in range(0, m, _BLOCK):
        d = X[i : i + _BLOCK].astype(np.float64) - mean
        squares += np.einsum("ij,ij->j", d, d)
    return mean, np.sqrt(squares / m)
