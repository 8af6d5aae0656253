"""bprop.export and ``bprop export``: the exported models compute what bprop computes, in the
other libraries' own runtimes (PyTorch, onnxruntime, scikit-learn), on MNIST test images; the
way back is bit for bit; what a format cannot express is refused, saying what."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import bprop
from bprop import serialize
from bprop.cli import main
from tests.conftest import HIDDEN, OUTPUT, alarm_after

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("safetensors")
pytest.importorskip("sklearn")

from onnx import helper, numpy_helper  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402

from bprop import export  # noqa: E402
from bprop.export import UnsupportedModelError  # noqa: E402

DTYPES = [np.float64, np.float32]
#: Largest difference allowed between bprop's outputs and another runtime's, per dtype (relative
#: to the outputs' magnitude, at least 1).
TOL = {np.float64: 1e-12, np.float32: 1e-6}
COST = {"softmax": "log-likelihood", "sigmoid": "cross-entropy"}
#: scikit-learn's hidden activations (leaky_relu has none there).
SKLEARN_HIDDEN = ["sigmoid", "tanh", "relu", "identity"]


@pytest.fixture(scope="module")
def mnist():
    """MNIST, read once (BPROP_DATA_DIR); the tests needing it skip when it is absent."""
    from bprop.datasets import load_mnist

    try:
        return load_mnist(validation_size=0, download=False)
    except (FileNotFoundError, OSError):
        pytest.skip("MNIST is not available here (set BPROP_DATA_DIR)")


@pytest.fixture(scope="module")
def images(mnist) -> np.ndarray:
    """The first 200 MNIST test images, pixels in [0, 1]."""
    return np.ascontiguousarray(mnist.test.X[:200], dtype=np.float64)


def _net(hidden: str, out: str, dtype, n_out: int = 10, sizes=(784, 16, 12)) -> bprop.Network:
    return bprop.Network(
        [*sizes, n_out],
        hidden,
        COST.get(out, "quadratic"),
        output_activation=out,
        init="scaled",
        dtype=dtype,
        seed=3,
    )


def _close(got: np.ndarray, want: np.ndarray, dtype) -> None:
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    scale = max(1.0, float(np.max(np.abs(want))))
    err = float(np.max(np.abs(got - want)))
    assert err <= TOL[dtype] * scale, f"outputs differ by {err:.3g}"


def _onnx_outputs(net: bprop.Network, X: np.ndarray, path) -> np.ndarray:
    export.to_onnx(net, path)
    return _session(path).run(None, {"x": X})[0]


def _session(path) -> ort.InferenceSession:
    options = ort.SessionOptions()  # one thread: the tests share a small machine
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options)


def _same(a: bprop.Network, b: bprop.Network) -> None:
    assert a.sizes == b.sizes and a.dtype == b.dtype
    assert [x.name for x in a.activations] == [x.name for x in b.activations]
    assert a.cost.name == b.cost.name
    for x, y in zip(a.weights + a.biases, b.weights + b.biases):
        assert x.dtype == y.dtype and np.array_equal(x, y)  # bit for bit (no NaN in them)


# -- outputs equal in every runtime --------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("out", OUTPUT)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_torch_and_onnxruntime_compute_what_bprop_does(hidden, out, dtype, images, tmp_path):
    net = _net(hidden, out, dtype)
    X = images.astype(dtype)
    want = net.feedforward(X)
    with torch.no_grad():
        _close(export.to_torch(net)(torch.from_numpy(X)).numpy(), want, dtype)
    _close(_onnx_outputs(net, X, tmp_path / "m.onnx"), want, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("out", ["softmax", "sigmoid", "identity", "tanh", "relu"])
@pytest.mark.parametrize("hidden", SKLEARN_HIDDEN)
def test_sklearn_computes_what_bprop_does(hidden, out, dtype, images):
    # softmax: a classifier of 10; one sigmoid output: a binary classifier; others: regressors.
    net = _net(hidden, out, dtype, n_out=1 if out == "sigmoid" else 10)
    X = images.astype(dtype)
    want = net.feedforward(X)
    model = export.to_sklearn(net)
    if out in ("softmax", "sigmoid"):
        assert isinstance(model, MLPClassifier)
        proba = model.predict_proba(X)
        _close(proba if out == "softmax" else proba[:, 1:], want, dtype)
        np.testing.assert_array_equal(model.predict(X), net.predict(X))
        np.testing.assert_array_equal(model.classes_, np.arange(max(net.sizes[-1], 2)))
    else:
        assert isinstance(model, MLPRegressor)
        _close(model.predict(X), want, dtype)


def test_sklearn_multilabel_reads_each_sigmoid_output(images):
    net = _net("tanh", "sigmoid", np.float64)
    model = export.to_sklearn(net, kind="multilabel")
    np.testing.assert_array_equal(model.predict(images), net.feedforward(images) > 0.5)
    _close(
        export.to_sklearn(net, kind="regressor").predict(images),
        net.feedforward(images),
        np.float64,
    )


def test_a_trained_network_answers_alike_everywhere(mnist, images, tmp_path):
    """Nielsen's ch.3 network trained one epoch on 1,000 MNIST images, exported to all four."""
    train = mnist.train
    net = bprop.Network(
        [784, 30, 10], "sigmoid", "log-likelihood", output_activation="softmax", init="scaled",
        seed=0,
    )  # fmt: skip
    net.SGD(train.X[:1000], train.y[:1000], 1, 10, 0.5, verbose=False)
    want, labels = net.feedforward(images), net.predict(images)
    assert np.mean(labels == mnist.test.y[:200]) > 0.6
    with torch.no_grad():
        t = export.to_torch(net)(torch.from_numpy(images)).numpy()
    o = _onnx_outputs(net, images, tmp_path / "m.onnx")
    s = export.to_sklearn(net)
    for got in (t, o, s.predict_proba(images)):
        _close(got, want, np.float64)
    for answer in (t.argmax(axis=1), o.argmax(axis=1), s.predict(images)):
        np.testing.assert_array_equal(answer, labels)


