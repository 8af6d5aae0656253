"""Bad input, hostile files, full disks and killed processes: clear errors, nothing lost.

Property-based tests (hypothesis) draw random architectures for the gradient check and random
or mutated bytes for every loader; the loaders may only raise their documented errors, within
a memory budget (no allocation driven by a file's claims).
"""

from __future__ import annotations

import errno
import gzip
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import bprop
from bprop import datasets, images, serialize
from bprop.cli import main
from tests.conftest import COSTS, HIDDEN, OUTPUT, random_problem

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _in_a_scratch_folder(tmp_path, monkeypatch):
    """Runs that fail early would otherwise leave runs/<timestamp>/ folders in the checkout."""
    monkeypatch.chdir(tmp_path)


FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
MEMORY_BUDGET = 32 * 2**20  # bytes a loader may allocate for an input of a few kilobytes


# -- gradients of random networks ---------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 5), min_size=2, max_size=5),
    hidden=st.sampled_from(HIDDEN),
    out=st.sampled_from(OUTPUT),
    cost=st.sampled_from(COSTS),
    m=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_random_networks_pass_the_gradient_check(sizes, hidden, out, cost, m, seed):
    if cost != "quadratic" and out not in ("sigmoid", "softmax"):
        out = "sigmoid"
    if out == "softmax" and sizes[-1] == 1:
        sizes = [*sizes[:-1], 2]
    net, X, Y = random_problem(hidden, out, cost, seed, sizes=sizes, m=m)
    zs, _ = bprop.network.feedforward_trace(net.weights, net.biases, net.activations, X)
    kinked = [z for z, a in zip(zs, net.activations) if a.name in ("relu", "leaky_relu")]
    # A finite difference straddling a ReLU's kink measures no derivative: not a backprop bug.
    assume(all(np.abs(z).min() > 1e-3 for z in kinked))
    assert bprop.gradcheck(net, X, Y) < 1e-7


# -- every loader against random and mutated bytes ----------------------------------------------


def _tiny_idx() -> bytes:
    payload = np.arange(2 * 3 * 3, dtype=np.uint8).tobytes()
    return gzip.compress(b"\0\0\x08\x03" + b"\0\0\0\x02\0\0\0\x03\0\0\0\x03" + payload)


def _tiny_model() -> bytes:
    buf = io.BytesIO()
    net = bprop.Network([3, 2], seed=0)
    meta = np.frombuffer(json.dumps(serialize.model_metadata(net)).encode(), np.uint8)
    np.savez(buf, meta=meta, w0=net.weights[0], b0=net.biases[0])
    return buf.getvalue()


def _tiny_npz() -> bytes:
    buf = io.BytesIO()
    np.savez(buf, X=np.arange(12.0).reshape(6, 2), y=np.array([0, 1, 0, 1, 0, 1]))
    return buf.getvalue()


def _tiny_png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.eye(8, dtype=np.uint8) * 255).save(buf, "PNG")
    return buf.getvalue()


LOADERS = {
    # name: (valid bytes, file name, loader, the errors it documents)
    "idx": (_tiny_idx(), "x-idx3-ubyte.gz", datasets.read_idx, (datasets.DataFormatError,)),
    "model": (_tiny_model(), "m.npz", serialize.load_model, (serialize.ModelFormatError,)),
    "npz": (_tiny_npz(), "d.npz", datasets.load_npz, (datasets.DataFormatError,)),
    "csv": (
        b"a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n9,1,x\n",
        "d.csv",
        datasets.load_csv,
        (datasets.DataFormatError,),
    ),
    "image": (_tiny_png(), "i.png", images.preprocess, (ValueError,)),
}


def _mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    b = bytearray(data)
    for pos, value in edits:
        b[pos % len(b)] = value
    return bytes(b[:cut] if cut is not None else b)


def _load_within_budget(loader, path, errors, monkeypatch):
    # A PNG may honestly declare far more pixels than its bytes (a blank page compresses to
    # nothing), so images are bounded by bprop.images.MAX_PIXELS instead; lowered here so the
    # same memory budget tests that the bound is enforced before decoding.
    monkeypatch.setattr(images, "MAX_PIXELS", 2**20)
    tracemalloc.start()
    try:
        loader(path)
    except errors:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    # An image's decoding works on a few float64 copies of its colour and alpha channels: about
    # 80 bytes per pixel, bounded by the (lowered) pixel cap, never by what the file claims.
    budget = 128 * images.MAX_PIXELS if loader is images.preprocess else MEMORY_BUDGET
    assert peak < budget, f"{peak} bytes allocated for a {path.stat().st_size}-byte file"


