"""Reading a CSV file of numeric features and one label column, every cell checked, in chunks.

:func:`read_table` streams the file twice: once to count its lines and take its digest, once
to parse it chunk by chunk (a quarter of a megabyte of text at a time) straight into a
preallocated array of the final dtype, so that loading needs little more memory than the
result.  A chunk of plain integers (pixels, counts) is parsed by vectorised NumPy code on its
bytes (:func:`_integers`), any other by NumPy's C parser (``numpy.loadtxt``, which accepts only
ASCII decimal numbers); when both refuse a chunk, or the file has quotes, NUL bytes or a bare
carriage return, the same lines go through the careful path — Python's ``csv`` module and
:func:`strict_number` — which is the definition of what is accepted and names the line and
column of the first bad cell.  Either way every cell is checked: a feature is a finite ASCII
decimal number (``1_000`` and Arabic-Indic digits, which Python's ``float`` takes, are not), a
label is a non-empty cell that is not NaN or infinity.

The first row is a header when any of its feature cells is not a number, or — the column names
``0,1,…,783,label`` that pandas writes — when its feature cells count the columns (0, 1, 2, …)
and its label cell is unlike every other label (a word among numbers, a number outside their
range, a fraction among integers).  ``header`` forces either answer.

Nothing here re-codes labels, scales, splits or knows what the data is for: that is
:mod:`.tabular`'s.
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bprop.datasets.errors import DataFormatError

#: Bytes of text parsed at a time (whole lines); small enough for the temporaries of the integer
#: parser (some 20 bytes per byte of text) to stay in the CPU's caches.
CHUNK_BYTES = 256 * 2**10
#: Delimiters NumPy's parser is trusted with; any other goes through the csv module.
FAST_DELIMITERS = frozenset(",;\t|")
_NUMBER = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)",
    re.IGNORECASE,
)


def strict_number(cell: str) -> float | None:
    """The number a CSV cell holds, or None: an optional sign, ASCII digits with an optional
    decimal point and exponent, or inf/infinity/nan. Surrounding whitespace is ignored."""
    text = cell.strip()
    if not _NUMBER.fullmatch(text):
        return None
    return float(text)


@dataclass
class Table:
    """A CSV file's contents, rows in file order.

    Attributes
    ----------
    X : array (m, n_features)
        The feature cells, in the dtype asked for.
    codes : array (m,) of int64
        Each row's label, as an index into ``labels``.
    labels : list of str
        The distinct label cells (stripped), every one used by some row.
    lines : callable
        ``lines(i)`` is the file line of row i (for messages).
    names : list of str or None
        The header's cells, when the file has one.
    label_index : int
        The label column (0-based).
    digest : str
        SHA-256 of the file's bytes (hex).
    """

    X: np.ndarray
    codes: np.ndarray
    labels: list[str]
    names: list[str] | None
    label_index: int
    digest: str


@dataclass
class _Layout:
    """What the first row decided: columns, label column, header."""

    n_cols: int
    label: int
    header: bool  # the first row is a header
    header_line: int  # its line (1-based)
    maybe_names: list[float] | None  # numeric first row that may be column names (auto only)
    names: list[str]

    @property
    def features(self) -> list[int]:
        return [j for j in range(self.n_cols) if j != self.label]


def read_table(
    path: Path,
    *,
    label_column: int | str = -1,
    delimiter: str = ",",
    header: bool | str = "auto",
    dtype: Any = np.float64,
    fast: bool = True,
) -> Table:
    """Read ``path`` into a :class:`Table`; see the module docstring for what is accepted.

    ``header`` is True/"yes", False/"no" or "auto"; ``fast=False`` parses every chunk the
    careful way (the tests compare the two).  Raises DataFormatError naming the file and, for
    a bad cell, its line and column.
    """
    header = _header_choice(header)
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '\r\n"':
        raise ValueError(
            f"delimiter must be one character (not a quote or newline), got {delimiter!r}"
        )
    digest, n_lines, plain = _scan(path)
    fast = fast and plain and delimiter in FAST_DELIMITERS
    reader = _Reader(path, delimiter, np.dtype(dtype), n_lines)
    return reader.read(label_column, header, fast, digest)


def _header_choice(header: Any) -> bool | str:
    choices: dict[bool | str, bool | str] = {
        True: True,
        False: False,
        "yes": True,
        "no": False,
        "auto": "auto",
    }
    if isinstance(header, (bool, str)) and header in choices:
        return choices[header]
    raise ValueError(f"header must be True/'yes', False/'no' or 'auto', got {header!r}")


def _scan(path: Path) -> tuple[str, int, bool]:
    """(SHA-256, number of lines, whether the file is plain enough for NumPy's parsers: no
    quote, no NUL byte, no carriage return but before a newline)."""
    sha = hashlib.sha256()
    newlines, plain, tail = 0, True, b""
    with path.open("rb") as f:
        while block := f.read(4 * CHUNK_BYTES):
            sha.update(block)
            newlines += block.count(b"\n")
            if plain and (b'"' in block or b"\0" in block):
                plain = False
            if tail == b"\r" and not block.startswith(b"\n"):
                plain = False  # the last block's final \r has no \n
            if plain and b"\r" in block:  # each \r is followed by \n (the last one maybe later)
                plain = block.count(b"\r") == block.count(b"\r\n") + block.endswith(b"\r")
            tail = block[-1:]
    return sha.hexdigest(), newlines + 1, plain and tail != b"\r"


class _Reader:
    """One reading of one file: the layout from the first row, then the rows into X."""

    def __init__(self, path: Path, delimiter: str, dtype: np.dtype, n_lines: int) -> None:
        self.path, self.delimiter, self.dtype, self.n_lines = path, delimiter, dtype, n_lines
        self.src = str(path)
        self.label_codes: dict[str, int] = {}

    # -- the whole file --------------------------------------------------------------------------

    def read(self, label_column: int | str, header: bool | str, fast: bool, digest: str) -> Table:
        rows = self._careful_rows(self._text_lines(1)) if not fast else None
        first = self._first_row(rows)
        if first is None:
            raise DataFormatError(f"{self.src}: the file is empty (no rows)")
        line, cells = first
        layout = self._layout(line, cells, label_column, header)
        n_feat = layout.n_cols - 1
        # At most one row per line, and a row of n non-empty cells takes 2n − 1 bytes and a
        # newline: a file of blank lines cannot make this allocate more than its own size.
        most = (self.path.stat().st_size + 1) // (2 * layout.n_cols) + 1
        room = max(1, min(self.n_lines, most))
        X = np.empty((room, n_feat), dtype=self.dtype)
        codes = np.empty(room, dtype=np.int64)
        m = 0
        if not layout.header:
            self._store(layout, [(line, cells)], X, codes, 0)
            m = 1
        if fast:
            for start, chunk in self._byte_chunks(layout.header_line):
                m = self._fast_chunk(layout, start, chunk, X, codes, m)
        else:
            assert rows is not None
            for batch in _batches(rows, 4096):
                m = self._store(layout, batch, X, codes, m)
        if layout.maybe_names is not None and m > 1 and self._names_after_all(layout, codes[:m]):
            X, codes, m = X[1:], codes[1:], m - 1
            layout.header = True
        if m == 0:
            raise DataFormatError(f"{self.src}: the file has a header but no data rows")
        X, codes = X[:m], codes[:m]
        labels, codes = self._used_labels(codes)
        return Table(
            X=X,
            codes=codes,
            labels=labels,
            names=layout.names if layout.header else None,
            label_index=layout.label,
            digest=digest,
        )

    # -- the first row and what it decides -----------------------------------------------------

    def _first_row(
        self, rows: Iterator[tuple[int, list[str]]] | None
    ) -> tuple[int, list[str]] | None:
        if rows is not None:
            return next(rows, None)
        for start, lines in self._chunks(1):
            for found in self._careful_rows(lines, start):
                return found
        return None

    def _layout(
        self, line: int, cells: list[str], label_column: int | str, header: bool | str
    ) -> _Layout:
        n_cols = len(cells)
        if n_cols < 2:
            raise DataFormatError(
                f"{self.src}: line {line} has a single column; need features and a label "
                f"(is the delimiter {self.delimiter!r} right?)"
            )
        if isinstance(label_column, str):
            if header is False:
                raise ValueError(
                    f"label_column {label_column!r} is a column name, but header is 'no'"
                )
            if label_column not in cells:
                raise DataFormatError(
                    f"{self.src}: label column {label_column!r} not in the header {cells}"
                )
            label, header = cells.index(label_column), True
        elif isinstance(label_column, (int, np.integer)) and not isinstance(label_column, bool):
            if not -n_cols <= label_column < n_cols:
                raise DataFormatError(
                    f"{self.src}: label_column {label_column} out of range for {n_cols} columns"
                )
            label = int(label_column) % n_cols
        else:
            raise ValueError(f"label_column must be a column index or name, got {label_column!r}")
        features = [strict_number(cells[j]) for j in range(n_cols) if j != label]
        maybe_names = None
        if header == "auto":
            header = any(v is None for v in features)
            if not header and _counts_columns(features, label):
                maybe_names = [v for v in features if v is not None]
        return _Layout(n_cols, label, bool(header), line, maybe_names, cells)

    def _names_after_all(self, layout: _Layout, codes: np.ndarray) -> bool:
        """Whether the numeric first row is column names: its label is unlike all the others."""
        if np.any(codes[1:] == codes[0]):
            return False
        by_code = {c: s for s, c in self.label_codes.items()}
        others = [by_code[c] for c in np.unique(codes[1:]).tolist()]
        first = strict_number(by_code[int(codes[0])])
        values = [strict_number(s) for s in others]
        if first is None:
            return all(v is not None for v in values)  # a word among numbers
        numbers = [v for v in values if v is not None]
        if len(numbers) < len(values) or not all(map(math.isfinite, [first, *numbers])):
            return False
        if all(v == int(v) for v in numbers) and first != int(first):
            return True  # a fraction among integers
        return not min(numbers) <= first <= max(numbers)

    # -- chunks of lines -----------------------------------------------------------------------

    def _chunks(self, from_line: int) -> Iterator[tuple[int, list[str]]]:
        """(number of the first line, the lines as text) for about CHUNK_BYTES at a time,
        starting at line ``from_line``."""
        line = 1
        with self.path.open("rb") as f:
            while True:
                raw = f.readlines(CHUNK_BYTES)
                if not raw:
                    return
                if line == 1 and raw[0].startswith(b"\xef\xbb\xbf"):
                    raw[0] = raw[0][3:]
                start, line = line, line + len(raw)
                if line <= from_line:
                    continue
                if start < from_line:
                    raw, start = raw[from_line - start :], from_line
                yield start, self._decode(raw, start)

    def _decode(self, raw: list[bytes], start: int) -> list[str]:
        try:
            return [b.decode("utf-8") for b in raw]
        except UnicodeDecodeError:
            for i, b in enumerate(raw):
                try:
                    b.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise DataFormatError(
                        f"{self.src}, line {start + i}: not a UTF-8 text file ({exc})"
                    ) from None
            raise

    def _text_lines(self, from_line: int) -> Iterator[tuple[int, str]]:
        for start, lines in self._chunks(from_line):
            yield from enumerate(lines, start)

    # -- the careful path: Python's csv module, cell by cell ------------------------------------

    def _careful_rows(
        self, lines: Iterable[Any], start: int | None = None
    ) -> Iterator[tuple[int, list[str]]]:
        """(line, stripped cells) of each non-blank row.  ``lines`` is text lines beginning at
        line ``start``, or (line, text) pairs when ``start`` is None."""
        if start is None:
            pairs = iter(lines)
            first = next(pairs, None)
            if first is None:
                return
            base = first[0] - 1
            texts: Iterable[str] = _prepend(first[1], (t for _, t in pairs))
        else:
            base, texts = start - 1, lines
        reader = csv.reader(texts, delimiter=self.delimiter)
        try:
            for row in reader:
                if row and any(c.strip() for c in row):
                    yield base + reader.line_num, [c.strip() for c in row]
        except csv.Error as exc:
            raise DataFormatError(f"{self.src}, line {base + reader.line_num}: {exc}") from None

    def _store(
        self,
        layout: _Layout,
        rows: list[tuple[int, list[str]]],
        X: np.ndarray,
        codes: np.ndarray,
        m: int,
    ) -> int:
        """Check the rows cell by cell and store them from row ``m`` on; returns the new m."""
        feats, lab = layout.features, layout.label
        for line, row in rows:
            if len(row) != layout.n_cols:
                raise DataFormatError(
                    f"{self.src}, line {line}: {len(row)} columns, but line "
                    f"{layout.header_line} has {layout.n_cols} (ragged rows)"
                )
            values = []
            for j in feats:
                v = strict_number(row[j])
                if v is None:
                    what = "an empty cell" if not row[j] else f"{row[j]!r} is not a number"
                    hint = (
                        " (if line 1 is a header, pass header=True, --header yes)"
                        if line == layout.header_line and not layout.header
                        else ""
                    )
                    raise DataFormatError(f"{self.src}, line {line}, column {j + 1}: {what}{hint}")
                if not math.isfinite(v):
                    raise DataFormatError(
                        f"{self.src}, line {line}, column {j + 1}: feature value {row[j]!r} is "
                        "not finite (NaN or infinity); clean the data"
                    )
                values.append(v)
            self._check_label(row[lab], line, lab)
            X[m] = values
            codes[m] = self._code(row[lab])
            m += 1
        return m

    def _check_label(self, cell: str, line: int, column: int) -> None:
        if not cell:
            raise DataFormatError(
                f"{self.src}, line {line}, column {column + 1}: an empty label; every example "
                "needs its class"
            )
        v = strict_number(cell)
        if v is not None and not math.isfinite(v):
            raise DataFormatError(
                f"{self.src}, line {line}, column {column + 1}: the label {cell!r} is not a "
                "class (NaN or infinity marks a missing value); drop or fix the row"
            )

    def _code(self, cell: str) -> int:
        code = self.label_codes.get(cell)
        if code is None:
            code = self.label_codes[cell] = len(self.label_codes)
        return code

    # -- the fast path: whole lines of bytes, parsed by NumPy ---------------------------------

    def _byte_chunks(self, after_line: int) -> Iterator[tuple[int, bytes]]:
        """(number of the first line, about CHUNK_BYTES of whole lines) after line
        ``after_line``."""
        with self.path.open("rb") as f:
            for _ in range(after_line):
                f.readline()
            line, rest = after_line + 1, b""
            while True:
                block = f.read(CHUNK_BYTES)
                data = rest + block if rest else block
                cut = data.rfind(b"\n") + 1 if block else len(data)
                if cut:
                    chunk, rest = data[:cut], data[cut:]
                    yield line, chunk
                    line += chunk.count(b"\n")
                else:
                    rest = data
                if not block:
                    return

    def _fast_chunk(
        self, layout: _Layout, start: int, chunk: bytes, X: np.ndarray, codes: np.ndarray, m: int
    ) -> int:
        """Parse whole lines: as plain integers if they are (the common case of pixels), else
        with ``numpy.loadtxt``, else — it refused, or a check failed — the careful way."""
        lab, n_cols = layout.label, layout.n_cols
        if not chunk.strip():
            return m  # blank lines only
        values = _integers(chunk, n_cols, ord(self.delimiter), lab)
        if values is not None:
            k = len(values)
            _features_into(X[m : m + k], values, lab)
            cells, inverse = np.unique(values[:, lab], return_inverse=True)
            table = np.array([self._code(str(c)) for c in cells.tolist()], dtype=np.int64)
            codes[m : m + k] = table[inverse.reshape(-1)]
            return m + k
        lines = self._decode(chunk.splitlines(keepends=True), start)
        known = len(self.label_codes)
        rows = [t for t in lines if t.strip()]
        arr = None
        if rows:
            try:
                arr = np.loadtxt(
                    rows,
                    delimiter=self.delimiter,
                    comments=None,
                    dtype=np.float64,
                    ndmin=2,
                    converters={lab: lambda cell: self._code(cell.strip())},
                    encoding=None,
                )
            except ValueError:
                arr = None
        if not rows:
            return m
        k = 0 if arr is None else arr.shape[0]
        if arr is None or k != len(rows) or arr.shape[1] != n_cols:
            return self._store(layout, list(self._careful_rows(lines, start)), X, codes, m)
        _features_into(X[m : m + k], arr, lab)
        new_labels = [cell for cell, code in self.label_codes.items() if code >= known]
        if not _all_finite(X[m : m + k]) or not all(_good_label(c) for c in new_labels):
            return self._store(layout, list(self._careful_rows(lines, start)), X, codes, m)
        codes[m : m + k] = arr[:, lab]
        return m + k

    # -- labels ----------------------------------------------------------------------------------

    def _used_labels(self, codes: np.ndarray) -> tuple[list[str], np.ndarray]:
        """The label cells some row uses, and the codes renumbered to index them."""
        by_code = {c: s for s, c in self.label_codes.items()}
        used = np.unique(codes)
        remap = np.full(len(self.label_codes), -1, dtype=np.int64)
        remap[used] = np.arange(len(used))
        return [by_code[c] for c in used.tolist()], remap[codes]


def _counts_columns(features: list[float | None], label: int) -> bool:
    """Whether numeric feature cells read like column names: 0, 1, 2, … or 1, 2, 3, …,
    counting the features or counting the columns (the label's position left out)."""
    if not features or any(v is None or not math.isfinite(v) or v != int(v) for v in features):
        return False
    values = [int(v) for v in features if v is not None]
    n = len(values)
    positions = [j for j in range(n + 1) if j != label]
    return any(values == list(range(s, s + n)) for s in (0, 1)) or any(
        values == [j + s for j in positions] for s in (0, 1)
    )


def _integers(chunk: bytes, n_cols: int, delimiter: int, label: int) -> np.ndarray | None:
    """The cells of whole lines that hold only plain integers (ASCII digits, at most 15, so
    exact as floats), as an array ``(lines, n_cols)``; None for anything else — a sign, a
    point, a letter, an empty cell or line, a ragged row, a label with a leading zero (whose
    text is not the number's) — which the other parsers then read or refuse.

    Vectorised over the bytes: a mask finds the cells' ends; a cell of up to four digits is
    read in one lookup, of its last four bytes as a 16-bit key (:func:`_digit_table`), a longer
    one digit by digit from its end.
    """
    a = np.frombuffer(chunk, dtype=np.uint8)
    if a.size == 0:
        return None
    if a[-1] != 10:
        a = np.append(a, np.uint8(10))
    if b"\r" in chunk:  # only ever just before "\n" here (read_table checked)
        a = a[a != 13]
    digit = a - np.uint8(48)  # wraps below "0": anything not a digit is > 9
    end = a == delimiter
    end |= a == 10
    if np.count_nonzero(end) + np.count_nonzero(digit <= 9) != a.size or end[0]:
        return None  # a byte that is neither a digit nor a cell's end, or an empty first cell
    if np.any(end[1:] & end[:-1]):
        return None  # an empty cell or line
    ends = np.flatnonzero(end)
    rows, ragged = divmod(ends.size, n_cols)
    newline = a[ends] == 10
    if ragged or np.count_nonzero(newline) != rows or not np.all(newline[n_cols - 1 :: n_cols]):
        return None
    label_ends = ends[label::n_cols]
    if label:
        label_starts = ends[label - 1 :: n_cols] + 1
    else:
        label_starts = np.concatenate([[0], ends[n_cols - 1 :: n_cols][:-1] + 1])
    if np.any((label_ends - label_starts > 1) & (a[label_starts] == 48)):
        return None
    run = ~end  # becomes: a digit ending a run of five digits
    for k in range(1, 5):
        run[k:] &= ~end[:-k]
    if not np.any(run[4:]):
        code = np.empty(a.size + 3, dtype=np.uint16)
        code[:3] = 15
        np.minimum(digit, np.uint8(15), out=code[3:], casting="unsafe")
        key = code[:-3] << 12
        key |= code[1:-2] << 8
        key |= code[2:-1] << 4
        key |= code[3:]
        return _digit_table()[key[ends - 1]].reshape(rows, n_cols)
    lengths = np.diff(ends, prepend=-1) - 1
    longest = int(lengths.max())
    if longest > 15:
        return None
    values = digit[ends - 1].astype(np.int64)
    for k in range(2, longest + 1):
        term = digit[np.maximum(ends - k, 0)].astype(np.int64)
        term *= 10 ** (k - 1)
        term[lengths < k] = 0
        values += term
    return values.reshape(rows, n_cols)


_DIGITS: list[np.ndarray] = []


def _digit_table() -> np.ndarray:
    """``table[key]``: the number written by the trailing digits of four 4-bit codes (the last
    in the lowest bits; 0–9 a digit, 15 not one), e.g. 0xF255 → 255, 0x1F07 → 7."""
    if not _DIGITS:
        keys = np.arange(2**16)
        value, alive = np.zeros(2**16, dtype=np.int64), np.ones(2**16, dtype=bool)
        for k in range(4):
            nibble = (keys >> (4 * k)) & 15
            alive &= nibble <= 9
            value += np.where(alive, nibble * 10**k, 0)
        _DIGITS.append(value.astype(np.uint16))
    return _DIGITS[0]


def _features_into(out: np.ndarray, values: np.ndarray, label: int) -> None:
    """``out[:] = values`` without the label column (cast to ``out``'s dtype)."""
    if label == values.shape[1] - 1:
        out[:] = values[:, :-1]
    elif label == 0:
        out[:] = values[:, 1:]
    else:
        out[:] = np.delete(values, label, axis=1)


def _good_label(cell: str) -> bool:
    """A label cell is a class unless empty, NaN or infinite (see ``_Reader._check_label``)."""
    v = strict_number(cell) if cell else None
    return bool(cell) and (v is None or math.isfinite(v))


def _all_finite(x: np.ndarray) -> bool:
    return x.size == 0 or bool(np.isfinite(np.min(x)) and np.isfinite(np.max(x)))


def _prepend(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _batches(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
