"""A fully connected feed-forward network and backpropagation over a whole mini-batch.

Notation (Nielsen, and the seeds): layers are numbered 1 (input) … L (output); ``w^l_jk`` is
the weight from neuron k of layer l−1 to neuron j of layer l, ``b^l_j`` the bias of neuron j
of layer l, and

    z^l = w^l a^(l−1) + b^l,    a^l = σ(z^l),    δ^l = ∂C/∂z^l.

Backpropagation is the four equations

    BP1  δ^L = ∇_a C ⊙ σ'(z^L)
    BP2  δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l)
    BP3  ∂C/∂b^l_j = δ^l_j
    BP4  ∂C/∂w^l_jk = a^(l−1)_k δ^l_j

Like Nielsen's ``network.py``, the Python lists are 0-based and hold only the layers that have
weights: ``weights[i]`` is w^(i+2), of shape ``(sizes[i+1], sizes[i])``, so ``weights[i][j, k]``
is w_jk exactly as in the equations.  Unlike it, data holds one example per *row*, so a
mini-batch of m examples goes through each layer as one matrix product: with ``a`` of shape
``(m, n_(l−1))`` the weighted input is ``z = a wᵀ + b``, of shape ``(m, n_l)`` — the transpose of
the column form above, with the m columns side by side.  BP4 summed over the mini-batch is then
the single product ``δᵀ a`` and BP3 a column sum.

The math is written as pure functions of ``(weights, biases, activations, cost)``;
:class:`Network` is a thin holder of those parameters.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from bprop import activations as _activations
from bprop import costs as _costs
from bprop.activations import Activation
from bprop.costs import Cost
from bprop.errors import unknown_name

if TYPE_CHECKING:
    from bprop.train import History

Array = np.ndarray
INITIALISATIONS = ("standard", "scaled", "glorot", "he")


# -- the math, as pure functions -------------------------------------------------------------


def feedforward_trace(
    weights: Sequence[Array], biases: Sequence[Array], acts: Sequence[Activation], x: Array
) -> tuple[list[Array], list[Array]]:
    """Run the forward pass and keep every layer's weighted input and activation.

    Parameters
    ----------
    x : array ``(m, n_1)``
        The input activations a^1, one example per row.

    Returns
    -------
    zs : list of arrays
        ``zs[i]`` is z^(i+2), shape ``(m, sizes[i+1])``.
    activations : list of arrays
        ``activations[0]`` is x (a^1) and ``activations[i]`` is a^(i+1), shape ``(m, sizes[i])``.
    """
    a = x
    zs, activations = [], [x]
    for w, b, act in zip(weights, biases, acts):
        z = a @ w.T  # z^l = w^l a^(l−1) + b^l, as rows: (m, n_l)
        z += b
        a = act(z)  # a^l = σ(z^l): (m, n_l)
        zs.append(z)
        activations.append(a)
    return zs, activations


def feedforward(
    weights: Sequence[Array], biases: Sequence[Array], acts: Sequence[Activation], x: Array
) -> Array:
    """Return the network's output a^L for inputs ``x`` ``(m, n_1)``; shape ``(m, n_L)``."""
    a = x
    for w, b, act in zip(weights, biases, acts):
        z = a @ w.T  # (m, n_l)
        z += b
        a = act(z)
    return a


def deltas(
    weights: Sequence[Array],
    acts: Sequence[Activation],
    cost: Cost,
    zs: Sequence[Array],
    activations: Sequence[Array],
    y: Array,
) -> list[Array]:
    """The error δ^l of every layer with weights, by BP1 and BP2, from a forward trace.

    ``zs`` and ``activations`` are :func:`feedforward_trace`'s; ``y`` the targets
    ``(m, n_L)``.  Returns ``delta[i]`` = δ^(i+2), shape ``(m, sizes[i+1])``: one row per
    example (so BP3/BP4 summed over the examples, and per-example diagnostics, both read it).
    """
    delta: list[Array] = [np.empty(0)] * len(weights)
    # BP1: δ^L = ∇_a C ⊙ σ'(z^L), one row per example: (m, n_L)
    delta[-1] = cost.delta(zs[-1], activations[-1], y, acts[-1])
    # As in Nielsen's code, index -l counts layers back from the output: -1 is layer L.
    for i in range(2, len(weights) + 1):
        # BP2: δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l); as rows, δ^(l+1) w^(l+1): (m, n_l)
        delta[-i] = acts[-i].delta(zs[-i], activations[-i], delta[-i + 1] @ weights[-i + 1])
    return delta


