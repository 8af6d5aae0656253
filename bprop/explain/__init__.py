"""Backpropagation worked step by step, every number written out, for any small network.

The article in the seeds (003) trains a 2-2-2 sigmoid network by hand for one step: the forward
pass, the total error, the chain rule for an output weight, the output error δ, the two error
paths that meet at a hidden neuron, every updated weight, and the error after the update.  This
package does that for any small fully connected network, exactly:

* :func:`derive` computes every number with the library (:func:`bprop.network.feedforward_trace`,
  :func:`bprop.network.backprop`, the cost and activation objects) into a :class:`Derivation`,
  and checks that each chain-rule product equals ``backprop``'s gradient;
* :func:`render` writes a derivation as text, Markdown, LaTeX or a self-contained HTML page, in
  English or Chinese (the seeds' own terms), step by step or in Nielsen's matrix form (BP1–BP4);
  :func:`fragment` writes the page as a fragment of a notebook, every style confined to it;
* :func:`errata` checks every figure the article prints against exact arithmetic;
* :func:`error_table` runs N updates and returns the error after each (:func:`render_steps`);
* :func:`problem_from_spec` builds a network, its one example and η from a JSON-style dict.

Numbers are shown rounded to 9 decimal places with trailing zeros dropped (0.3775, 0.75136507),
the way the article prints them; they are only rounded for display.  The 2-2-2 … n-m-k networks
with one hidden layer use the article's names (i1, h1, o1, w1…, net_h1, out_h1, δ_o1, E_total);
deeper networks use Nielsen's (w³₁₂, z²₁, a²₁, δ²₁, C).

One module per concept, each depending only on those above it:

* :mod:`~bprop.explain.i18n` — every English and Chinese string;
* :mod:`~bprop.explain.mathlayout` — :class:`M`, mathematics as text, LaTeX and HTML, and
  :func:`number`;
* :mod:`~bprop.explain.derivation` — the numbers: :func:`derive`, problems, limits, the error
  table;
* :mod:`~bprop.explain.article` — the article's printed figures and their errata;
* :mod:`~bprop.explain.names` — the article's names or Nielsen's for each quantity;
* :mod:`~bprop.explain.blocks` — the document: headings, paragraphs, equations and tables;
* :mod:`~bprop.explain.figure` — the drawing's geometry: where each neuron, number and weight's
  label sits (labels beside their edges, never overlapping);
* :mod:`~bprop.explain.formats` — one module per format (``text``, ``markdown``, ``latex``,
  ``html``); the page's CSS, JavaScript and skeleton are files in :mod:`bprop.web`.

This package never prints and never reads or writes files: the ``bprop explain`` command does.
"""

from __future__ import annotations

from collections.abc import Sequence

from bprop.explain import formats
from bprop.explain.article import ARTICLE_FIGURES, ARTICLE_TEXT, Erratum, errata
from bprop.explain.blocks import document, steps_document
from bprop.explain.derivation import (
    MATRIX_LIMIT,
    SPEC_KEYS,
    STEP_LIMIT,
    STEPS_LIMIT,
    Array,
    BiasStep,
    Derivation,
    NeuronStep,
    PathTerm,
    Problem,
    WeightStep,
    article_spec,
    check_limits,
    derive,
    error_table,
    problem_from_spec,
    table_rows,
)
from bprop.explain.formats import FORMATS
from bprop.explain.i18n import LANGS
from bprop.explain.mathlayout import (
    EQ,
    MUL,
    PLUS,
    M,
    cat,
    frac,
    join,
    matrix,
    num,
    number,
    paren,
    partial,
    plus_sup,
    sym,
)

__all__ = [
    "ARTICLE_FIGURES",
    "ARTICLE_TEXT",
    "EQ",
    "FORMATS",
    "LANGS",
    "MATRIX_LIMIT",
    "MUL",
    "PLUS",
    "SPEC_KEYS",
    "STEPS_LIMIT",
    "STEP_LIMIT",
    "Array",
    "BiasStep",
    "Derivation",
    "Erratum",
    "M",
    "NeuronStep",
    "PathTerm",
    "Problem",
    "WeightStep",
    "article_spec",
    "cat",
    "check_limits",
    "derive",
    "document",
    "errata",
    "error_table",
    "frac",
    "fragment",
    "join",
    "matrix",
    "num",
    "number",
    "paren",
    "partial",
    "plus_sup",
    "problem_from_spec",
    "render",
    "render_steps",
    "sym",
    "table_rows",
]


def render(
    d: Derivation,
    *,
    lang: str = "en",
    fmt: str = "text",
    matrix: bool = False,
    errata: Sequence[Erratum] | None = None,
) -> str:
    """Write a derivation as ``fmt`` (text, markdown, latex or html) in ``lang`` (en or zh).

    ``matrix`` gives Nielsen's matrix form (BP1–BP4) instead of the article's neuron-by-neuron
    chain rule; ``errata`` (from :func:`errata`) adds the errata table.  LaTeX is a complete
    document (xelatex with ctex for Chinese); HTML is one self-contained page.

    Parameters
    ----------
    d : Derivation
        From :func:`derive`.
    lang : str
        ``"en"`` or ``"zh"``.
    fmt : str
        ``"text"``, ``"markdown"``, ``"latex"`` or ``"html"``.
    matrix : bool
        Nielsen's matrix form instead of the chain rule neuron by neuron.
    errata : list of Erratum, optional
        Adds the errata table.

    Returns
    -------
    str
        The document.

    Raises
    ------
    ValueError
        For an unknown language or format, or a network over :data:`STEP_LIMIT`
        (:data:`MATRIX_LIMIT` with ``matrix``).
    """
    blocks = document(d, lang=lang, matrix=matrix, errata=errata)
    return formats.write(blocks, lang, fmt, d=d)


def fragment(
    d: Derivation,
    *,
    root: str,
    lang: str = "en",
    matrix: bool = False,
    errata: Sequence[Erratum] | None = None,
) -> str:
    """:func:`render`'s HTML page as a fragment of a notebook, in ``<div id="ROOT">``.

    Every style is confined to that element and every id starts with ``ROOT-``; there is no
    script (hovering or choosing a weight works by CSS alone).  See
    :func:`bprop.explain.formats.html.fragment`.
    """
    blocks = document(d, lang=lang, matrix=matrix, errata=errata)
    return formats.html.fragment(blocks, lang, d, root)


def render_steps(
    rows: Sequence[tuple[int, float]], problem: Problem, *, lang: str = "en", fmt: str = "text"
) -> str:
    """The table of :func:`error_table` (0–5, 10, 20, 50, … updates and the last) as ``fmt``."""
    return formats.write(steps_document(rows, problem, lang=lang), lang, fmt)
