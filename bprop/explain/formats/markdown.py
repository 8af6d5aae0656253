"""Markdown, with the mathematics as ``$…$`` and ``$$…$$`` LaTeX (for GitHub and most viewers).

It only lays out the blocks of :mod:`bprop.explain.blocks`: it computes no number, imports
neither ``bprop.network`` nor ``bprop.train``, and returns a string.
"""

from __future__ import annotations

from collections.abc import Sequence

from bprop.explain.mathlayout import EQ, M, _parts, join


def _inline(parts: Sequence[str | M]) -> str:
    return "".join(f"${p.tex}$" if isinstance(p, M) else p for p in parts)


def write(blocks: list[tuple]) -> str:
    """The blocks as Markdown."""
    out: list[str] = []
    for b in blocks:
        if b[0] == "h":
            out += ["#" * b[1] + " " + _inline(_parts(b[2])), ""]
        elif b[0] == "p":
            out += [_inline(b[1]), ""]
        elif b[0] == "eq":
            out += ["$$" + join(EQ, b[1]).tex + "$$", ""]
        elif b[0] == "table":
            esc = [[c.replace("|", r"\|") for c in r] for r in [b[1], *b[2]]]
            out.append("| " + " | ".join(esc[0]) + " |")
            out.append("|" + "|".join("---" for _ in esc[0]) + "|")
            out += ["| " + " | ".join(r) + " |" for r in esc[1:]]
            out.append("")
    return "\n".join(out)
