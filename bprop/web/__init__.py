"""The pages bprop writes, as real files: the CSS, JavaScript and HTML templates of explain's
page, the training report and the lab, shipped as package data and inlined into each page, so
every page stays one offline file.

This package only reads and fills templates.  It knows nothing of networks or derivations: the
renderers compute the values (already escaped for where they go) and hand them in.  A template
marks a value's place as ``{{ name }}``; :func:`fill` refuses a template whose places and values
do not match one for one, so a renamed placeholder cannot silently leave a hole in a page.

A page's CSS can also go into a notebook, where it must not touch the notebook's own elements:
:func:`scoped_css` confines every rule of a style sheet to one root element.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_PLACE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_ID = re.compile(r"#([A-Za-z_][\w-]*)")
_TYPE = re.compile(r"^([a-z][a-z0-9]*)(?![\w-])")


@cache
def asset(name: str) -> str:
    """The text of the file ``bprop/web/NAME`` (e.g. ``"explain.css"``)."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def fill(template: str, **values: str) -> str:
    """The file ``bprop/web/TEMPLATE``, each ``{{ name }}`` in it replaced by ``values[name]``.

    Raises ``KeyError`` naming the places without a value, or the values without a place.
    """
    text = asset(template)
    places = set(_PLACE.findall(text))
    if places != set(values):
        missing, unused = sorted(places - set(values)), sorted(set(values) - places)
        raise KeyError(f"{template}: no value for {missing}, no place for {unused}")
    return _PLACE.sub(lambda m: values[m.group(1)], text)


def css_rules(css: str) -> list[tuple[list[str], str]]:
    """The rules of a plain style sheet: ``(selectors, declarations)`` for each, in order.

    Only plain rules are read (``a, b{...}``); an at-rule (``@media``, ``@import``…) or a rule
    without its braces raises ``ValueError``, so nothing in a sheet can pass unscoped.
    """
    rules = []
    *chunks, tail = _COMMENT.sub("", css).split("}")
    if tail.strip():
        raise ValueError(f"a CSS rule is not closed: {tail.strip()[:60]!r}")
    for chunk in chunks:
        if not chunk.strip():
            continue
        head, sep, body = chunk.partition("{")
        if not sep or "{" in body or "@" in head or not head.strip():
            raise ValueError(f"not a plain CSS rule: {chunk.strip()[:60]!r}")
        rules.append((_selectors(head), body.strip()))
    return rules


def _selectors(head: str) -> list[str]:
    """A rule's selectors: ``head`` split at the commas outside parentheses (``:is(a, b)``)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(head):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            out.append(head[start:i].strip())
            start = i + 1
    return [*out, head[start:].strip()]


def scoped_css(css: str, root: str, elements: dict[str, str] | None = None) -> str:
    """``css`` with every rule confined to the element whose id is ``root``.

    Each selector is prefixed with ``#root``; ``body`` and ``html`` (the page) become ``#root``
    itself; an id ``#x`` becomes ``#root-x`` (a fragment's ids carry its root's prefix, since a
    notebook may show the same fragment twice); and the element names in ``elements`` become
    what it maps them to (``{"main": ".bprop-main"}``: a notebook has its own ``<main>``).
    ``:root`` rules are refused, as are at-rules (see :func:`css_rules`).
    """
    renames = elements or {}

    def one(selector: str) -> str:
        if ":root" in selector:
            raise ValueError(f"a scoped sheet cannot hold a :root rule: {selector!r}")
        parts = selector.split()
        out = []
        for part in parts:
            m = _TYPE.match(part)
            if m and m.group(1) in renames:
                part = renames[m.group(1)] + part[m.end() :]
            out.append(_ID.sub(lambda m: f"#{root}-{m.group(1)}", part))
        first = _TYPE.match(out[0])
        if first and first.group(1) in ("body", "html"):
            out[0] = f"#{root}" + out[0][first.end() :]
            return " ".join(out)
        return " ".join([f"#{root}", *out])

    return "\n".join(
        ",".join(one(s) for s in selectors) + "{" + body + "}" for selectors, body in css_rules(css)
    )
