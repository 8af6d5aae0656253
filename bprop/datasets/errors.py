"""The exceptions of :mod:`bprop.datasets`, and the setting their messages point the user to.

Each one is a subclass of the built-in type a caller would expect: a malformed file is a
``ValueError``, a data set found nowhere a ``FileNotFoundError``, a failed download an
``OSError``. This module holds no logic: it must not read files, the environment or the network.
"""

from __future__ import annotations

#: The environment variable naming a folder that holds ``mnist/`` and ``fashion-mnist/``; the
#: error messages of every module tell the user to check it (read in :mod:`.files`).
_ENV_DATA_DIR = "BPROP_DATA_DIR"


class DataFormatError(ValueError):
    """A data file is malformed (bad IDX header, wrong size, bad CSV cell, ...)."""


class ChecksumError(DataFormatError):
    """A data file's SHA-256 digest is not the expected one."""


class DownloadError(OSError):
    """Every mirror failed to deliver a good copy of a file."""


class DatasetNotFoundError(FileNotFoundError):
    """A data set was found nowhere and could not (or may not) be downloaded."""
