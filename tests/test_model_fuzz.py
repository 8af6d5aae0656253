"""The model-file fuzzer (issue #14): mutated models give bprop's documented errors, never a
traceback, a hang or a crash.

Three kinds of mutation, each through :func:`bprop.serialize.load_model`: random bytes of a
saved model (stored and deflated), structured edits of its ``.npy`` members (headers, shapes,
dtypes, data, members added or dropped; the archive rebuilt so its CRCs hold and the edit is
what gets read), and structured edits of its JSON metadata (fields replaced by any JSON value,
dropped, nested).  Mutated metadata also goes through the command line's ``predict`` and
``evaluate``, in-process, with ``--debug`` so that nothing is hidden behind exit code 2.

The profile CI runs draws 5,000+ cases in all; ``BPROP_FUZZ=long`` draws ten times as many.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import bprop
from bprop import serialize
from bprop.serialize import ModelFormatError

LONG = os.environ.get("BPROP_FUZZ") == "long"
SCALE = 10 if LONG else 1


def fuzz(cases: int) -> settings:
    """``cases`` examples in CI (derandomized: the same cases every run), ten times as many
    and freshly random with BPROP_FUZZ=long."""
    return settings(
        max_examples=cases * SCALE,
        deadline=None,
        derandomize=not LONG,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate, Phase.shrink),  # no "explain": it recompiles
    )


NET = bprop.Network([6, 5, 3], ["tanh", "softmax"], "log-likelihood", seed=1)


def _saved(net, compression: int, **meta) -> bytes:
    buf = io.BytesIO()
    blob = json.dumps(serialize.model_metadata(net, **meta)).encode()
    arrays = {"meta": np.frombuffer(blob, np.uint8)}
    arrays |= {f"w{i}": w for i, w in enumerate(net.weights)}
    arrays |= {f"b{i}": b for i, b in enumerate(net.biases)}
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for key, a in arrays.items():
            zf.writestr(f"{key}.npy", _npy(a))
    return buf.getvalue()


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


STORED = _saved(NET, zipfile.ZIP_STORED, dataset={"name": "csv:d.csv", "class_names": ["a"]})
DEFLATED = _saved(NET, zipfile.ZIP_DEFLATED)


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _write(path: Path, data: bytes) -> None:
    """Overwrite ``path`` with ``data`` (truncating after the write: some filesystems make a
    truncating open cost a millisecond, which thousands of cases feel)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)


def _load(path: Path, data: bytes) -> None:
    """Load ``data`` as a model: it loads (then computes), or raises ModelFormatError."""
    _write(path, data)
    try:
        net, _ = serialize.load_model(path)
    except ModelFormatError:
        return
    assert np.all(np.isfinite(net.feedforward(np.ones((2, net.sizes[0])))))


# -- random bytes ----------------------------------------------------------------------------

byte_edits = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8)


@fuzz(2000)
@given(
    base=st.sampled_from([STORED, DEFLATED]),
    edits=byte_edits,
    cut=st.none() | st.integers(0, 10**6),
)
def test_random_byte_mutations(tmp_path_factory, base, edits, cut):
    data = bytearray(base)
    for at, value in edits:
        data[at % len(data)] = value
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    _load(tmp_path_factory.getbasetemp() / "bytes.npz", bytes(data))


# -- the .npy members ------------------------------------------------------------------------

HEADER_TOKENS = [
    b"(",
    b")",
    b",",
    b"}",
    b"{",
    b"'",
    b" ",
    b"\n",
    b"0",
    b"9",
    b"-",
    b"<f4",
    b"|O",
    b"True",
    b"1e9",
    b"[",
    b"shape",
    b"descr",
    b"\x00",
    b"\xff" * 3,
]


@st.composite
def npy_edit(draw):
    members = _members(STORED)
    name = draw(st.sampled_from(sorted(members)))
    data = bytearray(members[name])
    kind = draw(st.sampled_from(["header", "shape", "dtype", "data", "drop", "add", "version"]))
    if kind == "header":  # a token written over the header (bytes 10 … the newline)
        at = draw(st.integers(8, data.index(b"\n")))
        token = draw(st.sampled_from(HEADER_TOKENS))
        data[at : at + len(token)] = token
    elif kind == "shape":
        shape = draw(st.lists(st.integers(0, 2**62), max_size=4))
        text = repr(tuple(shape)).encode()
        head_end = data.index(b"\n") + 1
        header = bytes(data[10:head_end])
        start = header.index(b"'shape': ") + 9
        stop = header.index(b")", start) + 1
        header = (header[:start] + text + header[stop:]).rstrip(b" \n").ljust(head_end - 11)
        data[8:head_end] = len(header + b"\n").to_bytes(2, "little") + header + b"\n"
    elif kind == "dtype":
        descr = draw(st.sampled_from([b"'<f4'", b"'<i8'", b"'|u1'", b"'<U3'", b"'|O'", b"'>f8'"]))
        i = data.index(b"'descr': ") + 9
        j = data.index(b",", i)
        data[i:j] = descr
    elif kind == "data":
        for at, value in draw(byte_edits):
            data[at % len(data)] = value
        if draw(st.booleans()):
            data += draw(st.binary(max_size=16))
    elif kind == "drop":
        del members[name]
        return _zip(members)
    elif kind == "add":
        key = draw(st.sampled_from(["w2", "b2", "vw0", "w9", "meta2", "x"]))
        members[f"{key}.npy"] = bytes(data)
        return _zip(members)
    else:
        data[6:8] = bytes(draw(st.sampled_from([(1, 0), (2, 0), (3, 0), (0, 9), (255, 255)])))
    members[name] = bytes(data)
    return _zip(members, draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])))


