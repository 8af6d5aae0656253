"""`bprop lab`: the page's data, and the page itself in headless Chromium.

The page must open from ``file://`` with the network blocked and no console errors, in both
languages; every number its inspector and step mode print must equal `bprop.explain`'s
derivation of the same network, digit for digit; its training must give bprop's weights; its
digit pad must prepare a drawing as `bprop.images` prepares the same canvas saved as a PNG,
and classify it as `bprop predict` does.  One browser serves the whole module; screenshots of
every tab go to a temporary folder (or to ``$BPROP_LAB_SHOTS``) to be looked at.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import bprop
from bprop import datasets, explain, images, lab, serialize
from bprop.cli import main
from bprop.train import sgd
from tests.conftest import valid_combinations

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# -- the page's data, without a browser --------------------------------------------------------


def test_script_json_cannot_end_the_script_element():
    value = {"names": ["</script><script>alert(1)</script>", "<!--", "a & b", "x\u2028y", "中文"]}
    text = lab.script_json(value)
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == value
    assert "中文" in text  # readable, not escaped


def two_column_csv(path: Path, names=("a", "b"), n: int = 40, scale=(10.0, 0.5)) -> Path:
    rng = np.random.default_rng(0)
    rows = [
        f"{rng.normal() * scale[0] + 3},{rng.normal() * scale[1]},{names[i % len(names)]}"
        for i in range(n)
    ]
    path.write_text("x1,x2,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_playground_data_scales_each_feature_into_the_square(tmp_path):
    data = datasets.load_csv(two_column_csv(tmp_path / "points.csv"))
    view = lab.playground_data(data, "points.csv")
    X = np.array(view["X"])
    assert X.shape == (40, 2) and len(view["y"]) == 40
    assert np.allclose(X.min(axis=0), -1) and np.allclose(X.max(axis=0), 1)
    raw = np.concatenate([data.train.X, data.test.X])
    lo, hi = raw.min(axis=0), raw.max(axis=0)
    assert view["ranges"] == [[lo[0], hi[0]], [lo[1], hi[1]]]
    np.testing.assert_allclose(X, 2 * (raw - lo) / (hi - lo) - 1)
    assert view["class_names"] == ["a", "b"]


def test_playground_data_refuses_what_the_plane_cannot_show(tmp_path):
    three = tmp_path / "three.csv"
    three.write_text("1,2,3,a\n4,5,6,b\n7,8,9,a\n", encoding="utf-8")
    with pytest.raises(ValueError, match="2 feature columns"):
        lab.playground_data(datasets.load_csv(three), "three.csv")
    many = two_column_csv(tmp_path / "many.csv", names=[f"c{i}" for i in range(9)], n=90)
    with pytest.raises(ValueError, match="at most 8"):
        lab.playground_data(datasets.load_csv(many), "many.csv")


def test_model_data_carries_the_exact_parameters():
    net = bprop.Network(
        [784, 12, 10],
        "sigmoid",
        "log-likelihood",
        output_activation="softmax",
        init="scaled",
        seed=3,
    )
    view = lab.model_data(net, {"dataset": {"name": "fashion-mnist", "class_names": ["T"]}}, "r")
    for b64, w in zip(view["weights"], net.weights):
        got = np.frombuffer(base64.b64decode(b64), "<f8").reshape(w.shape)
        assert np.array_equal(got, w)
    assert view["class_names"][:2] == ["T", "1"] and len(view["class_names"]) == 10
    assert view["style"] == "fashion-mnist" and view["activations"] == ["sigmoid", "softmax"]
    with pytest.raises(ValueError, match="784 inputs"):
        lab.model_data(bprop.Network([4, 3, 2]), {}, "small")


def test_pad_images_are_the_test_sets_bytes():
    X = np.arange(5 * 784).reshape(5, 784) % 256 / 255.0
    y = np.array([1, 0, 1, 1, 0])
    view = lab.pad_images(X, y, per_class=2)
    assert view["labels"] == [0, 0, 1, 1]
    pixels = np.frombuffer(base64.b64decode(view["pixels"]), np.uint8).reshape(4, 784)
    assert np.array_equal(pixels / 255.0, X[[1, 4, 0, 2]])


def test_the_page_is_one_offline_file():
    page = lab.page(lang="zh")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in page
    assert "http://" not in page.replace('"http://www.w3.org/2000/svg"', "")
    assert "https://" not in page
    assert "default-src 'none'" in page  # the page itself forbids any request
    assert not any(f" {attr}=" in page for attr in ("src", "href"))
    assert page.count("<script") == len(lab.SCRIPTS) + 1
    with pytest.raises(ValueError, match="language"):
        lab.page(lang="fr")


# -- a model for the digit pad -----------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist():
    try:
        return datasets.load("mnist")
    except (OSError, ValueError) as e:
        pytest.skip(f"MNIST is not at hand: {e}")


@pytest.fixture(scope="module")
def model(mnist, tmp_path_factory) -> tuple[Path, bprop.Network]:
    """A 784-100-10 network trained for one epoch on 6,000 MNIST digits, saved as a run."""
    net = bprop.Network(
        [784, 100, 10],
        "sigmoid",
        "log-likelihood",
        output_activation="softmax",
        init="scaled",
        seed=1,
    )
    sgd(net, mnist.train.X[:6000], mnist.train.y[:6000], 1, 10, 0.5, seed=1)
    run = tmp_path_factory.mktemp("run")
    meta = {"name": "mnist", "digest": mnist.digest, "class_names": list(mnist.class_names)}
    serialize.save_model(run / "model.npz", net, dataset=meta)
    return run, net


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("BPROP_LAB_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return tmp_path_factory.mktemp("lab_shots")


@pytest.fixture(scope="module")
def pages(model, mnist, tmp_path_factory) -> dict[str, Path]:
    run, net = model
    _, meta = serialize.load_model(run / "model.npz")
    view = lab.model_data(net, meta, run.name)
    pictures = lab.pad_images(mnist.test.X, mnist.test.y)
    folder = tmp_path_factory.mktemp("pages")
    out = {"plain": folder / "lab-plain.html"}
    out["plain"].write_text(lab.page(), encoding="utf-8")
    for lang in lab.LANGS:
        out[lang] = folder / f"lab-{lang}.html"
        out[lang].write_text(lab.page(lang=lang, model=view, images=pictures), encoding="utf-8")
    return out


def test_the_page_with_a_784_100_10_model_stays_small(pages):
    size = pages["en"].stat().st_size
    assert size < 1_200_000, size  # the parameters are ~850 KB of base64


# -- the browser -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    pw = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no chromium: apt-get install chromium")
    with pw.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=ARGS)
        yield b
        b.close()


# The numbers shown in an element, by their data-key (a JavaScript function of a selector).
SHOWN = """(where => Object.fromEntries([...document.querySelectorAll(where + ' .v[data-key]')]
    .map(e => [e.dataset.key, e.textContent])))"""


class Tab:
    """A page opened from file:// with every other request blocked; its errors and requests."""

    def __init__(self, browser, path: Path, width: int = 1400, height: int = 950) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.requests: list[str] = []
        self.errors: list[str] = []

        def route(r):
            self.requests.append(r.request.url)
            if r.request.url.startswith("file:"):
                r.continue_()
            else:
                r.abort()

        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(path.as_uri())

    def js(self, expression: str, arg=None):
        return self.page.evaluate(expression, arg)

    def frame(self) -> None:
        """Let the page draw a frame (what a pointer event asked for)."""
        self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")

    def values(self, where: str = "#panel") -> dict[str, str]:
        """Every number shown in ``where``, by its data-key."""
        return self.js(f"() => {SHOWN}('{where}')")

    def inspect(self, items: list[dict]) -> list[dict[str, str]]:
        """Select each weight or neuron in turn; the numbers the panel showed for each."""
        return self.js(f"items => items.map(s => (bpropLab.select(s), {SHOWN}('#panel')))", items)

    def close(self) -> None:
        assert self.errors == [], self.errors
        assert all(u.startswith("file:") for u in self.requests), self.requests
        self.context.close()


