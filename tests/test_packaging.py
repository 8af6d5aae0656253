"""bprop as a package: licence, metadata, changelog, type information, the wheel and sdist's
contents, the minimum versions and the message when the compiled kernel is missing (#18).
The wheel itself is built, repaired and installed by .ci/wheel."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import tomllib

import bprop
from bprop import _compiled, serialize

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]


def test_licence_is_mit_in_file_and_metadata() -> None:
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License") and "the bprop authors" in text
    assert PROJECT["license"] == "MIT" and PROJECT["license-files"] == ["LICENSE"]
    # SPDX license expressions need setuptools 77.
    assert "setuptools>=77" in PYPROJECT["build-system"]["requires"]


def test_metadata_names_authors_keywords_and_classifiers() -> None:
    assert PROJECT["authors"] == [{"name": "the bprop authors"}]
    assert "backpropagation" in PROJECT["keywords"]
    classifiers = PROJECT["classifiers"]
    assert "Typing :: Typed" in classifiers
    # A licence classifier beside an SPDX expression is refused by setuptools >= 77.
    assert not any(c.startswith("License ::") for c in classifiers)
    # No invented home page.
    assert "urls" not in PROJECT


def test_changelog_states_the_model_format_policy() -> None:
    text = (REPO / "CHANGELOG.md").read_text()
    assert "Keep a Changelog" in text and "## [Unreleased]" in text
    policy = text.split("## Model file format", 1)[1].split("\n## ", 1)[0]
    assert f"The current format is **{serialize.FORMAT_VERSION}**" in policy
    assert "format_version" in policy and "ModelFormatError" in policy


def test_py_typed_ships_and_mypy_is_strict_and_in_ci() -> None:
    assert (REPO / "bprop" / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["bprop"]
    mypy = PYPROJECT["tool"]["mypy"]
    for option in ("check_untyped_defs", "no_implicit_optional", "warn_unused_ignores"):
        assert mypy[option] is True, option
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert "mypy" in ci and ".ci/wheel" in ci and ".ci/min-versions" in ci
    assert (REPO / ".ci" / "min-versions").is_file()


def test_no_module_is_spared_mypy() -> None:
    """Every module of bprop is type-checked: none has its errors ignored (16 had, once)."""
    ignored = [o for o in PYPROJECT["tool"]["mypy"]["overrides"] if o.get("ignore_errors")]
    assert ignored == []


def _bound(requirement: str) -> tuple[str, str] | None:
    m = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?>=([0-9.]+)", requirement)
    return (m.group(1).lower(), m.group(2)) if m else None


def test_min_versions_pin_the_declared_lower_bounds() -> None:
    declared: dict[str, str] = {}
    extras = PROJECT["optional-dependencies"]
    for req in PROJECT["dependencies"] + extras["cli"] + extras["plots"] + extras["sklearn"]:
        if bound := _bound(req):
            declared[bound[0]] = bound[1]
    pins = {}
    for line in (REPO / "tests" / "min-versions.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower()] = version
    assert pins.keys() == declared.keys()
    for name, version in pins.items():
        # 1.24.4 pins the bound 1.24; 9.5.0 pins 9.5.
        assert version == declared[name] or version.startswith(declared[name] + "."), name


def test_the_dask_extra_brings_the_dashboard() -> None:
    assert any(r.startswith("bokeh") for r in PROJECT["optional-dependencies"]["dask"])


def test_train_says_the_kernel_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from bprop.cli.train import describe_engine

    monkeypatch.setattr(_compiled, "available", lambda: False)
    net = bprop.Network([4, 3, 2], seed=0)
    line = describe_engine(net, {"batch_size": 10, "engine": "auto"})
    assert line.startswith("NumPy (") and "C kernel is not built" in line


def test_sdist_holds_what_its_tests_need(tmp_path: Path) -> None:
    pytest.importorskip("setuptools")
    subprocess.run(
        [sys.executable, "setup.py", "-q", "sdist", "--formats=gztar", "-d", str(tmp_path)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    (sdist,) = tmp_path.glob("bprop-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for needed in (
        "LICENSE",
        "CHANGELOG.md",
        "bprop/py.typed",
        "bprop/_kernel_step.h",
        "bprop/_kernel_sparse.h",
        "tests/conftest.py",
        "tests/markdown_examples.py",
        "tests/min-versions.txt",
        "examples/sklearn_grid.py",
    ):
        assert needed in names, needed
    assert not any(n.endswith(".so") for n in names)
