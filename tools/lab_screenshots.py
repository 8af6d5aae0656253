"""Take the README's screenshots of the lab page (one per tab) in headless Chromium.

    python tools/lab_screenshots.py [--model RUN] [--out docs/images]

Writes ``lab-playground.png`` (two spirals learnt by a 2-8-8-2 network), ``lab-inspect.png``
(step mode at BP2) and ``lab-pad.png`` (a digit drawn with the mouse), each reduced to 256
colours (the pad's to 128) to stay small.  Without ``--model`` it trains a 784-100-10 network
on 10,000 MNIST digits for the pad first (a few seconds).
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import tempfile
from pathlib import Path

ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
SPIRALS = {
    "data": {"kind": "spirals", "points": 500, "noise": 0.1, "testShare": 0.3, "seed": 1},
    "hidden": [{"n": 8, "act": "tanh"}, {"n": 8, "act": "tanh"}],
    "output": "softmax",
    "cost": "log-likelihood",
    "init": "standard",
    "eta": 0.3,
    "batch": 10,
    "speed": 10,
    "showTest": True,
}
STEP = {
    "data": {"kind": "circle", "points": 200, "noise": 0.1, "testShare": 0.3, "seed": 1},
    "hidden": [{"n": 3, "act": "tanh"}, {"n": 3, "act": "sigmoid"}],
    "batch": 4,
}


def model_page(model: str | None) -> str:
    import bprop
    from bprop import datasets, lab, serialize

    data = datasets.load("mnist")
    if model:
        from bprop import runs

        net, meta = serialize.load_model(runs.model_file(model))
        name = Path(model).name
    else:
        acts = ["sigmoid", "softmax"]
        net = bprop.Network([784, 100, 10], acts, "log-likelihood", init="scaled", seed=1)
        net.SGD(data.train.X[:10000], data.train.y[:10000], 2, 10, 0.5, seed=1, verbose=False)
        meta = {"dataset": {"name": "mnist", "class_names": list(data.class_names)}}
        name = "784-100-10"
    return lab.page(
        model=lab.model_data(net, meta, name), images=lab.pad_images(data.test.X, data.test.y)
    )


def save(png: bytes, path: Path, colours: int = 256) -> None:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        small = im.convert("RGB").quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
        small.save(path, optimize=True)
    print(f"{path}: {path.stat().st_size / 1e3:.0f} KB")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="run folder or model .npz for the digit pad")
    p.add_argument("--out", type=Path, default=Path("docs/images"))
    args = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("needs Chromium (apt-get install chromium)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        path = Path(tmp) / "lab.html"
        path.write_text(model_page(args.model), encoding="utf-8")
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(path.as_uri())
        page.evaluate("s => bpropLab.set(s)", SPIRALS)
        page.evaluate(
            """() => { for (let i = 0; i < 400; i++) {
                         bpropLab.tick();
                         const h = bpropLab.lab.history;
                         if (h[h.length - 1].atr >= 0.97) break; } }"""
        )
        top = {"x": 0, "y": 0, "width": 1280}
        save(page.screenshot(clip=top | {"height": 760}), args.out / "lab-playground.png")
        page.evaluate("s => bpropLab.set(s)", SPIRALS | STEP)
        page.click("[data-tab=inspect]")
        page.click("#step-start")
        for _ in range(6):  # forward ×3, cost, BP1, BP2 for layer 3, then for layer 2
            page.click("#step-next")
        save(page.screenshot(clip=top | {"height": 640}), args.out / "lab-inspect.png")
        page.click("[data-tab=pad]")
        box = page.locator("#pad-canvas").bounding_box()
        strokes = [[(0.3, 0.2), (0.7, 0.2), (0.72, 0.3), (0.42, 0.86)], [(0.4, 0.52), (0.68, 0.52)]]
        for stroke in strokes:
            (x, y), *rest = stroke
            page.mouse.move(box["x"] + 280 * x, box["y"] + 280 * y)
            page.mouse.down()
            for x, y in rest:
                page.mouse.move(box["x"] + 280 * x, box["y"] + 280 * y, steps=8)
            page.mouse.up()
        page.click("#pad-layers canvas", position={"x": 20, "y": 5})
        save(
            page.screenshot(clip=top | {"height": 1110}, full_page=True),
            args.out / "lab-pad.png",
            128,
        )
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
