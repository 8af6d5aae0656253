"""The bprop command, run as a user would: in-process for speed, as a process for signals."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bprop import images, serialize
from bprop.cli import main

QUICK = ["--limit", "2000", "--epochs", "2", "--no-progress", "--seed", "1"]


@pytest.fixture(autouse=True)
def _in_a_scratch_folder(tmp_path, monkeypatch):
    """Runs that fail early would otherwise leave runs/<timestamp>/ folders in the checkout."""
    monkeypatch.chdir(tmp_path)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_writes_a_run_folder_and_prints_the_books_lines(tmp_path, capsys):
    code, out, err = run(capsys, "train", *QUICK, "--out", str(tmp_path / "run"))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Training Network([784, 30, 10], activation='sigmoid'")
    history = json.loads((tmp_path / "run/history.json").read_text())
    assert [line for line in lines if line.startswith("Epoch")] == [
        f"Epoch {r['epoch']}: {r['test_correct']} / 10000" for r in history["epochs"]
    ]
    assert history["status"] == "completed" and len(history["epochs"]) == 2
    csv_rows = (tmp_path / "run/history.csv").read_text().splitlines()
    assert csv_rows[0].startswith("epoch,eta,train_cost") and len(csv_rows) == 3
    config = json.loads((tmp_path / "run/config.json").read_text())
    assert config["sizes"] == [784, 30, 10] and config["eta"] == 3.0 and config["seed"] == 1
    assert not (tmp_path / "run/checkpoint.npz").exists()
    _, meta = serialize.load_model(tmp_path / "run/model.npz")
    assert meta["dataset"]["name"] == "mnist" and meta["training"]["batch_size"] == 10
    assert history["epochs"][-1]["test_correct"] > 6000  # 2 epochs on 2,000 digits: ~68%

    code, out, _ = run(capsys, "evaluate", str(tmp_path / "run"))
    assert code == 0
    assert f"{history['epochs'][-1]['test_correct']} / 10000" in out.splitlines()[0]
    assert "Confusion matrix" in out
    matrix = [line.split()[1:] for line in out.splitlines()[-10:]]
    assert sum(int(row[i]) for i, row in enumerate(matrix)) == history["epochs"][-1]["test_correct"]


def test_same_seed_same_model(tmp_path, capsys):
    for name in ("a", "b"):
        assert run(capsys, "train", *QUICK, "--epochs", "1", "--out", str(tmp_path / name))[0] == 0
    a, _ = serialize.load_model(tmp_path / "a/model.npz")
    b, _ = serialize.load_model(tmp_path / "b/model.npz")
    for p, q in zip(a.weights, b.weights):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--eta", "-1"], "--eta: must be > 0"),
        (["train", "--sizes", "784,x,10"], "comma-separated whole numbers"),
        (["train", "--sizes", "100,30,10"], "--sizes starts with 100 inputs but mnist has 784"),
        (["train", "--sizes", "784,30,5", *QUICK], "--sizes ends with 5 outputs"),
        (["train", "--activation", "sigmod", *QUICK], "Did you mean 'sigmoid'"),
        (["train", "--dataset", "mnsit"], "Did you mean 'mnist'"),
        (["train", "--schedule", "exp", *QUICK], "unknown schedule"),
        (["train", "--momentum", "1.5", *QUICK], "momentum must be in"),
        (["train", "--batch-size", "5000", "--limit", "100"], "mini_batch_size must be between"),
        (["train", "--resume", "no/such/run"], "not a bprop run folder"),
        (["train", "--frobnicate"], "unrecognized arguments"),
        (["evaluate", "no/such/model.npz"], "no model at"),
        (["predict", "no/such/model.npz", "x.png"], "no model at"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(argv, message, capsys):
    with pytest.raises(SystemExit) as e:  # argparse's own errors exit; ours return
        raise SystemExit(main(argv))
    _, err = capsys.readouterr()
    assert e.value.code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert message in err and "Traceback" not in err


def test_a_damaged_model_is_one_line(tmp_path, capsys):
    bad = tmp_path / "model.npz"
    bad.write_bytes(b"PK\x03\x04 truncated")
    code, _, err = run(capsys, "evaluate", str(bad))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "not a readable" in err


def test_divergence_stops_saves_finite_weights_and_says_so(tmp_path, capsys):
    code, _, err = run(
        capsys,
        "train",
        *QUICK,
        "--activation",
        "relu",
        "--output-activation",
        "identity",
        "--eta",
        "50",
        "--init",
        "standard",
        "--out",
        str(tmp_path / "run"),
    )
    assert code == 3
    advised = re.search(r"training diverged: .* try η = (\S+), which of the smaller η", err)
    assert advised, err
    _, meta = serialize.load_model(tmp_path / "run/model.npz")  # loading checks finiteness
    assert meta["status"] == "diverged"
    # The advice was tried: the same run with it trains to the end.
    flags = ["--activation", "relu", "--output-activation", "identity", "--init", "standard"]
    eta = advised.group(1)
    code, _, err = run(capsys, "train", *QUICK, *flags, "--eta", eta, "--out", str(tmp_path / "b"))
    assert code == 0 and "diverged" not in err, err


def _train_process(out, *extra):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    argv = [
        sys.executable,
        "-m",
        "bprop.cli",
        "train",
        "--limit",
        "3000",
        "--epochs",
        "3",
        "--seed",
        "4",
        "--no-progress",
        "--momentum",
        "0.5",
        "--out",
        str(out),
        *extra,
    ]
    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_saves_a_checkpoint_and_resume_is_bit_identical(tmp_path, sig):
    straight = _train_process(tmp_path / "straight")
    assert straight.wait(timeout=120) == 0, straight.stderr.read()

    proc = _train_process(tmp_path / "cut")
    for line in proc.stdout:  # interrupt during the second epoch
        if line.startswith("Epoch 0:"):
            time.sleep(0.05)
            proc.send_signal(sig)
            break
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Resume with: bprop train --resume" in err
    assert (tmp_path / "cut/checkpoint.npz").exists()

    resumed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bprop.cli",
            "train",
            "--resume",
            str(tmp_path / "cut"),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    a, _ = serialize.load_model(tmp_path / "straight/model.npz")
    b, _ = serialize.load_model(tmp_path / "cut/model.npz")
    for p, q in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_array_equal(p, q)
    ha = json.loads(Path(tmp_path / "straight/history.json").read_text())
    hb = json.loads(Path(tmp_path / "cut/history.json").read_text())
    assert [r["test_correct"] for r in ha["epochs"]] == [r["test_correct"] for r in hb["epochs"]]


def out_text(capsys, tmp_path, paths):
    """``bprop predict``'s text lines for ``paths`` with the model in tmp_path/run."""
    code, out, err = run(capsys, "predict", str(tmp_path / "run"), *paths)
    assert code == 0, err
    return out.splitlines()


