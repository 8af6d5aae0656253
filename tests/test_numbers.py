"""Numbers at the boundary: sizes too large to allocate, float flags that are not finite, NumPy
scalars in the API, labels that do not match X, and divergence the cost alone does not show.

Each test here reproduces an item of the hardening issue (#14: items 8, 16, 17, 20 and the
``--seed -1`` message) and failed before the fix.
"""

from __future__ import annotations

import json
import tracemalloc
import warnings

import numpy as np
import pytest

import bprop
from bprop import _memory, datasets
from bprop.cli import main
from bprop.errors import ChanceWarning, DivergenceError
from bprop.network import MAX_PARAMETERS
from tests.conftest import needs_kernel


@pytest.fixture(autouse=True)
def _in_a_scratch_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def _cli(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as e:  # argparse's usage errors
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


# -- item 8: a network too large to allocate is refused before anything is allocated ----------


@pytest.mark.parametrize("hidden", [10**8, 10**9])
def test_a_network_too_large_is_refused_before_allocating(hidden):
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"parameters") as e:
            bprop.Network([784, hidden, 10])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20, f"{peak} bytes allocated before refusing"
    message = str(e.value)
    assert f"{784 * hidden + hidden + 10 * hidden + 10:,}" in message  # the count it needs
    assert "GB" in message


def test_the_parameter_cap_holds_whatever_memory_says(monkeypatch):
    monkeypatch.setattr(_memory, "available_bytes", lambda: 2**62)
    with pytest.raises(ValueError, match="at most"):
        bprop.Network([1, MAX_PARAMETERS, 1])


def test_a_network_larger_than_free_memory_is_refused(monkeypatch):
    monkeypatch.setattr(_memory, "available_bytes", lambda: 100 * 2**20)
    with pytest.raises(ValueError, match=r"only 0\.10 GB .*free") as e:
        bprop.Network([784, 20000, 10])  # 15.9 million parameters: 127 MB in float64
    assert "0.13 GB" in str(e.value)
    # float32: 25 MB of parameters, plus the float64 draw of the largest layer (50 MB), fits
    bprop.Network([784, 8000, 10], dtype=np.float32, seed=0)
    with pytest.raises(ValueError, match="free"):
        bprop.Network([784, 20000, 10], dtype=np.float32)  # 64 MB + a 125 MB draw


def test_unknown_free_memory_checks_the_cap_only(monkeypatch):
    monkeypatch.setattr(_memory, "available_bytes", lambda: None)
    assert bprop.Network([3, 4, 2], seed=0).sizes == (3, 4, 2)


def test_free_memory_is_read_from_this_machine():
    free = _memory.available_bytes()
    assert free is None or 2**20 < free < 2**60


