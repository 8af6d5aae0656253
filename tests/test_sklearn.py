"""bprop.sklearn: scikit-learn's own estimator checks, and the wrappers against the core.

The oracles: scikit-learn's estimator test suite (``parametrize_with_checks``); bprop's core
``Network`` + ``sgd`` trained by hand with the same settings; and ``fit`` for ``max_iter``
epochs against as many ``partial_fit`` calls (each epoch's order is a pure function of the seed
and the epoch, so the two must give bit-identical weights).
"""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

# check_array_api_input runs only when SciPy's array API support is switched on, which SciPy
# reads when it is first imported: set it before scikit-learn imports SciPy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

pytest.importorskip("sklearn")

from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import bprop
from bprop.sklearn import BPClassifier, BPRegressor
from bprop.train import sgd

ROOT = Path(__file__).resolve().parent.parent

# The settings grid that scikit-learn's checks run over: a covering set of hidden activations
# (sigmoid, tanh, relu, leaky_relu), output/cost pairs (softmax + log-likelihood, sigmoid +
# quadratic, sigmoid + cross-entropy, identity + quadratic), both dtypes, early stopping, momentum,
# class_weight, and full-batch training — not the full product (it would cost minutes), but every
# value of each axis at least once. Small max_iter keeps it fast. The relu/He/η = 0.1 classifier is
# the one whose saturated softmax once made the cost infinite on X ~ N(100, 1).
FULL_BATCH = {"batch_size": 10**6, "shuffle": False, "tol": None}
CHECKED = [
    BPClassifier(max_iter=10),
    BPClassifier(max_iter=10, output_activation="sigmoid", cost="quadratic", eta=3.0),
    BPClassifier(max_iter=10, early_stopping=True, n_iter_no_change=3, dtype="float32"),
    BPClassifier(max_iter=10, activation="relu", init="he", eta=0.1),
    BPClassifier(
        max_iter=10,
        activation="tanh",
        output_activation="sigmoid",
        cost="cross-entropy",
        dtype="float32",
        class_weight="balanced",
    ),
    BPClassifier(max_iter=10, activation="leaky_relu", init="glorot", **FULL_BATCH),
    BPRegressor(max_iter=10),
    BPRegressor(max_iter=10, early_stopping=True, momentum=0.5, dtype="float32"),
    BPRegressor(max_iter=10, activation="tanh", init="glorot", **FULL_BATCH),
]


def expected_failures(est) -> dict[str, str]:
    """The checks an instance is meant to fail, and why.

    The sample-weight equivalence check: a stochastic fit cannot pass it; full-batch does.

    Weight 2 ≡ the row twice holds for the cost C = Σ s_x C_x / Σ s_x and so for full-batch
    gradient descent (same gradient each step, to rounding), but mini-batches drawn from n rows
    differ from those drawn from Σ s rows, and so does a validation split.
    """
    failures = {}
    if est.early_stopping:
        # MLPClassifier's rule, which the issue asks for; these checks call partial_fit.
        why = "partial_fit refuses early_stopping=True, as MLPClassifier does"
        for name in (
            "check_fit_score_takes_y",
            "check_n_features_in_after_fitting",
            "check_estimators_partial_fit_n_features",
        ):
            failures[name] = why
    if not (est.batch_size >= 10**6 and not est.shuffle and not est.early_stopping):
        why = "mini-batch SGD: repeating a row changes the mini-batches, weighting it does not"
        failures["check_sample_weight_equivalence_on_dense_data"] = why
        failures["check_sample_weight_equivalence_on_sparse_data"] = why
    return failures


# A validation split of one example (from the checks' tiny data sets) has no defined R²; the
# checks' fits of 10 epochs stop at max_iter, as they are meant to.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(CHECKED, expected_failed_checks=expected_failures)
def test_sklearn_estimator_checks(estimator, check) -> None:
    check(estimator)


def iris() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def test_import_without_sklearn_names_the_install_command() -> None:
    code = "import sys; sys.modules['sklearn'] = None; import bprop.sklearn"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1
    assert "ImportError" in result.stderr
    assert 'pip install "bprop[sklearn]"' in result.stderr


