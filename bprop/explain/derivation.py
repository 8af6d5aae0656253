"""Backpropagation worked step by step, every number written out, for any small network.

The article in the seeds (003) trains a 2-2-2 sigmoid network by hand for one step: the forward
pass, the total error, the chain rule for an output weight, the output error δ, the two error
paths that meet at a hidden neuron, every updated weight, and the error after the update.  This
module does that for any small fully connected network, exactly:

* :func:`derive` computes every number with the library (:func:`bprop.network.feedforward_trace`,
  :func:`bprop.network.backprop`, the cost and activation objects) into a :class:`Derivation`,
  and checks that each chain-rule product equals ``backprop``'s gradient;
* :func:`render` writes a derivation as text, Markdown, LaTeX or a self-contained HTML page, in
  English or Chinese (the seeds' own terms), step by step or in Nielsen's matrix form (BP1–BP4);
* :func:`errata` checks every figure the article prints against exact arithmetic;
* :func:`error_table` runs N updates and returns the error after each (:func:`render_steps`);
* :func:`problem_from_spec` builds a network, its one example and η from a JSON-style dict.

Numbers are shown rounded to 9 decimal places with trailing zeros dropped (0.3775, 0.75136507),
the way the article prints them; they are only rounded for display.  The 2-2-2 … n-m-k networks
with one hidden layer use the article's names (i1, h1, o1, w1…, net_h1, out_h1, δ_o1, E_total);
deeper networks use Nielsen's (w³₁₂, z²₁, a²₁, δ²₁, C).

The module never prints and never reads files: the ``bprop explain`` command does.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bprop.explain.i18n import _ERRATA_TEXT, _cost_name, _li, _t
from bprop.explain.mathlayout import (
    MUL,
    PLUS,
    M,
    _exp,
    _fn,
    _m,
    cat,
    frac,
    join,
    matrix,
    num,
    number,
    paren,
    partial,
    plus_sup,
    sym,
)
from bprop.network import Network, backprop, feedforward, feedforward_trace

Array = np.ndarray

#: Largest network shown step by step (and as an HTML page): neurons per layer, layers.
STEP_LIMIT = (6, 4)
#: Largest network shown in matrix form (``matrix=True``).
MATRIX_LIMIT = (10, 6)


# == the numbers ================================================================================


@dataclass(frozen=True)
class PathTerm:
    """One error path into a hidden neuron: δ of a neuron downstream times the weight between.

    In the article: ∂E_o1/∂out_h1 = ∂E_o1/∂net_o1 · ∂net_o1/∂out_h1 = δ_o1 · w5.
    """

    via: tuple[int, int]  # (l, j) of the downstream neuron
    weight: tuple[int, int, int]  # (l, j, k) of the weight from this neuron to it
    delta: float
    w: float
    value: float


@dataclass(frozen=True)
class NeuronStep:
    """One neuron's numbers: ``l`` (1 = input layer) and ``j`` (0-based) place it.

    ``net`` is z^l_j (None in the input layer), ``out`` a^l_j, ``prime`` ∂out/∂net = σ'(z)
    (None for softmax, which is not element-wise), ``d_out`` ∂E/∂out, ``delta`` δ^l_j = ∂E/∂net,
    ``paths`` the terms summed into ``d_out`` for a hidden neuron (BP2), ``error`` the output
    neuron's share of E (E_o1), ``bias`` b^l_j.
    """

    l: int  # noqa: E741 - the book's layer index
    j: int
    out: float
    net: float | None = None
    bias: float | None = None
    prime: float | None = None
    d_out: float | None = None
    delta: float | None = None
    paths: tuple[PathTerm, ...] = ()
    error: float | None = None
    target: float | None = None


@dataclass(frozen=True)
class WeightStep:
    """One weight w^l_jk (from neuron k of layer l−1 to neuron j of layer l) and its update.

    ``gradient`` is ``backprop``'s ∂E/∂w; ``d_out`` · ``prime`` · ``d_net`` is the article's
    three-factor chain rule for it (``d_net`` = ∂net/∂w = the input a^(l−1)_k); ``updated`` is
    w − η ∂E/∂w.
    """

    l: int  # noqa: E741
    j: int
    k: int
    value: float
    d_out: float | None
    prime: float | None
    d_net: float
    delta: float
    gradient: float
    updated: float


@dataclass(frozen=True)
class BiasStep:
    """b^l_j, its gradient ∂E/∂b = δ (BP3), and b − η δ when biases are updated."""

    l: int  # noqa: E741
    j: int
    value: float
    gradient: float
    updated: float


@dataclass(frozen=True)
class Derivation:
    """Every number of one training step of a network on one example.

    Attributes
    ----------
    sizes : tuple of int
        Neurons per layer, input first.
    activations : tuple of str
        σ of each layer with weights (``len(sizes) − 1`` names).
    cost : str
        The cost's registered name.
    eta : float
        The learning rate η.
    layers : tuple of tuples of NeuronStep
        ``layers[l − 1][j]`` is neuron j of layer l (``layers[0]`` the inputs).
    weights : tuple of WeightStep
        Layer by layer, then j, then k (the article's w1, w2, … order).
    biases : tuple of BiasStep
    error, error_after : float
        E before the update and after it (one forward pass with the updated parameters).
    output_after : tuple of float
        a^L after the update.
    update_biases : bool
        Whether the step updates the biases (the article holds them fixed).
    w, b, nabla_w, nabla_b, zs, activations : lists of arrays
        The same numbers in matrix form: w^l ``(n_l, n_(l−1))``, b^l ``(n_l,)``, ∂E/∂w^l,
        ∂E/∂b^l = δ^l, z^l ``(n_l,)`` and a^l ``(n_l,)`` (``activations[0]`` is x).
    is_article : bool
        True for the article's own example (inputs, targets, weights, biases, η, σ, cost).
    """

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    cost: str
    eta: float
    layers: tuple[tuple[NeuronStep, ...], ...]
    weights: tuple[WeightStep, ...]
    biases: tuple[BiasStep, ...]
    error: float
    error_after: float
    output_after: tuple[float, ...]
    update_biases: bool
    w: list[Array]
    b: list[Array]
    nabla_w: list[Array]
    nabla_b: list[Array]
    zs: list[Array]
    acts: list[Array]
    is_article: bool = False

    @property
    def output_rule(self) -> str:
        """How δ^L comes about: ``"chain"`` (∂E/∂out · σ'), ``"simplified"`` (out − target,
        the cost's exact simplification) or ``"softmax"`` (softmax's Jacobian)."""
        return _output_rule(self.activations[-1], self.cost)

    def weight(self, name: str) -> WeightStep:
        """A weight by its shown name: the article's ``"w5"``, or Nielsen's ``"w3_11"``."""
        names = _Names(self)
        for ws in self.weights:
            if names.weight_key(ws.l, ws.j, ws.k) == name:
                return ws
        raise KeyError(f"no weight named {name!r}")

    def neuron(self, l: int, j: int) -> NeuronStep:  # noqa: E741
        """Neuron j (0-based) of layer l (1 = input)."""
        return self.layers[l - 1][j]


def _output_rule(activation: str, cost: str) -> str:
    from bprop import costs as _costs

    if activation in _costs.get(cost).exact_delta:
        return "simplified"
    if activation == "softmax":
        return "softmax"
    return "chain"


def _agree(a: float, b: float, what: str) -> None:
    """The derivation's chain-rule product must equal backprop's number (up to rounding)."""
    if not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-300):
        raise ArithmeticError(f"explain: {what} is {a!r} by the chain rule, {b!r} by backprop")


def derive(net: Network, x: Any, y: Any, eta: float, *, update_biases: bool = False) -> Derivation:
    """Compute one training step of ``net`` on one example, every number kept.

    Parameters
    ----------
    net : Network
        Left unchanged.
    x : array ``(n_1,)`` or ``(1, n_1)``
        The inputs.
    y : array ``(n_L,)`` or ``(1, n_L)``
        The targets.
    eta : float
        The learning rate η > 0.
    update_biases : bool
        Also update the biases (BP3).  The article holds them fixed.

    Raises
    ------
    ValueError
        For inputs or targets of the wrong length, or η ≤ 0.
    """
    x = _row(x, net.sizes[0], "inputs")
    y = _row(y, net.sizes[-1], "targets")
    if not (isinstance(eta, (int, float)) and math.isfinite(eta) and eta > 0):
        raise ValueError(f"the learning rate eta must be a number > 0, got {eta!r}")
    w, b, acts, cost = net.weights, net.biases, net.activations, net.cost
    zs, a = feedforward_trace(w, b, acts, x)
    nabla_b, nabla_w, out = backprop(w, b, acts, cost, x, y)
    deltas = [nb.copy() for nb in nabla_b]  # one example: ∂E/∂b^l = δ^l exactly (BP3)
    rule = _output_rule(acts[-1].name, cost.name)
    n_layers = len(net.sizes)

    layers: list[tuple[NeuronStep, ...]] = [
        tuple(NeuronStep(1, k, float(v)) for k, v in enumerate(x[0]))
    ]
    for i in range(n_layers - 1):
        l = i + 2  # noqa: E741
        z, act, d = zs[i][0], acts[i], deltas[i]
        prime = act.prime(zs[i], a[i + 1])[0] if act.elementwise else None
        if l == n_layers:
            g = cost.nabla_a(a[-1].copy(), y)[0]
            errors = [float(cost.fn(a[-1][:, [j]], y[:, [j]])[0]) for j in range(len(z))]
            paths = [()] * len(z)
        else:
            paths = [
                tuple(
                    PathTerm(
                        (l + 1, q),
                        (l + 1, q, j),
                        float(deltas[i + 1][q]),
                        float(w[i + 1][q, j]),
                        float(deltas[i + 1][q] * w[i + 1][q, j]),
                    )
                    for q in range(net.sizes[i + 2])
                )
                for j in range(len(z))
            ]
            g = np.array([math.fsum(p.value for p in ps) for ps in paths])
            errors = [None] * len(z)
        neurons = []
        for j in range(len(z)):
            pj = None if prime is None else float(prime[j])
            if pj is not None and (l < n_layers or rule == "chain"):
                _agree(float(g[j] * pj), float(d[j]), f"δ of neuron {j + 1} in layer {l}")
            neurons.append(
                NeuronStep(
                    l,
                    j,
                    float(a[i + 1][0, j]),
                    float(z[j]),
                    float(b[i][j]),
                    pj,
                    float(g[j]),
                    float(d[j]),
                    paths[j],
                    errors[j],
                    float(y[0, j]) if l == n_layers else None,
                )
            )
        layers.append(tuple(neurons))

    weights, new_w = [], [wi.copy() for wi in w]
    for i, (wi, nw) in enumerate(zip(w, nabla_w)):
        for j in range(wi.shape[0]):
            neuron = layers[i + 1][j]
            for k in range(wi.shape[1]):
                a_in = float(a[i][0, k])
                grad = float(nw[j, k])
                _agree(neuron.delta * a_in, grad, f"∂E/∂w of layer {i + 2}, j={j + 1}, k={k + 1}")
                updated = float(wi[j, k] - eta * nw[j, k])  # what SGD does: w −= η ∂E/∂w
                new_w[i][j, k] = updated
                weights.append(
                    WeightStep(
                        i + 2,
                        j,
                        k,
                        float(wi[j, k]),
                        neuron.d_out,
                        neuron.prime,
                        a_in,
                        neuron.delta,
                        grad,
                        updated,
                    )
                )
    new_b = [bi.copy() for bi in b]
    biases = []
    for i, (bi, nb) in enumerate(zip(b, nabla_b)):
        for j in range(len(bi)):
            updated = float(bi[j] - eta * nb[j]) if update_biases else float(bi[j])
            new_b[i][j] = updated
            biases.append(BiasStep(i + 2, j, float(bi[j]), float(nb[j]), updated))
    out_after = feedforward(new_w, new_b, acts, x)
    return Derivation(
        sizes=tuple(net.sizes),
        activations=tuple(act.name for act in acts),
        cost=cost.name,
        eta=float(eta),
        layers=tuple(layers),
        weights=tuple(weights),
        biases=tuple(biases),
        error=cost(out, y),
        error_after=cost(out_after, y),
        output_after=tuple(float(v) for v in out_after[0]),
        update_biases=update_biases,
        w=[wi.copy() for wi in w],
        b=[bi.copy() for bi in b],
        nabla_w=[nw.copy() for nw in nabla_w],
        nabla_b=[nb.copy() for nb in nabla_b],
        zs=[z[0].copy() for z in zs],
        acts=[v[0].copy() for v in a],
        is_article=_is_article(net, x, y, eta, update_biases),
    )


def _row(v: Any, n: int, what: str) -> Array:
    arr = np.asarray(v, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.shape != (n,):
        raise ValueError(f"{what} must be {n} numbers (one per neuron), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} must be finite numbers, got {arr.tolist()}")
    return arr[None, :]


def _is_article(net: Network, x: Array, y: Array, eta: float, update_biases: bool) -> bool:
    from bprop.examples import worked_example

    ex = worked_example()
    return (
        not update_biases
        and eta == ex.eta
        and list(net.sizes) == list(ex.net.sizes)
        and [act.name for act in net.activations] == ["sigmoid", "sigmoid"]
        and net.cost.name == "quadratic"
        and np.array_equal(x, ex.x)
        and np.array_equal(y, ex.y)
        and all(np.array_equal(p, q) for p, q in zip(net.weights, ex.net.weights))
        and all(np.array_equal(p, q) for p, q in zip(net.biases, ex.net.biases))
    )


# == problems: the article's, from a spec, from options =========================================


@dataclass
class Problem:
    """A network, its one training example and η: what ``bprop explain`` works through."""

    net: Network
    x: Array  # (1, n_1)
    y: Array  # (1, n_L)
    eta: float
    update_biases: bool = False


SPEC_KEYS = (
    "sizes",
    "activation",
    "output_activation",
    "cost",
    "eta",
    "inputs",
    "targets",
    "weights",
    "biases",
    "seed",
    "update_biases",
)


def article_spec() -> dict[str, Any]:
    """The article's example as a spec dict (from :func:`bprop.examples.worked_example`)."""
    from bprop.examples import worked_example

    ex = worked_example()
    return {
        "sizes": list(ex.net.sizes),
        "activation": "sigmoid",
        "cost": "quadratic",
        "eta": ex.eta,
        "inputs": ex.x[0].tolist(),
        "targets": ex.y[0].tolist(),
        "weights": [w.tolist() for w in ex.net.weights],
        "biases": [b.tolist() for b in ex.net.biases],
    }


def problem_from_spec(spec: dict[str, Any]) -> Problem:
    """Build a :class:`Problem` from a JSON-style dict.

    Keys: ``sizes`` (required, e.g. ``[2, 2, 2]``), ``activation`` (name or one per layer with
    weights; default sigmoid), ``output_activation``, ``cost`` (default quadratic), ``eta``
    (default 0.5), ``inputs`` (n_1 numbers), ``targets`` (n_L numbers), ``weights`` (one
    ``n_l × n_(l−1)`` list of rows per layer: ``weights[i][j][k]`` is w_jk of layer i + 2),
    ``biases`` (per layer, n_l numbers or one number shared by the layer, as in the article),
    ``seed`` (random weights and biases when ``weights``/``biases`` are absent; default 0) and
    ``update_biases`` (default false).

    Raises
    ------
    ValueError
        Naming the key that is missing or has the wrong shape, and the shape it needs.
    """
    if not isinstance(spec, dict):
        raise ValueError(f"a network spec must be a JSON object, got {type(spec).__name__}")
    unknown = sorted(set(spec) - set(SPEC_KEYS))
    if unknown:
        raise ValueError(
            f"unknown key(s) {', '.join(unknown)} in the spec; known: {', '.join(SPEC_KEYS)}"
        )
    if "sizes" not in spec:
        raise ValueError('the spec needs "sizes", e.g. "sizes": [2, 2, 2]')
    sizes = spec["sizes"]
    if (
        not isinstance(sizes, list)
        or len(sizes) < 2
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in sizes)
    ):
        raise ValueError(
            f'"sizes" must be a list of at least two positive whole numbers, got {sizes!r}'
        )
    seed = spec.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f'"seed" must be a whole number, got {seed!r}')
    net = Network(
        sizes,
        spec.get("activation", "sigmoid"),
        spec.get("cost", "quadratic"),
        output_activation=spec.get("output_activation"),
        seed=seed,
    )
    if spec.get("weights") is not None:
        net.weights = _weights(spec["weights"], sizes)
    if spec.get("biases") is not None:
        net.biases = _biases(spec["biases"], sizes)
    for key in ("inputs", "targets"):
        if key not in spec:
            n = sizes[0] if key == "inputs" else sizes[-1]
            raise ValueError(
                f'the spec needs "{key}": {n} numbers, one per neuron of that layer (--{key} on '
                "the command line)"
            )
    x = _row(_numbers(spec["inputs"], "inputs"), sizes[0], '"inputs"')
    y = _row(_numbers(spec["targets"], "targets"), sizes[-1], '"targets"')
    eta = spec.get("eta", 0.5)
    if (
        isinstance(eta, bool)
        or not isinstance(eta, (int, float))
        or not (math.isfinite(eta) and eta > 0)
    ):
        raise ValueError(f'"eta" (the learning rate η) must be a number > 0, got {eta!r}')
    update = spec.get("update_biases", False)
    if not isinstance(update, bool):
        raise ValueError(f'"update_biases" must be true or false, got {update!r}')
    return Problem(net, x, y, float(eta), update)


