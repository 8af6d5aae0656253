"""The IDX format (the files of MNIST and Fashion-MNIST): reading one file, validated before
anything is allocated.

:func:`read_idx` checks the header (magic number, type code, 1 to 4 dimensions, a size cap) and
the exact payload length before it reads the data, and decompresses gzip in bounded chunks, so
a corrupt or hostile file costs no more memory than its declared, capped size. This module
touches nothing but the one file or byte string it is given: no other file, no environment
variable, no network, and it knows no data set names or digests (see :mod:`.files`).
"""

from __future__ import annotations

import gzip
import io
import math
import os
import zlib
from pathlib import Path
from typing import IO, Any, cast

import numpy as np

from bprop._untrusted import open_regular
from bprop.datasets.errors import _ENV_DATA_DIR, DataFormatError

#: IDX type codes and their NumPy dtypes (big-endian, as the format stores them).
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

#: Largest IDX payload :func:`read_idx` accepts, in bytes (1 GiB).
MAX_IDX_BYTES: int = 1 << 30

_CHUNK = 1 << 20
_PREALLOC_MAX = 128 << 20


def _describe(source: str | Path | bytes) -> str:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "<bytes>"
    return str(source)


def _open_source(source: str | Path | bytes) -> tuple[IO[bytes], IO[bytes], bool, int | None]:
    """Return (stream, raw_handle, is_gzip, raw_size) for a path or bytes."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw: IO[bytes] = io.BytesIO(bytes(source))
        size: int | None = len(source)
    else:
        path = Path(source)
        try:
            raw = open_regular(path, what="IDX file")  # closed by the caller; never a FIFO
        except FileNotFoundError:
            raise FileNotFoundError(f"IDX file {path} does not exist") from None
        size = os.fstat(raw.fileno()).st_size
    magic = raw.read(2)
    raw.seek(0)
    if magic == b"\x1f\x8b":
        return cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb")), raw, True, None
    return raw, raw, False, size


def _read_exact(stream: IO[bytes], n: int, hasher: Any = None) -> bytearray:
    """Read up to ``n`` bytes in bounded chunks (never asks for more than ``_CHUNK`` at once)."""
    buf = bytearray()
    while len(buf) < n:
        chunk = stream.read(min(_CHUNK, n - len(buf)))
        if not chunk:
            break
        if hasher is not None:
            hasher.update(chunk)
        buf += chunk
    return buf


def _read_into(stream: Any, buf: memoryview, hasher: Any = None) -> int:
    """Fill ``buf`` from ``stream`` in bounded chunks; return the number of bytes read."""
    n = 0
    while n < len(buf):
        k = stream.readinto(buf[n : n + _CHUNK])
        if not k:
            break
        if hasher is not None:
            hasher.update(buf[n : n + k])
        n += k
    return n


def _read_idx(source: str | Path | bytes, hasher: Any = None) -> np.ndarray:
    name = _describe(source)
    fix = (
        "delete it and let bprop download it again, or check --data-dir / "
        f"{_ENV_DATA_DIR} points at the right files"
    )
    stream, raw, is_gzip, raw_size = _open_source(source)
    kind = "gzip-compressed IDX" if is_gzip else "IDX"
    try:
        try:
            header = _read_exact(stream, 4, hasher)
            if len(header) < 4:
                raise DataFormatError(
                    f"{name}: not an IDX file: it is only {len(header)} bytes long "
                    f"(an IDX header needs at least 4); {fix}"
                )
            if header[0] != 0 or header[1] != 0:
                raise DataFormatError(
                    f"{name}: not an IDX file: bad magic number {bytes(header).hex()} "
                    f"(expected 0000 then a type code and a dimension count); {fix}"
                )
            code, ndim = header[2], header[3]
            if code not in IDX_DTYPES:
                known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
                raise DataFormatError(
                    f"{name}: unsupported IDX data type code 0x{code:02X} (known: {known}); {fix}"
                )
            if not 1 <= ndim <= 4:
                raise DataFormatError(
                    f"{name}: IDX header declares {ndim} dimensions (expected 1 to 4); {fix}"
                )
            dims_raw = _read_exact(stream, 4 * ndim, hasher)
            if len(dims_raw) < 4 * ndim:
                raise DataFormatError(
                    f"{name}: {kind} file is truncated inside its header "
                    f"({4 + len(dims_raw)} of {4 + 4 * ndim} header bytes); {fix}"
                )
            dims = tuple(int.from_bytes(dims_raw[4 * i : 4 * i + 4], "big") for i in range(ndim))
            dtype = IDX_DTYPES[code]
            total = math.prod(dims) * dtype.itemsize
            header_len = 4 + 4 * ndim
            if total > MAX_IDX_BYTES:
                raise DataFormatError(
                    f"{name}: IDX header declares shape {dims} = {total:,} bytes of data, more "
                    f"than the {MAX_IDX_BYTES:,} bytes bprop accepts; the file is corrupt or "
                    f"not a data set file; {fix}"
                )
            if raw_size is not None and raw_size != header_len + total:
                what = "truncated" if raw_size < header_len + total else "longer than declared"
                raise DataFormatError(
                    f"{name}: {kind} file is {what}: header declares shape {dims}, i.e. "
                    f"{header_len + total:,} bytes, but the file has {raw_size:,}; {fix}"
                )
            if raw_size is not None or total <= _PREALLOC_MAX:
                # Size known to be right, or modest: one buffer, filled in place.
                payload = np.empty(total, dtype=np.uint8)
                got = _read_into(stream, payload.data, hasher)
            else:
                # A large size declared by a gzip header is not trusted: grow with the data.
                grown = _read_exact(stream, total, hasher)
                got = len(grown)
                payload = np.frombuffer(grown, dtype=np.uint8)
            extra = stream.read(1) if got == total else b""
        except (OSError, EOFError, zlib.error) as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise DataFormatError(
                f"{name}: corrupt {kind} file ({type(exc).__name__}: {exc}); {fix}"
            ) from exc
        if got < total:
            raise DataFormatError(
                f"{name}: {kind} file is truncated: header declares shape {dims}, i.e. "
                f"{total:,} bytes of data, but only {got:,} follow; {fix}"
            )
        if extra:
            raise DataFormatError(
                f"{name}: {kind} file is longer than declared: header declares shape {dims}, "
                f"i.e. {total:,} bytes of data, but more follow; {fix}"
            )
    finally:
        stream.close()
        raw.close()
    arr = payload.view(dtype).reshape(dims)
    if dtype.itemsize > 1:
        arr = arr.astype(dtype.newbyteorder("="))
    return arr


def read_idx(source: str | Path | bytes) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzip-compressed or not.

    The header is validated before any data is read or allocated: the magic number, the type
    code, the number of dimensions (1 to 4), a size cap (:data:`MAX_IDX_BYTES`), and that the
    payload has exactly the declared length. Gzip input is decompressed in bounded chunks and
    never beyond the declared size plus one byte, so a "gzip bomb" cannot exhaust memory.

    Parameters
    ----------
    source : str, Path or bytes
        Path of the file, or its content. Gzip is detected by its magic bytes ``1f 8b``.

    Returns
    -------
    numpy.ndarray, shape as declared in the header (e.g. (60000, 28, 28))
        In native byte order; dtype uint8 for type code 0x08.

    Raises
    ------
    DataFormatError
        The content is not a well-formed IDX file; the message names the file and the problem.
    FileNotFoundError
        ``source`` is a path that does not exist.
    """
    return _read_idx(source)
