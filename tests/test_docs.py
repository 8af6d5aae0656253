"""The documentation site (``mkdocs.yml``, ``docs/``, ``tools/docs_hooks.py``) is built from
the repository: its README sections exist, its command reference is the parsers', its own code
blocks run.  CI builds the whole site with ``mkdocs build --strict`` (``.ci/run``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import markdown_examples as md

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
EXAMPLES = [e for page in PAGES for e in md.collect(page)]

hooks = pytest.importorskip("tools.docs_hooks", reason="the docs extra (mkdocs) is not installed")


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{e.id}" for e in EXAMPLES])
def test_docs_example(example: md.Example, tmp_path: Path) -> None:
    if example.skip:
        pytest.skip(example.skip)
    example.run(tmp_path, {})


def test_every_readme_section_a_page_names_exists_and_every_nav_page_is_there() -> None:
    names = [n for p in PAGES for n in re.findall(r"^<!-- readme: (.+?) -->$", p.read_text(), re.M)]
    assert len(names) >= 12
    for name in names:
        assert hooks.readme_section(name).strip()
    with pytest.raises(ValueError, match="no section '## Nope'"):
        hooks.readme_section("Nope")
    nav = re.findall(
        r":\s*([\w/.-]+\.md)\s*$|^\s*- ([\w/.-]+\.md)\s*$", (REPO / "mkdocs.yml").read_text(), re.M
    )
    for page in {a or b for a, b in nav}:
        assert (DOCS / page).is_file() or page.startswith("tutorials/"), page


def test_readme_links_are_rewritten_for_the_site() -> None:
    pages = hooks._sections_by_page(DOCS)
    body = hooks.readme_section("Two commands", "getting-started.md", pages)
    assert "](performance.md#performance)" in body and "](#performance)" not in body
    jupyter = hooks.readme_section(
        "In Jupyter: rich displays, the lab inline, and four tutorials", "tutorials.md", pages
    )
    assert "](tutorials/en/1-worked-example.md)" in jupyter and "notebooks/" not in jupyter.replace(
        "`notebooks/", ""
    )


def test_the_cli_reference_has_every_command_and_option() -> None:
    from bprop.cli import build_parser

    text = hooks.cli_reference()
    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    for name in sub.choices:
        assert f"## bprop {name}" in text
    assert "--flush-subnormals" in text and "--resume" in text
