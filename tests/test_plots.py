"""`bprop plot`: every figure is written, decodes, has a sane size and shows something."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from report_run import decode_png, make_run

from bprop import plots
from bprop.cli import main

FIGURES = [
    "cost.png",
    "accuracy.png",
    "learning_speed.png",
    "saturation.png",
    "weights.png",
    "confusion.png",
    "misclassified.png",
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("plots") / "run")


def test_plot_writes_every_figure_and_prints_the_paths(run, capsys):
    assert main(["plot", str(run)]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(run / "figures" / name) for name in FIGURES]
    for name in FIGURES:
        pixels = decode_png(run / "figures" / name)
        height, width, _ = pixels.shape
        assert 400 <= width <= 2000 and 300 <= height <= 2000, (name, pixels.shape)
        assert pixels.std() > 20, f"{name} is nearly uniform"
        non_white = np.mean(pixels.min(axis=2) < 200)
        assert 0.02 < non_white < 0.9, (name, non_white)
        colours = len(np.unique(pixels.reshape(-1, 3), axis=0))
        assert colours > 30, (name, colours)
    assert not list((run / "figures").glob(".*.tmp"))  # written atomically


def test_the_figures_draw_the_runs_numbers(run):
    r = plots.load_run(run)
    ax = plots.cost_figure(r).axes[0]
    train, _, probe = ax.get_lines()
    assert list(train.get_ydata()) == [e["train_cost"] for e in r.history["epochs"]]
    assert list(probe.get_xdata()) == [rec["position"] for rec in r.diagnostics["records"]]
    speed = plots.learning_speed_figure(r.diagnostics)
    assert [ax.get_yscale() for ax in speed.axes] == ["log", "log"]
    assert [line.get_label() for line in speed.axes[0].get_lines()] == [
        "layer 2 (sigmoid)",
        "layer 3 (sigmoid)",
    ]
    first = r.diagnostics["records"][0]["layers"][0]["speed_b"]
    assert speed.axes[0].get_lines()[0].get_ydata()[0] == first
    saturation = plots.saturation_figure(r.diagnostics).axes[0]
    assert len(saturation.get_lines()) == 3  # two layers saturated, outputs saturated and wrong
    y = np.array([0, 1, 1, 2, 2, 2])
    confusion = plots.confusion_figure(y, np.array([0, 1, 2, 2, 2, 0]), ["a", "b", "c"])
    assert confusion.axes[0].images[0].get_array().tolist() == [[1, 0, 0], [0, 1, 1], [1, 0, 2]]


def test_a_run_without_diagnostics_or_model_still_plots_its_history(run, tmp_path, capsys):
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("config.json", "history.json"):
        (bare / name).write_bytes((run / name).read_bytes())
    assert main(["plot", str(bare)]) == 0
    assert [Path(p).name for p in capsys.readouterr().out.split()] == ["cost.png", "accuracy.png"]


def test_missing_run_folder_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["plot", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no run folder" in err
    assert main(["plot", str(tmp_path)]) == 2
    assert "has no history.json" in capsys.readouterr().err


def test_without_matplotlib_the_error_says_what_to_install(run, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r'pip install "bprop\[plots\]"'):
        plots.write_figures(run)
