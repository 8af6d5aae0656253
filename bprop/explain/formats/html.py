"""HTML: one self-contained page, the network drawn as SVG beside the derivation.

Each weight of the drawing can be hovered, clicked or chosen with the keyboard: its chain-rule
path lights up and its own derivation shows in a panel.  The page's skeleton, CSS and
JavaScript are real files in :mod:`bprop.web` (``explain.html``, ``explain.css``,
``explain.js``), inlined here so that the page works offline as one file.

Like every format it only lays out what the derivation computed: it computes none of the
derivation's numbers (only the drawing's coordinates), imports neither ``bprop.network`` nor
``bprop.train``, and returns a string.  Every value put into the page is escaped here.
"""

from __future__ import annotations

import html as _html
from collections.abc import Sequence

from bprop.explain.blocks import weight_panel
from bprop.explain.derivation import Derivation, WeightStep, check_limits
from bprop.explain.i18n import _t
from bprop.explain.mathlayout import EQ, M, join, number
from bprop.explain.names import _Names
from bprop.web import asset, css_rules, fill, scoped_css


def _inline(parts: Sequence[str | M]) -> str:
    return "".join(
        f'<span class="m">{p.html}</span>' if isinstance(p, M) else _html.escape(p) for p in parts
    )


def _html_blocks(blocks: list[tuple]) -> str:
    out = []
    for b in blocks:
        if b[0] == "h":
            out.append(f"<h{b[1] + 1}>{_html.escape(b[2])}</h{b[1] + 1}>")
        elif b[0] == "p":
            out.append(f"<p>{_inline(b[1])}</p>")
        elif b[0] == "eq":
            out.append(f'<div class="eq">{join(EQ, b[1]).html}</div>')
        elif b[0] == "table":
            head = "".join(f"<th>{_html.escape(c)}</th>" for c in b[1])
            body = "".join(
                "<tr>" + "".join(f"<td>{_html.escape(c)}</td>" for c in r) + "</tr>" for r in b[2]
            )
            out.append(f'<table class="data"><tr>{head}</tr>{body}</table>')
    return "\n".join(out)


def write(blocks: list[tuple], lang: str, d: Derivation | None = None) -> str:
    """The page: the blocks, and with a derivation ``d`` its network drawn and each weight's
    derivation ready to show (``d`` must be within :data:`~bprop.explain.STEP_LIMIT`)."""
    title = _html.escape(blocks[0][2]) if blocks and blocks[0][0] == "h" else "bprop"
    figure = ""
    if d is not None:
        check_limits(d.sizes)
        figure = (
            f'<div id="figure">{_svg(d)}'
            f'<div id="panel"><p>{_html.escape(_t("html_hint", lang))}</p></div>'
            f"{_weight_panels(d, lang)}</div>"
        )
    return fill(
        "explain.html",
        lang="zh-CN" if lang == "zh" else "en",
        title=title,
        style="\n" + asset("explain.css"),
        figure=figure,
        derivation=_html_blocks(blocks),
        script="\n" + asset("explain.js") if d is not None else "",
    )


#: The page's elements that a notebook has too, and the classes they become in a fragment.
FRAGMENT_ELEMENTS = {"main": ".bprop-main", "header": ".bprop-header"}


def fragment(blocks: list[tuple], lang: str, d: Derivation, root: str) -> str:
    """The page as a fragment of a notebook, in ``<div id="ROOT">``.

    The same drawing, derivation and CSS as :func:`write`'s page, but every style confined to
    the root element (:func:`bprop.web.scoped_css`), every id prefixed with ``ROOT-`` (a notebook
    may show a derivation twice) and no script at all: hovering a weight, or choosing it with
    a click or the keyboard, shows its derivation and lights up its chain-rule path through CSS
    ``:has()`` rules written here for each weight.  ``root`` must be a valid HTML id.
    """
    check_limits(d.sizes)
    p = f"{root}-"
    n = _Names(d)
    figure = (
        f'<div id="{p}figure">{_svg(d, p)}<div id="{p}panel">'
        f'<p class="hint">{_html.escape(_t("html_hint", lang))}</p>'
        f"{_weight_panels(d, lang, p)}</div></div>"
    )
    style = [scoped_css(asset("explain.css"), root, FRAGMENT_ELEMENTS)]
    # The page's .hl rules (what its script lights up), applied to each weight's path instead.
    lit = [
        (selectors[0].removeprefix(".hl "), body)
        for selectors, body in css_rules(asset("explain.css"))
        if selectors[0].startswith(".hl ")
    ]
    for ws in d.weights:
        key = n.weight_key(ws.l, ws.j, ws.k)
        ids = ",".join(f"#{p}{i}" for i in _path(d, n, ws))
        # Shown while the weight is hovered, or while it has the focus (a click or the keyboard
        # chose it) and no other weight is hovered.
        for chosen in (
            f"#{root}:has(#{p}edge-{key}:hover)",
            f"#{root}:has(#{p}edge-{key}:focus):not(:has(.edge:hover))",
        ):
            style.append(f"{chosen} #{p}deriv-{key}{{display:block}}")
            style += [f"{chosen} :is({ids}) {rest}{{{body}}}" for rest, body in lit]
    style.append(f"#{root}:has(.edge:is(:hover,:focus)) .hint{{display:none}}")
    lang_attr = "zh-CN" if lang == "zh" else "en"
    return (
        f'<div id="{root}" class="bprop-explain" lang="{lang_attr}"><style>'
        + "\n".join(style)
        + f'</style><div class="bprop-main">{figure}<div id="{p}derivation">\n'
        + _html_blocks(blocks)
        + "\n</div></div></div>"
    )