def _numbers(v: Any, what: str) -> Array:
    try:
        arr = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f'"{what}" must hold numbers, got {v!r}') from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f'"{what}" must hold finite numbers, got {v!r}')
    return arr


def _weights(v: Any, sizes: list[int]) -> list[Array]:
    if not isinstance(v, list) or len(v) != len(sizes) - 1:
        raise ValueError(
            f'"weights" must be a list of {len(sizes) - 1} matrices, one per layer after the input'
        )
    out = []
    for i, m in enumerate(v):
        want = (sizes[i + 1], sizes[i])
        try:
            arr = _numbers(m, "weights")
        except ValueError:
            arr = np.empty(0)
        if arr.shape != want:
            raise ValueError(
                f'"weights"[{i}] (layer {i + 2}) must be {want[0]} rows of {want[1]} numbers — '
                f"row j holds the weights into neuron j from each neuron k of layer {i + 1} — "
                f"got shape {arr.shape}"
            )
        out.append(arr.copy())
    return out


def _biases(v: Any, sizes: list[int]) -> list[Array]:
    if not isinstance(v, list) or len(v) != len(sizes) - 1:
        raise ValueError(
            f'"biases" must be a list of {len(sizes) - 1} entries, one per layer after the input'
        )
    out = []
    for i, entry in enumerate(v):
        arr = _numbers(entry, "biases")
        if arr.ndim == 0:
            arr = np.full(sizes[i + 1], float(arr))  # one bias shared by the layer
        if arr.shape != (sizes[i + 1],):
            raise ValueError(
                f'"biases"[{i}] (layer {i + 2}) must be {sizes[i + 1]} numbers or one shared '
                f"number, got shape {arr.shape}"
            )
        out.append(arr.copy())
    return out


