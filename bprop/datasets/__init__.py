"""Data sets: MNIST, Fashion-MNIST and the user's own CSV / ``.npz`` files.

The loaders return a :class:`DataSets` holding :class:`Split` objects whose ``X`` has shape
``(m, n_features)`` (one example per row) and whose ``y`` has shape ``(m,)`` with integer labels
``0 .. n_classes - 1``.

Where the MNIST and Fashion-MNIST files are looked for
------------------------------------------------------
Each data set is the four IDX files ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, gzip compressed (``.gz``, preferred)
or not. The folders below are tried in this order; the first one that holds all four files wins:

1. the ``data_dir`` argument (``--data-dir`` on the command line): either a folder holding
   ``mnist/`` and ``fashion-mnist/`` subfolders, or directly the four files of the data set;
2. the environment variable ``BPROP_DATA_DIR``: a folder holding ``mnist/`` and
   ``fashion-mnist/`` subfolders;
3. the ``data/`` folder of a source checkout of bprop (:data:`REPO_DATA_DIR`; it ships MNIST);
4. the user cache (:func:`cache_dir`: ``$XDG_CACHE_HOME/bprop`` or ``~/.cache/bprop`` on Linux,
   ``~/Library/Caches/bprop`` on macOS, ``%LOCALAPPDATA%\\bprop\\Cache`` on Windows; ``mnist/``,
   ``fashion-mnist/`` subfolders), where downloads go;
5. system folders (:data:`SYSTEM_DIRS`): for Fashion-MNIST, Debian's ``dataset-fashion-mnist``
   package installs the files in ``/usr/share/datasets/fashion-mnist/``;
6. if nothing was found and ``download=True``: a download into the user cache from the mirrors in
   :data:`MIRRORS`, preceded by those of the environment variable ``BPROP_MIRRORS``.

A folder holding only some of the four files is skipped. A ``data_dir`` that does not exist is an
error (it is never silently ignored). Every file is checked against the SHA-256 digest of its
decompressed payload (:data:`PAYLOAD_SHA256`), which is the same whichever mirror or gzip tool
produced the ``.gz``. A file that fails the check raises :class:`ChecksumError` naming the file:
a corrupt file is never skipped silently in favour of a later folder.

When nothing is found and downloading is off or fails, the error lists every place looked at
(:func:`search_locations`).

Nothing here prints except an optional download progress bar (tqdm, on stderr, when it is
installed), nothing is cached in memory between calls, and nothing uses pickle.

One concept per module: :mod:`.idx` (the IDX format), :mod:`.files` (the digests and the folders
searched), :mod:`.fetch` (downloading, the only module that reaches the network),
:mod:`.builtin` (MNIST and Fashion-MNIST), :mod:`.tabular` (CSV and ``.npz`` files as data sets),
:mod:`.csvfile` (reading CSV text, every cell checked), :mod:`.scaling` (the features' scaling,
fitted on the training split), :mod:`.splits` (what the loaders return) and :mod:`.errors`;
:func:`load` picks the loader and :func:`load_as_trained` reads a data set as a saved model saw
it. None of them imports the network, training or the command line: data code knows nothing of
the math.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bprop.datasets.builtin import CLASS_NAMES, dataset_dir, load_fashion_mnist, load_mnist
from bprop.datasets.errors import (
    ChecksumError,
    DataFormatError,
    DatasetNotFoundError,
    DownloadError,
)
from bprop.datasets.fetch import MAX_DOWNLOAD_BYTES as MAX_DOWNLOAD_BYTES
from bprop.datasets.fetch import MIRRORS, download
from bprop.datasets.files import (
    DATASETS,
    FILES,
    GZ_SHA256,
    PAYLOAD_SHA256,
    REPO_DATA_DIR,
    SYSTEM_DIRS,
    cache_dir,
    payload_sha256,
    search_locations,
    verify_file,
)
from bprop.datasets.idx import IDX_DTYPES as IDX_DTYPES
from bprop.datasets.idx import MAX_IDX_BYTES as MAX_IDX_BYTES
from bprop.datasets.idx import read_idx
from bprop.datasets.scaling import SCALES, Scaling
from bprop.datasets.splits import DataSets, Split
from bprop.datasets.tabular import load_csv, load_npz

# IDX_DTYPES, MAX_IDX_BYTES and MAX_DOWNLOAD_BYTES are public too, though never listed here:
# they are imported above as ``NAME as NAME``, the explicit form of a re-export.
__all__ = [
    "CLASS_NAMES",
    "DATASETS",
    "FILES",
    "GZ_SHA256",
    "MIRRORS",
    "PAYLOAD_SHA256",
    "REPO_DATA_DIR",
    "SCALES",
    "SYSTEM_DIRS",
    "ChecksumError",
    "DataFormatError",
    "DataSets",
    "DatasetNotFoundError",
    "DownloadError",
    "Scaling",
    "Split",
    "cache_dir",
    "dataset_dir",
    "download",
    "load",
    "load_as_trained",
    "load_csv",
    "load_fashion_mnist",
    "load_mnist",
    "load_npz",
    "load_recorded",
    "payload_sha256",
    "read_idx",
    "search_locations",
    "verify_file",
]

# --------------------------------------------------------------------------------------------
# Dispatch
# --------------------------------------------------------------------------------------------

_LOADERS: dict[str, Callable[..., DataSets]] = {
    "mnist": load_mnist,
    "fashion-mnist": load_fashion_mnist,
}


def load(spec: str, data_dir: str | Path | None = None, **kw: Any) -> DataSets:
    """Load a data set by name: ``"mnist"``, ``"fashion-mnist"``, ``"csv:PATH"`` or
    ``"npz:PATH"``.

    Parameters
    ----------
    spec : str
        The data set (``fashion_mnist`` is accepted for ``fashion-mnist``).
    data_dir : str or Path, optional
        For MNIST / Fashion-MNIST: folder searched first; ignored for files.
    **kw
        Passed to the loader (:func:`load_mnist`, :func:`load_csv`, :func:`load_npz`).

    Returns
    -------
    DataSets

    Raises
    ------
    ValueError
        Unknown name; the message lists the valid ones and suggests the closest.
    """
    kind, sep, rest = spec.partition(":")
    if sep and kind.lower() == "csv":
        return load_csv(rest, **kw)
    if sep and kind.lower() == "npz":
        return load_npz(rest, **kw)
    key = spec.strip().lower().replace("_", "-")
    if key in _LOADERS:
        return _LOADERS[key](data_dir, **kw)
    valid = [*DATASETS, "csv:PATH", "npz:PATH"]
    close = difflib.get_close_matches(key, list(DATASETS), n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    if not close and key.endswith((".csv", ".npz")):
        hint = f" Did you mean '{key[-3:]}:{spec}'?"
    raise ValueError(f"unknown data set {spec!r}; valid: {', '.join(valid)}.{hint}")


def load_as_trained(
    spec: str, meta: dict[str, Any], data_dir: str | Path | None = None, **kw: Any
) -> DataSets:
    """Load ``spec`` as the model whose metadata is ``meta`` saw it in training.

    A CSV is read with the header rule of its training (``meta["training"]["header"]``); the
    features of a CSV or npz file are left unscaled, then the model's own scaling
    (``meta["scaling"]``, fitted on its training split; see :class:`Scaling`) is applied to
    every split, so evaluating uses the very numbers training did. Without a recorded scaling
    (MNIST, or a model saved before bprop scaled user data) the data is used as it is.

    Raises
    ------
    ValueError
        When ``meta["scaling"]`` is not a valid scaling for the data's features.
    """
    training = meta.get("training")
    if not isinstance(training, dict):
        training = {}
    kind = spec.partition(":")[0].lower() if ":" in spec else ""
    if kind == "csv":
        header = training.get("header", "auto")
        kw |= {"header": header if header in ("auto", "yes", "no") else "auto", "scale": "none"}
    elif kind == "npz":
        kw["scale"] = "none"
    data = load(spec, data_dir=data_dir, **kw)
    if meta.get("scaling") is None:
        return data
    scaling = Scaling.from_dict(meta["scaling"], data.n_features)
    for part in (data.train, data.validation, data.test):
        if part is not None:
            scaling.apply(part.X)
    return dataclasses.replace(data, scaling=scaling)


#: The data kinds that are the user's own files: a run records their absolute path and digest.
FILE_KINDS = ("csv", "npz")


def file_spec(spec: str) -> str:
    """``spec`` with the path of a ``csv:``/``npz:`` file made absolute (other names as given),
    so a run folder names its data wherever it is used from."""
    kind, sep, rest = spec.partition(":")
    if not sep or kind.lower() not in FILE_KINDS or not rest:
        return spec
    return f"{kind.lower()}:{os.path.abspath(os.path.expanduser(rest))}"


def load_recorded(
    meta: dict[str, Any],
    *,
    dataset: str | None = None,
    data_dir: str | Path | None = None,
    **kw: Any,
) -> DataSets:
    """The data set a saved model was trained on, found from its metadata alone.

    ``dataset`` (the user's ``--dataset``) is used as given: naming the data is choosing it.
    Otherwise the data set is the one training recorded (``meta["training"]["dataset"]``,
    an absolute path for a CSV or npz file since bprop 0.1; a bare name in older runs, read
    from the current folder as before), searched for in ``data_dir`` or else the folder
    training used (``meta["training"]["data_dir"]``). A CSV or npz file must still have the
    SHA-256 digest training recorded (``meta["dataset"]["digest"]``), so an edited file, or
    another file of the same name, is never evaluated in its place.

    Raises
    ------
    ValueError
        Nothing names the data set; or the recorded file is gone or has changed (the message
        says how to name the data with ``--dataset``).
    """
    training = meta.get("training")
    training = training if isinstance(training, dict) else {}
    recorded = meta.get("dataset")
    recorded = recorded if isinstance(recorded, dict) else {}
    if data_dir is None and isinstance(training.get("data_dir"), str):
        data_dir = training["data_dir"]
    if dataset:
        return load_as_trained(dataset, meta, data_dir=data_dir, **kw)
    spec = training.get("dataset") if isinstance(training.get("dataset"), str) else None
    spec = spec or recorded.get("name")
    if not isinstance(spec, str) or not spec:
        raise ValueError("the model does not record its data set: pass --dataset")
    kind, _, path = spec.partition(":")
    if kind.lower() not in FILE_KINDS:
        return load_as_trained(spec, meta, data_dir=data_dir, **kw)
    digest = recorded.get("digest") if isinstance(recorded.get("digest"), str) else None
    if not os.path.isfile(path):
        raise ValueError(
            f"the model was trained on {path}, which is not there any more"
            + (f" (SHA-256 {digest}…)" if digest else "")
            + f": pass --dataset {kind}:PATH to give the file"
        )
    data = load_as_trained(spec, meta, data_dir=data_dir, **kw)
    if digest and data.digest != digest:
        raise ValueError(
            f"{path} has changed since the model was trained on it (SHA-256 {data.digest}… "
            f"now, {digest}… then): give the data it was trained on with --dataset "
            f"{kind}:PATH, or name this file with --dataset to evaluate on it as it is"
        )
    return data
