"""`bprop report`: one self-contained HTML file, rendered in a real headless browser."""

from __future__ import annotations

import base64
import io
import re
import shutil

import numpy as np
import pytest
from report_run import make_run

from bprop.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The book's network with the quadratic cost, then with cross-entropy, side by side."""
    root = tmp_path_factory.mktemp("report")
    quadratic = make_run(root / "quadratic", "quadratic", 3.0)
    cross_entropy = make_run(root / "cross-entropy", "cross-entropy", 0.5)
    out = root / "report.html"
    assert main(["report", str(quadratic), str(cross_entropy), "--out", str(out)]) == 0
    return out


def _images(html):
    return re.findall(r'<img src="([^"]*)"', html)


def test_the_report_is_one_self_contained_file(report):
    html = report.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"""(src|href)=["'](?!data:|#)""", html)  # nothing fetched
    sources = _images(html)
    assert len(sources) == 1 + 2 * 7  # the comparison, then 7 figures per run
    from PIL import Image

    for src in sources:
        assert src.startswith("data:image/png;base64,")
        with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as image:
            assert image.format == "PNG" and image.width >= 400


def test_the_report_shows_why_cross_entropy_learns_faster_at_the_start(report):
    html = report.read_text(encoding="utf-8")
    comparison = html.split("What to look at")[0]
    rows = dict(re.findall(r"<tr><th>([^<]*)</th>((?:<td[^>]*>[^<]*</td>)+)</tr>", comparison))
    cells = {k: re.findall(r"<td[^>]*>([^<]*)</td>", v) for k, v in rows.items()}
    assert cells["cost"] == ["quadratic", "cross-entropy"]
    assert cells["σ′(zᴸ) in δᴸ (BP1)?"][0].startswith("yes")
    assert cells["σ′(zᴸ) in δᴸ (BP1)?"][1] == "no: δᴸ = a − y"
    quadratic, cross_entropy = (float(v) for v in cells["‖∂C/∂bᴸ‖ before training"])
    assert cross_entropy > 5 * quadratic
    quadratic, cross_entropy = (float(v.rstrip("%")) for v in cells["probe accuracy after epoch 0"])
    assert cross_entropy > quadratic
    # The quadratic run is warned about its saturated outputs; the cross-entropy run is not.
    quadratic_part, cross_entropy_part = html.split("<h2 id='run-1'>")
    assert "saturated-output</b>" in quadratic_part.split("<h2 id='run-0'>")[1]
    assert "saturated-output</b>" not in cross_entropy_part
    assert "--cost cross-entropy" in quadratic_part and "What to look at" in html


def test_one_run_writes_its_report_into_the_run_folder(report, capsys):
    run = report.parent / "quadratic"
    assert main(["report", str(run)]) == 0
    assert capsys.readouterr().out.strip() == str(run / "report.html")
    html = (run / "report.html").read_text(encoding="utf-8")
    assert len(_images(html)) == 7
    # Its guide speaks of this run only: no "cross-entropy run" that is not in it.
    guide = html.split("What to look at")[1].split("<h2 id='run-0'>")[0]
    assert "cross-entropy run" not in guide and "table above" not in guide
    assert "This run's δᴸ has the σ′(zᴸ) factor (quadratic cost)" in guide
    assert "<code>bprop report RUN_A RUN_B</code>" in guide


def test_two_runs_guide_names_the_runs_to_compare(report):
    guide = report.read_text(encoding="utf-8").split("What to look at")[1]
    assert "of quadratic (σ′(zᴸ) in δᴸ) and of cross-entropy (δᴸ = a − y)" in guide


def test_missing_run_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "no run folder" in capsys.readouterr().err


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium: apt-get install chromium")
def test_the_report_renders_in_headless_chromium_with_every_figure(report, tmp_path):
    playwright = pytest.importorskip(
        "playwright.sync_api", reason="needs the playwright package: pip install playwright"
    )
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_FLAGS[1:])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            requests = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report.as_uri(), wait_until="load")
            images = page.evaluate(
                "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])"
            )
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert len(images) == 15
    assert all(complete and width > 0 for complete, width, _ in images), images
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    from PIL import Image

    with Image.open(shot) as image:
        pixels = np.asarray(image.convert("L"))
    assert pixels.shape[0] > 3000  # the full page: tables and 15 figures
    assert pixels.std() > 20 and np.mean(pixels < 128) > 0.005  # not blank
