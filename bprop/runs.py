"""The run folder: where ``bprop train`` keeps one training run, and how its files are kept.

A run folder (``runs/<timestamp>`` unless ``--out`` names another) holds

``config.json``
    The training configuration: ``bprop train``'s flags, with the seed it drew.
``history.json``, ``history.csv``
    One row per epoch: :meth:`bprop.train.History.to_dict`, and the same rows as a table.
``diagnostics.json``
    The :class:`bprop.diagnostics.Diagnostics` records, when diagnostics were on.
``checkpoint.npz``
    The network and the training state after the last finished epoch, while the run can be
    resumed (``bprop train --resume RUN``); a completed run drops it.
``model.npz``
    The trained network, once training has ended (completed, or diverged).
``figures/``, ``report.html``
    What ``bprop plot`` and ``bprop report`` draw from the files above.

:class:`RunFolder` is the only code that writes into a run folder: a new folder is made in one
place (:meth:`RunFolder.create`), an unfinished one is opened to continue in one place
(:meth:`RunFolder.reopen`), and each file has one writer, atomic through
:mod:`bprop.serialize`.  :meth:`RunFolder.load` reads a folder back for the figures and the
report as a :class:`Run`, and :meth:`RunFolder.read_figures` reads the figures back (for a
notebook's display of the run).  This module knows the folder's layout and nothing else: the file
formats are :mod:`bprop.serialize`'s, what goes into the files is the caller's, and it never
prints.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bprop import serialize
from bprop._schema import check_config, check_history
from bprop._untrusted import read_json

if TYPE_CHECKING:
    from bprop.diagnostics import Diagnostics
    from bprop.network import Network
    from bprop.train import History, TrainState

#: The folder new runs (and sweeps' results) go into by default, relative to where bprop runs.
RUNS = Path("runs")

CONFIG = "config.json"
HISTORY = "history.json"
HISTORY_CSV = "history.csv"
DIAGNOSTICS = "diagnostics.json"
MODEL = "model.npz"
CHECKPOINT = "checkpoint.npz"
FIGURES = "figures"
REPORT = "report.html"
#: The lock file a run holds (``fcntl.flock``) while it writes into its folder.
LOCK = ".lock"
#: The files of a run: what marks a folder as holding one, and what ``--overwrite`` clears.
RUN_FILES = (
    CONFIG,
    "history.json",
    "history.csv",
    "diagnostics.json",
    "model.npz",
    "checkpoint.npz",
    REPORT,
)
#: Figures read back for a display at most, and the largest figure file read.
MAX_FIGURES = 12
MAX_FIGURE_BYTES = 4_000_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: The columns of ``history.csv``, in order.
HISTORY_COLUMNS = (
    "epoch",
    "eta",
    "train_cost",
    "train_accuracy",
    "test_cost",
    "test_correct",
    "test_total",
    "test_accuracy",
    "seconds",
)


def new_run_path() -> Path:
    """``runs/YYYYmmdd-HHMMSS-xxxx``: the folder of a new run when none is named.  The random
    suffix keeps runs started in the same second apart (:meth:`RunFolder.create` also makes
    the folder exclusively)."""
    return RUNS / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


class RunLockedError(OSError):
    """Another process is training in the run folder (it holds the folder's lock)."""


def new_sweep_path() -> Path:
    """``runs/sweep-YYYYmmdd-HHMMSS.csv``: where a sweep's results go when no file is named."""
    return RUNS / time.strftime("sweep-%Y%m%d-%H%M%S.csv")


def model_file(path: str | os.PathLike[str]) -> Path:
    """The model file ``path`` names: the file itself, or ``RUN/model.npz`` for a run folder.

    Raises
    ------
    FileNotFoundError
        When there is no such file.
    """
    p = Path(path)
    if p.is_dir():
        p = p / MODEL
    if not p.is_file():
        raise FileNotFoundError(
            f"no model at {path}: give a model .npz file or a run folder written by bprop train"
        )
    return p


@dataclass
class Run:
    """What a run folder holds: its config, history and (if recorded) diagnostics dicts."""

    path: Path
    config: dict[str, Any]
    history: dict[str, Any]
    diagnostics: dict[str, Any] | None

    @property
    def name(self) -> str:
        return self.path.resolve().name

    def __repr__(self) -> str:
        c, rows = self.config, self.history.get("epochs", [])
        sizes = "-".join(str(s) for s in c.get("sizes") or []) or "?"
        about = f"{sizes} {c.get('activation', '?')}/{c.get('cost', '?')}"
        status = f"{len(rows)} epochs, {self.history.get('status', '?')}"
        tested = [r["test_accuracy"] for r in rows if r.get("test_accuracy") is not None]
        if tested:
            status += f", {100 * tested[-1]:.2f}% on test"
        return f"Run({str(self.path)!r}: {about}, {status})"

    def _repr_html_(self) -> str:
        from bprop.notebook import html

        return html(self)

    def label(self) -> str:
        """``name (cost, η = 3)`` — how figures comparing runs tell them apart."""
        c = self.config
        return f"{self.name} ({c.get('cost', '?')}, η = {c.get('eta', '?'):g})"


def load_run(run_dir: str | Path) -> Run:
    """Read a run folder written by ``bprop train`` (see :meth:`RunFolder.load`).

    Parameters
    ----------
    run_dir : str or Path
        The run's folder.

    Returns
    -------
    Run
        Its config, history and diagnostics.
    """
    return RunFolder(run_dir).load()


class RunFolder:
    """One run folder at ``path``, and every file in it (see the module's docstring).

    Creating the object touches nothing; :meth:`create` makes the folder of a new run and
    :meth:`reopen` opens an unfinished one to continue it.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    def _repr_html_(self) -> str:
        from bprop.notebook import html

        return html(self)

    @property
    def model_path(self) -> Path:
        return self.path / MODEL

    @property
    def checkpoint_path(self) -> Path:
        return self.path / CHECKPOINT

    # -- making and opening ---------------------------------------------------------------------

    def create(
        self, config: Mapping[str, Any], *, exclusive: bool = False, overwrite: bool = False
    ) -> None:
        """Make the folder of a new run (and its parents) and write its ``config.json``.

        ``exclusive``: the folder must not exist yet (a default name: FileExistsError when two
        runs drew the same).  Otherwise the folder may exist but must not hold another run's
        files (:data:`RUN_FILES`) unless ``overwrite``, which removes them (and the old
        figures) first; files bprop did not write are left alone.  A folder holding only a
        ``config.json`` (a run stopped before its first epoch ended) is taken as it is.  Call
        it holding the lock (:meth:`lock`), which makes the folder when it is missing.
        """
        if exclusive:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.mkdir(self.path)
        else:
            self.path.mkdir(parents=True, exist_ok=True)
            found = [name for name in RUN_FILES if (self.path / name).exists()]
            # A run stopped before its first epoch ended left only its config: nothing to lose.
            if found and found != [CONFIG] and not overwrite:
                raise FileExistsError(
                    f"{self.path} holds another run ({', '.join(found)}): give another --out, "
                    "--resume it, or --overwrite to replace it"
                )
            for name in found:
                (self.path / name).unlink()
            for png in sorted((self.path / FIGURES).glob("*.png")):
                png.unlink()
        self.clean_temporaries()
        serialize.write_json(self.path / CONFIG, config)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the folder's advisory lock (``fcntl.flock`` on ``.lock``) for a run's whole
        life, so that a second ``bprop train`` into it stops at once.

        Raises
        ------
        RunLockedError
            When another process holds it.
        """
        try:
            import fcntl
        except ImportError:  # not POSIX (Windows): no lock, as before
            yield
            return
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RunLockedError(
                    f"{self.path} is in use by another bprop run (it holds {self.path / LOCK}): "
                    "wait for it to end, or train into another --out"
                ) from None
            yield
        finally:
            os.close(fd)

    def clean_temporaries(self) -> None:
        """Remove what an atomic write killed half-way left (``.NAME.*.tmp``); only the lock's
        holder calls it, so no write of its own is in progress."""
        for tmp in self.path.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()

    def reopen(self) -> tuple[dict[str, Any], Network, TrainState, History]:
        """An unfinished run, to continue it: ``(config, net, state, history)``.

        Raises
        ------
        FileNotFoundError
            When the folder has no ``config.json`` or no ``checkpoint.npz`` (a finished run).
        ValueError
            When ``config.json`` is not JSON; :class:`bprop.serialize.ModelFormatError` when
            the checkpoint is damaged.
        """
        config = self.read_config()
        if not self.checkpoint_path.is_file():
            if self.model_path.is_file():
                why = "it has finished: a finished run keeps only model.npz; start a new run"
            else:
                why = (
                    "it was stopped before its first epoch ended, so there is nothing to "
                    "resume: start it again (the same --out is fine)"
                )
            raise FileNotFoundError(f"{self.path} has no checkpoint.npz to resume from: {why}")
        self.clean_temporaries()
        net, state, history, meta = serialize.load_checkpoint(self.checkpoint_path)
        check_same_run(config, meta.get("training"), self.path)
        return config, net, state, history

    # -- writing: one writer per file ---------------------------------------------------------

    def write_history(self, history: History) -> None:
        """``history.json`` and ``history.csv``, the epochs so far."""
        data = history.to_dict()
        serialize.write_json(self.path / HISTORY, data)
        out = io.StringIO()
        writer = csv.DictWriter(
            out, fieldnames=HISTORY_COLUMNS, extrasaction="ignore", lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(data["epochs"])
        serialize.write_text(self.path / HISTORY_CSV, out.getvalue())

    def write_diagnostics(self, diagnostics: Diagnostics) -> None:
        """``diagnostics.json``, the records so far."""
        serialize.write_json(self.path / DIAGNOSTICS, diagnostics.to_dict())

    def save_checkpoint(
        self, net: Network, state: TrainState, history: History, **metadata: Any
    ) -> Path:
        """``checkpoint.npz`` (see :func:`bprop.serialize.save_checkpoint`)."""
        return serialize.save_checkpoint(self.checkpoint_path, net, state, history, **metadata)

    def drop_checkpoint(self) -> None:
        """Remove ``checkpoint.npz``: the run is finished and keeps only ``model.npz``."""
        self.checkpoint_path.unlink(missing_ok=True)

    def save_model(self, net: Network, **metadata: Any) -> Path:
        """``model.npz`` (see :func:`bprop.serialize.save_model`)."""
        return serialize.save_model(self.model_path, net, **metadata)

    def write_figure(self, name: str, png: bytes) -> Path:
        """``figures/NAME``, a PNG image; returns its path."""
        path = self.path / FIGURES / name
        with serialize.atomic_write(path) as f:
            f.write(png)
        return path

    def write_report(self, html: str) -> Path:
        """``report.html``; returns its path."""
        path = self.path / REPORT
        serialize.write_text(path, html)
        return path

    # -- reading --------------------------------------------------------------------------------

    def read_config(self) -> dict[str, Any]:
        """``config.json``; FileNotFoundError when the folder has none (not a run folder)."""
        path = self.path / CONFIG
        if not path.is_file():
            raise FileNotFoundError(f"{self.path} is not a bprop run folder (no config.json)")
        return check_config(_read_json(path), str(path))

    def read_diagnostics(self) -> dict[str, Any] | None:
        """``diagnostics.json``, or None when the run recorded none."""
        path = self.path / DIAGNOSTICS
        return _read_json(path) if path.is_file() else None

    def read_model(self) -> tuple[Network, dict[str, Any]] | None:
        """``model.npz`` as ``(net, metadata)``, or None while training has not ended."""
        if not self.model_path.is_file():
            return None
        return serialize.load_model(self.model_path)

    def read_figures(self) -> list[tuple[str, bytes]]:
        """The PNG figures in ``figures/`` as ``(name, bytes)``, by name (at most
        :data:`MAX_FIGURES`); a file that is not a PNG, or is over :data:`MAX_FIGURE_BYTES`, is
        left out."""
        folder = self.path / FIGURES
        if not folder.is_dir():
            return []
        found: list[tuple[str, bytes]] = []
        for path in sorted(folder.glob("*.png")):
            if len(found) == MAX_FIGURES:
                break
            if not path.is_file() or path.stat().st_size > MAX_FIGURE_BYTES:
                continue
            data = path.read_bytes()
            if data.startswith(PNG_SIGNATURE):
                found.append((path.name, data))
        return found

    def load(self) -> Run:
        """The folder's config, history and diagnostics, for the figures and the report.

        ``config.json`` is optional here (the history's own config stands in for it).

        Raises
        ------
        FileNotFoundError
            When the folder, or its ``history.json``, does not exist.
        """
        path = self.path
        if not path.is_dir():
            raise FileNotFoundError(f"no run folder {path}: give a folder written by bprop train")
        if not (path / HISTORY).is_file():
            raise FileNotFoundError(
                f"{path} has no history.json: is it a run folder written by bprop train?"
            )
        config_path = path / CONFIG
        config = (
            check_config(_read_json(config_path), str(config_path)) if config_path.is_file() else {}
        )
        history = check_history(_read_json(path / HISTORY), str(path / HISTORY))
        config = {**history.get("config", {}), **config}
        return Run(path, config, history, self.read_diagnostics())


def new_run_id() -> str:
    """A run's identifier (``config.json``'s ``run_id``): 16 random hex digits."""
    return os.urandom(8).hex()


def check_same_run(config: Mapping[str, Any], trained: Any, where: Path) -> None:
    """Refuse a checkpoint of another run: its ``training`` config (``trained``) must carry the
    ``run_id`` of ``config.json`` and, but for ``epochs`` (``--resume --epochs`` extends a run),
    the same settings.  Runs from before run identifiers (no ``run_id`` on either side) pass.

    Raises
    ------
    ValueError
        When the checkpoint belongs to another run, or config.json was edited since.
    """
    trained = trained if isinstance(trained, Mapping) else {}
    ours, theirs = config.get("run_id"), trained.get("run_id")
    if ours is None and theirs is None:
        return
    if ours != theirs:
        raise ValueError(
            f"{where / CHECKPOINT} belongs to another run (run_id {theirs!r}) than "
            f"{where / CONFIG} (run_id {ours!r}): resume the folder the checkpoint was made in"
        )
    changed = sorted(
        k for k in set(config) | set(trained) if k != "epochs" and config.get(k) != trained.get(k)
    )
    if changed:
        raise ValueError(
            f"{where / CONFIG} was changed since {where / CHECKPOINT} was saved "
            f"({', '.join(changed)}): put the run's settings back to resume it"
        )


def _read_json(path: Path) -> Any:
    """A run folder's JSON file, untrusted: a regular file, bounded in size and nesting."""
    return read_json(path, what="run folder file")
