"""The lab's JavaScript math under node, held to bprop's numbers (an oracle pair).

``bprop/web/lab_net.js`` is a second implementation of :mod:`bprop.backprop`,
:mod:`bprop.network` and :mod:`bprop.train`, and ``bprop/web/lab_images.js`` of
:mod:`bprop.images`' clean-image pipeline.  These tests export parameters and data from
Python, run the JavaScript through ``tests/js/oracle.js`` under node (one process per test),
and compare.  The same modules run in the page; ``tests/test_lab.py`` checks them there.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import bprop
from bprop import explain, images
from bprop.backprop import backprop
from bprop.train import epoch_order, sgd
from tests.conftest import COSTS, HIDDEN, OUTPUT, valid_combinations

ORACLE = Path(__file__).parent / "js" / "oracle.js"
NODE = shutil.which("node") or shutil.which("nodejs")
pytestmark = pytest.mark.skipif(NODE is None, reason="no node: apt-get install nodejs")


def run_js(jobs: list[dict]) -> list:
    """Run the jobs through tests/js/oracle.js; their results, in order."""
    done = subprocess.run(
        [NODE, str(ORACLE)], input=json.dumps(jobs), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def problem(hidden: str, out: str, cost: str, seed: int, n: int = 40):
    """A 3-5-4-3 network, n examples whose targets suit the cost."""
    rng = np.random.default_rng(seed)
    sizes = [3, 5, 4, 3]
    net = bprop.Network(sizes, hidden, cost, output_activation=out, init="scaled", seed=seed)
    X = rng.normal(size=(n, sizes[0]))
    if cost == "quadratic":
        Y = 0.5 * rng.normal(size=(n, sizes[-1]))
    elif out == "softmax" or cost == "log-likelihood":
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
    else:
        Y = rng.uniform(0.05, 0.95, size=(n, sizes[-1]))
    return net, X, Y


def exported(net: bprop.Network) -> dict:
    return {
        "sizes": list(net.sizes),
        "activations": [a.name for a in net.activations],
        "cost": net.cost.name,
        "weights": [w.tolist() for w in net.weights],
        "biases": [b.tolist() for b in net.biases],
    }


def relative_error(got: list, want: list[np.ndarray]) -> float:
    """The largest difference over the largest magnitude, layer by layer."""
    return max(
        float(np.max(np.abs(np.asarray(g) - w)) / max(np.max(np.abs(w)), 1e-300))
        for g, w in zip(got, want)
    )


# 10 epochs of 10 mini-batches (n = 40, m = 4): 100 steps.
EPOCHS, M, SEED = 10, 4, 7
SETTINGS = [
    pytest.param({"eta": 0.1, "lmbda": 0.5, "momentum": 0.5}, id="lambda-and-momentum"),
    pytest.param({"eta": 0.2, "lmbda": 0.3, "momentum": 0.0}, id="lambda-weight-decay"),
]


# Every pairing is compared, log-likelihood with sigmoid outputs too (bprop warns about it).
@pytest.mark.filterwarnings("ignore::bprop.errors.PairingWarning")
@pytest.mark.parametrize("settings", SETTINGS)
def test_100_steps_give_bprops_weights_for_every_activation_and_cost(settings):
    jobs, nets, start = [], [], []
    for idx, (hidden, out, cost) in enumerate(valid_combinations()):
        net, X, Y = problem(hidden, out, cost, idx)
        batches = []
        for epoch in range(EPOCHS):
            order = epoch_order(SEED, epoch, len(X), True)
            batches += [order[k * M : (k + 1) * M].tolist() for k in range(len(X) // M)]
        job = exported(net) | {"job": "train", "X": X.tolist(), "Y": Y.tolist()}
        jobs.append(job | {"batches": batches, "options": settings | {"n": len(X)}})
        trained = {}
        for engine, fast in (("textbook", False), ("default", True)):
            copy, _, _ = problem(hidden, out, cost, idx)
            sgd(
                copy,
                X,
                Y,
                EPOCHS,
                M,
                settings["eta"],
                lmbda=settings["lmbda"],
                momentum=settings["momentum"],
                seed=SEED,
                fast=fast,
            )
            trained[engine] = copy
        nets.append(trained)
        start.append(net.weights)
    assert len(jobs[0]["batches"]) == 100
    results = zip(valid_combinations(), run_js(jobs), nets, start)
    for (hidden, out, cost), got, trained, w0 in results:
        for engine, net in trained.items():
            error = relative_error(got["weights"] + got["biases"], net.weights + net.biases)
            assert error <= 1e-12, (hidden, out, cost, engine, error)
        # Training moved the weights well away from where they started.
        assert relative_error(got["weights"], w0) > 1e-3, (hidden, out, cost)


def test_backprop_gives_bprops_gradients_and_deltas():
    jobs, refs = [], []
    for idx, (hidden, out, cost) in enumerate(valid_combinations()):
        net, X, Y = problem(hidden, out, cost, 100 + idx, n=6)
        jobs.append(exported(net) | {"job": "backprop", "X": X.tolist(), "Y": Y.tolist()})
        refs.append(backprop(net.weights, net.biases, net.activations, net.cost, X, Y))
    for got, (nabla_b, nabla_w, output) in zip(run_js(jobs), refs):
        assert relative_error(got["nabla_w"], nabla_w) <= 1e-13
        assert relative_error(got["nabla_b"], nabla_b) <= 1e-13
        assert relative_error([got["output"]], [output]) <= 1e-14


def test_the_page_refuses_the_pairs_bprop_refuses_with_its_words():
    jobs, want = [], []
    for hidden in [*HIDDEN, "softmax"]:
        for out in OUTPUT:
            for cost in COSTS:
                jobs.append(
                    {
                        "job": "pairing",
                        "sizes": [2, 3, 2],
                        "activations": [hidden, out],
                        "cost": cost,
                    }
                )
                try:
                    bprop.Network([2, 3, 2], [hidden, out], cost)
                    want.append(None)
                except ValueError as e:
                    want.append(str(e))
    got = run_js(jobs)
    assert got == want
    assert sum(w is not None for w in want) > 20


def test_numbers_are_written_as_bprop_explain_writes_them():
    rng = np.random.default_rng(3)
    values = list(rng.normal(size=300) * 10.0 ** rng.integers(-12, 6, 300))
    # Exact halves at the 10th decimal (odd multiples of 2^-10) round to even, as Python's do.
    values += [k / 1024 for k in range(-41, 42, 2)] + [123456 + 7 / 1024, 2.5, -0.0, 0.0]
    values += [1e-10, -1e-10, 5e-10, -5e-10, 0.3775, 0.75136507, 1e15, 123456789.123456789]
    values += [float(v) for v in rng.uniform(-1, 1, 200)]
    assert run_js([{"job": "number", "values": values}])[0] == [explain.number(v) for v in values]


def test_the_pages_initial_weights_follow_bprops_schemes():
    inits = ["standard", "scaled", "glorot", "he"]
    jobs = [
        {"job": "init", "sizes": [200, 150, 2], "init": i, "seed": s}
        for i in inits
        for s in (1, 1, 2)
    ]
    got = run_js(jobs)
    n_in, n_out = 200, 150
    want_sd = {
        "standard": 1.0,
        "scaled": n_in**-0.5,
        "glorot": (6 / (n_in + n_out)) ** 0.5 / 3**0.5,  # U(±r) has sd r/√3
        "he": (2 / n_in) ** 0.5,
    }
    for n, init in enumerate(inits):
        first, again, other = got[3 * n : 3 * n + 3]
        assert first == again and first != other  # the page's seed decides its weights
        w, b = np.array(first["weights"][0]), np.array(first["biases"][0])
        assert w.shape == (n_out, n_in)
        assert abs(w.std() / want_sd[init] - 1) < 0.02, init
        assert abs(w.mean()) < 0.05 * want_sd[init], init
        if init == "glorot":
            assert np.abs(w).max() <= (6 / (n_in + n_out)) ** 0.5
        if init in ("glorot", "he"):
            assert not b.any()
        else:
            assert abs(b.std() - 1) < 0.25 and abs(b.mean()) < 0.3


def strokes(h: int, w: int, light: bool, seed: int) -> np.ndarray:
    """A greyscale image with a few soft round blots, dark on light or light on dark."""
    rng = np.random.default_rng(seed)
    g = np.ones((h, w)) if light else np.zeros((h, w))
    yy, xx = np.mgrid[:h, :w]
    for _ in range(5):
        cy, cx, r = rng.uniform(0.2 * h, 0.8 * h), rng.uniform(0.2 * w, 0.8 * w), rng.uniform(3, 12)
        ink = np.clip(1 - np.hypot(yy - cy, xx - cx) / r, 0, 1)
        g = np.minimum(g, 1 - ink) if light else np.maximum(g, ink)
    return g


@pytest.mark.parametrize("style", ["mnist", "fashion-mnist"])
def test_the_pad_prepares_an_image_as_bprop_images_does(style):
    shapes = [(280, 280), (50, 120), (200, 40), (28, 28), (300, 310), (7, 9)]
    grays = [strokes(*shapes[i % len(shapes)], i % 2 == 0, i) for i in range(24)]
    grays.append(np.full((40, 40), 0.97))  # blank
    jobs = [
        {
            "job": "prepare",
            "h": g.shape[0],
            "w": g.shape[1],
            "gray": g.ravel().tolist(),
            "style": style,
        }
        for g in grays
    ]
    got = run_js(jobs)
    prepare = images.to_mnist if style == "mnist" else images.to_fashion_mnist
    for g, x in zip(grays[:-1], got[:-1]):
        np.testing.assert_allclose(x, prepare(g), rtol=0, atol=1e-12)
    assert got[-1] is None
    with pytest.raises(images.BlankImageError):
        prepare(grays[-1])


def test_canvas_pixels_become_the_grey_bprop_reads_from_a_png(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(5)
    rgba = rng.integers(0, 256, size=(16, 24, 4), dtype=np.uint8)
    rgba[:4, :, 3] = 255  # some opaque rows, the rest translucent
    path = tmp_path / "canvas.png"
    Image.fromarray(rgba, "RGBA").save(path)
    job = {"job": "gray", "rgba": rgba.ravel().tolist(), "w": 24, "h": 16}
    got = np.array(run_js([job])[0]).reshape(16, 24)
    np.testing.assert_allclose(got, images.load_image(path), rtol=0, atol=1e-15)
