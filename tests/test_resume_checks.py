"""What a run is resumed from is checked before use (#14 items 7, 15, 18, 19): the training
state (library), the checkpoint's fields, config.json and history.json (one schema, one line
naming the file and the field), the compiled kernel's own arguments, and the flags --resume
takes."""

from __future__ import annotations

import ctypes
import json
import zipfile

import numpy as np
import pytest

import bprop
from bprop import runs, serialize
from bprop.cli import main
from bprop.cli.train import TRAIN_DEFAULTS
from bprop.train import History, TrainState
from tests.conftest import needs_kernel


@pytest.fixture(autouse=True)
def _in_a_scratch_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def _problem():
    rng = np.random.default_rng(0)
    return rng.random((40, 4)), rng.integers(0, 2, 40)


@pytest.mark.parametrize("compiled", [False, None])
@pytest.mark.parametrize(
    "field, value, message",
    [
        ("batch", -3, "batch must be a whole number ≥ 0"),
        ("batch", 4, "past the epoch's 4 mini-batches"),
        ("seed", -1, "seed must be a whole number ≥ 0"),
        ("seen", 41, "counts 0 correct of 41 seen"),
        ("cost_sum", float("nan"), "cost_sum must be a number ≥ 0"),
        ("velocity_w", [np.zeros((2, 2))], "velocity_w do not match"),
    ],
)
def test_a_state_to_resume_from_is_checked_by_every_engine(compiled, field, value, message):
    """A damaged checkpoint's batch of −3 made the C kernel segfault and NumPy divide by 0."""
    X, y = _problem()
    net = bprop.Network([4, 3, 2], seed=0)
    state = TrainState(**({"seed": 1} | {field: value}))
    if field == "velocity_w":
        state.velocity_b = [np.zeros(3), np.zeros(2)]
    with pytest.raises(ValueError, match=message):
        net.SGD(X, y, 2, 10, 1.0, state=state, compiled=compiled)


@needs_kernel
def test_the_compiled_kernel_checks_its_own_arguments():
    from bprop import _compiled

    lib = _compiled._load()
    sizes = (ctypes.c_int64 * 3)(4, 3, 2)
    codes = (ctypes.c_int32 * 2)(0, 0)
    net = _compiled._Net(layers=2, m=10, n=40, sizes=sizes, codes=codes)
    order = np.arange(40, dtype=np.int64)
    for entry in (lib.bprop_train_float, lib.bprop_train_double):
        assert entry(None, order.ctypes.data, 0, 1, 1.0) == -1
        assert entry(ctypes.byref(net), order.ctypes.data, -3, 1, 1.0) == -1
        assert entry(ctypes.byref(net), order.ctypes.data, 0, 5, 1.0) == -1  # 4 batches
        assert entry(ctypes.byref(net), order.ctypes.data, 0, 1, float("nan")) == -1
        bad = order.copy()
        bad[7] = 40
        assert entry(ctypes.byref(net), bad.ctypes.data, 0, 1, 1.0) == -1
        net.m = 0
        assert entry(ctypes.byref(net), order.ctypes.data, 0, 1, 1.0) == -1
        net.m = 10


def _edit_metadata(path, edit):
    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    arrays = {}
    for name, data in members.items():
        import io

        arrays[name[:-4]] = np.load(io.BytesIO(data), allow_pickle=False)
    meta = json.loads(arrays.pop("meta").tobytes())
    edit(meta)
    blob = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(path, meta=blob, **arrays)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda m: m["resume"].pop("seed"), "resume.seed must be a whole number"),
        (lambda m: m["resume"].update(batch=-3), "resume.batch must be a whole number ≥ 0"),
        (lambda m: m["resume"].update(epoch="1"), "resume.epoch must be a whole number"),
        (lambda m: m.pop("history"), "must hold a JSON object, not null"),
        (lambda m: m["history"].update(epochs={}), "'epochs' must be a list"),
        (lambda m: m.update(resume=[1]), "field resume is malformed"),
    ],
)
def test_a_damaged_checkpoint_names_its_field(tmp_path, edit, message):
    path = tmp_path / "checkpoint.npz"
    net = bprop.Network([4, 3, 2], seed=0)
    serialize.save_checkpoint(path, net, TrainState(seed=1, epoch=1), History())
    _edit_metadata(path, edit)
    with pytest.raises(serialize.ModelFormatError, match=message):
        serialize.load_checkpoint(path)


def _resumable(tmp_path, **config):
    """A run folder as an interrupted `bprop train --limit 300 --epochs 2` leaves it."""
    config = TRAIN_DEFAULTS | {"limit": 300, "epochs": 2, "seed": 1} | config
    folder = runs.RunFolder(tmp_path / "run")
    folder.create(config)
    net = bprop.Network([784, 30, 10], seed=1)
    history = History()
    folder.save_checkpoint(net, TrainState(seed=1, epoch=1), history)
    folder.write_history(history)
    return folder.path


@pytest.mark.parametrize(
    "field, value",
    [
        ("eta", -0.3),
        ("limit", -5),
        ("eval_on", "bogus"),
        ("batch_size", 0),
        ("engine", "bogus"),
        ("schedule", 5),
        ("dataset", None),
        ("momentum", 1),
        ("sizes", "784,30,10"),
    ],
)
def test_resume_checks_an_edited_config_like_a_new_run(tmp_path, capsys, field, value):
    run = _resumable(tmp_path)
    config = json.loads((run / "config.json").read_text())
    config[field] = value
    (run / "config.json").write_text(json.dumps(config))
    assert main(["train", "--resume", str(run), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"config.json: the field '{field}' must be" in err and "Traceback" not in err


def test_resume_refuses_flags_that_would_change_the_run_and_extends_with_epochs(tmp_path, capsys):
    run = _resumable(tmp_path)
    assert main(["train", "--resume", str(run), "--eta", "0.1", "--out", "elsewhere"]) == 2
    err = capsys.readouterr().err
    assert "--out, --eta would change it (only --epochs may" in err
    assert main(["train", "--resume", str(run), "--epochs", "3", "--no-progress"]) == 0
    history = json.loads((run / "history.json").read_text())
    assert [r["epoch"] for r in history["epochs"]] == [1, 2]
    assert json.loads((run / "config.json").read_text())["epochs"] == 2  # as the run began


@pytest.mark.parametrize(
    "history, message",
    [
        ([], "history.json: must hold a JSON object, not a list"),
        ({"epochs": [1]}, "epochs[0] must be an object"),
        ({"epochs": [{"epoch": 0, "eta": "fast"}]}, "epochs[0].eta must be a number"),
        ({"epochs": [], "config": 5}, "'config' must be an object"),
    ],
)
def test_plot_and_report_name_what_is_wrong_in_history_json(tmp_path, capsys, history, message):
    pytest.importorskip("matplotlib")
    run = tmp_path / "run"
    run.mkdir()
    (run / "history.json").write_text(json.dumps(history))
    for command in ("plot", "report"):
        assert main([command, str(run)]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