def check_limits(sizes: Sequence[int], *, matrix: bool = False) -> None:
    """Raise ValueError when ``sizes`` is too large to print legibly in the chosen view."""
    per_layer, layers = MATRIX_LIMIT if matrix else STEP_LIMIT
    if max(sizes) <= per_layer and len(sizes) <= layers:
        return
    shape = "-".join(str(n) for n in sizes)
    view = "in matrix form" if matrix else "step by step"
    hint = (
        ""
        if matrix
        else (
            f"; use --matrix (up to {MATRIX_LIMIT[0]} neurons per layer and {MATRIX_LIMIT[1]} "
            "layers) or --steps N for the error table"
        )
    )
    raise ValueError(
        f"the network {shape} is too large to explain {view}: the limit is {per_layer} neurons "
        f"per layer and {layers} layers{hint}"
    )


# == training for --steps =======================================================================


def error_table(
    net: Network, x: Any, y: Any, eta: float, steps: int, *, update_biases: bool = False
) -> list[tuple[int, float]]:
    """E after 0, 1, …, ``steps`` updates on the one example (``net`` is left unchanged).

    Uses the library's SGD with one example per step, no shuffling and, like the article,
    fixed biases unless ``update_biases``.  Returns ``steps + 1`` rows ``(step, error)``.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be a whole number ≥ 0, got {steps!r}")
    x = _row(x, net.sizes[0], "inputs")
    y = _row(y, net.sizes[-1], "targets")
    copy = Network(net.sizes, list(net.activations), net.cost)
    copy.weights = [w.copy() for w in net.weights]
    copy.biases = [b.copy() for b in net.biases]
    history = copy.SGD(
        x, y, steps, 1, eta, shuffle=False, update_biases=update_biases, verbose=False, seed=0
    )
    # Each epoch's train_cost is measured on the way through, before that epoch's update.
    errors = [r.train_cost for r in history.epochs] + [copy.total_cost(x, y)]
    return list(enumerate(errors))


def table_rows(n_steps: int) -> list[int]:
    """The steps a table of ``n_steps`` updates shows: 0–5, 10, 20, 50, 100, …, and the last."""
    rows = {s for s in range(min(n_steps, 5) + 1)}
    scale = 10
    while scale <= n_steps:
        rows.update(s for s in (scale, 2 * scale, 5 * scale) if s <= n_steps)
        scale *= 10
    rows.add(n_steps)
    return sorted(rows)


# == the article's errata =======================================================================


@dataclass(frozen=True)
class Erratum:
    """A place where the article's printed figure differs from exact arithmetic (or a note).

    ``kind`` is ``"error"`` (a wrong figure), ``"precision"`` (right, but a digit dropped) or
    ``"text"`` (a wrong word or heading).  ``reproduced`` is the figure the likely cause gives,
    computed, where there is one.
    """

    key: str
    kind: str
    printed: str
    exact: str
    reproduced: str | None = None

    def where(self, lang: str = "en") -> str:
        return _ERRATA_TEXT[self.key][0][_li(lang)]

    def cause(self, lang: str = "en") -> str:
        return _ERRATA_TEXT[self.key][1][_li(lang)].format(reproduced=self.reproduced or "")


# Every figure the article prints, as printed (the article's text, not computed): key, figure.
ARTICLE_FIGURES: tuple[tuple[str, str], ...] = (
    ("net_h1", "0.3775"),
    ("out_h1", "0.593269992"),
    ("out_h2", "0.596884378"),
    ("net_o1", "1.105905967"),
    ("out_o1", "0.75136507"),
    ("out_o2", "0.772928465"),
    ("output_vector_o1", "0.75136079"),
    ("output_vector_o2", "0.772928465"),
    ("E_o1", "0.274811083"),
    ("E_o2", "0.023560026"),
    ("E_total", "0.298371109"),
    ("dE_dout_o1", "0.74136507"),
    ("dout_dnet_o1", "0.186815602"),
    ("dnet_o1_dw5", "0.593269992"),
    ("dE_dw5", "0.082167041"),
    ("w5+", "0.35891648"),
    ("w6+", "0.408666186"),
    ("w7+", "0.511301270"),
    ("w8+", "0.561370121"),
    ("delta_o1", "0.138498562"),
    ("dEo1_dout_h1", "0.055399425"),
    ("dEo2_dout_h1", "-0.019049119"),
    ("dE_dout_h1", "0.036350306"),
    ("out_h1_in_sigma_prime", "0.59326999"),
    ("dout_dnet_h1", "0.241300709"),
    ("dE_dw1", "0.000438568"),
    ("w1+", "0.149780716"),
    ("w2+", "0.19956143"),
    ("w3+", "0.24975114"),
    ("w4+", "0.29950229"),
    ("E_after_1", "0.291027924"),
    ("E_after_10000", "0.000035085"),
    ("out_o1_after_10000", "0.015912196"),
    ("out_o2_after_10000", "0.984065734"),
    ("program_target_o2", "0.09"),
)

# The article's words where they are wrong: key, printed, correct.
ARTICLE_TEXT: tuple[tuple[str, str, str], ...] = (
    ("heading_hidden", "隐含层——>隐含层的权值更新", "输入层——>隐含层的权值更新"),
    ("h1_output_name", "神经元 h_1 的输出 o_1", "神经元 h_1 的输出 out_h1"),
    ("original_input", "(原输入为[0.01, 0.99])", "(目标输出为[0.01, 0.99])"),
)


_CAUSE_KIND = {
    "output_vector_o1": "error",
    "dEo2_dout_h1": "error",
    "E_after_1": "error",
    "E_after_10000": "error",
    "out_o1_after_10000": "error",
    "out_o2_after_10000": "error",
    "program_target_o2": "error",
}


def errata() -> list[Erratum]:
    """Check every figure the article prints (:data:`ARTICLE_FIGURES`) against the library.

    A figure that differs from the exact value at the decimals printed is an ``"error"``; one
    that is right but shows fewer than 9 decimals where the 9th is not 0 is a ``"precision"``
    note.  The article's wrong words (:data:`ARTICLE_TEXT`) and its fixed biases follow.  Each
    erratum's ``reproduced`` is the figure its likely cause gives, computed.
    """
    return list(_errata())


@functools.lru_cache(maxsize=1)
def _errata() -> tuple[Erratum, ...]:
    exact = _article_exact()
    reproduced = _article_slips()
    out = []
    for key, printed in ARTICLE_FIGURES:
        decimals = len(printed.split(".")[1])
        value = exact[key]
        if f"{value:.{decimals}f}" != printed:
            if key not in _ERRATA_TEXT:
                raise ArithmeticError(
                    f"explain: the article's {key} = {printed} is off ({value!r})"
                )
            out.append(
                Erratum(
                    key, _CAUSE_KIND.get(key, "error"), printed, number(value), reproduced.get(key)
                )
            )
        elif number(value) != printed and number(value) != printed.rstrip("0"):
            out.append(Erratum(key, "precision", printed, number(value)))
    for key, printed, correct in ARTICLE_TEXT:
        out.append(Erratum(key, "text", printed, correct))
    from bprop.examples import worked_example

    b = worked_example().net.biases
    out.append(
        Erratum(
            "biases",
            "note",
            "b1 = 0.35, b2 = 0.6",
            f"b1 = {number(b[0][0])}, b2 = {number(b[1][0])}",
        )
    )
    return tuple(out)


def _article_exact() -> dict[str, float]:
    """The exact value of each of the article's figures, by the library."""
    from bprop.examples import worked_example

    ex = worked_example()
    d = derive(ex.net, ex.x, ex.y, ex.eta)
    h1, h2 = d.layers[1]
    o1, o2 = d.layers[2]
    names = {f"w{n}": ws for n, ws in enumerate(d.weights, start=1)}
    w5 = names["w5"]
    ex.train(10000)
    out = ex.net.feedforward(ex.x)[0]
    return {
        "net_h1": h1.net,
        "out_h1": h1.out,
        "out_h2": h2.out,
        "net_o1": o1.net,
        "out_o1": o1.out,
        "out_o2": o2.out,
        "output_vector_o1": o1.out,
        "output_vector_o2": o2.out,
        "E_o1": o1.error,
        "E_o2": o2.error,
        "E_total": d.error,
        "dE_dout_o1": o1.d_out,
        "dout_dnet_o1": o1.prime,
        "dnet_o1_dw5": w5.d_net,
        "dE_dw5": w5.gradient,
        "delta_o1": o1.delta,
        **{f"w{n}+": names[f"w{n}"].updated for n in range(1, 9)},
        "dEo1_dout_h1": h1.paths[0].value,
        "dEo2_dout_h1": h1.paths[1].value,
        "dE_dout_h1": h1.d_out,
        "out_h1_in_sigma_prime": h1.out,
        "dout_dnet_h1": h1.prime,
        "dE_dw1": names["w1"].gradient,
        "E_after_1": d.error_after,
        "E_after_10000": ex.error(),
        "out_o1_after_10000": float(out[0]),
        "out_o2_after_10000": float(out[1]),
        "program_target_o2": float(ex.y[0, 1]),
    }


