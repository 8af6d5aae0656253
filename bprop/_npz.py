"""Reading ``.npz`` archives from strangers: no pickles, no allocation beyond the file's size."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np
from numpy.lib import format as fmt

MAX_MEMBERS = 4096
MAX_RATIO = 1100
_HEADER_READERS = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}


def read_npz(path: str | Path, kinds: str = "biuf") -> dict[str, np.ndarray]:
    """Every array of the archive at ``path``, by name.

    Each member's ``.npy`` header is read and checked before its array is allocated: the
    member name must be a plain ``NAME.npy`` (no folders, no ``..``), the dtype's kind one of
    ``kinds`` (never ``object``, so nothing is unpickled), and the declared size no larger than
    the member's uncompressed size in the archive.

    Raises
    ------
    ValueError, zipfile.BadZipFile, EOFError, OSError
        The archive is not one bprop can read safely; the message says why.
    """
    try:
        return _read(path, kinds)
    except (NotImplementedError, RuntimeError, zipfile.LargeZipFile, zlib.error) as e:
        # zipfile's words for encrypted members, unknown compression or versions, bad streams
        raise ValueError(f"the archive cannot be read: {e}") from None


def _read(path: str | Path, kinds: str) -> dict[str, np.ndarray]:
    arrays = {}
    with zipfile.ZipFile(path) as zf:
        members = zf.infolist()
        if len(members) > MAX_MEMBERS:
            raise ValueError(f"{len(members)} members is more than bprop reads")
        for info in members:
            name = info.filename
            if not name.endswith(".npy") or "/" in name or "\\" in name or name.startswith("."):
                raise ValueError(f"unexpected member {name!r} in the archive")
            key = name[:-4]
            with zf.open(info) as fp:
                version = fmt.read_magic(fp)
                if version not in _HEADER_READERS:
                    raise ValueError(f"array {key!r} uses .npy format {version}")
                shape, _, dtype = _HEADER_READERS[version](fp)
                if dtype.hasobject or dtype.kind not in kinds:
                    raise ValueError(f"array {key!r} has dtype {dtype}, not a plain data type")
                declared = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
                # The member's stated size is itself a claim: deflate expands at most ~1032×.
                if declared > min(info.file_size, MAX_RATIO * info.compress_size + 1024):
                    raise ValueError(
                        f"array {key!r} declares {declared} bytes but the archive holds "
                        f"{info.file_size}"
                    )
            with zf.open(info) as fp:
                arrays[key] = fmt.read_array(fp, allow_pickle=False)
    return arrays
