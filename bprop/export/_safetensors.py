"""safetensors: a Network's arrays under PyTorch's names, with bprop's description beside them.

The file holds ``0.weight, 0.bias, 2.weight, 2.bias, …`` — the state dict of
:func:`bprop.export.to_torch`'s ``nn.Sequential`` (layer i's Linear is module 2i), so
``module.load_state_dict(safetensors.torch.load_file(path))`` loads it into PyTorch — and, in
the file's string metadata, ``format`` (``bprop-model``), ``format_version`` and ``bprop``: the
JSON description a ``.npz`` model carries (sizes, activations, cost, dtype, the inputs'
scaling, …).  safetensors is a JSON header and raw little-endian arrays: nothing in it runs.

Reading, every tensor's dtype and shape is checked against the description before any array
is read; a file without bprop's description (a state dict someone else saved) is read when the
caller names the activations.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

from bprop._untrusted import open_regular
from bprop.export._layers import UnsupportedModelError, check_builtin, need, network_from_layers
from bprop.export._torch import state_dict_key
from bprop.network import Network
from bprop.serialize import FORMAT, FORMAT_VERSION, ModelFormatError, atomic_write, model_metadata

_KEY = re.compile(r"(\d+)\.(weight|bias)")
_DTYPES = {"F64": "float64", "F32": "float32"}


def to_safetensors(net: Network, path: str | Path, **metadata: Any) -> Path:
    """Write ``net`` to ``path`` (a ``.safetensors`` file), atomically.

    Parameters
    ----------
    net : Network
    path : str or Path
    **metadata
        Stored in the JSON description beside bprop's own keys (``scaling=…``, …).

    Returns
    -------
    Path
        ``path``; :func:`from_safetensors` reads it back bit for bit.
    """
    st = need("safetensors.numpy", "bprop.export.to_safetensors")
    check_builtin(net, "safetensors")
    tensors = {}
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        tensors[state_dict_key(i, "weight")] = w
        tensors[state_dict_key(i, "bias")] = b
    meta = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "bprop": json.dumps(model_metadata(net, **metadata)),
    }
    blob = st.save(tensors, metadata=meta)
    with atomic_write(path) as f:
        f.write(blob)
    return Path(path)


def from_safetensors(
    path: str | Path, activations: list[str] | None = None, cost: str | None = None
) -> Network:
    """The Network in the safetensors file at ``path``.

    Parameters
    ----------
    path : str or Path
        A file :func:`to_safetensors` wrote, or any state dict of ``N.weight``/``N.bias``
        tensors of Linear layers (then give ``activations``).
    activations : list of str, optional
        One activation name per layer, for a file without bprop's description (it overrides
        the description's otherwise).
    cost : str, optional
        The cost, for such a file (default: as :func:`bprop.export.from_torch` chooses).

    Raises
    ------
    FileNotFoundError, ModelFormatError, UnsupportedModelError
    """
    return load_safetensors(path, activations, cost)[0]


def load_safetensors(
    path: str | Path, activations: list[str] | None = None, cost: str | None = None
) -> tuple[Network, dict[str, Any]]:
    """:func:`from_safetensors`, also returning the stored description (``{}`` when none)."""
    st = need("safetensors", "bprop.export.from_safetensors")
    path = Path(path)
    # a regular file only: safetensors' own open would wait forever on a FIFO. It stays open
    # (checked) while safetensors maps it.
    checked = open_regular(path, "rb", "safetensors file")
    try:
        with checked, st.safe_open(str(path), framework="numpy") as f:
            header = f.metadata() or {}
            keys = list(f.keys())
            meta = _description(header, path)
            layers = _layer_keys(keys, path)
            for key in keys:
                dtype = _DTYPES.get(f.get_slice(key).get_dtype())
                if dtype is None or (meta and dtype != meta.get("dtype")):
                    raise ModelFormatError(
                        f"{path}: tensor {key!r} is {f.get_slice(key).get_dtype()}, expected "
                        f"{meta.get('dtype', 'F32 or F64')}"
                    )
            _check_shapes(f, layers, meta, path)
            weights = [f.get_tensor(w) for w, _ in layers]
            biases = [f.get_tensor(b) for _, b in layers]
    except (OSError, ValueError) as e:
        if isinstance(e, (ModelFormatError, UnsupportedModelError)):
            raise
        raise ModelFormatError(f"{path} is not a readable safetensors file: {e}") from None
    except Exception as e:  # safetensors' SafetensorError derives from Exception only
        raise ModelFormatError(f"{path} is not a readable safetensors file: {e}") from None
    acts = activations or meta.get("activations")
    if acts is None:
        raise UnsupportedModelError(
            f"{path} holds no bprop description: give activations=[...] (one per layer)"
        )
    net = network_from_layers(weights, biases, list(acts), cost or meta.get("cost"), str(path))
    if meta.get("scaling") is not None:
        from bprop.datasets.scaling import Scaling

        try:
            Scaling.from_dict(meta["scaling"], net.sizes[0])
        except ValueError as e:
            raise ModelFormatError(f"{path}: its metadata's scaling is damaged: {e}") from None
    return net, meta


def _description(header: dict[str, str], path: Path) -> dict[str, Any]:
    if "bprop" not in header:
        return {}
    if header.get("format") != FORMAT:
        raise ModelFormatError(f"{path}: its metadata does not say it is a bprop model")
    version = header.get("format_version", "")
    if not version.isdigit() or int(version) > FORMAT_VERSION:
        raise ModelFormatError(
            f"{path} was saved in model format {version!r}; this bprop reads format "
            f"{FORMAT_VERSION}. Upgrade bprop (pip install -U bprop) to load it."
        )
    try:
        meta = json.loads(header["bprop"])
    except json.JSONDecodeError as e:
        raise ModelFormatError(f"{path}: its bprop metadata is not valid JSON ({e})") from None
    ok = isinstance(meta, dict) and isinstance(meta.get("sizes"), list)
    if not ok or not isinstance(meta.get("activations"), list):
        raise ModelFormatError(f"{path}: its bprop metadata does not describe a network")
    return meta


def _layer_keys(keys: list[str], path: Path) -> list[tuple[str, str]]:
    indices = set()
    for key in keys:
        m = _KEY.fullmatch(key)
        if m is None:
            raise UnsupportedModelError(
                f"{path}: tensor {key!r} is not a Linear layer's N.weight or N.bias"
            )
        indices.add(int(m.group(1)))
    order = sorted(indices)
    layers = [(f"{i}.weight", f"{i}.bias") for i in order]
    missing = [k for pair in layers for k in pair if k not in keys]
    if missing or not layers:
        raise UnsupportedModelError(f"{path}: no tensor {missing[0] if missing else '0.weight'}")
    return layers


def _check_shapes(f: Any, layers: list[tuple[str, str]], meta: dict[str, Any], path: Path) -> None:
    """Shapes match the description (when there is one) before anything is read."""
    shapes = [(f.get_slice(w).get_shape(), f.get_slice(b).get_shape()) for w, b in layers]
    if not meta:
        return
    try:
        sizes = [int(s) for s in meta["sizes"]]
    except (TypeError, ValueError):
        raise ModelFormatError(f"{path}: its bprop metadata's sizes are not numbers") from None
    want = [([n_out, n_in], [n_out]) for n_in, n_out in itertools.pairwise(sizes)]
    got = [(list(w), list(b)) for w, b in shapes]
    if got != want:
        raise ModelFormatError(
            f"{path}: its tensors have shapes {got}, but its metadata describes sizes {sizes}"
        )
