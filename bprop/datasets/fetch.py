"""Downloading the built-in data sets' files: mirrors, retries, a progress bar, atomic writes.

This is the only module of :mod:`bprop.datasets` that talks to the network. It writes into the
one folder it is given and only through a temporary file that is checked (length, payload
SHA-256 by :func:`.files.verify_file`) and fsynced before it is renamed, so an interrupted or
bad download never leaves a file under a real name. It does not decide where data sets are
looked for (:mod:`.files`) and it does not read their content (:mod:`.idx`); it prints nothing
but the optional tqdm bar on stderr (``tqdm.auto``: a widget in a Jupyter notebook).
"""

from __future__ import annotations

import http.client
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bprop.datasets.errors import _ENV_DATA_DIR, ChecksumError, DataFormatError, DownloadError
from bprop.datasets.files import (
    _PRETTY,
    FILES,
    PAYLOAD_SHA256,
    _base_name,
    _check_name,
    verify_file,
)

#: Base URLs the files are downloaded from (``base + "train-images-idx3-ubyte.gz"``), in order.
#: URLs in the environment variable ``BPROP_MIRRORS`` (comma separated; ``{name}`` in one is
#: replaced by the data set name) are tried before these.
MIRRORS: dict[str, list[str]] = {
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ],
    "fashion-mnist": [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ],
}

#: Largest file :func:`download` accepts, in bytes.
MAX_DOWNLOAD_BYTES: int = 256 << 20

_ENV_MIRRORS = "BPROP_MIRRORS"


class _NullBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _make_bar(progress: Any, total: int | None, desc: str) -> Any:
    if progress is False:
        return _NullBar()
    if progress is not None:
        return progress(total=total, desc=desc)
    try:
        from tqdm.auto import tqdm  # lazy: optional dependency; a widget in Jupyter
    except ImportError:
        return _NullBar()
    # A bar on a terminal, or as a widget in a Jupyter notebook (whose stderr is no terminal).
    widget = any(c.__module__ == "tqdm.notebook" for c in tqdm.__mro__)
    try:
        disable = not (widget or sys.stderr.isatty())
    except (AttributeError, ValueError):
        disable = True
    return tqdm(
        total=total,
        desc=desc,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=sys.stderr,
        disable=disable,
        leave=False,
    )


def _mirror_list(name: str, mirrors: Sequence[str] | None) -> list[str]:
    env = [m.strip() for m in os.environ.get(_ENV_MIRRORS, "").split(",") if m.strip()]
    base = list(MIRRORS.get(name, [])) if mirrors is None else list(mirrors)
    out = []
    for m in env + base:
        m = m.replace("{name}", name)
        if not m.endswith("/"):
            m += "/"
        if m not in out:
            out.append(m)
    return out


