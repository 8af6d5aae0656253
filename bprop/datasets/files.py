"""Where the built-in data sets' files are looked for, and whether a file found is the right one.

The digests of every file of MNIST and Fashion-MNIST (:data:`PAYLOAD_SHA256` of the decompressed
payloads, :data:`GZ_SHA256` of known ``.gz`` files) with :func:`verify_file` and
:func:`payload_sha256`, which check them; and the folders searched, in order
(:func:`search_locations`: ``data_dir``, ``BPROP_DATA_DIR``, :data:`REPO_DATA_DIR`,
:func:`cache_dir`, :data:`SYSTEM_DIRS`; the order is explained in :mod:`bprop.datasets`). This
module only looks: it lists folders and hashes files, but it never downloads (:mod:`.fetch`),
never writes, moves or deletes a file, and never parses IDX content (:mod:`.idx`).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path
from typing import IO, cast

from bprop.datasets.errors import _ENV_DATA_DIR, ChecksumError, DataFormatError
from bprop.datasets.idx import _CHUNK, MAX_IDX_BYTES

# --------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------

#: Names of the built-in data sets.
DATASETS: tuple[str, ...] = ("mnist", "fashion-mnist")

#: The four IDX files of each built-in data set (without the ``.gz`` suffix).
FILES: tuple[str, ...] = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

# Digests as "data set, file, sha256" lines (a table formatters leave alone; "fashion" stands
# for "fashion-mnist").
_PAYLOAD_TABLE = """
mnist train-images-idx3-ubyte ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
mnist train-labels-idx1-ubyte 65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
mnist t10k-images-idx3-ubyte 0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
mnist t10k-labels-idx1-ubyte ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
fashion train-images-idx3-ubyte c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888
fashion train-labels-idx1-ubyte bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9
fashion t10k-images-idx3-ubyte 5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b
fashion t10k-labels-idx1-ubyte 0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34
"""

# Known .gz files. MNIST: first the canonical files of the public mirrors (as listed by the
# TensorFlow Datasets checksum file), then the recompressed copies shipped in bprop's data/mnist.
# Fashion-MNIST: the files of Debian's dataset-fashion-mnist package.
_GZ_TABLE = """
mnist train-images-idx3-ubyte 440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609
mnist train-labels-idx1-ubyte 3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c
mnist t10k-images-idx3-ubyte 8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6
mnist t10k-labels-idx1-ubyte f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6
mnist train-images-idx3-ubyte 0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971
mnist train-labels-idx1-ubyte 1787548bbe0bff1ec2ecdc0ef292b02df999e2d1a6002d27500982c652b17203
mnist t10k-images-idx3-ubyte 1a1a05eab793c14bb050b398624a11b0ffd1a2953baed553b1b9bd079e2a20be
mnist t10k-labels-idx1-ubyte b91679a0acfe4ba0e50a2437a903084cba1f5f92592b016a25a7dfd00455798b
fashion train-images-idx3-ubyte b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7
fashion train-labels-idx1-ubyte 0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056
fashion t10k-images-idx3-ubyte cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa
fashion t10k-labels-idx1-ubyte 8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05
"""


def _parse_table(table: str) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {}
    for line in table.strip().splitlines():
        ds_name, fname, digest = line.split()
        ds_name = "fashion-mnist" if ds_name == "fashion" else ds_name
        out.setdefault(ds_name, {}).setdefault(fname, []).append(digest)
    return out


#: SHA-256 of the decompressed IDX payloads, ``PAYLOAD_SHA256[name][file]``. This is the digest
#: that is always checked: it is the same whichever mirror or gzip tool produced the ``.gz``.
PAYLOAD_SHA256: dict[str, dict[str, str]] = {
    n: {f: d[0] for f, d in files.items()} for n, files in _parse_table(_PAYLOAD_TABLE).items()
}

#: SHA-256 of known ``.gz`` files, ``GZ_SHA256[name][file]``, accepted as a fast path with no
#: decompression: for MNIST, the canonical files served by the public mirrors and the copies in
#: bprop's ``data/mnist``; for Fashion-MNIST, Debian's. Other ``.gz`` files are checked by payload.
GZ_SHA256: dict[str, dict[str, frozenset[str]]] = {
    n: {f: frozenset(d) for f, d in files.items()} for n, files in _parse_table(_GZ_TABLE).items()
}


_PRETTY = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


#: The ``data/`` folder of a source checkout (holds ``mnist/``); may not exist when installed.
REPO_DATA_DIR: Path = Path(__file__).resolve().parents[2] / "data"

#: System folders holding the four files directly, per data set (searched after the cache).
SYSTEM_DIRS: dict[str, list[Path]] = {
    "mnist": [],
    "fashion-mnist": [Path("/usr/share/datasets/fashion-mnist")],
}


# --------------------------------------------------------------------------------------------
# Checksums
# --------------------------------------------------------------------------------------------


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def payload_sha256(path: str | Path) -> str:
    """SHA-256 of a file's payload: of its decompressed content if it is gzip, else of the file.

    Decompression is streamed in chunks and stops with :class:`DataFormatError` beyond
    ``MAX_IDX_BYTES`` plus 1 MiB.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    str
        64 lowercase hex digits.
    """
    path = Path(path)
    h = hashlib.sha256()
    limit = MAX_IDX_BYTES + _CHUNK
    seen = 0
    with open(path, "rb") as raw:
        gz = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        stream = cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb")) if gz else raw
        try:
            while chunk := stream.read(_CHUNK):
                seen += len(chunk)
                if seen > limit:
                    raise DataFormatError(
                        f"{path}: decompresses to more than {limit:,} bytes; it is not a data "
                        "set file; delete it"
                    )
                h.update(chunk)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataFormatError(
                f"{path}: corrupt gzip file ({type(exc).__name__}: {exc}); delete it and let "
                "bprop download it again"
            ) from exc
    return h.hexdigest()


def _check_name(name: str) -> str:
    key = name.strip().lower().replace("_", "-")
    if key not in PAYLOAD_SHA256:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
    return key


def _base_name(filename: str) -> str:
    return filename.removesuffix(".gz")


def _identify(digest: str) -> str | None:
    for ds, table in PAYLOAD_SHA256.items():
        for fname, d in table.items():
            if d == digest:
                return f"the {_PRETTY[ds]} file {fname}"
    return None


def _checksum_error(path: Path, name: str, base: str, got: str) -> ChecksumError:
    expected = PAYLOAD_SHA256[name][base]
    other = _identify(got)
    note = f" (it is {other})" if other else ""
    return ChecksumError(
        f"{path}: SHA-256 of the decompressed payload is {got}, expected {expected} for the "
        f"{_PRETTY[name]} file {base}{note}. The file is corrupt or not the right one: delete it "
        f"and let bprop download it again, or check --data-dir / {_ENV_DATA_DIR}"
    )


def verify_file(path: str | Path, name: str, filename: str | None = None) -> None:
    """Check a data set file against its known digest.

    A ``.gz`` whose own digest is in :data:`GZ_SHA256` passes at once; otherwise the SHA-256
    of the (streamed) decompressed payload must equal :data:`PAYLOAD_SHA256`.

    Parameters
    ----------
    path : str or Path
        The file, gzip-compressed or not.
    name : str
        Data set, ``"mnist"`` or ``"fashion-mnist"``.
    filename : str, optional
        Which of the four files it is (e.g. ``"train-images-idx3-ubyte.gz"``); defaults to the
        file's own name.

    Raises
    ------
    ChecksumError
        The digest does not match; the message gives the file, expected and actual digests.
    DataFormatError
        The file is not valid gzip.
    """
    name = _check_name(name)
    path = Path(path)
    base = _base_name(filename or path.name)
    if base not in PAYLOAD_SHA256[name]:
        raise ValueError(f"{base!r} is not a file of {name}; files: {', '.join(FILES)}")
    if _file_sha256(path) in GZ_SHA256[name].get(base, frozenset()):
        return
    got = payload_sha256(path)
    if got != PAYLOAD_SHA256[name][base]:
        raise _checksum_error(path, name, base, got)


# --------------------------------------------------------------------------------------------
# Locating files
# --------------------------------------------------------------------------------------------


def cache_dir() -> Path:
    r"""The user cache folder, where downloads go, as :func:`platformdirs.user_cache_dir` names it.

    On Linux ``$XDG_CACHE_HOME/bprop``, or ``~/.cache/bprop`` when that variable is unset, empty
    or a relative path; on macOS ``~/Library/Caches/bprop``; on Windows
    ``%LOCALAPPDATA%\bprop\Cache``.

    Returns
    -------
    Path
        It may not exist yet.
    """
    import platformdirs  # lazy: only looking for a data set needs it

    return Path(platformdirs.user_cache_dir("bprop", appauthor=False))


def search_locations(name: str, data_dir: str | Path | None = None) -> list[Path]:
    """The folders searched for a data set, in order (see the module docstring).

    Parameters
    ----------
    name : str
        ``"mnist"`` or ``"fashion-mnist"``.
    data_dir : str or Path, optional
        The explicit data folder, if any.

    Returns
    -------
    list of Path
        Candidate folders that would hold the four files directly; the last one from the user
        cache is also where downloads go.
    """
    name = _check_name(name)
    out: list[Path] = []
    if data_dir is not None:
        d = Path(data_dir).expanduser()
        out += [d / name, d]
    env = os.environ.get(_ENV_DATA_DIR, "")
    if env:
        out.append(Path(env).expanduser() / name)
    out.append(REPO_DATA_DIR / name)
    out.append(cache_dir() / name)
    out += list(SYSTEM_DIRS.get(name, []))
    seen: set[Path] = set()
    unique = []
    for p in out:
        if p not in seen:
            seen.add(p)
            unique.append(p)
    return unique


def _find_files(folder: Path) -> dict[str, Path] | None:
    """Map each of the four files present in ``folder`` to its path (``.gz`` preferred)."""
    found: dict[str, Path] = {}
    for base in FILES:
        for candidate in (folder / (base + ".gz"), folder / base):
            if candidate.is_file():
                found[base] = candidate
                break
    return found


def _locate(name: str, data_dir: str | Path | None) -> tuple[dict[str, Path] | None, list[str]]:
    report = []
    for folder in search_locations(name, data_dir):
        try:
            found = _find_files(folder) if folder.is_dir() else None
        except OSError as exc:  # e.g. permission denied
            report.append(f"  {folder} (unreadable: {exc})")
            continue
        if found is None:
            report.append(f"  {folder} (does not exist)")
        elif len(found) == len(FILES):
            return found, report
        elif found:
            missing = ", ".join(b for b in FILES if b not in found)
            report.append(f"  {folder} (incomplete: missing {missing})")
        else:
            report.append(f"  {folder} (no data set files)")
    return None, report
