"""PyTorch: a Network as ``nn.Sequential(Linear, σ, Linear, σ, …)``, and such a module back.

bprop's weights are ``(n_out, n_in)``, the layout ``nn.Linear`` keeps, so they go in as they
are; the dtype (float32 or float64) is kept.  The activations map one to one: sigmoid →
``nn.Sigmoid``, tanh → ``nn.Tanh``, relu → ``nn.ReLU``, leaky_relu → ``nn.LeakyReLU(0.01)``,
identity → ``nn.Identity``, softmax → ``nn.Softmax(dim=-1)``.  The module's state dict is
``{"0.weight", "0.bias", "2.weight", …}``: layer i's Linear is module 2i.
"""

from __future__ import annotations

from typing import Any

from bprop.export._layers import UnsupportedModelError, check_builtin, need, network_from_layers
from bprop.network import Network

#: bprop's activation name → the ``torch.nn`` class computing it.
MODULES = {
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
    "identity": "Identity",
    "softmax": "Softmax",
}
_NAMES = {cls: name for name, cls in MODULES.items()}
LEAKY_SLOPE = 0.01


def state_dict_key(layer: int, param: str) -> str:
    """The key of layer ``layer``'s ``"weight"`` or ``"bias"`` in :func:`to_torch`'s module."""
    return f"{2 * layer}.{param}"


def to_torch(net: Network) -> Any:
    """``net`` as a ``torch.nn.Sequential`` of ``nn.Linear`` and activation modules.

    Parameters
    ----------
    net : Network
        A network with bprop's built-in activations.

    Returns
    -------
    torch.nn.Sequential
        Linear and activation modules alternating, in ``net``'s dtype, holding copies of its
        weights and biases: ``module(torch.from_numpy(X))`` equals ``net.feedforward(X)``.
    """
    torch = need("torch", "bprop.export.to_torch")
    check_builtin(net, "torch")
    modules = []
    for w, b, act in zip(net.weights, net.biases, net.activations):
        linear = torch.nn.Linear(w.shape[1], w.shape[0], dtype=_torch_dtype(torch, w.dtype))
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(b))
        modules += [linear, _activation_module(torch, act.name)]
    return torch.nn.Sequential(*modules)


def from_torch(module: Any, cost: str | None = None) -> Network:
    """A Network computing what ``module`` computes, with copies of its parameters.

    Parameters
    ----------
    module : torch.nn.Sequential (or nn.Linear)
        ``nn.Linear`` layers, each followed by at most one of ``nn.Sigmoid``, ``nn.Tanh``,
        ``nn.ReLU``, ``nn.LeakyReLU(0.01)``, ``nn.Identity``, ``nn.Softmax(dim=-1)`` (the last
        layer only); a Linear followed directly by another Linear has the identity activation.
        A Linear without bias gets zero biases; a leading ``nn.Flatten()`` is read as the rows
        bprop takes.
    cost : str, optional
        The network's cost; by default log-likelihood for a softmax output, cross-entropy for a
        sigmoid output, quadratic otherwise.

    Raises
    ------
    UnsupportedModelError
        A module bprop cannot express, named with its position.
    """
    torch = need("torch", "bprop.export.from_torch")
    children = list(module) if isinstance(module, torch.nn.Sequential) else [module]
    weights: list[Any] = []
    biases: list[Any] = []
    acts: list[str] = []
    for i, child in enumerate(children):
        where = f"module {i} of the torch model ({type(child).__name__})"
        if (
            i == 0
            and type(child) is torch.nn.Flatten
            and (child.start_dim, child.end_dim) == (1, -1)
        ):
            continue  # images (m, 28, 28) → rows (m, 784): bprop's inputs are rows already
        if isinstance(child, torch.nn.Linear):
            if len(acts) < len(weights):
                acts.append("identity")
            w = child.weight.detach().cpu()
            b = child.bias.detach().cpu() if child.bias is not None else torch.zeros_like(w[:, 0])
            weights.append(w.numpy().copy())
            biases.append(b.numpy().copy())
            continue
        name = _activation_name(torch, child, where)
        if len(acts) == len(weights):
            raise UnsupportedModelError(
                f"{where}: bprop applies one activation after each Linear layer; this one follows "
                + ("another activation" if weights else "no Linear layer")
            )
        acts.append(name)
    if not weights:
        raise UnsupportedModelError("the torch model holds no nn.Linear layer")
    if len(acts) < len(weights):
        acts.append("identity")
    return network_from_layers(weights, biases, acts, cost, "the torch model")


def _torch_dtype(torch: Any, dtype: Any) -> Any:
    return torch.float64 if dtype.itemsize == 8 else torch.float32


def _activation_module(torch: Any, name: str) -> Any:
    cls = getattr(torch.nn, MODULES[name])
    if name == "leaky_relu":
        return cls(LEAKY_SLOPE)
    if name == "softmax":
        return cls(dim=-1)
    return cls()


def _activation_name(torch: Any, child: Any, where: str) -> str:
    name = _NAMES.get(type(child).__name__)
    if name is None or type(child) is not getattr(torch.nn, type(child).__name__, None):
        raise UnsupportedModelError(
            f"{where} is not supported: bprop reads nn.Linear, "
            + ", ".join(f"nn.{c}" for c in MODULES.values())
        )
    if name == "leaky_relu" and child.negative_slope != LEAKY_SLOPE:
        raise UnsupportedModelError(
            f"{where} has negative_slope {child.negative_slope}; bprop's leaky_relu has "
            f"{LEAKY_SLOPE}"
        )
    if name == "softmax" and child.dim not in (-1, 1):
        raise UnsupportedModelError(
            f"{where} takes the softmax over dim={child.dim}; bprop's is over each example's "
            "outputs (dim=-1)"
        )
    return name
