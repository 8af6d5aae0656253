"""The README and the documentation's pages run as written: every code block is a test
(``tests/markdown_examples.py``).

Python blocks run as doctests or scripts and must print the block shown after them; shell
sessions (``$ command`` and its output) run in one scratch folder — the reader's, who reads
the README and then the pages in the site's order (``mkdocs.yml``'s ``nav``), so that
``runs/book``, trained by the README's first command, is there for the pages that use it — and
must print the lines shown, where lines marked ``# varies by machine`` may show other figures.
The runner's own rules are tested here too, on small Markdown files, so that a runner that let
a broken example pass would fail.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests import markdown_examples as md
from tests.conftest import REPO, SHARED_DATA

README = REPO / "README.md"


def pages_in_reading_order() -> list[Path]:
    """README.md, then the docs pages in the order of ``mkdocs.yml``'s nav (the tutorial pages
    are the notebooks, which tests/test_notebooks.py runs)."""
    nav = (REPO / "mkdocs.yml").read_text(encoding="utf-8").split("\nnav:", 1)[1]
    names = re.findall(r"(?::|-)\s*([\w/.-]+\.md)\s*$", nav, re.M)
    pages = [REPO / "docs" / n for n in dict.fromkeys(names) if not n.startswith("tutorials/")]
    return [README, *pages]


PAGES = pages_in_reading_order()
EXAMPLES = [e for page in PAGES for e in md.collect(page)]


def digit_photos(folder: Path) -> None:
    """The README's seven.png and two.png: the first two MNIST test digits, enlarged 5×,
    printed dark on a light page."""
    from PIL import Image

    from bprop.datasets import load_mnist

    test = load_mnist(validation_size=0, download=False).test
    for name, i in (("seven.png", 0), ("two.png", 1)):
        pixels = (255 - test.X[i].reshape(28, 28) * 255).round().astype(np.uint8)
        Image.fromarray(pixels).resize((140, 140), Image.NEAREST).save(folder / name)


FIXTURES = {"digit-photos": digit_photos}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reader's folder: the README's sessions run here one after the other."""
    return tmp_path_factory.mktemp("readme")


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_readme_example(example: md.Example, workdir: Path) -> None:
    if example.skip:
        pytest.skip(example.skip)
    example.run(workdir, FIXTURES)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_code_block_is_run_or_skipped_saying_why(page: Path) -> None:
    blocks = md.blocks(page.read_text(encoding="utf-8"))
    run_at = {e.line for e in EXAMPLES if e.path == page}
    outputs = {
        b.line
        for a, b in itertools.pairwise(blocks)
        if a.line in run_at and a.info == "python" and not a.text.lstrip().startswith(">>>")
    }
    idle = [b.line for b in blocks if b.line not in run_at and b.line not in outputs]
    assert idle == [], f"{page.name} blocks at lines {idle} are neither run nor an example's output"


def test_the_examples_say_why_they_skip_and_cover_every_kind() -> None:
    assert len(PAGES) >= 12 and all(p.is_file() for p in PAGES), PAGES
    assert all(e.skip != "skipped" for e in EXAMPLES), "a skip must say why"
    kinds = {e.kind for e in EXAMPLES if not e.skip}
    assert kinds == {"doctest", "python", "shell"}, kinds


def test_the_two_set_up_commands_are_what_ci_runs() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    commands = [b.text for b in md.blocks(section) if b.info == "sh"]
    assert len(commands) == 2, commands
    train, test = commands
    venv = 'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[{}]"'
    assert train == venv.format("cli") + " && bprop train"
    assert test == venv.format("test") + " && python -m pytest -q"
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").replace("--quiet ", "")
    assert venv.format("test") in ci and "\npython -m pytest -q" in ci


# -- the runner itself ----------------------------------------------------------------------------


def _examples(tmp_path: Path, markdown: str) -> list[md.Example]:
    path = tmp_path / "doc.md"
    path.write_text(markdown, encoding="utf-8")
    return md.collect(path)


FENCE = "```"


def test_a_script_must_print_the_block_after_it(tmp_path: Path) -> None:
    good, bad = _examples(
        tmp_path,
        f"{FENCE}python\nprint(6 * 7)\n{FENCE}\n\n{FENCE}\n42\n{FENCE}\n\n"
        f"{FENCE}python\nprint(6 * 9)\n{FENCE}\n{FENCE}\n42\n{FENCE}\n",
    )
    assert good.kind == bad.kind == "python" and good.expected == "42"
    good.run(tmp_path)
    with pytest.raises(AssertionError, match=r"First line shown that does not match: '42'"):
        bad.run(tmp_path)


def test_a_doctest_block_fails_on_a_wrong_answer(tmp_path: Path) -> None:
    (good, bad) = _examples(
        tmp_path, f"{FENCE}python\n>>> 1 + 1\n2\n{FENCE}\n{FENCE}python\n>>> 1 + 1\n3\n{FENCE}\n"
    )
    good.run(tmp_path)
    with pytest.raises(AssertionError, match=r"doctest at .* failed"):
        bad.run(tmp_path)