def _weight_panels(d: Derivation, lang: str, prefix: str = "") -> str:
    """One hidden derivation per weight, shown in the panel when the weight is chosen."""
    n = _Names(d)
    return "\n".join(
        f'<div class="deriv" id="{prefix}deriv-{n.weight_key(ws.l, ws.j, ws.k)}">'
        f"{_html_blocks(weight_panel(d, ws, lang))}</div>"
        for ws in d.weights
    )


def _svg(d: Derivation, prefix: str = "") -> str:
    """The network drawn, every id in it starting with ``prefix``."""
    n = _Names(d)
    L, gap_x, gap_y, r = n.L, 250, 130, 30
    height = max(d.sizes) * gap_y + 40
    width = (L - 1) * gap_x + 200
    pos = {}
    for l, size in enumerate(d.sizes, start=1):  # noqa: E741
        top = (height - (size - 1) * gap_y) / 2 - 20
        for j in range(size):
            pos[(l, j)] = (100 + (l - 1) * gap_x, top + j * gap_y)
    edges, nodes = [], []
    for ws in d.weights:
        key = n.weight_key(ws.l, ws.j, ws.k)
        (x1, y1), (x2, y2) = pos[(ws.l - 1, ws.k)], pos[(ws.l, ws.j)]
        # Labels of edges from different sources sit at different distances, so fewer collide.
        t = 0.25 + 0.45 * ws.k / max(1, d.sizes[ws.l - 2] - 1)
        tx, ty = x1 + t * (x2 - x1), y1 + t * (y2 - y1) - 4
        path = [prefix + p for p in _path(d, n, ws)]
        label = f"{n.weight(ws.l, ws.j, ws.k).text} = {number(ws.value)}"
        edges.append(
            f'<g class="edge" id="{prefix}edge-{key}" tabindex="0" data-weight="{key}" '
            f'data-path="{" ".join(path)}" data-value="{ws.value!r}" '
            f'data-gradient="{ws.gradient!r}" '
            f'data-updated="{ws.updated!r}">'
            f'<line class="vis" x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}"/>'
            f'<line class="hit" x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}"/>'
            f'<text id="{prefix}label-{key}" x="{tx:.0f}" y="{ty:.0f}" text-anchor="middle">'
            f"{_html.escape(label)}</text></g>"
        )
    for layer in d.layers:
        for nr in layer:
            x, y = pos[(nr.l, nr.j)]
            name = n.neuron(nr.l, nr.j)
            kind = "input" if nr.l == 1 else "output" if nr.l == L else "hidden"
            lines = [f"{n.out(nr.l, nr.j).text} = {number(nr.out)}"]
            data = f'data-out="{nr.out!r}"'
            if nr.net is not None:
                lines = [
                    f"{n.net(nr.l, nr.j).text} = {number(nr.net)}",
                    lines[0],
                    f"{n.delta(nr.l, nr.j).text} = {number(nr.delta)}",
                ]
                data += f' data-net="{nr.net!r}" data-delta="{nr.delta!r}"'
            texts = "".join(
                f'<text x="{x:.0f}" y="{y + r + 16 + 14 * i:.0f}" text-anchor="middle">'
                f"{_html.escape(t)}</text>"
                for i, t in enumerate(lines)
            )
            nodes.append(
                f'<g class="node {kind}" id="{prefix}node-{name}" {data}>'
                f'<circle cx="{x:.0f}" cy="{y:.0f}" r="{r}"/>'
                f'<text x="{x:.0f}" y="{y + 4:.0f}" text-anchor="middle" font-size="14">'
                f"{_html.escape(name)}</text>{texts}</g>"
            )
    return (
        f'<svg width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">{"".join(edges)}{"".join(nodes)}</svg>'
    )


def _path(d: Derivation, n: _Names, ws: WeightStep) -> list[str]:
    """The ids a weight's chain rule runs through: its edge, its two neurons, and downstream."""
    path = [f"edge-{n.weight_key(ws.l, ws.j, ws.k)}"]
    path += [f"node-{n.neuron(ws.l - 1, ws.k)}", f"node-{n.neuron(ws.l, ws.j)}"]
    return path + _downstream(d, n, ws.l, ws.j)


def _downstream(d: Derivation, n: _Names, l: int, j: int) -> list[str]:  # noqa: E741
    """Every edge and neuron through which δ flows back to neuron j of layer l (BP2)."""
    ids, frontier = [], {j}
    for nl in range(l + 1, n.L + 1):
        for ws in d.weights:
            if ws.l == nl and ws.k in frontier:
                ids.append(f"edge-{n.weight_key(ws.l, ws.j, ws.k)}")
        frontier = set(range(d.sizes[nl - 1]))
        ids += [f"node-{n.neuron(nl, q)}" for q in frontier]
    return ids
