"""How each bprop object looks in a notebook: one HTML fragment per object, styles confined.

:func:`wrap` puts a display's HTML in ``<div id="bprop-…">`` with ``bprop/web/notebook.css``
confined to that element (:func:`bprop.web.scoped_css`) and a plain-text fallback for front
ends that strip styles.  The ``*_html`` functions draw a :class:`~bprop.network.Network`, a
:class:`~bprop.train.History` (or a run's history dict), a
:class:`~bprop.datasets.DataSets`, a run folder and a :class:`~bprop.explain.Derivation`.

Displays never run a script and never touch the notebook's elements; they show what the object
holds and compute nothing of the math (the derivation's numbers are explain's).  Text from a
user's files (class names, paths, config values) is escaped here.
"""

from __future__ import annotations

import base64
import html
import math
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from bprop import web
from bprop.notebook import draw

if TYPE_CHECKING:
    from bprop.datasets import DataSets
    from bprop.explain import Derivation
    from bprop.network import Network
    from bprop.runs import Run, RunFolder
    from bprop.train import History

#: Epochs a history's table shows at most: the first few, a gap, then the last ones.
TABLE_HEAD, TABLE_TAIL = 3, 5
#: Sample images a data set's display shows: one per class, round and round, at least
#: SAMPLES_MIN and at most SAMPLES_MAX.
SAMPLES_MIN, SAMPLES_MAX = 8, 16


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def new_root() -> str:
    """A fresh id for a display's root element, unique even across kernel restarts."""
    return f"bprop-{secrets.token_hex(5)}"


def wrap(root: str, content: str, text: str) -> str:
    """``content`` in the root element ``root``, with the displays' scoped CSS and ``text``
    as the fallback shown where styles are stripped."""
    css = web.scoped_css(web.asset("notebook.css"), root)
    return (
        f'<div id="{root}" class="bprop-display"><style>{css}</style>'
        f'<pre class="bprop-text">{_e(text)}</pre>{content}</div>'
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[str] | None], keys: int = 1) -> str:
    """A table; the first ``keys`` columns are names (left-aligned), the rest numbers; a row
    that is None is a gap (…)."""

    def cells(tag: str, row: Sequence[str]) -> str:
        return "".join(
            f"<{tag}{' class=key' if i < keys else ''}>{c}</{tag}>" for i, c in enumerate(row)
        )

    body = "".join(
        '<tr class="gap"><td colspan="99">…</td></tr>'
        if row is None
        else f"<tr>{cells('td', row)}</tr>"
        for row in rows
    )
    return f'<table class="bprop-table"><tr>{cells("th", header)}</tr>{body}</table>'


def _num(v: Any, fmt: str = ".4g") -> str:
    return "—" if v is None else _e(format(v, fmt))


def _pct(v: Any) -> str:
    return "—" if v is None else f"{100 * float(v):.2f}%"


# -- the network --------------------------------------------------------------------------------


def parameter_count(net: Network) -> int:
    return sum(int(w.size) + int(b.size) for w, b in zip(net.weights, net.biases))


def network_svg(net: Network) -> str:
    """The network's diagram (see :func:`bprop.notebook.draw.network_svg`)."""
    footer = (
        f"cost {net.cost.name} · init {net.init} · {np.dtype(net.dtype).name} · "
        f"{parameter_count(net):,} parameters"
    )
    return draw.network_svg(net.sizes, [a.name for a in net.activations], net.weights, footer)


def network_html(net: Network) -> str:
    root = new_root()
    return wrap(root, network_svg(net), repr(net))


# -- a history ----------------------------------------------------------------------------------


def _epoch_rows(rows: Sequence[dict[str, Any]]) -> list[list[str] | None]:
    """The table's rows: every epoch, or the first and last few with a gap between."""
    shown: list[dict[str, Any] | None] = list(rows)
    if len(rows) > TABLE_HEAD + TABLE_TAIL + 1:
        shown = [*rows[:TABLE_HEAD], None, *rows[-TABLE_TAIL:]]
    out: list[list[str] | None] = []
    for r in shown:
        if r is None:
            out.append(None)
            continue
        correct = r.get("test_correct")
        test = "—" if correct is None else f"{correct:,} / {r.get('test_total'):,}"
        out.append(
            [
                _e(r.get("epoch")),
                _num(r.get("eta"), "g"),
                _num(r.get("train_cost")),
                _pct(r.get("train_accuracy")),
                _num(r.get("test_cost")),
                test,
                _pct(r.get("test_accuracy")),
                _num(r.get("seconds"), ".2f"),
            ]
        )
    return out


