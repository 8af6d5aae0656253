"""The pictures of bprop's notebook displays, drawn as SVG text and small PNG images.

:func:`network_svg` draws a network's layers (weights by sign and size when there are few),
:func:`line_chart` a figure per epoch, :func:`scatter_svg` 2-D points by class, and
:func:`png` encodes a greyscale image without any imaging library.  Everything here takes
plain numbers and returns a string or bytes: it trains nothing, reads no file and imports no
plotting library, and every piece of text put into an SVG is escaped here.
"""

from __future__ import annotations

import html
import math
import struct
import zlib
from collections.abc import Sequence

import numpy as np

#: Blue for a positive weight, orange for a negative one (as in the lab); class colours.
POSITIVE, NEGATIVE = "rgb(33,102,172)", "rgb(230,97,1)"
CLASS_COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3")
#: Neurons drawn per layer at most; a wider layer shows its first and last few and a "⋮".
MAX_DRAWN = 12
#: Weights drawn one by one (colour = sign, width = size) only up to this many in all.
MAX_EDGES = 400


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _shown(n: int) -> list[int | None]:
    """The neurons of a layer of ``n`` that are drawn, None standing for the "⋮" between."""
    if n <= MAX_DRAWN:
        return list(range(n))
    half = (MAX_DRAWN - 2) // 2
    return [*range(half), None, *range(n - half, n)]


def network_svg(
    sizes: Sequence[int],
    activations: Sequence[str],
    weights: Sequence[np.ndarray],
    footer: str,
) -> str:
    """A network's diagram: one column of neurons per layer, input first.

    Each column is labelled with its layer number (the book's: 1 is the input layer), its
    width and its activation.  When every layer is drawn whole and the network has at most
    :data:`MAX_EDGES` weights, each weight w^l_jk is a line coloured by its sign and as thick
    as its size relative to the largest (hover one for its value); otherwise the layers are
    joined by a faint bundle.  ``footer`` is the line of text under the drawing.
    """
    gap_x, gap_y, r, top = 140, 26, 8, 34
    shown = [_shown(n) for n in sizes]
    rows = max(len(s) for s in shown)
    height = top + rows * gap_y + 52
    width = max(len(sizes) * gap_x, 360)
    x0 = (width - (len(sizes) - 1) * gap_x) / 2

    def pos(layer: int, slot: int) -> tuple[float, float]:
        offset = (rows - len(shown[layer])) * gap_y / 2
        return x0 + layer * gap_x, top + offset + slot * gap_y + gap_y / 2

    whole = all(n <= MAX_DRAWN for n in sizes)
    n_weights = sum(int(w.size) for w in weights)
    edges = []
    if whole and n_weights <= MAX_EDGES:
        biggest = max((float(np.max(np.abs(w))) for w in weights if w.size), default=0.0) or 1.0
        for i, w in enumerate(weights):
            for j in range(w.shape[0]):
                for k in range(w.shape[1]):
                    v = float(w[j, k])
                    (x1, y1), (x2, y2) = pos(i, k), pos(i + 1, j)
                    share = abs(v) / biggest if math.isfinite(v) else 1.0
                    edges.append(
                        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                        f'stroke="{POSITIVE if v >= 0 else NEGATIVE}" '
                        f'stroke-width="{0.4 + 3.6 * share:.2f}" '
                        f'stroke-opacity="{0.25 + 0.7 * share:.2f}">'
                        f"<title>w{_sup(i + 2)}{_sub(j + 1)},{_sub(k + 1)} = {v:.6g}</title>"
                        "</line>"
                    )
    else:
        for i in range(len(sizes) - 1):
            for a, ka in enumerate(shown[i]):
                for b, jb in enumerate(shown[i + 1]):
                    if ka is None or jb is None:
                        continue
                    (x1, y1), (x2, y2) = pos(i, a), pos(i + 1, b)
                    edges.append(
                        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                        'stroke="#8c959f" stroke-width="0.5" stroke-opacity="0.35"/>'
                    )
    nodes, labels = [], []
    for layer, slots in enumerate(shown):
        last = layer == len(sizes) - 1
        fill = "#eef8ee" if layer == 0 else "#fff0e6" if last else "#e8f0ff"
        for slot, shown_j in enumerate(slots):
            x, y = pos(layer, slot)
            if shown_j is None:
                nodes.append(
                    f'<text x="{x:.1f}" y="{y + 5:.1f}" text-anchor="middle" '
                    'font-size="16" class="muted">⋮</text>'
                )
                continue
            nodes.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{fill}" stroke="#46688a" '
                f'stroke-width="1.2"><title>layer {layer + 1}, neuron {shown_j + 1}</title>'
                "</circle>"
            )
        x = x0 + layer * gap_x
        kind = "input" if layer == 0 else activations[layer - 1]
        labels.append(
            f'<text x="{x:.1f}" y="16" text-anchor="middle" font-size="12" class="muted">'
            f"layer {layer + 1}</text>"
            f'<text x="{x:.1f}" y="{height - 30}" text-anchor="middle" font-size="13" '
            f'font-weight="600">{sizes[layer]:,}</text>'
            f'<text x="{x:.1f}" y="{height - 15}" text-anchor="middle" font-size="12" '
            f'class="muted">{_e(kind)}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 18}" '
        f'viewBox="0 0 {width} {height + 18}" role="img" aria-label="{_e(footer)}">'
        f"<g>{''.join(edges)}</g><g>{''.join(nodes)}</g>{''.join(labels)}"
        f'<text x="{width / 2:.1f}" y="{height + 10}" text-anchor="middle" font-size="12">'
        f"{_e(footer)}</text></svg>"
    )