@pytest.mark.parametrize("name", sorted(LOADERS))
@FUZZ
@given(data=st.binary(max_size=2048))
def test_random_bytes_give_only_documented_errors(name, data, tmp_path, monkeypatch):
    _, filename, loader, errors = LOADERS[name]
    path = tmp_path / filename
    path.write_bytes(data)
    _load_within_budget(loader, path, errors, monkeypatch)


@pytest.mark.parametrize("name", sorted(LOADERS))
@FUZZ
@given(
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=6),
    cut=st.one_of(st.none(), st.integers(0, 4096)),
)
def test_mutated_valid_files_give_only_documented_errors(name, edits, cut, tmp_path, monkeypatch):
    valid, filename, loader, errors = LOADERS[name]
    path = tmp_path / filename
    path.write_bytes(_mutate(valid, edits, cut))
    _load_within_budget(loader, path, errors, monkeypatch)


def test_the_valid_seeds_of_the_fuzzers_do_load(tmp_path):
    for name, (valid, filename, loader, _) in LOADERS.items():
        path = tmp_path / filename
        path.write_bytes(valid)
        assert loader(path) is not None, name


# -- bad input at the Python boundary: one table, each with its message -------------------------

NET = bprop.Network([3, 4, 2], seed=0)
GOOD_X, GOOD_Y = np.zeros((6, 3)), np.array([0, 1, 0, 1, 0, 1])

BAD_PYTHON_INPUT = [
    (
        "X of the wrong width",
        lambda: NET.feedforward(np.zeros((2, 5))),
        ValueError,
        r"shape \(m, 3\)",
    ),
    (
        "X with three dimensions",
        lambda: NET.feedforward(np.zeros((2, 3, 1))),
        ValueError,
        r"shape \(m, 3\)",
    ),
    (
        "X of strings",
        lambda: NET.feedforward(np.array([["a", "b", "c"]])),
        TypeError,
        "must hold numbers",
    ),
    ("NaN in X", lambda: NET.feedforward(np.array([[0, np.nan, 1]])), ValueError, "NaN"),
    ("inf in Y", lambda: NET.backprop(GOOD_X, np.full((6, 2), np.inf)), ValueError, "NaN or inf"),
    (
        "text labels",
        lambda: NET.backprop(GOOD_X, np.array(list("ababab"))),
        TypeError,
        "encode text labels",
    ),
    (
        "fractional labels",
        lambda: NET.backprop(GOOD_X, GOOD_Y + 0.5),
        ValueError,
        "integer class labels",
    ),
    ("label out of range", lambda: NET.backprop(GOOD_X, GOOD_Y + 1), ValueError, "must lie in 0…1"),
    (
        "Y of the wrong length",
        lambda: NET.backprop(GOOD_X, np.zeros((5, 2))),
        ValueError,
        "targets of shape",
    ),
    (
        "empty training set",
        lambda: NET.SGD(np.zeros((0, 3)), GOOD_Y[:0], 1, 1, 1.0),
        ValueError,
        "no training examples",
    ),
    ("mini-batch of 0", lambda: NET.SGD(GOOD_X, GOOD_Y, 1, 0, 1.0), ValueError, "mini_batch_size"),
    (
        "mini-batch larger than the data",
        lambda: NET.SGD(GOOD_X, GOOD_Y, 1, 7, 1.0),
        ValueError,
        "mini_batch_size",
    ),
    ("η = 0", lambda: NET.SGD(GOOD_X, GOOD_Y, 1, 2, 0.0), ValueError, "eta"),
    ("negative λ", lambda: NET.SGD(GOOD_X, GOOD_Y, 1, 2, 1.0, lmbda=-1), ValueError, "lmbda"),
    (
        "momentum ≥ 1",
        lambda: NET.SGD(GOOD_X, GOOD_Y, 1, 2, 1.0, momentum=1),
        ValueError,
        "momentum",
    ),
    (
        "test data not a pair",
        lambda: NET.SGD(GOOD_X, GOOD_Y, 1, 2, 1.0, test_data=GOOD_X),
        TypeError,
        "pair",
    ),
    ("layer of 0 neurons", lambda: bprop.Network([3, 0, 2]), ValueError, "sizes must"),
    ("one layer only", lambda: bprop.Network([3]), ValueError, "sizes must"),
    (
        "misspelt activation",
        lambda: bprop.Network([3, 2], "tahn"),
        ValueError,
        "Did you mean 'tanh'",
    ),
    (
        "misspelt cost",
        lambda: bprop.Network([3, 2], cost="quadratc"),
        ValueError,
        "Did you mean 'quadratic'",
    ),
    (
        "cross-entropy on a ReLU output",
        lambda: bprop.Network([3, 2], "relu", "cross-entropy"),
        ValueError,
        "outputs in",
    ),
    (
        "softmax in a hidden layer",
        lambda: bprop.Network([3, 3, 2], ["softmax", "sigmoid"]),
        ValueError,
        "output layer",
    ),
    ("integer dtype", lambda: bprop.Network([3, 2], dtype="int8"), ValueError, "float64"),
    ("unknown data set", lambda: datasets.load("mnits"), ValueError, "Did you mean 'mnist'"),
    (
        "missing model file",
        lambda: serialize.load_model("nope.npz"),
        FileNotFoundError,
        "no model file",
    ),
    ("missing CSV", lambda: datasets.load_csv("nope.csv"), FileNotFoundError, "nope.csv"),
    ("missing image", lambda: images.preprocess("nope.png"), FileNotFoundError, "nope.png"),
    ("unknown image style", lambda: images.preprocess("x.png", "cifar"), ValueError, "mnist"),
]


