"""LaTeX: one complete document (``article``, or ``ctexart`` for Chinese, for xelatex).

An English document that quotes Chinese (the errata quote the article's words) loads ctex's
fonts for them (``scheme=plain``: the English layout is kept), so no glyph is missing.  Text is
escaped for LaTeX (its special characters, and the Unicode symbols the words use, such as η, δ,
∂ and →, written as math); equations of several steps become ``align*``.  It only lays
out the blocks of :mod:`bprop.explain.blocks`: it computes no number, imports neither
``bprop.network`` nor ``bprop.train``, and returns a string.
"""

from __future__ import annotations

from collections.abc import Sequence

from bprop.explain.mathlayout import M, _parts


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
    "−": "$-$",
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
        r"\usepackage{array,longtable}",
        r"\allowdisplaybreaks",
        r"\setlength{\parindent}{0pt}",
        r"\begin{document}",
    ]
    out = list(head)
    for b in blocks:
        if b[0] == "h":
            out.append(
                {1: r"\section*{", 2: r"\subsection*{", 3: r"\subsubsection*{"}[b[1]]
                + _inline(_parts(b[2]))
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
            # Narrow columns set ragged right: justified, their words would be spread apart.
            rr = r">{\raggedright\arraybackslash}"
            spec = f"|{rr}p{{3.2cm}}|{rr}p{{2.3cm}}|{rr}p{{2.3cm}}|{rr}p{{6.5cm}}|"
            spec = spec if ncol == 4 else "|r|r|"
            out.append(r"\begin{longtable}{" + spec + r"}\hline")
            for r in [b[1], *b[2]]:
                out.append(" & ".join(_tex_escape(c) for c in r) + r" \\ \hline")
            out.append(r"\end{longtable}")
    out.append(r"\end{document}")
    if lang != "zh" and any(_is_cjk(c) for line in out for c in line):
        # Chinese inside an English document (the article's own words, quoted in the errata):
        # ctex's fonts for those characters only, the English layout kept (no missing glyphs).
        out.insert(1, r"\usepackage[scheme=plain]{ctex}")
    return "\n".join(out) + "\n"


def _is_cjk(c: str) -> bool:
    """A Chinese character or CJK punctuation, which Latin Modern has no glyph for."""
    return "\u3000" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef"
