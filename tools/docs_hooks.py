"""MkDocs hooks that build bprop's documentation site from the repository as it is.

* ``<!-- readme: SECTION -->`` on a line of its own in a page is replaced by that ``##`` section
  of the README (its body, headings one level up), so the site and the README cannot drift
  apart; the README's links to repository files are rewritten to work from the site.
* ``<!-- cli-reference -->`` becomes the reference of every ``bprop`` command, generated from
  the argparse parsers that the command itself uses.
* The tutorial notebooks (``notebooks/en``, ``notebooks/zh``) become pages (text and code, by
  nbconvert) and are also published as ``.ipynb`` files to download; the package's sources
  that pages link to are published beside them.

Used by ``mkdocs.yml`` (``hooks:``); ``tests/test_docs.py`` builds the site with ``--strict``.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
NOTEBOOKS = ("en", "zh")
_README_DIRECTIVE = re.compile(r"^<!-- readme: (?P<name>.+?) -->$", re.M)


def _slug(heading: str) -> str:
    """The anchor Python-Markdown's toc (and GitHub) give a heading."""
    text = re.sub(r"[^\w\s-]", "", heading.strip().lower())
    return re.sub(r"[\s]+", "-", text)


def _readme_anchors(pages: dict[str, str]) -> dict[str, str]:
    """Anchor of each README heading → the page (``pages``: section name → page) holding it."""
    anchors, section = {}, None
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        if line.startswith(("## ", "### ")) and section in pages:
            anchors[_slug(line.lstrip("#"))] = pages[section]
    return anchors


def readme_section(name: str, page: str = "", pages: dict[str, str] | None = None) -> str:
    """The body of the README's ``## name`` section, its ``###`` headings made ``##``, its
    links made to work from ``page`` (``pages``: which page holds each README section)."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(name)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if match is None:
        raise ValueError(f"README.md has no section '## {name}' (docs page directive)")
    body = re.sub(r"^###", "##", match.group(1), flags=re.M)
    # Links relative to the repository's root, as the README has them, from a page at the
    # site's root: images live in docs/, the notebooks are the tutorial pages.
    body = body.replace("](docs/", "](")
    body = re.sub(r"\]\(notebooks/(en|zh)/\)", r"](tutorials.md)", body)
    body = re.sub(r"\]\(notebooks/(en|zh)/([^)]+)\.ipynb\)", r"](tutorials/\1/\2.md)", body)
    anchors = _readme_anchors(pages or {})

    def relink(m: re.Match[str]) -> str:
        target = anchors.get(m.group(1))
        if target is None or target == page:
            return m.group(0)
        return f"]({target}#{m.group(1)})"

    return re.sub(r"\]\(#([\w-]+)\)", relink, body)


def _sections_by_page(docs: Path) -> dict[str, str]:
    pages = {}
    for path in sorted(docs.rglob("*.md")):
        for m in _README_DIRECTIVE.finditer(path.read_text(encoding="utf-8")):
            pages.setdefault(m.group("name"), path.relative_to(docs).as_posix())
    return pages


def cli_reference() -> str:
    """Markdown for ``bprop --help`` and every command's ``--help``."""
    from bprop.cli import build_parser

    parser = build_parser()
    parts = ["```text", parser.format_help().rstrip(), "```"]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                parts += ["", f"## bprop {name}", "", "```text", sub.format_help().rstrip(), "```"]
    return "\n".join(parts) + "\n"


def notebook_markdown(path: Path) -> str:
    """A notebook's cells as Markdown (text, and code in fenced blocks), by nbconvert."""
    import nbformat
    from nbconvert import MarkdownExporter

    body, _ = MarkdownExporter().from_notebook_node(nbformat.read(path, as_version=4))
    download = f"[{path.name}]({path.name})"
    return f"{body.rstrip()}\n\n---\n\nThe notebook to run yourself: {download}\n"


def on_files(files: Files, config: Any) -> Files:
    for lang in NOTEBOOKS:
        for path in sorted((REPO / "notebooks" / lang).glob("*.ipynb")):
            uri = f"tutorials/{lang}/{path.stem}.md"
            files.append(File.generated(config, uri, content=notebook_markdown(path)))
            files.append(
                File.generated(config, f"tutorials/{lang}/{path.name}", abs_src_path=str(path))
            )
    for path in sorted((REPO / "bprop").glob("*.py")):
        files.append(File.generated(config, f"bprop/{path.name}", abs_src_path=str(path)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    pages = _sections_by_page(Path(config["docs_dir"]))
    here = page.file.src_uri
    markdown = _README_DIRECTIVE.sub(
        lambda m: readme_section(m.group("name"), here, pages), markdown
    )
    return markdown.replace("<!-- cli-reference -->", cli_reference())
