"""The tutorial notebooks (``notebooks/en``, ``notebooks/zh``): stored clean, run end to end,
rendered, and looked at in Chromium.

Each notebook is executed once by nbclient on a fresh kernel (an error in any cell fails its
test), rendered to HTML with nbconvert's JupyterLab template, and checked for the displays it
is there to show.  In Chromium, a rendered notebook with bprop's displays is compared with the
same notebook whose bprop outputs are replaced by their plain text: every element of the
notebook itself must keep its computed size and style, so no display leaks a style.
Screenshots go to a temporary folder, or to ``$BPROP_NOTEBOOK_SHOTS``, to be looked at.
"""

from __future__ import annotations

import copy
import html
import io
import os
import shutil
import tokenize
import unicodedata
from pathlib import Path

import numpy as np
import pytest

import bprop
import bprop.notebook as nb
from bprop import explain

nbformat = pytest.importorskip("nbformat", reason='pip install -e ".[test]"')

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
TUTORIALS = (
    "1-worked-example",
    "2-four-equations-on-mnist",
    "3-why-learning-slows",
    "4-bprop-and-the-ecosystem",
)
LANGS = ("en", "zh")
CASES = [(lang, name) for name in TUTORIALS for lang in LANGS]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]


def read(lang: str, name: str):
    return nbformat.read(NOTEBOOKS / lang / f"{name}.ipynb", as_version=4)


def code_cells(notebook) -> list[str]:
    return [c.source for c in notebook.cells if c.cell_type == "code"]


# -- how they are stored ------------------------------------------------------------------------


def test_the_four_tutorials_are_there_in_both_languages():
    found = sorted(p.relative_to(NOTEBOOKS).as_posix() for p in NOTEBOOKS.glob("*/*.ipynb"))
    assert found == sorted(f"{lang}/{name}.ipynb" for lang, name in CASES)


@pytest.mark.parametrize("lang, name", CASES)
def test_stored_valid_and_without_outputs(lang, name):
    notebook = read(lang, name)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


def _without_comments(source: str) -> str:
    tokens = [
        t
        for t in tokenize.generate_tokens(io.StringIO(source).readline)
        if t.type != tokenize.COMMENT
    ]
    return tokenize.untokenize(tokens)


@pytest.mark.parametrize("name", TUTORIALS)
def test_english_and_chinese_run_the_same_code(name):
    """Only comments, and the language the displays are asked for, may differ."""
    en, zh = (code_cells(read(lang, name)) for lang in LANGS)
    assert len(en) == len(zh)
    for a, b in zip(en, zh):
        b = b.replace('lang = "zh"', 'lang = "en"')
        assert _without_comments(a).split() == _without_comments(b).split()


def _cjk_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    return sum("CJK" in unicodedata.name(c, "") for c in letters) / max(len(letters), 1)


@pytest.mark.parametrize("name", TUTORIALS)
def test_the_chinese_tutorials_are_written_in_chinese(name):
    en, zh = read("en", name), read("zh", name)
    pairs = [(a, b) for a, b in zip(en.cells, zh.cells) if a.cell_type == "markdown"]
    assert pairs and all(b.cell_type == "markdown" for _, b in pairs)
    for a, b in pairs:
        assert a.source != b.source
        assert _cjk_share(b.source) > 0.3, b.source[:80]  # the rest: symbols, code, names


def test_the_chinese_tutorials_use_the_seeds_terms():
    text = "".join(c.source for name in TUTORIALS for c in read("zh", name).cells)
    for term in (
        "前向传播",
        "反向传播",
        "隐含层",
        "输出层",
        "学习率",
        "链式法则",
        "权重",
        "偏置",
        "激活函数",
        "代价函数",
        "梯度下降",
        "小批量",
    ):
        assert term in text, term


# -- run end to end -----------------------------------------------------------------------------

EXECUTED: dict[tuple[str, str], object] = {}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("notebooks")


def executed(lang: str, name: str, workdir: Path):
    """The notebook run top to bottom on a fresh kernel (once per test session)."""
    if (lang, name) not in EXECUTED:
        nbclient = pytest.importorskip("nbclient", reason='pip install -e ".[test]"')
        notebook = read(lang, name)
        cwd = workdir / f"{lang}-{name}"
        cwd.mkdir()
        client = nbclient.NotebookClient(
            notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": cwd}}
        )
        client.execute()
        EXECUTED[(lang, name)] = notebook
    return EXECUTED[(lang, name)]


def render(notebook) -> str:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    return body


def _outputs(notebook, mime: str) -> list[str]:
    return [
        o.data[mime]
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type in ("execute_result", "display_data") and mime in o.get("data", {})
    ]


