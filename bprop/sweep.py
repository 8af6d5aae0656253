"""Hyperparameter sweeps: a grid of :class:`bprop.sklearn.BPClassifier` settings, each trained on
the same training set and scored on the same validation set (Nielsen ch.3's way of choosing η, λ,
the mini-batch size and the width).

The grid points run in parallel through joblib: on the local cores (loky processes) by default,
or on a Dask cluster through joblib's Dask backend when given the scheduler's address. Nothing
here distributes work by itself. Every grid point trains with the same ``random_state`` and one
BLAS thread, so a sweep's figures are the same wherever it runs.

Needs scikit-learn (``pip install "bprop[sklearn]"``); a Dask cluster also needs
``pip install "bprop[dask]"``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from bprop.errors import DivergenceError

Array = np.ndarray

#: Columns of the results table, after the grid's own parameters.
RESULT_COLUMNS = ("val_accuracy", "train_cost", "epochs", "seconds", "status")


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, the last parameter varying fastest.

    ``{"eta": [0.1, 3], "lmbda": [0, 5]}`` gives four dicts, in the order
    (0.1, 0), (0.1, 5), (3, 0), (3, 5).

    Built on scikit-learn's ``ParameterGrid``, which orders the parameters by name: the grid
    goes to it keyed by position (``"0000"``, ``"0001"``, …), so that its order is the grid's.
    """
    try:
        from sklearn.model_selection import ParameterGrid
    except ImportError as e:
        raise ImportError(
            f'bprop sweep needs scikit-learn: pip install "bprop[sklearn]" ({e})'
        ) from e

    for name, values in grid.items():
        if len(values) == 0:
            raise ValueError(f"the grid has no values for {name}")
    names = list(grid)
    by_position = {f"{i:04d}": list(grid[name]) for i, name in enumerate(names)}
    return [
        {name: point[f"{i:04d}"] for i, name in enumerate(names)}
        for point in ParameterGrid(by_position)
    ]


def evaluate(
    params: Mapping[str, Any],
    base: Mapping[str, Any],
    X: Array,
    y: Array,
    X_val: Array,
    y_val: Array,
) -> dict[str, Any]:
    """Train ``BPClassifier(**base, **params)`` on ``(X, y)``; its accuracy on ``(X_val, y_val)``.

    Returns a row of the results table: the grid parameters, ``val_accuracy``, ``train_cost``
    (after the last epoch), ``epochs`` run, ``seconds`` and ``status`` (``"ok"`` or
    ``"diverged"``, when the cost became NaN: the accuracy is then NaN).
    """
    from threadpoolctl import threadpool_limits

    from bprop.sklearn import BPClassifier

    clf = BPClassifier(**{**base, **params})
    started = time.perf_counter()
    # One BLAS thread per grid point: the workers already fill the cores, and the figures
    # then do not depend on how many threads a worker's BLAS would have picked.
    with threadpool_limits(limits=1):
        try:
            clf.fit(X, y)
            accuracy, status = float(clf.score(X_val, y_val)), "ok"
        except DivergenceError:
            accuracy, status = math.nan, "diverged"
    return {
        **params,
        "val_accuracy": accuracy,
        "train_cost": clf.loss_curve_[-1] if status == "ok" else math.nan,
        "epochs": clf.n_iter_ if status == "ok" else 0,
        "seconds": round(time.perf_counter() - started, 3),
        "status": status,
    }


def _evaluate_indexed(i: int, *args: Any) -> tuple[int, dict[str, Any]]:
    return i, evaluate(*args)