# -- the way back, bit for bit -------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize(("hidden", "out"), [(h, o) for h in HIDDEN for o in OUTPUT])
def test_round_trips_are_bit_identical(hidden, out, dtype, tmp_path):
    net = _net(hidden, out, dtype, sizes=(5, 4, 3))
    _same(export.from_torch(export.to_torch(net)), net)
    _same(export.from_onnx(export.to_onnx(net, tmp_path / "m.onnx")), net)
    _same(export.from_safetensors(export.to_safetensors(net, tmp_path / "m.st")), net)
    if hidden in SKLEARN_HIDDEN and out in ("softmax", "identity", "tanh", "relu"):
        _same(export.from_sklearn(export.to_sklearn(net)), net)


def test_the_cost_and_metadata_travel_in_the_files(tmp_path):
    net = bprop.Network([4, 3, 2], "tanh", "quadratic", output_activation="sigmoid", seed=1)
    scaling = {"kind": "standard", "shift": [0.0] * 4, "scale": [2.0] * 4, "range": [0.0, 9.0]}
    export.to_onnx(net, tmp_path / "m.onnx", scaling=scaling)
    assert export.from_onnx(tmp_path / "m.onnx").cost.name == "quadratic"  # not the default
    assert export.read_onnx_metadata(tmp_path / "m.onnx")["scaling"] == scaling
    export.to_safetensors(net, tmp_path / "m.safetensors", scaling=scaling)
    back, meta = export.load_safetensors(tmp_path / "m.safetensors")
    _same(back, net)
    assert meta["scaling"] == scaling and meta["sizes"] == [4, 3, 2]
    # Without a stored cost, the output's usual partner; a cost given wins.
    assert export.from_torch(export.to_torch(net)).cost.name == "cross-entropy"
    assert export.from_torch(export.to_torch(net), cost="quadratic").cost.name == "quadratic"


