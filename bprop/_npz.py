"""Reading ``.npz`` archives from strangers: no pickles, nothing allocated before it is checked.

An archive is read in two passes.  The first reads every member's ``.npy`` header — parsed
here, strictly, as the dict numpy writes (``descr``, ``fortran_order``, ``shape`` and nothing
else; never ``eval``'d, never handed to a Python parser) — and checks what the archive claims:
plain member names the caller expects, a plain data type, a declared array that fills exactly
the member's stated size, stated sizes that the compressed bytes can justify, and a total under
a cap.  The caller then sees every array's shape and dtype (``check``) before a byte of data is
allocated.  The second pass reads each array's exact bytes into its buffer, and the zip's CRC
of each member is verified.
"""

from __future__ import annotations

import math
import os
import re
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, cast

import numpy as np

from bprop._untrusted import open_regular

MAX_MEMBERS = 4096
#: Deflate expands at most ~1032×: a member's stated size beyond this is a lie.
MAX_RATIO = 1100
#: The most bytes of arrays an archive may declare, in all.
MAX_TOTAL = 4 * 2**30
MAX_HEADER = 4096  # numpy's own headers are under 200 bytes for any array bprop reads
MAX_NDIM = 8

_MAGIC = b"\x93NUMPY"
_DESCR = re.compile(r"[<>|=]?([biufUS])(\d{1,6})")
_ENTRY = re.compile(r"\s*'(\w{1,20})'\s*:\s*('[^'\\]{0,16}'|True|False|\([\d\s,]{0,200}\))\s*")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class Declared(NamedTuple):
    """What a member's ``.npy`` header declares."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def read_npz(
    path: str | Path,
    kinds: str = "biuf",
    names: Callable[[str], bool] | None = None,
    check: Callable[[dict[str, Declared]], None] | None = None,
    max_total: int = MAX_TOTAL,
    what: str = "file",
) -> dict[str, np.ndarray]:
    """Every array of the archive at ``path``, by name (the member name without ``.npy``).

    ``kinds`` are the dtype kinds accepted (never ``object``, so nothing is unpickled);
    ``names(key)`` says whether a member is expected (unexpected ones are refused before they
    are inflated); ``check(declared)`` sees every array's declared shape and dtype before any
    is allocated, and may raise; ``max_total`` caps the bytes of all arrays together; ``what``
    names the file in errors ("no model file at …").

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError, zipfile.BadZipFile, EOFError, OSError
        The archive is not one bprop can read safely; the message says why.
    """
    try:
        with open_regular(path, what=what) as f, zipfile.ZipFile(f) as zf:
            declared = _declarations(zf, f, kinds, names, max_total)
            if check is not None:
                check({key: d for key, (_, d, _) in declared.items()})
            return {
                key: _read_array(zf, info, d, skip) for key, (info, d, skip) in declared.items()
            }
    except (NotImplementedError, RuntimeError, zipfile.LargeZipFile, zlib.error) as e:
        # zipfile's words for encrypted members, unknown compression or versions, bad streams
        raise ValueError(f"the archive cannot be read: {e}") from None


def _declarations(
    zf: zipfile.ZipFile,
    f: object,
    kinds: str,
    names: Callable[[str], bool] | None,
    max_total: int,
) -> dict[str, tuple[zipfile.ZipInfo, Declared, int]]:
    members = zf.infolist()
    if len(members) > MAX_MEMBERS:
        raise ValueError(f"{len(members)} members is more than bprop reads")
    file_bytes = os.fstat(f.fileno()).st_size  # type: ignore[attr-defined]
    limit = min(max_total, MAX_RATIO * file_bytes + 1024 * len(members))
    found: dict[str, tuple[zipfile.ZipInfo, Declared, int]] = {}
    total = 0
    for info in members:
        name = info.filename
        key = name[:-4]
        if not name.endswith(".npy") or not _NAME.fullmatch(key) or (names and not names(key)):
            raise ValueError(f"unexpected member {name!r} in the archive")
        if key in found:
            raise ValueError(f"the archive holds {name!r} twice")
        if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
            raise ValueError(f"member {name!r} is stored but its sizes differ")
        if info.file_size > MAX_RATIO * info.compress_size + 1024:
            raise ValueError(
                f"member {name!r} claims {info.file_size} bytes from {info.compress_size} "
                "compressed: more than compression can give"
            )
        total += info.file_size
        if total > limit:
            raise ValueError(
                f"the archive's members claim {total:,} bytes or more in all, more than "
                f"bprop reads from a {file_bytes:,}-byte file (at most {max_total:,})"
            )
        with zf.open(info) as fp:
            d, header_bytes = _read_header(fp, key, kinds)
        if header_bytes + d.nbytes != info.file_size:
            raise ValueError(
                f"array {key!r} declares {d.nbytes} bytes of data but its member holds "
                f"{info.file_size - header_bytes}"
            )
        found[key] = (info, d, header_bytes)
    return found


def _read_header(fp: object, key: str, kinds: str) -> tuple[Declared, int]:
    """Parse a ``.npy`` header strictly; returns it and its length in bytes."""
    head = fp.read(10)  # type: ignore[attr-defined]
    if len(head) < 10 or head[:6] != _MAGIC:
        raise ValueError(f"array {key!r} is not a .npy array")
    major, minor = head[6], head[7]
    if (major, minor) == (1, 0):
        size, start = int.from_bytes(head[8:10], "little"), 10
    elif (major, minor) in ((2, 0), (3, 0)):
        more = fp.read(2)  # type: ignore[attr-defined]
        size, start = int.from_bytes(head[8:10] + more, "little"), 12
    else:
        raise ValueError(f"array {key!r} uses .npy format {major}.{minor}")
    if size > MAX_HEADER:
        raise ValueError(f"array {key!r} has a {size}-byte header, more than bprop reads")
    raw = fp.read(size)  # type: ignore[attr-defined]
    if len(raw) != size:
        raise ValueError(f"array {key!r}'s header is cut short")
    try:
        text = raw.decode("latin-1" if major < 3 else "utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"array {key!r}'s header is damaged") from None
    fields = _parse_header(text, key)
    descr, fortran, shape = fields["descr"], fields["fortran_order"], fields["shape"]
    m = _DESCR.fullmatch(descr) if isinstance(descr, str) else None
    if m is None or m.group(1) not in kinds:
        raise ValueError(f"array {key!r} has dtype {descr!r}, not a plain data type")
    try:
        dtype = np.dtype(m.group(0))  # descr itself, now known to be a str
    except TypeError:  # '<f0', '<i3': the pattern's shape, no type numpy has
        raise ValueError(f"array {key!r} has dtype {descr!r}, not a plain data type") from None
    if dtype.itemsize == 0 or dtype.itemsize > 2**16:
        raise ValueError(f"array {key!r} has dtype {descr!r}, not a plain data type")
    if not isinstance(fortran, bool) or not isinstance(shape, tuple):
        raise ValueError(f"array {key!r}'s header is damaged")
    if len(shape) > MAX_NDIM:
        raise ValueError(f"array {key!r} has {len(shape)} dimensions")
    return Declared(shape, dtype, fortran), start + size


def _parse_header(text: str, key: str) -> dict[str, object]:
    bad = ValueError(f"array {key!r}'s .npy header is damaged: {text.strip()[:80]!r}")
    body = text.rstrip(" \n")
    if not (body.startswith("{") and body.endswith("}")):
        raise bad
    body, pos, fields = body[1:-1], 0, {}
    while pos < len(body):
        m = _ENTRY.match(body, pos)
        if m is None or m.group(1) in fields:
            if body[pos:].strip() == "":
                break
            raise bad
        fields[m.group(1)] = _value(m.group(2), bad)
        pos = m.end()
        if pos < len(body):
            if body[pos] != ",":
                raise bad
            pos += 1
    if set(fields) != {"descr", "fortran_order", "shape"}:
        raise bad
    return fields


def _value(token: str, bad: ValueError) -> object:
    if token[0] == "'":
        return token[1:-1]
    if token in ("True", "False"):
        return token == "True"
    inner = token[1:-1].strip()
    if not inner:
        return ()
    parts = [p.strip() for p in inner.split(",")]
    if parts[-1] == "":
        parts.pop()
    if not parts or not all(p.isdigit() and p.isascii() and len(p) <= 15 for p in parts):
        raise bad
    if len(parts) == 1 and "," not in inner:
        raise bad  # "(3)" is an int, not a tuple
    return tuple(int(p) for p in parts)


def _read_array(zf: zipfile.ZipFile, info: zipfile.ZipInfo, d: Declared, skip: int) -> np.ndarray:
    buffer = bytearray(d.nbytes)
    # zipfile types open() as IO[bytes]; what it returns is a ZipExtFile, which has readinto.
    with cast(zipfile.ZipExtFile, zf.open(info)) as fp:
        fp.read(skip)
        view, got = memoryview(buffer), 0
        while got < len(buffer):
            n = fp.readinto(view[got:])
            if not n:
                raise EOFError(f"array {info.filename[:-4]!r} is cut short")
            got += n
        if fp.read(1):  # also where zipfile checks the member's CRC
            raise ValueError(f"array {info.filename[:-4]!r} is followed by stray bytes")
    flat = np.frombuffer(buffer, dtype=d.dtype)
    return flat.reshape(d.shape, order="F" if d.fortran_order else "C")
