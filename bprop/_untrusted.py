"""Reading what a user hands bprop: only regular files, and JSON with bounded size and nesting.

Every file bprop reads on a user's behalf (models, images, specs, configs, data) is opened with
:func:`open_regular`, which refuses a FIFO, a device or a socket before reading a byte (opening a
FIFO for reading blocks until a writer comes; reading ``/dev/zero`` never ends).  Every JSON
document from a file goes through :func:`loads_json`, which refuses a document larger than
its limit or nested deeper than its limit *before* parsing it, so a hostile file gets a
one-line error instead of a RecursionError or an exhausted memory.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import IO, Any

import numpy as np

#: The deepest nesting of ``[`` and ``{`` a JSON document may have (bprop writes at most 4).
MAX_JSON_DEPTH = 64
#: The largest JSON document read, in bytes (a long run's history is a few MB).
MAX_JSON_BYTES = 64 * 2**20

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class NotRegularFileError(OSError):
    """The path names a folder, a FIFO, a device or a socket, not a regular file."""


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def open_regular(path: str | Path, mode: str = "rb", what: str = "file") -> IO[Any]:
    """Open ``path`` for reading if it is a regular file (a symlink to one is followed).

    The file is opened non-blocking, so a FIFO does not wait for a writer, then checked with
    ``fstat`` on the open descriptor (no race between the check and the read).  ``mode`` is
    ``"rb"`` or ``"r"`` (UTF-8 text).

    Raises
    ------
    FileNotFoundError
        No such file.
    NotRegularFileError
        ``path`` is a folder, FIFO, device or socket; the message says which.
    """
    if mode not in ("rb", "r"):
        raise ValueError(f"open_regular reads only: mode {mode!r}")
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FileNotFoundError(f"no {what} at {path}") from None
    except IsADirectoryError:  # Windows cannot open a folder at all
        raise NotRegularFileError(f"{path} is a folder, not a regular file") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFileError(
                f"{path} is {_kind(st.st_mode)}, not a regular file: bprop reads only regular files"
            )
        os.set_blocking(fd, True)
        if mode == "rb":
            return os.fdopen(fd, "rb")
        return os.fdopen(fd, "r", encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | Path, max_bytes: int | None = None, what: str = "file") -> bytes:
    """The bytes of the regular file at ``path``; a ValueError if it holds more than
    ``max_bytes`` (checked before reading)."""
    with open_regular(path, "rb", what) as f:
        if max_bytes is not None:
            size = os.fstat(f.fileno()).st_size
            if size > max_bytes:
                raise ValueError(
                    f"{path} holds {size:,} bytes, more than the {max_bytes:,} "
                    f"bprop reads for a {what}"
                )
            data = f.read(max_bytes + 1)  # the file may have grown since fstat
            if len(data) > max_bytes:
                raise ValueError(
                    f"{path} holds more than the {max_bytes:,} bytes bprop reads for a {what}"
                )
            return data
        return f.read()


# A JSON string with its escapes; an unterminated one runs to the end of the text (so the match
# never backtracks: one linear pass, whatever the text).
_STRING = re.compile(r'"(?:[^"\\]+|\\.)*"?', re.DOTALL)
_STEP = np.zeros(256, dtype=np.int8)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1
_CHUNK = 2**20


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in the JSON ``text`` (0 for a scalar).

    Exact for valid JSON; for malformed text, exact up to the first error (which is as far as
    a parser would go)."""
    codes = np.frombuffer(_STRING.sub('""', text).encode("utf-8"), dtype=np.uint8)
    depth = deepest = 0
    for start in range(0, len(codes), _CHUNK):
        running = np.cumsum(_STEP[codes[start : start + _CHUNK]], dtype=np.int64) + depth
        if len(running):
            deepest = max(deepest, int(running.max()))
            depth = int(running[-1])
    return deepest


def loads_json(
    data: str | bytes,
    source: str = "the JSON document",
    max_depth: int = MAX_JSON_DEPTH,
    max_bytes: int = MAX_JSON_BYTES,
) -> Any:
    """Parse the JSON ``data`` (bytes are decoded as UTF-8), refusing before parsing a document
    over ``max_bytes`` or nested deeper than ``max_depth``.

    Raises
    ------
    ValueError
        Too large, too deep, not UTF-8 or not JSON; the message starts with ``source``.
    """
    if len(data) > max_bytes:
        raise ValueError(
            f"{source} holds {len(data):,} bytes of JSON, more than the {max_bytes:,} bprop reads"
        )
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(f"{source} is not UTF-8 text ({e})") from None
    depth = json_depth(data)
    if depth > max_depth:
        raise ValueError(
            f"{source} nests its JSON {depth} levels deep, more than the "
            f"{max_depth} bprop reads: it is damaged or not bprop's"
        )
    try:
        return json.loads(data)
    except ValueError as e:  # JSONDecodeError, or an integer of more digits than Python takes
        raise ValueError(f"{source} is not valid JSON ({e})") from None
    except RecursionError:  # only with a recursion limit far below max_depth
        raise ValueError(f"{source} nests its JSON too deeply") from None


def read_json(
    path: str | Path,
    what: str = "JSON file",
    max_depth: int = MAX_JSON_DEPTH,
    max_bytes: int = MAX_JSON_BYTES,
) -> Any:
    """The JSON document in the regular file at ``path``, read with :func:`loads_json`'s limits."""
    return loads_json(read_regular(path, max_bytes, what), str(path), max_depth, max_bytes)