def test_the_scaling_in_the_graph_reads_back_only_as_written(tmp_path):
    net = bprop.Network([2, 2], "tanh", seed=0)
    scaling = {"kind": "minmax", "shift": [1.0, 2.0], "scale": [4.0, 8.0], "range": [0.0, 9.0]}
    model = export._onnx.onnx_model(net, scale_inputs=True, scaling=scaling)
    assert [n.op_type for n in model.graph.node[:2]] == ["Sub", "Div"]
    del model.graph.node[1]  # the Div gone: the graph no longer does what its metadata says
    model.graph.node[1].input[0] = "x_shifted"
    (tmp_path / "m.onnx").write_bytes(model.SerializeToString())
    with pytest.raises(serialize.ModelFormatError, match=r"does not begin with Sub\(x, shift\)"):
        export.from_onnx(tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="scale_inputs needs the scaling="):
        export.to_onnx(net, tmp_path / "n.onnx", scale_inputs=True)


def test_the_safetensors_file_loads_into_torch_and_back(tmp_path):
    """The file is to_torch's state dict: PyTorch loads it as it is, and bprop reads a state
    dict PyTorch wrote when told the activations."""
    from safetensors.torch import load_file, save_file

    net = _net("relu", "softmax", np.float32, sizes=(6, 5))
    export.to_safetensors(net, tmp_path / "m.safetensors")
    other = bprop.Network([6, 5, 10], "relu", output_activation="softmax", dtype=np.float32, seed=9)
    module = export.to_torch(other)
    module.load_state_dict(load_file(tmp_path / "m.safetensors"))
    _same(export.from_torch(module), net)
    save_file(module.state_dict(), tmp_path / "plain.safetensors")
    with pytest.raises(UnsupportedModelError, match=r"no bprop description: give activations"):
        export.from_safetensors(tmp_path / "plain.safetensors")
    _same(export.from_safetensors(tmp_path / "plain.safetensors", ["relu", "softmax"]), net)


def test_from_torch_reads_sequentials_written_by_hand():
    lin1, lin2 = torch.nn.Linear(3, 4, dtype=torch.float64), torch.nn.Linear(4, 2, bias=False)
    lin2 = lin2.double()
    module = torch.nn.Sequential(torch.nn.Flatten(), lin1, torch.nn.LeakyReLU(0.01), lin2)
    net = export.from_torch(module)
    assert [a.name for a in net.activations] == ["leaky_relu", "identity"]
    assert not net.biases[1].any()
    X = np.random.default_rng(0).normal(size=(5, 3))
    with torch.no_grad():
        _close(module(torch.from_numpy(X)).numpy(), net.feedforward(X), np.float64)


def test_from_onnx_reads_matmul_and_add(tmp_path):
    """The pattern other exporters write: MatMul by w stored (n_in, n_out), then Add."""
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=(3, 2)), rng.normal(size=2)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W"], ["m"]),
            helper.make_node("Add", ["b", "m"], ["z"]),
            helper.make_node("Tanh", ["z"], ["y"]),
        ],
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.DOUBLE, ["N", 3])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.DOUBLE, ["N", 2])],
        [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "b")],
    )
    onnx.save(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "g.onnx"
    )
    net = export.from_onnx(tmp_path / "g.onnx")
    assert np.array_equal(net.weights[0], w.T) and np.array_equal(net.biases[0], b)
    X = rng.normal(size=(4, 3))
    _close(
        _session(tmp_path / "g.onnx").run(None, {"x": X})[0],
        net.feedforward(X),
        np.float64,
    )


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch's TorchScript-based exporter
def test_from_onnx_reads_what_torch_onnx_export_writes(tmp_path):
    net = _net("tanh", "softmax", np.float64, sizes=(5, 4))
    x = torch.zeros(2, 5, dtype=torch.float64)
    path = tmp_path / "torch.onnx"
    torch.onnx.export(export.to_torch(net), (x,), path, dynamo=False, input_names=["x"])
    _same(export.from_onnx(path), net)
    # A Flatten first, as image models have it (here over rows already flat).
    flat = torch.nn.Sequential(torch.nn.Flatten(), *export.to_torch(net))
    torch.onnx.export(flat, (x,), path, dynamo=False, input_names=["x"])
    _same(export.from_onnx(path), net)


def test_a_missing_library_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r'to_onnx needs onnx: pip install "bprop\[export\]"'):
        export.to_onnx(bprop.Network([2, 2], seed=0), "never.onnx")


