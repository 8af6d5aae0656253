"""PNG figures of a training run, drawn with matplotlib (the optional ``plots`` extra).

A run folder written by ``bprop train`` (:mod:`bprop.runs`) holds ``config.json``,
``history.json``, ``model.npz`` and, when diagnostics were on, ``diagnostics.json``.
:func:`write_figures` draws from them, into ``RUN/figures/`` (written through
:class:`bprop.runs.RunFolder`):

``cost.png``, ``accuracy.png``
    Cost and accuracy per epoch, training and test, with the probe's measurements (which start
    before training and include points within the first epoch).
``learning_speed.png``
    ‖∂C/∂b^l‖ and ‖∂C/∂w^l‖ per layer (Nielsen ch.5's learning speed), log scale.
``saturation.png``
    The share of saturated neurons per layer (and of output neurons saturated on the wrong
    answer), and of dead ReLUs.
``weights.png``
    The first layer's weights of up to 100 hidden neurons as 28×28 images (784 inputs only).
``confusion.png``, ``misclassified.png``
    The confusion matrix on the test set, and test images the network got wrong.

matplotlib is imported only inside these functions, headless: figures are
``matplotlib.figure.Figure`` objects saved straight to PNG, never shown.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from bprop.runs import Run, RunFolder
from bprop.runs import load_run as load_run  # offered here as before bprop.runs existed

MAX_WEIGHT_TILES = 100
MISCLASSIFIED_SHOWN = 24
DPI = 100


# -- matplotlib, loaded on demand ---------------------------------------------------------------


def _new_figure(width: float, height: float) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            'plots need matplotlib, which is not installed: pip install "bprop[plots]"'
        ) from None
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def png_bytes(fig: Any) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    return buf.getvalue()


def _save(fig: Any, folder: RunFolder, name: str) -> Path:
    return folder.write_figure(name, png_bytes(fig))


# -- the figures -------------------------------------------------------------------------------


def write_figures(run_dir: str | Path, *, data_dir: str | Path | None = None) -> list[Path]:
    """Draw every figure the run folder allows into ``RUN/figures/``; return their paths.

    The figures of the model on data (weights, confusion matrix, misclassified images) load
    ``model.npz`` and the data set named in its metadata, searched for in ``data_dir`` first.
    """
    folder = RunFolder(run_dir)
    run = folder.load()
    written = [
        _save(cost_figure(run), folder, "cost.png"),
        _save(accuracy_figure(run), folder, "accuracy.png"),
    ]
    if run.diagnostics and run.diagnostics.get("records"):
        written.append(_save(learning_speed_figure(run.diagnostics), folder, "learning_speed.png"))
        written.append(_save(saturation_figure(run.diagnostics), folder, "saturation.png"))
    model = folder.read_model()
    if model is None:
        return written
    from bprop import datasets

    net, meta = model
    if net.sizes[0] == 784:
        written.append(_save(weights_figure(net.weights[0]), folder, "weights.png"))
    if not isinstance(meta.get("training"), dict):  # saved without its training record
        meta = meta | {"training": run.config}
    if not (meta.get("dataset", {}).get("name") or meta["training"].get("dataset")):
        return written
    data = datasets.load_recorded(meta, data_dir=data_dir, dtype=net.dtype)
    names = list(data.class_names) + [str(i) for i in range(data.n_classes, net.sizes[-1])]
    predicted = net.predict(data.test.X)
    written.append(_save(confusion_figure(data.test.y, predicted, names), folder, "confusion.png"))
    if data.n_features == 784:
        fig = misclassified_figure(data.test.X, data.test.y, predicted, names)
        written.append(_save(fig, folder, "misclassified.png"))
    return written


def _epochs(run: Run, key: str) -> tuple[list[float], list[float]]:
    """(x, y) of a history column: x is epochs trained (1 after epoch 0), missing values dropped."""
    rows = [r for r in run.history.get("epochs", []) if r.get(key) is not None]
    return [r["epoch"] + 1 for r in rows], [r[key] for r in rows]


def _probe(diagnostics: dict[str, Any] | None, key: str) -> tuple[list[float], list[float]]:
    rows = [r for r in (diagnostics or {}).get("records", []) if r.get(key) is not None]
    return [r["position"] for r in rows], [r[key] for r in rows]


def _probe_label(diagnostics: dict[str, Any] | None) -> str:
    return f"training probe ({(diagnostics or {}).get('probe_size', 0):,} examples)"


def _epoch_axis(ax: Any, positions: list[float]) -> None:
    # Linear up to 0.01 epoch, logarithmic beyond: the start of training and 30 epochs both show.
    if positions and max(positions) > 0 and min(positions) < 1:
        ax.set_xscale("symlog", linthresh=0.01, linscale=0.5)
        ticks = [t for t in (0, 0.01, 0.1, 1, 10, 100, 1000) if t <= 10 * max(positions)]
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.set_xlim(0, max(positions) * 1.15)
        ax.set_xlabel("epochs of training (log scale beyond 0.01)")
    else:
        ax.set_xlabel("epochs of training")
    ax.grid(True, alpha=0.3)


def cost_figure(run: Run) -> Any:
    """Cost per epoch: training (mean over the epoch's mini-batches), test and the probe."""
    fig = _new_figure(6.4, 4.2)
    ax = fig.add_subplot()
    x, y = _epochs(run, "train_cost")
    ax.plot(x, y, "o-", label="training (mean over the epoch)")
    x2, y2 = _epochs(run, "test_cost")
    ax.plot(x2, y2, "s-", label="test")
    px, py = _probe(run.diagnostics, "cost")
    if px:
        ax.plot(px, py, ".:", color="grey", label=_probe_label(run.diagnostics))
    _epoch_axis(ax, px + x)
    ax.set_ylabel(f"cost C ({run.config.get('cost', '?')})")
    ax.set_title(f"Cost — {run.name}")
    ax.legend()
    return fig


def accuracy_figure(run: Run) -> Any:
    """Accuracy per epoch: training, test and the probe, in percent."""
    fig = _new_figure(6.4, 4.2)
    ax = fig.add_subplot()
    for key, style, label in (
        ("train_accuracy", "o-", "training"),
        ("test_accuracy", "s-", "test"),
    ):
        x, y = _epochs(run, key)
        ax.plot(x, [100 * v for v in y], style, label=label)
    px, py = _probe(run.diagnostics, "accuracy")
    if px:
        ax.plot(px, [100 * v for v in py], ".:", color="grey", label=_probe_label(run.diagnostics))
    _epoch_axis(ax, px + _epochs(run, "test_accuracy")[0])
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"Accuracy — {run.name}")
    ax.legend(loc="lower right")
    return fig


