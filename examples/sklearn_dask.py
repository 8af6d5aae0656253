"""The same GridSearchCV, run on a Dask cluster through joblib's Dask backend.

scikit-learn parallelises a grid search with joblib; ``joblib.parallel_config(backend="dask")``
sends those tasks to the workers of a ``dask.distributed`` cluster instead of local processes.
bprop adds no code of its own for it.

Run with a cluster you started (``dask scheduler`` on one machine, ``dask worker
tcp://HOST:8786 --nthreads 1`` on each of the others), or with none: the example then starts a
two-worker ``LocalCluster`` on 127.0.0.1. Needs ``pip install "bprop[dask]"``::

    python examples/sklearn_dask.py [--scheduler tcp://HOST:8786]
"""

from __future__ import annotations

import argparse
import contextlib

import joblib
from dask.distributed import Client, LocalCluster
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bprop.sklearn import BPClassifier


def main(argv: list[str] | None = None) -> GridSearchCV:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scheduler", help="tcp://HOST:PORT of a running Dask scheduler")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        if args.scheduler:
            client = stack.enter_context(Client(args.scheduler))
        else:
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
                )
            )
            client = stack.enter_context(Client(cluster))
        print(f"Dask cluster: {len(client.scheduler_info()['workers'])} workers")
        X, y = load_digits(return_X_y=True)
        pipe = make_pipeline(StandardScaler(), BPClassifier(max_iter=10, random_state=0))
        grid = {
            "bpclassifier__eta": [0.1, 0.5],
            "bpclassifier__lmbda": [0.0, 5.0],
            "bpclassifier__hidden_layer_sizes": [(30,), (100,)],
        }
        search = GridSearchCV(pipe, grid, cv=3)
        with joblib.parallel_config(backend="dask"):
            search.fit(X, y)
    print(f"digits: best {search.best_params_}, cross-validated accuracy {search.best_score_:.3f}")
    return search


if __name__ == "__main__":
    main()
