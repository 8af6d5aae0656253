"""Saving and loading networks and training checkpoints: safe, portable, atomic.

A model file is a NumPy ``.npz`` archive holding only numeric arrays — ``w0, w1, …`` (the
weight matrices), ``b0, b1, …`` (the biases) — and ``meta``, the UTF-8 bytes of a JSON
document: format name and version, sizes, activation and cost names, dtype, the training
configuration, the data set's digest and, for the user's own data, the inputs' ``scaling``.
Nothing in it can execute code: arrays are read with ``allow_pickle=False`` after checking each
array's declared size against the archive, so a hostile file cannot make bprop allocate more
memory than the file's own size.

A checkpoint is the same archive with the training state added (momentum velocities and the
position in the epoch), so an interrupted run resumes to bit-identical weights.

Files are written atomically: to a temporary file in the same folder, flushed and fsynced,
then renamed over the target, so a crash or Ctrl-C never leaves a half-written model.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from bprop._npz import read_npz
from bprop._schema import check_history
from bprop.activations import ACTIVATIONS
from bprop.network import Network
from bprop.train import History, TrainState

FORMAT = "bprop-model"
FORMAT_VERSION = 1


class ModelFormatError(ValueError):
    """A model or checkpoint file is not one bprop wrote, or is damaged."""


# -- atomic files ------------------------------------------------------------------------------


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success fsync it and rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give what open() would
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            full = OSError(
                f"not enough disk space to write {path} ({e.strerror}); any earlier "
                f"{path.name} was left as it was: free some space, or write elsewhere"
            )
            full.errno = e.errno
            raise full from e
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_write(path, "w") as f:
        f.write(text)


def write_json(path: str | Path, data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


# -- models ------------------------------------------------------------------------------------


def model_metadata(net: Network, **extra: Any) -> dict[str, Any]:
    """The JSON description of ``net`` stored beside its arrays."""
    for act in net.activations:
        if ACTIVATIONS.get(act.name) is not act:
            raise ValueError(
                f"cannot save a network with the custom activation {act.name!r}: only the "
                f"built-in ones ({', '.join(ACTIVATIONS)}) can be loaded back safely"
            )
    from bprop import __version__

    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "bprop_version": __version__,
        "sizes": list(net.sizes),
        "activations": [a.name for a in net.activations],
        "cost": net.cost.name,
        "dtype": np.dtype(net.dtype).name,
        "init": net.init,
        **extra,
    }


def save_model(path: str | Path, net: Network, **metadata: Any) -> Path:
    """Save ``net`` to ``path`` (a ``.npz`` file), atomically.

    Parameters
    ----------
    path : str or Path
        The file to write (replaced only once the new one is complete).
    net : Network
        Its sizes, activations, cost, dtype, weights and biases are saved.
    **metadata
        Stored in the file's JSON metadata (``training=…``, ``dataset=…``).

    Returns
    -------
    Path
        ``path``.
    """
    meta = model_metadata(net, **metadata)
    _save(path, meta, _parameter_arrays(net))
    return Path(path)


def load_model(path: str | Path) -> tuple[Network, dict[str, Any]]:
    """Load a model saved by :func:`save_model` (or a checkpoint).

    The file is untrusted: its metadata and every array's header are checked before anything
    is allocated, and nothing is unpickled.

    Parameters
    ----------
    path : str or Path
        A ``.npz`` file written by bprop.

    Returns
    -------
    (net, metadata)
        The Network and the file's metadata dict.

    Raises
    ------
    FileNotFoundError
        No such file.
    ModelFormatError
        Not a bprop model, damaged, written by a newer bprop, or arrays inconsistent with the
        metadata.
    """
    meta, arrays = _load(path)
    net = _network_from(meta, arrays, path)
    _check_scaling(meta, net, path)
    return net, meta


def save_checkpoint(
    path: str | Path, net: Network, state: TrainState, history: History, **metadata: Any
) -> Path:
    """Save a resumable training checkpoint (model + :class:`TrainState` + history)."""
    arrays = _parameter_arrays(net)
    if state.velocity_w is not None:
        arrays |= {f"vw{i}": v for i, v in enumerate(state.velocity_w)}
        arrays |= {f"vb{i}": v for i, v in enumerate(state.velocity_b or [])}
    resume = {
        "seed": state.seed,
        "epoch": state.epoch,
        "batch": state.batch,
        "cost_sum": state.cost_sum,
        "correct": state.correct,
        "seen": state.seen,
        "seconds": state.seconds,
    }
    meta = model_metadata(net, **metadata) | {"resume": resume, "history": history.to_dict()}
    _save(path, meta, arrays)
    return Path(path)


def load_checkpoint(path: str | Path) -> tuple[Network, TrainState, History, dict[str, Any]]:
    """Load a checkpoint: ``(net, state, history, metadata)``."""
    meta, arrays = _load(path)
    net = _network_from(meta, arrays, path)
    _check_scaling(meta, net, path)
    if "resume" not in meta:
        raise ModelFormatError(f"{path} is a model, not a training checkpoint")
    r = meta["resume"]
    if not isinstance(r, dict):
        raise ModelFormatError(f"{path}: the checkpoint's 'resume' must be an object")
    counts = {}
    for name in ("seed", "epoch", "batch", "correct", "seen"):
        v = r.get(name)
        if type(v) is not int or v < 0:
            raise ModelFormatError(
                f"{path}: the checkpoint's resume.{name} must be a whole number ≥ 0, got {v!r}"
            )
        counts[name] = v
    for name in ("cost_sum", "seconds"):
        v = r.get(name)
        if type(v) not in (int, float) or not math.isfinite(v) or v < 0:
            raise ModelFormatError(
                f"{path}: the checkpoint's resume.{name} must be a number ≥ 0, got {v!r}"
            )
        counts[name] = float(v)
    n = len(net.weights)
    has_v = "vw0" in arrays
    if has_v and not all(f"vw{i}" in arrays and f"vb{i}" in arrays for i in range(n)):
        raise ModelFormatError(f"{path}: the checkpoint holds some of momentum's velocities only")
    try:
        check_history(meta.get("history"), f"{path} (its history)")
    except ValueError as e:
        raise ModelFormatError(str(e)) from None
    state = TrainState(
        velocity_w=[arrays[f"vw{i}"] for i in range(n)] if has_v else None,
        velocity_b=[arrays[f"vb{i}"] for i in range(n)] if has_v else None,
        **counts,
    )
    try:
        history = History.from_dict(meta["history"])
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ModelFormatError(f"{path}: the checkpoint's history is damaged ({e})") from None
    return net, state, history, meta


# -- the archive -------------------------------------------------------------------------------


def _parameter_arrays(net: Network) -> dict[str, np.ndarray]:
    arrays = {f"w{i}": w for i, w in enumerate(net.weights)}
    return arrays | {f"b{i}": b for i, b in enumerate(net.biases)}


def _save(path: str | Path, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    blob = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    with atomic_write(path) as f:
        np.savez(f, meta=blob, **arrays)


def _load(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    try:
        arrays = read_npz(path)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        raise ModelFormatError(
            f"{path} is not a readable bprop model (.npz): {e}. Was it truncated or written by "
            "another program? Retrain or copy it again."
        ) from None
    if "meta" not in arrays:
        raise ModelFormatError(f"{path} has no bprop metadata: it was not saved by bprop")
    try:
        meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelFormatError(f"{path}: its metadata is not valid JSON ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFormatError(f"{path} is not a bprop model file")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFormatError(
            f"{path} was saved in model format {version!r} by bprop "
            f"{meta.get('bprop_version', '?')}; this bprop reads format {FORMAT_VERSION}. "
            "Upgrade bprop (pip install -U bprop) to load it."
        )
    return meta, arrays


def _network_from(meta: dict[str, Any], arrays: dict[str, np.ndarray], path: Any) -> Network:
    try:
        sizes = [int(s) for s in meta["sizes"]]
        net = Network(
            sizes,
            list(meta["activations"]),
            meta["cost"],
            dtype=meta["dtype"],
            init=meta.get("init", "standard"),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise ModelFormatError(f"{path}: its metadata does not describe a network ({e})") from None
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        for key, like in ((f"w{i}", w), (f"b{i}", b)):
            got = arrays.get(key)
            if got is None or got.shape != like.shape:
                raise ModelFormatError(
                    f"{path}: array {key} should have shape {like.shape} for sizes {sizes}, "
                    f"got {None if got is None else got.shape}"
                )
            if not np.all(np.isfinite(got)):
                raise ModelFormatError(f"{path}: array {key} holds NaN or infinite values")
            like[...] = got
    return net


def _check_scaling(meta: dict[str, Any], net: Network, path: Any) -> None:
    """The optional ``scaling`` of the metadata (how the inputs were scaled in training, see
    :class:`bprop.datasets.Scaling`) must describe ``net``'s inputs."""
    if meta.get("scaling") is None:
        return
    from bprop.datasets.scaling import Scaling

    try:
        Scaling.from_dict(meta["scaling"], net.sizes[0])
    except ValueError as e:
        raise ModelFormatError(f"{path}: its metadata's scaling is damaged: {e}") from None