# What each tutorial is there to show: (text in a bprop display, how many displays hold it).
SHOWN = {
    "1-worked-example": [
        ('class="bprop-explain"', 1),  # the derivation
        ("12 parameters", 1),  # the worked example's network
        ("<polyline", 1),  # XOR's history
    ],
    "2-four-equations-on-mnist": [
        ('class="bprop-sample"', 1),  # MNIST's sample images
        ("23,860 parameters", 1),  # the book's network
        ("3 epochs, so far.", 1),  # the live plot, last drawn
        ("3 epochs, completed.", 1),  # the history
        ('class="bprop-lab"', 1),  # the digit pad
    ],
    "3-why-learning-slows": [
        ("300 epochs, completed.", 2),  # one neuron, two costs
        ("run cross-entropy", 1),  # the run folder
        ('class="bprop-figure"', 1),  # with its figure
    ],
    "4-bprop-and-the-ecosystem": [
        ("2,410 parameters", 1),  # the 64-32-10 network inside the pipeline
        ("200 epochs, completed.", 1),  # the moons network
        ('class="bprop-lab"', 1),  # explored in the lab
    ],
}


@pytest.mark.parametrize("lang, name", CASES)
def test_the_tutorial_runs_and_shows_bprop_displays(lang, name, workdir):
    notebook = executed(lang, name, workdir)
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    displays = _outputs(notebook, "text/html")
    for text, count in SHOWN[name]:
        assert sum(text in d for d in displays) >= count, text
    page = render(notebook)
    for text, _ in SHOWN[name]:
        assert html.escape(text, quote=False) in page or text in page, text
    if name == "3-why-learning-slows":
        assert len(_outputs(notebook, "image/png")) == 2  # the learning-speed figures
    if name == "1-worked-example":
        shown = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
        for figure in ("0.298371109", "0.35891648", "0.149780716", "0.291027774"):
            assert figure in shown  # the article's numbers, by hand and by bprop


def test_progress_is_a_widget_bar_in_the_notebook(workdir):
    pytest.importorskip("ipywidgets", reason='pip install -e ".[notebook]"')
    notebook = executed("en", "2-four-equations-on-mnist", workdir)
    assert _outputs(notebook, "application/vnd.jupyter.widget-view+json")


# -- looked at in Chromium ----------------------------------------------------------------------


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


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("BPROP_NOTEBOOK_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return tmp_path_factory.mktemp("notebook_shots")


def open_page(browser, path: Path, width: int = 1280):
    """The page from file://, every other request (the template's CDN scripts) refused."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.route(
        "**/*",
        lambda r: (
            r.continue_() if r.request.url.startswith(("file:", "about:", "data:")) else r.abort()
        ),
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_timeout(300)
    return page, errors


def as_plain_text(notebook):
    """The notebook with each bprop display replaced by an unstyled HTML output of its plain
    text: the same outputs in the same places, without bprop's styles."""
    plain = copy.deepcopy(notebook)
    for cell in plain.cells:
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            if "text/html" in data and "bprop-" in data["text/html"]:
                text = html.escape(data.get("text/plain", ""))
                data.clear()
                data["text/html"] = f"<div>{text}</div>"
    return plain


# The notebook's own elements and the computed styles that a leaking rule would change.
NOTEBOOK_STYLE = """() => {
  const keys = ['width', 'font-family', 'font-size', 'line-height', 'color', 'margin-left',
                'padding-left', 'display', 'background-color', 'border-top-width'];
  const pick = (e) => keys.map((k) => getComputedStyle(e).getPropertyValue(k)).join('|');
  const sel = ['body', 'main', '.jp-Notebook', '.jp-Cell', '.jp-InputArea', '.jp-InputPrompt',
               '.jp-OutputPrompt', '.jp-CodeMirrorEditor', '.jp-RenderedMarkdown',
               '.jp-RenderedMarkdown h1', '.jp-RenderedMarkdown h2', '.jp-RenderedMarkdown p',
               '.jp-RenderedMarkdown table', '.jp-RenderedMarkdown td', '.jp-RenderedMarkdown code',
               '.jp-OutputArea-output pre'];
  return Object.fromEntries(sel.map((s) => [s, [...document.querySelectorAll(s)]
    .filter((e) => !e.closest('[id^=bprop-]')).map(pick)]));
}"""


@pytest.mark.parametrize("name", ["1-worked-example", "2-four-equations-on-mnist"])
def test_no_display_leaks_a_style_into_the_notebook(browser, shots, workdir, tmp_path, name):
    notebook = executed("en", name, workdir)
    with_displays, plain = tmp_path / "displays.html", tmp_path / "plain.html"
    with_displays.write_text(render(notebook), encoding="utf-8")
    plain.write_text(render(as_plain_text(notebook)), encoding="utf-8")
    styles = []
    for path in (with_displays, plain):
        page, errors = open_page(browser, path)
        assert not errors
        styles.append(page.evaluate(NOTEBOOK_STYLE))
        if path is with_displays:
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
            assert page.locator("[id^=bprop-]").count() >= 3
        page.context.close()
    for selector, values in styles[1].items():
        assert styles[0][selector] == values, selector
    assert len(styles[0][".jp-Cell"]) == len(notebook.cells)


def test_a_derivation_answers_the_mouse_and_the_keyboard_without_a_script(
    browser, shots, workdir, tmp_path
):
    path = tmp_path / "worked.html"
    path.write_text(render(executed("en", "1-worked-example", workdir)), encoding="utf-8")
    page, errors = open_page(browser, path)
    root = page.locator(".bprop-explain")
    shown = """r => [...r.querySelectorAll('.deriv')].filter(
        d => getComputedStyle(d).display !== 'none').map(d => d.id.split('-').pop())"""
    stroke = """(r, w) => getComputedStyle(r.querySelector(
        `g.edge[data-weight=${w}] line.vis`)).stroke"""
    assert root.evaluate(shown) == []
    root.locator("g.edge[data-weight=w5] line.vis").hover(force=True)
    assert root.evaluate(shown) == ["w5"]
    assert root.evaluate(stroke, "w5") == "rgb(221, 51, 51)"  # its chain-rule path lit
    assert root.evaluate(stroke, "w1") != "rgb(221, 51, 51)"
    page.screenshot(path=str(shots / "derivation-w5.png"))
    root.locator("g.edge[data-weight=w1] line.vis").click(
        force=True
    )  # chosen: stays when the mouse leaves
    page.mouse.move(5, 5)
    assert root.evaluate(shown) == ["w1"]
    page.keyboard.press("Tab")  # the next weight, from the keyboard
    assert root.evaluate(shown) == ["w2"]
    assert not errors


def test_the_lab_frame_runs_the_network_trained_in_python(browser, tmp_path):
    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, size=(120, 2))
    y = (X[:, 0] ** 2 + X[:, 1] ** 2 < 0.4).astype(int)
    net = bprop.Network([2, 5, 2], "tanh", "log-likelihood", output_activation="softmax", seed=2)
    net.SGD(X, y, 20, 10, 0.2, seed=0, verbose=False)
    path = tmp_path / "lab.html"
    path.write_text(
        f"<!DOCTYPE html><html><body>{nb.lab(net, (X, y), mini_batch_size=12)._repr_html_()}"
        "</body></html>",
        encoding="utf-8",
    )
    page, errors = open_page(browser, path)
    page.wait_for_timeout(1500)
    frame = next(f for f in page.frames if f.url == "about:srcdoc")
    got = frame.evaluate("() => bpropLab.parameters()")
    assert got["weights"] == [w.tolist() for w in net.weights]  # the exact numbers
    assert got["biases"] == [b.tolist() for b in net.biases]
    state = frame.evaluate(
        "() => [bpropLab.state.tab, bpropLab.state.batch, bpropLab.lab.fixedBatch]"
    )
    assert state == ["inspect", 12, None]
    # The sandbox keeps the page out of the notebook's document.
    assert (
        frame.evaluate(
            "() => { try { return !!parent.document; } catch (e) { return 'blocked'; } }"
        )
        == "blocked"
    )
    assert not errors
    page.context.close()


