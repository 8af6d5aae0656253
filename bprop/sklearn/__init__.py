"""scikit-learn estimators over bprop's networks: :class:`BPClassifier` and :class:`BPRegressor`.

The estimators live in :mod:`bprop.sklearn._base`; see its docstring for the defaults and
conventions. Importing this package needs scikit-learn: ``pip install "bprop[sklearn]"``.
"""

from bprop.sklearn._base import BPClassifier, BPRegressor

__all__ = ["BPClassifier", "BPRegressor"]
