"""Saving and loading networks and training checkpoints: safe, portable, atomic.

A model file is a NumPy ``.npz`` archive holding only numeric arrays — ``w0, w1, …`` (the
weight matrices), ``b0, b1, …`` (the biases) — and ``meta``, the UTF-8 bytes of a JSON
document: format name and version, sizes, activation and cost names, dtype, the training
configuration, the data set's digest and, for the user's own data, the inputs' ``scaling``.
Nothing in it can execute code, and nothing is allocated on a file's word alone: the archive is
read by :func:`bprop._npz.read_npz` (no pickles, strict ``.npy`` headers, CRCs checked, a total
size the file's bytes can justify, only the members a model has), the arrays' declared shapes
must chain into a network before any is read, and the metadata (JSON of bounded size and
depth) must match the arrays, field by field, before a :class:`Network` is built.

A checkpoint is the same archive with the training state added (momentum velocities and the
position in the epoch), so an interrupted run resumes to bit-identical weights.

Files are written atomically: to a temporary file in the same folder, flushed and fsynced,
then renamed over the target, so a crash or Ctrl-C never leaves a half-written model. A target
that is not a regular file (``/dev/stdout``, ``/dev/null``, a FIFO) is written to, not replaced.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import stat
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from bprop._npz import Declared, read_npz
from bprop._schema import check_history
from bprop._untrusted import MAX_JSON_DEPTH, NotRegularFileError, json_depth, loads_json
from bprop.activations import ACTIVATIONS
from bprop.network import Network
from bprop.train import History, TrainState

FORMAT = "bprop-model"
FORMAT_VERSION = 1
#: The members a model or checkpoint holds: its metadata, weights, biases and velocities.
_MEMBER = re.compile(r"meta|[vs]?[wb](0|[1-9][0-9]{0,3})")
MAX_META_BYTES = 64 * 2**20
#: Errors opening a model that say nothing of its format (they pass through as they are).
_NOT_THE_FORMAT = (errno.EACCES, errno.EPERM, errno.EISDIR, errno.ELOOP, errno.ENAMETOOLONG)


class ModelFormatError(ValueError):
    """A model or checkpoint file is not one bprop wrote, or is damaged."""


# -- atomic files ------------------------------------------------------------------------------


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Write ``path`` safely; the file object is yielded to the ``with`` body.

    A regular file (new or existing) is written to a temporary file in the same folder, fsynced
    and renamed over it, so a crash never leaves half a file; an existing file keeps its
    permission bits and a new one gets ``0666 & ~umask``, as ``open()`` would give. A symlink
    is followed: the file it points to is replaced and the link kept. A target that exists and
    is not a regular file — ``/dev/stdout``, ``/dev/null``, a FIFO — is written to directly,
    never replaced; ``-`` means standard output. Errors name ``path``, never the temporary.
    """
    if str(path) == "-":
        yield sys.stdout.buffer if "b" in mode else sys.stdout
        (sys.stdout.buffer if "b" in mode else sys.stdout).flush()
        return
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise _write_error(path, e) from e
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, f"cannot write {path}: it is a folder, not a file")
    if st is not None and not stat.S_ISREG(st.st_mode):
        with (
            _named_errors(path),
            open(target, mode, encoding=_encoding(mode)) as f,
        ):  # a device or FIFO
            yield f
        return
    with _named_errors(path):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with _named_errors(path):
            with os.fdopen(fd, mode, encoding=_encoding(mode)) as f:
                yield f
                f.flush()
                os.fsync(f.fileno())
            # mkstemp makes 0600: keep the replaced file's mode, or give what open() would
            os.chmod(tmp, stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask())
            os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _encoding(mode: str) -> str | None:
    """UTF-8 for a text file, none for a binary one."""
    return None if "b" in mode else "utf-8"


@contextlib.contextmanager
def _named_errors(path: Path) -> Iterator[None]:
    """Turn an OSError raised while writing ``path`` into one that names ``path``."""
    try:
        yield
    except OSError as e:
        if getattr(e, "bprop_named", False):
            raise
        raise _write_error(path, e) from e


