"""The terminal side of a long command: progress bars and Ctrl-C.

:class:`Reporter` draws a training run's progress bar (tqdm, when installed) and prints the
book's epoch lines; :class:`StopOnSignal` turns SIGINT/SIGTERM into a request to stop after the
current mini-batch; :func:`sweep_bar` is a sweep's bar.  The bars draw only on a terminal
(tqdm's ``disable=None``), so a log file gets the lines and no carriage-return frames.  Nothing here
trains or writes files.
"""

from __future__ import annotations

import signal
import sys
from typing import Any


class Reporter:
    """Training's voice in the terminal: a progress bar per epoch and the book's epoch line."""

    def __init__(self, n_batches: int, show_bar: bool) -> None:
        self.n_batches, self.show_bar = n_batches, show_bar
        self.bar: Any = None
        self.tqdm: Any = None
        if show_bar:
            try:
                from tqdm.auto import tqdm  # a widget when the command runs in Jupyter

                self.tqdm = tqdm
            except ImportError:
                self.show_bar = False

    def start_epoch(self, epoch: int, done: int) -> None:
        if self.show_bar:
            self.bar = self.tqdm(
                total=self.n_batches,
                initial=done,
                desc=f"Epoch {epoch}",
                unit="batch",
                leave=False,
                file=sys.stderr,
                dynamic_ncols=True,
                mininterval=0.2,
                disable=None,  # no bar (no "\r" frames) when stderr is not a terminal
            )

    def batch(self, done: int) -> None:
        """``done`` mini-batches of the epoch are trained."""
        if self.bar is not None:
            self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def line(self, text: str) -> None:
        self.close()
        print(text, flush=True)

    def warn(self, warning: Any) -> None:
        """A diagnostics warning, on stderr, above the progress bar."""
        self.note(f"Warning ({warning.code}): {warning.message}")

    def note(self, text: str) -> None:
        """A line on stderr above the progress bar, never in the middle of it."""
        if self.bar is not None:
            self.tqdm.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)


class StopOnSignal:
    """SIGINT/SIGTERM ask training to stop after the current mini-batch; a second SIGINT aborts.

    The handler only sets :attr:`requested`; the training loop says "Stopping…" through
    :meth:`announce` (above the progress bar), as a handler writing to the terminal would land
    in the middle of the bar's line.
    """

    NOTICE = "Stopping after this mini-batch (Ctrl-C again to abort without saving)..."
    #: What a SIGTERM (a scheduler, ``kill``) is told: there is no Ctrl-C to press again.
    NOTICE_TERM = "Stopping after this mini-batch (SIGTERM): saving a checkpoint to resume from..."

    def __init__(self) -> None:
        self.requested = False
        self.announced = False
        self.signal: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopOnSignal:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested, self.signal = True, signum

    def announce(self, reporter: Reporter) -> None:
        """Say once, through ``reporter``, that a stop was asked for."""
        if self.requested and not self.announced:
            self.announced = True
            reporter.note(self.NOTICE_TERM if self.signal == signal.SIGTERM else self.NOTICE)


def count(n: int, noun: str) -> str:
    """``1 epoch``, ``30 epochs``: a number and its noun, in the singular where it is 1."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def sweep_bar(total: int, show: bool) -> Any:
    """A tqdm bar over a sweep's ``total`` grid points, or None (not shown, or no tqdm)."""
    if not show:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(
        total=total,
        desc="Sweep",
        unit="point",
        file=sys.stderr,
        dynamic_ncols=True,
        disable=None,  # no bar (no "\r" frames) when stderr is not a terminal
    )
