"""The run folder's files checked field by field before anything uses them.

``config.json``, ``history.json`` and a checkpoint's history are read from disk, so they are
untrusted: edited by hand, damaged, or another program's.  Each check here returns the data
unchanged or raises a ValueError that names the file and the field, in one line — never the
KeyError, ZeroDivisionError or segfault a bad value would otherwise cause further in.  Only
types and ranges are checked here; names (activations, costs, data sets, schedules) are
checked where they are looked up, with their own suggestions.  Nothing here reads files.
"""

from __future__ import annotations

import math
from typing import Any

from bprop._validate import is_whole


def _whole(v: Any, least: int) -> bool:
    return is_whole(v) and v >= least


def _number(v: Any) -> bool:
    return type(v) in (int, float) and math.isfinite(v)


#: config.json: field → (what it must be, test).  Fields not listed are not bprop's and pass.
CONFIG_FIELDS: dict[str, tuple[str, Any]] = {
    "dataset": ("a data set name", lambda v: isinstance(v, str) and v != ""),
    "data_dir": ("a folder or null", lambda v: v is None or isinstance(v, str)),
    "data_digest": ("a SHA-256 prefix", lambda v: isinstance(v, str) and v != ""),
    "sizes": (
        "a list of layer widths ≥ 1, or null",
        lambda v: (
            v is None or (isinstance(v, list) and len(v) >= 2 and all(_whole(s, 1) for s in v))
        ),
    ),
    "activation": ("a name", lambda v: isinstance(v, str)),
    "output_activation": ("a name or null", lambda v: v is None or isinstance(v, str)),
    "cost": ("a name", lambda v: isinstance(v, str)),
    "init": ("a name", lambda v: isinstance(v, str)),
    "dtype": ('"float64" or "float32"', lambda v: v in ("float64", "float32")),
    "eta": ("a number > 0", lambda v: _number(v) and v > 0),
    "schedule": ("a schedule name", lambda v: isinstance(v, str)),
    "lmbda": ("a number ≥ 0", lambda v: _number(v) and v >= 0),
    "momentum": ("a number in [0, 1)", lambda v: _number(v) and 0 <= v < 1),
    "epochs": ("a whole number ≥ 1", lambda v: _whole(v, 1)),
    "batch_size": ("a whole number ≥ 1", lambda v: _whole(v, 1)),
    "seed": ("a whole number ≥ 0", lambda v: _whole(v, 0)),
    "limit": ("a whole number ≥ 1, or null", lambda v: v is None or _whole(v, 1)),
    "eval_on": ('"test" or "validation"', lambda v: v in ("test", "validation")),
    "shuffle": ("true or false", lambda v: isinstance(v, bool)),
    "update_biases": ("true or false", lambda v: isinstance(v, bool)),
    "engine": (
        '"auto", "compiled" or "numpy"',
        lambda v: v in ("auto", "compiled", "numba", "numpy"),
    ),
    "flush_subnormals": ("true or false", lambda v: isinstance(v, bool)),
    "header": ('"auto", "yes" or "no"', lambda v: v in ("auto", "yes", "no")),
    "scale": ("a scaling name", lambda v: isinstance(v, str)),
}

#: One epoch's record in history.json: field → (what it must be, test).
EPOCH_FIELDS: dict[str, tuple[str, Any]] = {
    "epoch": ("a whole number ≥ 0", lambda v: _whole(v, 0)),
    "eta": ("a number", _number),
    "train_cost": ("a number or null", lambda v: v is None or type(v) in (int, float)),
    "train_accuracy": ("a number or null", lambda v: v is None or type(v) in (int, float)),
    "test_cost": ("a number or null", lambda v: v is None or type(v) in (int, float)),
    "test_correct": ("a whole number or null", lambda v: v is None or _whole(v, 0)),
    "test_total": ("a whole number or null", lambda v: v is None or _whole(v, 0)),
    "test_accuracy": ("a number or null", lambda v: v is None or type(v) in (int, float)),
    "seconds": ("a number ≥ 0", lambda v: _number(v) and v >= 0),
}


def check_config(config: Any, where: str, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """``config`` (config.json's content) if every field bprop knows has a usable value."""
    if not isinstance(config, dict):
        raise ValueError(f"{where}: must hold a JSON object of settings, not {_kind(config)}")
    for name in required:
        if name not in config:
            raise ValueError(f"{where}: the field '{name}' is missing")
    for name, (what, ok) in CONFIG_FIELDS.items():
        if name in config and not ok(config[name]):
            raise ValueError(f"{where}: the field '{name}' must be {what}, got {config[name]!r}")
    return config


def check_history(history: Any, where: str) -> dict[str, Any]:
    """``history`` (history.json's content) if it is an object whose ``epochs`` are records
    with usable fields and whose ``config`` is an object."""
    if not isinstance(history, dict):
        raise ValueError(f"{where}: must hold a JSON object, not {_kind(history)}")
    epochs = history.get("epochs")
    if not isinstance(epochs, list):
        raise ValueError(
            f"{where}: the field 'epochs' must be a list of records, got {_kind(epochs)}"
        )
    if not isinstance(history.get("config", {}), dict):
        raise ValueError(f"{where}: the field 'config' must be an object")
    if not isinstance(history.get("status", ""), str):
        raise ValueError(f"{where}: the field 'status' must be a string")
    for i, record in enumerate(epochs):
        if not isinstance(record, dict):
            raise ValueError(f"{where}: epochs[{i}] must be an object, not {_kind(record)}")
        for name, (what, ok) in EPOCH_FIELDS.items():
            if name in record and not ok(record[name]):
                raise ValueError(
                    f"{where}: epochs[{i}].{name} must be {what}, got {record[name]!r}"
                )
        for name in ("epoch", "eta"):
            if name not in record:
                raise ValueError(f"{where}: epochs[{i}] has no '{name}'")
    return history


def _kind(v: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(
        type(v), type(v).__name__
    )