def _article_slips() -> dict[str, str]:
    """The figures that the likely cause of each erratum gives, computed with the library."""
    from bprop.examples import worked_example

    ex = worked_example()
    d = derive(ex.net, ex.x, ex.y, ex.eta)
    o2 = d.layers[2][1]
    double_rounded = round(o2.delta, 9) * d.w[1][1, 0]
    e1, _ = _stale_hidden_delta(1)
    e10k, out10k = _stale_hidden_delta(10000)
    typo_y = ex.y.copy()
    typo_y[0, 1] = float(ARTICLE_FIGURES[-1][1])
    program = error_table(ex.net, ex.x, typo_y, ex.eta, 10000)[-1][1]
    return {
        "dEo2_dout_h1": f"{double_rounded:.9f}",
        "E_after_1": f"{e1:.9f}",
        "E_after_10000": f"{e10k:.9f}",
        "out_o1_after_10000": f"{out10k[0]:.9f}",
        "out_o2_after_10000": f"{out10k[1]:.9f}",
        "program_target_o2": f"{program:.9f}",
    }


def _stale_hidden_delta(steps: int) -> tuple[float, Array]:
    """The article's slip: δ of the hidden layer through w5…w8 *after* their update (BP2 with
    the new w^3).  Returns E_total and the outputs after ``steps`` such updates."""
    from bprop.examples import worked_example

    ex = worked_example()
    net, x, y, eta = ex.net, ex.x, ex.y, ex.eta
    (act_h, act_o), w = net.activations, net.weights
    for _ in range(steps):
        zs, a = feedforward_trace(w, net.biases, net.activations, x)
        delta_o = net.cost.delta(zs[1], a[2], y, act_o)  # BP1: (1, 2)
        w[1] -= eta * (delta_o.T @ a[1])  # w5…w8 updated first
        delta_h = act_h.delta(zs[0], a[1], delta_o @ w[1])  # BP2 with the *new* w5…w8
        w[0] -= eta * (delta_h.T @ a[0])
    return ex.error(), net.feedforward(x)[0]