def run(
    grid: Mapping[str, Sequence[Any]],
    X: Array,
    y: Array,
    X_val: Array,
    y_val: Array,
    *,
    base: Mapping[str, Any] | None = None,
    n_jobs: int = -1,
    scheduler: str | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Evaluate every point of ``grid`` (see :func:`evaluate`); rows best first.

    Parameters
    ----------
    grid : mapping of parameter name to a list of values
        BPClassifier parameters, e.g. ``{"eta": [0.1, 0.5], "hidden_layer_sizes": [(30,)]}``.
    X, y : arrays ``(n, n_features)``, ``(n,)``
        The training set.
    X_val, y_val : arrays ``(n_val, n_features)``, ``(n_val,)``
        The validation set every grid point is scored on.
    base : mapping, optional
        BPClassifier parameters shared by all points (``max_iter``, ``random_state``...).
    n_jobs : int
        Parallel grid points (joblib's meaning: -1 is every core, or every Dask worker thread).
    scheduler : str, optional
        A Dask scheduler's address, ``tcp://HOST:PORT``: run on that cluster.
    on_result : callable, optional
        Called with each row as its grid point finishes (in completion order).

    Returns
    -------
    list of dict
        One row per grid point, best validation accuracy first (diverged points last; ties
        keep the grid's order).
    """
    try:
        import joblib

        import bprop.sklearn  # noqa: F401 - fail here, not in every worker
    except ImportError as e:
        raise ImportError(
            f'bprop sweep needs scikit-learn: pip install "bprop[sklearn]" ({e})'
        ) from e
    points = grid_points(grid)
    base = dict(base or {})
    rows: list[dict[str, Any]] = [{} for _ in points]
    tasks = (
        joblib.delayed(_evaluate_indexed)(i, p, base, X, y, X_val, y_val)
        for i, p in enumerate(points)
    )
    with _backend(scheduler):
        parallel = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        for i, row in parallel(tasks):
            rows[i] = row
            if on_result is not None:
                on_result(row)
    return rank(rows)


def rank(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows sorted best validation accuracy first, NaN last; the sort is stable."""
    return sorted(
        rows,
        key=lambda r: -r["val_accuracy"] if r["val_accuracy"] == r["val_accuracy"] else math.inf,
    )


@contextlib.contextmanager
def _backend(scheduler: str | None) -> Iterator[None]:
    """Local cores by default; joblib's Dask backend on a client of ``scheduler`` if given."""
    import joblib

    if scheduler is None:
        with joblib.parallel_config(backend="loky"):
            yield
        return
    try:
        from dask.distributed import Client
    except ImportError as e:
        raise ImportError(
            f'running a sweep on a Dask cluster needs dask.distributed: pip install "bprop[dask]"'
            f" ({e})"
        ) from e
    try:
        client = Client(scheduler, timeout=30)
    except OSError as e:
        raise OSError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from e
    with client, joblib.parallel_config(backend="dask"):
        yield


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """The results as an aligned text table, one row per grid point, with a rank column."""
    if not rows:
        return "(no results)"
    columns = list(rows[0])
    header = ["rank", *(_SHORT.get(c, c) for c in columns)]
    cells = [[str(i + 1), *(_cell(c, r[c]) for c in columns)] for i, r in enumerate(rows)]
    widths = [max(len(h), *(len(row[j]) for row in cells)) for j, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The results as CSV text (full precision), with a header and a rank column, best first."""
    out = io.StringIO()
    if rows:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["rank", *rows[0]])
        for i, r in enumerate(rows):
            writer.writerow(
                [i + 1, *(_hidden(v) if isinstance(v, tuple) else v for v in r.values())]
            )
    return out.getvalue()


_SHORT = {"hidden_layer_sizes": "hidden", "batch_size": "m", "val_accuracy": "val_acc"}


def _cell(column: str, value: Any) -> str:
    if isinstance(value, tuple):
        return _hidden(value)
    if column in ("val_accuracy", "train_cost"):
        return f"{value:.4f}"
    if column == "seconds":
        return f"{value:.1f}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _hidden(widths: tuple[int, ...]) -> str:
    """Hidden widths as the command line writes them: 30, or 100-30 for two layers."""
    return "-".join(str(w) for w in widths)
