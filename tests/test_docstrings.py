"""The public API's docstrings have complete numpydoc sections (#18): every parameter
documented, a Returns section where something is returned — what the docs site's API pages
(mkdocstrings, numpy style) show.  Checked with numpydoc's own validator."""

from __future__ import annotations

import pytest

validate = pytest.importorskip("numpydoc.validate", reason="numpydoc is not installed").validate

#: The objects a newcomer meets first (README, docs/api.md).
PUBLIC = [
    "bprop.Network",
    "bprop.Network.feedforward",
    "bprop.Network.backprop",
    "bprop.Network.SGD",
    "bprop.Network.predict",
    "bprop.Network.evaluate",
    "bprop.Activation",
    "bprop.Cost",
    "bprop.train.sgd",
    "bprop.train.History",
    "bprop.train.Callback",
    "bprop.gradcheck.gradcheck",
    "bprop.explain.derive",
    "bprop.explain.render",
    "bprop.explain.errata",
    "bprop.datasets.load_mnist",
    "bprop.datasets.load_fashion_mnist",
    "bprop.datasets.load_csv",
    "bprop.datasets.read_idx",
    "bprop.serialize.save_model",
    "bprop.serialize.load_model",
    "bprop.runs.load_run",
    "bprop.sklearn.BPClassifier",
    "bprop.export.to_torch",
    "bprop.export.to_onnx",
    "bprop.export.from_onnx",
]
#: Parameters not documented or documented but absent; no Returns; no docstring at all.
CHECKS = {"PR01", "PR02", "RT01", "GL08"}


@pytest.mark.parametrize("name", PUBLIC)
def test_public_docstrings_document_every_parameter_and_what_is_returned(name):
    errors = [f"{code}: {message}" for code, message in validate(name)["errors"] if code in CHECKS]
    assert errors == [], f"{name}: " + "; ".join(errors)
