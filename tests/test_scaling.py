"""Scaling the user's own features (#15 item 5): unscaled wine data trained to 16.67%, uint8
images in an npz to 27%, and the diagnostics blamed "N(0, 1) with many inputs" for a 4-input
iris net. The default now scales (and says how), the model keeps the scaling for evaluate,
predict and plot, and the diagnostics name unscaled inputs.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import bprop
from bprop import datasets as ds
from bprop import serialize
from bprop.cli import main
from bprop.datasets.scaling import Scaling, fit
from bprop.diagnostics import Diagnostics

sklearn_datasets = pytest.importorskip("sklearn.datasets")


@pytest.fixture(autouse=True)
def _in_a_scratch_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def _csv(path: Path, X: np.ndarray, y: np.ndarray) -> Path:
    names = [f"f{j}" for j in range(X.shape[1])]
    rows = [",".join([*names, "label"])]
    rows += [",".join([*(repr(float(v)) for v in x), str(int(c))]) for x, c in zip(X, y)]
    path.write_text("\n".join(rows) + "\n")
    return path


def _wine(tmp_path: Path) -> Path:
    X, y = sklearn_datasets.load_wine(return_X_y=True)
    return _csv(tmp_path / "wine.csv", X, y)


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_unscaled_wine_trains_well_above_chance_by_default(tmp_path, capsys):
    path = _wine(tmp_path)
    base = ["train", "--dataset", f"csv:{path}", "--seed", "0", "--no-progress", "--epochs", "30"]
    code, out, err = _run(capsys, *base, "--out", str(tmp_path / "scaled"))
    assert code == 0, err
    assert "Scaling the features:" in out and "standardised" in out
    history = json.loads((tmp_path / "scaled/history.json").read_text())
    accuracy = history["epochs"][-1]["test_accuracy"]
    assert accuracy > 0.85  # chance (the commonest class) is 40%

    # The model keeps the scaling: evaluate reads the raw CSV and scores exactly as training did.
    _, meta = serialize.load_model(tmp_path / "scaled/model.npz")
    assert meta["scaling"]["kind"] == "standard" and len(meta["scaling"]["shift"]) == 13
    assert meta["training"]["scale"] == "auto"
    code, out, _ = _run(capsys, "evaluate", str(tmp_path / "scaled"))
    correct = history["epochs"][-1]["test_correct"]
    assert code == 0 and f"{correct} / {history['epochs'][-1]['test_total']}" in out

    # As it was before: used as they are, the features saturate every neuron, and the
    # diagnostics say why instead of blaming the initialisation of many inputs.
    code, out, err = _run(capsys, *base, "--scale", "none", "--out", str(tmp_path / "raw"))
    assert code == 0
    raw = json.loads((tmp_path / "raw/history.json").read_text())["epochs"][-1]
    assert raw["test_accuracy"] < 0.6 < accuracy
    assert "which points at large inputs: the inputs are not scaled (feature 13" in err
    assert "many inputs" not in err


def test_a_four_input_iris_net_is_told_its_inputs_are_unscaled():
    X, y = sklearn_datasets.load_iris(return_X_y=True)
    net = bprop.Network([4, 30, 3], seed=0)  # w ~ N(0, 1), four inputs
    diagnostics = Diagnostics(X, y)
    diagnostics.on_train_begin(net, bprop.TrainState(seed=0))
    codes = {w.code: w.message for w in diagnostics.warnings}
    message = codes["saturated-hidden"]
    assert "points at large inputs: the inputs are not scaled" in message
    assert "feature 1 has a root mean square of 5.9" in message and "--scale standard" in message
    assert "many inputs" not in message and "N(0, 1) a neuron" not in message
    # Nothing saturates with scaled initialisation, but the inputs are still named.
    scaled_init = bprop.Network([4, 30, 3], init="scaled", seed=0)
    diagnostics = Diagnostics(X, y)
    diagnostics.on_train_begin(scaled_init, bprop.TrainState(seed=0))
    assert {w.code for w in diagnostics.warnings} == {"unscaled-inputs"}
    scaled = Diagnostics((X - X.mean(0)) / X.std(0), y)
    scaled.on_train_begin(net, bprop.TrainState(seed=0))
    codes = {w.code for w in scaled.warnings}
    assert "unscaled-inputs" not in codes and "saturated-hidden" not in codes


def test_uint8_images_in_an_npz_are_scaled_as_mnist(tmp_path):
    mnist = ds.load_mnist(validation_size=0)
    images = np.rint(mnist.train.X[:600] * 255).astype(np.uint8).reshape(-1, 28, 28)
    path = tmp_path / "digits.npz"
    np.savez(path, X=images, y=mnist.train.y[:600])
    data = ds.load_npz(path)
    assert data.scaling.kind == "pixels" and "as MNIST is" in data.scaling.reason
    assert data.train.X.max() <= 1.0 and data.train.X.min() >= 0.0
    np.testing.assert_allclose(
        np.sort(np.concatenate([data.train.X, data.test.X]).ravel()),
        np.sort(images.reshape(600, -1).ravel() / 255.0),
    )


def test_each_kind_is_fitted_on_the_training_split_only(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(50, 20, size=(200, 3))
    y = rng.integers(0, 2, 200)
    path = _csv(tmp_path / "d.csv", X, y)
    raw = ds.load_csv(path, scale="none")
    for kind in ("standard", "minmax"):
        data = ds.load_csv(path, scale=kind)
        assert data.scaling.kind == kind
        if kind == "standard":
            mean, std = raw.train.X.mean(axis=0), raw.train.X.std(axis=0)
            np.testing.assert_allclose(data.train.X.mean(axis=0), 0, atol=1e-12)
            np.testing.assert_allclose(data.train.X.std(axis=0), 1, atol=1e-12)
            np.testing.assert_allclose(data.test.X, (raw.test.X - mean) / std, rtol=1e-12)
        else:
            lo, hi = raw.train.X.min(axis=0), raw.train.X.max(axis=0)
            assert data.train.X.min() == 0 and data.train.X.max() == 1
            np.testing.assert_allclose(data.test.X, (raw.test.X - lo) / (hi - lo), rtol=1e-12)
    assert ds.load_csv(path).scaling.kind == "standard"  # the default for such data
    unit = _csv(tmp_path / "u.csv", rng.uniform(size=(50, 2)), rng.integers(0, 2, 50))
    assert ds.load_csv(unit).scaling.kind == "none"  # already in [0, 1]


def test_a_constant_feature_is_shifted_not_divided():
    X = np.column_stack([np.full(10, 7.0), np.arange(10.0)])
    s = fit(X.copy(), "standard")
    out = s.apply(X.copy())
    assert np.all(out[:, 0] == 0) and np.isclose(out[:, 1].std(), 1)


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"kind": "zscore", "shift": 0, "scale": 1}, "kind"),
        ({"kind": "standard", "shift": [0, 0], "scale": [1, 1, 1]}, "shift must be"),
        ({"kind": "standard", "shift": [0, 0, 0], "scale": [1, 0, 1]}, "> 0"),
        ({"kind": "standard", "shift": [0, "a", 0], "scale": [1, 1, 1]}, "shift must be"),
        ({"kind": "pixels", "shift": 0, "scale": 255, "range": [3]}, "range"),
        ([1, 2], "kind"),
    ],
)
def test_a_damaged_scaling_is_refused(bad, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        Scaling.from_dict(bad, 3)
    net = bprop.Network([3, 2], seed=0)
    serialize.save_model(tmp_path / "m.npz", net, scaling=bad)
    with pytest.raises(serialize.ModelFormatError, match="scaling is damaged"):
        serialize.load_model(tmp_path / "m.npz")


def test_predict_feeds_the_model_its_scaled_inputs(tmp_path, capsys):
    from PIL import Image

    mnist = ds.load_mnist(validation_size=0)
    digit = mnist.test.X[0].reshape(28, 28)
    Image.fromarray(np.rint(255 - digit * 255).astype(np.uint8)).save(tmp_path / "d.png")
    net = bprop.Network([784, 10, 10], seed=0)
    scaling = fit(np.rint(mnist.train.X[:500] * 255), "standard")
    serialize.save_model(tmp_path / "m.npz", net, scaling=scaling.to_dict())
    code, out, _ = _run(capsys, "predict", str(tmp_path / "m.npz"), str(tmp_path / "d.png"))
    assert code == 0
    from bprop import images

    x = images.preprocess(tmp_path / "d.png", "mnist") * 255.0
    a = net.feedforward(scaling.apply(x[None, :]))[0]
    assert out.split(":")[1].split()[0] == str(int(np.argmax(a)))
    plain = net.feedforward(images.preprocess(tmp_path / "d.png", "mnist")[None, :])[0]
    assert not np.allclose(a, plain)  # the scaling did change what the network saw


def test_the_sklearn_estimators_say_they_expect_scaled_inputs():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from bprop.sklearn import BPClassifier

    X, y = sklearn_datasets.load_wine(return_X_y=True)
    with pytest.warns(UserWarning, match=r"BPClassifier expects scaled inputs.*StandardScaler"):
        BPClassifier(max_iter=2, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter=2: expected, not the point
        make_pipeline(StandardScaler(), BPClassifier(max_iter=2, random_state=0)).fit(X, y)


def test_scale_is_for_your_own_data_only(capsys):
    code, _, err = _run(capsys, "train", "--scale", "standard", "--limit", "100")
    assert code == 2 and "--scale applies to your own data" in err
    code, _, err = _run(capsys, "train", "--header", "yes", "--limit", "100")
    assert code == 2 and "--header applies to CSV files" in err


def test_a_divergence_on_unscaled_inputs_says_so():
    from bprop.sklearn import BPRegressor

    X, y = sklearn_datasets.load_wine(return_X_y=True)
    with pytest.warns(UserWarning), pytest.raises(bprop.DivergenceError, match="not scaled"):
        BPRegressor(max_iter=30, eta=10.0, random_state=0).fit(X, y * 1000.0)
