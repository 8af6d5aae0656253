"""Issue #14, untrusted model files: every reproducer of items 9-13, 20 and 21 (and the
format_version message) gives one clear error, allocates nothing on the file's word, and never
hangs."""

from __future__ import annotations

import io
import json
import os
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest

import bprop
from bprop import serialize
from bprop.cli import main
from bprop.serialize import ModelFormatError
from tests.conftest import alarm_after


def npy(array) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def members(net, **meta_changes) -> dict[str, bytes]:
    meta = serialize.model_metadata(net) | meta_changes
    out = {"meta.npy": npy(np.frombuffer(json.dumps(meta).encode(), np.uint8))}
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        out[f"w{i}.npy"], out[f"b{i}.npy"] = npy(w), npy(b)
    return out


def archive(parts: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buf.getvalue()


def meta_bytes(text: str) -> bytes:
    return npy(np.frombuffer(text.encode(), np.uint8))


@pytest.fixture
def alarm():
    """Fail instead of hanging: SIGALRM after 10 s."""
    with alarm_after(10, "bprop hung"):
        yield


def test_lying_sizes_are_refused_before_allocating(tmp_path):
    """Item 9: sizes [784, 1000000, 10] in a 185 KB file allocated 12 GB before."""
    net = bprop.Network([784, 30, 10], seed=0)
    path = tmp_path / "m.npz"
    path.write_bytes(archive(members(net, sizes=[784, 1_000_000, 10])))
    assert os.path.getsize(path) < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(ModelFormatError, match=r"says sizes \[784, 1000000, 10\] but its"):
            serialize.load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20, f"{peak / 2**20:.1f} MiB allocated before refusing"


def test_extra_deflated_members_are_refused_without_inflating(tmp_path):
    """Item 9: extra deflated members (here 3 × 64 MiB of zeros) were inflated and ignored."""
    net = bprop.Network([6, 5, 3], seed=0)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in members(net).items():
            zf.writestr(name, data)
        for k in range(3):  # names a model might have, so only their headers tell
            header = {"descr": "|u1", "fortran_order": False, "shape": (64 * 2**20,)}
            with zf.open(f"w{7 + k}.npy", "w") as f:
                np.lib.format.write_array_header_1_0(f, header)
                for _ in range(4):
                    f.write(bytes(16 * 2**20))
    path = tmp_path / "m.npz"
    path.write_bytes(buf.getvalue())
    tracemalloc.start()
    try:
        with pytest.raises(ModelFormatError, match="unexpected: w7"):
            serialize.load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20, f"{peak / 2**20:.1f} MiB allocated before refusing"
    # A member named like nothing a model holds is refused by its name alone.
    path.write_bytes(archive(members(net) | {"junk.npy": npy(np.zeros(3))}))
    with pytest.raises(ModelFormatError, match=r"unexpected member 'junk\.npy'"):
        serialize.load_model(path)


def test_stated_sizes_beyond_compression_and_the_total_cap(tmp_path):
    from bprop import _npz

    net = bprop.Network([6, 5, 3], seed=0)
    data = bytearray(archive(members(net), zipfile.ZIP_DEFLATED))
    # Patch w0's uncompressed size, in its central directory entry, to 1 GiB.
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("w0.npy")
    entry = data.rindex(b"PK\x01\x02" + data[data.index(b"PK\x01\x02") + 4 :][:0], 0)
    at = data.index(b"w0.npy", data.index(b"PK\x01\x02")) - 46 + 24
    assert int.from_bytes(data[at : at + 4], "little") == info.file_size and entry >= 0
    data[at : at + 4] = (2**30).to_bytes(4, "little")
    path = tmp_path / "m.npz"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFormatError, match="more than compression can give"):
        serialize.load_model(path)
    path.write_bytes(archive(members(net)))
    with pytest.raises(ValueError, match=r"claim .* bytes or more in all"):
        _npz.read_npz(path, max_total=300)


def test_a_damaged_npy_header_is_one_clear_error(tmp_path):
    """Item 11: b0's header with its closing `), }` blanked gave tokenize.TokenError."""
    net = bprop.Network([6, 5, 3], seed=0)
    parts = members(net)
    parts["b0.npy"] = parts["b0.npy"].replace(b",), }", b"     ", 1)
    path = tmp_path / "m.npz"
    path.write_bytes(archive(parts))
    with pytest.raises(ModelFormatError, match=r"array 'b0'.s \.npy header is damaged"):
        serialize.load_model(path)
    # A dtype of the right pattern that numpy has not (the long fuzzer found it: a TypeError).
    parts["b0.npy"] = members(net)["b0.npy"].replace(b"'<f8'", b"'<f0'", 1)
    path.write_bytes(archive(parts))
    with pytest.raises(ModelFormatError, match="dtype '<f0', not a plain data type"):
        serialize.load_model(path)
    # A header numpy would parse but not with the three fields only.
    parts["b0.npy"] = members(net)["b0.npy"].replace(b"'shape'", b"'shapf'", 1)
    path.write_bytes(archive(parts))
    with pytest.raises(ModelFormatError, match="header is damaged"):
        serialize.load_model(path)


