"""What every loader returns: a :class:`DataSets` of :class:`Split` parts, one example per row.

Plain containers and the dtype rule they share. Nothing here reads a file, the environment or
the network, and nothing scales or re-codes data: the loaders do that before building these
(a :class:`DataSets` only records the scaling they applied).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from bprop.datasets.scaling import Scaling


@dataclass(frozen=True, eq=False)
class Split:
    """One part of a data set.

    Attributes
    ----------
    X : numpy.ndarray, shape (m, n_features)
        Inputs, one example per row (floating point; MNIST images scaled to [0, 1]).
    y : numpy.ndarray, shape (m,), dtype int64
        Class labels in ``0 .. n_classes - 1``.
    """

    X: np.ndarray
    y: np.ndarray

    def __post_init__(self) -> None:
        if self.X.ndim != 2 or self.y.ndim != 1 or self.X.shape[0] != self.y.shape[0]:
            raise ValueError(
                f"Split needs X of shape (m, n) and y of shape (m,), got {self.X.shape} "
                f"and {self.y.shape}"
            )

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def __repr__(self) -> str:
        return f"Split({len(self):,} examples × {self.X.shape[1]:,} features, {self.X.dtype})"


@dataclass(frozen=True, eq=False)
class DataSets:
    """A data set split into training, validation and test parts.

    Attributes
    ----------
    name : str
        ``"mnist"``, ``"fashion-mnist"``, ``"csv:FILE"`` or ``"npz:FILE"``.
    train : Split
        Training examples, ``X`` of shape (m_train, n_features).
    validation : Split or None
        Held-out examples for choosing hyper-parameters; None when not split off.
    test : Split
        Test examples.
    n_classes : int
        Number of classes; labels are ``0 .. n_classes - 1``.
    class_names : tuple of str, length n_classes
        Name of each class (the original labels, as strings, for user data).
    digest : str
        Short SHA-256 (16 hex digits) identifying the source data, for model metadata.
    scaling : Scaling or None
        How the user's own data (CSV, npz) was scaled, fitted on ``train``; ``reason`` says
        why. None for MNIST and Fashion-MNIST, whose loaders divide the pixels by 255 always.
    """

    name: str
    train: Split
    validation: Split | None
    test: Split
    n_classes: int
    class_names: tuple[str, ...]
    digest: str
    scaling: Scaling | None = None

    def __repr__(self) -> str:
        parts = [f"{len(self.train):,} train"]
        if self.validation is not None:
            parts.append(f"{len(self.validation):,} validation")
        parts.append(f"{len(self.test):,} test")
        return (
            f"DataSets({self.name!r}: {' / '.join(parts)}, {self.n_features:,} features, "
            f"{self.n_classes} classes)"
        )

    # Jupyter's display (sizes and sample images): bprop.notebook draws it.
    def _repr_html_(self) -> str:
        from bprop.notebook import html

        return html(self)

    @property
    def n_features(self) -> int:
        """Number of input features (columns of ``X``)."""
        return int(self.train.X.shape[1])


def _float_dtype(dtype: Any) -> np.dtype:
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"dtype must be a floating-point type, got {dt}")
    return dt