# == names: the article's for one hidden layer, Nielsen's otherwise ===============================


class _Names:
    """How each quantity is written for a derivation's network."""

    def __init__(self, d: Derivation) -> None:
        self.article = len(d.sizes) == 3
        self.L = len(d.sizes)
        self.sizes = d.sizes
        self.shared = [
            not d.update_biases and bool(np.all(bi == bi[0])) for bi in d.b
        ]  # the article's one bias per layer
        self._wnum = {}
        for n, ws in enumerate(d.weights, start=1):
            self._wnum[(ws.l, ws.j, ws.k)] = n

    def neuron(self, l: int, j: int) -> str:  # noqa: E741
        if self.article:
            return f"{'iho'[l - 1]}{j + 1}"
        return f"{l}.{j + 1}"

    def out(self, l: int, j: int) -> M:  # noqa: E741
        if self.article:
            if l == 1:
                return M(f"i{j + 1}", f"i_{{{j + 1}}}", f"i<sub>{j + 1}</sub>")
            return sym("out", self.neuron(l, j))
        return sym("a", str(j + 1), str(l), unicode=True)

    def net(self, l: int, j: int) -> M:  # noqa: E741
        if self.article:
            return sym("net", self.neuron(l, j))
        return sym("z", str(j + 1), str(l), unicode=True)

    def delta(self, l: int, j: int) -> M:  # noqa: E741
        if self.article:
            return M(
                f"δ_{self.neuron(l, j)}",
                rf"\delta_{{{self.neuron(l, j)}}}",
                f"δ<sub>{self.neuron(l, j)}</sub>",
            )
        d = sym("δ", str(j + 1), str(l), unicode=True)
        return M(d.text, d.tex.replace("δ", r"\delta"), d.html)

    def weight(self, l: int, j: int, k: int) -> M:  # noqa: E741
        if self.article:
            n = self._wnum[(l, j, k)]
            return M(f"w{n}", f"w_{{{n}}}", f"w<sub>{n}</sub>")
        return sym("w", f"{j + 1}{k + 1}", str(l), unicode=True)

    def weight_key(self, l: int, j: int, k: int) -> str:  # noqa: E741
        return f"w{self._wnum[(l, j, k)]}" if self.article else f"w{l}_{j + 1}{k + 1}"

    def bias(self, l: int, j: int) -> M:  # noqa: E741
        if self.article and self.shared[l - 2]:
            return M(f"b{l - 1}", f"b_{{{l - 1}}}", f"b<sub>{l - 1}</sub>")
        if self.article:
            return sym("b", self.neuron(l, j))
        return sym("b", str(j + 1), str(l), unicode=True)

    def target(self, j: int) -> M:
        if self.article:
            return sym("target", self.neuron(self.L, j))
        return sym("y", str(j + 1))

    def error(self) -> M:
        return sym("E", "total") if self.article else M("C", "C", "C")

    def error_of(self, j: int) -> M:
        return sym("E", self.neuron(self.L, j)) if self.article else sym("C", str(j + 1))

    def layer_vec(self, letter: str, l: int) -> M:  # noqa: E741
        return sym(letter, "", str(l), unicode=True)


# == the document: blocks any format can render ==================================================

# A block is ("h", level, text), ("p", [str | M, ...]) or ("eq", [M, ...]) (segments joined by
# "="), or ("table", header, rows).


def _eq(*segments: M | str) -> tuple:
    return ("eq", [_m(s) for s in segments])


def _forward(d: Derivation, n: _Names, lang: str) -> list[tuple]:
    blocks: list[tuple] = [("h", 2, _t("step1", lang))]
    for l in range(2, n.L + 1):  # noqa: E741
        blocks.append(("h", 3, f"{l - 1}. {_layer_heading(l, n.L, lang)}"))
        act = d.activations[l - 2]
        for nr in d.layers[l - 1]:
            blocks.append(("p", [_t("weighted_sum", lang, n=n.neuron(l, nr.j))]))
            blocks.append(_net_line(d, n, l, nr.j))
            blocks.append(("p", [_t("output_of", lang, n=n.neuron(l, nr.j), act=act)]))
            blocks.append(_out_line(d, n, l, nr, act))
    outs = "[" + ", ".join(number(v.out) for v in d.layers[-1]) + "]"
    ys = "[" + ", ".join(number(v.target) for v in d.layers[-1]) + "]"
    blocks.append(("p", [_t("forward_done", lang, out=outs, y=ys)]))
    return blocks


def _layer_heading(l: int, L: int, lang: str) -> str:  # noqa: E741
    if L == 2:
        return _t("in_to_out", lang)
    if L == 3:
        return _t("in_to_hidden" if l == 2 else "hidden_to_out", lang)
    if l == 2:
        return _t("in_to_hidden_n", lang, b=1)
    if l == L:
        return _t("hidden_n_to_out", lang, a=l - 2)
    return _t("hidden_to_hidden", lang, a=l - 2, b=l - 1)


def _net_line(d: Derivation, n: _Names, l: int, j: int) -> tuple:  # noqa: E741
    nr = d.layers[l - 1][j]
    ks = range(d.sizes[l - 2])
    sym_terms = [cat(n.weight(l, j, k), MUL, n.out(l - 1, k)) for k in ks]
    val_terms = [
        cat(num(d.w[l - 2][j, k], paren=True), MUL, num(d.acts[l - 2][k], paren=True)) for k in ks
    ]
    sym_terms.append(cat(n.bias(l, j), MUL, "1"))
    val_terms.append(cat(num(nr.bias, paren=True), MUL, "1"))
    return _eq(n.net(l, j), join(PLUS, sym_terms), join(PLUS, val_terms), num(nr.net))


