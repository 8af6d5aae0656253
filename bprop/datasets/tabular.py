"""The user's own data: a CSV file or a NumPy ``.npz`` archive, as a classification data set.

Features are taken as they are (never scaled); labels, numbers or strings, are re-coded to
``0 .. K-1`` with the originals kept as class names; a file without a test part is shuffled
with a seed and split. Every cell and array is validated before use and nothing is unpickled
(``.npz`` files go through :func:`bprop._npz.read_npz`). This module reads only the one file
it is given: no network, no environment variable, nothing of MNIST.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from bprop._npz import read_npz
from bprop.datasets.errors import DataFormatError
from bprop.datasets.files import _file_sha256
from bprop.datasets.splits import DataSets, Split, _float_dtype


def _encode_labels(labels: np.ndarray, source: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Re-code labels to 0..K-1; class names are the original labels as strings."""
    if labels.dtype.kind in "US":
        names = labels.astype(str)
        numeric = None
        if all(_is_number(v) for v in names):
            numeric = np.array([float(v) for v in names])
        if numeric is not None and np.all(np.isfinite(numeric)):
            labels = numeric
        else:
            uniq, codes = np.unique(names, return_inverse=True)
            class_names = tuple(str(u) for u in uniq)
            return _check_classes(codes, class_names, source)
    if labels.dtype.kind not in "biuf":
        raise DataFormatError(f"{source}: labels have unsupported dtype {labels.dtype}")
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        raise DataFormatError(f"{source}: labels contain NaN or infinity")
    uniq, codes = np.unique(labels, return_inverse=True)
    if uniq.dtype.kind == "f" and np.all(uniq == np.round(uniq)):
        class_names = tuple(str(int(u)) for u in uniq)
    else:
        class_names = tuple(str(u.item()) for u in uniq)
    return _check_classes(codes, class_names, source)


def _check_classes(
    codes: np.ndarray, class_names: tuple[str, ...], source: str
) -> tuple[np.ndarray, tuple[str, ...]]:
    if len(class_names) < 2:
        raise DataFormatError(
            f"{source}: all labels are {class_names[0]!r}: a classifier needs at least two "
            "classes; check label_column"
        )
    return codes.reshape(-1).astype(np.int64), class_names