def _layer_series(diagnostics: dict[str, Any], key: str) -> list[tuple[str, list, list]]:
    """Per layer: (label, positions, values) of one measurement, None values dropped."""
    records = diagnostics.get("records", [])
    series = []
    for i, layer in enumerate(records[0]["layers"] if records else []):
        points = [
            (r["position"], r["layers"][i][key])
            for r in records
            if r["layers"][i].get(key) is not None
        ]
        if points:
            label = f"layer {layer['layer']} ({layer['activation']})"
            series.append((label, [p for p, _ in points], [v for _, v in points]))
    return series


def learning_speed_figure(diagnostics: dict[str, Any]) -> Any:
    """‖∂C/∂b^l‖ and ‖∂C/∂w^l‖ per layer over training, log scale."""
    fig = _new_figure(11, 4.4)
    axes = fig.subplots(1, 2)
    for ax, key, symbol in zip(axes, ("speed_b", "speed_w"), ("b", "w")):
        positions: list[float] = []
        for label, x, y in _layer_series(diagnostics, key):
            # A gradient of exactly 0 has no place on a log scale; show it at the axis' floor.
            ax.plot(x, [max(v, 1e-12) for v in y], "o-", markersize=3, label=label)
            positions += x
        ax.set_yscale("log")
        _epoch_axis(ax, positions)
        ax.set_ylabel(f"‖∂C/∂{symbol}ˡ‖ on the probe")
        ax.set_title(f"Learning speed of the {'biases' if symbol == 'b' else 'weights'}")
        ax.legend()
    fig.suptitle(f"How fast each layer learns ({diagnostics.get('cost', '?')} cost)")
    return fig


def saturation_figure(diagnostics: dict[str, Any]) -> Any:
    """Share of saturated neurons (σ' < 1% of its maximum) and dead ReLUs per layer, in %."""
    fig = _new_figure(6.4, 4.2)
    ax = fig.add_subplot()
    positions: list[float] = []
    for key, style, what in (
        ("saturated", "o-", "saturated"),
        ("saturated_wrong", "x--", "saturated on the wrong answer"),
        ("dead", "s-", "dead ReLUs"),
    ):
        for label, x, y in _layer_series(diagnostics, key):
            ax.plot(x, [100 * v for v in y], style, markersize=4, label=f"{label}: {what}")
            positions += x
    if not positions:
        ax.text(0.5, 0.5, "no saturating or ReLU layers", ha="center", transform=ax.transAxes)
    _epoch_axis(ax, positions)
    ax.set_ylim(-2, 102)
    threshold = diagnostics.get("saturation_threshold", 0.01)
    ax.set_ylabel(f"% of neurons × probe examples (σ′ < {threshold:g}·max σ′)")
    ax.set_title("Saturated and dead neurons")
    if positions:
        ax.legend(fontsize="small")
    return fig


def _mosaic(images: np.ndarray, cols: int, gap: int, below: int = 0) -> np.ndarray:
    """Images ``(k, 28, 28)`` laid out in a grid, NaN (drawn blank) between them."""
    rows = max(1, math.ceil(len(images) / cols))
    step_x, step_y = 28 + gap, 28 + gap + below
    mosaic = np.full((rows * step_y + gap, cols * step_x + gap), np.nan)
    for j, image in enumerate(images):
        r, c = divmod(j, cols)
        mosaic[
            gap + r * step_y : gap + r * step_y + 28, gap + c * step_x : gap + c * step_x + 28
        ] = image
    return mosaic