@pytest.fixture(scope="module")
def tab(browser, pages):
    """One page without a model for the tests of the numbers (each loads its own network)."""
    t = Tab(browser, pages["plain"])
    yield t
    t.close()


@pytest.fixture(scope="module")
def pad_tab(browser, pages):
    """One page with the 784-100-10 model for the digit pad's tests."""
    t = Tab(browser, pages["en"])
    t.page.click("[data-tab=pad]")
    yield t
    t.close()


def click_edge(tab: Tab, edge: str) -> None:
    """Click a weight's line where no other line lies over it, as a user would."""
    point = tab.js(
        """id => {
            const line = document.querySelector(`#${id} .vis`), m = line.getScreenCTM();
            const [x1, y1, x2, y2] = ["x1", "y1", "x2", "y2"].map(a => +line.getAttribute(a));
            for (const f of [0.5, 0.4, 0.6, 0.3, 0.7, 0.45, 0.55, 0.35, 0.65, 0.25, 0.75]) {
                const u = x1 + f * (x2 - x1), w = y1 + f * (y2 - y1);
                const x = m.a * u + m.c * w + m.e, y = m.b * u + m.d * w + m.f;
                const hit = document.elementFromPoint(x, y);
                if (hit && hit.closest(".edge") && hit.closest(".edge").id === id) return [x, y];
            }
            return null;
        }""",
        edge,
    )
    assert point is not None, f"no point of {edge} can be clicked"
    tab.page.mouse.click(*point)


