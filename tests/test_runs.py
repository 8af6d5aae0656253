"""The run folder keeps runs apart (#14 items 2, 3; #15 item 11): names that cannot collide, a
lock held for the whole run, no silent replacement of another run, nothing made before the
flags are checked, stale temporaries cleaned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bprop import runs
from bprop.cli import main

QUICK = ["--limit", "300", "--epochs", "1", "--no-progress", "--seed", "1", "--no-diagnostics"]


@pytest.fixture(autouse=True)
def _in_a_scratch_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def train(capsys, *argv):
    code = main(["train", *QUICK, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_default_run_names_cannot_collide(tmp_path, monkeypatch, capsys):
    """Runs started in the same second used to get the same runs/<timestamp> and lose models:
    the name has a random suffix, and a name already taken is never reused."""
    monkeypatch.setattr(runs.time, "strftime", lambda fmt: "20260101-000000")
    drawn = iter(["aaaa", "aaaa", "bbbb"])
    monkeypatch.setattr(runs.secrets, "token_hex", lambda n: next(drawn))
    assert train(capsys)[0] == 0
    assert train(capsys)[0] == 0  # draws aaaa (taken), then bbbb
    made = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert made == ["20260101-000000-aaaa", "20260101-000000-bbbb"]
    assert all((tmp_path / "runs" / name / "model.npz").is_file() for name in made)


def test_a_second_run_into_a_locked_folder_stops_at_once(tmp_path, capsys):
    folder = runs.RunFolder(tmp_path / "shared")
    with folder.lock():
        code, _, err = train(capsys, "--out", str(folder.path))
    assert code == 2
    assert "is in use by another bprop run" in err and "Traceback" not in err
    assert not (folder.path / "config.json").exists()
    with folder.lock():  # resume takes the lock before it reads anything
        code = main(["train", "--resume", str(folder.path)])
    assert code == 2 and "in use by another bprop run" in capsys.readouterr().err


def test_training_into_another_run_is_refused_unless_overwrite(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(capsys, "--out", str(out))[0] == 0
    (out / "figures").mkdir()
    (out / "figures" / "cost.png").write_bytes(b"old figure")
    (out / "diagnostics.json").write_text("{}")
    (out / "notes.txt").write_text("mine")
    model = (out / "model.npz").read_bytes()
    code, _, err = train(capsys, "--out", str(out), "--eta", "0.5")
    assert code == 2 and "holds another run" in err and "--overwrite" in err
    assert (out / "model.npz").read_bytes() == model
    assert train(capsys, "--out", str(out), "--eta", "0.5", "--overwrite")[0] == 0
    assert json.loads((out / "config.json").read_text())["eta"] == 0.5
    assert not (out / "diagnostics.json").exists()  # the old run's, gone (diagnostics off)
    assert not (out / "figures" / "cost.png").exists()
    assert (out / "notes.txt").read_text() == "mine"  # not bprop's: left alone
    code = main(["train", "--resume", str(out), "--overwrite"])
    assert code == 2 and "cannot go with --resume" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flags, message",
    [(["--momentum", "1"], "momentum must be in [0, 1)"), (["--batch-size", "1000"], "between 1")],
)
def test_a_run_that_fails_its_checks_makes_no_folder(tmp_path, capsys, flags, message):
    code, _, err = train(capsys, *flags)
    assert code == 2 and message in err
    assert not (tmp_path / "runs").exists()


def test_resuming_a_run_killed_before_its_first_checkpoint_says_so(tmp_path):
    folder = runs.RunFolder(tmp_path / "early")
    folder.create({"sizes": [784, 30, 10]})
    with pytest.raises(FileNotFoundError, match="stopped before its first epoch ended") as e:
        folder.reopen()
    assert "finished run" not in str(e.value)


def test_stale_temporaries_of_killed_writes_are_cleaned(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    stale = out / ".history.csv.abc123.tmp"
    stale.write_text("half a file")
    keep = out / "history.csv.bak"
    keep.write_text("user's")
    assert train(capsys, "--out", str(out))[0] == 0
    assert not stale.exists() and keep.exists()
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [".lock"]


def test_the_default_name_has_a_random_suffix():
    names = {runs.new_run_path().name for _ in range(20)}
    assert len(names) > 1  # the same second, different folders
    for name in names:
        assert len(name) == len("YYYYmmdd-HHMMSS-xxxx") and name[:15].replace("-", "").isdigit()


def test_a_run_stopped_before_its_first_epoch_can_start_again_in_its_folder(tmp_path, capsys):
    out = tmp_path / "early"
    runs.RunFolder(out).create({"sizes": [784, 30, 10]})
    assert train(capsys, "--out", str(out))[0] == 0
    assert (out / "model.npz").is_file()


def _interrupted(folder, config, trained):
    import bprop
    from bprop import serialize
    from bprop.train import History, TrainState

    folder.path.mkdir()
    serialize.write_json(folder.path / runs.CONFIG, config)
    net = bprop.Network([4, 3, 2], seed=0)
    folder.save_checkpoint(net, TrainState(seed=1), History(), training=trained)


@pytest.mark.parametrize(
    "trained, message",
    [
        ({"run_id": "b" * 16, "eta": 3.0, "epochs": 5}, "belongs to another run"),
        ({"eta": 3.0, "epochs": 5}, "belongs to another run"),
        ({"run_id": "a" * 16, "eta": 0.5, "epochs": 5}, r"changed since .* \(eta\)"),
    ],
)
def test_resume_refuses_a_checkpoint_of_another_run(tmp_path, trained, message):
    """Run B's config.json beside run A's checkpoint resumed A's weights under B's settings."""
    folder = runs.RunFolder(tmp_path / "mix")
    _interrupted(folder, {"run_id": "a" * 16, "eta": 3.0, "epochs": 9}, trained)
    with pytest.raises(ValueError, match=message):
        folder.reopen()


def test_resume_takes_its_own_checkpoint_and_old_runs_without_ids(tmp_path):
    mine = runs.RunFolder(tmp_path / "mine")  # --resume --epochs may extend the run
    _interrupted(
        mine,
        {"run_id": "a" * 16, "eta": 3.0, "epochs": 9},
        {"run_id": "a" * 16, "eta": 3.0, "epochs": 5},
    )
    assert mine.reopen()[0]["epochs"] == 9
    old = runs.RunFolder(tmp_path / "old")
    _interrupted(old, {"eta": 3.0}, {"eta": 3.0})
    old.reopen()


def test_a_new_run_records_its_identifier_in_config_and_model(capsys):
    from bprop import serialize

    code, out, _ = train(capsys, "--out", "r")
    assert code == 0, out
    run_id = json.loads(Path("r/config.json").read_text())["run_id"]
    assert len(run_id) == 16
    assert serialize.load_model("r/model.npz")[1]["training"]["run_id"] == run_id


def test_sigterm_is_not_told_to_press_ctrl_c_again():
    """#14 messages: a SIGTERM said "Ctrl-C again to abort"."""
    import signal

    from bprop.cli._terminal import StopOnSignal

    notes = []

    class Reporter:
        def note(self, text):
            notes.append(text)

    for signum in (signal.SIGTERM, signal.SIGINT):
        stopper = StopOnSignal()
        stopper._handle(signum, None)
        stopper.announce(Reporter())
    assert "Ctrl-C" not in notes[0] and "SIGTERM" in notes[0]
    assert "Ctrl-C again" in notes[1]
