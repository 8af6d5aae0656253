"""Learning-rate schedules η(epoch) and the rules that end training early.

:class:`Schedule` is η as a function of the epoch alone (constant, step, cosine).  Two rules
read the validation accuracies recorded so far instead, and are pure functions of them, so a
resumed run repeats them exactly:

* ``plateau`` (Nielsen, chapter 3): η is multiplied by ``factor`` each time the accuracy has
  not improved for ``every`` epochs, and training ends once η has fallen below 1/128 of its
  start (:meth:`Schedule.from_records`);
* early stopping (:func:`stalled`): training ends after ``patience`` epochs without a better
  accuracy than the best so far.

The math of training knows nothing of files or terminals; :mod:`bprop.train` calls these.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

#: The plateau schedule ends training when η falls to this share of its start (Nielsen).
PLATEAU_FLOOR = 1 / 128


@dataclass(frozen=True)
class Schedule:
    """η as a function of the epoch (0-based), or of the accuracies so far (``plateau``).

    ``kind`` is ``"constant"``; ``"step"`` (η·factor^⌊epoch/every⌋); ``"cosine"``
    (η_min + ½(η − η_min)(1 + cos(π·epoch/epochs))); or ``"plateau"`` (η·factor^k after k
    stalls of ``every`` epochs, see :meth:`from_records`).
    """

    kind: str
    eta: float
    epochs: int = 1
    every: int = 10
    factor: float = 0.5
    eta_min: float = 0.0

    def __call__(self, epoch: int) -> float:
        if self.kind == "step":
            return self.eta * self.factor ** (epoch // self.every)
        if self.kind == "cosine":
            t = min(epoch / max(self.epochs, 1), 1.0)
            return self.eta_min + 0.5 * (self.eta - self.eta_min) * (1 + math.cos(math.pi * t))
        return self.eta

    def describe(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def reads_accuracy(self) -> bool:
        """True when η depends on the accuracies recorded so far (``plateau``)."""
        return self.kind == "plateau"

    def from_records(self, accuracies: Sequence[float | None]) -> float | None:
        """η of the next epoch after epochs scoring ``accuracies``; None when the plateau
        schedule has lowered η to :data:`PLATEAU_FLOOR` of its start (training ends, as Nielsen's).

        Each epoch that does not beat the best accuracy so far adds one to a count of stalled
        epochs; when the count reaches ``every``, η is multiplied by ``factor`` and the count
        starts again.
        """
        if self.kind != "plateau":
            return self(len(accuracies))
        eta, best, stalled_for = self.eta, -math.inf, 0
        for acc in accuracies:
            if acc is not None and acc > best:
                best, stalled_for = acc, 0
                continue
            stalled_for += 1
            if stalled_for >= self.every:
                eta, stalled_for = eta * self.factor, 0
        return None if eta <= self.eta * PLATEAU_FLOOR else eta


def schedule(spec: str, eta: float, epochs: int) -> Schedule:
    """Parse a schedule name: ``constant``, ``cosine``, ``step[:EVERY[:FACTOR]]`` or
    ``plateau[:N[:FACTOR]]``."""
    name, *args = spec.split(":")
    try:
        if name == "constant" and not args:
            return Schedule("constant", eta)
        if name == "cosine" and not args:
            return Schedule("cosine", eta, epochs=epochs)
        if name in ("step", "plateau") and len(args) <= 2:
            every = int(args[0]) if args else 10
            factor = float(args[1]) if len(args) > 1 else 0.5
            if every >= 1 and 0 < factor <= 1 and (name == "step" or factor < 1):
                return Schedule(name, eta, every=every, factor=factor)
    except ValueError:
        pass
    raise ValueError(
        f"unknown schedule {spec!r}: use constant, cosine, step:EVERY:FACTOR (e.g. step:10:0.5 "
        "halves η every 10 epochs) or plateau:N:FACTOR (e.g. plateau:10:0.5 halves η when "
        "accuracy stalls for 10 epochs, 0 < FACTOR < 1)"
    )


def stalled(accuracies: Sequence[float | None], patience: int) -> bool:
    """True when none of the last ``patience`` epochs beat the best accuracy before them."""
    scored = [a for a in accuracies if a is not None]
    if patience < 1 or len(scored) <= patience:
        return False
    return max(scored[-patience:]) <= max(scored[:-patience])


def next_eta(
    eta_at: Any, epoch: int, accuracies: Sequence[float | None], early_stop: int | None
) -> tuple[float | None, str | None]:
    """``(η of epoch, None)``, or ``(None, why)`` when early stopping or the plateau schedule
    ends training before it."""
    if early_stop and stalled(accuracies, early_stop):
        return None, f"no better accuracy in {early_stop} epochs"
    if getattr(eta_at, "reads_accuracy", False):
        eta = eta_at.from_records(accuracies)
        return eta, None if eta is not None else "plateau: η fell to 1/128 of its start"
    return float(eta_at(epoch)), None
