"""The pages bprop writes, as real files: the CSS, JavaScript and HTML templates of explain's
page, the training report and the lab, shipped as package data and inlined into each page, so
every page stays one offline file.

This package only reads and fills templates.  It knows nothing of networks or derivations: the
renderers compute the values (already escaped for where they go) and hand them in.  A template
marks a value's place as ``{{ name }}``; :func:`fill` refuses a template whose places and values
do not match one for one, so a renamed placeholder cannot silently leave a hole in a page.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_PLACE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


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
