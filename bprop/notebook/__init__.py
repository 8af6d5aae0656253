"""bprop in Jupyter: how its objects display, training progress, a live plot, and the lab inline.

Every object a learner meets displays itself in JupyterLab, the classic Notebook and VS Code
(``_repr_html_``, which hands the object to :func:`html`): a :class:`~bprop.network.Network` as
a diagram, a :class:`~bprop.train.History` as a table and charts, a
:class:`~bprop.explain.Derivation` as explain's page, a run folder (:mod:`bprop.runs`) as its
summary and figures, a :class:`~bprop.datasets.DataSets` as its sizes and sample images.  Each
display is an HTML fragment whose styles are all confined to its own root element and that
runs no script, so nothing in it can change how the notebook itself looks.

Also here: :func:`explain` (a derivation's display in Chinese, or in matrix form),
:class:`Progress` (a tqdm.auto bar: a widget in a notebook, text in a terminal),
:class:`LivePlot` (cost and accuracy redrawn after every epoch) and :func:`lab` (``bprop lab``'s
page in a sandboxed frame, with a network trained in Python loaded into it).

The modules: :mod:`.draw` (SVG and PNG pictures), :mod:`.displays` (the fragments),
:mod:`.live` (the training callbacks) and :mod:`.lab` (the lab's frame).  Nothing here trains a
network by itself or prints; IPython is imported only by :class:`LivePlot`.
"""

from __future__ import annotations

from typing import Any

from bprop.notebook import displays
from bprop.notebook.lab import lab
from bprop.notebook.live import LivePlot, Progress

__all__ = ["Display", "LivePlot", "Progress", "explain", "html", "lab", "svg"]


class Display:
    """A piece of HTML that Jupyter shows (``_repr_html_``), with a short plain ``repr``."""

    def __init__(self, html: str, text: str) -> None:
        self.html, self.text = html, text

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text


def html(obj: Any) -> str:
    """The notebook display of a bprop object: a self-contained HTML fragment.

    Takes a Network, History, Derivation, DataSets, Run or RunFolder (what their
    ``_repr_html_`` methods hand over).

    Raises
    ------
    TypeError
        For any other object.
    """
    from bprop.datasets import DataSets
    from bprop.explain.derivation import Derivation
    from bprop.network import Network
    from bprop.runs import Run, RunFolder
    from bprop.train import History

    if isinstance(obj, Network):
        return displays.network_html(obj)
    if isinstance(obj, History):
        return displays.history_html(obj)
    if isinstance(obj, Derivation):
        return displays.derivation_html(obj)
    if isinstance(obj, DataSets):
        return displays.datasets_html(obj)
    if isinstance(obj, Run):
        return displays.run_html(obj, RunFolder(obj.path).read_figures())
    if isinstance(obj, RunFolder):
        return displays.run_folder_html(obj)
    raise TypeError(f"bprop.notebook.html does not display {type(obj).__name__} objects")


def svg(obj: Any) -> str:
    """A Network's diagram as one SVG image (its ``_repr_svg_``)."""
    from bprop.network import Network

    if not isinstance(obj, Network):
        raise TypeError(f"bprop.notebook.svg draws a Network, not {type(obj).__name__}")
    return displays.network_svg(obj)


def explain(d: Any, *, lang: str = "en", matrix: bool = False, errata: Any = None) -> Display:
    """A derivation's display in ``lang`` (``"en"`` or ``"zh"``), step by step or in matrix
    form, with the article's errata table when ``errata`` (:func:`bprop.explain.errata`) is
    given.  ``d`` itself displays in English, step by step."""
    from bprop import explain as _explain

    if lang not in _explain.LANGS:
        raise ValueError(f"unknown language {lang!r}; choose one of: {', '.join(_explain.LANGS)}")
    return Display(displays.derivation_html(d, lang, matrix, errata), repr(d))