def _split(
    X: np.ndarray, y: np.ndarray, test_fraction: float, seed: int, source: str
) -> tuple[Split, Split]:
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction}")
    m = X.shape[0]
    n_test = round(m * test_fraction)
    n_test = min(max(n_test, 1), m - 1)
    if m < 2:
        raise DataFormatError(f"{source}: only {m} example(s); need at least 2 to split")
    order = np.random.default_rng(seed).permutation(m)
    test_idx, train_idx = order[:n_test], order[n_test:]
    return Split(X[train_idx], y[train_idx]), Split(X[test_idx], y[test_idx])


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def load_csv(
    path: str | Path,
    *,
    label_column: int | str = -1,
    delimiter: str = ",",
    header: bool | str = "auto",
    dtype: Any = np.float64,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> DataSets:
    """Load a classification data set from a CSV file.

    Each row is one example: numeric feature cells and one label cell (numbers or strings).
    Features are used as they are (no scaling). Labels are re-coded to ``0 .. K-1`` in sorted
    order; the original labels are kept, as strings, in ``class_names``. The examples are
    shuffled with ``seed`` and split into train and test parts.

    Parameters
    ----------
    path : str or Path
    label_column : int or str
        Index of the label column (negative counts from the end), or its name in the header.
    delimiter : str
    header : bool or "auto"
        Whether the first row holds column names. "auto": yes if none of its feature cells is
        a number.
    dtype : floating dtype
        dtype of ``X``.
    test_fraction : float
        Fraction of the examples (0 < f < 1, at least one example) put in the test split.
    seed : int
        Seed of the shuffle.

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
        Empty file, ragged rows, a non-numeric or non-finite feature cell (the message gives
        its line and column), or a single class.
    """
    path = Path(path)
    dt = _float_dtype(dtype)
    if not path.is_file():
        raise FileNotFoundError(f"CSV file {path} does not exist")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{path}: not a UTF-8 text file ({exc})") from exc
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            if row and any(c.strip() for c in row):
                rows.append((reader.line_num, [c.strip() for c in row]))
    except csv.Error as exc:
        raise DataFormatError(f"{path}, line {reader.line_num}: {exc}") from exc
    if not rows:
        raise DataFormatError(f"{path}: the file is empty (no rows)")
    n_cols = len(rows[0][1])
    if n_cols < 2:
        raise DataFormatError(
            f"{path}: line {rows[0][0]} has a single column; need features and a label "
            f"(is the delimiter {delimiter!r} right?)"
        )
    names = rows[0][1]
    if isinstance(label_column, str):
        if label_column not in names:
            raise DataFormatError(
                f"{path}: label column {label_column!r} not in the header {names}"
            )
        lab = names.index(label_column)
        if header == "auto":
            header = True
    else:
        if not -n_cols <= label_column < n_cols:
            raise DataFormatError(
                f"{path}: label_column {label_column} out of range for {n_cols} columns"
            )
        lab = label_column % n_cols
    feat_cols = [j for j in range(n_cols) if j != lab]
    if header == "auto":
        header = not any(_is_number(names[j]) for j in feat_cols)
    elif not isinstance(header, bool):
        raise ValueError(f"header must be True, False or 'auto', got {header!r}")
    data_rows = rows[1:] if header else rows
    if not data_rows:
        raise DataFormatError(f"{path}: the file has a header but no data rows")
    m = len(data_rows)
    X = np.empty((m, len(feat_cols)), dtype=np.float64)
    labels: list[str] = []
    for i, (line, row) in enumerate(data_rows):
        if len(row) != n_cols:
            raise DataFormatError(
                f"{path}, line {line}: {len(row)} columns, but line {rows[0][0]} has {n_cols} "
                "(ragged rows)"
            )
        try:
            X[i] = [float(row[j]) for j in feat_cols]
        except ValueError:
            for j in feat_cols:
                if not _is_number(row[j]):
                    what = "an empty cell" if not row[j] else f"{row[j]!r} is not a number"
                    hint = " (if line 1 is a header, pass header=True)" if line == 1 else ""
                    raise DataFormatError(
                        f"{path}, line {line}, column {j + 1}: {what}{hint}"
                    ) from None
            raise
        labels.append(row[lab])
    bad = ~np.isfinite(X)
    if bad.any():
        i, k = np.argwhere(bad)[0]
        raise DataFormatError(
            f"{path}, line {data_rows[i][0]}, column {feat_cols[k] + 1}: feature value "
            f"{data_rows[i][1][feat_cols[k]]!r} is not finite (NaN or infinity); clean the data"
        )
    y, class_names = _encode_labels(np.array(labels), str(path))
    train, test = _split(X.astype(dt, copy=False), y, test_fraction, seed, str(path))
    return DataSets(
        name=f"csv:{path.name}",
        train=train,
        validation=None,
        test=test,
        n_classes=len(class_names),
        class_names=class_names,
        digest=hashlib.sha256(raw).hexdigest()[:16],
    )


def _npz_features(arr: np.ndarray, key: str, source: str, dt: np.dtype) -> np.ndarray:
    if arr.ndim < 2:
        raise DataFormatError(f"{source}: {key} has shape {arr.shape}; need (m, n_features)")
    if arr.dtype.kind not in "biuf":
        raise DataFormatError(f"{source}: {key} has non-numeric dtype {arr.dtype}")
    X = arr.reshape(arr.shape[0], -1).astype(dt)
    if not np.all(np.isfinite(X)):
        raise DataFormatError(f"{source}: {key} contains NaN or infinity; clean the data")
    return X


def load_npz(
    path: str | Path,
    *,
    dtype: Any = np.float64,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> DataSets:
    """Load a classification data set from a NumPy ``.npz`` file (never unpickles).

    The file holds either ``X`` and ``y`` (split into train and test by a shuffle with
    ``seed``) or ``x_train``, ``y_train``, ``x_test``, ``y_test`` (upper-case ``X_`` also
    accepted). Features with more than two dimensions are flattened (e.g. images (m, 28, 28) to
    (m, 784)); they are not scaled. Labels are re-coded to ``0 .. K-1``.

    Parameters
    ----------
    path : str or Path
    dtype : floating dtype
        dtype of ``X``.
    test_fraction, seed
        Used only for an ``X``/``y`` file; see :func:`load_csv`.

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
    if not path.is_file():
        raise FileNotFoundError(f"npz file {path} does not exist")
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
    )
