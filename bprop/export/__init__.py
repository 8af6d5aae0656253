"""Export and import: a bprop Network to and from PyTorch, ONNX, safetensors and scikit-learn.

One module per format, all over the same description of a network — layers (w, b, σ) with w of
shape ``(n_out, n_in)``, checked in :mod:`bprop.export._layers` before a Network is built:

* :func:`to_torch` / :func:`from_torch`: ``nn.Sequential`` of ``nn.Linear`` and activations;
* :func:`to_onnx` / :func:`from_onnx`: Gemm (or MatMul + Add) and activation nodes, opset
  :data:`OPSET`;
* :func:`to_safetensors` / :func:`from_safetensors`: the torch state dict plus bprop's JSON
  description — the file ``bprop export --to torch`` and ``--to safetensors`` write;
* :func:`to_sklearn` / :func:`from_sklearn`: a fitted ``MLPClassifier`` or ``MLPRegressor``.

Each library is imported only when its function runs (``pip install "bprop[export]"``), so
``import bprop.export`` needs none of them.  What is written is written atomically, and files
are read as a stranger's: dtypes, shapes and sizes checked before anything is built.
"""

from bprop.export._layers import UnsupportedModelError
from bprop.export._onnx import MAX_ONNX_BYTES, OPSET, from_onnx, read_onnx_metadata, to_onnx
from bprop.export._safetensors import from_safetensors, load_safetensors, to_safetensors
from bprop.export._sklearn import from_sklearn, to_sklearn
from bprop.export._torch import from_torch, to_torch

__all__ = [
    "MAX_ONNX_BYTES",
    "OPSET",
    "UnsupportedModelError",
    "from_onnx",
    "from_safetensors",
    "from_sklearn",
    "from_torch",
    "load_safetensors",
    "read_onnx_metadata",
    "to_onnx",
    "to_safetensors",
    "to_sklearn",
    "to_torch",
]
