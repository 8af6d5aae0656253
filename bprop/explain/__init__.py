"""Backpropagation worked step by step, every number written out, for any small network.

For now the derivation and the article's errata still live in :mod:`bprop.explain.derivation`;
the document is :mod:`bprop.explain.blocks` and the formats are in :mod:`bprop.explain.formats`.
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

    Raises
    ------
    ValueError
        For an unknown language or format, or a network over :data:`STEP_LIMIT`
        (:data:`MATRIX_LIMIT` with ``matrix``).
    """
    blocks = document(d, lang=lang, matrix=matrix, errata=errata)
    return formats.write(blocks, lang, fmt, d=d)


def render_steps(
    rows: Sequence[tuple[int, float]], problem: Problem, *, lang: str = "en", fmt: str = "text"
) -> str:
    """The table of :func:`error_table` (0–5, 10, 20, 50, … updates and the last) as ``fmt``."""
    return formats.write(steps_document(rows, problem, lang=lang), lang, fmt)
