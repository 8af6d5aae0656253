"""A fully connected feed-forward network: the holder of its weights, biases, activations and
cost, in the seeds' notation.

``Network(sizes, activation, cost)`` draws the initial parameters (:func:`initial_parameters`)
and checks what users hand it once, at the boundary (:mod:`bprop._validate`): its methods
``feedforward``, ``backprop``, ``predict``, ``evaluate`` and ``total_cost`` call the pure
functions of :mod:`bprop.backprop` — the forward pass and BP1–BP4 over a whole mini-batch,
where the notation is set out — and ``SGD`` (the book's name) calls :func:`bprop.train.sgd`.
``weights[i]`` is w^(i+2), of shape ``(sizes[i+1], sizes[i])``; data holds one example per row.

Before drawing any parameter it checks their number against :data:`MAX_PARAMETERS` and the
memory they need against what the machine has free (:mod:`bprop._memory`), so an oversized
network is a ValueError, never a MemoryError or a machine brought to a crawl.

This module imports :mod:`bprop.train` only inside ``SGD``, and :mod:`bprop.train` never imports
this one (it takes the math from :mod:`bprop.backprop`), so the two make no import circle.  It
reads no files and never prints.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from bprop import _memory
from bprop import activations as _activations
from bprop import costs as _costs
from bprop._validate import all_finite, check_seed, inputs, one_hot, targets
from bprop.activations import Activation
from bprop.backprop import backprop, decide, deltas, feedforward, feedforward_trace
from bprop.costs import Cost
from bprop.errors import unknown_name

if TYPE_CHECKING:
    from bprop.train import History

# The math and the boundary checks live in bprop.backprop and bprop._validate; this module
# offers them too, as it did before they moved there.
__all__ = [
    "INITIALISATIONS",
    "MAX_PARAMETERS",
    "Network",
    "all_finite",
    "backprop",
    "deltas",
    "feedforward",
    "feedforward_trace",
    "initial_parameters",
    "one_hot",
]

Array = np.ndarray
INITIALISATIONS = ("standard", "scaled", "glorot", "he")
#: The most weights and biases a network may have: 2³¹ − 1, some 17 GB in float64 (the book's
#: largest network, 784-100-10, has 79,510). Below the cap, a network must also fit in the
#: memory free when it is made (see :func:`check_parameter_memory`).
MAX_PARAMETERS = 2**31 - 1
# Networks needing less than this are made without asking how much memory is free.
_ASK_MEMORY_ABOVE = 64 * 2**20


# -- the holder --------------------------------------------------------------------------------


class Network:
    """A fully connected feed-forward network, in the seeds' notation.

    Parameters
    ----------
    sizes : sequence of int
        Neurons per layer, input first: ``[784, 30, 10]`` is the book's digit classifier.
    activation : str, Activation, or a sequence of them
        σ for every layer with weights, or one per such layer (``len(sizes) − 1`` entries).
        Names: sigmoid, tanh, relu, leaky_relu, identity, softmax (output layer only).
    cost : str or Cost
        ``"quadratic"`` (the seeds' C = 1/(2n) Σ‖y − a‖²), ``"cross-entropy"`` or
        ``"log-likelihood"``.
    output_activation : str or Activation, optional
        σ of the output layer when it differs from the hidden layers' (e.g. ``"softmax"``).
    init : {"standard", "scaled", "glorot", "he"}
        standard: w, b ~ N(0, 1) (the seeds' program, Nielsen ch.1); scaled: w ~ N(0, 1/n_in),
        b ~ N(0, 1) (Nielsen ch.3); glorot: w ~ U(±√(6/(n_in + n_out))), b = 0; he:
        w ~ N(0, 2/n_in), b = 0.
    dtype : float64 (default) or float32
    seed : int, optional
        Seed of the initial weights; the same seed gives bit-identical weights.

    Attributes
    ----------
    weights : list of arrays
        ``weights[i]`` is w^(i+2), shape ``(sizes[i+1], sizes[i])``; entry ``[j, k]`` is w_jk.
    biases : list of arrays
        ``biases[i]`` is b^(i+2), shape ``(sizes[i+1],)``.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str | Activation | Sequence[str | Activation] = "sigmoid",
        cost: str | Cost = "quadratic",
        *,
        output_activation: str | Activation | None = None,
        init: str = "standard",
        dtype: Any = np.float64,
        seed: int | None = None,
    ) -> None:
        self.sizes = _check_sizes(sizes)
        self.dtype = _check_dtype(dtype)
        seed = check_seed(seed)
        check_parameter_memory(self.sizes, self.dtype)
        self.activations = _layer_activations(activation, output_activation, len(self.sizes) - 1)
        self.cost = _costs.get(cost)
        _check_pairing(self.activations, self.cost)
        if init not in INITIALISATIONS:
            raise unknown_name("init", str(init), INITIALISATIONS)
        self.init = init
        self.biases, self.weights = initial_parameters(self.sizes, init, self.dtype, seed)

    def __repr__(self) -> str:
        acts = [a.name for a in self.activations]
        act = acts[0] if len(set(acts)) == 1 else acts
        return (
            f"Network({list(self.sizes)}, activation={act!r}, cost={self.cost.name!r}, "
            f"dtype={np.dtype(self.dtype).name})"
        )

    # Jupyter's displays: bprop.notebook draws them; the math only hands itself over.
    def _repr_html_(self) -> str:
        from bprop.notebook import html

        return html(self)

    def _repr_svg_(self) -> str:
        from bprop.notebook import svg

        return svg(self)

    @property
    def num_layers(self) -> int:
        """L, the number of layers including the input layer."""
        return len(self.sizes)

    def feedforward(self, X: Any) -> Array:
        """Return the output a^L for each row of ``X``: a^l = σ(w^l a^(l−1) + b^l) per layer.

        Parameters
        ----------
        X : array ``(m, n_in)``, or ``(n_in,)`` for a single example

        Returns
        -------
        array ``(m, n_out)``, or ``(n_out,)`` for a single example
            The output layer's activations a^L.
        """
        x, single = self._inputs(X)
        a = feedforward(self.weights, self.biases, self.activations, x)
        return a[0] if single else a

    def backprop(self, X: Any, Y: Any) -> tuple[list[Array], list[Array]]:
        """Gradient of the mean cost over the rows of ``X``, by BP1–BP4 in matrix form.

        Parameters
        ----------
        X : array ``(m, n_in)``
        Y : array ``(m, n_out)`` of targets, or ``(m,)`` integer class labels

        Returns
        -------
        (nabla_b, nabla_w)
            Lists shaped like ``biases`` and ``weights``: ∂C/∂b^l and ∂C/∂w^l.
        """
        x, _ = self._inputs(X, batch_only=True)
        y = self.targets(Y, len(x))
        nabla_b, nabla_w, _ = backprop(self.weights, self.biases, self.activations, self.cost, x, y)
        return nabla_b, nabla_w

    def SGD(  # noqa: N802 - the book's name for it
        self,
        X: Any,
        Y: Any,
        epochs: int,
        mini_batch_size: int,
        eta: Any,
        **options: Any,
    ) -> History:
        """Train by mini-batch stochastic gradient descent; see :func:`bprop.train.sgd`.

        Each mini-batch of m examples applies the seeds' update
        ``w → w − (η/m) Σ_x δ^(x,l) (a^(x,l−1))ᵀ`` and ``b → b − (η/m) Σ_x δ^(x,l)``.
        With ``test_data``, prints the book's ``Epoch N: correct / total`` line after each
        epoch, as Nielsen's ``network.py`` does; without it, prints nothing (the book's
        ``Epoch N complete`` says nothing the returned History does not).  ``verbose=True``
        prints a line after every epoch either way, ``verbose=False`` never.

        Parameters
        ----------
        X : array ``(n, n_in)``
            Training inputs, one per row.
        Y : array ``(n, n_out)`` or ``(n,)``
            Targets, or integer class labels.
        epochs : int
            Passes over the training data.
        mini_batch_size : int
            m, the examples per update.
        eta : float or callable
            The learning rate η, or η(epoch).
        **options
            The keyword arguments of :func:`bprop.train.sgd` (``test_data``, ``lmbda``,
            ``momentum``, ``seed``, ``callbacks``, ``verbose`` …).

        Returns
        -------
        History
            One record per epoch, the configuration and the state to resume from.
        """
        from bprop.train import sgd

        options.setdefault("verbose", None)
        return sgd(self, X, Y, epochs, mini_batch_size, eta, **options)

    def predict(self, X: Any) -> Array:
        """Predicted class per row of ``X``: argmax of a^L (or a^L > ½ for one output).

        Parameters
        ----------
        X : array ``(m, n_in)``, or ``(n_in,)`` for a single example

        Returns
        -------
        array of int ``(m,)``, or an int for a single example
        """
        a = self.feedforward(X)
        if a.ndim == 1:
            return decide(a[None, :])[0]
        return decide(a)

    def evaluate(self, X: Any, y: Any) -> int:
        """Number of rows of ``X`` whose predicted class equals ``y`` (labels, or one-hot rows).

        This is the seeds' ``evaluate``: the network's answer is the index of the most
        activated output neuron.

        Parameters
        ----------
        X : array ``(m, n_in)``
        y : array ``(m,)`` of class labels, or ``(m, n_out)`` one-hot rows

        Returns
        -------
        int
            How many of the m examples are classified correctly.
        """
        x, _ = self._inputs(X, batch_only=True)
        labels = np.asarray(y)
        if labels.ndim == 2:
            labels = decide(labels) if labels.shape[1] > 1 else (labels[:, 0] > 0.5)
        if labels.shape != (len(x),):
            raise ValueError(
                f"y must hold one label per row of X ({len(x)}), got shape {labels.shape}"
            )
        return int(np.sum(self.predict(x) == labels))

    def total_cost(self, X: Any, Y: Any, lmbda: float = 0.0) -> float:
        """C over the rows of ``X``: the mean of C_x, plus (λ/2n) Σ w² when ``lmbda`` > 0."""
        x, _ = self._inputs(X, batch_only=True)
        y = self.targets(Y, len(x))
        c = self.cost(feedforward(self.weights, self.biases, self.activations, x), y)
        if lmbda:
            c += 0.5 * lmbda / len(x) * sum(float(np.sum(w * w)) for w in self.weights)
        return c

    # -- boundary checks: everything inside trusts its inputs ---------------------------------

    def _inputs(self, X: Any, batch_only: bool = False) -> tuple[Array, bool]:
        """``X`` as a C-contiguous ``(m, n_in)`` array of the network's dtype, and whether it
        was one example (a 1-D array, unless ``batch_only``)."""
        return inputs(X, self.sizes[0], self.dtype, batch_only)

    def targets(self, Y: Any, m: int) -> Array:
        """Target matrix ``(m, n_out)`` from a target matrix or a vector of class labels."""
        return targets(Y, m, self.sizes[-1], self.dtype)


def initial_parameters(
    sizes: Sequence[int], init: str, dtype: Any, seed: int | None
) -> tuple[list[Array], list[Array]]:
    """Random (biases, weights) for ``sizes`` by the named scheme (see :class:`Network`).

    Draws in float64 and casts, so a seed gives the same numbers in every dtype.  Each layer is
    scaled in place and cast as soon as it is drawn, so the only temporary is one layer's
    float64 draw.
    """
    rng = np.random.default_rng(seed)
    pairs = list(itertools.pairwise(sizes))
    # All biases are drawn before all weights: the order every earlier bprop drew them in.
    if init in ("standard", "scaled"):
        biases = [rng.standard_normal(n_out).astype(dtype, copy=False) for _, n_out in pairs]
    else:
        biases = [np.zeros(n_out, dtype) for _, n_out in pairs]
    weights = []
    for n_in, n_out in pairs:
        if init == "glorot":
            w = rng.uniform(-1, 1, (n_out, n_in))
            w *= np.sqrt(6.0 / (n_in + n_out))
        else:
            w = rng.standard_normal((n_out, n_in))
            if init == "scaled":
                w /= np.sqrt(n_in)
            elif init == "he":
                w *= np.sqrt(2.0 / n_in)
        weights.append(w.astype(dtype, copy=False))
    return biases, weights


def parameter_count(sizes: Sequence[int]) -> int:
    """Weights and biases of a network of ``sizes``: Σ_l n_l (n_(l−1) + 1)."""
    return sum(n_out * (n_in + 1) for n_in, n_out in itertools.pairwise(sizes))


def check_parameter_memory(sizes: Sequence[int], dtype: Any) -> None:
    """Raise ValueError when a network of ``sizes`` has more than :data:`MAX_PARAMETERS`
    parameters, or needs more memory than is free now (checked only above 64 MB).

    The memory needed is the parameters in ``dtype`` plus, for float32, the float64 draw of the
    largest layer before it is cast (:func:`initial_parameters`).
    """
    count = parameter_count(sizes)
    itemsize = np.dtype(dtype).itemsize
    largest = max(n_out * n_in for n_in, n_out in itertools.pairwise(sizes))
    need = count * itemsize + (largest * 8 if itemsize < 8 else 0)
    shape = "-".join(str(n) for n in sizes)
    what = (
        f"a {shape} network has {count:,} weights and biases ({_gb(count * itemsize)} in "
        f"{np.dtype(dtype).name})"
    )
    if count > MAX_PARAMETERS:
        raise ValueError(
            f"{what}; bprop allows at most {MAX_PARAMETERS:,} parameters: use fewer or "
            "narrower layers"
        )
    if need <= _ASK_MEMORY_ABOVE:
        return
    free = _memory.available_bytes()
    if free is not None and need > free:
        raise ValueError(
            f"{what}; making it needs {_gb(need)} but only {_gb(free)} of memory is free: use "
            "fewer or narrower layers, float32 (dtype=float32, --dtype float32), or free memory"
        )


def _gb(n_bytes: float) -> str:
    return f"{n_bytes / 1e9:.2f} GB"


def _check_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    out: tuple[int, ...] = ()
    try:
        ok = all(
            isinstance(s, numbers.Real) and not isinstance(s, bool) and math.isfinite(s)
            for s in sizes
        )
        ok = ok and all(int(s) == s for s in sizes)
        out = tuple(int(s) for s in sizes) if ok else ()
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok or len(out) < 2 or min(out) < 1:
        raise ValueError(
            f"sizes must list at least two positive layer widths, input first, e.g. [784, 30, 10];"
            f" got {sizes!r}"
        )
    return out


def _layer_activations(activation: Any, output_activation: Any, n_layers: int) -> list[Activation]:
    if isinstance(activation, (str, Activation)) or not isinstance(activation, Sequence):
        acts = [_activations.get(activation)] * n_layers
    else:
        acts = [_activations.get(a) for a in activation]
        if len(acts) != n_layers:
            raise ValueError(
                f"give one activation per layer with weights ({n_layers}), got {len(acts)}"
            )
    if output_activation is not None:
        acts[-1] = _activations.get(output_activation)
    for act in acts[:-1]:
        if not act.elementwise:
            raise ValueError(
                f"{act.name} can only be the output layer's activation; use it as output_activation"
            )
    return acts


def _check_pairing(acts: list[Activation], cost: Cost) -> None:
    out = acts[-1]
    bounded = out.name in ("sigmoid", "softmax")
    if cost.outputs_in_unit_interval and out.name in _activations.ACTIVATIONS and not bounded:
        raise ValueError(
            f"the {cost.name} cost takes logarithms of the outputs, so it needs outputs in (0, 1):"
            f" use a sigmoid or softmax output layer, not {out.name}"
        )


def _check_dtype(dtype: Any) -> Any:
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"dtype must be float64 or float32, got {dt}")
    return dt.type
