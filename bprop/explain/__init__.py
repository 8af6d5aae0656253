"""Backpropagation worked step by step, every number written out, for any small network.

For now everything still lives in :mod:`bprop.explain.derivation` (moved from
``bprop/explain.py``); it is split into one module per concept in the following commits.
"""

from bprop.explain.derivation import *  # noqa: F403
from bprop.explain.i18n import LANGS  # noqa: F401
