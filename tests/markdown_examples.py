"""Run the code blocks of a Markdown file as tests: the README's examples (and the docs' later).

:func:`collect` reads a Markdown file into :class:`Example` objects, one per fenced code block
that can run; :meth:`Example.run` runs one in a scratch folder and raises AssertionError, with
what was expected and what came, when its output differs.  A test module parametrizes over
``collect(path)`` (see ``tests/test_readme.py``), so every block is a test of its own.

What a block is, read from the Markdown itself:

* a ```` ```python ```` block whose first line starts with ``>>>`` is a doctest;
* any other ```` ```python ```` block is a script, run on its own in a fresh namespace; a plain
  ```` ``` ```` block right after it is what it prints;
* a plain ```` ``` ```` block whose first line starts with ``$`` is a shell session: each
  ``$ command`` (continued onto the next line by a trailing ``\\``) runs in bash, and the lines
  up to the next ``$`` are what it prints on stdout and stderr together.  A command whose
  output shows an ``error:`` line must fail; any other must succeed.  The sessions of one file
  share one scratch folder, in the order they appear (an example may use a run the one before
  it trained);
* a ```` ```sh ```` block runs each line as a command that must succeed, printing anything;
* any other block (a listing, a plain output block after a script) is text; marked with a
  skip directive (below) it is listed among the examples, as skipped, with its reason.

How output is compared, line by line (blank lines and trailing spaces do not count):

* a line ``...`` stands for any number of lines, none included;
* ``…`` inside a line, or `` ...`` ending it, stands for any text;
* a line ending in ``# varies by machine`` shows figures that depend on the CPU, the BLAS and
  the engine: its numbers may differ, and so may anything after its first colon.

An HTML comment just before a block (invisible where the Markdown is rendered) steers it:
``<!-- example: skip REASON -->`` does not run it (the test is reported as skipped, with the
reason), ``<!-- example: needs NAME -->`` first calls the fixture ``NAME`` the test module
hands :meth:`Example.run` with the scratch folder.

This module knows nothing of bprop: it reads Markdown and runs what it finds.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

VARIES = "# varies by machine"
#: A shell command's time limit, seconds.
COMMAND_TIMEOUT = 600

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_DIRECTIVE = re.compile(r"^<!--\s*example:\s*(?P<verb>skip|needs)\b\s*(?P<arg>.*?)\s*-->\s*$")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:[.,]\d+)*\.?)(?:[eE][-+]?\d+)?%?")
_ANY_NUMBER = r"[-+]?[\d.,]+(?:[eE][-+]?\d+)?%?"


@dataclass
class Block:
    """One fenced code block: its info string (``python``, ``sh``, or empty), its text and the
    line of the file it starts on (1-based, the line of its first line of code)."""

    info: str
    text: str
    line: int
    directives: list[tuple[str, str]] = field(default_factory=list)


def blocks(markdown: str) -> list[Block]:
    """The fenced code blocks of ``markdown`` (CommonMark fences of backticks or tildes), each
    with the ``<!-- example: … -->`` directives written just before it."""
    out: list[Block] = []
    lines = markdown.splitlines()
    pending: list[tuple[str, str]] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            d = _DIRECTIVE.match(lines[i].strip())
            if d:
                pending.append((d["verb"], d["arg"]))
            elif lines[i].strip():
                pending = []
            i += 1
            continue
        fence, indent = m["fence"], len(m["indent"])
        body, start = [], i + 1
        i += 1
        while i < len(lines):
            close = lines[i].strip()
            if close.startswith(fence[0] * len(fence)) and set(close) == {fence[0]}:
                break
            body.append(lines[i][indent:] if lines[i][:indent].isspace() else lines[i])
            i += 1
        out.append(Block(m["info"].strip().split(" ")[0], "\n".join(body), start + 1, pending))
        pending = []
        i += 1
    return out


@dataclass
class Example:
    """A block that runs: ``kind`` is ``doctest``, ``python``, ``shell`` or ``sh``; ``expected``
    the output shown for a script (None: not compared)."""

    path: Path
    kind: str
    code: str
    line: int
    expected: str | None = None
    skip: str | None = None
    needs: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.path.name}:{self.line}-{self.kind}"

    def run(self, workdir: Path, fixtures: dict[str, Callable[[Path], None]] | None = None) -> None:
        """Run the example in ``workdir``; AssertionError when its output or status is wrong.

        Call it only where :attr:`skip` is None (a test skips the others, giving the reason).
        """
        for name in self.needs:
            if not fixtures or name not in fixtures:
                raise LookupError(f"{self.id} needs the fixture {name!r}, which is not given")
            fixtures[name](workdir)
        {"doctest": self._doctest, "python": self._python, "shell": self._shell, "sh": self._sh}[
            self.kind
        ](workdir)

    def _where(self) -> str:
        return f"{self.path}:{self.line}"

    def _doctest(self, workdir: Path) -> None:
        parser, out = doctest.DocTestParser(), io.StringIO()
        test = parser.get_doctest(self.code, {}, self.id, str(self.path), self.line - 1)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        with _cwd(workdir):
            runner.run(test, out=out.write)
        result = runner.summarize(verbose=False)
        assert result.failed == 0, f"doctest at {self._where()} failed:\n{out.getvalue()}"

    def _python(self, workdir: Path) -> None:
        printed = io.StringIO()
        code = compile(self.code, self._where(), "exec")
        with _cwd(workdir), contextlib.redirect_stdout(printed):
            exec(code, {"__name__": "__example__"})
        if self.expected is not None:
            assert_output(self.expected, printed.getvalue(), self._where())

    def _shell(self, workdir: Path) -> None:
        for command, expected, line in session(self.code):
            where = f"{self.path}:{self.line + line}"
            proc = _bash(command, workdir)
            assert_output(expected, proc.stdout, where, command)
            fails = any(re.search(r"\berror:", x) for x in expected.splitlines())
            if fails:
                assert proc.returncode != 0, f"{where}: `{command}` should fail, but exited 0"
            else:
                assert proc.returncode == 0, (
                    f"{where}: `{command}` exited {proc.returncode}:\n{proc.stdout[-4000:]}"
                )

    def _sh(self, workdir: Path) -> None:
        for line in self.code.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                proc = _bash(line, workdir)
                assert proc.returncode == 0, (
                    f"{self._where()}: `{line}` exited {proc.returncode}:\n{proc.stdout[-4000:]}"
                )


def collect(path: str | Path) -> list[Example]:
    """The examples of the Markdown file ``path``, in the order they appear."""
    path = Path(path)
    found = blocks(path.read_text(encoding="utf-8"))
    examples: list[Example] = []
    i = 0
    while i < len(found):
        b = found[i]
        skip = next((arg or "skipped" for verb, arg in b.directives if verb == "skip"), None)
        needs = tuple(arg for verb, arg in b.directives if verb == "needs")
        kind, expected = None, None
        if b.info == "python":
            kind = "doctest" if b.text.lstrip().startswith(">>>") else "python"
            after = found[i + 1] if i + 1 < len(found) else None
            if (
                kind == "python"
                and after is not None
                and after.info == ""
                and _adjacent(path, b, after)
            ):
                expected = after.text
                i += 1
        elif b.info in ("sh", "bash", "shell"):
            kind = "sh"
        elif b.info in ("", "console") and b.text.lstrip().startswith("$"):
            kind = "shell"
        if kind is None and skip is not None:
            kind = "text"  # a listing marked as not run, with the reason (and a test elsewhere)
        if kind is not None:
            examples.append(Example(path, kind, b.text, b.line, expected, skip, needs))
        i += 1
    return examples


def _adjacent(path: Path, first: Block, second: Block) -> bool:
    """True when only blank lines stand between the two blocks' fences."""
    lines = _lines(path)
    end = first.line + first.text.count("\n") + 1  # the closing fence (1-based)
    between = lines[end : second.line - 2]
    return all(not x.strip() for x in between)