def test_train_refuses_a_huge_network_with_one_line(capsys):
    code, _, err = _cli(
        capsys, "train", "--sizes", "784,100000000,10", "--limit", "100", "--no-progress"
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "parameters" in err and "GB" in err


def test_explain_steps_checks_the_size_limit_too(capsys):
    code, _, err = _cli(capsys, "explain", "--sizes", "2,1000000000,2", "--steps", "1")
    assert code == 2 and "too large to explain" in err and "--steps" in err
    code, out, err = _cli(capsys, "explain", "--sizes", "2,40,2", "--steps", "2")
    assert code == 0, err  # --steps still explains networks beyond the step-by-step limit
    assert out.strip()


# -- item 16: float flags must be finite numbers; the API takes NumPy scalars --------------------

BAD_FLOATS = ["inf", "1e400", "nan", "-inf", "NaN"]


@pytest.mark.parametrize(
    ("command", "flag", "template"),
    [
        (["train"], "--eta", "{}"),
        (["train"], "--lmbda", "{}"),
        (["train"], "--momentum", "{}"),
        (["explain"], "--eta", "{}"),
        (["explain", "--sizes", "2,2,2"], "--inputs", "0.1,{}"),
        (["explain"], "--targets", "0.1,{}"),
        (["sweep"], "--eta", "0.1,{}"),
        (["sweep"], "--lmbda", "{}"),
        (["sweep"], "--momentum", "{}"),
        (["sweep"], "--validation-fraction", "{}"),
    ],
)
@pytest.mark.parametrize("value", BAD_FLOATS)
def test_float_flags_reject_what_is_not_a_finite_number(command, flag, template, value, capsys):
    code, _, err = _cli(capsys, *command, f"{flag}={template.format(value)}")
    assert code == 2 and f"argument {flag}" in err and "finite" in err, err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("command", [["train"], ["explain"], ["sweep"]])
def test_a_negative_seed_names_the_flag(command, capsys):
    code, _, err = _cli(capsys, *command, "--seed", "-1")
    assert code == 2 and "argument --seed" in err and "≥ 0" in err


def test_a_negative_seed_in_the_library_says_what_is_wrong():
    with pytest.raises(ValueError, match="seed must be a whole number ≥ 0"):
        bprop.Network([3, 2], seed=-1)
    net = bprop.Network([3, 2], seed=0)
    with pytest.raises(ValueError, match="seed must be a whole number ≥ 0"):
        net.SGD(np.zeros((4, 3)), np.array([0, 1, 0, 1]), 1, 2, 1.0, seed=-3)


def test_the_api_takes_numpy_scalars_everywhere():
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = (X[:, 0] > 0).astype(np.int64)
    net = bprop.Network([np.int64(3), np.int32(4), np.int64(2)], seed=np.int64(0))
    history = net.SGD(
        X,
        y,
        np.int64(2),
        np.int64(5),
        np.float32(0.1),
        lmbda=np.float32(0.5),
        momentum=np.float64(0.5),
        seed=np.int64(1),
    )
    assert len(history.epochs) == 2 and net.sizes == (3, 4, 2)
    history = bprop.Network([3, 4, 2], seed=0).SGD(X, y, 1, 5, np.int64(1), seed=0)
    assert history.status == "completed"
    config = json.loads(json.dumps(history.config))  # plain Python numbers, ready for JSON
    assert config["eta"] == 1.0 and config["epochs"] == 1 and config["mini_batch_size"] == 5
    assert type(history.config["lmbda"]) is float and type(history.config["epochs"]) is int


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"eta": np.float32("inf")}, "eta"),
        ({"eta": True}, "eta"),
        ({"epochs": True}, "epochs"),
        ({"epochs": np.float64(2.0)}, "epochs"),
        ({"lmbda": np.float64("nan")}, "lmbda"),
        ({"momentum": np.float32("nan")}, "momentum"),
    ],
)
def test_the_api_still_refuses_bad_numbers_of_any_type(kw, match):
    args = {"epochs": 1, "mini_batch_size": 2, "eta": 1.0} | kw
    net = bprop.Network([3, 2], seed=0)
    with pytest.raises(ValueError, match=match):
        net.SGD(np.zeros((4, 3)), np.array([0, 1, 0, 1]), **args)


# -- item 20: labels that do not match X; sizes that are not whole numbers ----------------------


@pytest.mark.parametrize("n_labels", [5, 7])
@pytest.mark.parametrize(
    "compiled", [False, pytest.param(True, marks=needs_kernel)], ids=["numpy", "compiled"]
)
def test_labels_of_another_length_than_x_are_refused(n_labels, compiled):
    X = np.zeros((6, 3))
    y = np.arange(n_labels) % 2
    net = bprop.Network([3, 4, 2], seed=0)
    with pytest.raises(ValueError, match=rf"{n_labels} labels for the 6 rows of X"):
        net.SGD(X, y, 1, 2, 1.0, compiled=compiled)
    with pytest.raises(ValueError, match=rf"{n_labels} labels for the 6 rows of X"):
        net.backprop(X, y)
    with pytest.raises(ValueError, match=rf"{n_labels} labels for the 6 rows of X"):
        net.total_cost(X, y)
    with pytest.raises(ValueError, match=r"labels for the 6 rows of X"):
        net.SGD(X, np.arange(6) % 2, 1, 2, 1.0, test_data=(X, y), compiled=compiled)