_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _sup(n: int) -> str:
    return str(n).translate(_SUP)


def _sub(n: int) -> str:
    return str(n).translate(_SUB)


def _ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """Round tick values covering [lo, hi] (at least two)."""
    if not hi > lo:
        return [lo]
    raw = (hi - lo) / count
    step = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * step:
            step *= m
            break
    first = math.ceil(lo / step - 1e-9) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def line_chart(
    title: str,
    series: Sequence[tuple[str, Sequence[float | None], str, bool]],
    *,
    percent: bool = False,
    width: int = 330,
    height: int = 190,
) -> str:
    """A small line chart of figures per epoch: ``series`` are ``(label, values, colour,
    dashed)``, one value per epoch (None where there is none, e.g. no test data).

    ``percent`` shows values in [0, 1] as percentages.  Non-finite values are left out.
    """
    left, right, top, bottom = 48, 10, 24, 40
    pw, ph = width - left - right, height - top - bottom
    values = [
        float(v) for _, vs, _, _ in series for v in vs if v is not None and math.isfinite(float(v))
    ]
    n = max((len(vs) for _, vs, _, _ in series), default=0)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}">',
        f'<text x="{left}" y="14" font-size="12" font-weight="600">{_e(title)}</text>',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fff" stroke="#d8dde3"/>',
    ]
    if not values:
        out.append(
            f'<text x="{left + pw / 2}" y="{top + ph / 2}" text-anchor="middle" font-size="12" '
            'class="muted">no figures yet</text></svg>'
        )
        return "".join(out)
    lo, hi = min(values), max(values)
    if hi - lo < 1e-12 * max(1.0, abs(hi)):
        lo, hi = lo - 0.5 * (abs(lo) or 1.0) * 0.1, hi + 0.5 * (abs(hi) or 1.0) * 0.1
    pad = 0.05 * (hi - lo)
    lo, hi = lo - pad, hi + pad

    def px(i: int) -> float:
        return left + (pw * i / (n - 1) if n > 1 else pw / 2)

    def py(v: float) -> float:
        return top + ph * (hi - v) / (hi - lo)

    for t in _ticks(lo, hi):
        label = f"{100 * t:.4g}%" if percent else f"{t:.3g}"
        out.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{py(t):.1f}" y2="{py(t):.1f}" '
            'stroke="#eef1f4"/>'
            f'<text x="{left - 4}" y="{py(t) + 4:.1f}" text-anchor="end" font-size="10" '
            f'class="muted">{label}</text>'
        )
    step = max(1, math.ceil(n / 6))
    for i in range(0, n, step):
        out.append(
            f'<text x="{px(i):.1f}" y="{top + ph + 13}" text-anchor="middle" font-size="10" '
            f'class="muted">{i}</text>'
        )
    out.append(
        f'<text x="{left + pw / 2}" y="{top + ph + 26}" text-anchor="middle" font-size="10" '
        'class="muted">epoch</text>'
    )
    legend_x = left
    for label, vs, colour, dashed in series:
        points = [
            (px(i), py(float(v)))
            for i, v in enumerate(vs)
            if v is not None and math.isfinite(float(v))
        ]
        if not points:
            continue
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.8"{dash}/>'
        )
        if len(points) == 1:
            x, y = points[0]
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>')
        out.append(
            f'<line x1="{legend_x}" x2="{legend_x + 16}" y1="{height - 6}" y2="{height - 6}" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
            f'<text x="{legend_x + 20}" y="{height - 2}" font-size="10">{_e(label)}</text>'
        )
        legend_x += 28 + 6 * len(label)
    out.append("</svg>")
    return "".join(out)


def scatter_svg(
    X: np.ndarray, y: np.ndarray, class_names: Sequence[str], *, size: int = 220
) -> str:
    """2-D points coloured by class, in a square of ``size`` pixels (each axis its own range)."""
    pad = 10
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    P = pad + (size - 2 * pad) * (X - lo) / span
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size + 18}" '
        f'viewBox="0 0 {size} {size + 18}" role="img" aria-label="points by class">',
        f'<rect x="0.5" y="0.5" width="{size - 1}" height="{size - 1}" fill="#fff" '
        'stroke="#d8dde3"/>',
    ]
    for (px, py), c in zip(P, y):
        colour = CLASS_COLOURS[int(c) % len(CLASS_COLOURS)]
        out.append(
            f'<circle cx="{px:.1f}" cy="{size - py:.1f}" r="2.2" fill="{colour}" '
            'fill-opacity="0.75"/>'
        )
    x = 2
    for c, name in enumerate(class_names[: len(CLASS_COLOURS)]):
        colour = CLASS_COLOURS[c]
        out.append(
            f'<circle cx="{x + 4}" cy="{size + 10}" r="4" fill="{colour}"/>'
            f'<text x="{x + 11}" y="{size + 14}" font-size="11">{_e(name)}</text>'
        )
        x += 22 + 7 * len(str(name))
    out.append("</svg>")
    return "".join(out)


def png(gray: np.ndarray) -> bytes:
    """A greyscale image ``(h, w)`` of values in [0, 1] (1 = white) as PNG bytes."""
    a = np.rint(np.clip(np.asarray(gray, dtype=np.float64), 0.0, 1.0) * 255).astype(np.uint8)
    h, w = a.shape
    raw = b"".join(b"\x00" + a[r].tobytes() for r in range(h))  # filter type 0 on each row

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)  # 8-bit greyscale, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