@cache
def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def session(text: str) -> list[tuple[str, str, int]]:
    """A shell session's ``(command, expected output, line offset)`` triples."""
    out: list[tuple[str, str, int]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("$"):
            raise ValueError(f"a shell session line must start with '$': {lines[i]!r}")
        start, command = i, lines[i][1:].strip()
        while command.endswith("\\") and i + 1 < len(lines):
            i += 1
            command = command[:-1].rstrip() + " " + lines[i].strip()
        i += 1
        shown = []
        while i < len(lines) and not lines[i].startswith("$"):
            shown.append(lines[i])
            i += 1
        out.append((command, "\n".join(shown), start))
    return out


def _bash(command: str, workdir: Path) -> subprocess.CompletedProcess:
    bindir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    env["PYTHONUNBUFFERED"] = "1"  # stdout and stderr interleave as on a terminal
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )


@contextlib.contextmanager
def _cwd(path: Path):
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


# -- comparing output ----------------------------------------------------------------------------


def line_pattern(shown: str) -> re.Pattern[str]:
    """The regular expression an output line must match for the README line ``shown``."""
    text = shown.rstrip()
    varies = text.endswith(VARIES)
    if varies:
        text = text[: -len(VARIES)].rstrip()
    tail = ""
    if text.endswith(" ...") or text == "…":
        text, tail = text[:-4] if text.endswith(" ...") else "", ".*"
    if varies and ":" in text:
        text, tail = text[: text.index(":") + 1], ".*"
    parts = []
    pieces = text.split("…")
    for k, piece in enumerate(pieces):
        # The spaces around a "…" belong to the text it stands for.
        piece = piece if k == 0 else piece.lstrip(" ")
        piece = piece if k == len(pieces) - 1 else piece.rstrip(" ")
        if varies:
            chunks = _NUMBER.split(piece)
            numbers = [_ANY_NUMBER] * (len(chunks) - 1)
            piece_re = "".join(
                _spaced(c) + (numbers[k] if k < len(numbers) else "") for k, c in enumerate(chunks)
            )
        else:
            piece_re = _spaced(piece)
        parts.append(piece_re)
    return re.compile(".*".join(parts) + tail + r"\s*")