def test_fit_trains_the_network_the_core_would() -> None:
    X, y = iris()
    clf = BPClassifier(
        hidden_layer_sizes=(7,), eta=0.3, lmbda=1.0, batch_size=16, max_iter=4, tol=None
    )
    clf.set_params(random_state=5).fit(X, y)
    seed = np.random.RandomState(5).randint(np.iinfo(np.int32).max)
    net = bprop.Network([4, 7, 3], "sigmoid", "log-likelihood", output_activation="softmax",
                        init="scaled", seed=seed)  # fmt: skip
    history = sgd(net, X, y, 4, 16, 0.3, lmbda=1.0, seed=seed)
    for w, w_core in zip(clf.network_.weights, net.weights):
        np.testing.assert_array_equal(w, w_core)
    assert clf.loss_curve_ == history.column("train_cost")
    assert clf.n_iter_ == 4
    np.testing.assert_array_equal(clf.predict_proba(X), net.feedforward(X))


def test_augment_trains_on_distorted_images_as_the_core_does() -> None:
    """``augment`` (#19): each epoch trains on fresh distortions of the images, exactly as
    :func:`bprop.train.sgd` with the same augmenter; rows that are no square image are refused."""
    from bprop.augment import augmenter

    rng = np.random.default_rng(0)
    X = np.zeros((60, 64))
    X[:, 20:44] = rng.random((60, 24))  # 8×8 "images" with ink in their middle rows
    y = np.arange(60) % 3
    params = {"hidden_layer_sizes": (9,), "max_iter": 2, "tol": None, "random_state": 3}
    clf = BPClassifier(augment="shift:1", **params).fit(X, y)
    seed = np.random.RandomState(3).randint(np.iinfo(np.int32).max)
    net = bprop.Network([64, 9, 3], "sigmoid", "log-likelihood", output_activation="softmax",
                        init="scaled", seed=seed)  # fmt: skip
    sgd(net, X, y, 2, 10, 0.5, seed=seed, augment=augmenter("shift:1", (8, 8)))
    for w, w_core in zip(clf.network_.weights, net.weights):
        np.testing.assert_array_equal(w, w_core)
    plain = BPClassifier(**params).fit(X, y)
    assert not np.array_equal(plain.network_.weights[0], clf.network_.weights[0])
    assert clf.get_params()["augment"] == "shift:1"
    with pytest.raises(ValueError, match="no square number of pixels"):
        BPClassifier(augment="shift", **params).fit(X[:, :63], y)
    with pytest.raises(ValueError, match="augmentation"):
        BPRegressor(augment="twist", **params).fit(X, y.astype(float))


def test_partial_fit_epochs_equal_fit() -> None:
    X, y = iris()
    params = {"max_iter": 3, "tol": None, "momentum": 0.5, "random_state": 0}
    fitted = BPClassifier(**params).fit(X, y)
    stepped = BPClassifier(**params)
    with pytest.raises(ValueError, match="classes must be passed"):
        stepped.partial_fit(X, y)
    for _ in range(3):
        stepped.partial_fit(X, y, classes=[0, 1, 2])
    for w, w_fit in zip(stepped.network_.weights, fitted.network_.weights):
        np.testing.assert_array_equal(w, w_fit)
    assert stepped.loss_curve_ == fitted.loss_curve_ and stepped.n_iter_ == 3
    with pytest.raises(ValueError, match="labels not in classes"):
        stepped.partial_fit(X, y + 1)


def test_string_labels_and_probabilities() -> None:
    X, y = iris()
    names = np.array(["virginica", "setosa", "versicolor"])[y]
    for output, cost in [("softmax", "log-likelihood"), ("sigmoid", "cross-entropy")]:
        clf = BPClassifier(output_activation=output, cost=cost, random_state=0).fit(X, names)
        assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
        p = clf.predict_proba(X)
        np.testing.assert_allclose(p.sum(axis=1), 1.0)
        np.testing.assert_array_equal(clf.classes_[p.argmax(axis=1)], clf.predict(X))
        assert clf.score(X, names) > 0.9


