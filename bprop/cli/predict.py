"""``bprop predict``: classify PNG/JPEG images with a saved model.

Reading and preprocessing an image is :mod:`bprop.images`'s; this module prints the likeliest
classes (or JSON) and writes nothing.
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
            "(MNIST), or fitted in 28×28 (Fashion-MNIST)."
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
    if meta.get("scaling") is not None:  # the model's inputs were scaled in training
        from bprop.datasets import Scaling

        scaling = Scaling.from_dict(meta["scaling"], net.sizes[0])
        X = scaling.apply(X * (255.0 if scaling.high > 1 else 1.0))  # [0, 1] → raw units
    out = net.feedforward(X)
    results = []
    for image, a in zip(args.images, out):
        # Softmax outputs are probabilities; other outputs are normalised to sum to 1.
        p = a / a.sum() if net.activations[-1].name != "softmax" and a.sum() > 0 else a
        order = np.argsort(-p)[: args.top]
        results.append(
            {
                "image": image,
                "class": int(order[0]),
                "name": names[order[0]],
                "probabilities": {names[i]: float(p[i]) for i in range(len(p))},
            }
        )
        if not args.json:
            top = ", ".join(f"{names[i]} {p[i]:.1%}" for i in order)
            print(f"{image}: {names[order[0]]}   ({top})")
    if args.json:
        print(json.dumps(results, indent=2))
    return 0
