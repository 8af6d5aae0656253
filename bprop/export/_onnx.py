"""ONNX: a Network as a graph of Gemm and activation nodes, and such a graph back.

:func:`to_onnx` builds the graph with the ``onnx`` package's helper API, opset :data:`OPSET`:
input ``x`` ``(N, n_in)``, per layer one ``Gemm(a, w, b, transB=1)`` — z = a wᵀ + b, with w
stored ``(n_out, n_in)`` as bprop holds it — and the activation's node (``Sigmoid``, ``Tanh``,
``Relu``, ``LeakyRelu`` α = 0.01, ``Softmax`` over the last axis; none for identity), output
``y``.  The elements are float64 or float32, as the network's.  The model's metadata (key
``bprop``) holds bprop's JSON description (cost, the inputs' scaling, …).

:func:`from_onnx` reads such graphs and those other tools write: Gemm (α = β = 1, transA = 0),
or MatMul followed by Add, with the activations above (and ``Identity``).  The file is a
stranger's: it must be under :data:`MAX_ONNX_BYTES`, may not point at external data files, and
every initializer's dtype and shape is checked before a network is built from it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from bprop._untrusted import open_regular
from bprop.export._layers import UnsupportedModelError, check_builtin, need, network_from_layers
from bprop.network import Network
from bprop.serialize import ModelFormatError, atomic_write, model_metadata

#: The ONNX operator set the exported graphs declare (Softmax's axis semantics are opset 13's).
OPSET = 17
#: The largest ONNX file :func:`from_onnx` reads (protobuf's own limit is 2 GiB).
MAX_ONNX_BYTES = 2**31 - 1
#: bprop's activation → the ONNX operator computing it (identity needs none).
OPS = {
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "relu": "Relu",
    "leaky_relu": "LeakyRelu",
    "softmax": "Softmax",
}
_NAMES = {op: name for name, op in OPS.items()} | {"Identity": "identity"}
LEAKY_SLOPE = 0.01
SUPPORTED = "Gemm, MatMul + Add, " + ", ".join(_NAMES) + ", Max(z, Mul(z, 0.01))"


def to_onnx(net: Network, path: str | Path, *, scale_inputs: bool = False, **metadata: Any) -> Path:
    """Write ``net`` to ``path`` as an ONNX model (opset :data:`OPSET`), atomically.

    Parameters
    ----------
    net : Network
        A network with bprop's built-in activations, float64 or float32.
    path : str or Path
        The ``.onnx`` file to write.
    scale_inputs : bool
        With the ``scaling=`` of a model's metadata (how the inputs were scaled in training,
        :class:`bprop.datasets.Scaling`): the graph begins with ``Sub(x, shift)`` and
        ``Div(·, scale)``, so that it takes the raw features, as ``bprop evaluate`` does.
    **metadata
        Stored in the JSON of the model's ``bprop`` metadata entry (``scaling=…``, …).

    Returns
    -------
    Path
        ``path``. onnxruntime's ``InferenceSession(path).run(None, {"x": X})[0]`` equals
        ``net.feedforward(X)`` (of the scaled X, with ``scale_inputs``).
    """
    need("onnx", "bprop.export.to_onnx")
    model = onnx_model(net, scale_inputs=scale_inputs, **metadata)
    with atomic_write(path) as f:
        f.write(model.SerializeToString())
    return Path(path)


def onnx_model(net: Network, *, scale_inputs: bool = False, **metadata: Any) -> Any:
    """The ``onnx.ModelProto`` :func:`to_onnx` writes."""
    onnx = need("onnx", "bprop.export.to_onnx")
    from onnx import helper, numpy_helper

    check_builtin(net, "ONNX")
    elem = onnx.TensorProto.DOUBLE if np.dtype(net.dtype).itemsize == 8 else onnx.TensorProto.FLOAT
    nodes, inits = [], []
    a = "x"
    scaling = _scaling(metadata.get("scaling"), net) if scale_inputs else None
    if scaling is not None:
        # Scaling.apply's arithmetic, in the network's dtype: (x − shift) / scale
        for op, key, out in (("Sub", "shift", "x_shifted"), ("Div", "scale", "x_scaled")):
            value = getattr(scaling, key).astype(net.dtype)
            inits.append(numpy_helper.from_array(value, key))
            nodes.append(helper.make_node(op, [a, key], [out], f"scaling_{key}"))
            a = out
        metadata = metadata | {"scaling_in_graph": True}
    for i, (w, b, act) in enumerate(zip(net.weights, net.biases, net.activations)):
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        z = f"z{i}"
        nodes.append(helper.make_node("Gemm", [a, f"w{i}", f"b{i}"], [z], f"layer{i}", transB=1))
        a = z
        if act.name == "leaky_relu" and elem == onnx.TensorProto.DOUBLE:
            # LeakyRelu's alpha is a float32 attribute (0.01 + 2e-10): in float64 the slope is
            # a double, max(z, 0.01 z) as bprop computes it.
            if not any(t.name == "slope" for t in inits):
                inits.append(numpy_helper.from_array(np.array(LEAKY_SLOPE), "slope"))
            nodes.append(helper.make_node("Mul", [z, "slope"], [f"s{i}"], f"slope{i}"))
            nodes.append(helper.make_node("Max", [z, f"s{i}"], [f"a{i}"], f"leaky_relu{i}"))
            a = f"a{i}"
        elif act.name != "identity":
            attrs: dict[str, Any] = {"alpha": LEAKY_SLOPE} if act.name == "leaky_relu" else {}
            if act.name == "softmax":
                attrs["axis"] = -1
            nodes.append(helper.make_node(OPS[act.name], [z], [f"a{i}"], f"{act.name}{i}", **attrs))
            a = f"a{i}"
    nodes[-1].output[0] = "y"
    graph = helper.make_graph(
        nodes,
        "bprop",
        [helper.make_tensor_value_info("x", elem, ["N", net.sizes[0]])],
        [helper.make_tensor_value_info("y", elem, ["N", net.sizes[-1]])],
        inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="bprop"
    )
    model.ir_version = 8  # what opset 17 needs; older runtimes read it too
    helper.set_model_props(model, {"bprop": json.dumps(model_metadata(net, **metadata))})
    onnx.checker.check_model(model)
    return model


def from_onnx(path: str | Path, cost: str | None = None) -> Network:
    """A Network computing what the ONNX model at ``path`` computes.

    Parameters
    ----------
    path : str or Path
        An ``.onnx`` file: one input, one output, and a chain of Gemm (or MatMul + Add) layers,
        each followed by at most one supported activation.
    cost : str, optional
        The network's cost; by default the one a bprop-written file names, else log-likelihood
        for a softmax output, cross-entropy for sigmoid, quadratic otherwise.

    Returns
    -------
    Network
        Its weights are the graph's, in bprop's ``(out, in)`` orientation.

    Raises
    ------
    FileNotFoundError
        No such file.
    ModelFormatError
        Not an ONNX model, too large, or pointing at external data.
    UnsupportedModelError
        A node bprop cannot express, named with its operator.
    """
    model = _read(path)
    try:
        return network_from_model(model, str(path), cost)
    except (UnsupportedModelError, ModelFormatError):
        raise
    except (TypeError, UnicodeError, IndexError, KeyError, AttributeError) as e:
        # protobuf hands undecodable strings over as bytes, and so on: a damaged file
        raise ModelFormatError(
            f"{path} is a damaged ONNX model ({type(e).__name__}: {e})"
        ) from None


def network_from_model(model: Any, source: str, cost: str | None = None) -> Network:
    """:func:`from_onnx` on a loaded ``onnx.ModelProto``."""
    from onnx import numpy_helper

    graph = model.graph
    for t in list(graph.initializer) + list(graph.sparse_initializer):
        if getattr(t, "data_location", 0) == 1 or t.external_data:
            raise ModelFormatError(f"{source}: tensor {t.name!r} points at an external file")
    inits = {t.name: t for t in graph.initializer}
    data_inputs = [x.name for x in graph.input if x.name not in inits]
    if len(data_inputs) != 1 or len(graph.output) != 1:
        raise UnsupportedModelError(f"{source}: bprop reads graphs of one input and one output")
    consts = {n.output[0]: n for n in graph.node if n.op_type == "Constant"}

    def array(name: str, where: str) -> np.ndarray:
        t = inits.get(name)
        if t is None and name in consts:
            t = next((a.t for a in consts[name].attribute if a.name == "value"), None)
        if t is None:
            raise UnsupportedModelError(f"{source}: {where}: {name!r} is not a stored tensor")
        if t.data_type not in (1, 11):  # FLOAT, DOUBLE
            raise UnsupportedModelError(
                f"{source}: {where}: tensor {name!r} has ONNX data type {t.data_type}; bprop "
                "reads float32 and float64"
            )
        n = int(np.prod(list(t.dims), dtype=np.int64))
        itemsize = 8 if t.data_type == 11 else 4
        stored = len(t.raw_data) or len(t.double_data) * 8 or len(t.float_data) * 4
        if stored and stored != n * itemsize:
            raise ModelFormatError(f"{source}: tensor {name!r} holds the wrong amount of data")
        try:
            return numpy_helper.to_array(t)
        except (ValueError, TypeError) as e:
            raise ModelFormatError(f"{source}: tensor {name!r} is damaged ({e})") from None

    weights: list[np.ndarray] = []
    biases: list[np.ndarray] = []
    acts: list[str] = []
    flow = data_inputs[0]
    nodes = [n for n in graph.node if n.op_type != "Constant"]
    if _stored_meta(model, source).get("scaling_in_graph"):
        # to_onnx(scale_inputs=True)'s Sub and Div: the metadata's scaling, not the network
        ops = [n.op_type for n in nodes[:2]]
        if (
            ops != ["Sub", "Div"]
            or nodes[0].input[0] != flow
            or nodes[1].input[0] != nodes[0].output[0]
        ):
            raise ModelFormatError(
                f"{source}: its metadata says the graph scales its inputs, but it does not begin "
                "with Sub(x, shift), Div(·, scale)"
            )
        flow = nodes[1].output[0]
        nodes = nodes[2:]
    i = 0
    while i < len(nodes):
        node = nodes[i]
        where = f"node {i} ({node.op_type} {node.name!r})"
        attrs = {a.name: _attr(a) for a in node.attribute}
        if node.domain not in ("", "ai.onnx"):
            raise UnsupportedModelError(
                f"{source}: {where} is from the operator domain {node.domain!r}; bprop reads "
                f"{SUPPORTED} from ONNX's own"
            )
        if not node.input or node.input[0] != flow or len(node.output) != 1:
            raise UnsupportedModelError(
                f"{source}: {where} does not continue the chain of layers; bprop reads a "
                "single chain from input to output"
            )
        if i == 0 and node.op_type == "Flatten" and attrs.get("axis", 1) == 1:
            pass  # images (N, 28, 28) → rows (N, 784): bprop's inputs are rows already
        elif node.op_type in ("Gemm", "MatMul"):
            if len(acts) < len(weights):
                acts.append("identity")
            if node.op_type == "Gemm":
                w, b = _gemm(node, attrs, array, where, source)
            else:
                w = array(node.input[1], where).T
                add = nodes[i + 1] if i + 1 < len(nodes) else None
                if add is None or add.op_type != "Add" or node.output[0] not in add.input:
                    raise UnsupportedModelError(
                        f"{source}: {where} is not followed by the Add of a bias: bprop reads "
                        "MatMul + Add"
                    )
                other = [x for x in add.input if x != node.output[0]]
                b = array(other[0], f"node {i + 1} (Add)") if len(other) == 1 else None
                node = add
                i += 1
            if b is None or (b.ndim == 2 and b.shape[0] == 1):
                b = np.zeros(w.shape[0], w.dtype) if b is None else b[0]
            weights.append(np.ascontiguousarray(w))
            biases.append(np.ascontiguousarray(b))
        elif node.op_type == "Mul" and len(acts) < len(weights):
            node = _leaky_max(
                node, nodes[i + 1] if i + 1 < len(nodes) else None, array, where, source
            )
            acts.append("leaky_relu")
            i += 1
        elif node.op_type in _NAMES:
            name = _NAMES[node.op_type]
            if len(acts) == len(weights):
                raise UnsupportedModelError(
                    f"{source}: {where}: bprop applies one activation after each layer"
                )
            if name == "leaky_relu" and not np.isclose(attrs.get("alpha", 0.01), LEAKY_SLOPE):
                raise UnsupportedModelError(
                    f"{source}: {where} has alpha {attrs['alpha']}; bprop's leaky_relu has 0.01"
                )
            if name == "softmax" and attrs.get("axis", -1) not in (-1, 1):
                raise UnsupportedModelError(
                    f"{source}: {where} takes the softmax over axis {attrs['axis']}; bprop's is "
                    "over each example's outputs"
                )
            acts.append(name)
        else:
            raise UnsupportedModelError(
                f"{source}: {where} is an operator bprop cannot express; it reads {SUPPORTED}"
            )
        flow = node.output[0]
        i += 1
    if not weights:
        raise UnsupportedModelError(f"{source}: the graph holds no Gemm or MatMul layer")
    if flow != graph.output[0].name:
        raise UnsupportedModelError(f"{source}: the chain of layers does not end at the output")
    if len(acts) < len(weights):
        acts.append("identity")
    if cost is None:
        cost = _stored_meta(model, source).get("cost")
    return network_from_layers(weights, biases, acts, cost, source)


def read_onnx_metadata(path: str | Path) -> dict[str, Any]:
    """bprop's JSON description stored in an ONNX model :func:`to_onnx` wrote ({} if none)."""
    return _stored_meta(_read(path), str(path))


