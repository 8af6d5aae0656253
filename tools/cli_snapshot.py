"""Record what the ``bprop`` command prints and writes for the README's examples, so that two
checkouts can be compared byte for byte (used to show that a restructuring changed no output).

    python tools/cli_snapshot.py OUT_DIR          # run with the bprop this interpreter imports
    diff -r BEFORE_DIR AFTER_DIR                  # nothing printed: the outputs are identical

Each command runs in a scratch folder; its stdout, stderr and exit code are stored under
``OUT_DIR/<name>.{out,err,rc}`` and the files it writes are stored as SHA-256 digests (numeric
arrays of ``.npz`` files by content, so zip timestamps do not count).  Wall-clock figures
("in 7 s", a sweep's ``seconds`` column, history timings) are masked: they are the only part of
an output that may change between two runs on one machine.  Float results are compared exactly,
so both checkouts must run on the same machine with the same engine.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

# (name, command line) — the README's commands, shortened where training would take minutes.
_COMMANDS = r"""
train: train --seed 0 --limit 3000 --epochs 2 --out runs/a
train-ce: train --seed 1 --limit 2000 --epochs 2 --cost cross-entropy --eta 0.5 --out runs/b \
    --engine numpy
train-flags: train --sizes 784,100,10 --activation relu --output-activation softmax \
    --cost log-likelihood --init he --eta 0.05 --schedule cosine --lmbda 5 --momentum 0.9 \
    --epochs 2 --batch-size 10 --dtype float32 --seed 1 --limit 2000 --eval-on validation \
    --out runs/c
evaluate: evaluate runs/a
evaluate-json: evaluate runs/a --json eval.json
predict: predict runs/a seven.png two.png
predict-json: predict runs/a seven.png --json
explain: explain
explain-zh: explain --lang zh
explain-matrix: explain --matrix
explain-steps: explain --steps 10000
explain-md: explain --format markdown
explain-latex: explain --format latex --lang zh
explain-html: explain --format html --out explain.html
explain-html-matrix: explain --format html --matrix --lang zh
explain-seed: explain --sizes 3,3,2 --seed 4 --matrix --inputs 0.1,0.2,0.3 --targets 0,1
explain-tanh: explain --sizes 3,3,2 --activation tanh --cost cross-entropy --eta 0.1 --seed 2
explain-too-big: explain --sizes 2,9,2
plot: plot runs/b
report: report runs/a runs/b --out report.html
sweep: sweep --dataset mnist --eta 0.5,3 --lmbda 0 --hidden 30 --epochs 1 --limit 2000 \
    --seed 1 --out sweep.csv
err-activation: train --activation sigmod
err-sizes: train --sizes 100,30,10
err-model: evaluate nowhere
"""
HELP = ["train", "evaluate", "predict", "explain", "plot", "report", "sweep", "bench"]
COMMANDS: list[tuple[str, list[str]]] = [
    ("help", ["--help"]),
    *[(f"help-{c}", [c, "--help"]) for c in HELP],
    *[
        (line.split(": ")[0], shlex.split(line.split(": ", 1)[1]))
        for line in _COMMANDS.replace("\\\n", " ").strip().splitlines()
    ],
]

_TIMES = [
    (re.compile(r"\b\d+(\.\d+)? s\b"), "<T> s"),
    (re.compile(r"\bin \d+(\.\d+)?s\b"), "in <T>s"),
    (re.compile(r"\d+:\d\d(<|,|\])"), r"<T>\1"),
    (re.compile(r"\d+(\.\d+)?(it|s|point|batch)/(s|point)"), "<R>"),
    (re.compile(r"runs/\d{8}-\d{6}"), "runs/<TS>"),
]


def _no_bars(text: str) -> str:
    """Progress bars (stderr) redraw at times of their own: keep only the other lines."""
    lines = re.split(r"[\r\n]", text)
    return "".join(f"{x}\n" for x in lines if x.strip() and not re.search(r"\d+%\|", x))


def _mask(text: str) -> str:
    for pattern, repl in _TIMES:
        text = pattern.sub(repl, text)
    return text


def _mask_sweep(text: str) -> str:
    """The sweep's ``seconds`` column (second to last) is wall time."""
    return re.sub(r"(?m)^(\s*\d+\s.*?)\s+\d+\.\d\s+(\w+)$", r"\1  <T>  \2", text)


def _digest(path: Path) -> str:
    if path.suffix == ".npz":
        h = hashlib.sha256()
        with zipfile.ZipFile(path) as z:
            for name in sorted(z.namelist()):
                h.update(name.encode() + b"\0" + z.read(name))
        return h.hexdigest()
    if path.suffix == ".json" and path.name in ("history.json", "diagnostics.json"):
        data = json.loads(path.read_text())
        return hashlib.sha256(_mask(_strip_times(data)).encode()).hexdigest()
    if path.suffix == ".csv":
        return hashlib.sha256(_strip_csv_times(path.read_text()).encode()).hexdigest()
    if path.suffix == ".html":
        # The report embeds wall times of its runs; explain's page has none.
        return hashlib.sha256(_mask(path.read_text()).encode()).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _strip_times(data: object) -> str:
    def walk(v: object) -> object:
        if isinstance(v, dict):
            return {k: ("<T>" if "second" in k or k == "time" else walk(x)) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    return json.dumps(walk(data), sort_keys=True)


def _strip_csv_times(text: str) -> str:
    lines = text.splitlines()
    if not lines:
        return text
    header = lines[0].split(",")
    drop = [i for i, h in enumerate(header) if "second" in h]
    return "\n".join(
        ",".join(c for i, c in enumerate(line.split(",")) if i not in drop) for line in lines
    )


def _make_images(folder: Path) -> None:
    """The README's seven.png and two.png: the first two MNIST test digits, 5x, dark on light."""
    from PIL import Image

    from bprop.datasets import load_mnist

    test = load_mnist().test
    for name, i in (("seven.png", 0), ("two.png", 1)):
        pixels = (255 - test.X[i].reshape(28, 28) * 255).round().astype(np.uint8)
        Image.fromarray(pixels).resize((140, 140), Image.NEAREST).save(folder / name)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bprop-snapshot-"))
    try:
        _make_images(work)
        env = dict(os.environ, COLUMNS="100", MPLBACKEND="Agg")
        for name, argv in COMMANDS:
            before = {p for p in work.rglob("*") if p.is_file()}
            r = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import sys; from bprop.cli import main; sys.exit(main())",
                    *argv,
                ],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=900,
            )
            stdout = _mask_sweep(_mask(r.stdout)) if name == "sweep" else _mask(r.stdout)
            (out / f"{name}.out").write_text(stdout)
            (out / f"{name}.err").write_text(_mask(_no_bars(r.stderr)))
            (out / f"{name}.rc").write_text(f"{r.returncode}\n")
            made = sorted(p for p in work.rglob("*") if p.is_file() and p not in before)
            lines = [f"{_digest(p)}  {p.relative_to(work)}" for p in made]
            (out / f"{name}.files").write_text("".join(f"{x}\n" for x in lines))
            print(f"{name}: exit {r.returncode}, {len(made)} files")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
