"""The documentation site (``mkdocs.yml``, ``docs/``, ``tools/docs_hooks.py``) is built from
the repository: its README sections exist, its command reference is the parsers'.  Its pages'
code blocks run in tests/test_readme.py, after the README's, as a reader meets them.  CI builds
the whole site with ``mkdocs build --strict`` (``.ci/run``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
PAGES = sorted(DOCS.rglob("*.md"))

hooks = pytest.importorskip("tools.docs_hooks", reason="the docs extra (mkdocs) is not installed")


def test_every_readme_section_a_page_names_exists_and_every_nav_page_is_there() -> None:
    names = [n for p in PAGES for n in re.findall(r"^<!-- readme: (.+?) -->$", p.read_text(), re.M)]
    assert len(names) >= 3
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
    assert "](performance.md)" in body and "](docs/" not in body
    # Every link of the README into the docs names a page that exists.
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(docs/([\w/.-]+\.md)(?:#[\w-]+)?\)", readme)
    assert len(set(targets)) >= 10, targets
    assert all((DOCS / t).is_file() for t in targets), targets


def test_the_cli_reference_has_every_command_and_option() -> None:
    from bprop.cli import build_parser

    text = hooks.cli_reference()
    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    for name in sub.choices:
        assert f"## bprop {name}" in text
    assert "--flush-subnormals" in text and "--resume" in text
