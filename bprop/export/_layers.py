"""What every format shares: a network as layers (w, b, σ), checked before a Network is built.

A fully connected network is, in every format bprop reads and writes, the same list of layers
``(w, b, σ)``: z = a wᵀ + b, a = σ(z), with ``w`` of shape ``(n_out, n_in)`` as bprop (and
``torch.nn.Linear``) hold it.  :func:`network_from_layers` turns such a list — read from a
stranger's file or object — into a :class:`bprop.Network` only after checking it: shapes that
chain, float32 or float64 arrays, finite values, names bprop knows.  Nothing here imports an
optional library; :func:`need` does, with the message saying which extra to install.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np

from bprop.activations import ACTIVATIONS
from bprop.costs import COSTS
from bprop.network import MAX_PARAMETERS, Network

#: The dtypes every format here carries.
DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


class UnsupportedModelError(ValueError):
    """A model another library holds, or a file it wrote, that bprop cannot express (or a bprop
    network that the other library cannot): the message names what is not supported."""


def need(module: str, what: str) -> ModuleType:
    """Import ``module`` for ``what``, or raise ImportError saying to install bprop's extra."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(
            f'{what} needs {module.partition(".")[0]}: pip install "bprop[export]" ({e})'
        ) from None


def default_cost(output: str) -> str:
    """The cost that goes with an output layer when a format does not store one: log-likelihood
    for softmax, cross-entropy for sigmoid, quadratic otherwise (as scikit-learn pairs them)."""
    return {"softmax": "log-likelihood", "sigmoid": "cross-entropy"}.get(output, "quadratic")


def check_builtin(net: Network, fmt: str) -> None:
    """Raise UnsupportedModelError when ``net`` uses an activation of the user's own."""
    for act in net.activations:
        if ACTIVATIONS.get(act.name) is not act:
            raise UnsupportedModelError(
                f"cannot export to {fmt} a network with the custom activation {act.name!r}: "
                f"only the built-in ones ({', '.join(ACTIVATIONS)}) have an equivalent there"
            )


def network_from_layers(
    weights: Sequence[Any],
    biases: Sequence[Any],
    activations: Sequence[str],
    cost: str | None,
    source: str,
) -> Network:
    """A Network holding exactly these arrays (bit for bit), after checking them.

    Parameters
    ----------
    weights, biases : sequences of arrays
        ``weights[i]`` of shape ``(n_(i+1), n_i)``, ``biases[i]`` of shape ``(n_(i+1),)``, all
        of one dtype, float32 or float64.
    activations : sequence of str
        One bprop activation name per layer.
    cost : str or None
        A bprop cost name; None takes :func:`default_cost` of the output layer.
    source : str
        What the layers were read from, for the messages.

    Raises
    ------
    UnsupportedModelError
        Arrays of another dtype, shapes that do not chain, unknown names, NaN or inf.
    """
    if not weights or len(weights) != len(biases) or len(weights) != len(activations):
        raise UnsupportedModelError(
            f"{source}: expected one weight matrix, bias vector and activation per layer, got "
            f"{len(weights)}, {len(biases)} and {len(activations)}"
        )
    ws = [np.asarray(w) for w in weights]
    bs = [np.asarray(b) for b in biases]
    dtype = ws[0].dtype
    if dtype not in DTYPES:
        raise UnsupportedModelError(
            f"{source}: weights of dtype {dtype}; bprop holds float64 or float32"
        )
    sizes = [ws[0].shape[1] if ws[0].ndim == 2 else -1]
    for i, (w, b) in enumerate(zip(ws, bs)):
        if w.ndim != 2 or w.shape[1] != sizes[-1] or w.shape[1] < 1 or w.shape[0] < 1:
            raise UnsupportedModelError(
                f"{source}: layer {i}'s weights have shape {w.shape}; expected "
                f"(n_out, {sizes[-1]}) after the previous layer"
            )
        if b.shape != (w.shape[0],):
            raise UnsupportedModelError(
                f"{source}: layer {i}'s bias has shape {b.shape}; expected ({w.shape[0]},)"
            )
        for name, arr in (("weights", w), ("bias", b)):
            if arr.dtype != dtype:
                raise UnsupportedModelError(
                    f"{source}: layer {i}'s {name} are {arr.dtype}, the first layer's {dtype}: "
                    "bprop holds one dtype throughout"
                )
            if not np.all(np.isfinite(arr)):
                raise UnsupportedModelError(f"{source}: layer {i}'s {name} hold NaN or inf")
        sizes.append(w.shape[0])
    count = sum(w.size + b.size for w, b in zip(ws, bs))
    if count > MAX_PARAMETERS:
        raise UnsupportedModelError(f"{source}: {count:,} parameters is more than bprop holds")
    for name in activations:
        if name not in ACTIVATIONS:
            raise UnsupportedModelError(f"{source}: bprop has no activation {name!r}")
    cost = cost or default_cost(activations[-1])
    if cost not in COSTS:
        raise UnsupportedModelError(f"{source}: bprop has no cost {cost!r}")
    try:
        # glorot draws no biases; the drawn weights are overwritten below.
        net = Network(sizes, list(activations), cost, init="glorot", dtype=dtype, seed=0)
    except ValueError as e:
        raise UnsupportedModelError(f"{source}: {e}") from None
    for like, got in zip(net.weights + net.biases, ws + bs):
        like[...] = got
    return net