def _read(path: str | Path) -> Any:
    onnx = need("onnx", "bprop.export.from_onnx")
    path = Path(path)
    # a regular file only (a FIFO would hang the read), its size checked before it is read
    with open_regular(path, "rb", "ONNX file") as f:
        size = os.fstat(f.fileno()).st_size
        if size > MAX_ONNX_BYTES:
            raise ModelFormatError(f"{path} is {size:,} bytes; bprop reads ONNX files up to 2 GiB")
        data = f.read(MAX_ONNX_BYTES + 1)
    if len(data) > MAX_ONNX_BYTES:  # it grew since fstat
        raise ModelFormatError(f"{path} is over 2 GiB; bprop reads ONNX files up to 2 GiB")
    try:
        return onnx.load_model_from_string(data)
    except Exception as e:  # protobuf's DecodeError and friends
        raise ModelFormatError(f"{path} is not a readable ONNX model: {e}") from None


def _scaling(d: Any, net: Network) -> Any:
    """The metadata's scaling as a checked :class:`bprop.datasets.Scaling`; None for none."""
    from bprop.datasets.scaling import Scaling

    if d is None:
        raise ValueError("scale_inputs needs the scaling= of the model's metadata")
    scaling = Scaling.from_dict(d, net.sizes[0])
    return None if scaling.kind == "none" else scaling