# -- what cannot be expressed, and damaged files -------------------------------------------------


def _lin(n_in=2, n_out=2):
    return torch.nn.Linear(n_in, n_out)


@pytest.mark.parametrize(
    ("modules", "message"),
    [
        (lambda nn: [_lin(), nn.GELU()], r"module 1 .*GELU.* is not supported"),
        (lambda nn: [_lin(), nn.LeakyReLU(0.2)], r"negative_slope 0.2"),
        (lambda nn: [_lin(), nn.Softmax(dim=0)], r"dim=0"),
        (lambda nn: [_lin(), nn.ReLU(), nn.Tanh()], r"follows another activation"),
        (lambda nn: [nn.ReLU()], r"follows no Linear"),
        (lambda nn: [_lin(2, 3), _lin()], r"layer 1's weights have shape \(2, 2\)"),
        (lambda nn: [_lin().half()], r"float16"),
    ],
)
def test_from_torch_names_what_it_cannot_express(modules, message):
    with pytest.raises(UnsupportedModelError, match=message):
        export.from_torch(torch.nn.Sequential(*modules(torch.nn)))


def _graph_file(tmp_path, nodes, inits, name="g.onnx"):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.DOUBLE, ["N", 2])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.DOUBLE, ["N", 2])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    (tmp_path / name).write_bytes(model.SerializeToString())
    return tmp_path / name


def test_from_onnx_names_the_operator_it_cannot_express(tmp_path):
    w = numpy_helper.from_array(np.eye(2), "w")
    b = numpy_helper.from_array(np.zeros(2), "b")
    gemm = helper.make_node("Gemm", ["x", "w", "b"], ["z"], "layer0")
    path = _graph_file(tmp_path, [gemm, helper.make_node("Elu", ["z"], ["y"], "act")], [w, b])
    with pytest.raises(
        UnsupportedModelError,
        match=r"node 1 \(Elu 'act'\) is an operator bprop cannot express; it reads Gemm, MatMul",
    ):
        export.from_onnx(path)
    alpha = helper.make_node("Gemm", ["x", "w", "b"], ["y"], alpha=2.0)
    with pytest.raises(UnsupportedModelError, match=r"alpha = beta = 1"):
        export.from_onnx(_graph_file(tmp_path, [alpha], [w, b]))
    leaky = helper.make_node("LeakyRelu", ["z"], ["y"], alpha=0.2)
    with pytest.raises(UnsupportedModelError, match=r"alpha 0.2"):
        export.from_onnx(_graph_file(tmp_path, [gemm, leaky], [w, b]))
    ints = numpy_helper.from_array(np.eye(2, dtype=np.int64), "w")
    with pytest.raises(UnsupportedModelError, match=r"ONNX data type 7; bprop reads float32"):
        export.from_onnx(
            _graph_file(tmp_path, [helper.make_node("Gemm", ["x", "w", "b"], ["y"])], [ints, b])
        )