def _out_line(d: Derivation, n: _Names, l: int, nr: NeuronStep, act: str) -> tuple:  # noqa: E741
    net, out = n.net(l, nr.j), n.out(l, nr.j)
    v = num(nr.net, paren=True)
    if act == "sigmoid":
        return _eq(
            out,
            frac("1", cat("1 + ", _exp(cat("-", net)))),
            frac("1", cat("1 + ", _exp(cat("-", v)))),
            num(nr.out),
        )
    if act == "tanh":
        return _eq(
            out, cat(_fn("tanh"), paren(net)), cat(_fn("tanh"), paren(num(nr.net))), num(nr.out)
        )
    if act == "relu":
        return _eq(
            out,
            cat(_fn("max"), "(0, ", net, ")"),
            cat(_fn("max"), "(0, ", num(nr.net), ")"),
            num(nr.out),
        )
    if act == "leaky_relu":
        if nr.net > 0:
            return _eq(out, net, num(nr.out))
        return _eq(out, cat("0.01", MUL, net), cat("0.01", MUL, v), num(nr.out))
    if act == "identity":
        return _eq(out, net, num(nr.out))
    if act == "softmax":
        nets = [n.net(l, q) for q in range(d.sizes[l - 1])]
        vals = [num(z, paren=True) for z in d.zs[l - 2]]
        return _eq(
            out,
            frac(_exp(net), join(PLUS, [_exp(s) for s in nets])),
            frac(_exp(v), join(PLUS, [_exp(s) for s in vals])),
            num(nr.out),
        )
    return _eq(out, cat("σ(", net, ")"), cat("σ(", v, ")"), num(nr.out))


def _prime_line(d: Derivation, n: _Names, l: int, nr: NeuronStep) -> tuple:  # noqa: E741
    """∂out/∂net = σ'(net), written the way each activation's derivative is."""
    act = d.activations[l - 2]
    lhs = partial(n.out(l, nr.j), n.net(l, nr.j))
    out, v = n.out(l, nr.j), num(nr.out, paren=True)
    if act == "sigmoid":
        return _eq(lhs, cat(out, "(1 - ", out, ")"), cat(v, "(1 - ", v, ")"), num(nr.prime))
    if act == "tanh":
        return _eq(lhs, cat("1 - ", out, "^2"), cat("1 - ", v, "^2"), num(nr.prime))
    if act in ("relu", "leaky_relu"):
        net = n.net(l, nr.j)
        op = (">", ">", "&gt;") if nr.net > 0 else ("<=", r"\le", "&le;")
        cond = M(f"({net.text} {op[0]} 0)", f"({net.tex} {op[1]} 0)", f"({net.html} {op[2]} 0)")
        return _eq(lhs, cat(num(nr.prime), "  ", cond))
    return _eq(lhs, num(nr.prime))


def _error_lines(d: Derivation, n: _Names, lang: str) -> list[tuple]:
    L = n.L
    blocks: list[tuple] = [
        ("h", 3, f"1. {_t('total_error', lang)}"),
        ("p", [_t("error_def", lang)]),
    ]
    terms = []
    for nr in d.layers[-1]:
        t, out, e = n.target(nr.j), n.out(L, nr.j), n.error_of(nr.j)
        tv, ov = num(nr.target, paren=True), num(nr.out, paren=True)
        if d.cost == "quadratic":
            blocks.append(
                _eq(
                    e,
                    cat("½(", t, " - ", out, ")^2"),
                    cat("½(", tv, " - ", ov, ")^2"),
                    num(nr.error),
                )
            )
        elif d.cost == "cross-entropy":
            f = cat("-[", t, " ln ", out, " + (1 - ", t, ") ln(1 - ", out, ")]")
            fv = cat("-[", tv, " ln ", ov, " + (1 - ", tv, ") ln(1 - ", ov, ")]")
            blocks.append(_eq(e, f, fv, num(nr.error)))
        elif d.cost == "log-likelihood":
            blocks.append(_eq(e, cat("-", t, " ln ", out), cat("-", tv, " ln ", ov), num(nr.error)))
        else:
            blocks.append(_eq(e, num(nr.error)))
        terms.append(nr)
    blocks.append(
        _eq(
            n.error(),
            join(PLUS, [n.error_of(v.j) for v in terms]),
            join(PLUS, [num(v.error, paren=True) for v in terms]),
            num(d.error),
        )
    )
    return [(_fix_half(b)) for b in blocks]


def _fix_half(block: tuple) -> tuple:
    """½ is \\frac{1}{2} in LaTeX and ^2 a superscript in HTML."""
    if block[0] != "eq":
        return block
    segs = [
        M(
            s.text,
            s.tex.replace("½", r"\frac{1}{2}")
            .replace(" ln ", r" \ln ")
            .replace(") ln(", r") \ln("),
            s.html.replace("^2", "<sup>2</sup>"),
        )
        for s in block[1]
    ]
    return ("eq", segs)


def _d_out_line(d: Derivation, n: _Names, nr: NeuronStep) -> tuple:
    """∂E/∂out of an output neuron, by the cost's derivative."""
    L = n.L
    lhs = partial(n.error(), n.out(L, nr.j))
    t, out = n.target(nr.j), n.out(L, nr.j)
    tv, ov = num(nr.target, paren=True), num(nr.out, paren=True)
    if d.cost == "quadratic":
        return _eq(lhs, cat("-(", t, " - ", out, ")"), cat("-(", tv, " - ", ov, ")"), num(nr.d_out))
    if d.cost == "cross-entropy":
        return _eq(
            lhs,
            frac(cat(out, " - ", t), cat(out, "(1 - ", out, ")")),
            frac(cat(ov, " - ", tv), cat(ov, "(1 - ", ov, ")")),
            num(nr.d_out),
        )
    if d.cost == "log-likelihood":
        return _eq(lhs, cat("-", frac(t, out)), cat("-", frac(tv, ov)), num(nr.d_out))
    return _eq(lhs, num(nr.d_out))


def _weight_lines(
    d: Derivation, n: _Names, ws: WeightStep, lang: str, *, full: bool
) -> list[tuple]:
    """The chain rule for one weight and its update: the three factors when ``full``."""
    l, j, k = ws.l, ws.j, ws.k  # noqa: E741
    w, E, out, net = n.weight(l, j, k), n.error(), n.out(l, j), n.net(l, j)
    grad = partial(E, w)
    blocks: list[tuple] = []
    if full and ws.prime is not None and (l < n.L or d.output_rule == "chain"):
        blocks.append(_eq(partial(net, w), n.out(l - 1, k), num(ws.d_net)))
        blocks.append(
            _eq(
                grad,
                join(MUL, [partial(E, out), partial(out, net), partial(net, w)]),
                join(
                    MUL,
                    [
                        num(ws.d_out, paren=True),
                        num(ws.prime, paren=True),
                        num(ws.d_net, paren=True),
                    ],
                ),
                num(ws.gradient),
            )
        )
    else:
        blocks.append(
            _eq(
                grad,
                cat(n.delta(l, j), MUL, n.out(l - 1, k)),
                cat(num(ws.delta, paren=True), MUL, num(ws.d_net, paren=True)),
                num(ws.gradient),
            )
        )
    blocks.append(
        _eq(
            plus_sup(w),
            cat(w, " - η", MUL, grad),
            cat(num(ws.value, paren=True), " - ", num(d.eta), MUL, num(ws.gradient, paren=True)),
            num(ws.updated),
        )
    )
    return [_greek(b) for b in blocks]


def _greek(block: tuple) -> tuple:
    if block[0] != "eq":
        return block
    return ("eq", [M(s.text, s.tex.replace("η", r"\eta "), s.html) for s in block[1]])


def _delta_line(d: Derivation, n: _Names, nr: NeuronStep) -> tuple:
    l, j = nr.l, nr.j  # noqa: E741
    E, out, net = n.error(), n.out(l, j), n.net(l, j)
    if l == n.L and d.output_rule == "simplified":
        return _eq(
            n.delta(l, j),
            partial(E, net),
            cat(out, " - ", n.target(j)),
            cat(num(nr.out, paren=True), " - ", num(nr.target, paren=True)),
            num(nr.delta),
        )
    if nr.prime is None:  # softmax: δ_j = out_j (∂E/∂out_j − Σ_k ∂E/∂out_k out_k)
        return _eq(n.delta(l, j), partial(E, net), num(nr.delta))
    return _eq(
        n.delta(l, j),
        cat(partial(E, out), MUL, partial(out, net)),
        partial(E, net),
        cat(num(nr.d_out, paren=True), MUL, num(nr.prime, paren=True)),
        num(nr.delta),
    )