def backprop(
    weights: Sequence[Array],
    biases: Sequence[Array],
    acts: Sequence[Activation],
    cost: Cost,
    x: Array,
    y: Array,
) -> tuple[list[Array], list[Array], Array]:
    """Gradient of the mean cost C = (1/m) Σ_x C_x over a mini-batch, by BP1–BP4.

    All m examples go through together: no Python loop over examples.

    Parameters
    ----------
    x : array ``(m, n_1)``
        Inputs, one per row.
    y : array ``(m, n_L)``
        Target outputs, one per row.

    Returns
    -------
    nabla_b : list of arrays
        ∂C/∂b^l, shapes ``(n_l,)``, in the order of ``biases``.
    nabla_w : list of arrays
        ∂C/∂w^l, shapes ``(n_l, n_(l−1))``, in the order of ``weights``.
    output : array ``(m, n_L)``
        a^L from the forward pass, so callers can report the cost without a second pass.
    """
    m = x.shape[0]
    zs, activations = feedforward_trace(weights, biases, acts, x)
    nabla_b, nabla_w = [], []
    for delta, a_prev in zip(deltas(weights, acts, cost, zs, activations, y), activations):
        # BP3: ∂C/∂b^l = δ^l, averaged over the m examples: (n_l,)
        nabla_b.append(delta.sum(axis=0) / m)
        # BP4: ∂C/∂w^l_jk = a^(l−1)_k δ^l_j, summed over examples as δᵀ a: (n_l, n_(l−1))
        nabla_w.append(delta.T @ a_prev)
        nabla_w[-1] /= m
    return nabla_b, nabla_w, activations[-1]


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
        self.activations = _layer_activations(activation, output_activation, len(self.sizes) - 1)
        self.cost = _costs.get(cost)
        _check_pairing(self.activations, self.cost)
        self.dtype = _check_dtype(dtype)
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

    @property
    def num_layers(self) -> int:
        """L, the number of layers including the input layer."""
        return len(self.sizes)

    def feedforward(self, X: Any) -> Array:
        """Return the output a^L for each row of ``X`` ``(m, n_in)``; shape ``(m, n_out)``.

        A single example may be given as a 1-D array ``(n_in,)``; the result is then
        ``(n_out,)``.
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
        Prints the book's ``Epoch N: correct / total`` line per epoch unless
        ``verbose=False``.
        """
        from bprop.train import sgd

        options.setdefault("verbose", True)
        return sgd(self, X, Y, epochs, mini_batch_size, eta, **options)

    def predict(self, X: Any) -> Array:
        """Predicted class per row of ``X``: argmax of a^L (or a^L > ½ for one output)."""
        a = self.feedforward(X)
        if a.ndim == 1:
            return _decide(a[None, :])[0]
        return _decide(a)

    def evaluate(self, X: Any, y: Any) -> int:
        """Number of rows of ``X`` whose predicted class equals ``y`` (labels, or one-hot rows).

        This is the seeds' ``evaluate``: the network's answer is the index of the most
        activated output neuron.
        """
        x, _ = self._inputs(X, batch_only=True)
        labels = np.asarray(y)
        if labels.ndim == 2:
            labels = _decide(labels) if labels.shape[1] > 1 else (labels[:, 0] > 0.5)
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
        x = np.asarray(X)
        if x.dtype.kind not in "biuf":
            raise TypeError(f"X must hold numbers, got dtype {x.dtype}")
        single = x.ndim == 1 and not batch_only
        if single:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(
                f"X must have shape (m, {self.sizes[0]}) — one example of {self.sizes[0]} "
                f"inputs per row — got {x.shape}"
            )
        x = np.ascontiguousarray(x, dtype=self.dtype)
        if not all_finite(x):
            raise ValueError("X contains NaN or infinite values; clean or impute them first")
        return x, single

    def targets(self, Y: Any, m: int) -> Array:
        """Target matrix ``(m, n_out)`` from a target matrix or a vector of class labels."""
        y = np.asarray(Y)
        n_out = self.sizes[-1]
        if y.dtype.kind not in "biuf":
            raise TypeError(
                f"Y must hold numbers (targets or integer class labels), got dtype {y.dtype}; "
                "encode text labels as 0 … n_out−1 first"
            )
        if not all_finite(y):
            raise ValueError("Y contains NaN or infinite values")
        if y.ndim == 1 and n_out > 1:
            if y.dtype.kind not in "iub" and not np.all(np.mod(y, 1) == 0):
                raise ValueError("a 1-D Y must hold integer class labels 0 … n_out−1")
            return one_hot(y.astype(np.int64), n_out, self.dtype)
        if y.ndim == 1:
            y = y[:, None]
        if y.shape != (m, n_out):
            raise ValueError(
                f"Y must be targets of shape ({m}, {n_out}) or {m} class labels, got {y.shape}"
            )
        return np.ascontiguousarray(y, dtype=self.dtype)


