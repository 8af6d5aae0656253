"""``bprop export``: write a saved model as ONNX or safetensors (for PyTorch), for other tools.

The formats are :mod:`bprop.export`'s; this module picks the file name, refuses to overwrite
an existing file unless ``--force``, and prints what it wrote.  scikit-learn is offered in
Python only (:func:`bprop.export.to_sklearn`): its models are saved as pickles, which bprop
never writes.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

FORMATS = ("onnx", "safetensors", "torch", "sklearn")
SUFFIX = {"onnx": ".onnx", "safetensors": ".safetensors", "torch": ".safetensors"}
# A checkpoint's training state stays behind; the rest of a model's metadata, beyond what
# serialize.model_metadata writes for the network itself, travels with the export.
_STATE_KEYS = {"resume", "history"}


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "export",
        help="write a saved model as ONNX or safetensors (PyTorch)",
        description=(
            "Write a saved model for other tools. onnx: a graph of Gemm and activation nodes "
            "(opset 17) for onnxruntime and the like. torch, safetensors: the state dict of "
            "bprop.export.to_torch's nn.Sequential in a safetensors file (no pickle), with "
            "bprop's description in its metadata; both write the same file. sklearn: in "
            "Python only (bprop.export.to_sklearn), as its models are saved as pickles."
        ),
    )
    p.add_argument("model", help="model .npz file or run folder")
    p.add_argument("--to", required=True, choices=FORMATS, help="the format to write")
    p.add_argument(
        "--out",
        metavar="FILE",
        help="the file to write (default: MODEL's name + .onnx/.safetensors)",
    )
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    if args.to == "sklearn":
        raise ValueError(
            "scikit-learn models are saved as pickles, which bprop never writes: in Python, "
            "bprop.export.to_sklearn(net) gives the fitted MLPClassifier or MLPRegressor; "
            "other tools read --to onnx"
        )
    from bprop import export, runs, serialize

    source = runs.model_file(args.model)
    net, meta = serialize.load_model(source)
    name = Path(args.model).name if Path(args.model).is_dir() else source.stem
    out = Path(args.out) if args.out else Path(name + SUFFIX[args.to])
    if out.exists() and not args.force:
        raise FileExistsError(f"{out} exists: give another --out, or --force to overwrite it")
    own = serialize.model_metadata(net).keys() | _STATE_KEYS
    extra = {k: v for k, v in meta.items() if k not in own}
    scaled = bool(meta.get("scaling")) and meta["scaling"].get("kind") != "none"
    if args.to == "onnx":
        export.to_onnx(net, out, scale_inputs=scaled, **extra)
        what = f"ONNX, opset {export.OPSET}, input x (N, {net.sizes[0]}), output y"
    else:
        export.to_safetensors(net, out, **extra)
        what = "safetensors: the state dict of bprop.export.to_torch(net)"
    dtype = net.dtype.__name__
    print(f"wrote {out} ({what}, {dtype}) from {source}")
    if scaled and args.to == "onnx":
        print(
            f"note: the graph scales its inputs first, as in training ({meta['scaling']['kind']}:"
            " x → (x − shift) / scale): give it the raw features"
        )
    elif scaled:
        print(
            f"note: the network takes its inputs scaled as in training ({meta['scaling']['kind']}: "
            "x → (x − shift) / scale); shift and scale are in the file's bprop metadata"
        )
    return 0