def _path_lines(d: Derivation, n: _Names, nr: NeuronStep) -> list[tuple]:
    """BP2 written out: the error paths into a hidden neuron, then their sum."""
    l, j = nr.l, nr.j  # noqa: E741
    out = n.out(l, j)
    blocks, names = [], []
    for p in nr.paths:
        (vl, vj), (wl, wj, wk) = p.via, p.weight
        if n.article:
            lhs = partial(n.error_of(vj), out)
        else:
            lhs = cat(partial(n.error(), n.net(vl, vj)), MUL, partial(n.net(vl, vj), out))
        names.append(lhs)
        blocks.append(
            _eq(
                lhs,
                cat(n.delta(vl, vj), MUL, n.weight(wl, wj, wk)),
                cat(num(p.delta, paren=True), MUL, num(p.w, paren=True)),
                num(p.value),
            )
        )
    blocks.append(
        _eq(
            partial(n.error(), out),
            join(PLUS, names),
            join(PLUS, [num(p.value, paren=True) for p in nr.paths]),
            num(nr.d_out),
        )
    )
    return blocks


def _neuron_backward(d: Derivation, n: _Names, nr: NeuronStep, lang: str) -> list[tuple]:
    l, j = nr.l, nr.j  # noqa: E741
    blocks: list[tuple] = []
    ws_all = [ws for ws in d.weights if ws.l == l and ws.j == j]
    first = ws_all[0]
    w = n.weight(l, j, first.k)
    chain = nr.prime is not None and (l < n.L or d.output_rule == "chain")
    if chain:
        blocks.append(("p", [_t("chain_rule", lang, w=w.text)]))
        E, out, net = n.error(), n.out(l, j), n.net(l, j)
        blocks.append(
            _eq(partial(E, w), join(MUL, [partial(E, out), partial(out, net), partial(net, w)]))
        )
    if l == n.L:
        blocks.append(_d_out_line(d, n, nr))
    else:
        m = len(nr.paths)
        blocks.append(("p", [_t("paths", lang, n=n.neuron(l, j), m=m)]))
        blocks.extend(_path_lines(d, n, nr))
    if nr.prime is not None:
        blocks.append(_prime_line(d, n, l, nr))
    if l == n.L and d.output_rule == "simplified":
        blocks.append(("p", [_t("delta_simplified", lang)]))
    if l == n.L and d.output_rule == "softmax":
        blocks.append(("p", [_t("delta_softmax", lang)]))
    if chain:
        blocks.extend(_weight_lines(d, n, first, lang, full=True)[:-1])
    blocks.append(("p", [_t("delta_def", lang, n=n.neuron(l, j))]))
    blocks.append(_delta_line(d, n, nr))
    blocks.append(("p", [_t("update", lang)]))
    for ws in ws_all:
        blocks.extend(_weight_lines(d, n, ws, lang, full=False))
    return [_greek(b) for b in blocks]


def _backward(d: Derivation, n: _Names, lang: str) -> list[tuple]:
    blocks: list[tuple] = [("h", 2, _t("step2", lang))]
    blocks.extend(_error_lines(d, n, lang))
    part = 2
    for l in range(n.L, 1, -1):  # noqa: E741
        blocks.append(("h", 3, f"{part}. {_update_heading(l, n.L, lang)}"))
        part += 1
        for nr in d.layers[l - 1]:
            blocks.extend(_neuron_backward(d, n, nr, lang))
    blocks.extend(_bias_lines(d, n, lang))
    blocks.append(("h", 3, f"{part}. {_t('after', lang)}"))
    blocks.append(("p", [_t("after_text", lang)]))
    outs = "[" + ", ".join(number(v) for v in d.output_after) + "]"
    key = "after_output" if d.error_after <= d.error else "after_output_up"
    blocks.append(("p", [_t(key, lang, out=outs, e0=number(d.error), e1=number(d.error_after))]))
    blocks.append(_eq(plus_sup(n.error()), num(d.error_after)))
    if d.is_article:
        blocks.append(
            ("p", [_t("after_article", lang, printed=dict(ARTICLE_FIGURES)["E_after_1"])])
        )
    return blocks


def _layer_name(l: int, L: int, lang: str) -> str:  # noqa: E741
    if l == 1:
        return _t("input_layer", lang)
    if l == L:
        return _t("output_layer", lang)
    return _t("hidden_layer", lang) if L == 3 else _t("hidden_layer_n", lang, n=l - 1)


def _update_heading(l: int, L: int, lang: str) -> str:  # noqa: E741
    return _t("update_layer", lang, a=_layer_name(l - 1, L, lang), b=_layer_name(l, L, lang))


def _bias_lines(d: Derivation, n: _Names, lang: str) -> list[tuple]:
    if not d.update_biases:
        return [
            ("p", [_t("bias_fixed" if n.article and all(n.shared) else "bias_fixed_generic", lang)])
        ]
    blocks: list[tuple] = [("p", [_t("bias_update", lang)])]
    for bs in d.biases:
        b = n.bias(bs.l, bs.j)
        blocks.append(_eq(partial(n.error(), b), n.delta(bs.l, bs.j), num(bs.gradient)))
        blocks.append(
            _greek(
                _eq(
                    plus_sup(b),
                    cat(b, " - η", MUL, n.delta(bs.l, bs.j)),
                    cat(
                        num(bs.value, paren=True),
                        " - ",
                        num(d.eta),
                        MUL,
                        num(bs.gradient, paren=True),
                    ),
                    num(bs.updated),
                )
            )
        )
    return blocks


def _setup(d: Derivation, n: _Names, lang: str, matrix: bool) -> list[tuple]:
    hidden = _t("hidden_n", lang, n=n.L - 2) if n.L > 2 else ""
    acts = d.activations[0] if len(set(d.activations)) == 1 else ", ".join(d.activations)
    blocks: list[tuple] = [
        ("h", 1, _t("title_matrix" if matrix else "title", lang)),
        ("h", 2, _t("setup", lang)),
        ("p", [_t("sizes", lang, sizes="-".join(map(str, d.sizes)), hidden=hidden)]),
        ("p", [_t("act", lang, act=acts, cost=_cost_name(d.cost, lang), eta=number(d.eta))]),
    ]
    ins = join(", ", [cat(n.out(1, k), " = ", num(v)) for k, v in enumerate(d.acts[0])])
    ts = join(", ", [cat(n.target(j), " = ", num(nr.target)) for j, nr in enumerate(d.layers[-1])])
    blocks.append(("p", [_t("example", lang, x="{x}", y="{y}")]))
    blocks[-1] = ("p", _splice(blocks[-1][1][0], {"{x}": ins, "{y}": ts}))
    blocks.append(("p", [_t("initial", lang)]))
    for l in range(2, n.L + 1):  # noqa: E741
        ws = [
            cat(n.weight(l, j, k), " = ", num(d.w[l - 2][j, k]))
            for j in range(d.sizes[l - 1])
            for k in range(d.sizes[l - 2])
        ]
        if n.article and n.shared[l - 2]:
            bs = [cat(n.bias(l, 0), " = ", num(d.b[l - 2][0]))]
        else:
            bs = [cat(n.bias(l, j), " = ", num(d.b[l - 2][j])) for j in range(d.sizes[l - 1])]
        blocks.append(("p", [join(", ", ws + bs)]))
    blocks.append(("p", [_t("rounding", lang)]))
    return blocks


