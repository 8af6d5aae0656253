"""A run trained on the user's own file finds it from anywhere, and refuses any other
(#14 item 6, #15 item 4).

Runs recorded ``csv:small.csv`` by the name given, so ``evaluate``/``plot`` failed from another
folder or, worse, evaluated an unrelated ``small.csv`` found there (exit 0). A run now records
the file's absolute path and its SHA-256 digest, and checks the digest before use.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import bprop
from bprop import datasets, runs
from bprop.cli import main
from bprop.train import History, TrainState


def _write(folder: Path, kind: str, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    path = folder / f"small.{kind}"
    if kind == "csv":
        np.savetxt(path, np.column_stack([X, y]), delimiter=",", fmt="%.6f")
    else:
        np.savez(path, X=X, y=y)
    return path


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(params=["csv", "npz"])
def trained(request, tmp_path, monkeypatch, capsys):
    """A run trained in folder a/ on a/small.KIND, and the folder b/ the tests work from."""
    kind = request.param
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    data = _write(tmp_path / "a", kind)
    monkeypatch.chdir(tmp_path / "a")
    code, out, err = _cli(
        capsys, "train", "--dataset", f"{kind}:small.{kind}", "--sizes", "4,5,2",
        "--epochs", "1", "--no-progress", "--no-diagnostics", "--out", "../run", "--seed", "3",
    )  # fmt: skip
    assert code == 0, out + err
    saved = out.strip().splitlines()[-1]  # "Saved ../run/model.npz (80.00% on test)"
    monkeypatch.chdir(tmp_path / "b")
    return kind, data, tmp_path / "run", saved.rpartition("(")[2].split("%")[0]


def test_the_run_records_the_absolute_path_and_the_digest(trained):
    kind, data, run, _ = trained
    config = json.loads((run / "config.json").read_text())
    assert config["dataset"] == f"{kind}:{data}"
    assert config["data_digest"] == datasets.load(f"{kind}:{data}").digest
    meta = bprop.serialize.load_model(run / "model.npz")[1]
    assert meta["dataset"]["path"] == str(data)


def test_evaluate_from_another_folder_reads_the_recorded_file_not_one_found_there(trained, capsys):
    kind, _, run, accuracy = trained
    _write(Path.cwd(), kind, seed=1)  # a decoy of the same name in the current folder
    code, out, err = _cli(capsys, "evaluate", str(run))
    assert code == 0, err
    assert f"= {accuracy}%" in out.splitlines()[0]
    moved = run.with_name("moved")  # a run folder moved elsewhere still works
    shutil.move(run, moved)
    code, out, err = _cli(capsys, "evaluate", str(moved))
    assert code == 0 and f"= {accuracy}%" in out.splitlines()[0], err


def test_an_edited_or_missing_file_is_refused_in_one_line(trained, capsys):
    kind, data, run, _ = trained
    _write(data.parent, kind, seed=2)  # the same name, other numbers
    code, out, err = _cli(capsys, "evaluate", str(run))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert f"{data} has changed since the model was trained on it" in err
    assert f"--dataset {kind}:PATH" in err
    # Naming the file is choosing it: evaluate then uses it as it is.
    code, out, err = _cli(capsys, "evaluate", str(run), "--dataset", f"{kind}:{data}")
    assert code == 0, err
    data.unlink()
    code, out, err = _cli(capsys, "evaluate", str(run))
    assert code == 2 and "which is not there any more" in err and str(data) in err


def test_plot_finds_the_recorded_file_from_another_folder(trained):
    pytest.importorskip("matplotlib")
    from bprop.plots import write_figures

    _, _, run, _ = trained
    names = {p.name for p in write_figures(run)}
    assert "confusion.png" in names


def test_resume_refuses_a_file_changed_since_the_run_began(trained, capsys):
    kind, data, run, _ = trained
    folder = runs.RunFolder(run)
    config = json.loads((run / "config.json").read_text())
    (run / "model.npz").unlink()  # as if interrupted in its first epoch
    net = bprop.Network([4, 5, 2], seed=0)
    folder.save_checkpoint(net, TrainState(seed=1), History(), training=config)
    _write(data.parent, kind, seed=2)
    code, _out, err = _cli(capsys, "train", "--resume", str(run), "--no-progress")
    assert code == 2
    assert f"{data} has changed since this run began training on it" in err


def test_an_old_run_reads_its_bare_name_from_the_current_folder_digest_checked(
    tmp_path, monkeypatch
):
    """Runs made before the path was recorded name the file as given; the digest they did
    record still keeps another file of that name out."""
    monkeypatch.chdir(tmp_path)
    data = _write(tmp_path, "csv")
    digest = datasets.load(f"csv:{data}").digest
    meta = {"training": {"dataset": "csv:small.csv"}, "dataset": {"digest": digest}}
    assert datasets.load_recorded(meta).digest == digest
    _write(tmp_path, "csv", seed=5)
    with pytest.raises(ValueError, match="has changed since the model was trained"):
        datasets.load_recorded(meta)