def test_a_flipped_data_byte_fails_the_crc(tmp_path):
    net = bprop.Network([6, 5, 3], seed=0)
    path = tmp_path / "m.npz"
    serialize.save_model(path, net)
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x03\x04", data.index(b"w0.npy")) - 20  # inside w0's float data
    data[at] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFormatError, match="CRC"):
        serialize.load_model(path)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("dataset", [1, 2], r"field dataset is malformed \(\[1, 2\]; expected an object\)"),
        ("dataset", None, "field dataset is malformed"),
        ("dataset", "mnist", "field dataset is malformed"),
        ("dataset", {"name": 7}, "field dataset.name is malformed"),
        ("dataset", {"class_names": "abc"}, "field dataset.class_names is malformed"),
        ("training", [], "field training is malformed"),
        ("activations", "sigmoid", "field activations is malformed"),
        ("sizes", "6,5,3", "field sizes is malformed"),
        ("cost", None, "field cost is malformed"),
        ("dtype", "float32", "says dtype 'float32' but its arrays are float64"),
        ("format_version", "1", "field format_version is malformed .'1'"),
        ("format_version", True, "field format_version is malformed"),
    ],
)
def test_metadata_fields_are_checked_by_one_schema(tmp_path, field, value, message):
    """Item 12: a "dataset" list, null or string was an AttributeError in predict/evaluate."""
    net = bprop.Network([6, 5, 3], seed=0)
    path = tmp_path / "m.npz"
    path.write_bytes(archive(members(net, **{field: value})))
    with pytest.raises(ModelFormatError, match=message) as e:
        serialize.load_model(path)
    assert str(path) in str(e.value)


def test_newer_format_still_says_upgrade(tmp_path):
    net = bprop.Network([6, 5, 3], seed=0)
    path = tmp_path / "m.npz"
    path.write_bytes(archive(members(net, format_version=2)))
    with pytest.raises(ModelFormatError, match="Upgrade bprop"):
        serialize.load_model(path)


def test_deeply_nested_metadata(tmp_path):
    """Item 13: 100,000 `[` in the metadata gave a RecursionError."""
    net = bprop.Network([6, 5, 3], seed=0)
    meta = serialize.model_metadata(net)
    text = json.dumps(meta)[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path = tmp_path / "m.npz"
    path.write_bytes(archive(members(net) | {"meta.npy": meta_bytes(text)}))
    with pytest.raises(ModelFormatError, match="nests its JSON 100001 levels deep"):
        serialize.load_model(path)


def test_explain_spec_and_predict_refuse_deep_json_and_fifos(tmp_path, capsys, alarm):
    """Items 10 and 13 through the command line: exit 2 and one line, never a hang."""
    spec = tmp_path / "spec.json"
    spec.write_text("[" * 100_000, encoding="utf-8")
    assert main(["explain", "--spec", str(spec)]) == 2
    assert "nests its JSON 100000 levels deep" in capsys.readouterr().err
    if not hasattr(os, "mkfifo"):
        return
    net = bprop.Network([784, 3, 10], seed=0)
    model = tmp_path / "m.npz"
    serialize.save_model(model, net)
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    assert main(["predict", str(model), str(fifo)]) == 2
    assert "fifo.png is a FIFO (named pipe), not a regular file" in capsys.readouterr().err
    os.mkfifo(tmp_path / "fifo.npz")
    assert main(["predict", str(tmp_path / "fifo.npz"), str(fifo)]) == 2
    assert "fifo.npz" in capsys.readouterr().err  # bprop.runs says there is no model there
    os.mkfifo(tmp_path / "spec.fifo")
    assert main(["explain", "--spec", str(tmp_path / "spec.fifo")]) == 2
    assert "is a FIFO" in capsys.readouterr().err


def test_save_refuses_what_it_could_not_load(tmp_path):
    """Item 20: save_model wrote files it could not load back."""
    path = tmp_path / "m.npz"
    net = bprop.Network([6, 5, 3], seed=0)
    net.weights[1][0, 0] = np.nan
    with pytest.raises(ValueError, match=r"weights\[1\] holds NaN or infinite values"):
        serialize.save_model(path, net)
    net = bprop.Network([6, 5, 3], seed=0)
    net.biases[0] = np.zeros((5, 1))
    with pytest.raises(ValueError, match=r"biases\[0\] has shape \(5, 1\)"):
        serialize.save_model(path, net)
    net = bprop.Network([6, 5, 3], seed=0)
    net.weights[0] = net.weights[0].T
    with pytest.raises(ValueError, match=r"weights\[0\] has shape \(6, 5\)"):
        serialize.save_model(path, net)
    with pytest.raises(ValueError, match="nested deeper than 64"):
        serialize.save_model(
            path,
            bprop.Network([6, 5, 3]),
            training={"x": [[[[[[[]]]]]]] * 1} | {"y": json.loads("[" * 70 + "]" * 70)},
        )
    assert not path.exists()


@pytest.mark.parametrize("pixel", [np.inf, np.nan])
def test_a_float_image_with_non_finite_pixels(tmp_path, pixel):
    """Item 21: one inf pixel rescaled the whole image; all NaN leaked a RuntimeWarning."""
    PIL = pytest.importorskip("PIL.Image")
    from bprop import images

    a = np.zeros((28, 28), np.float32)
    a[4:24, 12:16] = 1.0
    a[0, 0] = pixel
    path = tmp_path / "x.tiff"
    PIL.fromarray(a, mode="F").save(path)
    with pytest.raises(ValueError, match="holds 1 NaN or infinite pixel value"):
        images.load_image(path)
    PIL.fromarray(np.full((8, 8), np.nan, np.float32), mode="F").save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy's "All-NaN slice" RuntimeWarning leaked before
        with pytest.raises(ValueError, match="holds 64 NaN or infinite pixel values"):
            images.load_image(path)