def not_blank(png: Path) -> None:
    from PIL import Image

    with Image.open(png) as im:
        colours = im.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is None or len(colours) > 50, f"{png} is blank"


WORDS = {"en": ("Playground", "Inspect", "Digit pad"), "zh": ("训练场", "逐项查看", "手写板")}


@pytest.mark.parametrize("lang", lab.LANGS)
def test_every_tab_opens_offline_without_errors(browser, pages, shots, lang):
    t = Tab(browser, pages[lang])
    page = t.page
    assert page.get_attribute("html", "lang") == ("zh-CN" if lang == "zh" else "en")
    tabs = page.eval_on_selector_all("#tabs button", "bs => bs.map(b => b.textContent)")
    assert tuple(tabs) == WORDS[lang]
    page.click("#play")
    page.wait_for_function("() => bpropLab.lab.updates >= 40")
    page.click("#play")
    page.screenshot(path=str(shots / f"playground-{lang}.png"))
    page.click("[data-tab=inspect]")
    click_edge(t, "edge-3-1-2")
    assert t.values()["w"]
    page.screenshot(path=str(shots / f"inspect-weight-{lang}.png"), full_page=True)
    page.click("#node-2-1")
    page.screenshot(path=str(shots / f"inspect-neuron-{lang}.png"), full_page=True)
    page.click("#step-start")
    for _ in range(5):
        page.click("#step-next")
    page.screenshot(path=str(shots / f"inspect-step-{lang}.png"), full_page=True)
    page.click("[data-tab=pad]")
    page.click("#examples canvas >> nth=6")
    page.screenshot(path=str(shots / f"pad-{lang}.png"), full_page=True)
    other = "zh" if lang == "en" else "en"
    page.click(f"#langs [data-lang={other}]")
    assert page.text_content("[data-tab=pad]") == WORDS[other][2]
    assert page.get_attribute("html", "lang") == ("zh-CN" if other == "zh" else "en")
    t.close()
    for png in shots.glob(f"*-{lang}.png"):
        not_blank(png)


