"""Plain text: what ``bprop explain`` prints on a terminal.

Headings are underlined, equations indented, matrices drawn in brackets over several lines and
tables aligned by display width (a CJK character takes two columns).  Like every format it only
lays out the blocks of :mod:`bprop.explain.blocks`: it computes no number, imports neither
``bprop.network`` nor ``bprop.train``, and returns a string (the command prints or saves it).
"""

from __future__ import annotations

from collections.abc import Sequence

from bprop.explain.mathlayout import EQ, M, _parts, join


def _inline(parts: Sequence[str | M]) -> str:
    return "".join(p.text if isinstance(p, M) else p for p in parts)


def write(blocks: list[tuple]) -> str:
    """The blocks as plain text, ending in a newline."""
    lines: list[str] = []
    for b in blocks:
        if b[0] == "h":
            text = _inline(_parts(b[2]))
            if lines:
                lines.append("")
            lines.append(text)
            if b[1] < 3:
                lines.append(("=" if b[1] == 1 else "-") * _width(text))
        elif b[0] == "p":
            lines.append(_inline(b[1]))
        elif b[0] == "eq":
            eq = join(EQ, b[1]).text
            lines.extend("    " + line for line in eq.split("\n"))
        elif b[0] == "table" and len(b[1]) == 4:  # errata: one record per item, not a table
            for i, (where, printed, exact, cause) in enumerate(b[2], start=1):
                lines += [
                    f"{i:2d}. {where}",
                    f"    {b[1][1]}: {printed}",
                    f"    {b[1][2]}: {exact}",
                    f"    {b[1][3]}: {cause}",
                ]
        elif b[0] == "table":
            lines.extend(_text_table(b[1], b[2]))
    return "\n".join(lines) + "\n"


def _width(s: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(c) >= 0x1100 and not 0x2000 <= ord(c) < 0x3000 else 1 for c in s)


def _text_table(header: list[str], rows: list[list[str]]) -> list[str]:
    cols = list(zip(header, *rows))
    widths = [max(_width(c) for c in col) for col in cols]

    def line(cells: list[str]) -> str:
        return "  ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths)).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in rows)
    return out