def test_binary_problem_uses_two_outputs() -> None:
    X, y = iris()
    clf = BPClassifier(random_state=0).fit(X[y < 2], y[y < 2] == 1)
    assert clf.network_.sizes == (4, 30, 2)
    assert clf.predict(X[:1]).dtype == bool and clf.predict_proba(X[:1]).shape == (1, 2)


def test_early_stopping_keeps_the_best_epoch() -> None:
    X, y = iris()
    clf = BPClassifier(early_stopping=True, n_iter_no_change=3, max_iter=200, random_state=1)
    clf.fit(X, y)
    assert clf.n_iter_ < 200 and len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)


def test_tol_stops_on_a_flat_training_cost_and_none_runs_every_epoch() -> None:
    X, y = iris()
    # The first epoch always improves on "no cost yet"; then two epochs without a fall of 10.
    assert BPClassifier(tol=10.0, n_iter_no_change=2, random_state=0).fit(X, y).n_iter_ == 3
    assert BPClassifier(tol=None, max_iter=12, random_state=0).fit(X, y).n_iter_ == 12


def test_verbose_prints_the_cost_of_each_epoch(capsys) -> None:
    X, y = iris()
    BPClassifier(max_iter=2, verbose=True, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["Epoch 0", "Epoch 1"]


def test_bad_parameters_fail_at_fit_with_a_clear_message() -> None:
    X, y = iris()
    clf = BPClassifier(activation="sigmod")  # init accepts anything: sklearn's convention
    with pytest.raises(ValueError, match="Did you mean 'sigmoid'"):
        clf.fit(X, y)
    with pytest.raises(ValueError, match=r"eta .* must be a number > 0"):
        BPClassifier(eta=0).fit(X, y)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        BPClassifier(hidden_layer_sizes=(30, 0)).fit(X, y)


def test_regressor_learns_a_smooth_function_and_several_outputs() -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(400, 1))
    Y = np.c_[np.sin(X[:, 0]), 0.5 * X[:, 0] ** 2 - 1]
    reg = BPRegressor(hidden_layer_sizes=(20,), eta=0.1, max_iter=60, random_state=0)
    assert reg.fit(X, Y[:, 0]).predict(X).shape == (400,)
    assert reg.score(X, Y[:, 0]) > 0.95
    assert reg.fit(X, Y).predict(X).shape == (400, 2) and reg.n_outputs_ == 2
    assert reg.score(X, Y) > 0.9


def test_pipeline_grid_search_and_pickle() -> None:
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), BPClassifier(max_iter=10, random_state=0))
    grid = {"bpclassifier__eta": [0.1, 0.5], "bpclassifier__hidden_layer_sizes": [(5,), (20,)]}
    search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    assert search.best_score_ > 0.85
    restored = pickle.loads(pickle.dumps(search.best_estimator_))
    np.testing.assert_array_equal(
        restored.predict_proba(X), search.best_estimator_.predict_proba(X)
    )


def test_readme_examples_run_quickly() -> None:
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import sklearn_grid
    finally:
        sys.path.pop(0)
    assert sklearn_grid.wine_grid(quick=True, n_jobs=1).best_score_ > 0.9
    try:
        search = sklearn_grid.mnist_grid(quick=True, n_jobs=1)
    except FileNotFoundError:
        pytest.skip("MNIST is not available here")
    assert max(search.cv_results_["mean_test_score"]) > 0.75


# -- scikit-learn parity (issue 18) --------------------------------------------------------------


def test_saturated_softmax_costs_a_large_finite_number_not_infinity() -> None:
    # z = (0, −800): e^(−800) underflows to 0, and −ln 0 would read as divergence.
    from bprop.costs import COSTS

    a = bprop.activations.get("softmax")(np.array([[0.0, -800.0]]))
    assert a[0, 1] == 0.0
    cost = COSTS["log-likelihood"](a, np.array([[0.0, 1.0]]))
    assert cost == pytest.approx(-np.log(np.finfo(np.float64).eps))
    for dtype in ("float64", "float32"):  # the compiled kernel clips as NumPy does
        X = np.array([[100.0, 0.0], [0.0, 100.0]], dtype)
        Y = np.eye(2, dtype=dtype)[[1, 0]]
        costs = []
        for compiled in (False, True):
            net = bprop.Network([2, 2], "softmax", "log-likelihood", seed=0, dtype=dtype)
            net.weights[0][...] = [[10.0, 0.0], [0.0, 10.0]]  # saturated, the wrong way round
            h = sgd(net, X, Y, 1, 2, 1e-9, compiled=compiled, shuffle=False)
            costs.append(h.epochs[0].train_cost)
        assert np.isfinite(costs[0]) and costs[0] == pytest.approx(costs[1], rel=1e-6)