def history_charts(rows: Sequence[dict[str, Any]]) -> str:
    """Cost and accuracy per epoch, training and test, as two small SVG charts."""
    col = lambda key: [r.get(key) for r in rows]  # noqa: E731
    cost = draw.line_chart(
        "cost C",
        [
            ("training", col("train_cost"), draw.POSITIVE, False),
            ("test", col("test_cost"), draw.NEGATIVE, True),
        ],
    )
    accuracy = draw.line_chart(
        "accuracy",
        [
            ("training", col("train_accuracy"), draw.POSITIVE, False),
            ("test", col("test_accuracy"), draw.NEGATIVE, True),
        ],
        percent=True,
    )
    return f'<div class="bprop-row">{cost}{accuracy}</div>'


def history_content(rows: Sequence[dict[str, Any]], status: str) -> str:
    if not rows:
        return f'<p class="bprop-note">No epochs yet ({_e(status)}).</p>'
    table = _table(
        ["epoch", "η", "train cost", "train acc.", "test cost", "test correct", "test acc.", "s"],
        _epoch_rows(rows),
    )
    note = f'<p class="bprop-note">{len(rows)} epochs, {_e(status)}.</p>'
    return f'<div class="bprop-row"><div>{note}{table}</div>{history_charts(rows)}</div>'


def history_html(history: History) -> str:
    root = new_root()
    rows = history.to_dict()["epochs"]
    return wrap(root, history_content(rows, history.status), repr(history))


# -- data sets ----------------------------------------------------------------------------------


def _side(n_features: int) -> int | None:
    """The side of the square images a row holds (28 for MNIST), or None."""
    side = math.isqrt(n_features)
    return side if side * side == n_features and side >= 8 else None


def samples_html(X: np.ndarray, y: np.ndarray, names: Sequence[str], side: int) -> str:
    """Examples as small images with their labels: the first of each class, then the second of
    each, … (between :data:`SAMPLES_MIN` and :data:`SAMPLES_MAX` of them)."""
    by_class = [np.flatnonzero(y == c)[:SAMPLES_MAX] for c in np.unique(y)]
    want = min(max(len(by_class), SAMPLES_MIN), SAMPLES_MAX)
    order = [int(ix[r]) for r in range(SAMPLES_MAX) for ix in by_class if r < len(ix)][:want]
    figures = []
    for i in order:
        img = np.asarray(X[i], dtype=np.float64).reshape(side, side)
        lo, hi = float(img.min()), float(img.max())
        img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
        uri = "data:image/png;base64," + base64.b64encode(draw.png(img)).decode("ascii")
        label = names[int(y[i])] if int(y[i]) < len(names) else str(int(y[i]))
        figures.append(
            f'<figure class="bprop-sample"><img src="{uri}" alt="{_e(label)}">'
            f"<figcaption>{_e(label)}</figcaption></figure>"
        )
    return f'<div class="bprop-row">{"".join(figures)}</div>'


def datasets_content(data: DataSets) -> str:
    parts = [("training", data.train), ("validation", data.validation), ("test", data.test)]
    rows = [[_e(name), f"{len(p):,}"] for name, p in parts if p is not None]
    table = _table(["part", "examples"], rows)
    names = ", ".join(data.class_names[:10]) + (" …" if data.n_classes > 10 else "")
    about = (
        f'<p class="bprop-title">{_e(data.name)}</p>'
        f'<p class="bprop-note">{data.n_features:,} features, {data.n_classes} classes: '
        f"{_e(names)}</p>"
    )
    X, y = data.train.X, data.train.y
    side = _side(data.n_features)
    if side is not None and len(y):
        picture = samples_html(X, y, data.class_names, side)
    elif data.n_features == 2 and len(y):
        picture = draw.scatter_svg(np.asarray(X[:1000]), y[:1000], data.class_names)
    else:
        head = [[_e(i), *(_num(float(v)) for v in X[i, :8])] for i in range(min(5, len(y)))]
        columns = ["row", *(f"x{k + 1}" for k in range(min(8, data.n_features)))]
        picture = _table(columns, head)
    return f'<div class="bprop-row"><div>{about}{table}</div><div>{picture}</div></div>'


