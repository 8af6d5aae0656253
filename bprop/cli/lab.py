"""``bprop lab``: write the lab page — a playground, an inspector and a digit pad — as one file.

The page and its data are :mod:`bprop.lab`'s; this module loads what the flags name through
bprop's loaders (:func:`bprop.serialize.load_model`, :func:`bprop.datasets.load`), writes the
page atomically, says what it wrote, and with ``--serve`` opens it in the default browser.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "lab",
        help="an offline page to watch and touch backpropagation",
        description=(
            "Write one self-contained HTML page that opens from a file with no network: a "
            "playground that trains small networks on 2-D points in the browser, an inspector "
            "that shows every number of one mini-batch step (BP1-BP4) and walks it step by "
            "step, and with --model a digit pad. The page's math is bprop's, tested number "
            "for number."
        ),
    )
    p.add_argument(
        "--model",
        metavar="RUN",
        help="a run folder or model .npz with 784 inputs (MNIST or Fashion-MNIST): the digit pad",
    )
    p.add_argument(
        "--data",
        metavar="csv:PATH",
        help="your own points for the playground: a CSV of x1, x2 and a label (or npz:PATH)",
    )
    p.add_argument(
        "--data-dir", help="folder holding mnist/ and fashion-mnist/ (for the pad's test images)"
    )
    p.add_argument(
        "--lang",
        choices=["en", "zh"],
        default="en",
        help="the page's first language; it has a toggle (default: en)",
    )
    p.add_argument("--out", default="lab.html", help="the page to write (default: lab.html)")
    p.add_argument("--serve", action="store_true", help="then open it in the default browser")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from bprop import lab, serialize

    playground = _playground(args.data) if args.data else None
    model, images, pad = _model(args.model, args.data_dir) if args.model else (None, None, "")
    text = lab.page(lang=args.lang, playground=playground, model=model, images=images)
    out = Path(args.out)
    serialize.write_text(out, text)
    size = len(text.encode("utf-8"))
    shown = f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{round(size / 1e3)} KB"
    parts = "the playground" + (f" with {playground['name']}" if playground else "")
    parts += f", the inspector and the digit pad ({pad})" if pad else " and the inspector"
    print(f"Wrote {out} ({shown}): {parts}. It needs no network: open it in any browser.")
    if not args.model:
        print("Give --model RUN (a model trained on MNIST or Fashion-MNIST) for the digit pad.")
    if args.serve:
        import webbrowser

        if not webbrowser.open(out.resolve().as_uri()):
            print(f"bprop lab: no browser could be started: open {out} yourself", file=sys.stderr)
    return 0


def _model(spec: str, data_dir: str | None) -> tuple[dict, dict | None, str]:
    """The pad's model and, when its data set is at hand, its test images; and a description."""
    from bprop import datasets, lab, runs, serialize

    path = runs.model_file(spec)
    net, meta = serialize.load_model(path)
    name = Path(spec).name or path.name
    model = lab.model_data(net, meta, name)
    about = f"{name}: {'-'.join(str(n) for n in net.sizes)}"
    dataset = model["dataset"]
    if dataset not in ("mnist", "fashion-mnist"):
        return model, None, about
    try:
        data = datasets.load(dataset, data_dir=data_dir, download=False)
    except (OSError, ValueError) as e:
        reason = " ".join(str(e).split())
        print(
            f"bprop lab: warning: the pad gets no test images of {dataset} ({reason}); "
            "--data-dir DIR says where they are",
            file=sys.stderr,
        )
        return model, None, f"{about}, {dataset}"
    images = lab.pad_images(data.test.X, data.test.y)
    return model, images, f"{about}, {dataset}, {len(images['labels'])} test images"


def _playground(spec: str) -> dict:
    """The user's 2-D points, read and checked by bprop's data loaders."""
    from bprop import datasets, lab

    kind, sep, path = spec.partition(":")
    if not sep or kind.lower() not in ("csv", "npz"):
        raise ValueError(f"--data takes csv:PATH or npz:PATH (your own 2-D points), got {spec!r}")
    # Unscaled: the playground scales each feature into [−1, 1] itself and shows its range.
    return lab.playground_data(datasets.load(spec, scale="none"), Path(path).name)