def test_the_page_fits_a_phone(browser, pages, shots):
    t = Tab(browser, pages["zh"], width=390, height=844)
    t.page.screenshot(path=str(shots / "phone-playground.png"), full_page=True)
    t.page.click("[data-tab=pad]")
    t.page.screenshot(path=str(shots / "phone-pad.png"), full_page=True)
    overflow = t.js("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a phone"
    t.close()


# -- the numbers: training, inspect and step mode ----------------------------------------------


# Every pairing is compared, log-likelihood with sigmoid outputs too (bprop warns about it).
@pytest.mark.filterwarnings("ignore::bprop.errors.PairingWarning")
def test_training_in_the_browser_gives_bprops_weights(tab):
    """All valid activation × cost pairs, 100 mini-batch steps with λ and momentum."""
    jobs, nets = [], []
    for idx, (hidden, out, cost) in enumerate(valid_combinations()):
        rng = np.random.default_rng(idx)
        net = bprop.Network([2, 4, 3], hidden, cost, output_activation=out, init="scaled", seed=idx)
        X = rng.normal(size=(20, 2))
        Y = np.eye(3)[rng.integers(0, 3, 20)] if cost != "quadratic" else rng.normal(size=(20, 3))
        start = [w.tolist() for w in net.weights], [b.tolist() for b in net.biases]
        sgd(net, X, Y, 25, 5, 0.1, lmbda=0.4, momentum=0.6, seed=9, fast=False)
        orders = [bprop.train.epoch_order(9, e, 20, True) for e in range(25)]
        batches = [o[k * 5 : (k + 1) * 5].tolist() for o in orders for k in range(4)]
        jobs.append(
            {
                "sizes": [2, 4, 3],
                "acts": [hidden, out],
                "cost": cost,
                "w": start[0],
                "b": start[1],
                "X": X.tolist(),
                "Y": Y.tolist(),
                "batches": batches,
            }
        )
        nets.append(net)
    got = tab.js(
        """jobs => jobs.map(j => {
            const N = bpropNet, opts = {eta: 0.1, lmbda: 0.4, momentum: 0.6, n: 20};
            const net = new N.Network(j.sizes, j.acts, j.cost, {weights: j.w, biases: j.b});
            const x = N.fromRows(j.X), y = N.fromRows(j.Y), s = new N.TrainState(0);
            for (const rows of j.batches) N.step(net, x, y, rows, opts, s);
            return net.weights.map(N.toRows).concat(net.biases.map(b => [Array.from(b)]));
        })""",
        jobs,
    )
    assert len(jobs[0]["batches"]) == 100
    for combo, params, net in zip(valid_combinations(), got, nets):
        want = net.weights + [b[None, :] for b in net.biases]
        for g, w in zip(params, want):
            error = np.max(np.abs(np.array(g) - w)) / max(np.max(np.abs(w)), 1e-300)
            assert error <= 1e-12, (combo, error)


NETWORKS = [
    pytest.param([2, 2, 2], ["sigmoid", "sigmoid"], "quadratic", id="2-2-2-sigmoid-quadratic"),
    pytest.param([2, 3, 3, 3], ["tanh", "relu", "softmax"], "log-likelihood", id="softmax-ll"),
    pytest.param([2, 3, 2], ["leaky_relu", "sigmoid"], "cross-entropy", id="sigmoid-ce"),
    pytest.param([2, 3, 2], ["sigmoid", "softmax"], "cross-entropy", id="softmax-ce"),
    pytest.param([2, 2, 3, 2], ["identity", "tanh", "identity"], "quadratic", id="identity-q"),
]


def loaded(tab, sizes, acts, cost, m, *, eta=0.5, lmbda=0.0, momentum=0.0, seed=0):
    """Load a network and m examples into the page; (net, X, Y, labels) as bprop sees them."""
    rng = np.random.default_rng(seed)
    net = bprop.Network(sizes, acts, cost, init="scaled", seed=seed)
    X = rng.uniform(-1, 1, size=(m, 2))
    labels = rng.integers(0, sizes[-1], m)
    tab.js(
        "p => bpropLab.load(p)",
        {
            "sizes": sizes,
            "activations": acts,
            "cost": cost,
            "eta": eta,
            "lmbda": lmbda,
            "momentum": momentum,
            "weights": [w.tolist() for w in net.weights],
            "biases": [b.tolist() for b in net.biases],
            "X": X.tolist(),
            "y": labels.tolist(),
            "batch": list(range(m)),
        },
    )
    tab.page.click("[data-tab=inspect]")
    return net, X, np.eye(sizes[-1])[labels], labels


N_ = explain.number


def expect_weight(d: explain.Derivation, ws: explain.WeightStep, x: int, batch_grad, m: int):
    want = {
        "w": N_(ws.value),
        f"a_in/{x}": N_(ws.d_net),
        f"delta/{x}": N_(ws.delta),
        f"prod/{x}": N_(ws.gradient),
        "grad": N_(batch_grad),
        "grad_eq": N_(batch_grad),
    }
    if m == 1:
        want["updated"] = N_(ws.updated)
    return want


def expect_neuron(d: explain.Derivation, nr: explain.NeuronStep, batch_nabla_b: float):
    want = {
        "net": N_(nr.net),
        "out": N_(nr.out),
        "d_out": N_(nr.d_out),
        "delta": N_(nr.delta),
        "bias": N_(nr.bias),
        "nabla_b": N_(batch_nabla_b),
    }
    if nr.prime is not None:
        want["prime"] = N_(nr.prime)
    for q, p in enumerate(nr.paths):
        want |= {
            f"path/{q}/w": N_(p.w),
            f"path/{q}/delta": N_(p.delta),
            f"path/{q}/value": N_(p.value),
        }
    for k, a in enumerate(d.acts[nr.l - 2]):
        want[f"in_a/{k}"] = N_(a)
        want[f"in_w/{k}"] = N_(d.w[nr.l - 2][nr.j, k])
    return want


def subset(shown: dict, want: dict) -> dict:
    missing = set(want) - set(shown)
    assert not missing, f"not shown: {sorted(missing)}"
    return {k: shown[k] for k in want}


@pytest.mark.parametrize(("sizes", "acts", "cost"), NETWORKS)
@pytest.mark.parametrize("m", [1, 3])
def test_inspect_shows_explains_numbers(tab, sizes, acts, cost, m):
    net, X, Y, _ = loaded(tab, sizes, acts, cost, m)
    nabla_b, nabla_w, _ = bprop.backprop.backprop(
        net.weights, net.biases, net.activations, net.cost, X, Y
    )
    for x in range(m):
        d = explain.derive(net, X[x], Y[x], 0.5, update_biases=True)
        if x == 0:  # one weight and one neuron through the diagram itself, the rest at once
            ws, nr = d.weights[-1], d.layers[1][0]
            click_edge(tab, f"edge-{ws.l}-{ws.j + 1}-{ws.k + 1}")
            assert tab.values()["w"] == N_(ws.value)
            tab.page.click(f"#node-{nr.l}-{nr.j + 1}")
            assert tab.values()["net"] == N_(nr.net)
        items = [{"kind": "weight", "i": ws.l - 2, "j": ws.j, "k": ws.k} for ws in d.weights]
        neurons = [nr for layer in d.layers[1:] for nr in layer]
        items += [{"kind": "neuron", "l": nr.l, "j": nr.j} for nr in neurons]
        shown = iter(tab.inspect(items))
        for ws, panel in zip(d.weights, shown):
            want = expect_weight(d, ws, x, nabla_w[ws.l - 2][ws.j, ws.k], m)
            assert subset(panel, want) == want, (x, ws.l, ws.j, ws.k)
        for nr, panel in zip(neurons, shown):
            want = expect_neuron(d, nr, nabla_b[nr.l - 2][nr.j])
            assert subset(panel, want) == want, (x, nr.l, nr.j)
        tab.page.click("#ex-next")


@pytest.mark.parametrize(("sizes", "acts", "cost"), NETWORKS)
def test_step_mode_walks_explains_derivation_and_takes_the_step(tab, sizes, acts, cost):
    net, X, Y, _ = loaded(tab, sizes, acts, cost, 1, seed=4)
    d = explain.derive(net, X[0], Y[0], 0.5, update_biases=True)
    want = {"cost_x": N_(d.error), "cost": N_(d.error)}
    for layer in d.layers[1:]:
        for nr in layer:
            want |= {
                f"z/{nr.l}/{nr.j}": N_(nr.net),
                f"a/{nr.l}/{nr.j}": N_(nr.out),
                f"d_out/{nr.l}/{nr.j}": N_(nr.d_out),
                f"delta/{nr.l}/{nr.j}": N_(nr.delta),
            }
            if nr.prime is not None:
                want[f"prime/{nr.l}/{nr.j}"] = N_(nr.prime)
            if nr.target is not None:
                want[f"y/{nr.j}"] = N_(nr.target)
    for ws in d.weights:
        want[f"nabla_w/{ws.l}/{ws.j}/{ws.k}"] = N_(ws.gradient)
        want[f"w_new/{ws.l}/{ws.j}/{ws.k}"] = N_(ws.updated)
    for bs in d.biases:
        want[f"nabla_b/{bs.l}/{bs.j}"] = N_(bs.gradient)
        want[f"b_new/{bs.l}/{bs.j}"] = N_(bs.updated)
    tab.page.click("#step-start")
    n_stages = tab.js("() => document.querySelectorAll('#stages li').length")
    assert n_stages == 2 * len(sizes) + 2  # forward ×(L−1), cost, BP1, BP2 ×(L−2), BP3, BP4, update
    shown, lit = {}, []
    for _ in range(n_stages):
        shown |= tab.values()
        lit.append(tab.js("() => [...document.querySelectorAll('.hl')].map(e => e.id)"))
        tab.page.click("#step-next")
    assert subset(shown, want) == want
    L = len(sizes)
    assert set(lit[0]) == {f"node-1-{k + 1}" for k in range(2)} | {
        f"node-2-{j + 1}" for j in range(sizes[1])
    } | {f"edge-2-{j + 1}-{k + 1}" for j in range(sizes[1]) for k in range(2)}
    assert set(lit[L]) == {f"node-{L}-{j + 1}" for j in range(sizes[-1])}  # BP1: the outputs
    # The last ▶ applied the update: the page's parameters are the step's.
    params = tab.js("() => bpropLab.parameters()")
    got = np.concatenate([np.ravel(w) for w in params["weights"]])
    np.testing.assert_allclose(got, [ws.updated for ws in d.weights], rtol=1e-13, atol=1e-15)
    assert "moved on" in tab.page.text_content("#message")


def test_momentum_and_lambda_in_the_update_are_bprops(tab):
    net, X, Y, labels = loaded(
        tab, [2, 3, 2], ["tanh", "softmax"], "log-likelihood", 4, eta=0.3, lmbda=0.7, momentum=0.8
    )
    for _ in range(3):  # the first step starts the velocity, the next ones use it
        tab.page.click("#step")
    options = {"lmbda": 0.7, "momentum": 0.8, "shuffle": False, "fast": False}
    history = sgd(net, X, labels, 3, 4, 0.3, **options)  # one mini-batch per epoch: 3 steps
    got = tab.js("() => bpropLab.parameters()")
    for g, w in zip(got["weights"] + got["biases"], net.weights + net.biases):
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-15)
    # The inspector's numbers for the fourth step: its gradient, and the update it will make.
    tab.js("s => bpropLab.select(s)", {"kind": "weight", "i": 0, "j": 1, "k": 0})
    shown = tab.values()
    nabla_w = bprop.backprop.backprop(net.weights, net.biases, net.activations, net.cost, X, Y)[1]
    sgd(net, X, labels, 4, 4, 0.3, state=history.state, history=history, **options)
    assert shown["grad"] == N_(nabla_w[0][1, 0])
    assert shown["velocity"] == N_(history.state.velocity_w[0][1, 0])
    assert shown["updated"] == N_(net.weights[0][1, 0])


