"""One self-contained HTML page summarising training runs: what happened and why.

:func:`write_report` draws each run's figures (:mod:`bprop.plots`) and writes a single HTML
file with them embedded as ``data:`` URIs and its style inline, so it opens anywhere, offline,
and can be mailed as one file.  It shows each run's configuration, accuracies, the warnings
its diagnostics raise (:func:`bprop.diagnostics.warnings_for`) and the figures, with a short
guide linking the seeds' insight — saturated neurons and small σ' slow learning (BP1, BP2) —
to the learning-speed and saturation plots.  Given several runs (say the book's network with
the quadratic and then the cross-entropy cost) it first puts them side by side.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bprop import web
from bprop.diagnostics import describe_position, warnings_for
from bprop.plots import comparison_figure, png_bytes, write_figures
from bprop.runs import Run, RunFolder, load_run

FIGURE_CAPTIONS = {
    "cost.png": "Cost per epoch. The dotted line is the probe, measured before training and "
    "within the first epoch too.",
    "accuracy.png": "Accuracy per epoch on the training and test data, and on the probe.",
    "learning_speed.png": "Learning speed ‖∂C/∂bˡ‖ and ‖∂C/∂wˡ‖ of each layer (log scale).",
    "saturation.png": "Share of saturated neurons (σ′(z) below 1% of its maximum) per layer, "
    "of output neurons saturated on the wrong answer, and of dead ReLUs.",
    "weights.png": "What the first hidden neurons look for: their weights as 28×28 images.",
    "confusion.png": "Confusion matrix on the test set: rows are the true classes.",
    "misclassified.png": "Test images the network got wrong, with its answer and the truth.",
}

CONFIG_KEYS = (
    ("dataset", "data set"),
    ("sizes", "layer sizes"),
    ("activation", "activation"),
    ("output_activation", "output activation"),
    ("cost", "cost"),
    ("init", "initialisation"),
    ("eta", "learning rate η"),
    ("schedule", "η schedule"),
    ("lmbda", "L2 λ"),
    ("momentum", "momentum μ"),
    ("epochs", "epochs"),
    ("batch_size", "mini-batch size"),
    ("limit", "training examples (limit)"),
    ("n_train", "training examples"),
    ("dtype", "dtype"),
    ("seed", "seed"),
    ("eval_on", "evaluated on"),
)


def write_report(
    runs: str | Path | Sequence[str | Path],
    out: str | Path | None = None,
    *,
    data_dir: str | Path | None = None,
) -> Path:
    """Write the HTML report of one run folder, or of several side by side; return its path.

    Parameters
    ----------
    runs : path or sequence of paths
        Run folders written by ``bprop train``.
    out : path, optional
        The HTML file to write (default: ``RUN/report.html`` for one run, ``report.html`` in
        the current folder for several).
    data_dir : path, optional
        Where to look for the data set first (for the confusion matrix and images).

    Raises
    ------
    FileNotFoundError
        When a run folder or its ``history.json`` is missing.
    """
    paths = [Path(runs)] if isinstance(runs, (str, Path)) else [Path(r) for r in runs]
    if not paths:
        raise ValueError("give at least one run folder")
    loaded = [load_run(p) for p in paths]
    figures = [write_figures(p, data_dir=data_dir) for p in paths]
    page = render(loaded, [[f.read_bytes() for f in fs] for fs in figures], figures)
    if not out and len(paths) == 1:
        return RunFolder(paths[0]).write_report(page)
    from bprop.serialize import write_text

    target = Path(out) if out else Path("report.html")
    write_text(target, page)
    return target


def render(runs: list[Run], images: list[list[bytes]], names: list[list[Path]]) -> str:
    """The report's HTML for ``runs``, with each run's PNG ``images`` (named by ``names``).

    The page is ``bprop/web/report.html`` with ``report.css`` inlined, so it is one file.
    """
    title = "bprop report — " + ", ".join(r.name for r in runs)
    summary = [
        f"<p>{len(runs)} run{'s' if len(runs) > 1 else ''}: "
        + ", ".join(f"<a href='#run-{i}'>{_e(r.name)}</a>" for i, r in enumerate(runs))
        + "</p>"
    ]
    if len(runs) > 1:
        summary.append(_comparison(runs))
    sections = [
        _run_section(i, run, pngs, paths)
        for i, (run, pngs, paths) in enumerate(zip(runs, images, names))
    ]
    return web.fill(
        "report.html",
        title=_e(title),
        style=web.asset("report.css"),
        summary="\n".join(summary),
        compare=_compare_guide(runs),
        runs="\n".join(sections),
    )


def _compare_guide(runs: list[Run]) -> str:
    """The guide's last sentence: what to compare among these runs, naming only runs that are
    in the report (a one-run report points at how to make the comparison)."""
    damped = [r for r in runs if (r.diagnostics or {}).get("output_delta_has_sigma_prime")]
    cancelled = [
        r for r in runs if (r.diagnostics or {}).get("output_delta_has_sigma_prime") is False
    ]
    if damped and cancelled:
        names = [", ".join(_e(r.name) for r in group) for group in (damped, cancelled)]
        return (
            "In the table above, compare ‖δᴸ‖ and ‖∂C/∂bᴸ‖ before training and the probe "
            f"accuracy in the first epoch of {names[0]} (σ′(zᴸ) in δᴸ) and of {names[1]} "
            "(δᴸ = a − y)."
        )
    if len(runs) == 1 and (damped or cancelled):
        has = "has" if damped else "does not have"
        return (
            f"This run's δᴸ {has} the σ′(zᴸ) factor ({_e(runs[0].config.get('cost', '?'))} "
            "cost). To see the difference, train the same network with the quadratic and the "
            "cross-entropy cost and put both runs in one report: "
            "<code>bprop report RUN_A RUN_B</code>."
        )
    return (
        "To see the difference, train the same network with the quadratic and the "
        "cross-entropy cost and put both runs in one report: <code>bprop report RUN_A RUN_B</code>."
    )


def _e(value: Any) -> str:
    return html.escape(str(value))


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{_e(alt)}">'


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2%}"


def _best(run: Run) -> dict[str, Any] | None:
    rows = [r for r in run.history.get("epochs", []) if r.get("test_accuracy") is not None]
    return max(rows, key=lambda r: r["test_accuracy"]) if rows else None


def _final(run: Run) -> dict[str, Any] | None:
    rows = run.history.get("epochs", [])
    return rows[-1] if rows else None


def _warnings(run: Run) -> list[Any]:
    return warnings_for(run.diagnostics or {"records": []}, run.history)


def _at(run: Run, position: float) -> dict[str, Any] | None:
    for rec in (run.diagnostics or {}).get("records", []):
        if abs(rec["position"] - position) < 1e-3:
            return rec
    return None


#: BP1's form by the diagnostics' ``output_delta_has_sigma_prime`` (missing: "—").
_DELTA_FORMS: dict[Any, str] = {True: "yes: δᴸ = (a − y) ⊙ σ′(zᴸ)", False: "no: δᴸ = a − y"}


def _comparison(runs: list[Run]) -> str:
    header = "".join(f"<th>{_e(r.name)}</th>" for r in runs)
    rows = [
        ("cost", [_e(r.config.get("cost", "?")) for r in runs]),
        ("learning rate η", [_e(r.config.get("eta", "?")) for r in runs]),
        (
            "σ′(zᴸ) in δᴸ (BP1)?",
            [
                _DELTA_FORMS.get((r.diagnostics or {}).get("output_delta_has_sigma_prime"), "—")
                for r in runs
            ],
        ),
    ]
    first = [_at(r, 0.0) for r in runs]
    rows.append(("mean ‖δᴸ‖ before training", [_num(f, "delta", -1) for f in first]))
    rows.append(("‖∂C/∂bᴸ‖ before training", [_num(f, "speed_b", -1) for f in first]))
    rows.append(
        (
            "first step of the output biases, η‖∂C/∂bᴸ‖",
            [_num(f, "speed_b", -1, r.config.get("eta")) for f, r in zip(first, runs)],
        )
    )
    rows.append(("‖∂C/∂b‖ of layer 2 before training", [_num(f, "speed_b", 0) for f in first]))
    rows.append(
        (
            "output answers saturated and wrong, before training",
            [_pct(f["layers"][-1].get("saturated_wrong")) if f else "—" for f in first],
        )
    )
    positions = sorted(
        {rec["position"] for r in runs for rec in (r.diagnostics or {}).get("records", [])}
    )
    for p in [p for p in positions if 0 < p <= 1]:
        recs = [_at(r, p) for r in runs]
        rows.append(
            (
                f"probe accuracy {describe_position(p)}",
                [_pct(rec.get("accuracy")) if rec else "—" for rec in recs],
            )
        )
    rows.append(
        ("final test accuracy", [_pct((_final(r) or {}).get("test_accuracy")) for r in runs])
    )
    body = "".join(
        f"<tr><th>{_e(name)}</th>" + "".join(f"<td class='num'>{v}</td>" for v in values) + "</tr>"
        for name, values in rows
    )
    figure = _img(png_bytes(comparison_figure(runs)), "the runs compared at the start of training")
    return (
        "<h2>The runs side by side</h2>"
        f"<table><tr><th></th>{header}</tr>{body}</table>"
        f"<figure>{figure}<figcaption>Accuracy on the probe and the learning speed of the output "
        "and first layers, from before training through the first epoch and on.</figcaption>"
        "</figure>"
    )


def _num(rec: dict[str, Any] | None, key: str, layer: int, scale: Any = 1.0) -> str:
    if rec is None or not rec.get("layers") or not isinstance(scale, (int, float)):
        return "—"
    return f"{scale * rec['layers'][layer][key]:.3g}"


def _run_section(i: int, run: Run, pngs: list[bytes], paths: list[Path]) -> str:
    final, best = _final(run), _best(run)
    result = ["<table>"]
    result.append(f"<tr><th>status</th><td>{_e(run.history.get('status', '?'))}</td></tr>")
    if final:
        result.append(
            f"<tr><th>final test accuracy (epoch {final['epoch']})</th>"
            f"<td class='num'>{_pct(final.get('test_accuracy'))}</td></tr>"
            f"<tr><th>final training accuracy</th>"
            f"<td class='num'>{_pct(final.get('train_accuracy'))}</td></tr>"
        )
    if best:
        result.append(
            f"<tr><th>best test accuracy (epoch {best['epoch']})</th>"
            f"<td class='num'>{_pct(best['test_accuracy'])}</td></tr>"
        )
    seconds = sum(r.get("seconds") or 0 for r in run.history.get("epochs", []))
    result.append(f"<tr><th>training time</th><td class='num'>{seconds:.1f} s</td></tr></table>")
    warnings = _warnings(run)
    if warnings:
        notes = "".join(
            f"<div class='warning'><b>{_e(w.code)}</b>: {_e(w.message)}</div>" for w in warnings
        )
    elif run.diagnostics:
        notes = "<p class='ok'>No warnings: no saturation, vanishing gradient or divergence.</p>"
    else:
        notes = "<p>No diagnostics were recorded for this run (no diagnostics.json).</p>"
    config = "".join(
        f"<tr><th>{_e(label)}</th><td>{_e(_show(run.config[key]))}</td></tr>"
        for key, label in CONFIG_KEYS
        if run.config.get(key) is not None
    )
    figures = "".join(
        f"<figure>{_img(png, path.stem.replace('_', ' '))}"
        f"<figcaption>{_e(FIGURE_CAPTIONS.get(path.name, path.name))}</figcaption></figure>"
        for png, path in zip(pngs, paths)
    )
    return (
        f"<h2 id='run-{i}'>Run {_e(run.name)}</h2>"
        f"<h3>Result</h3>{''.join(result)}"
        f"<h3>Warnings</h3>{notes}"
        f"<h3>Configuration</h3><table>{config}</table>"
        f"<h3>Figures</h3>{figures}"
    )


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "-".join(str(v) for v in value)
    return str(value)
