"""``bprop predict``: classify PNG/JPEG images with a saved model.

Reading and preprocessing an image is :mod:`bprop.images`'s (photos of paper:
:mod:`bprop.photos`); this module prints the likeliest classes (or JSON) and, with
``--show-input``, writes the 28×28 inputs the network got as PNGs.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from bprop.cli._common import positive


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "predict",
        help="classify PNG/JPEG images with a saved model",
        description=(
            "Classify images of digits (or clothes) with a saved model. Each image is "
            "preprocessed the way the data set was made: greyscale, inverted when the "
            "background is light, fitted in 20×20 and centred by centre of mass in 28×28 "
            "(MNIST), or fitted in 28×28 (Fashion-MNIST). A photo of a digit on paper has the "
            "paper's uneven light and noise taken out first, and only the digit's ink kept. "
            "Softmax outputs are probabilities; other outputs are shown as they are, not as "
            "probabilities."
        ),
    )
    p.add_argument("model", help="model .npz file or run folder")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument(
        "--style",
        choices=["mnist", "fashion-mnist"],
        help="preprocessing (default: from the model's data set)",
    )
    p.add_argument("--top", type=positive(int), default=3, help="show the N likeliest classes")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument(
        "--show-input",
        metavar="DIR",
        help="write the 28×28 image the network gets for each IMAGE to DIR (NAME.input.png)",
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from bprop import runs, serialize

    path = runs.model_file(args.model)
    net, meta = serialize.load_model(path)
    from bprop import images

    dataset = meta.get("dataset", {})
    style = args.style or ("fashion-mnist" if dataset.get("name") == "fashion-mnist" else "mnist")
    if net.sizes[0] != 784:
        raise ValueError(
            f"the model takes {net.sizes[0]} inputs; predict reads 28×28 images (784 inputs)"
        )
    names = list(dataset.get("class_names") or [])
    names += [str(i) for i in range(len(names), net.sizes[-1])]
    X = np.stack([images.preprocess(image, style) for image in args.images])
    if args.show_input:
        _show_inputs(args.show_input, args.images, X, say=not args.json)
    if meta.get("scaling") is not None:  # the model's inputs were scaled in training
        from bprop.datasets import Scaling

        scaling = Scaling.from_dict(meta["scaling"], net.sizes[0])
        X = scaling.apply(X * (255.0 if scaling.high > 1 else 1.0))  # [0, 1] → raw units
    out = net.feedforward(X)
    softmax = net.activations[-1].name == "softmax"
    results = []
    for image, a in zip(args.images, out):
        order = np.argsort(-a)[: args.top]
        result: dict[str, Any] = {
            "image": image,
            "class": int(order[0]),
            "name": names[order[0]],
            "outputs": {names[i]: float(a[i]) for i in range(len(a))},  # a^L as it is
        }
        if softmax:  # softmax outputs sum to 1: probabilities; σ's outputs are not
            result["probabilities"] = result["outputs"]
        results.append(result)
        if not args.json:
            if softmax:
                top = ", ".join(f"{names[i]} {a[i]:.1%}" for i in order)
            else:
                shown = ", ".join(f"{names[i]} {a[i]:.3f}" for i in order)
                top = f"outputs a: {shown}; not probabilities"
            print(f"{image}: {names[order[0]]}   ({top})")
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


def _show_inputs(folder: str, paths: list[str], X: np.ndarray, say: bool) -> None:
    """Each input as the 28×28 greyscale PNG the network sees (ink white, as in MNIST)."""
    from pathlib import Path

    from PIL import Image

    from bprop.serialize import atomic_write

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    for path, x in zip(paths, X):
        stem = Path(path).stem
        name, k = f"{stem}.input.png", 1
        while name in used:  # two images of the same name from different folders
            k += 1
            name = f"{stem}-{k}.input.png"
        used.add(name)
        pixels = np.clip(np.rint(x.reshape(28, 28) * 255), 0, 255).astype(np.uint8)
        with atomic_write(out / name) as f:
            Image.fromarray(pixels, "L").save(f, "PNG")
        if say:
            print(f"input of {path} → {out / name}")