def weights_figure(w: np.ndarray) -> Any:
    """The weights into the first hidden neurons, ``w`` ``(n_2, 784)``, as 28×28 tiles.

    Each tile has its own symmetric colour scale (red positive, blue negative), so the pattern
    each neuron responds to shows whatever its weights' size.
    """
    k = min(len(w), MAX_WEIGHT_TILES)
    cols = math.ceil(math.sqrt(k))
    limits = np.max(np.abs(w[:k]), axis=1, keepdims=True)
    tiles = (w[:k] / np.where(limits > 0, limits, 1.0)).reshape(k, 28, 28)
    fig = _new_figure(max(6.4, 0.75 * cols + 1.6), 0.75 * math.ceil(k / cols) + 1.0)
    ax = fig.add_subplot()
    image = ax.imshow(_mosaic(tiles, cols, gap=3), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_axis_off()
    fig.colorbar(image, ax=ax, shrink=0.6, label="w / max |w| of the neuron")
    ax.set_title(f"Weights into hidden neurons 0–{k - 1}, row by row (red +, blue −)")
    return fig


def confusion_figure(y: np.ndarray, predicted: np.ndarray, names: list[str]) -> Any:
    """Confusion matrix of test labels ``y`` ``(m,)`` against ``predicted`` ``(m,)``."""
    k = len(names)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (y, predicted), 1)
    fig = _new_figure(max(5.0, 0.55 * k + 1.5), max(4.6, 0.5 * k + 1.5))
    ax = fig.add_subplot()
    image = ax.imshow(confusion, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8, label="test examples")
    if k <= 20:
        high = confusion.max() / 2
        for i in range(k):
            for j in range(k):
                colour = "white" if confusion[i, j] > high else "black"
                ax.text(
                    j, i, str(confusion[i, j]), ha="center", va="center", fontsize=7, color=colour
                )
    ticks = np.arange(k)
    ax.set_xticks(ticks, names, rotation=45 if max(map(len, names)) > 2 else 0, ha="right")
    ax.set_yticks(ticks, names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    accuracy = np.trace(confusion) / max(len(y), 1)
    ax.set_title(f"Confusion matrix on the test set ({accuracy:.2%} correct)")
    return fig


def misclassified_figure(
    X: np.ndarray, y: np.ndarray, predicted: np.ndarray, names: list[str]
) -> Any:
    """The first test images ``X`` ``(m, 784)`` whose prediction was wrong, with both labels."""
    wrong = np.flatnonzero(predicted != y)[:MISCLASSIFIED_SHOWN]
    cols, gap, below = 6, 4, 12
    rows = max(1, math.ceil(len(wrong) / cols))
    fig = _new_figure(1.3 * cols, 1.5 * rows + 0.6)
    ax = fig.add_subplot()
    ax.imshow(
        _mosaic(X[wrong].reshape(-1, 28, 28), cols, gap, below), cmap="gray_r", vmin=0, vmax=1
    )
    for j, i in enumerate(wrong):
        r, c = divmod(j, cols)
        x, top = gap + c * (28 + gap) + 14, gap + r * (28 + gap + below) + 28
        label = f"said {names[predicted[i]]} (is {names[y[i]]})"
        ax.text(x, top + 1, label, ha="center", va="top", fontsize=7)
    if not len(wrong):
        ax.text(0.5, 0.5, "no test image misclassified", ha="center", transform=ax.transAxes)
    ax.set_axis_off()
    ax.set_title(f"Misclassified test images: {np.sum(predicted != y):,} of {len(y):,}")
    return fig


def comparison_figure(runs: list[Run]) -> Any:
    """Runs side by side at the start of training: probe accuracy and learning speeds."""
    fig = _new_figure(13, 4.4)
    axes = fig.subplots(1, 3)
    panels = (
        ("accuracy", None, "accuracy on the probe (%)", "Accuracy"),
        ("speed_b", -1, "‖∂C/∂bᴸ‖, output layer", "Learning speed of the output layer"),
        ("speed_b", 0, "‖∂C/∂b‖, first hidden layer", "Learning speed of the first layer"),
    )
    for ax, (key, layer, ylabel, title) in zip(axes, panels):
        positions: list[float] = []
        for run in runs:
            records = (run.diagnostics or {}).get("records", [])
            if layer is None:
                points = [(r["position"], 100 * r[key]) for r in records if r.get(key) is not None]
            else:
                points = [(r["position"], max(r["layers"][layer][key], 1e-12)) for r in records]
            x = [p for p, _ in points]
            ax.plot(x, [v for _, v in points], "o-", markersize=3, label=run.label())
            positions += x
        if layer is not None:
            ax.set_yscale("log")
        _epoch_axis(ax, positions)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(fontsize="small")
    fig.suptitle("The runs side by side, measured on the same probe examples")
    return fig
