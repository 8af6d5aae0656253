"""`bprop explain`: the article's example line for line, its errata, any small network, formats.

The article's figures below are copied from seeds/003 by hand; the library computes them.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from bprop import Network, explain
from bprop.cli import main
from bprop.examples import WEIGHT_NAMES, worked_example
from bprop.network import backprop

# The article's figures in the order it prints them (forward pass, error, output layer, δ_o1,
# w5…w8 updated, hidden layer, w1 updated).  ∂E_o2/∂out_h1 is the exact −0.019049118, not the
# article's −0.019049119 (see the errata).
ARTICLE_ORDER = [
    "0.3775", "0.593269992", "0.596884378", "1.105905967", "0.75136507", "0.772928465",
    "0.274811083", "0.023560026", "0.298371109", "0.74136507", "0.186815602", "0.082167041",
    "0.138498562", "0.35891648", "0.408666186", "0.51130127", "0.561370121", "0.055399425",
    "-0.019049118", "0.036350306", "0.241300709", "0.000438568", "0.149780716",
]  # fmt: skip


@pytest.fixture(scope="module")
def article():
    ex = worked_example()
    return explain.derive(ex.net, ex.x, ex.y, ex.eta)


@pytest.fixture(scope="module")
def default_text(capsys_module=None):
    return _cli([])


def _cli(argv, capsys=None):
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["explain", *argv])
    assert code == 0
    return out.getvalue()


def test_default_output_shows_the_articles_figures_in_order(default_text):
    pos = 0
    for figure in ARTICLE_ORDER:
        found = re.search(rf"(?<![\d.]){re.escape(figure)}(?!\d)", default_text[pos:])
        assert found, f"{figure} missing after position {pos}"
        pos += found.end()
    # Each line shows the formula, the values substituted and the result.
    assert "net_h1 = w1 * i1 + w2 * i2 + b1 * 1 = 0.15 * 0.05 + 0.2 * 0.1 + 0.35 * 1 = 0.3775" in (
        default_text
    )
    assert (
        "∂E_total/∂w5 = ∂E_total/∂out_o1 * ∂out_o1/∂net_o1 * ∂net_o1/∂w5 = "
        "0.74136507 * 0.186815602 * 0.593269992 = 0.082167041" in default_text
    )
    assert "∂E_o1/∂out_h1 + ∂E_o2/∂out_h1 = 0.055399425 + (-0.019049118) = 0.036350306" in (
        default_text
    )
    assert "E_total⁺ = 0.291027774" in default_text
    assert "Errata" in default_text


def test_gradients_equal_backprop_exactly(article):
    ex = worked_example()
    nabla_b, nabla_w, _ = backprop(
        ex.net.weights, ex.net.biases, ex.net.activations, ex.net.cost, ex.x, ex.y
    )
    for name, (i, j, k) in WEIGHT_NAMES.items():
        ws = article.weight(name)
        assert ws.gradient == nabla_w[i][j, k]
        assert ws.updated == ex.net.weights[i][j, k] - ex.eta * nabla_w[i][j, k]
        assert ws.d_out * ws.prime * ws.d_net == pytest.approx(ws.gradient, rel=1e-12)
    for layer, nb in zip(article.layers[1:], nabla_b):
        assert [nr.delta for nr in layer] == list(nb)
    # The updated weights equal one step of the library's SGD.
    ex.train(1)
    assert [article.weight(n).updated for n in WEIGHT_NAMES] == [ex.weight(n) for n in WEIGHT_NAMES]
    assert article.error_after == ex.error()
    assert article.is_article


def test_errata_find_each_slip():
    items = {e.key: e for e in explain.errata()}
    expected = {
        "output_vector_o1": ("0.75136079", "0.75136507"),
        "dEo2_dout_h1": ("-0.019049119", "-0.019049118"),
        "E_after_1": ("0.291027924", "0.291027774"),
        "E_after_10000": ("0.000035085", "0.000035102"),
        "out_o1_after_10000": ("0.015912196", "0.01591362"),
        "out_o2_after_10000": ("0.984065734", "0.984064274"),
        "program_target_o2": ("0.09", "0.99"),
    }
    errors = {k for k, e in items.items() if e.kind == "error"}
    assert errors == set(expected)
    for key, (printed, exact) in expected.items():
        assert (items[key].printed, items[key].exact) == (printed, exact)
    # The likely causes reproduce the printed figures exactly.
    assert items["dEo2_dout_h1"].reproduced == "-0.019049119"
    assert items["E_after_1"].reproduced == "0.291027924"
    assert items["E_after_10000"].reproduced == "0.000035085"
    assert items["out_o1_after_10000"].reproduced == "0.015912196"
    assert items["out_o2_after_10000"].reproduced == "0.984065734"
    precision = {k for k, e in items.items() if e.kind == "precision"}
    assert precision == {"out_h1_in_sigma_prime", "w2+", "w3+", "w4+"}
    assert {"heading_hidden", "original_input"} <= set(items)
    # An erratum is a difference: none lists a figure printed as it should be.
    assert all(e.printed != e.exact for e in items.values())
    assert items["heading_hidden"].exact == "输入层——>隐含层的权值更新"
    for e in items.values():
        assert e.where("en") and e.cause("en") and e.where("zh") and e.cause("zh")


_ALLOWED = {"sigmoid", "tanh", "relu", "leaky", "softmax", "identity", "total", "target",
            "bprop", "train", "Mazur", "update", "biases", "max"}  # fmt: skip


def test_chinese_output_is_complete(default_text):
    zh = _cli(["--lang", "zh"])
    for term in ("前向传播", "反向传播", "总误差", "学习速率", "隐含层", "输出层", "输入层",
                 "链式法则", "偏导", "权值更新", "激活函数", "勘误"):  # fmt: skip
        assert term in zh, term
    words = set(re.findall(r"(?<![A-Za-z_\\])[A-Za-z]{4,}", zh)) - _ALLOWED
    assert not words, words
    # The same numbers as the English, line for line.
    nums = re.compile(r"-?\d+\.\d+")
    assert nums.findall(zh.split("勘误")[0]) == nums.findall(default_text.split("Errata")[0])


def test_markdown_structure():
    md = _cli(["--format", "markdown"])
    assert md.startswith("# Backpropagation, step by step")
    assert "## Step 1  Forward pass" in md
    assert (
        r"$$\mathrm{net}_{\mathrm{h1}} = w_{1} \cdot i_{1} + w_{2} \cdot i_{2} + b_{1} \cdot 1"
        in md
    )
    assert "0.082167041$$" in md
    assert md.count("$$") % 2 == 0
    assert "| where | article prints |" in md


def _check_latex_structure(tex: str) -> None:
    assert tex.startswith(r"\documentclass")
    assert tex.rstrip().endswith(r"\end{document}")
    body = re.sub(r"\\[{}$&%#_]", "", tex)
    depth = 0
    for c in body:
        depth += {"{": 1, "}": -1}.get(c, 0)
        assert depth >= 0
    assert depth == 0
    envs = re.findall(r"\\(begin|end)\{(\w+\*?)\}", tex)
    stack = []
    for kind, name in envs:
        if kind == "begin":
            stack.append(name)
        else:
            assert stack.pop() == name
    assert not stack
    assert body.count("$") % 2 == 0
    assert r"\[" not in tex or tex.count(r"\[") == tex.count(r"\]")


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("matrix", [False, True])
def test_latex_is_a_complete_document_that_compiles(tmp_path, lang, matrix):
    tex = _cli(["--format", "latex", "--lang", lang] + (["--matrix"] if matrix else []))
    _check_latex_structure(tex)
    assert ("ctexart" in tex) == (lang == "zh")
    engine = shutil.which("xelatex")
    if engine is None:
        pytest.skip("no TeX engine (apt-get install texlive-xetex texlive-lang-chinese)")
    (tmp_path / "d.tex").write_text(tex, encoding="utf-8")
    run = subprocess.run(
        [engine, "-interaction=nonstopmode", "-halt-on-error", "d.tex"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:]
    assert (tmp_path / "d.pdf").stat().st_size > 1000
    # Every character has a glyph: the English errata quote the article's Chinese words.
    log = (tmp_path / "d.log").read_text(encoding="utf-8", errors="replace")
    missing = [line for line in log.splitlines() if "Missing character" in line]
    assert not missing, f"{len(missing)} missing glyphs, e.g. {missing[0]}"


def _math_of(tex: str) -> list[str]:
    """The mathematics of a LaTeX document: its $…$, \\[…\\] and align* parts."""
    body = tex.replace(r"\$", "")
    found = re.findall(r"\\begin\{align\*\}(.*?)\\end\{align\*\}", body, re.S)
    found += re.findall(r"\\\[(.*?)\\\]", body, re.S)
    found += re.findall(
        r"\$(.*?)\$", re.sub(r"\\begin\{align\*\}.*?\\end\{align\*\}", "", body, flags=re.S)
    )
    return found


@pytest.mark.parametrize("argv", [[], ["--matrix"]])
def test_latex_sets_names_of_several_letters_upright(argv):
    # In math mode `net` is the italic product n·e·t: every name of several letters is \mathrm.
    tex = _cli(["--format", "latex", *argv])
    math = "\n".join(_math_of(tex))
    assert "e^{" in math or "sigma" in math  # the mathematics was found
    bare = re.findall(r"(?<![a-zA-Z{\\])(net|out|target|total|[a-z][a-z]?\d)(?![a-zA-Z])", math)
    assert not bare, sorted(set(bare))
    if not argv:
        assert r"\mathrm{target}_{\mathrm{o1}}" in tex and r"E_{\mathrm{total}}" in tex
        assert r"\delta_{\mathrm{o1}}" in tex


def test_headings_typeset_their_mathematics():
    # The matrix form's headings hold equations: no raw carets in any format.
    html = _cli(["--matrix", "--format", "html", "--update-biases"])
    headings = re.findall(r"<h\d>(.*?)</h\d>", html)
    assert headings and not any("^" in h for h in headings)
    assert any("z<sup>l</sup> = w<sup>l</sup> a<sup>l−1</sup>" in h for h in headings)
    assert "b<sup>l</sup> → b<sup>l</sup> − η ∂C/∂b<sup>l</sup>" in html
    # A transpose is (w³)ᵀ, not w to the power 3T.
    assert "(w<sup>3</sup>)<sup>T</sup>" in html and "(a<sup>1</sup>)<sup>T</sup>" in html
    tex = _cli(["--matrix", "--format", "latex", "--update-biases"])
    assert "textasciicircum" not in tex and r"(w^{3})^{T}" in tex
    assert r"\subsection*{Forward pass: $z^{l} = w^{l} a^{l-1} + b^{l}" in tex
    assert (
        r"\subsection*{Update: $w^{l} \rightarrow w^{l} - \eta \partial C/\partial w^{l}$}" in tex
    )
    zh = _cli(["--matrix", "--format", "latex", "--lang", "zh"])
    assert r"\subsection*{前向传播: $z^{l} = " in zh
    text = _cli(["--matrix"])
    assert "Forward pass: zˡ = wˡ aˡ⁻¹ + bˡ, aˡ = σ(zˡ)" in text and "^" not in text
    md = _cli(["--matrix", "--format", "markdown"])
    assert "## Forward pass: $z^{l} = w^{l} a^{l-1} + b^{l}" in md


def test_steps_10000_matches_exact_figure_quickly():
    t = time.perf_counter()
    text = _cli(["--steps", "10000"])
    assert time.perf_counter() - t < 5
    last = next(line for line in text.splitlines() if line.startswith("10000 "))
    assert last.split() == ["10000", "0.000035102"]
    assert "0.000035085" in text  # the article's figure, named as such
    ex = worked_example()
    rows = explain.error_table(ex.net, ex.x, ex.y, ex.eta, 3)
    assert [s for s, _ in rows] == [0, 1, 2, 3]
    assert round(rows[1][1], 9) == 0.291027774
    assert ex.net.weights[0][0, 0] == 0.15  # the caller's network is left unchanged


def test_spec_json_for_a_3_3_2_tanh_network(tmp_path):
    spec = {
        "sizes": [3, 3, 2],
        "activation": "tanh",
        "cost": "quadratic",
        "eta": 0.1,
        "inputs": [0.5, -0.2, 0.1],
        "targets": [0.3, -0.4],
        "weights": [
            [[0.1, 0.2, -0.3], [0.4, -0.5, 0.6], [-0.7, 0.8, 0.9]],
            [[0.15, -0.25, 0.35], [-0.45, 0.55, 0.65]],
        ],
        "biases": [[0.1, 0.2, 0.3], 0.5],
    }
    path = tmp_path / "net.json"
    path.write_text(json.dumps(spec))
    text = _cli(["--spec", str(path)])
    assert "tanh(net_h1)" in text
    assert "∂out_h1/∂net_h1 = 1 - out_h1^2" in text
    assert "∂E_o1/∂out_h3 + ∂E_o2/∂out_h3" in text
    problem = explain.problem_from_spec(spec)
    d = explain.derive(problem.net, problem.x, problem.y, problem.eta)
    _, nabla_w = problem.net.backprop(problem.x, problem.y)
    assert [ws.gradient for ws in d.weights] == [g for nw in nabla_w for g in nw.ravel()]
    assert explain.number(d.weights[0].gradient) in text
    assert not d.is_article


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"sizes": [2, 2]}, '"inputs"'),
        ({"sizes": [2, 2], "inputs": [1, 2], "targets": [1]}, "targets"),
        ({"sizes": [2, 2], "inputs": [1, 2], "targets": [1, 2], "weights": [[[1, 2]]]},
         "must be 2 rows of 2 numbers"),
        ({"sizes": [2, 2], "inputs": [1, 2], "targets": [1, 2], "biases": [[1, 2, 3]]},
         "2 numbers or one shared"),
        ({"sizes": [2, 2], "inputs": [1, 2], "targets": [1, 2], "eta": -1}, '"eta"'),
        ({"sizes": [2, 2], "colour": 1}, "unknown key"),
        ({"sizes": [2]}, "at least two"),
    ],
)  # fmt: skip
def test_spec_errors_are_clear(spec, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        explain.problem_from_spec(spec)


def test_too_large_network_names_the_limit(capsys):
    code = main(["explain", "--sizes", "2,8,2", "--seed", "0"])
    assert code == 2
    err = capsys.readouterr().err
    assert "at most" in err or "the limit is 6 neurons per layer and 4 layers" in err
    assert "--matrix" in err
    with pytest.raises(ValueError, match="10 neurons per layer"):
        explain.check_limits([2, 11, 2], matrix=True)
    explain.check_limits([2, 8, 2], matrix=True)


def test_matrix_view_prints_bp1_to_bp4_with_matrices():
    text = _cli(["--matrix"])
    for label in ("BP1", "BP2", "BP3", "BP4"):
        assert label in text
    assert "z² = w² a¹ + b² = [ 0.15  0.2 ] [ 0.05 ] + [ 0.35 ] = [ 0.3775 ]" in text
    assert "[ 0.082167041   0.082667628 ]" in text
    assert "δ³ = ∇ₐC ⊙ σ'(z³)" in text
    md = _cli(["--matrix", "--format", "markdown"])
    assert r"\begin{bmatrix}" in md


def test_deeper_network_uses_nielsens_names():
    net = Network([2, 3, 2, 1], "sigmoid", seed=3)
    d = explain.derive(net, [0.1, 0.2], [0.7], 1.0, update_biases=True)
    text = explain.render(d)
    assert "z²₁ = w²₁₁ * a¹₁ + w²₁₂ * a¹₂ + b²₁ * 1" in text
    assert "δ²₁" in text and "∂C/∂w²₁₁" in text
    assert "b²₁⁺" in text  # biases updated by BP3
    nabla_b, nabla_w = net.backprop(np.array([[0.1, 0.2]]), np.array([[0.7]]))
    assert d.weight("w2_11").gradient == nabla_w[0][0, 0]
    assert [b.gradient for b in d.biases] == [g for nb in nabla_b for g in nb]


@pytest.mark.parametrize(
    ("act", "out", "cost", "shown"),
    [
        ("relu", "sigmoid", "cross-entropy", "δ_o1 = ∂E_total/∂net_o1 = out_o1 - target_o1"),
        ("sigmoid", "softmax", "log-likelihood", "out_o1 = e^(net_o1)/(e^(net_o1) + e^(net_o2))"),
        ("leaky_relu", "identity", "quadratic", "out_o1 = net_o1"),
        ("tanh", "softmax", "quadratic", "δ_o1 = ∂E_total/∂net_o1"),
    ],
)
def test_other_activations_and_costs(act, out, cost, shown):
    net = Network([2, 2, 2], act, cost, output_activation=out, seed=1)
    d = explain.derive(net, [0.3, -0.6], [0.0, 1.0], 0.5)
    _, nabla_w = net.backprop(np.array([[0.3, -0.6]]), np.array([[0.0, 1.0]]))
    assert [ws.gradient for ws in d.weights] == [g for nw in nabla_w for g in nw.ravel()]
    for fmt in explain.FORMATS:
        for lang in explain.LANGS:
            assert explain.render(d, fmt=fmt, lang=lang)
    assert shown in explain.render(d)


def test_out_writes_the_file(tmp_path):
    target = tmp_path / "explain.md"
    assert main(["explain", "--format", "markdown", "--out", str(target)]) == 0
    assert target.read_text(encoding="utf-8").startswith("# Backpropagation")
    assert [p.name for p in tmp_path.iterdir()] == ["explain.md"]


def test_number_format():
    assert explain.number(0.3775) == "0.3775"
    assert explain.number(0.7513650695) == "0.75136507"
    assert explain.number(1.0) == "1"
    assert explain.number(-1e-12) == "0"
    assert explain.number(-0.0190491183) == "-0.019049118"


# -- the HTML page ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page():
    return _cli(["--format", "html"])


def test_html_is_self_contained(page, article):
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"(src|href)\s*=", page)
    assert "http" not in page
    assert "<svg" in page and "<script>" in page
    for ws in article.weights:
        key = article_key(ws)
        assert f'id="edge-{key}"' in page and f'id="deriv-{key}"' in page
        assert f'data-gradient="{ws.gradient!r}"' in page


def article_key(ws):
    return next(n for n, (i, j, k) in WEIGHT_NAMES.items() if (i + 2, j, k) == (ws.l, ws.j, ws.k))


def _browser():
    pw = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no chromium: apt-get install chromium")
    return pw, chromium


def test_html_in_a_headless_browser(tmp_path, page, article):
    pw, chromium = _browser()
    path = tmp_path / "explain.html"
    path.write_text(page, encoding="utf-8")
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
    with pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=args)
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 900})
            requests = []
            tab.on("request", lambda r: requests.append(r.url))
            tab.goto(path.as_uri())
            # The numbers in the page are the library's.
            edges = tab.eval_on_selector_all(
                ".edge",
                "es => es.map(e => [e.dataset.weight, +e.dataset.gradient, +e.dataset.updated])",
            )
            assert len(edges) == 8
            for key, gradient, updated in edges:
                ws = article.weight(key)
                assert (gradient, updated) == (ws.gradient, ws.updated)
            h1 = tab.eval_on_selector("#node-h1", "e => [+e.dataset.net, +e.dataset.out]")
            assert h1 == [article.layers[1][0].net, article.layers[1][0].out]
            assert "0.593269992" in tab.text_content("#node-h1")
            # Clicking w5 highlights its path and shows its derivation.
            tab.click("#label-w5")
            panel = tab.inner_text("#panel")
            assert "0.082167041" in panel and "0.35891648" in panel
            highlighted = tab.eval_on_selector_all(".hl", "es => es.map(e => e.id)")
            assert set(highlighted) == {"edge-w5", "node-h1", "node-o1"}
            tab.click("#label-w1")
            assert "0.036350306" in tab.inner_text("#panel")
            highlighted = set(tab.eval_on_selector_all(".hl", "es => es.map(e => e.id)"))
            assert {"edge-w1", "edge-w5", "edge-w7", "node-o1", "node-o2"} <= highlighted
            shot = tmp_path / "shot.png"
            tab.screenshot(path=str(shot), full_page=False)
            assert all(u.startswith("file:") for u in requests), requests
        finally:
            browser.close()
    _assert_not_blank(shot)


def _assert_not_blank(png: Path) -> None:
    try:
        from PIL import Image
    except ImportError:
        assert png.stat().st_size > 20_000
        return
    with Image.open(png) as im:
        colours = im.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50, "the screenshot is blank"


def test_output_activation_flag_explains_a_tanh_net_with_sigmoid_outputs(capsys):
    # The README's example: tanh hidden layer, sigmoid outputs, cross-entropy.
    argv = ["--sizes", "3,3,2", "--activation", "tanh", "--output-activation", "sigmoid"]
    argv += ["--cost", "cross-entropy", "--eta", "0.1", "--inputs", "0.1,0.2,0.3"]
    text = _cli([*argv, "--targets", "0.01,0.99"])
    assert "Activation function: tanh, sigmoid; cost: cross-entropy" in text
    assert "out_h1 = tanh(net_h1)" in text
    assert "δ_o1 = ∂E_total/∂net_o1 = out_o1 - target_o1" in text  # σ' cancels (BP1)
    # The flag reaches the spec: a spec's output activation can be overridden too.
    spec = {"sizes": [3, 3, 2], "activation": "tanh", "output_activation": "sigmoid"}
    spec |= {"cost": "cross-entropy", "inputs": [0.1, 0.2, 0.3], "targets": [0.01, 0.99]}
    assert [a.name for a in explain.problem_from_spec(spec).net.activations] == ["tanh", "sigmoid"]
    # Without it, tanh outputs cannot take the cross-entropy cost: a clear refusal.
    assert main(["explain", *argv[:4], *argv[6:], "--targets", "0.01,0.99"]) == 2
    assert "use a sigmoid or softmax output layer" in capsys.readouterr().err


def test_log_likelihood_with_sigmoid_outputs_is_refused_saying_why(capsys):
    code = main(["explain", "--cost", "log-likelihood", "--targets", "0,1"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "δ^L_j = 0" in err and "softmax" in err and "--output-activation softmax" in err
    spec = explain.article_spec() | {"cost": "log-likelihood"}
    with pytest.raises(ValueError, match="would teach nothing"):
        explain.problem_from_spec(spec)
    # With softmax outputs the same cost is explained (δ^L = a − y).
    text = _cli(["--cost", "log-likelihood", "--output-activation", "softmax"])
    assert "δ_o1 = ∂E_total/∂net_o1 = out_o1 - target_o1" in text


# -- the drawing: labels beside their edges, never overlapping -----------------------------------

# The article's net, the README's 3-3-2, a deeper one, and the largest drawn (STEP_LIMIT).
DRAWN = [[2, 2, 2], [3, 3, 2], [2, 4, 3, 2], [6, 6, 6, 6]]


def _drawn(sizes):
    if sizes == [2, 2, 2]:
        ex = worked_example()  # the article's own network, weights and example
        return explain.derive(ex.net, ex.x, ex.y, ex.eta)
    spec = {"sizes": sizes, "seed": 1, "inputs": [0.1 * (k + 1) for k in range(sizes[0])]}
    spec["targets"] = [0.01 + 0.98 * (j % 2) for j in range(sizes[-1])]
    problem = explain.problem_from_spec(spec)
    return explain.derive(problem.net, problem.x, problem.y, problem.eta)


_NUM = r'"(-?[\d.]+)"'
_EDGE = re.compile(rf'<line class="vis" x1={_NUM} y1={_NUM} x2={_NUM} y2={_NUM}/>.*?'
                   rf'<text id="label-[^"]+" x={_NUM} y={_NUM}[^>]*>([^<]*)<')  # fmt: skip
_NUMBERS = re.compile(rf'<text class="num" x={_NUM} y={_NUM}[^>]*>([^<]*)<')
_CIRCLE = re.compile(rf"<circle cx={_NUM} cy={_NUM} r={_NUM}")


@pytest.mark.parametrize("sizes", DRAWN, ids=lambda s: "-".join(map(str, s)))
def test_layout_keeps_labels_off_lines_and_apart(sizes):
    # The page's SVG as written: the boxes of 12 px monospace text (figure.Box) do not overlap,
    # meet no neuron, and no weight's label touches its own edge.
    from bprop.explain.figure import Box
    from bprop.explain.formats.html import _svg

    svg = _svg(_drawn(sizes))
    edges = [([float(v) for v in e[:6]], e[6]) for e in _EDGE.findall(svg)]
    texts = [(float(x), float(y), t) for x, y, t in _NUMBERS.findall(svg)]
    texts += [(x, y, t) for (*_, x, y), t in edges]
    circles = [tuple(map(float, c)) for c in _CIRCLE.findall(svg)]
    assert len(edges) == sum(a * b for a, b in itertools.pairwise(sizes))
    assert len(circles) == sum(sizes) and len(texts) == len(edges) + 3 * sum(sizes) - 2 * sizes[0]
    boxes = [Box.around(x, y, t) for x, y, t in texts]
    for i, a in enumerate(boxes):
        assert not any(a.overlaps(b) for b in boxes[i + 1 :]), texts[i]
        assert not any(a.meets_circle(*c) for c in circles), texts[i]
    for (x1, y1, x2, y2, x, y), t in edges:
        assert not Box.around(x, y, t).meets_segment((x1, y1), (x2, y2)), t


def test_the_drawing_in_chromium_has_no_overlapping_text(tmp_path):
    # What the browser draws: the boxes it measures, for the article's net and two larger ones,
    # and the matrices of the matrix form in brackets (sides and corner ticks), not bars.
    pw, chromium = _browser()
    pages = {}
    for sizes in DRAWN[:3]:
        d = _drawn(sizes)
        pages["-".join(map(str, sizes))] = explain.render(d, fmt="html")
    pages["matrix"] = _cli(["--matrix", "--format", "html"])
    measure = """() => {
      const texts = [...document.querySelectorAll('svg text')].filter(
        t => !t.classList.contains('name'));
      const own = t => t.closest('.edge') && t.closest('.edge').querySelector('line');
      return {
        boxes: texts.map(t => { const b = t.getBBox(); const l = own(t);
          return [t.textContent, b.x, b.y, b.x + b.width, b.y + b.height,
                  l ? ['x1', 'y1', 'x2', 'y2'].map(a => +l.getAttribute(a)) : null]; }),
        circles: [...document.querySelectorAll('svg circle')].map(
          c => ['cx', 'cy', 'r'].map(a => +c.getAttribute(a))),
        mats: [...document.querySelectorAll('table.mat')].map(m => { const s = getComputedStyle(m);
          return [s.borderLeftWidth, s.borderRightWidth,
                  s.backgroundImage.split('linear-gradient').length - 1, s.backgroundSize]; }),
      };
    }"""  # fmt: skip
    from bprop.explain.figure import Box

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
    with pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=args)
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 900})
            for name, page in pages.items():
                path = tmp_path / f"{name}.html"
                path.write_text(page, encoding="utf-8")
                tab.goto(path.as_uri())
                got = tab.evaluate(measure)
                boxes = [(t, Box(x0, y0, x1, y1), line) for t, x0, y0, x1, y1, line in got["boxes"]]
                for i, (t, a, line) in enumerate(boxes):
                    others = [u for u, b, _ in boxes[i + 1 :] if a.overlaps(b)]
                    assert not others, f"{name}: {t!r} overlaps {others}"
                    assert not any(a.meets_circle(*c) for c in got["circles"]), f"{name}: {t!r}"
                    if line:
                        assert not a.meets_segment(line[:2], line[2:]), f"{name}: {t!r} on its edge"
                if name == "matrix":
                    assert len(got["mats"]) > 20
                    for left, right, ticks, size in got["mats"]:
                        assert left == right == "2px" and ticks == 4 and size.startswith("6px 2px")
        finally:
            browser.close()