def test_relu_he_on_inputs_near_100_trains_and_divergence_advice_is_an_eta_that_trains() -> None:
    rng = np.random.RandomState(0)
    X, y = rng.normal(100, 1, size=(30, 3)), np.arange(30) % 3
    with pytest.warns(UserWarning, match="not scaled"):
        clf = BPClassifier(activation="relu", init="he", eta=0.1, max_iter=3, random_state=0)
        assert np.all(np.isfinite(clf.fit(X, y).loss_curve_))
    with pytest.warns(UserWarning), pytest.raises(bprop.DivergenceError) as e:
        BPClassifier(activation="relu", init="he", eta=1e300, random_state=0).fit(X, y)
    advised = re.search(r"try η = (\S+), which of the smaller η tried", str(e.value))
    assert advised and "make_pipeline(StandardScaler()" in str(e.value), str(e.value)
    with pytest.warns(UserWarning, match="not scaled"):
        eta = float(advised.group(1))
        curve = (
            BPClassifier(activation="relu", init="he", eta=eta, random_state=0)
            .fit(X, y)
            .loss_curve_
        )  # the advised η trains: no divergence, C falls
    assert np.all(np.isfinite(curve)) and curve[-1] < 0.5 * curve[0]


def test_sample_weight_is_the_weighted_cost() -> None:
    # Weight 2 ≡ the row twice, for full-batch descent: C = Σ s_x C_x / Σ s_x (to rounding).
    X, y = iris()
    s = np.arange(len(y)) % 3  # weights 0, 1, 2
    params = {"batch_size": 10**6, "shuffle": False, "tol": None, "max_iter": 20, "eta": 2.0}
    weighted = BPClassifier(random_state=0, **params).fit(X, y, sample_weight=s)
    repeated = BPClassifier(random_state=0, **params).fit(np.repeat(X, s, 0), np.repeat(y, s))
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-12)
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-12)
    # Equal weights are no weights, exactly (the same engine and arithmetic).
    plain = BPClassifier(random_state=0, max_iter=2, tol=None).fit(X, y)
    ones = BPClassifier(random_state=0, max_iter=2, tol=None).fit(X, y, sample_weight=[3] * 150)
    np.testing.assert_array_equal(plain.coefs_[0], ones.coefs_[0])
    with pytest.raises(ValueError, match="non-zero"):
        BPClassifier().fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match="compiled engine"):
        sgd(bprop.Network([4, 3]), X, y, 1, 10, 0.1, sample_weight=s, compiled=True)


def test_class_weight_balanced_equals_the_sample_weights_it_stands_for() -> None:
    X, y = iris()
    keep = np.r_[0:50, 50:60, 100:150]  # class 1 is rare
    X, y = X[keep], y[keep]
    balanced = BPClassifier(class_weight="balanced", max_iter=3, tol=None, random_state=0)
    by_hand = BPClassifier(max_iter=3, tol=None, random_state=0)
    w = len(y) / (3 * np.bincount(y))
    balanced.fit(X, y)
    by_hand.fit(X, y, sample_weight=w[y])
    np.testing.assert_array_equal(balanced.coefs_[0], by_hand.coefs_[0])
    as_dict = BPClassifier(class_weight={0: 1.0, 1: 5.0, 2: 1.0}, max_iter=3, random_state=0)
    unweighted = BPClassifier(max_iter=3, random_state=0)
    assert not np.array_equal(as_dict.fit(X, y).coefs_[0], unweighted.fit(X, y).coefs_[0])