def test_a_shell_session_compares_output_and_exit_status(tmp_path: Path) -> None:
    markdown = (
        f"{FENCE}\n$ echo one; echo two\none\n...\n$ echo three \\\n    four\nthree four\n{FENCE}\n"
        f"{FENCE}\n$ echo 'x: error: bad'; exit 2\nx: error: bad\n{FENCE}\n"
        f"{FENCE}\n$ echo 'x: error: bad'\nx: error: bad\n{FENCE}\n"
        f"{FENCE}\n$ echo five\nsix\n{FENCE}\n"
        f"{FENCE}\n$ false\n{FENCE}\n"
    )
    ok, failing_as_shown, should_fail, wrong, status = _examples(tmp_path, markdown)
    ok.run(tmp_path)
    failing_as_shown.run(tmp_path)
    with pytest.raises(AssertionError, match="should fail"):
        should_fail.run(tmp_path)
    with pytest.raises(AssertionError, match="'six'"):
        wrong.run(tmp_path)
    with pytest.raises(AssertionError, match="exited 1"):
        status.run(tmp_path)


@pytest.mark.parametrize(
    ("shown", "printed", "matches"),
    [
        ("Epoch 1: 9219 / 10000", "Epoch 1: 9219 / 10000", True),
        ("Epoch 1: 9219 / 10000", "Epoch 1: 9253 / 10000", False),
        (f"Epoch 1: 9219 / 10000   {md.VARIES}", "Epoch 1: 9253 / 10000", True),
        (f"Epoch 1: 9219 / 10000   {md.VARIES}", "Saved: 9253 / 10000", False),
        (f"Engine: compiled (AVX-512), bprop 0.1.0 {md.VARIES}", "Engine: NumPy (MKL 2025)", True),
        (f"9.996266584533476e-12  {md.VARIES}", "1.0203e-11", True),
        (f"[0.972 0.944 1.    1.    1.   ]  {md.VARIES}", "[0.944 0.972 1. 0.97  1.   ]", True),
        (f"[0.972 0.944 1.    1.    1.   ]  {md.VARIES}", "[0.944 0.972 1.]", False),
        (f"Saved r/m.npz (94.63% on test) {md.VARIES}", "Saved r/m.npz (9% on test)", True),
        (f"Saved r/m.npz (94.63% on test) {md.VARIES}", "Saved q/m.npz (9% on test)", False),
        ("Warning (x): 5% of them … Remedy: y …", "Warning (x): 5% of them. Remedy: y (z).", True),
        ("Warning (x): 5% of them … Remedy: y …", "Warning (x): 6% of them. Remedy: y (z).", False),
        ("    likely cause: the layer ...", "    likely cause: the layer's error", True),
        ("abort without saving)...", "abort without saving)... and more", False),
        ("rank  eta  lmbda", "rank   eta    lmbda", True),
    ],
)  # fmt: skip
def test_line_rules(shown: str, printed: str, matches: bool) -> None:
    assert bool(md.line_pattern(shown).fullmatch(printed)) is matches


def test_gaps_and_the_end_of_the_output() -> None:
    md.assert_output("a\n...\nd", "a\nb\nc\nd\n", "here")
    md.assert_output("a\n...\nd", "a\n\nd\n", "here")  # blank lines do not count
    md.assert_output("...\nc", "a\nb\nc", "here")
    with pytest.raises(AssertionError, match="the end of the output"):
        md.assert_output("a\nb", "a\nb\nc", "here")
    with pytest.raises(AssertionError, match="'d'"):
        md.assert_output("a\n...\nd", "a\nb\nc", "here")


def test_directives_skip_and_prepare_a_block(tmp_path: Path) -> None:
    skipped, prepared = _examples(
        tmp_path,
        f"<!-- example: skip needs a person at the keyboard -->\n{FENCE}sh\nread x\n{FENCE}\n\n"
        f"<!-- example: needs greeting -->\n\n{FENCE}\n$ cat hello.txt\nhello\n{FENCE}\n",
    )
    assert skipped.skip == "needs a person at the keyboard" and prepared.skip is None
    with pytest.raises(LookupError, match="greeting"):
        prepared.run(tmp_path)
    prepared.run(tmp_path, {"greeting": lambda d: (d / "hello.txt").write_text("hello\n")})


# -- the README's test command finds the shared data (#15 item 9) --------------------------------


def test_fashion_mnist_tests_run_under_the_readmes_test_command(tmp_path: Path) -> None:
    """No BPROP_DATA_DIR, as in the README's command: the tests that need Fashion-MNIST find
    ``../shared/datasets`` beside the checkout and run instead of skipping."""
    if not (SHARED_DATA / "fashion-mnist").is_dir():
        pytest.skip(f"no shared datasets beside the checkout ({SHARED_DATA.name} folder)")
    env = {k: v for k, v in os.environ.items() if k != "BPROP_DATA_DIR"}
    env["HOME"] = str(tmp_path)  # no user cache to fall back on
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
         "tests/test_images.py::test_fashion_style_round_trip"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert re.search(r"\b1 passed\b", proc.stdout) and "skipped" not in proc.stdout, proc.stdout
    # The accuracy smoke test's check, in a process of its own with the same environment.
    check = (
        "import tests.conftest; from tests.test_accuracy_smoke import _require; "
        "_require('fashion-mnist'); print('found')"
    )
    proc = subprocess.run(
        [sys.executable, "-c", check], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert proc.stdout.strip() == "found", proc.stdout + proc.stderr


def test_the_command_listing_is_bprop_help() -> None:
    from bprop.cli import build_parser

    section = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    listing = md.blocks(section)[0].text.splitlines()
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    helps = {c.dest: c.help for c in sub._choices_actions}
    assert [line.split()[1] for line in listing] == list(helps)
    for line in listing:
        name, text = line.split(None, 2)[1:]
        assert text == helps[name], line
