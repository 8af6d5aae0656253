"""Backpropagation worked step by step, every number written out, for any small network.

For now the derivation, the article's errata and the document still live in
:mod:`bprop.explain.derivation`; the formats are in :mod:`bprop.explain.formats`.
"""

from __future__ import annotations

from collections.abc import Sequence

from bprop.explain import formats
from bprop.explain.derivation import *  # noqa: F403
from bprop.explain.derivation import (
    ARTICLE_FIGURES,
    Derivation,
    Erratum,
    Problem,
    _cost_name,
    _is_article,
    _li,
    _t,
    document,
    number,
    table_rows,
)
from bprop.explain.formats import FORMATS  # noqa: F401
from bprop.explain.i18n import LANGS  # noqa: F401
from bprop.explain.mathlayout import EQ  # noqa: F401


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
    _li(lang)
    n_steps = rows[-1][0]
    net = problem.net
    acts = [a.name for a in net.activations]
    bias = "" if problem.update_biases else _t("steps_bias", lang)
    blocks: list[tuple] = [
        ("h", 1, _t("steps_title", lang, n=n_steps)),
        (
            "p",
            [
                _t(
                    "steps_text",
                    lang,
                    sizes="-".join(map(str, net.sizes)),
                    act=acts[0] if len(set(acts)) == 1 else ", ".join(acts),
                    cost=_cost_name(net.cost.name, lang),
                    eta=number(problem.eta),
                    bias=bias,
                )
            ],
        ),
        (
            "table",
            [_t("col_step", lang), _t("col_error", lang)],
            [[str(s), number(rows[s][1])] for s in table_rows(n_steps)],
        ),
    ]
    d_article = _is_article(net, problem.x, problem.y, problem.eta, problem.update_biases)
    if d_article and n_steps == 10000:
        printed = dict(ARTICLE_FIGURES)["E_after_10000"]
        blocks.append(
            ("p", [_t("steps_article", lang, printed=printed, exact=number(rows[-1][1]))])
        )
    return formats.write(blocks, lang, fmt)
