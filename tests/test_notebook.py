"""bprop in Jupyter, without a kernel: the displays' HTML, their scoped styles, the short reprs,
the pictures, and the training callbacks.

Every display must be one element whose styles all start with its own id, with no script and
no event handler, so that nothing it holds can change how the notebook around it looks; the
pictures must show the object's own numbers (an independent decoder reads the PNGs).
"""

from __future__ import annotations

import html
import io
import re
import typing
from html.parser import HTMLParser

import numpy as np
import pytest

import bprop
import bprop.notebook as nb
from bprop import datasets, explain, runs, web
from bprop.examples import worked_example
from bprop.notebook import draw

# -- what a display may hold -------------------------------------------------------------------


class _Parsed(HTMLParser):
    """Elements (tag, attributes) in order, and the text of every <style>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def check_fragment(fragment: str) -> _Parsed:
    """Assert that ``fragment`` is one scoped, script-free display; return it parsed."""
    p = _Parsed()
    p.feed(fragment)
    tag, attrs = p.elements[0]
    root = attrs.get("id", "")
    assert tag == "div" and re.fullmatch(r"bprop-[0-9a-f]{10}", root), p.elements[0]
    assert fragment.endswith("</div>")
    ids = [a["id"] for _, a in p.elements if "id" in a]
    assert all(i == root or i.startswith(root + "-") for i in ids), ids
    assert len(ids) == len(set(ids)), "ids repeat inside one display"
    for t, a in p.elements:
        assert t not in ("script", "link", "meta", "base"), t
        assert not [k for k in a if k.startswith("on")], (t, a)
    for sheet in p.styles:
        for selectors, _ in web.css_rules(sheet):
            for s in selectors:
                assert s.startswith("#" + root), s
                assert not re.search(r"(^|[\s,>+~])(body|html|:root)\b", s), s
    return p


def test_scoped_css_confines_every_rule():
    css = "body{margin:0}\nheader{x:1}\n#panel .a, svg text{y:2}\nmain > p{z:3}"
    out = web.scoped_css(css, "r", {"main": ".m", "header": ".h"})
    assert out.splitlines() == [
        "#r{margin:0}",
        "#r .h{x:1}",
        "#r #r-panel .a,#r svg text{y:2}",
        "#r .m > p{z:3}",
    ]
    for sheet in ("explain.css", "notebook.css"):
        for selectors, _ in web.css_rules(web.scoped_css(web.asset(sheet), "r")):
            assert all(s.startswith("#r") for s in selectors)


@pytest.mark.parametrize("css", ["@media print{a{b:c}}", ":root{--x:1}", "a{b:c", "{b:c}"])
def test_scoped_css_refuses_what_it_cannot_confine(css):
    with pytest.raises(ValueError):
        web.scoped_css(css, "r")


# -- the network --------------------------------------------------------------------------------


def _lines(svg: str) -> list[dict[str, str]]:
    return [dict(re.findall(r'([\w-]+)="([^"]*)"', m)) for m in re.findall(r"<line ([^>]*)>", svg)]


def test_a_small_network_draws_every_weight_by_sign_and_size():
    net = bprop.Network([2, 3, 2], seed=0)
    net.weights[0][:] = [[1.0, -2.0], [0.5, -0.25], [0.0, 4.0]]
    svg = net._repr_svg_()
    lines = [a for a in _lines(svg) if a.get("stroke") in (draw.POSITIVE, draw.NEGATIVE)]
    assert len(lines) == 12  # every w^l_jk
    titles = re.findall(r"<title>(w[^<]*)</title>", svg)
    assert len(titles) == 12 and "w²₁,₂ = -2" in titles  # w^2_12 is weights[0][0, 1]
    by_title = dict(zip(titles, lines))
    assert by_title["w²₁,₂ = -2"]["stroke"] == draw.NEGATIVE
    assert by_title["w²₃,₂ = 4"]["stroke"] == draw.POSITIVE
    widths = [float(by_title[f"w²₃,₁ = {v}"]["stroke-width"]) for v in ("0",)]
    widths += [float(by_title[t]["stroke-width"]) for t in ("w²₂,₂ = -0.25", "w²₁,₂ = -2")]
    assert widths == sorted(widths) and widths[0] < widths[-1]  # thicker as |w| grows
    biggest = max(float(np.abs(w).max()) for w in net.weights)
    assert float(by_title["w²₃,₂ = 4"]["stroke-width"]) == pytest.approx(4.0, abs=0.01)
    assert biggest == 4.0
    for text in ("layer 1", "layer 3", ">2<", ">3<", "sigmoid", "cost quadratic", "float64"):
        assert text in svg
    assert "17 parameters" in svg  # 3·2 + 3 + 2·3 + 2


def test_a_large_network_is_drawn_as_layers_with_a_gap():
    net = bprop.Network([784, 30, 10], "sigmoid", "cross-entropy", init="scaled", seed=0)
    svg = nb.svg(net)
    assert svg.count("<circle") == 10 + 10 + 10  # 5 + ⋮ + 5 of the wide layers, all 10 outputs
    assert svg.count("⋮") == 2
    assert not re.findall(r"<title>w", svg)  # 23,520 weights are not drawn one by one
    for text in (">784<", ">30<", ">10<", "input", "23,860 parameters", "init scaled"):
        assert text in svg, text
    check_fragment(net._repr_html_())


def test_reprs_stay_short():
    _, history = bprop.examples.xor(epochs=40)
    ex = worked_example()
    d = explain.derive(ex.net, ex.x[0], ex.y[0], ex.eta)
    assert repr(history).endswith(f"train cost {history.epochs[-1].train_cost:.4g} last)")
    assert len(repr(history)) < 100
    assert repr(d) == (
        "Derivation(2-2-2 sigmoid, quadratic, η = 0.5: E = 0.298371109 → 0.291027774, the "
        "article's example)"
    )
    assert len(repr(ex.net)) < 100


def test_history_shows_its_epochs_and_charts():
    X, y = np.random.default_rng(0).normal(size=(60, 3)), np.arange(60) % 2
    net = bprop.Network([3, 4, 2], seed=0)
    h = net.SGD(X, y, 12, 10, 0.5, test_data=(X, y), seed=0, verbose=False)
    best = max(h.epochs, key=lambda r: r.test_accuracy)
    assert repr(h).endswith(
        f"test accuracy {h.epochs[-1].test_accuracy:.2%} last, "
        f"{best.test_accuracy:.2%} best (epoch {best.epoch}))"
    )
    text = h._repr_html_()
    check_fragment(text)
    rows = re.findall(r"<tr><td class=key>(\d+)</td>", text)
    assert rows == ["0", "1", "2", "7", "8", "9", "10", "11"]  # 3 first, a gap, 5 last
    assert '<tr class="gap">' in text
    last = h.epochs[-1]
    assert f"{last.test_correct:,} / {last.test_total:,}" in text
    # two charts with a training and a test line each, one point per epoch
    lines = re.findall(r'<polyline points="([^"]*)"', text)
    assert len(lines) == 4 and all(len(p.split()) == 12 for p in lines)


def test_the_cost_chart_puts_each_epoch_where_its_value_is():
    svg = draw.line_chart("c", [("t", [3.0, None, 1.0, float("nan"), 2.0], "red", False)])
    pts = [tuple(map(float, p.split(","))) for p in re.search(r'points="([^"]*)"', svg)[1].split()]
    assert [x for x, _ in pts] == sorted(x for x, _ in pts) and len(pts) == 3
    ys = [y for _, y in pts]
    assert ys[0] < ys[2] < ys[1]  # 3 highest (smallest y), then 2, then 1


# -- derivations ----------------------------------------------------------------------------------


def test_a_derivation_displays_as_the_explain_page_scoped():
    ex = worked_example()
    d = explain.derive(ex.net, ex.x[0], ex.y[0], ex.eta)
    first, second = d._repr_html_(), d._repr_html_()
    p = check_fragment(first)
    ids_1 = {a["id"] for _, a in p.elements if "id" in a}
    ids_2 = {a["id"] for _, a in check_fragment(second).elements if "id" in a}
    assert not ids_1 & ids_2, "two displays of one derivation share ids"
    # Every weight: its edge, and a derivation shown by CSS when the edge is hovered or chosen.
    root = p.elements[0][1]["id"]
    sheet = "\n".join(p.styles)
    for name in ("w1", "w5", "w8"):
        assert f'id="{root}-d-edge-{name}"' in first
        assert f'id="{root}-d-deriv-{name}"' in first
        assert f"#{root}-d:has(#{root}-d-edge-{name}:hover) #{root}-d-deriv-{name}" in sheet
        assert f"#{root}-d:has(#{root}-d-edge-{name}:focus)" in sheet
    # The text of the derivation is explain's own page's.
    page = explain.render(d, fmt="html")
    for needle in ("0.298371109", "0.35891648", "0.149780716"):
        assert needle in first and needle in page
    assert html.escape(repr(d)) in first  # the text fallback


def test_a_derivation_in_chinese_and_one_too_large():
    ex = worked_example()
    d = explain.derive(ex.net, ex.x[0], ex.y[0], ex.eta)
    zh = nb.explain(d, lang="zh")
    assert 'lang="zh-CN"' in zh._repr_html_() and "反向传播" in zh._repr_html_()
    assert repr(zh) == repr(d)
    with pytest.raises(ValueError, match="language"):
        nb.explain(d, lang="fr")
    big = bprop.Network([7, 3, 2], seed=0)
    d7 = explain.derive(big, np.zeros(7), np.zeros(2), 0.5)
    text = check_fragment(d7._repr_html_())
    assert any("too large" in s for s in [html.unescape(d7._repr_html_())]), text


# -- data sets and run folders ------------------------------------------------------------------


def _decode(uri: str) -> np.ndarray:
    import base64

    from PIL import Image

    raw = base64.b64decode(uri.removeprefix("data:image/png;base64,"))
    return np.asarray(Image.open(io.BytesIO(raw)))


def test_png_reads_back_in_pillow():
    img = np.linspace(0, 1, 5 * 7).reshape(5, 7)
    import base64

    uri = "data:image/png;base64," + base64.b64encode(draw.png(img)).decode()
    np.testing.assert_array_equal(_decode(uri), np.rint(img * 255).astype(np.uint8))


def test_mnist_shows_its_sizes_and_one_image_per_class():
    data = datasets.load("mnist")
    assert repr(data) == (
        "DataSets('mnist': 50,000 train / 10,000 validation / 10,000 test, 784 features, "
        "10 classes)"
    )
    assert repr(data.test) == "Split(10,000 examples × 784 features, float32)"
    text = data._repr_html_()
    check_fragment(text)
    images = re.findall(r'<img src="(data:image/png;base64,[^"]+)" alt="([^"]*)"', text)
    assert [alt for _, alt in images[:10]] == [str(c) for c in range(10)]
    assert len(images) == 10
    first_zero = int(np.flatnonzero(data.train.y == 0)[0])
    want = data.train.X[first_zero].reshape(28, 28).astype(np.float64)
    want = np.rint((want - want.min()) / (want.max() - want.min()) * 255)
    np.testing.assert_array_equal(_decode(images[0][0]), want.astype(np.uint8))
    for n in ("50,000", "10,000"):
        assert n in text


def test_points_and_tables_for_other_data(tmp_path):
    path = tmp_path / "p.csv"
    rows = [f"{i % 7},{i % 5},{'ab'[i % 2]}" for i in range(30)]
    path.write_text("x1,x2,label\n" + "\n".join(rows) + "\n<b>,0,ab\n".replace("<b>", "1"))
    two = datasets.load(f"csv:{path}")
    text = two._repr_html_()
    check_fragment(text)
    assert text.count("<circle") >= len(two.train) and "<img" not in text
    wide = tmp_path / "w.csv"
    wide.write_text("\n".join(f"{i},{i * 2},{i % 3},c{i % 2}" for i in range(20)) + "\n")
    three = datasets.load(f"csv:{wide}")
    assert "<th class=key>row</th><th>x1</th><th>x2</th><th>x3</th>" in three._repr_html_()


def _run_folder(tmp_path, figure: bytes | None):
    X, y = np.random.default_rng(1).normal(size=(40, 2)), np.arange(40) % 2
    net = bprop.Network([2, 3, 2], seed=0)
    h = net.SGD(X, y, 3, 10, 0.5, test_data=(X, y), seed=0, verbose=False)
    folder = runs.RunFolder(tmp_path / "run<1>")
    folder.create({"dataset": "csv:<p>.csv", "sizes": [2, 3, 2], "cost": "quadratic", "eta": 0.5})
    folder.write_history(h)
    folder.save_model(net)
    if figure is not None:
        folder.write_figure("cost.png", figure)
    (folder.path / "figures").mkdir(exist_ok=True)
    (folder.path / "figures" / "fake.png").write_bytes(b"<svg onload=alert(1)>")
    return folder, h


def test_a_run_folder_shows_its_settings_history_and_figures(tmp_path):
    png = draw.png(np.eye(4))
    folder, h = _run_folder(tmp_path, png)
    assert folder.read_figures() == [("cost.png", png)]  # the fake PNG is left out
    text = folder._repr_html_()
    check_fragment(text)
    assert "run run&lt;1&gt;" in text and "csv:&lt;p&gt;.csv" in text and "2-3-2" in text
    assert "onload" not in text
    assert len(re.findall(r"<img src=\"data:image/png", text)) == 1
    run = runs.load_run(folder.path)
    acc = h.epochs[-1].test_accuracy
    about = f"2-3-2 ?/quadratic, 3 epochs, completed, {100 * acc:.2f}% on test"
    assert repr(run) == f"Run({str(folder.path)!r}: {about})"
    check_fragment(run._repr_html_())


def test_a_folder_that_is_no_run_says_so(tmp_path):
    text = runs.RunFolder(tmp_path / "nothing")._repr_html_()
    check_fragment(text)
    assert "no run folder" in text


def test_html_refuses_what_it_does_not_display():
    with pytest.raises(TypeError, match="int"):
        nb.html(3)
    with pytest.raises(TypeError, match="Network"):
        nb.svg("net")


# -- training in a notebook ---------------------------------------------------------------------


class _Bar:
    """Stands in for tqdm: records what the bar was told."""

    made: typing.ClassVar[list[_Bar]] = []

    def __init__(self, total=None, **kw):
        self.total, self.n, self.closed, self.postfix, self.updates = total, 0, False, "", 0
        _Bar.made.append(self)

    def update(self, k):
        self.n += k
        self.updates += 1

    def reset(self, total=None):
        self.total, self.n = total, 0

    def set_description(self, desc, refresh=True):
        self.desc = desc

    def set_postfix_str(self, s):
        self.postfix = s

    def close(self):
        self.closed = True


@pytest.mark.parametrize("compiled", [False, None])
def test_progress_counts_every_mini_batch_and_closes(compiled):
    X, y = np.random.default_rng(2).normal(size=(1000, 4)), np.arange(1000) % 3
    net = bprop.Network([4, 5, 3], seed=0)
    progress = nb.Progress(3)
    progress.tqdm = _Bar
    _Bar.made.clear()
    h = net.SGD(
        X,
        y,
        3,
        5,
        0.1,
        test_data=(X, y),
        seed=0,
        verbose=False,
        callbacks=[progress],
        compiled=compiled,
    )
    (bar,) = _Bar.made
    assert bar.total == bar.n == 3 * 200 and bar.closed
    assert bar.postfix.endswith(h.epochs[-1].book_line())
    if compiled is None and h.config["engine"] == "compiled":
        assert bar.updates <= 3 * 60  # it asks to be told about 50 times an epoch, not 200


def test_progress_needs_its_epochs():
    with pytest.raises(ValueError, match="epochs"):
        nb.Progress(0)


def test_live_plot_redraws_after_every_epoch():
    pytest.importorskip("IPython")
    shown = []

    class Handle:
        def update(self, obj):
            shown.append(obj._repr_html_())

    def display(obj, display_id=False):
        assert display_id is True
        shown.append(obj._repr_html_())
        return Handle()

    live = nb.LivePlot()
    live.display = display
    X, y = np.random.default_rng(3).normal(size=(50, 2)), np.arange(50) % 2
    bprop.Network([2, 3, 2], seed=0).SGD(
        X, y, 4, 10, 0.5, test_data=(X, y), seed=0, verbose=False, callbacks=[live]
    )
    assert len(shown) == 5 and "No epochs yet" in shown[0]
    for i, text in enumerate(shown[1:], start=1):
        check_fragment(text)
        assert f"{i} epochs, so far." in text
    assert repr(live) == "LivePlot(4 epochs drawn)"


# -- the lab ------------------------------------------------------------------------------------


def _srcdoc(display) -> str:
    text = display._repr_html_()
    m = re.fullmatch(
        r'<iframe class="bprop-lab" sandbox="allow-scripts" [^>]*srcdoc="([^"]*)"></iframe>', text
    )
    assert m, text[:300]
    return html.unescape(m.group(1))


def test_the_lab_frame_holds_the_page_and_a_python_network():
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, size=(80, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    net = bprop.Network([2, 4, 2], "tanh", "log-likelihood", output_activation="softmax", seed=1)
    shown = nb.lab(net, (X, y), eta=0.2, mini_batch_size=8)
    assert repr(shown).startswith(
        "bprop lab: the playground and the inspector on your network (2-4-2), 80 points"
    )
    page = _srcdoc(shown)
    want = bprop.lab.network_data(net, X, y, eta=0.2, mini_batch_size=8)
    assert bprop.lab.script_json(want) in page and '"tab":"inspect"' in page
    plain = _srcdoc(nb.lab())
    assert '"network":null' in plain and '"tab":"playground"' in plain


@pytest.mark.parametrize(
    "sizes, acts, X, match",
    [
        ([3, 4, 2], "tanh", np.zeros((5, 3)), "2 inputs"),
        ([2, 9, 2], "tanh", np.zeros((5, 2)), "at most 8 neurons"),
        ([2, 4, 1], "tanh", np.zeros((5, 2)), "one output neuron per class"),
        ([2, 4, 2], "tanh", np.full((5, 2), 1.5), r"inside it: scale them"),
    ],
)
def test_the_lab_refuses_what_its_playground_cannot_show(sizes, acts, X, match):
    net = bprop.Network(sizes, acts, seed=0)
    with pytest.raises(ValueError, match=match):
        nb.lab(net, (X, np.zeros(len(X), int)))


def test_the_lab_takes_a_run_folder_for_its_digit_pad(tmp_path):
    net = bprop.Network([784, 5, 10], seed=0)
    folder = runs.RunFolder(tmp_path / "digits")
    folder.save_model(net, dataset={"name": "mnist", "class_names": [str(i) for i in range(10)]})
    shown = nb.lab(folder)
    assert repr(shown).startswith("bprop lab: the digit pad with digits (784-5-10)")
    page = _srcdoc(shown)
    assert '"tab":"pad"' in page and '"images":{"labels"' in page
    with pytest.raises(FileNotFoundError):
        nb.lab(tmp_path / "none")
    with pytest.raises(TypeError, match="Network"):
        nb.lab(42)


def test_the_playgrounds_limits_are_the_pages_own():
    """bprop.lab checks a network against the limits and menus that lab.js and lab_net.js have."""
    js = web.asset("lab.js")
    assert re.search(rf"MAX_HIDDEN = {bprop.lab.MAX_HIDDEN}\b", js)
    assert re.search(rf"MAX_NEURONS = {bprop.lab.MAX_NEURONS}\b", js)
    names = lambda const: re.findall(r'"([\w-]+)"', re.search(rf"{const} = \[([^\]]*)\]", js)[1])  # noqa: E731
    assert tuple(names("ACT_NAMES")) == bprop.lab.HIDDEN_ACTIVATIONS
    assert tuple(names("OUT_NAMES")) == bprop.lab.OUTPUT_ACTIVATIONS
    costs = re.search(r"const COSTS = \{([^}]*)\}", web.asset("lab_net.js"))[1]
    keys = tuple(k.split(":")[0].strip().strip('"') for k in costs.split(","))
    assert keys == bprop.lab.LAB_COSTS
    with pytest.raises(ValueError, match="tabs"):
        bprop.lab.page(tab="pad")  # the pad needs a model