def test_reset_rewinds_to_the_same_weights_and_the_same_training(tab):
    page = tab.page
    page.click("[data-tab=playground]")
    assert tab.js("s => bpropLab.set(s)", {"data": {"kind": "xor"}, "seed": 5, "speed": 5})
    start = tab.js("() => bpropLab.parameters()")
    for _ in range(4):
        tab.js("() => bpropLab.tick()")
    trained = tab.js("() => bpropLab.parameters()")
    assert trained != start and tab.js("() => bpropLab.lab.updates") == 20
    page.click("#reset")
    assert tab.js("() => bpropLab.parameters()") == start
    assert "1 " in page.text_content("#counters")  # epoch 1, mini-batch 1 again
    for _ in range(4):
        tab.js("() => bpropLab.tick()")
    assert tab.js("() => bpropLab.parameters()") == trained  # the same mini-batches again


def test_the_controls_refuse_what_bprop_refuses_in_the_pages_language(tab):
    page = tab.page
    page.click("[data-tab=playground]")
    assert tab.js("s => bpropLab.set(s)", {"output": "identity", "cost": "quadratic"})
    page.click("#langs [data-lang=zh]")
    page.select_option("#cost", "log-likelihood")
    message = page.text_content("#message")
    assert "不允许" in message and "sigmoid" in message and "identity" in message
    assert page.input_value("#cost") == "quadratic"  # the choice went back
    page.click("#langs [data-lang=en]")
    page.fill("#eta", "-1")
    page.press("#eta", "Enter")
    assert "must be a number > 0" in page.text_content("#message")
    assert page.input_value("#eta") == "0.3" and tab.js("() => bpropLab.state.eta") == 0.3
    # At the limits (6 hidden layers of 8 neurons) the buttons that would pass them are off.
    assert tab.js("s => bpropLab.set(s)", {"hidden": [{"n": 8, "act": "relu"}] * 6})
    assert page.is_disabled("#layer-plus") and not page.is_disabled("#layer-minus")
    assert page.is_disabled(".layer-ctl button[title='Add a neuron'] >> nth=5")


