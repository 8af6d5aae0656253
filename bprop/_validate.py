"""The checks at the library's boundary: what a user hands in becomes arrays the math can trust.

Inputs ``X`` become C-contiguous ``(m, n_in)`` arrays of the network's dtype, targets ``Y`` (a
target matrix, or class labels turned one-hot) ``(m, n_out)`` arrays; anything else is a
TypeError or ValueError saying what was wrong and how to fix it.  :class:`bprop.network.Network`
and :func:`bprop.train.sgd` both check through these functions, once, so the loops inside trust
their inputs.  Nothing here knows a network (only its sizes and dtype), reads files or prints.
"""

from __future__ import annotations

import math
import numbers
import weakref
from typing import Any

import numpy as np

Array = np.ndarray


def inputs(X: Any, n_in: int, dtype: Any, batch_only: bool = False) -> tuple[Array, bool]:
    """``X`` as a C-contiguous ``(m, n_in)`` array of ``dtype``, and whether it was one example.

    A 1-D ``X`` ``(n_in,)`` is one example (made a row) unless ``batch_only``.  Raises TypeError
    for non-numbers, ValueError for a wrong shape or NaN/infinite entries.
    """
    x = np.asarray(X)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"X must hold numbers, got dtype {x.dtype}")
    single = x.ndim == 1 and not batch_only
    if single:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] != n_in:
        raise ValueError(
            f"X must have shape (m, {n_in}) — one example of {n_in} inputs per row — got {x.shape}"
        )
    x = np.ascontiguousarray(x, dtype=dtype)
    if not _known_finite(x):
        if not all_finite(x):
            raise ValueError(X_NOT_FINITE)
        _remember_finite(x)
    return x, single


X_NOT_FINITE = "X contains NaN or infinite values; clean or impute them first"

# Arrays already scanned and found finite, by id, with the memory they viewed when scanned: a
# training set handed to SGD once an epoch (or to a sweep's runs) is scanned once, not at every
# call (a sixth of the book's one-epoch call).  An entry goes when its array is freed.  NumPy
# keeps no count of writes, so an array edited in place after its scan is not rescanned here:
# training notices the NaN it brings (the cost or the weights stop being finite) and
# :func:`bprop.train.sgd` then rescans X and reports it as X's fault.
_finite: dict[int, tuple[Any, ...]] = {}


def _fingerprint(x: Array) -> tuple[Any, ...]:
    return (x.__array_interface__["data"][0], x.shape, x.strides, x.dtype.str)


def _known_finite(x: Array) -> bool:
    return _finite.get(id(x)) == _fingerprint(x)


def _remember_finite(x: Array) -> None:
    if x.size < 1 << 16 or id(x) in _finite:
        return  # small arrays scan faster than they are remembered
    _finite[id(x)] = _fingerprint(x)
    weakref.finalize(x, _finite.pop, id(x), None)


def targets(Y: Any, m: int, n_out: int, dtype: Any) -> Array:
    """Target matrix ``(m, n_out)`` of ``dtype`` from a target matrix or a vector of class labels.

    Raises TypeError for non-numbers, ValueError for a wrong shape (including labels more or
    fewer than the ``m`` rows of X), NaN/infinite entries or labels outside 0 … n_out−1.
    """
    y = np.asarray(Y)
    if y.dtype.kind not in "biuf":
        raise TypeError(
            f"Y must hold numbers (targets or integer class labels), got dtype {y.dtype}; "
            "encode text labels as 0 … n_out−1 first"
        )
    if not all_finite(y):
        raise ValueError("Y contains NaN or infinite values")
    if y.ndim == 1 and len(y) != m:
        raise ValueError(
            f"{len(y)} labels for the {m} rows of X: give one label (or target row) per example"
        )
    if y.ndim == 1 and n_out > 1:
        if y.dtype.kind not in "iub" and not np.all(np.mod(y, 1) == 0):
            raise ValueError("a 1-D Y must hold integer class labels 0 … n_out−1")
        return one_hot(y.astype(np.int64), n_out, dtype)
    if y.ndim == 1:
        y = y[:, None]
    if y.shape != (m, n_out):
        raise ValueError(
            f"Y must be targets of shape ({m}, {n_out}) or {m} class labels, got {y.shape}"
        )
    return np.ascontiguousarray(y, dtype=dtype)