@pytest.mark.parametrize("sizes", [[float("inf"), 2], [3, float("nan")], [3, 2.5], ["a", 2]])
def test_sizes_that_are_not_whole_numbers_are_a_value_error(sizes):
    with pytest.raises(ValueError, match="sizes must list"):
        bprop.Network(sizes)


# -- item 17: divergence the cost does not show, and training no better than chance -------------


def _digits(n=2000):
    data = datasets.load_mnist(validation_size=0)
    return data.train.X[:n], data.train.y[:n], data.test.X[:2000], data.test.y[:2000]


@pytest.mark.parametrize(
    "compiled", [False, pytest.param(True, marks=needs_kernel)], ids=["numpy", "compiled"]
)
def test_weights_that_overflow_stop_training(compiled):
    X, y, tX, ty = _digits()
    net = bprop.Network([784, 30, 10], seed=0)
    start = [w.copy() for w in net.weights]
    with pytest.raises(DivergenceError, match=r"weights grew") as e:
        net.SGD(X, y, 3, 10, 1e300, test_data=(tX, ty), compiled=compiled, seed=0, verbose=False)
    message = str(e.value)
    assert "η = 1e+300 is too large" in message and "epoch 0" in message
    assert e.value.history.status == "diverged"
    for w, w0 in zip(net.weights, start):  # the weights of the last good epoch are kept
        np.testing.assert_array_equal(w, w0)


@pytest.mark.parametrize(
    "compiled", [False, pytest.param(True, marks=needs_kernel)], ids=["numpy", "compiled"]
)
def test_a_huge_lambda_is_blamed_not_eta(compiled):
    X, y, _, _ = _digits(500)
    net = bprop.Network([784, 30, 10], seed=0)
    with pytest.raises(DivergenceError) as e:
        net.SGD(X, y, 2, 10, 3.0, lmbda=1e300, compiled=compiled, seed=0, verbose=False)
    message = str(e.value)
    assert "λ = 1e+300 is too large" in message
    assert "η = 3 is too large" not in message and "try η" not in message


def test_training_no_better_than_chance_warns():
    X, y, tX, ty = _digits(1000)
    net = bprop.Network([784, 30, 10], seed=0)
    with pytest.warns(ChanceWarning, match=r"no better than chance after epoch 1") as caught:
        net.SGD(X, y, 2, 10, 1e6, test_data=(tX, ty), seed=0, verbose=False)
    assert len(caught) == 1 and "η = 1e+06" in str(caught[0].message)
    net = bprop.Network([784, 30, 10], seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChanceWarning)
        history = net.SGD(X, y, 3, 10, 3.0, test_data=(tX, ty), seed=0, verbose=False)
    assert history.epochs[-1].test_accuracy > 0.3  # a run that learns does not warn


def test_the_cli_stops_with_exit_3_on_weights_that_overflow(tmp_path, capsys):
    argv = ["train", "--eta", "1e300", "--epochs", "3", "--limit", "5000", "--seed", "0"]
    code, _, err = _cli(capsys, *argv, "--no-progress", "--out", str(tmp_path / "run"))
    assert code == 3
    assert "weights grew" in err and "η = 1e+300 is too large" in err
    history = json.loads((tmp_path / "run/history.json").read_text())
    assert history["status"] == "diverged"


def test_the_cli_blames_lambda(tmp_path, capsys):
    argv = ["train", "--lmbda", "1e300", "--epochs", "1", "--limit", "1000", "--seed", "0"]
    code, _, err = _cli(capsys, *argv, "--no-progress", "--out", str(tmp_path / "run"))
    assert code == 3 and "λ = 1e+300 is too large" in err and "try η" not in err


def test_the_cli_warns_when_training_ends_at_chance(tmp_path, capsys):
    argv = ["train", "--eta", "1e6", "--epochs", "2", "--limit", "1000", "--seed", "0"]
    code, _, err = _cli(capsys, *argv, "--no-progress", "--out", str(tmp_path / "run"))
    assert code == 0
    assert "no better than chance after epoch 1" in err
