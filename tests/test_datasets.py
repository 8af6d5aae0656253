"""Tests of bprop.datasets: IDX reading, checksums, search order, downloads, CSV and npz.

Real data comes from the shared datasets folder (``$BPROP_DATA_DIR`` or ``../shared/datasets``
next to the repository). Downloads only ever talk to HTTP servers these tests start on
127.0.0.1; every test runs with a temporary HOME / cache and with the default mirrors replaced
by a closed local port, so nothing can reach the internet.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.server
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from bprop import datasets as ds

REPO = Path(__file__).resolve().parents[1]
_ENV_DATA = os.environ.get("BPROP_DATA_DIR", "")
SHARED = Path(_ENV_DATA) if _ENV_DATA else REPO.parent / "shared" / "datasets"
MNIST_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
LABELS = "train-labels-idx1-ubyte"


# --------------------------------------------------------------------------------------------
# Fixtures and helpers
# --------------------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No env settings, a private HOME / cache, no system folders, no reachable mirrors."""
    monkeypatch.delenv("BPROP_DATA_DIR", raising=False)
    monkeypatch.delenv("BPROP_MIRRORS", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(ds.files, "SYSTEM_DIRS", {"mnist": [], "fashion-mnist": [tmp_path / "deb"]})
    dead = f"http://127.0.0.1:{_closed_port()}/"
    monkeypatch.setattr(ds.fetch, "MIRRORS", {"mnist": [dead], "fashion-mnist": [dead]})
    return tmp_path


@pytest.fixture
def shared() -> Path:
    if not (SHARED / "mnist").is_dir() or not (SHARED / "fashion-mnist").is_dir():
        pytest.skip(f"shared datasets not found at {SHARED} (set BPROP_DATA_DIR)")
    return SHARED


@pytest.fixture
def no_repo_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(ds.files, "REPO_DATA_DIR", tmp_path / "no-repo-data")


def link_dataset(src: Path, dest: Path, files=ds.FILES) -> Path:
    """Make ``dest`` hold symlinks to the .gz files of ``src``."""
    dest.mkdir(parents=True, exist_ok=True)
    for base in files:
        (dest / (base + ".gz")).symlink_to(src / (base + ".gz"))
    return dest


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(handler: type[http.server.BaseHTTPRequestHandler] | partial) -> Iterator[str]:
    """Run an HTTP server on 127.0.0.1 in a thread; yield its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def serve_dir(directory: Path):
    return serve(partial(_Quiet, directory=str(directory)))


def idx_bytes(
    arr: np.ndarray,
    code: int = 0x08,
    *,
    dims: tuple[int, ...] | None = None,
    extra: bytes = b"",
    cut: int = 0,
) -> bytes:
    dims = arr.shape if dims is None else dims
    header = bytes([0, 0, code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    big = arr.astype(arr.dtype.newbyteorder(">")) if arr.dtype.itemsize > 1 else arr
    data = header + big.tobytes() + extra
    return data[: len(data) - cut] if cut else data


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --------------------------------------------------------------------------------------------
# Real data
# --------------------------------------------------------------------------------------------


def test_mnist_from_env(shared: Path, monkeypatch: pytest.MonkeyPatch, no_repo_data) -> None:
    monkeypatch.setenv("BPROP_DATA_DIR", str(shared))
    data = ds.load_mnist(download=False)
    assert data.name == "mnist"
    assert data.train.X.shape == (50000, 784)
    assert data.validation is not None and data.validation.X.shape == (10000, 784)
    assert data.test.X.shape == (10000, 784)
    for split in (data.train, data.validation, data.test):
        assert split.X.dtype == np.float32 and split.y.dtype == np.int64
        assert split.X.min() == 0.0 and split.X.max() == 1.0
        assert split.y.shape == (split.X.shape[0],)
    assert data.train.y[:5].tolist() == [5, 0, 4, 1, 9]
    all_y = np.concatenate([data.train.y, data.validation.y])
    assert np.bincount(all_y, minlength=10).tolist() == MNIST_COUNTS
    assert np.bincount(data.test.y, minlength=10).sum() == 10000
    assert data.n_classes == 10 and data.class_names == tuple("0123456789")
    assert len(data.digest) == 16 and int(data.digest, 16) >= 0
    assert data.n_features == 784
    # pixel 255 maps to exactly 1.0 and 0 to 0.0; a few values are in between
    assert 0.0 < data.train.X[0][data.train.X[0] > 0].min() < 1.0


def test_mnist_no_validation_float64(shared: Path) -> None:
    data = ds.load_mnist(shared, dtype=np.float64, validation_size=0, download=False)
    assert data.validation is None
    assert data.train.X.shape == (60000, 784) and data.train.X.dtype == np.float64
    assert np.bincount(data.train.y).tolist() == MNIST_COUNTS
    assert data.train.X.max() == 1.0


def test_repo_data_loads_without_env(monkeypatch: pytest.MonkeyPatch) -> None:
    if not (REPO / "data" / "mnist").is_dir():
        pytest.skip("no data/mnist in this checkout")
    assert ds.REPO_DATA_DIR == REPO / "data"
    assert ds.dataset_dir("mnist", download=False) == REPO / "data" / "mnist"
    data = ds.load_mnist(download=False)
    assert data.train.y[:5].tolist() == [5, 0, 4, 1, 9]
    assert data.test.X.shape == (10000, 784)


def test_shipped_files_match_known_digests() -> None:
    folder = REPO / "data" / "mnist"
    if not folder.is_dir():
        pytest.skip("no data/mnist in this checkout")
    for base in ds.FILES:
        ds.verify_file(folder / (base + ".gz"), "mnist")
        assert ds.payload_sha256(folder / (base + ".gz")) == ds.PAYLOAD_SHA256["mnist"][base]


def test_fashion_mnist_env_and_data_dir(shared: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BPROP_DATA_DIR", str(shared))
    data = ds.load_fashion_mnist(download=False, validation_size=5000)
    assert data.train.X.shape == (55000, 784)
    assert data.validation is not None and data.validation.X.shape == (5000, 784)
    assert data.test.X.shape == (10000, 784)
    assert data.class_names[0] == "T-shirt/top" and data.class_names[9] == "Ankle boot"
    assert np.bincount(data.test.y).tolist() == [1000] * 10
    assert len(data.digest) == 16
    monkeypatch.delenv("BPROP_DATA_DIR")
    # data_dir holding fashion-mnist/ or the four files directly
    assert ds.dataset_dir("fashion-mnist", shared, download=False) == shared / "fashion-mnist"
    direct = shared / "fashion-mnist"
    assert ds.dataset_dir("fashion-mnist", direct, download=False) == direct
    data2 = ds.load("fashion_mnist", data_dir=direct, download=False)
    assert np.array_equal(data2.test.y, data.test.y)


# --------------------------------------------------------------------------------------------
# Search order and checksums
# --------------------------------------------------------------------------------------------


def test_isolation_reaches_the_module_that_downloads() -> None:
    """The autouse fixture's mirrors are the ones a download would use (never the internet)."""
    for name in ds.DATASETS:
        urls = ds.fetch._mirror_list(name, None)
        assert len(urls) == 1 and urls[0].startswith("http://127.0.0.1:"), urls


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG rule is Linux's")
@pytest.mark.parametrize(
    ("xdg", "under_home"),
    [(None, True), ("", True), ("relative/cache", True), ("ABSOLUTE", False)],
)
def test_cache_dir_on_linux(xdg, under_home, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """$XDG_CACHE_HOME/bprop when it is an absolute path, else ~/.cache/bprop (XDG spec)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME")
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg") if xdg == "ABSOLUTE" else xdg)
    expected = tmp_path / "home" / ".cache" if under_home else tmp_path / "xdg"
    assert ds.cache_dir() == expected / "bprop"


def test_platformdirs_loads_only_when_a_cache_folder_is_needed() -> None:
    code = (
        "import sys, bprop.datasets as ds\n"
        "assert 'platformdirs' not in sys.modules\n"
        "ds.cache_dir()\n"
        "assert 'platformdirs' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, cwd=REPO)


def test_search_precedence(shared: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    src = shared / "mnist"
    explicit = link_dataset(src, tmp_path / "explicit" / "mnist").parent
    env = link_dataset(src, tmp_path / "env" / "mnist").parent
    repo = link_dataset(src, tmp_path / "repo" / "mnist").parent
    cache = link_dataset(src, tmp_path / "cache" / "bprop" / "mnist")
    deb = link_dataset(src, tmp_path / "deb-mnist")
    monkeypatch.setenv("BPROP_DATA_DIR", str(env))
    monkeypatch.setattr(ds.files, "REPO_DATA_DIR", repo)
    monkeypatch.setattr(ds.files, "SYSTEM_DIRS", {"mnist": [deb], "fashion-mnist": []})
    expected = [explicit / "mnist", explicit, env / "mnist", repo / "mnist", cache, deb]
    assert ds.search_locations("mnist", explicit) == expected

    def where() -> Path:
        return ds.dataset_dir("mnist", explicit, download=False)

    assert where() == explicit / "mnist"
    shutil.rmtree(explicit / "mnist")
    assert where() == env / "mnist"
    shutil.rmtree(env / "mnist")
    assert where() == repo / "mnist"
    shutil.rmtree(repo / "mnist")
    assert where() == cache
    shutil.rmtree(cache)
    assert where() == deb
    shutil.rmtree(deb)
    with pytest.raises(ds.DatasetNotFoundError) as err:
        where()
    msg = str(err.value)
    for place in expected:
        assert str(place) in msg
    assert "BPROP_DATA_DIR" in msg and "internet" in msg
    # finally: download into the user cache, from a mirror named by BPROP_MIRRORS
    with serve_dir(shared) as base:
        monkeypatch.setenv("BPROP_MIRRORS", base + "{name}/")
        data = ds.load_mnist(explicit, progress=False, backoff=0)
    assert sorted(leftovers(cache)) == sorted(b + ".gz" for b in ds.FILES)
    assert data.train.y[:5].tolist() == [5, 0, 4, 1, 9]
    # and now the cache is found without any download
    monkeypatch.delenv("BPROP_MIRRORS")
    assert ds.dataset_dir("mnist", download=False) == cache


def test_incomplete_folder_is_skipped(shared: Path, tmp_path: Path, monkeypatch) -> None:
    partial_dir = link_dataset(shared / "fashion-mnist", tmp_path / "part", files=ds.FILES[:2])
    deb = link_dataset(shared / "fashion-mnist", tmp_path / "deb")
    assert ds.dataset_dir("fashion-mnist", partial_dir, download=False) == deb
    shutil.rmtree(deb)
    with pytest.raises(ds.DatasetNotFoundError, match="incomplete: missing t10k-images"):
        ds.dataset_dir("fashion-mnist", partial_dir, download=False)


def test_missing_data_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ds.load_mnist(tmp_path / "nope")


def test_corrupt_file_is_an_error_not_skipped(shared: Path, tmp_path: Path, no_repo_data) -> None:
    # MNIST folder whose train labels are Fashion-MNIST's; a good copy is further down the order
    bad = link_dataset(shared / "mnist", tmp_path / "bad", files=ds.FILES[::2])
    (bad / (LABELS + ".gz")).symlink_to(shared / "fashion-mnist" / (LABELS + ".gz"))
    (bad / "t10k-labels-idx1-ubyte.gz").symlink_to(shared / "mnist" / "t10k-labels-idx1-ubyte.gz")
    link_dataset(shared / "mnist", tmp_path / "cache" / "bprop" / "mnist")
    with pytest.raises(ds.ChecksumError) as err:
        ds.dataset_dir("mnist", bad, download=False)
    msg = str(err.value)
    assert str(bad / (LABELS + ".gz")) in msg
    assert ds.PAYLOAD_SHA256["mnist"][LABELS] in msg
    assert ds.PAYLOAD_SHA256["fashion-mnist"][LABELS] in msg
    assert "Fashion-MNIST file" in msg and "download it again" in msg
    with pytest.raises(ds.ChecksumError, match="Fashion-MNIST file"):
        ds.load_mnist(bad)


def test_raw_idx_files_and_payload_check_on_load(shared: Path, tmp_path: Path) -> None:
    folder = link_dataset(shared / "mnist", tmp_path / "raw", files=ds.FILES[:1] + ds.FILES[2:])
    labels = ds.read_idx(shared / "mnist" / (LABELS + ".gz"))
    (folder / LABELS).write_bytes(idx_bytes(labels))  # uncompressed copy
    assert ds.load_mnist(folder, validation_size=0).train.y[:5].tolist() == [5, 0, 4, 1, 9]
    labels = labels.copy()
    labels[3] = 7
    (folder / LABELS).write_bytes(idx_bytes(labels))
    with pytest.raises(ds.ChecksumError) as err:
        ds.load_mnist(folder)
    assert str(folder / LABELS) in str(err.value)
    assert ds.PAYLOAD_SHA256["mnist"][LABELS] in str(err.value)


def test_verify_file_accepts_gz_or_payload_digest(shared: Path, tmp_path: Path) -> None:
    src = shared / "mnist" / (LABELS + ".gz")
    ds.verify_file(src, "mnist")  # known .gz digest
    payload = gzip.decompress(src.read_bytes())
    other = tmp_path / (LABELS + ".gz")
    other.write_bytes(gzip.compress(payload, compresslevel=1, mtime=12345))
    assert hashlib.sha256(other.read_bytes()).hexdigest() not in ds.GZ_SHA256["mnist"][LABELS]
    ds.verify_file(other, "mnist")  # unknown .gz, right payload
    with pytest.raises(ds.ChecksumError, match="expected"):
        ds.verify_file(other, "fashion-mnist")


# --------------------------------------------------------------------------------------------
# IDX validation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trip(compress: bool, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    cases = [
        (rng.integers(0, 256, (3, 4, 5), dtype=np.uint8), 0x08),
        (rng.integers(-128, 128, (7,), dtype=np.int8), 0x09),
        (rng.integers(-(2**15), 2**15, (2, 3), dtype=np.int16), 0x0B),
        (rng.integers(-(2**31), 2**31, (2, 2, 2, 2), dtype=np.int32), 0x0C),
        (rng.normal(size=(4, 3)).astype(np.float32), 0x0D),
        (rng.normal(size=(5,)), 0x0E),
    ]
    for arr, code in cases:
        data = idx_bytes(arr, code)
        if compress:
            data = gzip.compress(data)
        path = tmp_path / f"a{code}.idx"
        path.write_bytes(data)
        for source in (data, path, str(path)):
            out = ds.read_idx(source)
            assert out.dtype == arr.dtype.newbyteorder("=") and out.dtype.isnative
            assert np.array_equal(out, arr)


def _bad_cases() -> list[tuple[str, bytes, str]]:
    ok = np.arange(12, dtype=np.uint8).reshape(3, 4)
    return [
        ("truncated", idx_bytes(ok, cut=1), "truncated"),
        ("extra", idx_bytes(ok, extra=b"\x00"), "longer than declared"),
        ("magic", b"\x01\x00" + idx_bytes(ok)[2:], "bad magic number 0100"),
        ("dtype", b"\x00\x00\x07\x02" + idx_bytes(ok)[4:], "data type code 0x07"),
        ("ndim0", b"\x00\x00\x08\x00", "declares 0 dimensions"),
        ("ndim5", b"\x00\x00\x08\x05" + b"\x00\x00\x00\x01" * 5, "declares 5 dimensions"),
        ("header", b"\x00\x00\x08\x02\x00\x00", "truncated inside its header"),
        ("short", b"\x00\x00", "only 2 bytes long"),
        ("garbage", b"this is not an IDX file at all" * 3, "not an IDX file"),
    ]


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("case", _bad_cases(), ids=lambda c: c[0])
def test_read_idx_rejects(case, compress: bool, tmp_path: Path) -> None:
    _, data, expected = case
    path = tmp_path / ("bad.gz" if compress else "bad")
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(ds.DataFormatError) as err:
        ds.read_idx(path)
    msg = str(err.value)
    assert expected in msg
    assert str(path) in msg and "download it again" in msg
    with pytest.raises(ds.DataFormatError, match="<bytes>"):
        ds.read_idx(path.read_bytes())


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_huge_declared_size_fails_fast(compress: bool) -> None:
    header = b"\x00\x00\x08\x02" + struct.pack(">II", 2**31, 2**31)
    data = gzip.compress(header + b"\x00" * 100) if compress else header + b"\x00" * 100
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(ds.DataFormatError, match=r"more than the 1,073,741,824 bytes"):
            ds.read_idx(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - t0 < 1.0
    assert peak < 2 << 20


def test_read_idx_large_declared_size_small_gzip() -> None:
    """A gzip header may claim 900 MB; memory grows only with the data actually present."""
    header = b"\x00\x00\x08\x02" + struct.pack(">II", 30000, 30000)
    tracemalloc.start()
    try:
        with pytest.raises(ds.DataFormatError, match=r"truncated.*only 100 follow"):
            ds.read_idx(gzip.compress(header + b"\x01" * 100))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


def test_read_idx_gzip_bomb_reads_only_declared_size() -> None:
    header = b"\x00\x00\x08\x01" + struct.pack(">I", 10)
    bomb = gzip.compress(header + bytes(64 << 20), compresslevel=9)
    assert len(bomb) < 200_000
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(ds.DataFormatError, match="longer than declared"):
            ds.read_idx(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20
    assert time.perf_counter() - t0 < 1.0


def test_read_idx_corrupt_gzip(tmp_path: Path) -> None:
    data = gzip.compress(idx_bytes(np.arange(5000, dtype=np.uint8) % 251))
    path = tmp_path / "cut.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ds.DataFormatError, match=r"cut\.gz: corrupt gzip-compressed IDX"):
        ds.read_idx(path)
    flipped = bytearray(data)
    flipped[-6] ^= 0xFF  # CRC / size trailer
    path.write_bytes(bytes(flipped))
    with pytest.raises(ds.DataFormatError, match="corrupt"):
        ds.read_idx(path)


def test_read_idx_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nothing\.idx"):
        ds.read_idx(tmp_path / "nothing.idx")


# --------------------------------------------------------------------------------------------
# Downloads (local servers only)
# --------------------------------------------------------------------------------------------


class Recorder:
    """A progress factory that records what it is told."""

    def __init__(self, check=None) -> None:
        self.totals: list[int | None] = []
        self.received = 0
        self.closed = 0
        self.check = check

    def __call__(self, total: int | None, desc: str):
        self.totals.append(total)
        return self

    def update(self, n: int) -> None:
        self.received += n
        if self.check is not None:
            self.check()

    def close(self) -> None:
        self.closed += 1


def test_download_good(shared: Path, tmp_path: Path) -> None:
    dest = tmp_path / "dl"
    bar = Recorder()
    with serve_dir(shared / "mnist") as base:
        assert ds.download("mnist", dest, mirrors=[base], backoff=0, progress=bar) == dest
    assert leftovers(dest) == sorted(b + ".gz" for b in ds.FILES)
    sizes = [(shared / "mnist" / (b + ".gz")).stat().st_size for b in ds.FILES]
    assert sorted(bar.totals) == sorted(sizes) and bar.received == sum(sizes)
    assert bar.closed == 4
    for base_name in ds.FILES:
        ds.verify_file(dest / (base_name + ".gz"), "mnist")
    data = ds.load_mnist(dest, download=False)
    assert data.train.y[:5].tolist() == [5, 0, 4, 1, 9]


def test_download_skips_corrupt_mirror(shared: Path, tmp_path: Path) -> None:
    bad_mirror = tmp_path / "bad"
    bad_mirror.mkdir()
    shutil.copy(shared / "fashion-mnist" / (LABELS + ".gz"), bad_mirror / (LABELS + ".gz"))
    dest = tmp_path / "dl"
    final = dest / (LABELS + ".gz")
    good = (shared / "mnist" / (LABELS + ".gz")).read_bytes()
    seen_missing: list[bool] = []

    def check() -> None:  # during every transfer, the final name is absent
        seen_missing.append(not final.exists())

    with serve_dir(bad_mirror) as bad, serve_dir(shared / "mnist") as ok:
        ds.download(
            "mnist", dest, mirrors=[bad, ok], backoff=0, files=[LABELS], progress=Recorder(check)
        )
    assert seen_missing and all(seen_missing)
    assert final.read_bytes() == good
    assert leftovers(dest) == [LABELS + ".gz"]
    # a present, good file is kept without asking any server
    ds.download("mnist", dest, mirrors=[], backoff=0, files=[LABELS + ".gz"])
    assert final.read_bytes() == good


def _dropping_handler(payload: bytes, log: list[str], good_after: int | None):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            log.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if good_after is not None and len(log) > good_after:
                self.wfile.write(payload)
            else:
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def test_download_retries_after_dropped_connection(
    shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = (shared / "mnist" / (LABELS + ".gz")).read_bytes()
    log: list[str] = []
    dest = tmp_path / "dl"
    monkeypatch.setitem(sys.modules, "tqdm", None)  # tqdm not installed: no bar, no error
    with serve(_dropping_handler(payload, log, good_after=1)) as base:
        ds.download("mnist", dest, mirrors=[base], retries=3, backoff=0, files=[LABELS])
    assert len(log) == 2
    assert (dest / (LABELS + ".gz")).read_bytes() == payload
    assert leftovers(dest) == [LABELS + ".gz"]


def test_download_all_drop_leaves_nothing(shared: Path, tmp_path: Path) -> None:
    payload = (shared / "mnist" / (LABELS + ".gz")).read_bytes()
    log: list[str] = []
    dest = tmp_path / "dl"
    with serve(_dropping_handler(payload, log, good_after=None)) as base:
        mirrors = [base + "a/", base + "b/"]
        with pytest.raises(ds.DownloadError) as err:
            ds.download(
                "mnist", dest, mirrors=mirrors, retries=2, backoff=0, files=[LABELS], progress=False
            )
    assert log == ["/a/" + LABELS + ".gz"] * 2 + ["/b/" + LABELS + ".gz"] * 2
    msg = str(err.value)
    assert mirrors[0] + LABELS + ".gz" in msg and mirrors[1] + LABELS + ".gz" in msg
    assert "connection dropped" in msg and f"of {len(payload):,} bytes" in msg
    assert leftovers(dest) == []


def test_download_404_moves_to_next_mirror(shared: Path, tmp_path: Path) -> None:
    log: list[str] = []

    class Logging(_Quiet):
        def do_GET(self) -> None:
            log.append(self.path)
            super().do_GET()

    empty = tmp_path / "empty"
    empty.mkdir()
    dest = tmp_path / "dl"
    with (
        serve(partial(Logging, directory=str(empty))) as missing,
        serve_dir(shared / "mnist") as ok,
    ):
        ds.download(
            "mnist",
            dest,
            mirrors=[missing, ok],
            retries=3,
            backoff=0,
            files=[LABELS],
            progress=False,
        )
    assert log == ["/" + LABELS + ".gz"]  # no retry of a 404
    ds.verify_file(dest / (LABELS + ".gz"), "mnist")


def test_download_unreachable(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{_closed_port()}/"
    dest = tmp_path / "dl"
    t0 = time.perf_counter()
    with pytest.raises(ds.DownloadError) as err:
        ds.download("mnist", dest, mirrors=[dead], retries=2, backoff=0, timeout=5)
    assert time.perf_counter() - t0 < 10
    msg = str(err.value)
    assert dead + "train-images-idx3-ubyte.gz" in msg
    assert "no internet" in msg and "--data-dir" in msg and "BPROP_DATA_DIR" in msg
    assert isinstance(err.value, OSError)
    assert leftovers(dest) == []


def test_load_reports_places_and_download_failure(no_repo_data) -> None:
    with pytest.raises(ds.DownloadError) as err:
        ds.load_fashion_mnist(backoff=0, retries=1, progress=False)
    msg = str(err.value)
    assert "looked in" in msg and str(ds.cache_dir() / "fashion-mnist") in msg
    assert "BPROP_DATA_DIR" in msg


def test_env_mirrors_tried_first(shared: Path, tmp_path: Path, monkeypatch) -> None:
    dead = f"http://127.0.0.1:{_closed_port()}/"
    with serve_dir(shared) as base:
        monkeypatch.setenv("BPROP_MIRRORS", f" {base}{{name}} , {dead}")
        assert ds.fetch._mirror_list("mnist", [dead])[0] == base + "mnist/"
        # progress=None: a tqdm bar, disabled because stderr is not a terminal
        ds.download("mnist", tmp_path / "dl", mirrors=[dead], backoff=0, files=[LABELS])
    ds.verify_file(tmp_path / "dl" / (LABELS + ".gz"), "mnist")


def test_module_imports_no_tqdm_and_none_of_the_math() -> None:
    """Progress bars load only when a download needs one; data code never reaches the math."""
    code = (
        "import sys, bprop.datasets\n"
        "assert 'tqdm' not in sys.modules and 'matplotlib' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, cwd=REPO)
    outside: set[str] = set()  # bprop imports from outside the package, over all its modules
    for path in sorted((REPO / "bprop" / "datasets").glob("*.py")):
        source = path.read_text()
        lines = [line.strip() for line in source.splitlines()]
        imports = [line for line in lines if line.startswith(("import ", "from "))]
        outside |= {x for x in imports if "bprop" in x and not x.startswith("from bprop.datasets")}
        assert "import pickle" not in source and "allow_pickle=True" not in source, path.name
    # The last is DataSets' Jupyter display hook, held to handing itself over by test_layout.
    assert outside == {
        "from bprop._npz import read_npz",
        "from bprop._untrusted import open_regular",
        "from bprop.notebook import html",
    }


# --------------------------------------------------------------------------------------------
# CSV and npz
# --------------------------------------------------------------------------------------------

IRIS_LIKE = """sepal_length,sepal_width,petal_length,petal_width,species
5.1,3.5,1.4,0.2,setosa
4.9,3.0,1.4,0.2,setosa
4.7,3.2,1.3,0.2,setosa
5.0,3.6,1.4,0.2,setosa
7.0,3.2,4.7,1.4,versicolor
6.4,3.2,4.5,1.5,versicolor
6.9,3.1,4.9,1.5,versicolor
5.5,2.3,4.0,1.3,versicolor
6.3,3.3,6.0,2.5,virginica
5.8,2.7,5.1,1.9,virginica

7.1,3.0,5.9,2.1,virginica
6.3,2.9,5.6,1.8,virginica
"""


def _rows(split: ds.Split) -> set[tuple[float, ...]]:
    return {tuple(r) for r in split.X.tolist()}


def test_csv_with_header_and_string_labels(tmp_path: Path) -> None:
    path = tmp_path / "iris.csv"
    path.write_text(IRIS_LIKE)
    data = ds.load_csv(path, test_fraction=0.25, seed=3, scale="none")
    assert data.name == "csv:iris.csv" and data.validation is None
    assert data.class_names == ("setosa", "versicolor", "virginica") and data.n_classes == 3
    assert data.train.X.shape == (9, 4) and data.test.X.shape == (3, 4)
    assert data.train.X.dtype == np.float64 and data.train.y.dtype == np.int64
    rows = [line.split(",") for line in IRIS_LIKE.splitlines()[1:] if line]
    expected = {tuple(float(c) for c in r[:4]): data.class_names.index(r[4]) for r in rows}
    for split in (data.train, data.test):
        for x, y in zip(split.X.tolist(), split.y.tolist(), strict=True):
            assert expected[tuple(x)] == y
    assert _rows(data.train) | _rows(data.test) == set(expected)
    again = ds.load_csv(path, test_fraction=0.25, seed=3, dtype=np.float32, scale="none")
    assert np.array_equal(again.test.y, data.test.y) and again.test.X.dtype == np.float32
    assert again.digest == data.digest
    other = ds.load_csv(path, test_fraction=0.25, seed=4, scale="none")
    assert _rows(other.test) != _rows(data.test)
    by_name = ds.load(f"csv:{path}", label_column="species")
    assert by_name.class_names == data.class_names


def test_csv_headerless_numeric_labels_first_column(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    lines = [f"{lab};{i};{i * 0.5}" for i, lab in enumerate([10, 2, 1, 2, 10, 1, 1, 2])]
    path.write_text("\n".join(lines) + "\n")
    data = ds.load_csv(path, label_column=0, delimiter=";", test_fraction=0.5, scale="none")
    assert data.class_names == ("1", "2", "10")
    assert data.train.X.shape == (4, 2) and data.test.X.shape == (4, 2)
    for split in (data.train, data.test):
        for x, y in zip(split.X.tolist(), split.y.tolist(), strict=True):
            assert data.class_names[y] == lines[int(x[0])].split(";")[0]


@pytest.mark.parametrize(
    ("text", "kwargs", "match"),
    [
        ("a,b,c\n1,2,x\n3,oops,y\n", {}, r"line 3, column 2: 'oops' is not a number"),
        ("1,2,x\n3,,y\n", {}, r"line 2, column 2: an empty cell"),
        ("1,2,x\n3,4\n", {}, r"line 2: 2 columns, but line 1 has 3 \(ragged rows\)"),
        ("1,2,x\nnan,4,y\n", {}, r"line 2, column 1: feature value 'nan' is not finite"),
        ("1,inf,x\n3,4,y\n", {}, r"line 1, column 2: .*not finite"),
        ("", {}, "the file is empty"),
        ("\n  \n", {}, "the file is empty"),
        ("a,b,c\n", {}, "header but no data rows"),
        ("1,2,x\n3,4,x\n", {}, "all labels are 'x'.*at least two classes"),
        ("1,a,x\n3,4,y\n", {"header": False}, r"line 1, column 2.*pass header=True"),
        ("1\n2\n", {}, "single column"),
        ("1,2,x\n3,4,y\n", {"label_column": 5}, "out of range"),
        ("a,b,c\n1,2,x\n", {"label_column": "d"}, "label column 'd' not in the header"),
    ],
)
def test_csv_errors(text: str, kwargs: dict, match: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ds.DataFormatError, match=match) as err:
        ds.load_csv(path, **kwargs)
    assert isinstance(err.value, ValueError) and str(path) in str(err.value)


def test_csv_missing_file_and_bad_fraction(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"missing\.csv"):
        ds.load_csv(tmp_path / "missing.csv")
    path = tmp_path / "ok.csv"
    path.write_text("1,2,a\n3,4,b\n")
    with pytest.raises(ValueError, match="test_fraction"):
        ds.load_csv(path, test_fraction=1.0)
    data = ds.load_csv(path, test_fraction=0.01)  # at least one example on each side
    assert len(data.train) == 1 and len(data.test) == 1


def test_npz_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3))
    y = np.array(["cat", "dog", "eel", "dog"] * 10)
    path = tmp_path / "xy.npz"
    np.savez(path, X=X, y=y)
    data = ds.load(f"npz:{path}", test_fraction=0.25, scale="none")
    assert data.class_names == ("cat", "dog", "eel")
    assert data.train.X.shape == (30, 3) and data.test.X.shape == (10, 3)
    assert _rows(data.train) | _rows(data.test) == {tuple(r) for r in X.tolist()}
    lookup = {tuple(r): lab for r, lab in zip(X.tolist(), y.tolist(), strict=True)}
    for split in (data.train, data.test):
        for x, code in zip(split.X.tolist(), split.y.tolist(), strict=True):
            assert data.class_names[code] == lookup[tuple(x)]

    images = rng.integers(0, 256, (12, 4, 4), dtype=np.uint8)
    labels = np.arange(12) % 3 + 5
    path2 = tmp_path / "split.npz"
    np.savez_compressed(
        path2, x_train=images[:9], y_train=labels[:9], x_test=images[9:], y_test=labels[9:]
    )
    data2 = ds.load_npz(path2, dtype=np.float32, scale="none")
    assert data2.train.X.shape == (9, 16) and data2.test.X.shape == (3, 16)
    assert data2.train.X.dtype == np.float32
    assert np.array_equal(data2.train.X, images[:9].reshape(9, 16))
    assert data2.class_names == ("5", "6", "7")
    assert np.array_equal(data2.test.y, labels[9:] - 5)


def test_npz_rejects_object_arrays_and_bad_content(tmp_path: Path) -> None:
    path = tmp_path / "obj.npz"
    np.savez(path, X=np.zeros((4, 2)), y=np.array([{"a": 1}, None, 1, 2], dtype=object))
    with pytest.raises(ds.DataFormatError, match="never unpickles") as err:
        ds.load_npz(path)
    assert "'y'" in str(err.value)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, features=np.zeros((4, 2)))
    with pytest.raises(ds.DataFormatError, match="expected X and y"):
        ds.load_npz(wrong)
    notzip = tmp_path / "not.npz"
    notzip.write_bytes(b"hello")
    with pytest.raises(ds.DataFormatError, match=r"not a readable \.npz"):
        ds.load_npz(notzip)
    nan = tmp_path / "nan.npz"
    np.savez(nan, X=np.array([[1.0], [np.nan]]), y=np.array([0, 1]))
    with pytest.raises(ds.DataFormatError, match="NaN"):
        ds.load_npz(nan)
    one = tmp_path / "one.npz"
    np.savez(one, X=np.zeros((3, 1)), y=np.ones(3))
    with pytest.raises(ds.DataFormatError, match="at least two classes"):
        ds.load_npz(one)
    with pytest.raises(FileNotFoundError, match=r"gone\.npz"):
        ds.load_npz(tmp_path / "gone.npz")


def test_load_unknown_name_suggests() -> None:
    with pytest.raises(ValueError, match="Did you mean 'mnist'") as err:
        ds.load("mnsit")
    for name in ("mnist", "fashion-mnist", "csv:PATH", "npz:PATH"):
        assert name in str(err.value)
    with pytest.raises(ValueError, match=r"Did you mean 'csv:data\.csv'"):
        ds.load("data.csv")
    with pytest.raises(ValueError, match="fashion-mnist"):
        ds.load("fashion")
