"""The user's own data: a CSV file or a NumPy ``.npz`` archive, as a classification data set.

Labels, numbers or strings, are re-coded to ``0 .. K-1`` with the originals kept as class
names; a label column that looks continuous (more than :data:`MAX_CLASSES` values, or more
than a tenth of the examples) is refused as a regression target.  A file without a test part
is shuffled with a seed and split (in place: the rows are permuted, never copied).  The
features are then scaled, fitted on the training split only (:mod:`.scaling`; the default
chooses by the data and says what it did in ``DataSets.scaling``).  Every cell and array is
validated before use (:mod:`.csvfile` reads CSV in chunks, every cell checked) and nothing is
unpickled (``.npz`` files go through :func:`bprop._npz.read_npz`).  This module reads only the
one file it is given: no network, no environment variable, nothing of MNIST.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from bprop._npz import read_npz
from bprop.datasets import scaling as _scaling
from bprop.datasets.csvfile import read_table, strict_number
from bprop.datasets.errors import DataFormatError
from bprop.datasets.files import _file_sha256
from bprop.datasets.splits import DataSets, Split, _float_dtype

#: A label column with more distinct values than this is not classes (a regression target).
MAX_CLASSES = 1000
#: … nor one with more than this many values that has fewer than ten examples per value.
_MANY_CLASSES = 20


def _encode_labels(labels: np.ndarray, source: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Re-code an array of labels (numbers or strings) to 0..K-1; class names are the
    original labels as strings."""
    if labels.dtype.kind in "US":
        cells, codes = np.unique(np.char.strip(labels.astype(str)), return_inverse=True)
        return encode_cells([str(c) for c in cells], codes.reshape(-1), source)
    if labels.dtype.kind not in "biuf":
        raise DataFormatError(f"{source}: labels have unsupported dtype {labels.dtype}")
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        raise DataFormatError(f"{source}: labels contain NaN or infinity")
    uniq, codes = np.unique(labels, return_inverse=True)
    return _numbered(uniq, codes.reshape(-1), len(labels), source)


