"""Where bprop writes: regular files replaced atomically, anything else written to, never replaced
(hardening issue #14, item 1 and the write messages)."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bprop import serialize
from bprop.cli import main

EXPLAIN = ["explain", "--format", "text"]


def _read_fifo_in_thread(fifo: Path) -> tuple[threading.Thread, list[bytes]]:
    got: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as f:
            got.append(f.read())

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    return t, got


def test_a_fifo_is_written_to_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    t, got = _read_fifo_in_thread(fifo)
    serialize.write_text(fifo, "through the pipe\n")
    t.join(5)
    assert got == [b"through the pipe\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]  # no temporary left


def test_explain_out_to_a_fifo_and_to_dev_null_through_a_symlink(tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    t, got = _read_fifo_in_thread(fifo)
    assert main([*EXPLAIN, "--out", str(fifo)]) == 0
    t.join(5)
    assert b"delta" in got[0] or b"\xce\xb4" in got[0]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    null = tmp_path / "null"
    null.symlink_to(os.devnull)
    assert main([*EXPLAIN, "--out", str(null)]) == 0
    assert null.is_symlink() and os.readlink(null) == os.devnull
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_out_dash_is_standard_output(capsys):
    assert main([*EXPLAIN, "--out", "-"]) == 0
    out = capsys.readouterr().out
    assert main(EXPLAIN) == 0
    assert out == capsys.readouterr().out and out
    assert not Path("-").exists()


def test_a_symlink_to_a_file_keeps_the_link_and_replaces_the_file(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old\n")
    os.chmod(real, 0o640)
    link = tmp_path / "link.json"
    link.symlink_to(real.name)
    serialize.write_json(link, {"new": 1})
    assert link.is_symlink() and os.readlink(link) == "real.json"
    assert json.loads(real.read_text()) == {"new": 1}
    assert stat.S_IMODE(real.stat().st_mode) == 0o640  # the replaced file keeps its mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]


def test_new_files_get_the_umask_mode_not_0600(tmp_path):
    old = os.umask(0o027)
    try:
        assert main([*EXPLAIN, "--out", str(tmp_path / "e.txt")]) == 0
        serialize.write_text(tmp_path / "t.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "e.txt").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "t.txt").stat().st_mode) == 0o640


def test_a_folder_is_refused_by_name(tmp_path, capsys):
    assert main([*EXPLAIN, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"cannot write {tmp_path}: it is a folder" in err


@pytest.mark.parametrize(
    ("code", "words"),
    [(errno.EROFS, "read-only"), (errno.EFBIG, "ulimit -f"), (errno.EACCES, "Permission")],
)
def test_write_errors_name_the_target_not_the_temporary(tmp_path, monkeypatch, capsys, code, words):
    target = tmp_path / "page.txt"

    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code), str(tmp_path / ".page.txt.abc.tmp"))

    monkeypatch.setattr(serialize.tempfile, "mkstemp", fail)
    assert main([*EXPLAIN, "--out", str(target)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert f"cannot write {target}:" in err and words in err and ".tmp" not in err
    assert "Errno" not in err


def test_the_file_size_limit_names_the_file(tmp_path):
    """`ulimit -f`: a real RLIMIT_FSIZE in a child process, not a monkeypatch."""
    target = tmp_path / "model.npz"
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "from bprop.cli import main\n"
        f"sys.exit(main(['explain', '--format', 'text', '--out', {str(target)!r}]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 2, done.stderr
    err = done.stderr.strip()
    assert len(err.splitlines()) == 1 and f"cannot write {target}: File too large" in err
    assert "ulimit -f" in err and not target.exists()
    assert list(tmp_path.iterdir()) == []  # the temporary was removed