_WRITE_ADVICE = {
    errno.ENOSPC: "free some space, or write elsewhere",
    errno.EDQUOT: "free some space, or write elsewhere",
    errno.EFBIG: "the file-size limit (ulimit -f) or the file system's largest file is "
    "smaller than this file: raise the limit, or write elsewhere",
    errno.EROFS: "the file system is read-only: write elsewhere",
    errno.EACCES: "you may not write there: write elsewhere, or change the permissions",
    errno.EPERM: "you may not write there: write elsewhere, or change the permissions",
}


def _write_error(path: Path, e: OSError) -> OSError:
    reason = e.strerror or str(e)
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        message = f"not enough disk space to write {path} ({reason})"
    else:
        message = f"cannot write {path}: {reason}"
    if e.errno in _WRITE_ADVICE:
        message += f"; any earlier {path.name} was left as it was: {_WRITE_ADVICE[e.errno]}"
    err = type(e)(message) if type(e).__init__ is OSError.__init__ else OSError(message)
    err.errno = e.errno  # set after: str(err) stays the message alone, without "[Errno …]"
    err.bprop_named = True  # type: ignore[attr-defined]
    return err


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
    _check_savable(net)
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
    _check_savable(net)
    arrays = _parameter_arrays(net)
    if state.velocity_w is not None:
        arrays |= {f"vw{i}": v for i, v in enumerate(state.velocity_w)}
        arrays |= {f"vb{i}": v for i, v in enumerate(state.velocity_b or [])}
    if state.moments_w is not None:  # Adam's second moments
        arrays |= {f"sw{i}": s for i, s in enumerate(state.moments_w)}
        arrays |= {f"sb{i}": s for i, s in enumerate(state.moments_b or [])}
    resume = {
        "seed": state.seed,
        "epoch": state.epoch,
        "batch": state.batch,
        "cost_sum": state.cost_sum,
        "correct": state.correct,
        "seen": state.seen,
        "seconds": state.seconds,
        "steps": state.steps,
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
    counts: dict[str, Any] = {}
    for name in ("seed", "epoch", "batch", "correct", "seen"):
        v = r.get(name)
        if type(v) is not int or v < 0:
            raise ModelFormatError(
                f"{path}: the checkpoint's resume.{name} must be a whole number ≥ 0, got {v!r}"
            )
        counts[name] = v
    for name in ("cost_sum", "seconds"):
        v = r.get(name)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v < 0:
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
        moments_w=_moments(arrays, "sw", net.weights, path),
        moments_b=_moments(arrays, "sb", net.biases, path),
        steps=_steps(r, path),
        **counts,
    )
    try:
        history = History.from_dict(meta["history"])
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ModelFormatError(f"{path}: the checkpoint's history is damaged ({e})") from None
    return net, state, history, meta


def _steps(resume: dict[str, Any], path: Any) -> int:
    """Adam's step count t of a checkpoint (0 when it holds none)."""
    v = resume.get("steps", 0)
    if type(v) is not int or v < 0:
        raise ModelFormatError(
            f"{path}: the checkpoint's resume.steps must be a whole number ≥ 0, got {v!r}"
        )
    return v


def _moments(arrays: dict[str, np.ndarray], key: str, like: list[np.ndarray], path: Any) -> Any:
    """Adam's second moments ``key0 …`` of a checkpoint, checked against the parameters (a
    file is untrusted): None when it holds none."""
    if "sw0" not in arrays:
        return None
    out = [arrays.get(f"{key}{i}") for i in range(len(like))]
    for i, (got, p) in enumerate(zip(out, like)):
        if got is None or got.shape != p.shape or not np.all(np.isfinite(got)) or np.any(got < 0):
            raise ModelFormatError(
                f"{path}: array {key}{i} is not Adam's moment of shape {p.shape}"
            )
    return out


# -- the archive -------------------------------------------------------------------------------


def _parameter_arrays(net: Network) -> dict[str, np.ndarray]:
    arrays = {f"w{i}": w for i, w in enumerate(net.weights)}
    return arrays | {f"b{i}": b for i, b in enumerate(net.biases)}