def test_warm_start_continues_the_fitted_network() -> None:
    X, y = iris()
    once = BPClassifier(max_iter=4, tol=None, random_state=0).fit(X, y)
    twice = BPClassifier(max_iter=2, tol=None, random_state=0, warm_start=True)
    twice.fit(X, y).fit(X, y)
    np.testing.assert_array_equal(once.coefs_[1], twice.coefs_[1])
    assert twice.n_iter_ == 4 and twice.loss_curve_ == once.loss_curve_
    assert twice.t_ == 4 * len(X)
    with pytest.raises(ValueError, match="warm_start"):
        twice.fit(X[y < 2], y[y < 2])


def test_multilabel_targets_train_sigmoid_outputs_with_cross_entropy() -> None:
    X, y = iris()
    Y = np.c_[y == 0, y == 2, X[:, 0] > 0].astype(int)  # three independent labels
    clf = BPClassifier(max_iter=60, random_state=0).fit(X, Y)
    assert [a.name for a in clf.network_.activations][-1] == "sigmoid"
    assert clf.network_.cost.name == "cross-entropy" and clf.out_activation_ == "logistic"
    assert clf.predict(X).shape == (150, 3) and set(np.unique(clf.predict(X))) <= {0, 1}
    assert clf.score(X, Y) > 0.8  # subset accuracy: all three labels right
    np.testing.assert_array_equal(clf.predict(X), clf.predict_proba(X) > 0.5)


def test_convergence_warning_and_sklearn_attributes() -> None:
    X, y = iris()
    from sklearn.exceptions import ConvergenceWarning

    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(2\) reached"):
        clf = BPClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=0).fit(X, y)
    assert [c.shape for c in clf.coefs_] == [(4, 5), (5, 3)]  # scikit-learn's (in, out)
    assert [b.shape for b in clf.intercepts_] == [(5,), (3,)]
    z = np.maximum(X @ clf.coefs_[0] + clf.intercepts_[0], -700)
    a = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose((a @ clf.coefs_[1] + clf.intercepts_[1]).argmax(1), clf.predict(X))
    assert clf.n_layers_ == 3 and clf.out_activation_ == "softmax"
    assert clf.t_ == 2 * 150 and clf.loss_ == clf.loss_curve_[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        BPClassifier(max_iter=2, tol=None, random_state=0).fit(X, y)  # tol=None: no warning


def test_partial_fit_refuses_early_stopping() -> None:
    X, y = iris()
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        BPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        BPRegressor(early_stopping=True).partial_fit(X, X[:, 0])


def test_sparse_csr_input_is_densified_one_mini_batch_at_a_time(monkeypatch) -> None:
    sparse = pytest.importorskip("scipy.sparse")
    from scipy.sparse._compressed import _cs_matrix

    rng = np.random.RandomState(0)
    X = rng.normal(size=(3000, 20)) * (rng.uniform(size=(3000, 20)) < 0.1)  # 10% non-zero
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    dense = BPClassifier(max_iter=2, tol=None, random_state=0).fit(X, y)
    rows = []
    to_array = _cs_matrix.toarray

    def recording(self, *args, **kwargs):
        rows.append(self.shape[0])
        return to_array(self, *args, **kwargs)

    monkeypatch.setattr(_cs_matrix, "toarray", recording)
    csr = BPClassifier(max_iter=2, tol=None, random_state=0).fit(sparse.csr_matrix(X), y)
    assert rows and max(rows) == 10  # training: one mini-batch of m = 10 at a time
    rows.clear()
    p = csr.predict_proba(sparse.csr_matrix(X))
    assert max(rows) <= 1024 < len(X)  # prediction: in chunks
    # The same arithmetic as dense X (the compiled engine there, fused here): to rounding.
    np.testing.assert_allclose(csr.coefs_[0], dense.coefs_[0], atol=1e-12)
    np.testing.assert_allclose(p, dense.predict_proba(X), atol=1e-12)
    with pytest.raises(TypeError, match="sparse matrix"):
        sgd(bprop.Network([20, 2]), sparse.csr_matrix(X), y, 1, 10, 0.1, compiled=True)
