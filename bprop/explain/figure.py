"""The drawing of a network: where each neuron, its numbers and each weight's label sit.

The HTML page draws the network beside the derivation, every weight's label on its edge.  A
label laid on its line, or over another label or a neuron's numbers, cannot be read; so each
label here is placed *beside* its edge (its box touches no part of its own line), and never
overlaps another label, a neuron's circle or the numbers written under a neuron.  Each label
tries places along its edge, on either side, and takes the one that crosses the fewest other
edges and stays nearest its own; when some label finds no free place, the drawing is made wider
(and taller) until every label does, and a small network's drawing a little more, until no
other edge crosses a label.

This module is geometry only: it takes the layer sizes and the strings to be written, measured
by their length in a monospace font (:data:`CHAR_W` wide, :data:`LINE_H` high), and returns
coordinates.  It computes none of the derivation's numbers, knows no names and writes no page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: The advance of a character of 12 px DejaVu Sans Mono is 7.225 px; a little is added, so that
#: another monospace font (or bold, when a path is lit) still fits the boxes reserved.
CHAR_W = 7.4
#: The height of a line of 12 px text, and the distance between the lines under a neuron.
LINE_H = 14
LINE_STEP = 15
#: The radius of a neuron's circle.
RADIUS = 30
#: The space kept free around every box (and between a label and its own line).
PAD = 3

#: The cost of a place: its distance from the preferred place along the edge, each other edge
#: its box crosses, and each other edge that passes nearer than its own.
ALONG, CROSS, AMBIG = 3, 4, 1.5

#: Up to this many weights, the drawing is widened (a little) until no edge crosses a label.
CROSSING_FREE = 40

Neuron = tuple[int, int]  # (l, j): layer (1 = the input layer) and index in it
Weight = tuple[int, int, int]  # (l, j, k): the weight from neuron k of layer l-1 to j of layer l


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle, x0 < x1 and y0 < y1 (SVG coordinates: y grows downward)."""

    x0: float
    y0: float
    x1: float
    y1: float

    @classmethod
    def around(cls, x: float, y: float, text: str) -> Box:
        """The box of one line of ``text`` centred on (x, y)."""
        hw, hh = len(text) * CHAR_W / 2, LINE_H / 2
        return cls(x - hw, y - hh, x + hw, y + hh)

    def grown(self, by: float) -> Box:
        return Box(self.x0 - by, self.y0 - by, self.x1 + by, self.y1 + by)

    def overlaps(self, other: Box) -> bool:
        return (
            self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1
        )

    def meets_circle(self, cx: float, cy: float, r: float) -> bool:
        dx = cx - min(max(cx, self.x0), self.x1)
        dy = cy - min(max(cy, self.y0), self.y1)
        return dx * dx + dy * dy < r * r

    def meets_segment(self, p: tuple[float, float], q: tuple[float, float]) -> bool:
        """Whether the segment p–q passes through the box (Liang–Barsky clipping)."""
        (x, y), dx, dy = p, q[0] - p[0], q[1] - p[1]
        lo, hi = 0.0, 1.0
        for d, near, far in ((dx, self.x0 - x, self.x1 - x), (dy, self.y0 - y, self.y1 - y)):
            if d == 0:
                if near > 0 or far < 0:
                    return False
                continue
            t0, t1 = sorted((near / d, far / d))
            lo, hi = max(lo, t0), min(hi, t1)
            if lo > hi:
                return False
        return True


@dataclass(frozen=True)
class Layout:
    """Where everything sits: each neuron's centre, the centre of each line of text under it,
    the centre of each weight's label, and the ``viewBox`` that holds them all."""

    neurons: dict[Neuron, tuple[float, float]]
    neuron_lines: dict[Neuron, list[tuple[float, float]]]
    labels: dict[Weight, tuple[float, float]]
    view: tuple[float, float, float, float]  # x, y, width, height
    crossings: int = 0  # how many times a label's box is crossed by another edge
    radius: float = RADIUS


def layout(
    sizes: Sequence[int],
    neuron_text: Mapping[Neuron, Sequence[str]],
    labels: Mapping[Weight, str],
    *,
    gap_x: float = 250,
    gap_y: float = 130,
) -> Layout:
    """Place the neurons of a network of ``sizes``, the lines ``neuron_text`` writes under each,
    and the ``labels`` of its weights, so that no two boxes overlap and no label touches its
    own edge (nor a neuron); the gaps between layers and neurons grow until that is possible."""
    found: list[Layout] = []
    for _ in range(40):
        placed = _try(sizes, neuron_text, labels, gap_x, gap_y)
        if placed is not None:
            found.append(placed)
            # A label crossed by another edge is drawn under it: widen a little to avoid that,
            # while the network is small enough for it to be possible.
            if not placed.crossings or len(labels) > CROSSING_FREE or len(found) > 3:
                return min(found, key=lambda f: f.crossings)
        gap_x, gap_y = gap_x * 1.15, gap_y * 1.06
    raise ArithmeticError(f"no room for the labels of a {'-'.join(map(str, sizes))} network")


