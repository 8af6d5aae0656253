"""CSV files as the hardening issue (#14 items 5, 14, 21, 22) found them: a numeric header read
as data, NaN and empty labels as classes, ``1_000`` and Arabic-Indic digits as numbers, a
continuous target as 50,000 classes, and a loader that needed 8 GB for a 365 MB file.

The fast path (NumPy's parser, chunk by chunk) and the careful path (the csv module, cell by
cell) must accept exactly the same files and report the same first error: hypothesis compares
them on random files.
"""

from __future__ import annotations

import io
import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bprop import datasets as ds
from bprop.cli import main
from bprop.datasets import csvfile, tabular


def _write(tmp_path: Path, text: str, name: str = "d.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _pandas_like(m: int = 40, n: int = 4, label_name: str = "label", seed: int = 0) -> str:
    """What ``DataFrame(X).assign(label=y).to_csv(index=False)`` writes: columns 0…n-1, label."""
    rng = np.random.default_rng(seed)
    rows = [",".join([*(str(j) for j in range(n)), label_name])]
    for i in range(m):
        rows.append(",".join([*(str(v) for v in rng.integers(0, 9, n)), str(i % 3)]))
    return "\n".join(rows) + "\n"


# -- item 5: header detection --------------------------------------------------------------------


@pytest.mark.parametrize("label_name", ["label", "y", "784", "3.5"])
def test_a_numeric_header_is_not_read_as_an_example(tmp_path, label_name):
    path = _write(tmp_path, _pandas_like(label_name=label_name))
    data = ds.load_csv(path, scale="none")
    assert data.class_names == ("0", "1", "2")  # the header's label is no class
    assert len(data.train) + len(data.test) == 40  # and its row no example


def test_header_0_1_2_y_does_not_make_y_a_class(tmp_path):
    text = "0,1,2,y\n" + "".join(f"{i},{i + 1},{i % 4},{i % 2}\n" for i in range(30))
    data = ds.load_csv(_write(tmp_path, text), scale="none")
    assert data.class_names == ("0", "1") and len(data.train) + len(data.test) == 30


def test_label_first_and_one_based_column_names_are_headers_too(tmp_path):
    text = "label,1,2,3\n" + "".join(f"{i % 2},{i},{i * 2},{i % 5}\n" for i in range(20))
    data = ds.load_csv(_write(tmp_path, text), label_column=0, scale="none")
    assert data.class_names == ("0", "1") and len(data.train) + len(data.test) == 20


def test_a_numeric_first_row_whose_label_fits_is_data(tmp_path):
    # 0,1,2 counts the columns, but its label 1 is one of the labels: it is an example.
    text = "0,1,2,1\n" + "".join(f"{i},{i + 1},{i % 4},{i % 2}\n" for i in range(9))
    data = ds.load_csv(_write(tmp_path, text), scale="none")
    assert len(data.train) + len(data.test) == 10


@pytest.mark.parametrize(
    ("header", "rows"), [("yes", 3), (True, 3), ("no", 4), (False, 4), ("auto", 4)]
)
def test_the_header_choice_is_obeyed(tmp_path, header, rows):
    path = _write(tmp_path, "1,2,0\n3,4,1\n5,6,0\n7,8,1\n")
    data = ds.load_csv(path, header=header, test_fraction=0.3)
    assert len(data.train) + len(data.test) == rows


def test_header_no_on_a_file_with_a_header_says_where(tmp_path):
    path = _write(tmp_path, "a,b,c\n1,2,x\n3,4,y\n")
    with pytest.raises(ds.DataFormatError, match=r"line 1, column 1: 'a' is not a number.*yes"):
        ds.load_csv(path, header="no")
    with pytest.raises(ValueError, match="header must be"):
        ds.load_csv(path, header="maybe")
    with pytest.raises(ValueError, match="column name, but header is 'no'"):
        ds.load_csv(path, header="no", label_column="c")


def test_the_cli_takes_header(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, _pandas_like(m=60, label_name="y"))
    base = ["train", "--dataset", f"csv:{path}", "--epochs", "1", "--no-progress", "--seed", "0"]
    assert main([*base, "--header", "no", "--out", "a"]) == 0
    assert "[4, 30, 4]" in capsys.readouterr().out  # as asked: the first row is an example
    assert main([*base, "--header", "auto", "--out", "b"]) == 0
    assert "[4, 30, 3]" in capsys.readouterr().out  # three classes: 'y' is no class
    with pytest.raises(SystemExit):
        main([*base, "--header", "maybe"])


# -- item 21: labels that are missing values; numbers Python reads but a CSV must not -------------


@pytest.mark.parametrize(
    ("cell", "match"),
    [
        ("", r"line 3, column 3: an empty label"),
        ("nan", r"line 3, column 3: the label 'nan' is not a class"),
        ("NaN", r"line 3, column 3: the label 'NaN' is not a class"),
        ("-inf", r"line 3, column 3: the label '-inf' is not a class"),
    ],
)
@pytest.mark.parametrize("fast", [True, False])
def test_nan_and_empty_labels_are_errors(tmp_path, cell, match, fast):
    path = _write(tmp_path, f"1,2,a\n3,4,b\n5,6,{cell}\n7,8,a\n")
    with pytest.raises(ds.DataFormatError, match=match):
        csvfile.read_table(path, fast=fast)
    with pytest.raises(ds.DataFormatError, match=match):
        ds.load_csv(path)


def test_nan_labels_in_an_npz_are_errors(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((4, 2)), y=np.array(["a", "nan", "b", "a"]))
    with pytest.raises(ds.DataFormatError, match="'nan' is not a class"):
        ds.load_npz(path)


@pytest.mark.parametrize("cell", ["1_000", "\u0663", "\u0661\u0662", "0x10", "1e", "½", "1,0"])
@pytest.mark.parametrize("fast", [True, False])
def test_only_ascii_decimal_numbers_are_features(tmp_path, cell, fast):
    assert float("1_000") == 1000 and float("\u0663") == 3  # what Python would accept
    quoted = f'"{cell}"' if "," in cell else cell
    path = _write(tmp_path, f"x,y,label\n1,2,a\n3,{quoted},b\n")
    with pytest.raises(ds.DataFormatError, match=r"line 3, column 2: .* is not a number"):
        csvfile.read_table(path, fast=fast)


def test_underscored_labels_stay_names(tmp_path):
    path = _write(tmp_path, "1,2,1_000\n3,4,2\n5,6,1_000\n7,8,2\n")
    assert ds.load_csv(path).class_names == ("1_000", "2")  # strings: "1_000" is no 1000


@pytest.mark.parametrize(
    "cell",
    ["1", "-2.5", "+.5", "5.", "1e5", "1E-3", " 7 ", "inf", "-Infinity", "nan", "1_0", "٣", ""],
)
def test_strict_numbers_are_what_numpys_parser_reads(cell):
    try:
        parsed = float(np.loadtxt(io.StringIO(cell + ",0\n"), delimiter=",", comments=None)[0])
    except ValueError:
        parsed = None
    ours = csvfile.strict_number(cell)
    assert (ours is None) == (parsed is None)
    if ours is not None and parsed is not None and not np.isnan(parsed):
        assert ours == parsed


# -- item 14: a continuous target is a regression, not 50,000 classes -----------------------------


def test_a_continuous_target_is_refused_as_a_regression(tmp_path):
    rng = np.random.default_rng(0)
    lines = [f"{a:.4f},{b:.4f},{a + 2 * b:.6f}" for a, b in rng.normal(size=(500, 2))]
    path = _write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(ds.DataFormatError, match="looks like a regression target") as e:
        ds.load_csv(path)
    assert "BPRegressor" in str(e.value) and "--output-activation identity" in str(e.value)
    npz = tmp_path / "r.npz"
    np.savez(npz, X=rng.normal(size=(300, 2)), y=rng.normal(size=300))
    with pytest.raises(ds.DataFormatError, match="regression target"):
        ds.load_npz(npz)


def test_more_than_a_thousand_classes_are_refused_and_string_ids_named(tmp_path):
    lines = [f"{i},{i % 7},id{i}" for i in range(1200)]
    path = _write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(ds.DataFormatError, match=r"too many classes.*an identifier"):
        ds.load_csv(path)


def test_few_examples_with_few_classes_still_load(tmp_path):
    lines = [f"{i},{i * 2},{i % 20}" for i in range(100)]  # 20 classes of 5: allowed
    assert ds.load_csv(_write(tmp_path, "\n".join(lines) + "\n")).n_classes == 20


# -- item 22: chunks straight into a preallocated array ------------------------------------------


def _integer_csv(path: Path, m: int, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 256, (m, n))
    X[rng.random((m, n)) < 0.7] = 0
    y = rng.integers(0, 10, m)
    with path.open("w") as f:
        f.write(",".join([*(f"p{j}" for j in range(n)), "label"]) + "\n")
        np.savetxt(f, np.column_stack([X, y]), fmt="%d", delimiter=",")
    return np.column_stack([X, y])


def test_loading_needs_little_more_memory_than_the_array(tmp_path, monkeypatch):
    monkeypatch.setattr(csvfile, "CHUNK_BYTES", 256 * 1024)
    path = tmp_path / "big.csv"
    _integer_csv(path, 4000, 200)
    tracemalloc.start()
    try:
        data = ds.load_csv(path, dtype=np.float32, scale="pixels")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    final = data.train.X.nbytes + data.test.X.nbytes
    assert peak < 1.5 * final + 4 * 2**20, f"peak {peak / 2**20:.1f} MiB for {final / 2**20} MiB"


def test_blank_lines_cannot_make_the_loader_allocate_much(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_bytes(b",".join(b"f%d" % j for j in range(100)) + b",y\n" + b"\n" * 2_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(ds.DataFormatError, match="header but no data rows"):
            ds.load_csv(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * 2**20  # not room for 2,000,000 rows of 100 features (1.6 GB)


def test_fast_and_careful_paths_read_a_large_file_alike(tmp_path, monkeypatch):
    monkeypatch.setattr(csvfile, "CHUNK_BYTES", 64 * 1024)
    path = tmp_path / "big.csv"
    raw = _integer_csv(path, 3000, 30, seed=1)
    fast = csvfile.read_table(path, dtype=np.float32)
    careful = csvfile.read_table(path, dtype=np.float32, fast=False)
    np.testing.assert_array_equal(fast.X, raw[:, :-1].astype(np.float32))
    np.testing.assert_array_equal(fast.X, careful.X)
    assert [fast.labels[c] for c in fast.codes] == [str(v) for v in raw[:, -1]]
    assert [careful.labels[c] for c in careful.codes] == [str(v) for v in raw[:, -1]]


def test_an_error_deep_in_a_later_chunk_names_its_line(tmp_path, monkeypatch):
    monkeypatch.setattr(csvfile, "CHUNK_BYTES", 4096)
    lines = [f"{i},{i % 3},{i % 2}" for i in range(2000)]
    lines[1733] = "1733,1_5,1"
    path = _write(tmp_path, "\n".join(lines) + "\n")
    for fast in (True, False):
        with pytest.raises(ds.DataFormatError, match=r"line 1734, column 2: '1_5' is not a number"):
            csvfile.read_table(path, fast=fast)


def test_the_split_is_the_one_it_always_was(tmp_path):
    """Splitting in place keeps the seed's split: test = X[order[:n_test]]."""
    lines = [f"{i},{i * 3 % 7},{i % 3}" for i in range(50)]
    data = ds.load_csv(_write(tmp_path, "\n".join(lines) + "\n"), seed=5, scale="none")
    order = np.random.default_rng(5).permutation(50)
    np.testing.assert_array_equal(data.test.X[:, 0], order[:10])
    np.testing.assert_array_equal(data.train.X[:, 0], order[10:])
    np.testing.assert_array_equal(data.test.y, order[:10] % 3)


def test_a_fifo_or_folder_is_not_a_csv_file(tmp_path):
    with pytest.raises(ds.DataFormatError, match="not a regular file"):
        ds.load_csv(tmp_path)
    fifo = tmp_path / "f.csv"
    os.mkfifo(fifo)
    with pytest.raises(ds.DataFormatError, match="not a regular file"):
        ds.load_csv(fifo)


CELLS = st.sampled_from(
    ["0", "1", "2", "10", "-3", "0.5", "1e3", "x", "", " ", "nan", "inf", "1_0", "٣", "a b"]
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(CELLS, min_size=2, max_size=4), min_size=1, max_size=8),
    blank=st.sets(st.integers(0, 8), max_size=2),
    header=st.sampled_from(["auto", "yes", "no"]),
    crlf=st.booleans(),
)
def test_the_fast_and_careful_paths_agree(tmp_path, rows, blank, header, crlf):
    lines = [",".join(r) for r in rows]
    for i in sorted(blank, reverse=True):
        lines.insert(min(i, len(lines)), "")
    end = "\r\n" if crlf else "\n"
    path = tmp_path / "h.csv"
    path.write_bytes((end.join(lines) + end).encode())
    results = []
    for fast in (True, False):
        try:
            t = csvfile.read_table(path, header=header, fast=fast)
            results.append((t.X.tolist(), [t.labels[c] for c in t.codes], t.names))
        except (ds.DataFormatError, ValueError) as e:
            results.append(("error", str(e)))
    assert results[0] == results[1]


def test_load_csv_still_reports_the_known_messages(tmp_path):
    """The messages the tests of test_datasets.py match, through the rewritten reader."""
    path = _write(tmp_path, "a,b,c\n1,2,x\n3,oops,y\n")
    with pytest.raises(ds.DataFormatError, match=r"line 3, column 2: 'oops' is not a number"):
        ds.load_csv(path)
    assert tabular.MAX_CLASSES == 1000


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.lists(st.integers(0, 10**15 - 1) | st.integers(0, 300), min_size=3, max_size=3),
        min_size=1,
        max_size=6,
    ),
    label=st.integers(0, 2),
    crlf=st.booleans(),
    last_newline=st.booleans(),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
)
def test_the_integer_parser_reads_what_numpy_reads(rows, label, crlf, last_newline, delimiter):
    end = "\r\n" if crlf else "\n"
    text = end.join(delimiter.join(str(v) for v in r) for r in rows) + (end if last_newline else "")
    values = csvfile._integers(text.encode(), 3, ord(delimiter), label)
    assert values is not None
    np.testing.assert_array_equal(values, np.array(rows))
    expected = np.loadtxt(io.StringIO(text), delimiter=delimiter, comments=None, ndmin=2)
    np.testing.assert_array_equal(values.astype(np.float64), expected)


@pytest.mark.parametrize(
    "text",
    [
        "1,2,3\n4,,6\n",
        "1,2,3\n\n4,5,6\n",
        "1,2,3\n4,5\n",
        "1,2,3,4\n",
        ",1,2\n",
        "1,-2,3\n",
        "1,2.0,3\n",
        "1,2,03\n",
        "1,2,3\n4,5,6,7,8,9\n",
        "1,2,1234567890123456\n",
        "1,2,x\n",
    ],
)
def test_the_integer_parser_leaves_anything_else_to_the_others(text):
    assert csvfile._integers(text.encode(), 3, ord(","), 2) is None