# -- the digit pad -----------------------------------------------------------------------------

STROKES = {
    "seven": [[(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]],
    "zero": [
        [(0.5, 0.15), (0.75, 0.35), (0.72, 0.7), (0.5, 0.88), (0.3, 0.7), (0.28, 0.35), (0.5, 0.15)]
    ],
    "four": [[(0.3, 0.15), (0.25, 0.55), (0.75, 0.55)], [(0.62, 0.3), (0.6, 0.9)]],
    "small one, off centre": [[(0.15, 0.1), (0.17, 0.4)]],
}


def draw(tab: Tab, strokes) -> None:
    box = tab.page.locator("#pad-canvas").bounding_box()
    mouse = tab.page.mouse
    for stroke in strokes:
        (x, y), *rest = stroke
        mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        mouse.down()
        for x, y in rest:
            mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=6)
        mouse.up()
    tab.frame()


def predict(model: Path, png: Path) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["predict", str(model), str(png), "--json"]) == 0
    return json.loads(out.getvalue())[0]


def test_the_pad_prepares_and_classifies_a_drawing_as_bprop_predict(pad_tab, model, tmp_path):
    run, _ = model
    tab = pad_tab
    for name, strokes in STROKES.items():
        tab.js("() => bpropLab.clearPad()")
        draw(tab, strokes)
        shown = np.array(tab.js("() => bpropLab.padInput()"))
        url = tab.js("() => document.getElementById('pad-canvas').toDataURL('image/png')")
        png = tmp_path / f"{name}.png"
        png.write_bytes(base64.b64decode(url.split(",", 1)[1]))
        assert np.max(np.abs(shown - images.preprocess(png))) <= 1 / 255, name
        verdict = tab.page.locator("#verdict")
        answer = predict(run, png)
        assert int(verdict.get_attribute("data-class")) == answer["class"], name
        p = answer["probabilities"][answer["name"]]
        assert verdict.text_content() == f"{answer['name']}  ({p * 100:.1f}%)", name


