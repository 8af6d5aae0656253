"""Model files: round trips, atomic writes, and hostile or damaged files."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

import bprop
from bprop import serialize
from bprop.serialize import ModelFormatError


def trained_net(dtype="float64"):
    net = bprop.Network([6, 5, 3], ["tanh", "softmax"], "log-likelihood", dtype=dtype, seed=1)
    rng = np.random.default_rng(0)
    net.SGD(rng.normal(size=(20, 6)), rng.integers(0, 3, 20), 2, 5, 0.1, verbose=False, seed=0)
    return net


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_round_trip_is_exact(tmp_path, dtype):
    net = trained_net(dtype)
    path = serialize.save_model(tmp_path / "m.npz", net, dataset={"name": "x", "digest": "ab"})
    back, meta = serialize.load_model(path)
    assert back.sizes == net.sizes and back.cost is net.cost and back.dtype == net.dtype
    assert [a.name for a in back.activations] == ["tanh", "softmax"]
    for p, q in zip(net.weights + net.biases, back.weights + back.biases):
        np.testing.assert_array_equal(p, q)
        assert q.dtype == np.dtype(dtype)
    assert meta["dataset"] == {"name": "x", "digest": "ab"}
    assert meta["format_version"] == serialize.FORMAT_VERSION


def test_checkpoint_round_trip_keeps_the_training_state(tmp_path):
    net = trained_net()
    state = bprop.TrainState(seed=5, epoch=2, batch=7, cost_sum=1.5, correct=3, seen=9)
    state.velocity_w = [np.full_like(w, 0.5) for w in net.weights]
    state.velocity_b = [np.full_like(b, 0.25) for b in net.biases]
    history = bprop.History(epochs=[bprop.EpochRecord(0, 0.1, 2.0, 0.5, 1.9, 7, 10, 0.3)])
    serialize.save_checkpoint(tmp_path / "c.npz", net, state, history)
    _, back, hist, _ = serialize.load_checkpoint(tmp_path / "c.npz")
    assert (back.seed, back.epoch, back.batch, back.correct, back.seen) == (5, 2, 7, 3, 9)
    assert back.velocity_w[0][0, 0] == 0.5 and back.velocity_b[1][0] == 0.25
    assert hist.epochs == history.epochs
    with pytest.raises(ModelFormatError, match="not a training checkpoint"):
        serialize.save_model(tmp_path / "m.npz", net)
        serialize.load_checkpoint(tmp_path / "m.npz")


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "m.npz"
    serialize.save_model(target, trained_net())
    before = target.read_bytes()
    with pytest.raises(RuntimeError), serialize.atomic_write(target) as f:
        f.write(b"half a model")
        raise RuntimeError("disk full, say")
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_custom_activations_cannot_be_saved(tmp_path):
    act = bprop.Activation("mine", np.tanh, lambda z, a: 1 - a * a)
    with pytest.raises(ValueError, match="custom activation 'mine'"):
        serialize.save_model(tmp_path / "m.npz", bprop.Network([2, 2], act))


def archive(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def npy(array, allow_pickle=False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


def valid_members(net) -> dict[str, bytes]:
    meta = serialize.model_metadata(net)
    members = {"meta.npy": npy(np.frombuffer(json.dumps(meta).encode(), np.uint8))}
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        members[f"w{i}.npy"], members[f"b{i}.npy"] = npy(w), npy(b)
    return members


def huge_header() -> bytes:
    # A valid .npy header declaring 2**40 float64s, followed by 16 bytes of data.
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }"
    header = header.ljust(118) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + b"\0" * 16


def mutate(field, value):
    def build(net):
        members = valid_members(net)
        meta = serialize.model_metadata(net) | {field: value}
        members["meta.npy"] = npy(np.frombuffer(json.dumps(meta).encode(), np.uint8))
        return members

    return build


HOSTILE = {
    "not a zip": lambda net: b"GIF89a not a model at all",
    "truncated": lambda net: archive(valid_members(net))[:300],
    "no metadata": lambda net: archive(
        {k: v for k, v in valid_members(net).items() if k != "meta.npy"}
    ),
    "object array": lambda net: archive(
        valid_members(net) | {"w0.npy": npy(np.array([{"a": 1}], dtype=object), True)}
    ),
    "huge declared size": lambda net: archive(valid_members(net) | {"w0.npy": huge_header()}),
    "path trick": lambda net: archive(valid_members(net) | {"../../evil.npy": npy(np.zeros(2))}),
    "wrong shape": lambda net: archive(valid_members(net) | {"w0.npy": npy(np.zeros((3, 3)))}),
    "NaN weights": lambda net: archive(valid_members(net) | {"b0.npy": npy(np.full(5, np.nan))}),
    "newer format": lambda net: archive(mutate("format_version", 99)(net)),
    "another format": lambda net: archive(mutate("format", "keras")(net)),
    "bad sizes": lambda net: archive(mutate("sizes", [6, -5, 3])(net)),
    "metadata not JSON": lambda net: archive(
        valid_members(net) | {"meta.npy": npy(np.frombuffer(b"{oops", np.uint8))}
    ),
}
EXPECT = {
    "not a zip": "not a readable bprop model",
    "truncated": "not a readable bprop model",
    "no metadata": "no bprop metadata",
    "object array": "not a plain data type",
    "huge declared size": "declares 8796093022208 bytes",
    "path trick": "unexpected member",
    "wrong shape": r"arrays w0 \(3, 3\) and b0 \(5,\) do not follow",
    "NaN weights": "NaN",
    "newer format": "format 99.*Upgrade bprop",
    "another format": "not a bprop model file",
    "bad sizes": r"metadata says sizes \[6, -5, 3\] but its arrays are a 6-5-3",
    "metadata not JSON": "not valid JSON",
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_and_damaged_files_give_a_clear_error(tmp_path, case):
    net = trained_net()
    path = tmp_path / "m.npz"
    path.write_bytes(HOSTILE[case](net))
    with pytest.raises(ModelFormatError, match=EXPECT[case]):
        serialize.load_model(path)


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="no model file at"):
        serialize.load_model("does/not/exist.npz")