def _fetch(url: str, dest: Path, timeout: float, progress: Any, desc: str) -> None:
    """Download ``url`` into the open-for-writing path ``dest``; raise OSError on any problem."""
    scheme = url.split(":", 1)[0].lower()
    if scheme not in ("http", "https", "file"):
        raise OSError(f"unsupported URL scheme {scheme!r}")
    req = urllib.request.Request(url, headers={"User-Agent": "bprop-datasets"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        length_header = resp.headers.get("Content-Length")
        length = int(length_header) if length_header and length_header.isdigit() else None
        if length is not None and length > MAX_DOWNLOAD_BYTES:
            raise OSError(f"server announces {length:,} bytes, more than any data set file")
        bar = _make_bar(progress, length, desc)
        got = 0
        try:
            with open(dest, "wb") as out:
                while chunk := resp.read(1 << 16):
                    got += len(chunk)
                    if got > MAX_DOWNLOAD_BYTES:
                        raise OSError(f"more than {MAX_DOWNLOAD_BYTES:,} bytes received")
                    out.write(chunk)
                    bar.update(len(chunk))
                out.flush()
                os.fsync(out.fileno())
        finally:
            bar.close()
        if length is not None and got != length:
            raise OSError(
                f"connection dropped: received {got:,} of {length:,} bytes (Content-Length)"
            )


def download(
    name: str,
    dest_dir: str | Path,
    mirrors: Sequence[str] | None = None,
    retries: int = 3,
    timeout: float = 30.0,
    progress: Any = None,
    *,
    backoff: float = 1.0,
    files: Iterable[str] | None = None,
) -> Path:
    """Download a data set's ``.gz`` files into a folder, verified and atomically.

    For each file, each mirror is tried up to ``retries`` times. Data goes into a temporary
    file in ``dest_dir`` that is checked (length against Content-Length, payload SHA-256),
    fsynced and only then renamed to its final name, so an interrupted download never leaves a
    partial file under the real name. A wrong digest moves on to the next mirror at once.
    Files already in ``dest_dir`` with the right digest are kept.

    Parameters
    ----------
    name : str
        ``"mnist"`` or ``"fashion-mnist"``.
    dest_dir : str or Path
        Target folder; created if needed.
    mirrors : sequence of str, optional
        Base URLs; defaults to ``MIRRORS[name]``. URLs from the environment variable
        ``BPROP_MIRRORS`` (comma separated, ``{name}`` replaced by the data set name) are
        tried first.
    retries : int
        Attempts per mirror and file (at least 1).
    timeout : float
        Socket timeout in seconds.
    progress : callable, False or None
        ``progress(total=int | None, desc=str)`` returning an object with ``update(n)`` and
        ``close()``. None: a tqdm bar on stderr if tqdm is installed and stderr is a
        terminal, or a widget in a Jupyter notebook; False: none.
    backoff : float
        Seconds to wait before the second attempt on a mirror, doubled for each later one.
    files : iterable of str, optional
        Subset of :data:`FILES` to fetch (default: all four).

    Returns
    -------
    Path
        ``dest_dir``.

    Raises
    ------
    DownloadError
        A file could not be obtained from any mirror; the message lists the URLs tried, the
        last error, and what to do on a machine without internet.
    """
    name = _check_name(name)
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    urls = _mirror_list(name, mirrors)
    wanted = list(FILES) if files is None else [_base_name(f) for f in files]
    for base in wanted:
        if base not in PAYLOAD_SHA256[name]:
            raise ValueError(f"{base!r} is not a file of {name}; files: {', '.join(FILES)}")
        final = dest / (base + ".gz")
        if final.is_file():
            try:
                verify_file(final, name, base)
                continue
            except DataFormatError:
                pass  # replaced below
        tried: list[str] = []
        last = "no mirror configured"
        ok = False
        for mirror in urls:
            url = mirror + base + ".gz"
            for attempt in range(max(1, retries)):
                if attempt and backoff > 0:
                    time.sleep(backoff * 2 ** (attempt - 1))
                tried.append(url)
                tmp = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed at once
                    dir=dest, prefix=f".{base}.gz.", suffix=".part", delete=False
                )
                tmp.close()
                tmp_path = Path(tmp.name)
                try:
                    _fetch(url, tmp_path, timeout, progress, base + ".gz")
                    verify_file(tmp_path, name, base)
                    os.replace(tmp_path, final)
                    ok = True
                except ChecksumError as exc:
                    last = f"{url}: wrong content: {exc}"
                    break  # a bad copy on this mirror: next mirror
                except urllib.error.HTTPError as exc:
                    last = f"{url}: HTTP {exc.code} {exc.reason}"
                    if 400 <= exc.code < 500 and exc.code not in (408, 429):
                        break  # not there: next mirror
                except (OSError, http.client.HTTPException, DataFormatError, ValueError) as exc:
                    reason = getattr(exc, "reason", None)
                    last = f"{url}: {reason if reason is not None else exc}"
                finally:
                    if not ok:
                        tmp_path.unlink(missing_ok=True)
                if ok:
                    break
            if ok:
                break
        if not ok:
            listed = "\n".join(f"  {u}" for u in dict.fromkeys(tried)) or "  (none)"
            raise DownloadError(
                f"could not download {_PRETTY[name]} file {base}.gz; tried:\n{listed}\n"
                f"last error: {last}\nWhat to do: if this machine has no internet, copy the four "
                f"{_PRETTY[name]} files from another machine into a folder and pass it with "
                f"--data-dir (data_dir=) or set {_ENV_DATA_DIR}; or set {_ENV_MIRRORS} to a "
                "mirror you can reach"
            )
    try:  # make the renames durable (best effort, POSIX only)
        fd = os.open(dest, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass
    return dest
