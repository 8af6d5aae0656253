"""MNIST and Fashion-MNIST: finding their four files (or downloading them) and loading them.

:func:`dataset_dir` walks the folders of :func:`.files.search_locations` and, when none holds
the four files, downloads them into the user cache (:func:`.fetch.download`);
:func:`load_mnist` and :func:`load_fashion_mnist` read them with the IDX reader (:mod:`.idx`),
check their digests on the way and scale the pixels to [0, 1]. This module reaches the network
only through :mod:`.fetch`, and only when nothing was found and downloading is on; it caches
nothing in memory between calls.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bprop.datasets.errors import (
    _ENV_DATA_DIR,
    DataFormatError,
    DatasetNotFoundError,
    DownloadError,
)
from bprop.datasets.fetch import download
from bprop.datasets.files import (
    _PRETTY,
    FILES,
    PAYLOAD_SHA256,
    _check_name,
    _checksum_error,
    _locate,
    cache_dir,
    verify_file,
)
from bprop.datasets.idx import _read_idx
from bprop.datasets.splits import DataSets, Split, _float_dtype

#: Class names of the built-in data sets.
CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "mnist": tuple(str(i) for i in range(10)),
    "fashion-mnist": (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
}

_OFFLINE_HINT = (
    "put the four files in one of these folders, pass that folder with --data-dir (data_dir=), "
    f"set {_ENV_DATA_DIR} to a folder holding mnist/ and fashion-mnist/, or run on a machine "
    "with internet"
)


def _resolve(
    name: str,
    data_dir: str | Path | None,
    download_: bool,
    mirrors: Sequence[str] | None,
    progress: Any,
    retries: int,
    timeout: float,
    backoff: float,
) -> tuple[dict[str, Path], bool]:
    """Find (or download) the four files; returns their paths and whether they were verified."""
    name = _check_name(name)
    if data_dir is not None and not Path(data_dir).expanduser().is_dir():
        raise FileNotFoundError(
            f"data folder {data_dir} does not exist (given as data_dir / --data-dir); pass a "
            f"folder holding {name}/ or the four {_PRETTY[name]} files"
        )
    found, report = _locate(name, data_dir)
    if found is not None:
        return found, False
    looked = "\n".join(report)
    target = cache_dir() / name
    if not download_:
        raise DatasetNotFoundError(
            f"{_PRETTY[name]} files not found; looked in:\n{looked}\nDownloading is off: "
            f"{_OFFLINE_HINT}"
        )
    try:
        download(
            name,
            target,
            mirrors=mirrors,
            retries=retries,
            timeout=timeout,
            progress=progress,
            backoff=backoff,
        )
    except DownloadError as exc:
        raise DownloadError(
            f"{_PRETTY[name]} files not found; looked in:\n{looked}\nand the download into "
            f"{target} failed: {exc}"
        ) from exc
    return {b: target / (b + ".gz") for b in FILES}, True


def dataset_dir(
    name: str,
    data_dir: str | Path | None = None,
    *,
    download: bool = True,
    verify: bool = True,
    mirrors: Sequence[str] | None = None,
    progress: Any = None,
    retries: int = 3,
    timeout: float = 30.0,
    backoff: float = 1.0,
) -> Path:
    """Find the folder holding a data set's four files, downloading them if needed.

    Parameters
    ----------
    name : str
        ``"mnist"`` or ``"fashion-mnist"``.
    data_dir : str or Path, optional
        Explicit folder, searched first (see the module docstring for the whole order).
    download : bool
        Download into the user cache when the files are found nowhere.
    verify : bool
        Check each found file's digest (:func:`verify_file`).
    mirrors, progress, retries, timeout, backoff
        Passed to :func:`download`.

    Returns
    -------
    Path
        The folder holding the four files.

    Raises
    ------
    FileNotFoundError
        ``data_dir`` does not exist.
    DatasetNotFoundError
        Nothing found and ``download`` is False; the message lists every place looked at.
    DownloadError
        Nothing found and the download failed.
    ChecksumError
        A found file has the wrong digest.
    """
    files, verified = _resolve(
        name, data_dir, download, mirrors, progress, retries, timeout, backoff
    )
    if verify and not verified:
        for base, path in files.items():
            verify_file(path, name, base)
    return next(iter(files.values())).parent


def _load_idx_verified(path: Path, name: str, base: str, verify: bool) -> np.ndarray:
    hasher = hashlib.sha256() if verify else None
    arr = _read_idx(path, hasher)
    if hasher is not None and hasher.hexdigest() != PAYLOAD_SHA256[name][base]:
        raise _checksum_error(path, name, base, hasher.hexdigest())
    return arr


def _images_labels(
    files: dict[str, Path], name: str, prefix: str, dtype: np.dtype, verify: bool
) -> tuple[np.ndarray, np.ndarray]:
    img_path, lab_path = files[f"{prefix}-images-idx3-ubyte"], files[f"{prefix}-labels-idx1-ubyte"]
    images = _load_idx_verified(img_path, name, f"{prefix}-images-idx3-ubyte", verify)
    labels = _load_idx_verified(lab_path, name, f"{prefix}-labels-idx1-ubyte", verify)
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise DataFormatError(
            f"{img_path} and {lab_path}: shapes {images.shape} and {labels.shape} do not make "
            "an image set and its labels; check --data-dir"
        )
    if images.dtype != np.uint8 or labels.dtype != np.uint8 or labels.max(initial=0) > 9:
        raise DataFormatError(f"{img_path}, {lab_path}: not 8-bit images with labels 0-9")
    X = np.empty((images.shape[0], images.shape[1] * images.shape[2]), dtype=dtype)
    np.divide(images.reshape(X.shape), dtype.type(255), out=X)  # exact: 255 -> 1.0
    return X, labels.astype(np.int64)


def _summary_digest(parts: Iterable[str]) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode())
        h.update(b"\n")
    return h.hexdigest()[:16]


def _load_builtin(
    name: str,
    data_dir: str | Path | None,
    dtype: Any,
    validation_size: int,
    download: bool,
    **kw: Any,
) -> DataSets:
    name = _check_name(name)
    dt = _float_dtype(dtype)
    if not 0 <= validation_size < 60_000:
        raise ValueError(f"validation_size must be in 0 .. 59999, got {validation_size}")
    files, verified = _resolve(
        name,
        data_dir,
        download,
        kw.pop("mirrors", None),
        kw.pop("progress", None),
        kw.pop("retries", 3),
        kw.pop("timeout", 30.0),
        kw.pop("backoff", 1.0),
    )
    if kw:
        raise TypeError(f"unexpected keyword arguments: {', '.join(sorted(kw))}")
    X, y = _images_labels(files, name, "train", dt, not verified)
    X_test, y_test = _images_labels(files, name, "t10k", dt, not verified)
    n_train = X.shape[0] - validation_size
    validation = Split(X[n_train:], y[n_train:]) if validation_size else None
    return DataSets(
        name=name,
        train=Split(X[:n_train], y[:n_train]),
        validation=validation,
        test=Split(X_test, y_test),
        n_classes=10,
        class_names=CLASS_NAMES[name],
        digest=_summary_digest([name] + [f"{b} {PAYLOAD_SHA256[name][b]}" for b in FILES]),
    )


def load_mnist(
    data_dir: str | Path | None = None,
    *,
    dtype: Any = np.float32,
    validation_size: int = 10_000,
    download: bool = True,
    **kw: Any,
) -> DataSets:
    """Load MNIST, split as in Nielsen's book: 50,000 train, 10,000 validation, 10,000 test.

    Parameters
    ----------
    data_dir : str or Path, optional
        Folder searched first (see the module docstring for the search order).
    dtype : floating dtype
        dtype of ``X`` (default float32).
    validation_size : int
        Number of training images (the last ones) held out as the validation set; 0 gives
        ``validation=None`` and all 60,000 images in ``train``.
    download : bool
        Download into the user cache if the files are found nowhere.
    **kw
        ``mirrors``, ``progress``, ``retries``, ``timeout``, ``backoff``: see :func:`download`.

    Returns
    -------
    DataSets
        ``train.X`` shape (60000 - validation_size, 784), ``validation.X`` shape
        (validation_size, 784), ``test.X`` shape (10000, 784), pixel values in [0, 1];
        labels shape (m,), int64 in 0..9.

    Raises
    ------
    DatasetNotFoundError, DownloadError, ChecksumError, DataFormatError
    """
    return _load_builtin("mnist", data_dir, dtype, validation_size, download, **kw)


def load_fashion_mnist(
    data_dir: str | Path | None = None,
    *,
    dtype: Any = np.float32,
    validation_size: int = 10_000,
    download: bool = True,
    **kw: Any,
) -> DataSets:
    """Load Fashion-MNIST, split like :func:`load_mnist` (50,000 / 10,000 / 10,000).

    Class names: T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag,
    Ankle boot. Shapes and errors are those of :func:`load_mnist`.

    Parameters
    ----------
    data_dir : str or Path, optional
        Folder searched first (see :mod:`bprop.datasets`).
    dtype : floating dtype
        dtype of ``X`` (default float32).
    validation_size : int
        Training images (the last ones) held out as the validation set; 0 keeps all 60,000.
    download : bool
        Download into the user cache if the files are found nowhere.
    **kw
        ``mirrors``, ``progress``, ``retries``, ``timeout``, ``backoff``: see
        :func:`bprop.datasets.download`.

    Returns
    -------
    DataSets
        ``X`` of shape (m, 784) in [0, 1], ``y`` of shape (m,) int64 in 0..9.
    """
    return _load_builtin("fashion-mnist", data_dir, dtype, validation_size, download, **kw)
