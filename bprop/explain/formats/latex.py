"""LaTeX: one complete document (``article``, or ``ctexart`` for Chinese, for xelatex).

Text is escaped for LaTeX (its special characters, and the Unicode symbols the words use, such
as η, δ, ∂ and →, written as math); equations of several steps become ``align*``.  It only lays
out the blocks of :mod:`bprop.explain.blocks`: it computes no number, imports neither
``bprop.network`` nor ``bprop.train``, and returns a string.
"""

from __future__ import annotations

from collections.abc import Sequence

from bprop.explain.mathlayout import M


def _inline(parts: Sequence[str | M]) -> str:
    return "".join(f"${p.tex}$" if isinstance(p, M) else _tex_escape(p) for p in parts)


_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


_TEX_UNICODE = {
    "→": r"$\rightarrow$",
    "η": r"$\eta$",
    "δ": r"$\delta$",
    "∂": r"$\partial$",
    "σ": r"$\sigma$",
    "…": r"\ldots{}",
    "⁺": r"$^{+}$",
    "−": "-",
    "—": "---",
    "½": r"$\frac{1}{2}$",
    "Σ": r"$\Sigma$",
    "·": r"$\cdot$",
    "²": r"$^{2}$",
    "≥": r"$\geq$",
    "≤": r"$\leq$",
    "⊙": r"$\odot$",
    "ᵀ": r"$^{T}$",
}


def _tex_escape(s: str) -> str:
    s = "".join(_TEX_SPECIAL.get(c, c) for c in s)
    return "".join(_TEX_UNICODE.get(c, c) for c in s)


def write(blocks: list[tuple], lang: str) -> str:
    """The blocks as a complete LaTeX document (``ctexart`` for ``lang="zh"``)."""
    head = [
        r"\documentclass[11pt]{ctexart}" if lang == "zh" else r"\documentclass[11pt]{article}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\usepackage{amsmath,amssymb}",
        r"\usepackage{longtable}",
        r"\allowdisplaybreaks",
        r"\setlength{\parindent}{0pt}",
        r"\begin{document}",
    ]
    out = list(head)
    for b in blocks:
        if b[0] == "h":
            out.append(
                {1: r"\section*{", 2: r"\subsection*{", 3: r"\subsubsection*{"}[b[1]]
                + _tex_escape(b[2])
                + "}"
            )
        elif b[0] == "p":
            out += [_inline(b[1]), ""]
        elif b[0] == "eq":
            segs = [s.tex for s in b[1]]
            if len(segs) <= 2:
                out.append(r"\[ " + " = ".join(segs) + r" \]")
            else:
                body = [f"{segs[0]} &= {segs[1]}"] + [f"&= {s}" for s in segs[2:]]
                out += [r"\begin{align*}", " \\\\\n".join(body), r"\end{align*}"]
        elif b[0] == "table":
            ncol = len(b[1])
            spec = "|p{3.2cm}|p{2.3cm}|p{2.3cm}|p{6.5cm}|" if ncol == 4 else "|r|r|"
            out.append(r"\begin{longtable}{" + spec + r"}\hline")
            for r in [b[1], *b[2]]:
                out.append(" & ".join(_tex_escape(c) for c in r) + r" \\ \hline")
            out.append(r"\end{longtable}")
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"
