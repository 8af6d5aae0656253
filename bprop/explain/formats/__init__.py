"""The formats a document is written in, one module each: text, Markdown, LaTeX and HTML.

A document is the list of blocks :mod:`bprop.explain.blocks` builds; :func:`write` hands it
to the module of the format asked for.  The formats only lay out: none computes a number,
imports ``bprop.network`` or ``bprop.train``, or writes a file.
"""

from __future__ import annotations

from bprop.explain.derivation import Derivation
from bprop.explain.formats import html, latex, markdown, text

FORMATS = ("text", "markdown", "latex", "html")


def write(blocks: list[tuple], lang: str, fmt: str, *, d: Derivation | None = None) -> str:
    """The blocks written as ``fmt`` (one of :data:`FORMATS`) in ``lang``.

    For HTML, a derivation ``d`` adds the drawing of its network and each weight's derivation.
    """
    if fmt == "text":
        return text.write(blocks)
    if fmt == "markdown":
        return markdown.write(blocks)
    if fmt == "latex":
        return latex.write(blocks, lang)
    if fmt == "html":
        return html.write(blocks, lang, d)
    raise ValueError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