def test_predict_classifies_photos_of_real_test_digits(tmp_path, capsys):
    from PIL import Image

    from bprop.datasets import load_mnist

    assert run(capsys, "train", *QUICK, "--epochs", "3", "--out", str(tmp_path / "run"))[0] == 0
    test = load_mnist(validation_size=0).test
    net, _ = serialize.load_model(tmp_path / "run/model.npz")
    paths, expected = [], []
    for i in range(12):
        ink = (test.X[i].reshape(28, 28) * 255).astype(np.uint8)
        photo = Image.fromarray(255 - ink).resize((112, 112), Image.BICUBIC)
        page = Image.new("L", (200, 160), 255)
        page.paste(photo, (10 + 5 * i, 20))
        paths.append(str(tmp_path / f"digit{i}.png"))
        page.save(paths[-1])
        expected.append(int(net.predict(test.X[i][None, :])[0]))
    code, out, err = run(capsys, "predict", str(tmp_path / "run"), *paths)
    assert code == 0, err
    predicted = [int(line.split(": ")[1].split()[0]) for line in out.splitlines()]
    agree = sum(p == e for p, e in zip(predicted, expected))
    assert agree >= 10, (predicted, expected)  # preprocessing recovers MNIST's framing
    code, out, _ = run(capsys, "predict", str(tmp_path / "run"), paths[0], "--json")
    result = json.loads(out)[0]
    assert result["image"] == paths[0]
    # Sigmoid outputs are reported as they are, and not called probabilities (#15 item 6).
    assert "probabilities" not in result and len(result["outputs"]) == 10
    a = net.feedforward(images.preprocess(paths[0])[None, :])[0]
    assert list(result["outputs"].values()) == [float(v) for v in a]
    assert all("not probabilities" in line for line in out_text(capsys, tmp_path, paths[:2]))
    # --show-input writes the 28×28 image the network got.
    shown = tmp_path / "shown"
    code, out, _ = run(
        capsys, "predict", str(tmp_path / "run"), *paths[:2], "--show-input", str(shown)
    )
    assert code == 0 and f"→ {shown / 'digit0.input.png'}" in out
    with Image.open(shown / "digit1.input.png") as im:
        assert im.size == (28, 28) and im.mode == "L"
        got = np.asarray(im) / 255.0
    assert np.max(np.abs(got.ravel() - images.preprocess(paths[1]))) <= 0.5 / 255
    blank = tmp_path / "blank.png"
    Image.new("L", (50, 50), 255).save(blank)
    code, _, err = run(capsys, "predict", str(tmp_path / "run"), str(blank))
    assert code == 2 and "blank" in err and len(err.strip().splitlines()) == 1