def _spaced(text: str) -> str:
    """``text`` literally, any run of spaces matching one or more (columns may shift)."""
    return (
        r"\s+".join(re.escape(w) for w in re.split(r" +", text))
        if text.strip()
        else (r"\s*" if text else "")
    )


def assert_output(expected: str, actual: str, where: str, command: str | None = None) -> None:
    """AssertionError unless ``actual`` matches ``expected`` by the rules in the module's
    docstring, naming the first line shown that could not be matched."""
    shown = [x for x in expected.splitlines() if x.strip()]
    got = [x.rstrip() for x in actual.splitlines() if x.strip()]
    ok, reached = _match(shown, got)
    if ok:
        return
    what = f"`{command}`" if command else "the example"
    missing = shown[reached] if reached < len(shown) else "(the end of the output)"
    raise AssertionError(
        f"{where}: {what} printed something else than the README shows.\n"
        f"First line shown that does not match: {missing!r}\n"
        f"--- shown ---\n{expected}\n--- printed ---\n{actual[-6000:]}"
    )


def _match(shown: Sequence[str], got: Sequence[str]) -> tuple[bool, int]:
    """Whether the lines ``got`` match the lines ``shown`` (with ``...`` gaps), and how far
    into ``shown`` the best attempt came."""
    patterns = [None if s.strip() == "..." else line_pattern(s) for s in shown]
    best = 0
    memo: dict[tuple[int, int], bool] = {}

    def match(i: int, j: int) -> bool:
        nonlocal best
        best = max(best, i)
        key = (i, j)
        if key in memo:
            return memo[key]
        if i == len(patterns):
            result = j == len(got)
        elif patterns[i] is None:
            result = match(i + 1, j) or (j < len(got) and match(i, j + 1))
        else:
            result = j < len(got) and bool(patterns[i].fullmatch(got[j])) and match(i + 1, j + 1)
        memo[key] = result
        return result

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * (len(shown) + len(got)) + 1000))
    return match(0, 0), best
