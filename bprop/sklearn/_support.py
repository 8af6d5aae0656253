"""What bprop's scikit-learn estimators lean on, apart from the estimators themselves: the
callback that does early stopping on a held-out share, the one that prints the loss (``verbose``),
a network kept as plain arrays for pickling, the hint for unscaled inputs and the check of a
parameter's type.  Imported by :mod:`bprop.sklearn._base` only; nothing here is public.
"""

from __future__ import annotations

import numbers
import sys
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from bprop.activations import ACTIVATIONS
from bprop.costs import COSTS
from bprop.diagnostics import UNSCALED_RMS
from bprop.network import Network
from bprop.train import Callback, TrainState

if TYPE_CHECKING:
    from bprop.sklearn._base import _BPEstimator

Array = np.ndarray


class _Monitor(Callback):
    """After each epoch: the stopping rules of MLPClassifier (training cost or validation score)."""

    def __init__(
        self,
        est: _BPEstimator,
        X_val: Array | None,
        T_val: Array | None,
        sw_val: Array | None = None,
    ) -> None:
        self.est, self.X_val, self.T_val, self.sw_val = est, X_val, T_val, sw_val
        self.scores: list[float] = []
        self.best_score = -np.inf
        self.best_loss = np.inf
        self.best_parameters: tuple[list[Array], list[Array]] | None = None
        self.no_improvement = 0

    def on_epoch_end(self, record: Any, net: Network, state: TrainState) -> None:
        est, tol = self.est, self.est.tol
        if est.early_stopping:
            sw = self.sw_val if self.sw_val is not None and self.sw_val.any() else None
            score = est._validation_score(self.X_val, self.T_val, sw)  # unweighted if all 0
            self.scores.append(score)
            improved = tol is None or score >= self.best_score + tol
            if score > self.best_score or self.best_parameters is None:
                self.best_score = score
                self.best_parameters = (
                    [w.copy() for w in net.weights],
                    [b.copy() for b in net.biases],
                )
        else:
            improved = tol is None or record.train_cost <= self.best_loss - tol
            self.best_loss = min(self.best_loss, record.train_cost)
        self.no_improvement = 0 if improved else self.no_improvement + 1
        if self.no_improvement >= est.n_iter_no_change:
            state.stop_requested = True


class _PrintLoss(Callback):
    """``verbose=True``: one line per epoch, on stdout."""

    def on_epoch_end(self, record: Any, net: Network, state: TrainState) -> None:
        print(f"Epoch {record.epoch}: loss = {record.train_cost:.6f}", file=sys.stdout)


def _unscaled_feature(X: Array, name: str) -> str | None:
    """Warn when some column of ``X`` is far from order 1; the advice, or None."""
    if X.shape[0] * X.shape[1] == 0:
        return None
    if isinstance(X, np.ndarray):
        rms = np.sqrt(np.mean(np.square(X, dtype=np.float64), axis=0))
    else:  # CSR: the mean square of each column over its stored entries and zeros
        rms = np.sqrt(np.asarray(X.multiply(X).mean(axis=0), dtype=np.float64).ravel())
    k = int(np.argmax(rms))
    if not rms[k] > UNSCALED_RMS:
        return None
    advice = (
        f"The inputs are not scaled (column {k} of X has a root mean square of {rms[k]:.3g}): "
        f"{name} expects scaled inputs, as a sigmoid network learns only while its weighted "
        f"inputs stay of order 1. Put a scaler before it: make_pipeline(StandardScaler(), "
        f"{name}())."
    )
    warnings.warn(advice, UserWarning, stacklevel=4)
    return advice


def _network_state(net: Network) -> dict[str, Any] | Network:
    """The network as plain data, or the network itself if it uses unregistered functions."""
    names = [a.name for a in net.activations]
    registered = all(ACTIVATIONS.get(n) is a for n, a in zip(names, net.activations))
    if not registered or COSTS.get(net.cost.name) is not net.cost:
        return net
    return {
        "sizes": list(net.sizes),
        "activations": names,
        "cost": net.cost.name,
        "init": net.init,
        "dtype": np.dtype(net.dtype).name,
        "weights": net.weights,
        "biases": net.biases,
    }


def _network_from_state(d: dict[str, Any]) -> Network:
    net = Network(d["sizes"], d["activations"], d["cost"], init=d["init"], dtype=d["dtype"])
    net.weights, net.biases = list(d["weights"]), list(d["biases"])
    return net


def _require(
    value: Any, name: str, what: str, low: float, strict: bool = False, integral: bool = False
) -> None:
    kind = numbers.Integral if integral else numbers.Real
    ok = isinstance(value, kind) and not isinstance(value, bool) and np.isfinite(value)  # type: ignore[call-overload]
    if not ok or value < low or (strict and value == low):
        sign = ">" if strict else "≥"
        noun = "a whole number" if integral else "a number"
        raise ValueError(f"{name} ({what}) must be {noun} {sign} {low:g}, got {value!r}")


# -- the estimators ----------------------------------------------------------------------------