def test_the_digit_pad_opens_inside_the_rendered_notebook(browser, shots, workdir, tmp_path):
    path = tmp_path / "mnist.html"
    path.write_text(render(executed("en", "2-four-equations-on-mnist", workdir)), encoding="utf-8")
    page, errors = open_page(browser, path)
    frame_element = page.locator("iframe.bprop-lab")
    frame_element.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    frame = next(f for f in page.frames if f.url == "about:srcdoc")
    assert frame.evaluate("() => bpropLab.state.tab") == "pad"
    assert frame.evaluate("() => bpropLab.pictures().length") == 20  # 2 test images a class
    frame_element.screenshot(path=str(shots / "lab-in-notebook.png"))
    assert not errors
    page.context.close()


def test_a_bprop_display_in_a_notebook_page_keeps_its_text_fallback_hidden(
    browser, workdir, tmp_path
):
    path = tmp_path / "n.html"
    path.write_text(render(executed("en", "1-worked-example", workdir)), encoding="utf-8")
    page, _ = open_page(browser, path)
    hidden = page.evaluate(
        "() => [...document.querySelectorAll('.bprop-text')].map(e => getComputedStyle(e).display)"
    )
    assert hidden and set(hidden) == {"none"}
    widths = page.evaluate(
        "() => [...document.querySelectorAll('[id^=bprop-] > svg, .bprop-explain')]"
        ".map(e => e.getBoundingClientRect().width)"
    )
    assert widths and all(w > 100 for w in widths)
    page.context.close()


def test_the_leak_check_catches_a_page_that_leaks(browser, workdir, tmp_path):
    """The comparison above can fail: explain's whole page shown in a cell restyles the
    notebook (its ``body`` and ``main`` rules), and the check sees it."""
    notebook = as_plain_text(executed("en", "1-worked-example", workdir))
    ex = bprop.examples.worked_example()
    d = explain.derive(ex.net, ex.x[0], ex.y[0], ex.eta)
    leaking = copy.deepcopy(notebook)
    cell = next(c for c in leaking.cells if c.cell_type == "code" and c.outputs)
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": explain.render(d, fmt="html")})
    ]
    styles = []
    for i, version in enumerate((notebook, leaking)):
        path = tmp_path / f"{i}.html"
        path.write_text(render(version), encoding="utf-8")
        page, _ = open_page(browser, path)
        styles.append(page.evaluate(NOTEBOOK_STYLE))
        page.context.close()
    assert styles[0] != styles[1]