def is_whole(v: Any) -> bool:
    """True for an int or a NumPy integer (``np.int64(1)``), never for a bool."""
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def is_finite_real(v: Any) -> bool:
    """True for a finite real number, Python's or NumPy's (``np.float32(0.1)``), not a bool."""
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) and math.isfinite(v)


def check_seed(seed: Any) -> int | None:
    """``seed`` as a Python int (NumPy integers welcome) or None; else a ValueError (NumPy's
    own "expected non-negative integer" would not say which number was meant)."""
    if seed is None:
        return None
    if not is_whole(seed) or seed < 0:
        raise ValueError(f"seed must be a whole number ≥ 0 (or None), got {seed!r}")
    return int(seed)


def all_finite(x: Array) -> bool:
    """True when no entry of ``x`` is NaN or ±inf.

    Checked through the minimum and maximum (NaN propagates through both, ±inf is an
    extreme), so a training set is scanned without a temporary as large as itself.
    """
    if x.size == 0 or x.dtype.kind not in "fc":
        return True
    return bool(np.isfinite(np.min(x)) and np.isfinite(np.max(x)))


def one_hot(labels: Array, n: int, dtype: Any = np.float64) -> Array:
    """Row i has a 1 in column ``labels[i]``: ``(m, n)`` (the seeds' ``vectorized_result``)."""
    if labels.size and (labels.min() < 0 or labels.max() >= n):
        raise ValueError(
            f"class labels must lie in 0…{n - 1} for {n} output neurons, got "
            f"{labels.min()}…{labels.max()}"
        )
    y = np.zeros((len(labels), n), dtype=dtype)
    y[np.arange(len(labels)), labels] = 1
    return y


def _decide(a: Array) -> Array:
    if a.shape[1] == 1:
        return (a[:, 0] > 0.5).astype(np.int64)
    return np.argmax(a, axis=1)


def check_state(state: Any, net: Any, n: int, m: int) -> None:
    """A training state to resume from fits the run: ``seed``, ``epoch``, ``batch`` whole
    numbers ≥ 0 with the mini-batch within the epoch's ⌈n/m⌉, running totals that are numbers
    (``seen`` ≤ n), and momentum's velocities shaped and typed like the parameters.  A
    ValueError names the field."""
    for name in ("seed", "epoch", "batch", "correct", "seen"):
        v = getattr(state, name)
        if not is_whole(v) or v < 0:
            raise ValueError(f"the training state's {name} must be a whole number ≥ 0, got {v!r}")
    batches = -(-n // m)
    if state.batch >= batches:
        raise ValueError(
            f"the training state's batch {state.batch} is past the epoch's {batches} "
            f"mini-batches of {m} (n = {n}): it belongs to another run"
        )
    if state.seen > n or state.correct > state.seen:
        raise ValueError(
            f"the training state counts {state.correct} correct of {state.seen} seen, for "
            f"{n} examples: it belongs to another run"
        )
    for name in ("cost_sum", "seconds"):
        v = getattr(state, name)
        if not is_finite_real(v) or v < 0:
            raise ValueError(f"the training state's {name} must be a number ≥ 0, got {v!r}")
    for name, params in (("velocity_w", net.weights), ("velocity_b", net.biases)):
        v = getattr(state, name)
        if v is None:
            continue
        if len(v) != len(params) or any(
            not isinstance(a, np.ndarray) or a.shape != p.shape or a.dtype != p.dtype
            for a, p in zip(v, params)
        ):
            raise ValueError(
                f"the training state's {name} do not match the network's parameters "
                f"({[p.shape for p in params]}, {np.dtype(net.dtype).name})"
            )