def test_a_test_image_loads_with_one_click(pad_tab, model, mnist):
    _, net = model
    tab = pad_tab
    labels = tab.js("() => bpropLab.pictures()")
    for n in (0, 5, 13):
        tab.page.click(f"#examples canvas >> nth={n}")
        i = int(np.flatnonzero(mnist.test.y == labels[n])[n % 2])
        x = np.rint(mnist.test.X[i].astype(np.float64) * 255) / 255  # the image's bytes / 255
        assert np.array_equal(tab.js("() => bpropLab.padInput()"), x)
        verdict = tab.page.locator("#verdict")
        assert int(verdict.get_attribute("data-class")) == int(net.predict(x))
        # Clicking a hidden neuron shows z and a = σ(z) on this input, as bprop computes them.
        tab.page.click("#pad-weights", position={"x": 50, "y": 8})  # the tile of neuron 2
        z = np.array([x @ net.weights[0][1] + net.biases[0][1]])
        shown = tab.values("#neuron-detail")
        assert shown == {"z": N_(z[0]), "a": N_(float(bprop.activations.sigmoid(z)[0]))}


# -- the user's CSV ----------------------------------------------------------------------------


def test_a_csv_cell_holding_a_script_tag_stays_text(browser, tmp_path):
    names = ("</script><script>document.title='owned'</script>", "<!-- & -->")
    data = datasets.load_csv(two_column_csv(tmp_path / "evil.csv", names=names))
    path = tmp_path / "evil.html"
    path.write_text(lab.page(playground=lab.playground_data(data, "evil.csv")), encoding="utf-8")
    t = Tab(browser, path)
    assert t.page.title() == "bprop lab"
    legend = t.page.text_content("#class-legend")
    assert names[0] in legend and names[1] in legend
    assert t.page.input_value("#dataset") == "csv"
    assert "evil.csv" in t.page.text_content("#data-note")
    t.close()


