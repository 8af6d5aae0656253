"""bprop._untrusted: only regular files are opened, JSON is bounded in size and nesting."""

from __future__ import annotations

import json
import os
import sys

import pytest

from bprop._untrusted import (
    NotRegularFileError,
    json_depth,
    loads_json,
    open_regular,
    read_json,
    read_regular,
)
from tests.conftest import alarm_after


@pytest.fixture
def alarm():
    """Fail instead of hanging: SIGALRM after 5 s."""
    with alarm_after(5, "the read hung"):
        yield


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_blocking(tmp_path, alarm):
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFileError, match="FIFO"):
        open_regular(fifo)
    with pytest.raises(NotRegularFileError, match="FIFO"):
        read_json(fifo)


def test_folders_and_devices_are_refused(tmp_path):
    with pytest.raises(NotRegularFileError, match="folder"):
        open_regular(tmp_path)
    if os.path.exists("/dev/zero"):
        with pytest.raises(NotRegularFileError, match="character device"):
            read_regular("/dev/zero")
    with pytest.raises(FileNotFoundError, match="no model file at"):
        open_regular(tmp_path / "missing.npz", what="model file")


def test_regular_files_and_symlinks_to_them_are_read(tmp_path):
    f = tmp_path / "a.json"
    f.write_text('{"a": [1, 2]}', encoding="utf-8")
    assert read_json(f) == {"a": [1, 2]}
    if hasattr(os, "symlink"):
        (tmp_path / "link.json").symlink_to(f)
        assert read_json(tmp_path / "link.json") == {"a": [1, 2]}
    with open_regular(f, "r") as t:
        assert t.read() == '{"a": [1, 2]}'
    with pytest.raises(ValueError, match="13 bytes, more than the 4 bprop reads"):
        read_regular(f, max_bytes=4)


def test_deep_nesting_is_refused_before_parsing():
    with pytest.raises(ValueError, match=r"x\.json nests its JSON 100000 levels deep"):
        loads_json("[" * 100_000, "x.json")
    with pytest.raises(ValueError, match="nests its JSON 65 levels"):
        loads_json('{"a": ' * 65 + "1" + "}" * 65)
    deep = "[" * 64 + "]" * 64
    assert json.loads(deep) == loads_json(deep)


def test_json_depth_ignores_brackets_in_strings():
    assert json_depth('[1, {"a": "[[[\\"[{"}]') == 2
    assert json_depth("7") == json_depth("") == 0
    # An escaped quote does not end the string; an unterminated string runs to the end.
    assert json_depth('["\\"]]]]", [[]]]') == 3
    assert json_depth('"' + "[" * 1000) == 0


def test_size_and_garbage_give_one_value_error():
    with pytest.raises(ValueError, match="more than the 10 bprop reads"):
        loads_json("[" + "1," * 10 + "1]", max_bytes=10)
    with pytest.raises(ValueError, match=r"m\.json is not valid JSON"):
        loads_json('{"a": }', "m.json")
    with pytest.raises(ValueError, match="not UTF-8"):
        loads_json(b"\xff\xfe")
    if hasattr(sys, "get_int_max_str_digits"):
        with pytest.raises(ValueError, match="not valid JSON"):
            loads_json("1" * 5000)


def test_a_quadratic_regex_is_not_hit(alarm):
    """A million escaped quotes in an unterminated string: one linear pass."""
    assert json_depth('"' + '\\"' * 1_000_000) == 0