@pytest.mark.parametrize(
    ("fn", "error", "message"),
    [case[1:] for case in BAD_PYTHON_INPUT],
    ids=[case[0] for case in BAD_PYTHON_INPUT],
)
def test_bad_python_input_raises_the_right_type_with_a_message(fn, error, message):
    with pytest.raises(error, match=message):
        fn()


def test_a_full_disk_keeps_the_old_model_and_says_so(tmp_path, monkeypatch, capsys):
    target = tmp_path / "model.npz"
    serialize.save_model(target, NET)
    before = target.read_bytes()

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError, match="not enough disk space") as e:
        serialize.save_model(target, bprop.Network([3, 4, 2], seed=1))
    assert e.value.errno == errno.ENOSPC
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]
    code = main(
        [
            "train",
            "--limit",
            "100",
            "--epochs",
            "1",
            "--no-progress",
            "--out",
            str(tmp_path / "run"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "not enough disk space" in err


def test_debug_shows_the_traceback(capsys):
    with pytest.raises(ValueError, match="Did you mean 'sigmoid'"):
        main(["train", "--activation", "sigmod", "--limit", "100", "--debug"])


def test_a_model_that_does_not_fit_the_data(tmp_path, capsys):
    serialize.save_model(
        tmp_path / "m.npz", bprop.Network([5, 3, 10], seed=0), dataset={"name": "mnist"}
    )
    code = main(["evaluate", str(tmp_path / "m.npz")])
    err = capsys.readouterr().err
    assert code == 2 and "takes 5 inputs but mnist has 784" in err


# -- killed at random points: resume to bit-identical weights -----------------------------------

TRAIN = [
    "--limit",
    "2000",
    "--epochs",
    "4",
    "--seed",
    "7",
    "--no-progress",
    "--momentum",
    "0.5",
    "--lmbda",
    "1",
]


def _start(out, *extra):
    argv = [sys.executable, "-m", "bprop.cli", "train", *TRAIN, "--out", str(out), *extra]
    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO
    )


def _weights(run):
    net, _ = serialize.load_model(run / "model.npz")
    return net.weights + net.biases


def test_killed_at_random_points_resumes_to_bit_identical_weights(tmp_path):
    reference = _start(tmp_path / "reference")
    assert reference.wait(timeout=120) == 0
    expected = _weights(tmp_path / "reference")
    rng = random.Random(2026)
    cases = [(signal.SIGINT, rng.uniform(0.6, 2.0)) for _ in range(3)]
    cases += [(signal.SIGTERM, rng.uniform(0.6, 2.0)) for _ in range(2)]
    cases += [(signal.SIGKILL, rng.uniform(1.0, 2.0)) for _ in range(2)]
    identical = 0
    for i, (sig, delay) in enumerate(cases):
        run = tmp_path / f"run{i}"
        proc = _start(run)
        time.sleep(delay)
        proc.send_signal(sig)
        proc.communicate(timeout=120)
        for _ in range(5):  # resume until done (a kill before the first checkpoint restarts)
            if (run / "model.npz").exists() and not (run / "checkpoint.npz").exists():
                break
            if (run / "checkpoint.npz").exists():
                argv = ["train", "--resume", str(run), "--no-progress"]
            else:
                argv = ["train", *TRAIN, "--out", str(run)]
            done = subprocess.run(
                [sys.executable, "-m", "bprop.cli", *argv],
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, done.stderr
        for p, q in zip(expected, _weights(run)):
            np.testing.assert_array_equal(p, q)
        identical += 1
    assert identical == len(cases)