# -- the command -------------------------------------------------------------------------------


def lab_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(["lab", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_bprop_lab_writes_the_page(tmp_path, capsys):
    code, out, err = lab_cli(["--out", str(tmp_path / "lab.html")], capsys)
    assert (code, err) == (0, "")
    assert out.startswith(f"Wrote {tmp_path / 'lab.html'} (") and "--model RUN" in out
    assert (tmp_path / "lab.html").read_text(encoding="utf-8") == lab.page(lang="en")


def test_bprop_lab_with_a_model_and_points(model, tmp_path, capsys):
    run, net = model
    csv = two_column_csv(tmp_path / "moons.csv")
    out_file = tmp_path / "lab-zh.html"
    argv = ["--model", str(run), "--data", f"csv:{csv}", "--lang", "zh", "--out", str(out_file)]
    code, out, err = lab_cli(argv, capsys)
    assert (code, err) == (0, "")
    assert "digit pad" in out and "784-100-10" in out and "20 test images" in out
    assert "with moons.csv" in out
    page = out_file.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page and "moons.csv" in page
    data = json.loads(page.split('id="lab-data" type="application/json">')[1].split("</script>")[0])
    assert data["model"]["sizes"] == [784, 100, 10] and len(data["images"]["labels"]) == 20
    w0 = np.frombuffer(base64.b64decode(data["model"]["weights"][0]), "<f8").reshape(100, 784)
    assert np.array_equal(w0, net.weights[0])


def test_bprop_lab_serve_opens_the_page_in_the_browser(tmp_path, capsys, monkeypatch):
    import webbrowser

    opened = []
    monkeypatch.setattr(webbrowser, "open", lambda url: opened.append(url) or True)
    code, _, _ = lab_cli(["--out", str(tmp_path / "x.html"), "--serve"], capsys)
    assert code == 0 and opened == [(tmp_path / "x.html").resolve().as_uri()]


def test_bprop_lab_without_the_data_set_warns_and_still_writes(
    model, tmp_path, capsys, monkeypatch
):
    def missing(*args, **kw):
        raise datasets.DatasetNotFoundError("MNIST was not found in: somewhere")

    monkeypatch.setattr(datasets, "load", missing)
    run, _ = model
    code, out, err = lab_cli(["--model", str(run), "--out", str(tmp_path / "x.html")], capsys)
    assert code == 0 and "digit pad" in out
    assert err.startswith("bprop lab: warning: the pad gets no test images of mnist")
    assert '"images":null' in (tmp_path / "x.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--data", "points.csv"], "--data takes csv:PATH or npz:PATH"),
        (["--data", "csv:nowhere.csv"], "does not exist"),
        (["--data", "csv:THREE"], "2 feature columns"),
        (["--model", "nowhere"], "no model at nowhere"),
        (["--model", "SMALL"], "784 inputs"),
    ],
)
def test_bprop_lab_says_in_one_line_what_was_wrong(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    Path("THREE").write_text("1,2,3,a\n4,5,6,b\n", encoding="utf-8")
    serialize.save_model("SMALL", bprop.Network([4, 3, 2]))
    code, out, err = lab_cli([*argv, "--out", "x.html"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("bprop lab: error: ") and message in err
    assert not Path("x.html").exists()


def test_bprop_lab_knows_two_languages(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["lab", "--lang", "fr"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1 and "invalid choice: 'fr'" in err
