"""What a training run records and the hooks it calls: the history of its epochs, the state it
can resume from, and callbacks.

:func:`bprop.train.sgd` fills a :class:`History` with one :class:`EpochRecord` per epoch and
keeps where it stands in a :class:`TrainState` (epoch, mini-batch, momentum's velocities, the
running totals of the epoch under way): enough to resume to bit-identical weights.  It calls
each :class:`Callback` after mini-batches and epochs; :class:`PrintEpochs` prints the book's
``Epoch N: k / total`` line.  Nothing here computes a gradient; ``bprop.train`` re-exports
these names.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from bprop.network import Network

Array = np.ndarray


@dataclass
class EpochRecord:
    """One epoch's figures.

    ``train_cost`` and ``train_accuracy`` are means over the epoch's mini-batches, measured
    as each one went through (plus the L2 term (λ/2n)Σw² at the epoch's end); ``test_*`` are
    measured on ``test_data`` after the epoch.
    """

    epoch: int
    eta: float
    train_cost: float
    train_accuracy: float | None = None
    test_cost: float | None = None
    test_correct: int | None = None
    test_total: int | None = None
    seconds: float = 0.0

    @property
    def test_accuracy(self) -> float | None:
        if self.test_correct is None or not self.test_total:
            return None
        return self.test_correct / self.test_total

    def book_line(self) -> str:
        """The line Nielsen's ``network.py`` prints: ``Epoch 0: 9129 / 10000``."""
        if self.test_correct is None:
            return f"Epoch {self.epoch} complete"
        return f"Epoch {self.epoch}: {self.test_correct} / {self.test_total}"


@dataclass
class History:
    """Everything a training run recorded: one :class:`EpochRecord` per epoch.

    Parameters
    ----------
    config : dict
        The run's settings (sizes, η, λ, μ, seed, engine …), as :func:`sgd` records them.
    epochs : list of EpochRecord
        One record per finished epoch: η, costs, accuracies, seconds.
    status : str
        ``"running"``, ``"completed"``, ``"interrupted"`` (a callback asked to stop; resume
        from ``state``) or ``"diverged"``.
    state : TrainState, optional
        Where training stands: the epoch, the mini-batch, the seed, momentum's velocities.
    """

    config: dict[str, Any] = field(default_factory=dict)
    epochs: list[EpochRecord] = field(default_factory=list)
    status: str = "running"
    state: TrainState | None = None

    def __repr__(self) -> str:
        """A one-line summary: epochs, status, engine and the last and best test accuracy (the
        records themselves are in :attr:`epochs` and :meth:`to_dict`)."""
        engine = self.config.get("engine")
        if engine and self.config.get("kernel"):
            engine = f"{engine} ({self.config['kernel']})"
        parts = [f"{len(self.epochs)} epoch{'' if len(self.epochs) == 1 else 's'}", self.status]
        if engine:
            parts.append(f"engine {engine}")
        scored = [r for r in self.epochs if r.test_accuracy is not None]
        if scored:
            best = max(scored, key=lambda r: r.test_accuracy or 0.0)
            parts.append(
                f"test accuracy {scored[-1].test_accuracy:.2%} last, "
                f"{best.test_accuracy:.2%} best (epoch {best.epoch})"
            )
        elif self.epochs:
            parts.append(f"train cost {self.epochs[-1].train_cost:.4g} last")
        return f"History({', '.join(parts)})"

    # Jupyter's display (a table and charts): bprop.notebook draws it.
    def _repr_html_(self) -> str:
        from bprop.notebook import html

        return html(self)

    def column(self, name: str) -> list[Any]:
        """One figure across epochs, e.g. ``history.column("test_accuracy")``."""
        return [getattr(r, name) for r in self.epochs]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (without the resume state)."""
        rows = [asdict(r) | {"test_accuracy": r.test_accuracy} for r in self.epochs]
        return {"config": self.config, "status": self.status, "epochs": rows}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> History:
        names = set(EpochRecord.__dataclass_fields__)
        rows = [EpochRecord(**{k: v for k, v in r.items() if k in names}) for r in d["epochs"]]
        return cls(config=dict(d.get("config", {})), epochs=rows, status=d.get("status", ""))


@dataclass
class TrainState:
    """Where training is: enough to resume it exactly.

    ``epoch`` and ``batch`` are the next mini-batch to run; ``velocity_w``/``velocity_b`` the
    momentum terms, or Adam's first moments (None without either); ``moments_w``/``moments_b``
    Adam's second moments; ``cost_sum``, ``correct`` and ``seen`` the running
    totals of the epoch under way.
    """

    seed: int
    epoch: int = 0
    batch: int = 0
    velocity_w: list[Array] | None = None
    velocity_b: list[Array] | None = None
    moments_w: list[Array] | None = None  # Adam's second moments (see bprop.optimizers)
    moments_b: list[Array] | None = None
    steps: int = 0  # mini-batch updates so far (Adam's t)
    cost_sum: float = 0.0
    correct: int = 0
    seen: int = 0
    seconds: float = 0.0
    stop_requested: bool = False


class Callback:
    """Hooks into the training loop; override what you need.

    Set ``state.stop_requested = True`` in :meth:`on_batch_end` to stop after that mini-batch:
    :func:`sgd` then returns a history with status ``"interrupted"`` and a resumable state.
    """

    def on_train_begin(self, net: Network, state: TrainState) -> None: ...

    def on_batch_end(self, state: TrainState) -> None:
        """Called after a mini-batch; ``state.batch`` mini-batches of the epoch are done."""

    def next_batch_end(self, state: TrainState) -> int:
        """The ``state.batch`` after which :meth:`on_batch_end` must run next.

        The compiled engine trains stretches of mini-batches in one call and calls
        ``on_batch_end`` only where a stretch ends; it ends stretches where a callback asks.
        The default asks for every mini-batch; a callback that needs fewer (a progress bar,
        a probe at set points) returns a later one and lets training run faster. The NumPy
        engines call ``on_batch_end`` after every mini-batch whatever this returns.
        """
        return state.batch + 1

    def on_epoch_end(self, record: EpochRecord, net: Network, state: TrainState) -> None: ...


class PrintEpochs(Callback):
    """Prints the book's ``Epoch N: correct / total`` line after each epoch."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream

    def on_epoch_end(self, record: EpochRecord, net: Network, state: TrainState) -> None:
        print(record.book_line(), file=self.stream or sys.stdout, flush=True)
