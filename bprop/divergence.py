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
1 − ηλ/n is negative and η otherwise; the η it then advises is one training tried
(:class:`TriedEta`, found by :mod:`bprop.train`), never a guess.  Nothing here prints, reads
files or trains.
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
class TriedEta:
    """Smaller learning rates tried where η diverged: η/10, η/100, … down to ``lowest``, each
    trained on the same first ``examples`` examples of the diverging epoch, from the weights it
    started with, in ``passes`` passes over them.  ``eta`` is the one that lowered their cost C
    the most without diverging (``before`` → ``after``); None when none of them lowered it."""

    eta: float | None
    examples: int
    lowest: float
    before: float = math.nan
    after: float = math.nan
    passes: int = 1


@dataclass(frozen=True)
class Blame:
    """Which hyperparameter a divergence points to: λ when the weight decay factor 1 − ηλ/n
    is negative (it then flips the weights' sign and, beyond −1, multiplies their size every
    mini-batch), else η."""

    eta: float
    lmbda: float
    n: int

    @property
    def eta_to_blame(self) -> bool:
        """η, not λ, is the culprit: the weight decay factor 1 − ηλ/n lies in [0, 1)."""
        return 1 - self.eta * self.lmbda / self.n >= 0

    def message(
        self, what: str, epoch: int, tried: TriedEta | None = None, eta0: float | None = None
    ) -> str:
        """The divergence message; ``tried`` the smaller η training tried (no number is advised
        without it), ``eta0`` the schedule's starting η when η = ``self.eta`` in this epoch
        differs from it (the advice then scales η₀ alike)."""
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
            cause = f"The learning rate η = {eta:g} is too large for this network" + _advice(
                tried, epoch, eta, eta0
            )
        return (
            f"training diverged: {what}. {cause}. The weights from the start of epoch {epoch} "
            "were kept."
        )


def _advice(tried: TriedEta | None, epoch: int, eta: float, eta0: float | None) -> str:
    if tried is None:
        return ": lower η"
    same = (
        f"the same first {tried.examples:,} examples"
        + (f" ({tried.passes} passes)" if tried.passes > 1 else "")
        + f" from the weights of the start of epoch {epoch}"
    )
    if tried.eta is None:
        return (
            f", and every smaller η tried, from {eta / 10:g} down to {tried.lowest:g}, diverged "
            f"too or left the cost no lower on {same}: check that the inputs are scaled "
            "(features of order 1) and the initialisation"
        )
    if eta0 is not None and eta0 != eta:
        suggest = f"η₀ = {eta0 * tried.eta / eta:g} (η = {tried.eta:g} in epoch {epoch})"
    else:
        suggest = f"η = {tried.eta:g}"
    return (
        f": try {suggest}, which of the smaller η tried lowered the cost the most on {same} "
        f"({tried.before:.3g} → {tried.after:.3g}, without diverging)"
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