def _try(
    sizes: Sequence[int],
    neuron_text: Mapping[Neuron, Sequence[str]],
    labels: Mapping[Weight, str],
    gap_x: float,
    gap_y: float,
) -> Layout | None:
    r = RADIUS
    tallest = max(sizes)
    pos: dict[Neuron, tuple[float, float]] = {}
    for l, size in enumerate(sizes, start=1):  # noqa: E741
        top = (tallest - size) * gap_y / 2
        for j in range(size):
            pos[(l, j)] = ((l - 1) * gap_x, top + j * gap_y)
    lines: dict[Neuron, list[tuple[float, float]]] = {}
    boxes: list[Box] = []  # everything a label must not overlap, but circles
    for key, (x, y) in pos.items():
        texts = neuron_text.get(key, ())
        lines[key] = [(x, y + r + 12 + LINE_STEP * i) for i in range(len(texts))]
        boxes += [Box.around(cx, cy, t) for (cx, cy), t in zip(lines[key], texts)]
    segments = {w: (pos[(w[0] - 1, w[2])], pos[(w[0], w[1])]) for w in labels}
    placed: dict[Weight, tuple[float, float]] = {}
    for w, text in labels.items():
        best = _place(w, text, segments, pos, boxes, sizes)
        if best is None:
            return None
        placed[w] = best
        boxes.append(Box.around(*best, text))
    every = boxes + [Box(x - r, y - r, x + r, y + r) for x, y in pos.values()]
    x0, y0 = min(b.x0 for b in every) - 10, min(b.y0 for b in every) - 10
    x1, y1 = max(b.x1 for b in every) + 10, max(b.y1 for b in every) + 10
    crossings = sum(
        Box.around(*placed[w], labels[w]).meets_segment(p, q)
        for w in labels
        for other, (p, q) in segments.items()
        if other != w
    )
    return Layout(pos, lines, placed, (x0, y0, x1 - x0, y1 - y0), crossings)


def _place(
    w: Weight,
    text: str,
    segments: Mapping[Weight, tuple[tuple[float, float], tuple[float, float]]],
    pos: Mapping[Neuron, tuple[float, float]],
    boxes: Sequence[Box],
    sizes: Sequence[int],
) -> tuple[float, float] | None:
    """The best free place for the label of ``w``, or None when there is none."""
    (x1, y1), (x2, y2) = segments[w]
    length = math.hypot(x2 - x1, y2 - y1)
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    hw, hh = len(text) * CHAR_W / 2, LINE_H / 2
    # Labels of edges from different sources prefer different places along their edges.
    sources = sizes[w[0] - 2]
    prefer = 0.3 + 0.4 * w[2] / max(1, sources - 1)
    best, best_score = None, math.inf
    for step in range(4, 23):
        t = step / 26
        for side in (1, -1):
            nx, ny = -uy * side, ux * side
            off = hw * abs(nx) + hh * abs(ny) + PAD  # the box's reach towards its line, and a gap
            cx, cy = x1 + t * (x2 - x1) + off * nx, y1 + t * (y2 - y1) + off * ny
            box = Box(cx - hw, cy - hh, cx + hw, cy + hh)
            padded = box.grown(PAD)
            if any(padded.overlaps(b) for b in boxes):
                continue
            if any(padded.meets_circle(x, y, RADIUS) for x, y in pos.values()):
                continue
            score = ALONG * abs(t - prefer) + 0.2 * (side < 0)
            for other, (p, q) in segments.items():
                if other == w:
                    continue
                if box.meets_segment(p, q):
                    score += CROSS
                elif _distance(cx, cy, p, q) < off:
                    score += AMBIG  # nearer another edge than its own: whose label is it?
            if score < best_score:
                best, best_score = (cx, cy), score
    return best


def _distance(x: float, y: float, p: tuple[float, float], q: tuple[float, float]) -> float:
    """The distance from (x, y) to the segment p–q."""
    dx, dy = q[0] - p[0], q[1] - p[1]
    t = max(0.0, min(1.0, ((x - p[0]) * dx + (y - p[1]) * dy) / (dx * dx + dy * dy)))
    return math.hypot(x - p[0] - t * dx, y - p[1] - t * dy)
