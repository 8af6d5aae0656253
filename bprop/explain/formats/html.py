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
from bprop.explain.figure import layout
from bprop.explain.i18n import _t
from bprop.explain.mathlayout import EQ, M, _parts, join, number
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
            out.append(f"<h{b[1] + 1}>{_inline(_parts(b[2]))}</h{b[1] + 1}>")
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
    title = "bprop"
    if blocks and blocks[0][0] == "h":
        title = _html.escape(
            "".join(p.text if isinstance(p, M) else p for p in _parts(blocks[0][2]))
        )
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
    """The network drawn, every id in it starting with ``prefix``; where each neuron, number
    and label sits is :func:`bprop.explain.figure.layout`'s."""
    n = _Names(d)
    neuron_text: dict[tuple[int, int], list[str]] = {}
    for layer in d.layers:
        for nr in layer:
            out = f"{n.out(nr.l, nr.j).text} = {number(nr.out)}"
            if nr.net is None:
                neuron_text[(nr.l, nr.j)] = [out]
            else:
                neuron_text[(nr.l, nr.j)] = [
                    f"{n.net(nr.l, nr.j).text} = {number(nr.net)}",
                    out,
                    f"{n.delta(nr.l, nr.j).text} = "
                    + (number(nr.delta) if nr.delta is not None else "—"),
                ]
    labels = {
        (ws.l, ws.j, ws.k): f"{n.weight(ws.l, ws.j, ws.k).text} = {number(ws.value)}"
        for ws in d.weights
    }
    at = layout(d.sizes, neuron_text, labels)
    edges, nodes = [], []
    for ws in d.weights:
        key = n.weight_key(ws.l, ws.j, ws.k)
        (x1, y1), (x2, y2) = at.neurons[(ws.l - 1, ws.k)], at.neurons[(ws.l, ws.j)]
        tx, ty = at.labels[(ws.l, ws.j, ws.k)]
        path = [prefix + p for p in _path(d, n, ws)]
        line = f'x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"'
        edges.append(
            f'<g class="edge" id="{prefix}edge-{key}" tabindex="0" data-weight="{key}" '
            f'data-path="{" ".join(path)}" data-value="{ws.value!r}" '
            f'data-gradient="{ws.gradient!r}" '
            f'data-updated="{ws.updated!r}">'
            f'<line class="vis" {line}/><line class="hit" {line}/>'
            f'<text id="{prefix}label-{key}" x="{tx:.1f}" y="{ty:.1f}" {_CENTRED}>'
            f"{_html.escape(labels[(ws.l, ws.j, ws.k)])}</text></g>"
        )
    for layer in d.layers:
        for nr in layer:
            x, y = at.neurons[(nr.l, nr.j)]
            name = n.neuron(nr.l, nr.j)
            kind = "input" if nr.l == 1 else "output" if nr.l == n.L else "hidden"
            data = f'data-out="{nr.out!r}"'
            if nr.net is not None:
                data += f' data-net="{nr.net!r}" data-delta="{nr.delta!r}"'
            texts = "".join(
                f'<text class="num" x="{cx:.1f}" y="{cy:.1f}" {_CENTRED}>{_html.escape(t)}</text>'
                for (cx, cy), t in zip(at.neuron_lines[(nr.l, nr.j)], neuron_text[(nr.l, nr.j)])
            )
            nodes.append(
                f'<g class="node {kind}" id="{prefix}node-{name}" {data}>'
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{at.radius}"/>'
                f'<text class="name" x="{x:.1f}" y="{y:.1f}" {_CENTRED}>'
                f"{_html.escape(name)}</text>{texts}</g>"
            )
    vx, vy, vw, vh = at.view
    return (
        # Never shrunk below 4/5 of its size (the figure scrolls instead): its text stays legible.
        f'<svg width="{vw:.0f}" height="{vh:.0f}" viewBox="{vx:.1f} {vy:.1f} {vw:.1f} {vh:.1f}" '
        f'style="min-width:{0.8 * vw:.0f}px" role="img">{"".join(edges)}{"".join(nodes)}</svg>'
    )


#: Text centred on its point, so that its box is the one the layout reserved.
_CENTRED = 'text-anchor="middle" dominant-baseline="central"'


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