def _leaky_max(mul: Any, nxt: Any, array: Any, where: str, source: str) -> Any:
    """``Max(z, Mul(z, 0.01))``, leaky_relu with a float64 slope; returns the Max node."""
    slope = array(mul.input[1], where) if len(mul.input) == 2 else None
    ok = slope is not None and slope.size == 1 and float(slope.reshape(-1)[0]) == LEAKY_SLOPE
    if (
        not ok
        or nxt is None
        or nxt.op_type != "Max"
        or sorted(nxt.input) != sorted([mul.input[0], mul.output[0]])
    ):
        raise UnsupportedModelError(
            f"{source}: {where}: a Mul is read only as Max(z, Mul(z, 0.01)), bprop's leaky_relu; "
            f"bprop reads {SUPPORTED}"
        )
    return nxt


def _stored_meta(model: Any, source: str) -> dict[str, Any]:
    for prop in model.metadata_props:
        if prop.key == "bprop":
            try:
                meta = json.loads(prop.value)
            except (UnicodeError, json.JSONDecodeError):
                meta = None
            if not isinstance(meta, dict):
                raise ModelFormatError(
                    f"{source}: its bprop metadata is damaged (not a JSON object)"
                )
            return meta
    return {}


def _attr(a: Any) -> Any:
    from onnx import helper

    return helper.get_attribute_value(a)


def _gemm(node: Any, attrs: dict[str, Any], array: Any, where: str, source: str) -> tuple[Any, Any]:
    if attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0 or attrs.get("transA", 0):
        raise UnsupportedModelError(
            f"{source}: {where}: bprop reads Gemm with alpha = beta = 1 and transA = 0"
        )
    w = array(node.input[1], where)
    if w.ndim != 2:
        raise UnsupportedModelError(f"{source}: {where}: weights of shape {w.shape}")
    w = w if attrs.get("transB", 0) else w.T
    b = array(node.input[2], where) if len(node.input) > 2 and node.input[2] else None
    return w, b
