"""A small type for laid-out mathematics, :class:`M`, and how numbers are shown.

An ``M`` is one piece of mathematics in three notations at once: plain text, LaTeX and HTML, so
that one document can be written in every format.  The helpers build an ``M`` from smaller
pieces the way the equations are written: :func:`cat`, :func:`join`, :func:`sym` (net_h1, z²₁),
:func:`partial` (∂E/∂w), :func:`frac`, :func:`matrix` (numbers in brackets).  :func:`number` is
the one rule by which every number is shown.

This module only lays out: it computes no number (the derivation did), knows no language and
no quantity's name, and writes no page or file.
"""

from __future__ import annotations

import html as _html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Array = np.ndarray


def number(value: float | None) -> str:
    """A number as shown: rounded to 9 decimals, trailing zeros dropped (0.3775, 0.75136507).

    Integers show no point (1); -0 shows as 0.  None — a figure the derivation does not have
    (an input neuron's z, softmax's σ') — is an error: nothing shows a figure that is not there.
    """
    if value is None:
        raise ValueError("a figure of the derivation is missing (None) where one is shown")
    s = f"{value:.9f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


_SUP = str.maketrans("0123456789+", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺")
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


@dataclass(frozen=True)
class M:
    """A piece of mathematics in three notations: plain text, LaTeX and HTML."""

    text: str
    tex: str
    html: str


def _m(x: M | str) -> M:
    return x if isinstance(x, M) else M(x, x, _html.escape(x))


def cat(*parts: M | str) -> M:
    """Concatenate; multi-line text parts (matrices) are placed side by side."""
    ms = [_m(p) for p in parts]
    texts = [m.text for m in ms]
    text = _hcat(texts) if any("\n" in t for t in texts) else "".join(texts)
    return M(text, "".join(m.tex for m in ms), "".join(m.html for m in ms))


def _hcat(texts: list[str]) -> str:
    blocks = [t.split("\n") for t in texts]
    height = max(len(b) for b in blocks)
    cols = []
    for b in blocks:
        width = max(len(line) for line in b)
        top = (height - len(b)) // 2
        pad = [""] * top + b + [""] * (height - len(b) - top)
        cols.append([line.ljust(width) for line in pad])
    return "\n".join("".join(c[r] for c in cols).rstrip() for r in range(height))


def join(sep: M | str, items: Sequence[M | str]) -> M:
    out: list[M | str] = []
    for i, item in enumerate(items):
        if i:
            out.append(sep)
        out.append(item)
    return cat(*out)


MUL = M(" * ", r" \cdot ", " · ")


PLUS = M(" + ", " + ", " + ")


EQ = M(" = ", " = ", " = ")


def num(value: float | None, *, paren: bool = False) -> M:
    s = number(value)
    if paren and s.startswith("-"):
        s = f"({s})"
    return M(s, s, s)


def sym(base: str, sub: str = "", sup: str = "", *, unicode: bool = False) -> M:
    """A symbol: ``sym("net", "h1")`` is net_h1; ``unicode=True`` writes z²₁ in plain text."""
    if unicode:
        text = base + sup.translate(_SUP) + sub.translate(_SUB)
    else:
        text = base + (f"_{sub}" if sub else "") + (f"^{sup}" if sup else "")
    tex = _upright(base) + (f"^{{{sup}}}" if sup else "") + (f"_{{{_upright(sub)}}}" if sub else "")
    h = (
        _html.escape(base)
        + (f"<sup>{sup}</sup>" if sup else "")
        + (f"<sub>{sub}</sub>" if sub else "")
    )
    return M(text, tex, h)


def _upright(name: str) -> str:
    """A name of several letters (net, out, target; h1, total) set upright in LaTeX: in math
    mode ``net`` would be the italic product n·e·t.  One letter (w, z) or digits stay so."""
    if sum(c.isascii() and c.isalpha() for c in name) > 1 or (len(name) > 1 and name[0].isalpha()):
        return rf"\mathrm{{{name}}}"
    return name


def partial(f: M, x: M) -> M:
    return M(
        f"∂{f.text}/∂{x.text}",
        rf"\frac{{\partial {f.tex}}}{{\partial {x.tex}}}",
        f"∂{f.html}/∂{x.html}",
    )


def frac(a: M | str, b: M | str) -> M:
    a, b = _m(a), _m(b)
    return M(f"{a.text}/({b.text})", rf"\frac{{{a.tex}}}{{{b.tex}}}", f"{a.html}/({b.html})")


def paren(a: M | str) -> M:
    return cat("(", a, ")")


def plus_sup(a: M) -> M:
    """w⁺: the updated value."""
    return M(a.text + "⁺", "{" + a.tex + "}^{+}", a.html + "<sup>+</sup>")


def matrix(arr: Array) -> M:
    """A matrix ``(n, m)`` or column vector ``(n,)`` in brackets."""
    a = np.asarray(arr, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    cells = [[number(v) for v in row] for row in a]
    widths = [max(len(r[c]) for r in cells) for c in range(a.shape[1])]
    lines = ["[ " + "  ".join(c.rjust(w) for c, w in zip(r, widths)) + " ]" for r in cells]
    tex = r"\begin{bmatrix}" + r" \\ ".join(" & ".join(r) for r in cells) + r"\end{bmatrix}"
    rows = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in cells)
    return M("\n".join(lines), tex, f'<table class="mat">{rows}</table>')


def _exp(x: M) -> M:
    return M(f"e^({x.text})", f"e^{{{x.tex}}}", f"e<sup>{x.html}</sup>")


def _fn(name: str) -> M:
    return M(name, rf"\operatorname{{{name}}}", name)


def _parts(x: str | Sequence[str | M]) -> list[str | M]:
    """A heading's or paragraph's content as a list of words and mathematics (a heading may be a
    plain string)."""
    return [x] if isinstance(x, str) else list(x)
