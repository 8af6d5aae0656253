"""``bprop evaluate``: accuracy, per-class accuracy and confusion matrix of a saved model.

Prints the figures, and writes them as JSON with ``--json``; never changes the model or its run
folder.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "evaluate",
        help="accuracy, per-class accuracy and confusion matrix of a saved model",
        description="Evaluate a saved model: accuracy, per-class accuracy, confusion matrix.",
    )
    p.add_argument("model", help="model .npz file or run folder")
    p.add_argument("--dataset", help="data set (default: the one the model was trained on)")
    p.add_argument("--data-dir", help="folder holding mnist/ and fashion-mnist/")
    p.add_argument("--split", choices=["test", "validation", "train"], default="test")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from bprop import datasets, runs, serialize

    path = runs.model_file(args.model)
    net, meta = serialize.load_model(path)
    data = datasets.load_recorded(
        meta, dataset=args.dataset, data_dir=args.data_dir, dtype=net.dtype
    )
    name = args.dataset or data.name
    split = getattr(data, args.split)
    if split is None:
        raise ValueError(f"{name} has no {args.split} set")
    if split.X.shape[1] != net.sizes[0]:
        raise ValueError(
            f"the model takes {net.sizes[0]} inputs but {name} has {split.X.shape[1]} features"
        )
    if data.n_classes > net.sizes[-1]:
        raise ValueError(
            f"{name} has {data.n_classes} classes but the model has {net.sizes[-1]} outputs"
        )
    predicted = net.predict(split.X)
    k = net.sizes[-1]
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (split.y, predicted), 1)
    correct = int(np.trace(confusion))
    names = list(data.class_names) + [str(i) for i in range(len(data.class_names), k)]
    print(f"{path} on {name} ({args.split}): {correct} / {len(split)} = {correct / len(split):.2%}")
    print("\nPer class:")
    width = max(len(n) for n in names)
    per_class = []
    for i in range(k):
        total = int(confusion[i].sum())
        acc = confusion[i, i] / total if total else float("nan")
        per_class.append(acc)
        label = f"{i:>2}" if names[i] == str(i) else f"{i:>2} {names[i]:<{width}}"
        print(f"  {label}  {confusion[i, i]:>6} / {total:<6} {acc:7.2%}")
    print("\nConfusion matrix (rows: true class, columns: predicted):")
    cell = max(len(str(confusion.max())), 3) + 1
    print("    " + "".join(f"{j:>{cell}}" for j in range(k)))
    for i in range(k):
        print(f"  {i:>2}" + "".join(f"{v:>{cell}}" for v in confusion[i]))
    if args.json:
        serialize.write_json(
            args.json,
            {
                "model": str(path),
                "dataset": name,
                "split": args.split,
                "correct": correct,
                "total": len(split),
                "accuracy": correct / len(split),
                "per_class_accuracy": dict(zip(names, per_class)),
                "confusion_matrix": confusion.tolist(),
            },
        )
    return 0