def _splice(text: str, parts: dict[str, M]) -> list[str | M]:
    out: list[str | M] = []
    for piece in re.split(r"(\{x\}|\{y\})", text):
        if piece in parts:
            out.append(parts[piece])
        elif piece:
            out.append(piece)
    return out


def _matrix_blocks(d: Derivation, n: _Names, lang: str) -> list[tuple]:
    """Nielsen's matrix form: z^l, a^l, then BP1–BP4 with the vectors and matrices printed."""
    L = n.L
    v = n.layer_vec
    blocks: list[tuple] = [("h", 2, _t("m_forward", lang))]
    blocks.append(_eq(v("a", 1), M("x", "x", "x"), matrix(d.acts[0])))
    for l in range(2, L + 1):  # noqa: E741
        i = l - 2
        blocks.append(
            _eq(
                v("z", l),
                cat(v("w", l), " ", v("a", l - 1), " + ", v("b", l)),
                cat(matrix(d.w[i]), " ", matrix(d.acts[i]), " + ", matrix(d.b[i])),
                matrix(d.zs[i]),
            )
        )
        blocks.append(
            _eq(
                v("a", l),
                cat(_act_sym(d.activations[i]), "(", v("z", l), ")"),
                matrix(d.acts[i + 1]),
            )
        )
    blocks.append(("h", 2, _t("m_cost", lang)))
    blocks.append(_eq(M("C", "C", "C"), num(d.error)))
    blocks.append(("h", 2, _t("m_backward", lang)))
    nabla_a = np.array([nr.d_out for nr in d.layers[-1]])
    blocks.append(("p", [_t("m_bp1", lang)]))
    grad_a = M("∇ₐC", r"\nabla_a C", "∇<sub>a</sub>C")
    had = M(" ⊙ ", r" \odot ", " ⊙ ")
    sp = M("σ'", r"\sigma'", "σ'")
    if d.output_rule == "chain":
        primes = np.array([nr.prime for nr in d.layers[-1]])
        blocks.append(
            _eq(
                v("δ", L),
                cat(grad_a, had, sp, "(", v("z", L), ")"),
                cat(matrix(nabla_a), had, matrix(primes)),
                matrix(d.nabla_b[-1]),
            )
        )
    elif d.output_rule == "simplified":
        blocks.append(_eq(v("δ", L), cat(v("a", L), " - y"), matrix(d.nabla_b[-1])))
    else:
        blocks.append(
            _eq(v("δ", L), cat(grad_a, had, sp, "(", v("z", L), ")"), matrix(d.nabla_b[-1]))
        )
    for l in range(L - 1, 1, -1):  # noqa: E741
        i = l - 2
        primes = np.array([nr.prime for nr in d.layers[l - 1]])
        blocks.append(("p", [_t("m_bp2", lang, l=l, n=l + 1)]))
        wt = M(
            v("w", l + 1).text + "ᵀ",
            "{" + v("w", l + 1).tex + "}^{T}",
            v("w", l + 1).html + "<sup>T</sup>",
        )
        blocks.append(
            _eq(
                v("δ", l),
                cat("(", wt, " ", v("δ", l + 1), ")", had, sp, "(", v("z", l), ")"),
                cat(matrix(d.w[i + 1].T), " ", matrix(d.nabla_b[i + 1]), had, matrix(primes)),
                matrix(d.nabla_b[i]),
            )
        )
    for l in range(L, 1, -1):  # noqa: E741
        i = l - 2
        blocks.append(("p", [_t("m_bp3", lang, l=l)]))
        blocks.append(_eq(partial(M("C", "C", "C"), v("b", l)), v("δ", l), matrix(d.nabla_b[i])))
        blocks.append(("p", [_t("m_bp4", lang, l=l)]))
        at = M(
            v("a", l - 1).text + "ᵀ",
            "{" + v("a", l - 1).tex + "}^{T}",
            v("a", l - 1).html + "<sup>T</sup>",
        )
        blocks.append(
            _eq(
                partial(M("C", "C", "C"), v("w", l)),
                cat(v("δ", l), " ", at),
                cat(matrix(d.nabla_b[i]), " ", matrix(d.acts[i][None, :])),
                matrix(d.nabla_w[i]),
            )
        )
    blocks.append(("h", 2, _t("m_update", lang)))
    for l in range(2, L + 1):  # noqa: E741
        i = l - 2
        new = d.w[i] - d.eta * d.nabla_w[i]
        blocks.append(
            _greek(
                _eq(
                    plus_sup(v("w", l)),
                    cat(v("w", l), " - η ", partial(M("C", "C", "C"), v("w", l))),
                    cat(matrix(d.w[i]), " - ", num(d.eta), " ", matrix(d.nabla_w[i])),
                    matrix(new),
                )
            )
        )
    if d.update_biases:
        blocks.append(("p", [_t("m_bias_update", lang)]))
        for l in range(2, L + 1):  # noqa: E741
            i = l - 2
            new = d.b[i] - d.eta * d.nabla_b[i]
            blocks.append(
                _greek(
                    _eq(
                        plus_sup(v("b", l)),
                        cat(matrix(d.b[i]), " - ", num(d.eta), " ", matrix(d.nabla_b[i])),
                        matrix(new),
                    )
                )
            )
    else:
        blocks.append(("p", [_t("bias_fixed_generic", lang)]))
    blocks.append(("h", 2, _t("after", lang)))
    blocks.append(_eq(plus_sup(M("C", "C", "C")), num(d.error_after)))
    return [_fix_delta(b) for b in blocks]


def _fix_delta(block: tuple) -> tuple:
    if block[0] != "eq":
        return block
    return (
        "eq",
        [
            M(s.text, s.tex.replace("δ", r"\delta ").replace("σ", r"\sigma "), s.html)
            for s in block[1]
        ],
    )


def _act_sym(name: str) -> M:
    return M("σ", r"\sigma", "σ") if name == "sigmoid" else _fn(name.replace("_", " "))


def _errata_blocks(items: Sequence[Erratum], lang: str) -> list[tuple]:
    header = [_t(k, lang) for k in ("col_where", "col_printed", "col_exact", "col_cause")]
    rows = [[e.where(lang), e.printed, e.exact, e.cause(lang)] for e in items]
    return [
        ("h", 2, _t("errata", lang)),
        ("p", [_t("errata_intro", lang)]),
        ("table", header, rows),
    ]


def document(
    d: Derivation,
    *,
    lang: str = "en",
    matrix: bool = False,
    errata: Sequence[Erratum] | None = None,
) -> list[tuple]:
    """The derivation as a list of blocks (headings, paragraphs, equations, tables)."""
    _li(lang)
    check_limits(d.sizes, matrix=matrix)
    n = _Names(d)
    blocks = _setup(d, n, lang, matrix)
    if matrix:
        blocks += _matrix_blocks(d, n, lang)
    else:
        blocks += _forward(d, n, lang) + _backward(d, n, lang)
    if errata:
        blocks += _errata_blocks(errata, lang)
    return [_fix_half(_fix_delta(b)) for b in blocks]
