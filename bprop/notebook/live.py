"""Watching training in a notebook: a progress bar and a live plot, as training callbacks.

:class:`Progress` is a ``tqdm.auto`` bar over the run's mini-batches (a widget in Jupyter,
text in a terminal); :class:`LivePlot` redraws the cost and accuracy per epoch in one output
that updates in place (``IPython.display.display(..., display_id=True)``; no ipywidgets
needed).  Both only watch: they read the epoch records the training loop hands them and never
change the network or the state.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from bprop.notebook import displays
from bprop.train import Callback, EpochRecord, TrainState

if TYPE_CHECKING:
    from bprop.network import Network

#: How often the bar moves: about this many updates per epoch (fewer calls into Python let
#: the compiled engine train long stretches of mini-batches).
UPDATES_PER_EPOCH = 50


class Progress(Callback):
    """A progress bar over all the mini-batches of a run of ``epochs`` epochs.

    The bar counts mini-batches (their number per epoch is known once the first epoch ends)
    and shows the last epoch's cost and test result; it closes after the last epoch.  Needs
    tqdm (``pip install "bprop[notebook]"``; in Jupyter the bar is a widget when ipywidgets is
    installed, text otherwise).
    """

    def __init__(self, epochs: int) -> None:
        if not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"Progress needs the number of epochs (≥ 1), got {epochs!r}")
        try:
            from tqdm.auto import tqdm
        except ImportError as e:
            raise ImportError(f'Progress needs tqdm: pip install "bprop[notebook]" ({e})') from e
        self.tqdm, self.epochs = tqdm, epochs
        self.bar: Any = None
        self.n_batches: int | None = None  # per epoch, known once the first epoch ends
        self.seen = 0  # mini-batches of the first epoch so far
        self.first_epoch = 0

    def __repr__(self) -> str:
        return f"Progress(epochs={self.epochs})"

    def on_train_begin(self, net: Network, state: TrainState) -> None:
        self.first_epoch = state.epoch
        self.bar = self.tqdm(total=None, unit="batch", desc=self._desc(state.epoch))

    def next_batch_end(self, state: TrainState) -> int:
        step = max(1, (self.n_batches or UPDATES_PER_EPOCH**2) // UPDATES_PER_EPOCH)
        return state.batch + step

    def on_batch_end(self, state: TrainState) -> None:
        done = (state.epoch - self.first_epoch) * (self.n_batches or 0) + state.batch
        if self.n_batches is None:
            self.seen = state.batch
        self.bar.update(done - self.bar.n)

    def on_epoch_end(self, record: EpochRecord, net: Network, state: TrainState) -> None:
        if self.n_batches is None:
            self.n_batches = max(self.seen, 1)
            done = self.bar.n
            self.bar.reset(total=(self.epochs - self.first_epoch) * self.n_batches)
            self.bar.update(done)
        self.bar.set_description(self._desc(state.epoch), refresh=False)
        test = "" if record.test_correct is None else f", {record.book_line()}"
        self.bar.set_postfix_str(f"cost {record.train_cost:.4g}{test}")
        if state.epoch >= self.epochs:
            self.bar.close()

    def _desc(self, epoch: int) -> str:
        return f"epoch {min(epoch + 1, self.epochs)}/{self.epochs}"


class LivePlot(Callback):
    """Cost and accuracy per epoch, training and test, redrawn after every epoch.

    Shown in the notebook when training begins and updated in place; it needs IPython (any
    Jupyter front end) but no widgets.  ``rows`` holds what it has drawn, one dict per epoch.
    """

    def __init__(self) -> None:
        try:
            from IPython.display import display
        except ImportError as e:
            raise ImportError(
                f'LivePlot draws in a Jupyter notebook: pip install "bprop[notebook]" ({e})'
            ) from e
        self.display = display
        self.rows: list[dict[str, Any]] = []
        self.handle: Any = None

    def __repr__(self) -> str:
        return f"LivePlot({len(self.rows)} epochs drawn)"

    def _shown(self) -> Any:
        from bprop.notebook import Display

        root = displays.new_root()
        text = f"LivePlot: {len(self.rows)} epochs"
        content = displays.history_content(self.rows, "so far")
        return Display(displays.wrap(root, content, text), text)

    def on_train_begin(self, net: Network, state: TrainState) -> None:
        self.handle = self.display(self._shown(), display_id=True)

    def on_epoch_end(self, record: EpochRecord, net: Network, state: TrainState) -> None:
        self.rows.append(asdict(record) | {"test_accuracy": record.test_accuracy})
        if self.handle is not None:
            self.handle.update(self._shown())