def all_finite(x: Array) -> bool:
    """True when no entry of ``x`` is NaN or ±inf.

    Checked through the minimum and maximum (NaN propagates through both, ±inf is an
    extreme), so a training set is scanned without a temporary as large as itself.
    """
    if x.size == 0 or x.dtype.kind not in "fc":
        return True
    return bool(np.isfinite(np.min(x)) and np.isfinite(np.max(x)))


def one_hot(labels: Array, n: int, dtype: Any = np.float64) -> Array:
    """Row i has a 1 in column ``labels[i]``: ``(m, n)`` (the seeds' ``vectorized_result``)."""
    if labels.size and (labels.min() < 0 or labels.max() >= n):
        raise ValueError(
            f"class labels must lie in 0…{n - 1} for {n} output neurons, got "
            f"{labels.min()}…{labels.max()}"
        )
    y = np.zeros((len(labels), n), dtype=dtype)
    y[np.arange(len(labels)), labels] = 1
    return y


def _decide(a: Array) -> Array:
    if a.shape[1] == 1:
        return (a[:, 0] > 0.5).astype(np.int64)
    return np.argmax(a, axis=1)


def initial_parameters(
    sizes: Sequence[int], init: str, dtype: Any, seed: int | None
) -> tuple[list[Array], list[Array]]:
    """Random (biases, weights) for ``sizes`` by the named scheme (see :class:`Network`).

    Draws in float64 and casts, so a seed gives the same numbers in every dtype.
    """
    rng = np.random.default_rng(seed)
    pairs = list(itertools.pairwise(sizes))
    if init == "standard":
        biases = [rng.standard_normal(n_out) for _, n_out in pairs]
        weights = [rng.standard_normal((n_out, n_in)) for n_in, n_out in pairs]
    elif init == "scaled":
        biases = [rng.standard_normal(n_out) for _, n_out in pairs]
        weights = [rng.standard_normal((n_out, n_in)) / np.sqrt(n_in) for n_in, n_out in pairs]
    elif init == "glorot":
        biases = [np.zeros(n_out) for _, n_out in pairs]
        weights = [
            rng.uniform(-1, 1, (n_out, n_in)) * np.sqrt(6.0 / (n_in + n_out))
            for n_in, n_out in pairs
        ]
    else:  # he
        biases = [np.zeros(n_out) for _, n_out in pairs]
        weights = [
            rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in) for n_in, n_out in pairs
        ]
    return [b.astype(dtype) for b in biases], [w.astype(dtype) for w in weights]


def _check_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    try:
        out = tuple(int(s) for s in sizes)
        ok = all(int(s) == s for s in sizes)
    except (TypeError, ValueError):
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
