"""A small real run folder for the plot and report tests, made the way a user makes one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import bprop
from bprop import datasets, serialize
from bprop.cli import main
from bprop.diagnostics import Diagnostics, probe_sample

LIMIT, EPOCHS, BATCH = 2000, 2, 10


def make_run(path: Path, cost: str = "quadratic", eta: float = 3.0) -> Path:
    """``bprop train`` on 2,000 MNIST digits for 2 epochs, with ``diagnostics.json``.

    When ``bprop train`` does not write diagnostics.json itself, the same training is repeated
    with the :class:`~bprop.diagnostics.Diagnostics` callback to write it.
    """
    argv = ["train", "--limit", str(LIMIT), "--epochs", str(EPOCHS), "--no-progress"]
    argv += ["--seed", "1", "--cost", cost, "--eta", str(eta), "--out", str(path)]
    assert main(argv) == 0
    if not (path / "diagnostics.json").is_file():
        data = datasets.load("mnist")
        X, y = data.train.X[:LIMIT], data.train.y[:LIMIT]
        net = bprop.Network([784, 30, 10], "sigmoid", cost, seed=1)
        diagnostics = Diagnostics(*probe_sample(X, y), batches_per_epoch=LIMIT // BATCH)
        net.SGD(X, y, EPOCHS, BATCH, eta, seed=1, callbacks=[diagnostics], verbose=False)
        serialize.write_json(path / "diagnostics.json", diagnostics.to_dict())
    return path


def decode_png(path: Path) -> np.ndarray:
    """The PNG's pixels as an RGB array ``(height, width, 3)``, via Pillow."""
    from PIL import Image

    with Image.open(path) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB"))
