"""Choose η, λ and the hidden width with scikit-learn's GridSearchCV over bprop's BPClassifier.

Two grids, as in Nielsen's chapter 3:

1. the wine data set that ships with scikit-learn (178 examples, 13 features, 3 classes), in a
   ``Pipeline(StandardScaler → BPClassifier)`` with 5-fold cross-validation;
2. a subset of MNIST (``bprop.datasets.load_mnist``), each setting scored on the book's 10,000
   validation images (a ``PredefinedSplit``: train on the subset, score on the validation set).

Run from the repository root (needs ``pip install "bprop[sklearn]"``)::

    python examples/sklearn_grid.py           # about 15 s on 2 cores
    python examples/sklearn_grid.py --quick   # a few seconds: smaller grids and subsets
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.datasets import load_wine
from sklearn.model_selection import GridSearchCV, PredefinedSplit, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from bprop.datasets import load_mnist
from bprop.sklearn import BPClassifier


def wine_grid(quick: bool = False, n_jobs: int = -1) -> GridSearchCV:
    """GridSearchCV over a scaler + BPClassifier pipeline on the wine data; prints the best."""
    X, y = load_wine(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    pipe = Pipeline(
        [("scale", StandardScaler()), ("net", BPClassifier(max_iter=30, random_state=0))]
    )
    grid = {
        "net__eta": [0.1, 0.5] if quick else [0.05, 0.1, 0.5],
        "net__lmbda": [0.0, 5.0],
        "net__hidden_layer_sizes": [(10,), (30,)],
    }
    search = GridSearchCV(pipe, grid, cv=3 if quick else 5, n_jobs=n_jobs).fit(X_train, y_train)
    print(f"wine: best {search.best_params_}")
    print(
        f"wine: cross-validated accuracy {search.best_score_:.3f}, test accuracy "
        f"{search.score(X_test, y_test):.3f}"
    )
    return search


def mnist_grid(quick: bool = False, n_jobs: int = -1) -> GridSearchCV:
    """GridSearchCV on an MNIST subset, scored on the 10,000 validation images."""
    data = load_mnist()
    n = 1000 if quick else 5000
    X = np.concatenate([data.train.X[:n], data.validation.X])
    y = np.concatenate([data.train.y[:n], data.validation.y])
    fold = np.r_[np.full(n, -1), np.zeros(len(data.validation))]  # -1: always in training
    net = BPClassifier(max_iter=2 if quick else 10, dtype="float32", random_state=0)
    grid = {
        "eta": [0.1, 0.5] if quick else [0.1, 0.5, 3.0],
        "lmbda": [0.0, 5.0],
        "hidden_layer_sizes": [(30,)] if quick else [(30,), (100,)],
    }
    search = GridSearchCV(net, grid, cv=PredefinedSplit(fold), n_jobs=n_jobs, refit=False)
    search.fit(X, y)
    print(f"MNIST ({n} training images, {len(data.validation)} validation images):")
    results = search.cv_results_
    for i in np.argsort(results["rank_test_score"], kind="stable"):
        p = results["params"][i]
        print(
            f"  η = {p['eta']:<4g} λ = {p['lmbda']:<3g} hidden = {p['hidden_layer_sizes'][0]:<4}"
            f"  validation accuracy {results['mean_test_score'][i]:.4f}"
        )
    return search


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small grids and subsets")
    parser.add_argument("--n-jobs", type=int, default=-1, help="joblib workers (-1: all cores)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    wine_grid(args.quick, args.n_jobs)
    mnist_grid(args.quick, args.n_jobs)
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