def _check_savable(net: Network) -> None:
    """Refuse to write a network :func:`load_model` would refuse to read back."""
    sizes, dtype = list(net.sizes), np.dtype(net.dtype)
    if len(net.weights) != len(sizes) - 1 or len(net.biases) != len(sizes) - 1:
        raise ValueError(
            f"cannot save the network: {len(net.weights)} weight matrices and "
            f"{len(net.biases)} bias vectors for sizes {sizes} (it would not load back)"
        )
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        for name, got, want in (
            ("weights", w, (sizes[i + 1], sizes[i])),
            ("biases", b, (sizes[i + 1],)),
        ):
            if not isinstance(got, np.ndarray) or got.shape != want or got.dtype != dtype:
                shape = getattr(got, "shape", None)
                raise ValueError(
                    f"cannot save the network: {name}[{i}] has shape {shape} and dtype "
                    f"{getattr(got, 'dtype', type(got).__name__)}, sizes {sizes} and dtype "
                    f"{dtype} need {want} (it would not load back)"
                )
            if not np.all(np.isfinite(got)):
                raise ValueError(
                    f"cannot save the network: {name}[{i}] holds NaN or infinite values (it "
                    "would not load back); retrain with a smaller eta"
                )


def _save(path: str | Path, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    text = json.dumps(meta)
    if json_depth(text) > MAX_JSON_DEPTH or len(text) > MAX_META_BYTES:
        raise ValueError(
            f"cannot save: the metadata is nested deeper than {MAX_JSON_DEPTH} levels or larger "
            f"than {MAX_META_BYTES:,} bytes (it would not load back)"
        )
    blob = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    with atomic_write(path) as f:
        np.savez(f, meta=blob, **arrays)  # type: ignore[arg-type]  # numpy's stub: allow_pickle


def _load(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    path = Path(path)
    try:
        arrays = read_npz(
            path,
            "uf",
            lambda name: _MEMBER.fullmatch(name) is not None,
            lambda declared: _check_declared(declared, path),
            what="model file",
        )
    except (ModelFormatError, FileNotFoundError, NotRegularFileError):
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        if isinstance(e, OSError) and e.errno in _NOT_THE_FORMAT:
            raise  # permission denied, too many links, …: not the file's format
        raise ModelFormatError(
            f"{path} is not a readable bprop model (.npz): {e}. Was it truncated or written by "
            "another program? Retrain or copy it again."
        ) from None
    try:
        meta = loads_json(arrays.pop("meta").tobytes(), f"{path}: its metadata", MAX_JSON_DEPTH)
    except ValueError as e:
        raise ModelFormatError(str(e)) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFormatError(f"{path} is not a bprop model file")
    version = meta.get("format_version")
    if type(version) is not int or version < 1:
        raise ModelFormatError(
            f"{path}: its metadata's field format_version is malformed ({version!r}, not a "
            "positive integer): the file is damaged"
        )
    if version > FORMAT_VERSION:
        raise ModelFormatError(
            f"{path} was saved in model format {version!r} by bprop "
            f"{meta.get('bprop_version', '?')}; this bprop reads format {FORMAT_VERSION}. "
            "Upgrade bprop (pip install -U bprop) to load it."
        )
    _check_meta(meta, arrays, path)
    return meta, arrays


def _check_declared(declared: dict[str, Declared], path: Path) -> None:
    """The archive's arrays, as their headers declare them, must chain into a network."""
    meta = declared.get("meta")
    if meta is None:
        raise ModelFormatError(f"{path} has no bprop metadata: it was not saved by bprop")
    if meta.dtype != np.uint8 or len(meta.shape) != 1 or meta.nbytes > MAX_META_BYTES:
        raise ModelFormatError(f"{path}: its metadata member is not JSON bytes")
    n = 0
    while f"w{n}" in declared:
        n += 1
    # Momentum's velocities (vw, vb) and Adam's second moments (sw, sb), in checkpoints.
    extra = [k for k in "vs" if any(name[0] == k for name in declared)]
    want = {"meta"} | {f"{p}{i}" for p in "wb" for i in range(n)}
    want |= {f"{k}{p}{i}" for k in extra for p in "wb" for i in range(n)}
    if n == 0 or set(declared) != want:
        odd = [f"unexpected: {', '.join(sorted(set(declared) - want)[:6])}"] * bool(
            set(declared) - want
        ) + [f"missing: {', '.join(sorted(want - set(declared))[:6])}"] * bool(want - set(declared))
        raise ModelFormatError(
            f"{path}: its arrays do not make a network ({'; '.join(odd) or 'no weights'})"
        )
    dtype = declared["w0"].dtype
    previous = None
    for i in range(n):
        w, b = declared[f"w{i}"], declared[f"b{i}"]
        arrays = [(f"w{i}", w), (f"b{i}", b)]
        for k in extra:
            arrays += [(f"{k}w{i}", declared[f"{k}w{i}"]), (f"{k}b{i}", declared[f"{k}b{i}"])]
        for key, d in arrays:
            if d.dtype != dtype or d.dtype.kind != "f" or d.dtype.itemsize not in (4, 8):
                raise ModelFormatError(f"{path}: array {key} has dtype {d.dtype}, not {dtype}")
        if len(w.shape) != 2 or b.shape != w.shape[:1] or (previous and w.shape[1] != previous):
            raise ModelFormatError(
                f"{path}: arrays w{i} {w.shape} and b{i} {b.shape} do not follow the layer "
                "before: the file is damaged"
            )
        for k in extra:
            if (declared[f"{k}w{i}"].shape, declared[f"{k}b{i}"].shape) != (w.shape, b.shape):
                raise ModelFormatError(
                    f"{path}: the {'velocities' if k == 'v' else 'moments'} of layer {i} do "
                    "not match its weights"
                )
        previous = w.shape[0]


def _field(path: Any, name: str, value: Any, want: str) -> ModelFormatError:
    return ModelFormatError(
        f"{path}: its metadata's field {name} is malformed ({_short(value)}; expected {want})"
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_meta(meta: dict[str, Any], arrays: dict[str, np.ndarray], path: Any) -> None:
    """One schema for a model's metadata; the sizes and dtype must be the arrays' own."""
    n = sum(1 for k in arrays if k[0] == "w")
    sizes = meta.get("sizes")
    if not isinstance(sizes, list) or not all(type(s) is int for s in sizes):
        raise _field(path, "sizes", sizes, "a list of layer sizes")
    shapes = [arrays["w0"].shape[1]] + [arrays[f"w{i}"].shape[0] for i in range(n)]
    if sizes != shapes:
        raise ModelFormatError(
            f"{path}: its metadata says sizes {_short(sizes)} but its arrays are a "
            f"{'-'.join(map(str, shapes))} network: the file is damaged"
        )
    acts = meta.get("activations")
    if not isinstance(acts, list) or len(acts) != n or not all(isinstance(a, str) for a in acts):
        raise _field(path, "activations", acts, f"a list of {n} activation names")
    for name in ("cost", "dtype"):
        if not isinstance(meta.get(name), str):
            raise _field(path, name, meta.get(name), "a name")
    if meta["dtype"] != arrays["w0"].dtype.name:
        raise ModelFormatError(
            f"{path}: its metadata says dtype {_short(meta['dtype'])} but its arrays are "
            f"{arrays['w0'].dtype.name}"
        )
    for name in ("init", "bprop_version"):
        if name in meta and not isinstance(meta[name], str):
            raise _field(path, name, meta[name], "a string")
    for name in ("training",):  # scaling: _check_scaling; resume, history: bprop._schema
        if meta.get(name) is not None and not isinstance(meta[name], dict):
            raise _field(path, name, meta[name], "an object")
    dataset = meta.get("dataset", {})
    if not isinstance(dataset, dict):
        raise _field(path, "dataset", dataset, "an object")
    for name in ("name", "digest", "path"):
        if dataset.get(name) is not None and not isinstance(dataset[name], str):
            raise _field(path, f"dataset.{name}", dataset[name], "a string")
    names = dataset.get("class_names")
    if names is not None and (
        not isinstance(names, list)
        or len(names) > shapes[-1]
        or not all(isinstance(c, str) for c in names)
    ):
        raise _field(path, "dataset.class_names", names, f"at most {shapes[-1]} strings")


def _network_from(meta: dict[str, Any], arrays: dict[str, np.ndarray], path: Any) -> Network:
    sizes = meta["sizes"]
    try:
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
            got = arrays[key]
            if got.shape != like.shape:  # _check_meta saw to it; a guard against a regression
                raise ModelFormatError(f"{path}: array {key} should have shape {like.shape}")
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
