"""When training has gone wrong though it still runs: weights that overflow, a divergence's
culprit, and a run that ends no better than chance.

The training loop (:mod:`bprop.train`) stops on a NaN or infinite cost by itself; the sigmoid
network of the book hides two failures behind a finite cost, because every saturated neuron
gives σ(z) ∈ {0, 1} whatever z is:

* weights that run away (η = 10³⁰⁰ makes them ~10²⁹⁸ in one mini-batch) — caught by
  :func:`overflowing_weights` when some Σw² overflows the network's dtype;
* a network that learned nothing (η = 50 and every neuron saturated on the first steps) —
  :func:`warn_if_chance` issues a :class:`bprop.errors.ChanceWarning` when the final test
  accuracy is within three standard errors of always answering the commonest class.

:class:`Blame` writes the divergence message, naming λ when the weight decay factor
1 − ηλ/n is negative and η otherwise.  Nothing here prints, reads files or trains.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bprop.errors import ChanceWarning

if TYPE_CHECKING:
    from bprop.network import Network
    from bprop.train import EpochRecord

Array = np.ndarray
#: Accuracy is compared with chance only on at least this many test examples.
CHANCE_MIN_EXAMPLES = 100


def overflowing_weights(net: Network) -> float | None:
    """The largest |w| when some parameter array's Σw² overflows the network's dtype, else None.

    Beyond √(largest float) (1.3e154 in float64, 1.8e19 in float32) a weight's square, the L2
    term and the products of BP2 overflow; such weights have diverged even where every sigmoid
    neuron saturates and the cost stays finite.  One dot product per array, once an epoch.
    """
    params = net.weights + net.biases
    for p in params:
        flat = p.reshape(-1)
        if not math.isfinite(float(np.dot(flat, flat))):
            return max(float(np.max(np.abs(q))) for q in params)
    return None


@dataclass(frozen=True)
class Blame:
    """Which hyperparameter a divergence points to: λ when the weight decay factor 1 − ηλ/n
    is negative (it then flips the weights' sign and, beyond −1, multiplies their size every
    mini-batch), else η."""

    eta: float
    lmbda: float
    n: int

    def message(self, what: str, epoch: int) -> str:
        eta, lmbda, n = self.eta, self.lmbda, self.n
        factor = 1 - eta * lmbda / n
        if factor < 0:
            cause = (
                f"The L2 strength λ = {lmbda:g} is too large for η = {eta:g} and n = {n} "
                f"training examples: the weight decay factor 1 − ηλ/n = {factor:.3g} must lie "
                f"in [0, 1); use λ well below n/η = {n / eta:.3g} (Nielsen uses λ = 5 with "
                "n = 50,000 and η = 0.5)"
            )
        else:
            cause = (
                f"The learning rate η = {eta:g} is too large for this network: try η = {eta / 10:g}"
            )
        return (
            f"training diverged: {what}. {cause}. The weights from the start of epoch {epoch} "
            "were kept."
        )


def warn_if_chance(record: EpochRecord, test: tuple[Array, Array, Array] | None) -> None:
    """Warn (ChanceWarning) when ``record``'s accuracy on the test data (``test``: its inputs,
    targets and labels) is no better than always answering its commonest class."""
    if test is None or record.test_accuracy is None:
        return
    labels, accuracy = test[2], record.test_accuracy
    counts = np.bincount(labels)
    if len(labels) < CHANCE_MIN_EXAMPLES or np.count_nonzero(counts) < 2:
        return
    p = float(counts.max()) / len(labels)
    margin = 3 * math.sqrt(p * (1 - p) / len(labels))
    if accuracy > p + margin:
        return
    warnings.warn(
        ChanceWarning(
            f"no better than chance after epoch {record.epoch}: {accuracy:.2%} correct on the "
            f"test data, where always answering its commonest class gets {p:.2%}. The network "
            f"learned nothing: check the learning rate η = {record.eta:g} (too large, and every "
            "neuron saturates; too small, and nothing moves) and that the inputs are scaled "
            "(features of order 1)"
        ),
        stacklevel=4,
    )
