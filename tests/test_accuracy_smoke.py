"""The accuracy benchmark's smoke mode: a few seconds of real training on real MNIST.

``benchmarks/accuracy.py --smoke`` trains each recipe's network briefly on the first 10,000
training images and checks its test accuracy; the full benchmark (minutes) is not run here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bprop import datasets

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "accuracy.py"
MNIST_RECIPES = [
    "book",
    "chapter3",
    "chapter3-expanded",
    "best-mnist",
    "dropout-mnist",
    "expanded-mnist",
]


def _require(name: str) -> None:
    try:
        datasets.dataset_dir(name, download=False, verify=False)
    except datasets.DatasetNotFoundError as exc:
        pytest.skip(f"{name} data not found (set BPROP_DATA_DIR or use a source checkout): {exc}")


def _smoke(tmp_path: Path, recipes: list[str]) -> list[dict]:
    out = tmp_path / "smoke.json"
    cmd = [sys.executable, str(SCRIPT), "--smoke", "--no-download", "--json", str(out)]
    proc = subprocess.run(
        [*cmd, "--recipe", *recipes],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(out.read_text())["results"]
    assert [r["recipe"] for r in results] == recipes
    # The Markdown table names the command that reproduces each row.
    for r in results:
        assert f"`{r['command']}`" in proc.stdout
    return results


def _check_sane(r: dict) -> None:
    assert r["smoke"] is True
    assert r["n_train"] == 10_000
    assert r["passed"], r
    # Far above chance (10%), below perfection: the network learnt something real.
    assert r["smoke_min"] <= r["final_test_accuracy"] < 1.0
    assert 0.5 < r["final_validation_accuracy"] < 1.0
    assert 0 <= r["best_epoch"] < r["epochs"]
    assert len(r["history"]) == r["epochs"]
    assert r["history"][-1]["test_total"] == 10_000
    assert r["history"][-1]["validation_total"] == 10_000
    assert r["train_seconds"] > 0


def test_smoke_mnist_recipes(tmp_path: Path) -> None:
    _require("mnist")
    results = _smoke(tmp_path, MNIST_RECIPES)
    for r in results:
        _check_sane(r)
        assert r["final_test_accuracy"] >= 0.8


def test_smoke_fashion_recipe(tmp_path: Path) -> None:
    _require("fashion-mnist")
    for r in _smoke(tmp_path, ["best-fashion", "expanded-fashion"]):
        _check_sane(r)
        assert r["final_test_accuracy"] >= 0.6


def test_a_final_fit_on_all_trains_on_60000_and_never_chooses_on_the_test_set() -> None:
    _require("mnist")
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import accuracy
    finally:
        sys.path.remove(str(SCRIPT.parent))
    recipe = accuracy.Recipe(
        name="tiny",
        dataset="mnist",
        sizes=(784, 10),
        activation="sigmoid",
        cost="cross-entropy",
        init="scaled",
        epochs=2,
        mini_batch_size=100,
        eta=0.5,
        dtype="float32",
        target=0.8,
        final_fit_on_all=True,
    )
    r = accuracy.run(recipe, seed=0, quiet=True)
    assert r.n_train == 60_000
    assert r.final_validation_accuracy is None and r.best_validation_accuracy is None
    assert r.best_epoch == 1  # the last epoch: no validation set to choose by
    assert r.final_test_accuracy > 0.85
    assert "all 60,000" in r.description


def test_a_recipe_without_its_data_is_skipped_and_the_rest_reported(tmp_path, monkeypatch, capsys):
    """MNIST here, no Fashion-MNIST and no network: the MNIST row is kept, best-fashion skipped
    with one line why, exit 0 (#15 item 8); nothing loadable at all is exit 2."""
    import importlib.util
    import socket

    _require("mnist")
    mnist = datasets.dataset_dir("mnist", download=False, verify=False)
    data = tmp_path / "data"
    (data / "mnist").mkdir(parents=True)
    for f in Path(mnist).iterdir():
        (data / "mnist" / f.name).symlink_to(f)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/"  # closed once the block ends
    monkeypatch.setattr(datasets.fetch, "MIRRORS", {"mnist": [dead], "fashion-mnist": [dead]})
    monkeypatch.setattr(datasets.files, "SYSTEM_DIRS", {"mnist": [], "fashion-mnist": []})
    monkeypatch.setattr(datasets.files, "REPO_DATA_DIR", tmp_path / "none", raising=False)
    monkeypatch.delenv("BPROP_DATA_DIR", raising=False)
    monkeypatch.delenv("BPROP_MIRRORS", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    spec = importlib.util.spec_from_file_location("accuracy_bench", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "accuracy_bench", bench)  # its dataclasses look it up
    spec.loader.exec_module(bench)
    out = tmp_path / "r.json"
    argv = ["--smoke", "--quiet", "--data-dir", str(data), "--json", str(out)]
    assert bench.main([*argv, "--recipe", "best-fashion", "chapter3"]) == 0
    std = capsys.readouterr()
    report = json.loads(out.read_text())
    assert [r["recipe"] for r in report["results"]] == ["chapter3"]
    assert [s["recipe"] for s in report["skipped"]] == ["best-fashion"]
    assert "| chapter3 (smoke)" in std.out and "best-fashion: skipped" in std.out
    lines = [x for x in std.err.splitlines() if "best-fashion" in x]
    assert len(lines) == 1 and "Fashion-MNIST" in lines[0] and "Traceback" not in std.err
    assert bench.main([*argv, "--recipe", "best-fashion"]) == 2
    assert "nothing ran" in capsys.readouterr().err
