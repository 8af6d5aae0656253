"""``bprop sweep`` and :mod:`bprop.sweep`: a grid run locally (joblib) and on a real Dask cluster.

The oracle for the cluster is a local run with the same seeds: every figure but the timing must
be identical.
"""

from __future__ import annotations

import csv
import math
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("joblib")

from bprop import sweep
from bprop.cli import main
from bprop.sklearn import BPClassifier


def blobs(n: int = 240, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three Gaussian clusters in 6 dimensions: a problem small nets learn in a few epochs."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = rng.normal(scale=2.0, size=(3, 6))
    return centres[y] + rng.normal(size=(n, 6)), y


@pytest.fixture(scope="module")
def npz_dataset(tmp_path_factory: pytest.TempPathFactory) -> str:
    X, y = blobs()
    path = tmp_path_factory.mktemp("data") / "blobs.npz"
    np.savez(path, X=X, y=y)
    return f"npz:{path}"


def read_rows(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        del r["seconds"]  # the only figure that may differ between runs
    return rows


SWEEP_ARGS = ["--eta", "0.5,3", "--lmbda", "0,5", "--hidden", "8", "--epochs", "3", "--seed", "7"]


def test_grid_points_vary_the_last_parameter_fastest() -> None:
    points = sweep.grid_points({"eta": [0.1, 3], "lmbda": [0, 5]})
    assert points == [
        {"eta": 0.1, "lmbda": 0},
        {"eta": 0.1, "lmbda": 5},
        {"eta": 3, "lmbda": 0},
        {"eta": 3, "lmbda": 5},
    ]
    with pytest.raises(ValueError, match="no values for lmbda"):
        sweep.grid_points({"eta": [1], "lmbda": []})


def test_evaluate_matches_a_classifier_trained_by_hand() -> None:
    X, y = blobs()
    base = {"max_iter": 2, "random_state": 3, "hidden_layer_sizes": (5,)}
    row = sweep.evaluate({"eta": 0.5}, base, X[:200], y[:200], X[200:], y[200:])
    clf = BPClassifier(eta=0.5, **base).fit(X[:200], y[:200])
    assert row["val_accuracy"] == clf.score(X[200:], y[200:])
    assert row["train_cost"] == clf.loss_curve_[-1]
    assert (row["epochs"], row["status"]) == (2, "ok")


def test_diverged_points_rank_last_with_nan() -> None:
    X, y = blobs()
    grid = {"eta": [1e6, 0.05], "output_activation": ["identity"], "cost": ["quadratic"]}
    base = {"max_iter": 2, "random_state": 0, "activation": "relu", "tol": None}
    rows = sweep.run(grid, X[:200], y[:200], X[200:], y[200:], base=base, n_jobs=1)
    assert [r["eta"] for r in rows] == [0.05, 1e6]
    assert rows[-1]["status"] == "diverged" and math.isnan(rows[-1]["val_accuracy"])


def test_local_processes_give_the_sequential_results() -> None:
    X, y = blobs()
    grid = {"eta": [0.1, 0.5], "hidden_layer_sizes": [(4,), (8,)]}
    base = {"max_iter": 2, "random_state": 1}
    seen: list[dict] = []
    one = sweep.run(grid, X[:200], y[:200], X[200:], y[200:], base=base, n_jobs=1)
    two = sweep.run(
        grid, X[:200], y[:200], X[200:], y[200:], base=base, n_jobs=2, on_result=seen.append
    )
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in one]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in two]
    assert len(seen) == 4
    accuracies = [r["val_accuracy"] for r in one]
    assert accuracies == sorted(accuracies, reverse=True)


def test_cli_sweep_writes_a_table_best_first(npz_dataset, tmp_path, capsys) -> None:
    out = tmp_path / "results.csv"
    argv = ["sweep", "--dataset", npz_dataset, *SWEEP_ARGS, "--n-jobs", "1", "--out", str(out)]
    assert main([*argv, "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "Sweeping 4 grid points" in printed and f"Wrote {out}" in printed
    rows = read_rows(out)
    assert len(rows) == 4 and [r["rank"] for r in rows] == ["1", "2", "3", "4"]
    assert {(r["eta"], r["lmbda"]) for r in rows} == {
        ("0.5", "0.0"),
        ("0.5", "5.0"),
        ("3.0", "0.0"),
        ("3.0", "5.0"),
    }
    accuracies = [float(r["val_accuracy"]) for r in rows]
    assert accuracies == sorted(accuracies, reverse=True)
    header = printed.splitlines()[1].split()
    assert header[:4] == ["rank", "eta", "lmbda", "hidden"]


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--eta", "0.1,fast", "comma-separated numbers"),
        ("--lmbda", "-1", "numbers ≥ 0"),
        ("--hidden", "30,0", "hidden widths must be ≥ 1"),
    ],
)
def test_cli_sweep_rejects_bad_lists(flag, value, message, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["sweep", flag, value])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_missing_sklearn_names_the_install_command(npz_dataset, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "joblib", None)
    argv = ["sweep", "--dataset", npz_dataset, "--no-progress", "--out", "/dev/null"]
    assert main(argv) == 2
    assert 'pip install "bprop[sklearn]"' in capsys.readouterr().err


def test_missing_dask_names_the_install_command(npz_dataset, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    argv = ["sweep", "--dataset", npz_dataset, "--scheduler", "tcp://127.0.0.1:1"]
    assert main([*argv, "--no-progress", "--out", "/dev/null"]) == 2
    assert 'pip install "bprop[dask]"' in capsys.readouterr().err


def test_dask_cluster_gives_the_local_results(npz_dataset, tmp_path) -> None:
    distributed = pytest.importorskip("dask.distributed")
    local, remote = tmp_path / "local.csv", tmp_path / "dask.csv"
    argv = ["sweep", "--dataset", npz_dataset, *SWEEP_ARGS, "--no-progress"]
    assert main([*argv, "--n-jobs", "2", "--out", str(local)]) == 0
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        worker_dashboard_address=None,
    )
    with cluster, distributed.Client(cluster) as client, distributed.get_task_stream(client) as ts:
        address = cluster.scheduler_address
        assert main([*argv, "--scheduler", address, "--out", str(remote)]) == 0
        workers = set(client.scheduler_info()["workers"])
    # The grid points really ran as tasks on the cluster's two worker processes.
    assert len(workers) == 2
    assert ts.data and {t["worker"] for t in ts.data} <= workers
    assert read_rows(remote) == read_rows(local)
