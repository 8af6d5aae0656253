"""Speed of the lab page (``bprop lab``) in headless Chromium: training frames and the digit pad.

Two measurements, each in the page itself (``performance.now()`` around the page's own code):

``playground``
    A 2-8-8-2 network (tanh hidden layers, softmax outputs, log-likelihood cost, m = 10) on the
    circle data set with 500 training and 500 test points.  Reports mini-batch steps per second
    (training alone), and the work of one frame — ``--speed`` mini-batches, the train and test
    cost over all 1,000 points, and every heat map redrawn (a 40 × 40 grid through the network:
    two input maps, 16 hidden, 2 output, the decision regions, the cost chart) — as
    milliseconds and the frames per second that allows.  Then the page plays for
    ``--seconds`` as a user sees it, driven by the browser's animation frames, and reports the
    frames and steps per second it reached (the browser caps frames at its display rate, 60).
    Target: at least 30 frames per second.
``pad``
    A 784-100-10 model (trained briefly on MNIST when it is at hand, else random weights: the
    time does not depend on them).  A digit is drawn with mouse events, then the pad's update —
    read the canvas, prepare it as ``bprop predict`` prepares an image, feed it forward, redraw
    the input, the activations, the probabilities and the chosen neuron — is timed; median,
    90th percentile and worst of ``--repeats`` runs.  Target: under 16 ms.

Wall-clock times are measured inside the page; the CPU time of the browser's processes over
each measurement is reported beside them (``/proc``, Linux only), since the machines here are
shared.  Usage::

    python benchmarks/lab.py [--seconds 5] [--speed 10] [--repeats 200] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import bprop
from bprop import lab

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SETTINGS = {
    "data": {"kind": "circle", "points": 1000, "testShare": 0.5, "noise": 0.1, "seed": 1},
    "hidden": [{"n": 8, "act": "tanh"}, {"n": 8, "act": "tanh"}],
    "output": "softmax",
    "cost": "log-likelihood",
    "eta": 0.3,
    "batch": 10,
}


def _children_cpu_seconds() -> float:
    """User + system CPU seconds of every process descended from this one (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents, cpu = {}, {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(d.name)] = int(fields[1])
        cpu[int(d.name)] = (int(fields[11]) + int(fields[12])) / ticks
    me, total = os.getpid(), 0.0
    for pid in cpu:
        p = pid
        while p in parents and p not in (0, 1, me):
            p = parents[p]
        if p == me and pid != me:
            total += cpu[pid]
    return total


def playground(page: Any, speed: int, seconds: float) -> dict[str, Any]:
    page.click("[data-tab=playground]")
    assert page.evaluate("s => bpropLab.set(s)", SETTINGS | {"speed": speed})
    sizes = page.evaluate("() => bpropLab.lab.net.sizes")
    n_train = page.evaluate("() => bpropLab.lab.train.X.rows")
    cpu0 = _children_cpu_seconds()
    steps = page.evaluate(
        """() => {
            const t0 = performance.now(); let n = 0;
            while (performance.now() - t0 < 1000) { bpropLab.trainOne(); n++; }
            return n / ((performance.now() - t0) / 1000);
        }"""
    )
    page.evaluate("() => bpropLab.set({})")  # back to the initial weights
    frame_ms = page.evaluate(
        """() => {
            const times = [];
            for (let i = 0; i < 150; i++) {
                const t0 = performance.now(); bpropLab.tick(); times.push(performance.now() - t0);
            }
            return times.slice(30).sort((a, b) => a - b);
        }"""
    )
    cpu_work = _children_cpu_seconds() - cpu0
    page.evaluate("() => bpropLab.set({})")
    before = page.evaluate("() => [bpropLab.lab.updates, bpropLab.lab.history.length]")
    cpu0, t0 = _children_cpu_seconds(), time.perf_counter()
    page.click("#play")
    page.wait_for_timeout(seconds * 1000)
    page.click("#play")
    wall = time.perf_counter() - t0
    cpu_play = _children_cpu_seconds() - cpu0
    after = page.evaluate("() => [bpropLab.lab.updates, bpropLab.lab.history.length]")
    median = statistics.median(frame_ms)
    return {
        "network": "-".join(map(str, sizes)),
        "train_points": n_train,
        "mini_batches_per_frame": speed,
        "steps_per_second": round(steps),
        "frame_ms_median": round(median, 2),
        "frame_ms_p90": round(frame_ms[int(0.9 * len(frame_ms))], 2),
        "frames_per_second_possible": round(1000 / median, 1),
        "cpu_seconds_of_those_measurements": round(cpu_work, 2),
        "playing_seconds": round(wall, 2),
        "playing_frames_per_second": round((after[1] - before[1]) / wall, 1),
        "playing_steps_per_second": round((after[0] - before[0]) / wall),
        "playing_cpu_seconds": round(cpu_play, 2),
    }


def pad(page: Any, repeats: int) -> dict[str, Any]:
    page.click("[data-tab=pad]")
    box = page.locator("#pad-canvas").bounding_box()
    page.mouse.move(box["x"] + 80, box["y"] + 60)
    page.mouse.down()
    for x, y in [(200, 60), (120, 230), (150, 150), (220, 160)]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
    page.mouse.up()
    cpu0 = _children_cpu_seconds()
    times = page.evaluate(
        """n => { const t = []; for (let i = 0; i < n; i++) t.push(bpropLab.padUpdate());
                  return t.sort((a, b) => a - b); }""",
        repeats,
    )
    forward = page.evaluate(
        """n => {
            const N = bpropNet, net = bpropLab.padNetwork();
            const x = N.matrix(1, 784, Float64Array.from(bpropLab.padInput()));
            const t0 = performance.now();
            for (let i = 0; i < n; i++) net.feedforward(x);
            return (performance.now() - t0) / n;
        }""",
        repeats,
    )
    return {
        "network": "784-100-10",
        "update_ms_median": round(statistics.median(times), 2),
        "update_ms_p90": round(times[int(0.9 * len(times))], 2),
        "update_ms_worst": round(times[-1], 2),
        "forward_ms": round(forward, 3),
        "repeats": repeats,
        "cpu_seconds": round(_children_cpu_seconds() - cpu0, 2),
    }


def pad_model() -> tuple[dict[str, Any], str]:
    sizes, acts = [784, 100, 10], ["sigmoid", "softmax"]
    net = bprop.Network(sizes, acts, "log-likelihood", init="scaled", seed=1)
    try:
        from bprop import datasets

        data = datasets.load("mnist")
        net.SGD(data.train.X[:10000], data.train.y[:10000], 1, 10, 0.5, seed=1, verbose=False)
        meta, how = {"dataset": {"name": "mnist", "class_names": list(data.class_names)}}, "trained"
    except (OSError, ValueError):
        meta, how = {}, "random weights"
    return lab.model_data(net, meta, "benchmark"), how


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=5.0, help="how long the page plays")
    p.add_argument("--speed", type=int, default=10, help="mini-batches per frame")
    p.add_argument("--repeats", type=int, default=200, help="timed pad updates")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    args = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("benchmarks/lab.py needs Chromium (apt-get install chromium)", file=sys.stderr)
        return 2
    model, how = pad_model()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lab.html"
        path.write_text(lab.page(model=model), encoding="utf-8")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 950})
            page.goto(path.as_uri())
            result = {
                "playground": playground(page, args.speed, args.seconds),
                "pad": pad(page, args.repeats) | {"model": how},
                "chromium": browser.version,
                "cpus": os.cpu_count(),
                "load_average": [round(x, 2) for x in os.getloadavg()],
            }
            browser.close()
    print(json.dumps(result, indent=2))
    if args.json:
        from bprop.serialize import write_text

        write_text(args.json, json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