def test_train_engine_choice_is_recorded_and_a_missing_kernel_is_one_line(
    tmp_path, capsys, monkeypatch
):
    from bprop import _compiled

    for engine, expected in (("numpy", "fused"), ("auto", None)):
        code, _, err = run(capsys, "train", *QUICK, "--engine", engine, "--out", f"r_{engine}")
        assert code == 0, err
        history = json.loads(Path(f"r_{engine}/history.json").read_text())
        if expected:
            assert history["config"]["engine"] == expected
        else:  # auto: the compiled kernel for the book's small products, when it is built
            built = _compiled.available()
            assert history["config"]["engine"] == ("compiled" if built else "fused")
    monkeypatch.setattr(_compiled, "available", lambda: False)
    code, _, err = run(capsys, "train", *QUICK, "--engine", "compiled", "--out", "r_c")
    assert code == 2
    # The diagnostics' warnings come first; the error is one line, with no traceback.
    assert "C kernel is not built" in err.splitlines()[-1] and "Traceback" not in err
    assert sum("C kernel" in line for line in err.splitlines()) == 1


def test_train_refuses_log_likelihood_with_sigmoid_outputs(capsys, tmp_path):
    code, _, err = run(capsys, "train", *QUICK, "--cost", "log-likelihood", "--out", "run")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "--output-activation softmax" in err and "--cost cross-entropy" in err
    assert not (tmp_path / "run").exists()  # refused before the run folder was made


def _cli_process(*argv, stderr=subprocess.PIPE):
    return subprocess.run(
        [sys.executable, "-m", "bprop.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        timeout=300,
    )


def test_train_says_which_engine_ran_and_writes_no_bar_frames_into_a_log(tmp_path):
    from bprop import _compiled

    # Progress bars are on by default; stderr here is a pipe, as in `bprop train 2> log`.
    proc = _cli_process("train", "--limit", "500", "--epochs", "1", "--seed", "0", "--out", "r")
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stderr and "\r" not in proc.stdout
    first, engine = proc.stdout.splitlines()[:2]
    assert first.endswith("on mnist: 500 examples, 1 epoch, mini-batch 10, η = 3 → r")
    config = json.loads((tmp_path / "r/history.json").read_text())["config"]
    if config["engine"] == "compiled":
        isa = {"avx512": "AVX-512", "avx2": "AVX2"}.get(_compiled.instruction_set(), "baseline")
        assert engine.startswith(f"Engine: compiled (bprop's C kernel, {isa}")
        assert config["kernel"] == _compiled.instruction_set()
    else:
        assert engine.startswith("Engine: NumPy (")
    assert "bprop 0.1.0, NumPy " in engine
    proc = _cli_process(
        "train", "--limit", "500", "--epochs", "2", "--seed", "0", "--engine", "numpy", "--out", "n"
    )
    assert proc.stdout.splitlines()[1].startswith("Engine: NumPy (") and "2 epochs," in proc.stdout


def test_the_progress_bar_draws_on_a_terminal(tmp_path):
    pty = pytest.importorskip("pty")
    import fcntl
    import struct
    import termios

    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        proc = _cli_process(
            "train", "--limit", "2000", "--epochs", "1", "--seed", "0", "--out", "r",
            stderr=secondary,
        )  # fmt: skip
        os.close(secondary)
        drawn = b""
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the terminal closed
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(primary)
    assert proc.returncode == 0
    assert b"\r" in drawn and b"batch" in drawn  # tqdm's frames, on the terminal only


def test_sweep_writes_no_bar_frames_into_a_log_and_counts_in_the_singular(npz_sweep_args):
    proc = _cli_process(*npz_sweep_args)
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stderr
    assert "1 epoch, seed 0)" in proc.stdout.splitlines()[0]


@pytest.fixture
def npz_sweep_args(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    np.savez(tmp_path / "d.npz", X=X, y=(X[:, 0] > 0).astype(int))
    data = f"npz:{tmp_path / 'd.npz'}"
    return ["sweep", "--dataset", data, "--eta", "0.5", "--hidden", "3", "--epochs", "1",
            "--seed", "0", "--n-jobs", "1", "--out", str(tmp_path / "s.csv")]  # fmt: skip


def test_a_stop_request_is_announced_above_the_bar_not_by_the_signal_handler(capsys):
    from bprop.cli._terminal import Reporter, StopOnSignal

    stopper = StopOnSignal()
    stopper._handle(signal.SIGTERM, None)
    assert stopper.requested and capsys.readouterr().err == ""  # the handler itself is silent
    reporter = Reporter(10, show_bar=False)
    stopper.announce(reporter)
    stopper.announce(reporter)
    assert capsys.readouterr().err == StopOnSignal.NOTICE_TERM + "\n"  # once, as a whole line


def test_sweep_refuses_log_likelihood_with_sigmoid_outputs(npz_sweep_args, capsys):
    code, _, err = run(capsys, *npz_sweep_args, "--output-activation", "sigmoid")
    assert code == 2 and "--output-activation softmax" in err and len(err.splitlines()) == 1