def test_from_onnx_treats_the_file_as_a_strangers(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="no ONNX file"):
        export.from_onnx(tmp_path / "none.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"\x0a\xff\xff\xff\xff junk")
    with pytest.raises(serialize.ModelFormatError, match="is not a readable ONNX model"):
        export.from_onnx(tmp_path / "junk.onnx")
    # A tensor pointing at a file beside the model (or anywhere) is refused, never opened.
    w = onnx.TensorProto(name="w", data_type=onnx.TensorProto.DOUBLE, dims=[2, 2])
    w.data_location = onnx.TensorProto.EXTERNAL
    w.external_data.add(key="location", value="/etc/passwd")
    b = numpy_helper.from_array(np.zeros(2), "b")
    path = _graph_file(tmp_path, [helper.make_node("Gemm", ["x", "w", "b"], ["y"])], [w, b])
    with pytest.raises(serialize.ModelFormatError, match="'w' points at an external file"):
        export.from_onnx(path)
    net = bprop.Network([2, 2], seed=0)
    export.to_onnx(net, tmp_path / "big.onnx")
    monkeypatch.setattr("bprop.export._onnx.MAX_ONNX_BYTES", 100)
    with pytest.raises(serialize.ModelFormatError, match="bprop reads ONNX files up to"):
        export.from_onnx(tmp_path / "big.onnx")


def test_from_safetensors_checks_before_reading(tmp_path):
    from safetensors.numpy import save_file

    net = bprop.Network([3, 2], seed=0)
    export.to_safetensors(net, tmp_path / "m.safetensors")
    header = {"format": "bprop-model", "format_version": "1"}
    meta = json.dumps({"sizes": [3, 4], "activations": ["sigmoid"], "dtype": "float64"})
    tensors = {"0.weight": net.weights[0], "0.bias": net.biases[0]}
    save_file(tensors, tmp_path / "lies.safetensors", metadata=header | {"bprop": meta})
    with pytest.raises(
        serialize.ModelFormatError,
        match=r"shapes \[\(\[2, 3\], \[2\]\)\], but its metadata describes sizes \[3, 4\]",
    ):
        export.from_safetensors(tmp_path / "lies.safetensors")
    half = {k: v.astype(np.float16) for k, v in tensors.items()}
    save_file(half, tmp_path / "half.safetensors")
    with pytest.raises(serialize.ModelFormatError, match=r"tensor '0.(weight|bias)' is F16"):
        export.from_safetensors(tmp_path / "half.safetensors", ["sigmoid"])
    newer = header | {"format_version": "2", "bprop": meta}
    save_file(tensors, tmp_path / "newer.safetensors", metadata=newer)
    with pytest.raises(serialize.ModelFormatError, match=r"format '2'.*Upgrade bprop"):
        export.from_safetensors(tmp_path / "newer.safetensors")
    blob = (tmp_path / "m.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(serialize.ModelFormatError, match="is not a readable safetensors file"):
        export.from_safetensors(tmp_path / "cut.safetensors")
    save_file({"conv.weight": np.zeros((2, 2))}, tmp_path / "other.safetensors")
    with pytest.raises(UnsupportedModelError, match=r"'conv.weight' is not a Linear layer"):
        export.from_safetensors(tmp_path / "other.safetensors", ["sigmoid"])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("fmt", ["onnx", "safetensors"])
def test_a_fifo_or_folder_is_refused_not_waited_on(fmt, tmp_path):
    """Opening a FIFO for reading waits for a writer: the readers must look first (an alarm
    turns a hang into a failure)."""
    read = {"onnx": export.from_onnx, "safetensors": export.from_safetensors}[fmt]
    fifo = tmp_path / f"pipe.{fmt}"
    os.mkfifo(fifo)
    with alarm_after(10, f"from_{fmt} waited on a FIFO"):
        with pytest.raises(OSError, match=r"pipe\.\w+ is a FIFO \(named pipe\), not a regular"):
            read(fifo)
        with pytest.raises(OSError, match="is a folder, not a regular file"):
            read(tmp_path)


@pytest.mark.parametrize("fmt", ["onnx", "safetensors"])
def test_damaged_files_give_one_of_the_two_errors(fmt, tmp_path):
    """Truncated and mutated files load (a flipped weight is still a network) or raise
    ModelFormatError / UnsupportedModelError; never another exception."""
    net = bprop.Network([3, 4, 2], "leaky_relu", "log-likelihood", output_activation="softmax")
    write, read = {
        "onnx": (export.to_onnx, export.from_onnx),
        "safetensors": (export.to_safetensors, export.from_safetensors),
    }[fmt]
    blob = write(net, tmp_path / "m").read_bytes()
    rng = np.random.default_rng(0)
    failures = 0
    for _ in range(300):
        mutated = bytearray(blob[: rng.integers(len(blob))] if rng.random() < 0.3 else blob)
        for _ in range(rng.integers(1, 4)):
            mutated[rng.integers(len(mutated))] = rng.integers(256)
        (tmp_path / "bad").write_bytes(bytes(mutated))
        try:
            read(tmp_path / "bad")
        except (serialize.ModelFormatError, UnsupportedModelError):
            failures += 1
    assert failures > 100


@pytest.mark.parametrize(
    ("sizes", "acts", "kind", "message"),
    [
        ([3, 4, 2], ["leaky_relu", "softmax"], "auto", r"no leaky_relu activation"),
        (
            [3, 4, 4, 2],
            ["relu", "tanh", "softmax"],
            "auto",
            r"one activation for all hidden layers; this network's are relu, tanh",
        ),
        (
            [3, 4, 10],
            ["sigmoid", "sigmoid"],
            "auto",
            r"not 10 sigmoid outputs: several sigmoid outputs are read one by one .*multilabel",
        ),
        ([3, 4, 2], ["tanh", "identity"], "classifier", r"not 2 identity outputs"),
        ([3, 4, 2], ["tanh", "relu"], "multilabel", r"sigmoid outputs, not relu"),
    ],
)
def test_to_sklearn_refuses_what_sklearn_cannot_express(sizes, acts, kind, message):
    with pytest.raises(UnsupportedModelError, match=message):
        export.to_sklearn(bprop.Network(sizes, acts, seed=0), kind=kind)


def test_from_sklearn_reads_fitted_perceptrons_only():
    with pytest.raises(UnsupportedModelError, match="is not fitted"):
        export.from_sklearn(MLPClassifier())
    with pytest.raises(UnsupportedModelError, match="reads MLPClassifier and MLPRegressor"):
        export.from_sklearn(object())
    X = np.random.default_rng(0).normal(size=(40, 3))
    mlp = MLPClassifier((5,), activation="tanh", max_iter=5, random_state=0)
    with pytest.warns(Warning):  # ConvergenceWarning after 5 iterations
        mlp.fit(X, np.arange(40) % 3)
    net = export.from_sklearn(mlp)
    assert net.cost.name == "log-likelihood" and net.activations[0].name == "tanh"
    _close(net.feedforward(X), mlp.predict_proba(X), np.float64)


def test_custom_activations_are_refused():
    leaky = bprop.ACTIVATIONS["leaky_relu"]
    mine = bprop.Activation("mine", leaky.fn, leaky.prime)
    net = bprop.Network([2, 2], mine, "quadratic")
    for to in (export.to_torch, export.to_sklearn):
        with pytest.raises(UnsupportedModelError, match="custom activation 'mine'"):
            to(net)


# -- the command, and what importing costs -------------------------------------------------------


def test_bprop_export_writes_and_never_overwrites(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    net = bprop.Network(
        [4, 3, 2], "relu", output_activation="softmax", cost="log-likelihood", seed=0
    )
    scaling = {"kind": "standard", "shift": [1.0] * 4, "scale": [3.0] * 4, "range": [0.0, 9.0]}
    serialize.save_model("model.npz", net, scaling=scaling)
    assert main(["export", "model.npz", "--to", "onnx"]) == 0
    out = capsys.readouterr().out
    assert "wrote model.onnx (ONNX, opset 17" in out and "give it the raw features" in out
    # The graph takes raw features and scales them as bprop does; the network reads back.
    raw = np.random.default_rng(0).normal(3.0, 5.0, size=(6, 4))
    want = net.feedforward((raw - 1.0) / 3.0)
    _close(_session("model.onnx").run(None, {"x": raw})[0], want, np.float64)
    _same(export.from_onnx("model.onnx"), net)
    assert export.read_onnx_metadata("model.onnx")["scaling"] == scaling
    assert main(["export", "model.npz", "--to", "onnx"]) == 2
    assert "model.onnx exists: give another --out, or --force" in capsys.readouterr().err
    assert main(["export", "model.npz", "--to", "onnx", "--force"]) == 0
    assert main(["export", "model.npz", "--to", "torch", "--out", "t/m.safetensors"]) == 0
    assert "takes its inputs scaled as in training" in capsys.readouterr().out
    back, meta = export.load_safetensors("t/m.safetensors")
    _same(back, net)
    assert meta["scaling"] == scaling
    assert main(["export", "model.npz", "--to", "sklearn"]) == 2
    assert "saved as pickles, which bprop never writes" in capsys.readouterr().err


def test_importing_bprop_export_loads_none_of_the_libraries():
    code = (
        "import sys, bprop.export\n"
        "print([m for m in ('torch', 'onnx', 'onnxruntime', 'safetensors', 'sklearn') "
        "if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