def datasets_html(data: DataSets) -> str:
    root = new_root()
    return wrap(root, datasets_content(data), repr(data))


# -- a run folder -------------------------------------------------------------------------------

_CONFIG_SHOWN = (
    ("dataset", "data set"),
    ("sizes", "sizes"),
    ("activation", "activation"),
    ("output_activation", "output activation"),
    ("cost", "cost"),
    ("init", "initialisation"),
    ("eta", "η"),
    ("schedule", "schedule"),
    ("lmbda", "λ"),
    ("momentum", "μ"),
    ("batch_size", "mini-batch"),
    ("mini_batch_size", "mini-batch"),
    ("epochs", "epochs planned"),
    ("seed", "seed"),
    ("engine", "engine"),
)


def run_content(run: Run, figures: Sequence[tuple[str, bytes]] = ()) -> str:
    """A run's summary, its history and the figures ``bprop plot`` drew for it."""
    config = run.config
    seen, rows = set(), []
    for key, label in _CONFIG_SHOWN:
        value = config.get(key)
        if value is None or label in seen:
            continue
        seen.add(label)
        shown = "-".join(str(v) for v in value) if key == "sizes" else value
        rows.append([_e(label), _e(shown)])
    epochs = run.history.get("epochs", [])
    status = str(run.history.get("status", "?"))
    summary = (
        f'<p class="bprop-title">run {_e(run.name)}</p>'
        f'<p class="bprop-note">{_e(status)}, {len(epochs)} epochs</p>'
        + _table(["setting", "value"], rows, keys=2)
    )
    tested = [r for r in epochs if r.get("test_accuracy") is not None]
    if tested:
        best = max(tested, key=lambda r: r["test_accuracy"])
        summary += (
            f'<p class="bprop-note">test accuracy {_pct(tested[-1]["test_accuracy"])} at the '
            f"end, best {_pct(best['test_accuracy'])} (epoch {_e(best['epoch'])})</p>"
        )
    warnings = "".join(
        f'<div class="bprop-warning">{_e(w.get("code"))}: {_e(w.get("message"))}</div>'
        for w in (run.diagnostics or {}).get("warnings", [])
    )
    pictures = "".join(
        '<figure class="bprop-figure"><img src="data:image/png;base64,'
        f'{base64.b64encode(png).decode("ascii")}" alt="{_e(name)}">'
        f"<figcaption>{_e(name)}</figcaption></figure>"
        for name, png in figures
    )
    return (
        f'<div class="bprop-row"><div>{summary}</div>'
        f"<div>{history_content(epochs, status)}</div></div>{warnings}"
        + (f'<div class="bprop-row">{pictures}</div>' if pictures else "")
    )


def run_html(run: Run, figures: Sequence[tuple[str, bytes]] = ()) -> str:
    root = new_root()
    return wrap(root, run_content(run, figures), repr(run))


def run_folder_html(folder: RunFolder) -> str:
    try:
        run = folder.load()
    except (OSError, ValueError) as e:
        root = new_root()
        return wrap(root, f'<p class="bprop-note">{_e(folder.path)}: {_e(e)}</p>', repr(folder))
    return run_html(run, folder.read_figures())


# -- a derivation -------------------------------------------------------------------------------


def derivation_html(
    d: Derivation, lang: str = "en", matrix: bool = False, errata: Any = None
) -> str:
    """explain's page as a fragment (:func:`bprop.explain.fragment`), in a display."""
    from bprop import explain

    root = new_root()
    try:
        content = explain.fragment(d, root=f"{root}-d", lang=lang, matrix=matrix, errata=errata)
    except ValueError as e:
        content = f'<p class="bprop-note">{_e(e)}</p>'
    return wrap(root, content, repr(d))