def encode_cells(
    cells: list[str], codes: np.ndarray, source: str
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Re-code labels given as distinct label cells and each example's index into them.

    Cells that are all numbers are classes in numeric order (``"1"`` and ``"1.0"`` are one
    class); otherwise in string order.  An empty cell, NaN or infinity is an error.
    """
    values = [strict_number(c) for c in cells]
    for cell, v in zip(cells, values):
        if not cell or (v is not None and not np.isfinite(v)):
            raise DataFormatError(
                f"{source}: the label {cell!r} is not a class (empty, NaN or infinity marks a "
                "missing value); drop or fix those examples"
            )
    if all(v is not None for v in values):
        uniq, inverse = np.unique(np.array(values, dtype=np.float64), return_inverse=True)
        return _numbered(uniq, inverse.reshape(-1)[codes], len(codes), source)
    order = sorted(range(len(cells)), key=lambda i: cells[i])
    rank = np.empty(len(cells), dtype=np.int64)
    rank[order] = np.arange(len(cells))
    names = tuple(cells[i] for i in order)
    return _check_classes(rank[codes], names, len(codes), False, source)


def _numbered(
    uniq: np.ndarray, codes: np.ndarray, m: int, source: str
) -> tuple[np.ndarray, tuple[str, ...]]:
    if uniq.dtype.kind == "f" and np.all(uniq == np.round(uniq)):
        class_names = tuple(str(int(u)) for u in uniq)
    else:
        class_names = tuple(str(u.item()) for u in uniq)
    return _check_classes(codes, class_names, m, True, source)


def _check_classes(
    codes: np.ndarray, class_names: tuple[str, ...], m: int, numeric: bool, source: str
) -> tuple[np.ndarray, tuple[str, ...]]:
    k = len(class_names)
    if k < 2:
        raise DataFormatError(
            f"{source}: all labels are {class_names[0]!r}: a classifier needs at least two "
            "classes; check label_column"
        )
    if k > MAX_CLASSES or (k > _MANY_CLASSES and k > m / 10):
        counted = f"the label column, with {k:,} different values over {m:,} examples,"
        limit = f"a classifier takes at most {MAX_CLASSES:,} classes, and no more than a tenth of "
        if numeric:
            raise DataFormatError(
                f"{source}: {counted} looks like a regression target, not classes: use "
                "BPRegressor / --cost quadratic --output-activation identity on it "
                f"({limit}the examples)"
            )
        raise DataFormatError(
            f"{source}: {counted} has too many classes ({limit}the examples): is it an "
            "identifier? check label_column"
        )
    return codes.reshape(-1).astype(np.int64), class_names


def _split(
    X: np.ndarray, y: np.ndarray, test_fraction: float, seed: int, source: str
) -> tuple[Split, Split]:
    """Shuffle with ``seed`` and split: test = X[order[:n_test]], train = X[order[n_test:]].

    ``X`` and ``y`` (the loader's own arrays) are permuted in place and the splits are views
    of them, so a large data set is never held twice.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction}")
    m = X.shape[0]
    if m < 2:
        raise DataFormatError(f"{source}: only {m} example(s); need at least 2 to split")
    n_test = round(m * test_fraction)
    n_test = min(max(n_test, 1), m - 1)
    order = np.random.default_rng(seed).permutation(m)
    _gather_in_place(X, order)
    y[:] = y[order]
    return Split(X[n_test:], y[n_test:]), Split(X[:n_test], y[:n_test])


def _gather_in_place(X: np.ndarray, order: np.ndarray) -> None:
    """``X[:] = X[order]`` with one row of extra memory: follow each cycle of the permutation."""
    to = order.tolist()
    done = bytearray(len(to))
    for start in range(len(to)):
        if done[start] or to[start] == start:
            continue
        held = X[start].copy()
        i = start
        while True:
            done[i] = 1
            j = to[i]
            if j == start:
                X[i] = held
                break
            X[i] = X[j]
            i = j


def load_csv(
    path: str | Path,
    *,
    label_column: int | str = -1,
    delimiter: str = ",",
    header: bool | str = "auto",
    dtype: Any = np.float64,
    test_fraction: float = 0.2,
    seed: int = 0,
    scale: str = "auto",
) -> DataSets:
    """Load a classification data set from a CSV file.

    Each row is one example: numeric feature cells and one label cell (numbers or strings).
    Labels are re-coded to ``0 .. K-1`` in sorted order; the original labels are kept, as
    strings, in ``class_names``. The examples are shuffled with ``seed`` and split into train
    and test parts, then scaled as ``scale`` says, fitted on the training part.

    Parameters
    ----------
    path : str or Path
    label_column : int or str
        Index of the label column (negative counts from the end), or its name in the header.
    delimiter : str
    header : True/"yes", False/"no" or "auto"
        Whether the first row holds column names. "auto": yes when one of its feature cells is
        not a number, or when they count the columns (``0,1,2,…``, as pandas writes them) and
        its label cell is unlike all the other labels (``0,1,2,y`` over numeric labels).
    dtype : floating dtype
        dtype of ``X``.
    test_fraction : float
        Fraction of the examples (0 < f < 1, at least one example) put in the test split.
    seed : int
        Seed of the shuffle.
    scale : {"auto", "standard", "minmax", "pixels", "none"}
        How the features are scaled (see :mod:`bprop.datasets.scaling`). "auto": integer data
        in 0…255 is divided by 255 (as MNIST's pixels), data already in [0, 1] is kept, and
        anything else is standardised per feature. The fitted scaling is ``DataSets.scaling``.

    Returns
    -------
    DataSets
        ``train.X`` shape (m_train, n_features), ``test.X`` shape (m_test, n_features),
        labels int64 of shape (m,); ``validation`` is None.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    DataFormatError
        Empty file, ragged rows, a feature cell that is not a finite ASCII decimal number, an
        empty or NaN label (the message gives its line and column), a single class, or more
        classes than a classifier takes (a regression target).
    """
    path = Path(path)
    dt = _float_dtype(dtype)
    if scale not in _scaling.SCALES:
        raise ValueError(f"scale must be one of {', '.join(_scaling.SCALES)}, got {scale!r}")
    if not path.exists():
        raise FileNotFoundError(f"CSV file {path} does not exist")
    if not path.is_file():
        raise DataFormatError(f"{path} is not a regular file: give a CSV file")
    table = read_table(
        path, label_column=label_column, delimiter=delimiter, header=header, dtype=dt
    )
    y, class_names = encode_cells(table.labels, table.codes, str(path))
    train, test = _split(table.X, y, test_fraction, seed, str(path))
    return DataSets(
        name=f"csv:{path.name}",
        train=train,
        validation=None,
        test=test,
        n_classes=len(class_names),
        class_names=class_names,
        digest=table.digest[:16],
        scaling=_scale(train, [test], scale),
    )


def _scale(train: Split, others: list[Split], how: str) -> _scaling.Scaling:
    """Fit ``how`` on the training split and apply it to every split, in place."""
    fitted = _scaling.fit(train.X, how)
    for part in [train, *others]:
        fitted.apply(part.X)
    return fitted


def _npz_features(arr: np.ndarray, key: str, source: str, dt: np.dtype) -> np.ndarray:
    if arr.ndim < 2:
        raise DataFormatError(f"{source}: {key} has shape {arr.shape}; need (m, n_features)")
    if arr.dtype.kind not in "biuf":
        raise DataFormatError(f"{source}: {key} has non-numeric dtype {arr.dtype}")
    X = arr.reshape(arr.shape[0], -1).astype(dt)  # a copy: scaled in place later
    if not np.all(np.isfinite(X)):
        raise DataFormatError(f"{source}: {key} contains NaN or infinity; clean the data")
    return X


def load_npz(
    path: str | Path,
    *,
    dtype: Any = np.float64,
    test_fraction: float = 0.2,
    seed: int = 0,
    scale: str = "auto",
) -> DataSets:
    """Load a classification data set from a NumPy ``.npz`` file (never unpickles).

    The file holds either ``X`` and ``y`` (split into train and test by a shuffle with
    ``seed``) or ``x_train``, ``y_train``, ``x_test``, ``y_test`` (upper-case ``X_`` also
    accepted). Features with more than two dimensions are flattened (e.g. images (m, 28, 28) to
    (m, 784)) and scaled as ``scale`` says (see :func:`load_csv`; uint8 images are divided by
    255 by default), fitted on the training part. Labels are re-coded to ``0 .. K-1``.

    Parameters
    ----------
    path : str or Path
    dtype : floating dtype
        dtype of ``X``.
    test_fraction, seed
        Used only for an ``X``/``y`` file; see :func:`load_csv`.
    scale : {"auto", "standard", "minmax", "pixels", "none"}
        See :func:`load_csv`.

    Returns
    -------
    DataSets
        ``X`` of shape (m, n_features), ``y`` of shape (m,) int64; ``validation`` is None.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    DataFormatError
        Not an npz file, missing arrays, object arrays, mismatched lengths, NaN/inf, one class.
    """
    path = Path(path)
    dt = _float_dtype(dtype)
    src = str(path)
    if scale not in _scaling.SCALES:
        raise ValueError(f"scale must be one of {', '.join(_scaling.SCALES)}, got {scale!r}")
    if not path.exists():
        raise FileNotFoundError(f"npz file {path} does not exist")
    if not path.is_file():
        raise DataFormatError(f"{path} is not a regular file: give an .npz file")
    with path.open("rb") as f:
        if f.read(6) == b"\x93NUMPY":
            raise DataFormatError(f"{src}: a .npy array, not an .npz archive of named arrays")
    try:
        stored = read_npz(path, kinds="biufUS")
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise DataFormatError(f"{src}: not a readable .npz file ({exc})") from exc
    except ValueError as exc:
        raise DataFormatError(
            f"{src}: cannot be loaded safely ({exc}); bprop never unpickles: save plain "
            "numeric or string arrays"
        ) from exc
    keys = {k.lower(): k for k in stored}
    arrays: dict[str, np.ndarray] = {
        want: stored[keys[want]]
        for want in ("x", "y", "x_train", "y_train", "x_test", "y_test")
        if want in keys
    }
    if {"x_train", "y_train", "x_test", "y_test"} <= arrays.keys():
        parts = {}
        for part in ("train", "test"):
            Xp = _npz_features(arrays[f"x_{part}"], f"x_{part}", src, dt)
            yp = (
                arrays[f"y_{part}"].reshape(-1)
                if arrays[f"y_{part}"].ndim == 2 and arrays[f"y_{part}"].shape[1] == 1
                else arrays[f"y_{part}"]
            )
            if yp.ndim != 1 or yp.shape[0] != Xp.shape[0]:
                raise DataFormatError(
                    f"{src}: y_{part} has shape {yp.shape}, x_{part} has {Xp.shape[0]} rows"
                )
            parts[part] = (Xp, yp)
        if parts["train"][0].shape[1] != parts["test"][0].shape[1]:
            raise DataFormatError(f"{src}: x_train and x_test have different feature counts")
        m_train = parts["train"][0].shape[0]
        y_all, class_names = _encode_labels(
            np.concatenate([parts["train"][1], parts["test"][1]]), src
        )
        train = Split(parts["train"][0], y_all[:m_train])
        test = Split(parts["test"][0], y_all[m_train:])
    elif {"x", "y"} <= arrays.keys():
        X = _npz_features(arrays["x"], "X", src, dt)
        y_raw = arrays["y"]
        if y_raw.ndim == 2 and y_raw.shape[1] == 1:
            y_raw = y_raw.reshape(-1)
        if y_raw.ndim != 1 or y_raw.shape[0] != X.shape[0]:
            raise DataFormatError(f"{src}: y has shape {y_raw.shape}, X has {X.shape[0]} rows")
        y, class_names = _encode_labels(y_raw, src)
        train, test = _split(X, y, test_fraction, seed, src)
    else:
        raise DataFormatError(
            f"{src}: holds arrays {sorted(stored)}; expected X and y, or x_train, y_train, "
            "x_test and y_test"
        )
    return DataSets(
        name=f"npz:{path.name}",
        train=train,
        validation=None,
        test=test,
        n_classes=len(class_names),
        class_names=class_names,
        digest=_file_sha256(path)[:16],
        scaling=_scale(train, [test], scale),
    )