@fuzz(1500)
@given(data=npy_edit())
def test_structured_npy_mutations(tmp_path_factory, data):
    _load(tmp_path_factory.getbasetemp() / "npy.npz", data)


# -- the metadata ----------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=8)
    | st.sampled_from(["float32", "float64", "sigmoid", "softmax", "tanh", "mnist", "csv:d.csv"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=6,
)
META_FIELDS = [
    "format",
    "format_version",
    "bprop_version",
    "sizes",
    "activations",
    "cost",
    "dtype",
    "init",
    "dataset",
    "training",
    "scaling",
    "resume",
    "history",
]


@st.composite
def meta_edit(draw):
    meta = serialize.model_metadata(NET, dataset={"name": "csv:d.csv", "class_names": ["a", "b"]})
    meta["scaling"] = {"method": "standard", "center": [0.0] * 6, "scale": [1.0] * 6}
    for _ in range(draw(st.integers(1, 3))):
        field = draw(
            st.sampled_from(
                [*META_FIELDS, "dataset.name", "dataset.class_names", "training.header"]
            )
        )
        outer, _, inner = field.partition(".")
        action = draw(st.sampled_from(["set", "set", "drop", "nest"]))
        target = meta if not inner else meta.get(outer)
        key = inner or outer
        if not isinstance(target, dict):
            continue
        if action == "drop":
            target.pop(key, None)
        elif action == "nest":
            depth = draw(st.integers(60, 300))
            text = json.dumps(meta)
            return text[:-1] + f', "deep": {"[" * depth}{"]" * depth}' + "}"
        else:
            target[key] = draw(json_values)
    return json.dumps(meta)


def _with_meta(text: str) -> bytes:
    members = _members(STORED)
    members["meta.npy"] = _npy(np.frombuffer(text.encode(), np.uint8))
    return _zip(members)


@fuzz(1400)
@given(text=meta_edit())
def test_structured_metadata_mutations(tmp_path_factory, text):
    _load(tmp_path_factory.getbasetemp() / "meta.npz", _with_meta(text))


# -- through the command line ----------------------------------------------------------------

CLI_NET = bprop.Network([784, 2, 3], seed=0)


@pytest.fixture(scope="module")
def cli_files(tmp_path_factory):
    PIL = pytest.importorskip("PIL.Image")
    root = tmp_path_factory.mktemp("cli")
    image = np.full((28, 28), 255, np.uint8)
    image[6:22, 13:16] = 0
    PIL.fromarray(image).save(root / "seven.png")
    rng = np.random.default_rng(0)
    rows = [",".join(map(str, [*rng.integers(0, 256, 784), i % 3])) for i in range(12)]
    (root / "d.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


@st.composite
def cli_meta(draw):
    meta = serialize.model_metadata(CLI_NET, dataset={"name": "csv:d.csv", "class_names": ["a"]})
    meta["training"] = {"header": "no"}
    for _ in range(draw(st.integers(1, 2))):
        outer = draw(st.sampled_from(["dataset", "training", "scaling"]))
        inner = draw(st.sampled_from(["", "name", "class_names", "header", "method", "center"]))
        target = meta if not inner else meta.setdefault(outer, {})
        if isinstance(target, dict):
            target[inner or outer] = draw(json_values)
    return meta


def _cli(argv: list[str]) -> None:
    from bprop.cli import main

    try:
        assert main([*argv, "--debug"]) == 0
    except (ValueError, OSError) as e:  # what `bprop` turns into one line and exit code 2
        assert str(e)


@fuzz(100)
@given(meta=cli_meta(), command=st.sampled_from(["predict", "evaluate"]))
def test_metadata_mutations_through_predict_and_evaluate(cli_files, meta, command, capsys):
    members = _members(_saved(CLI_NET, zipfile.ZIP_STORED))
    members["meta.npy"] = _npy(np.frombuffer(json.dumps(meta).encode(), np.uint8))
    model = cli_files / "m.npz"
    _write(model, _zip(members))
    if command == "predict":
        _cli(["predict", str(model), str(cli_files / "seven.png")])
    else:
        _cli(
            ["evaluate", str(model), "--dataset", f"csv:{cli_files / 'd.csv'}", "--split", "train"]
        )
    capsys.readouterr()
