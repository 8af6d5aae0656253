"""The numbers of one training step of a small network on one example, every one kept.

:func:`derive` runs the library's own forward pass and backpropagation
(:func:`bprop.network.feedforward_trace`, :func:`bprop.network.backprop`, the cost and
activation objects) and keeps each neuron's z, a, σ'(z), ∂E/∂a and δ, each error path into a
hidden neuron (BP2), each weight's three chain-rule factors, its gradient and its update, in a
:class:`Derivation`; it checks that every chain-rule product equals ``backprop``'s gradient.
:func:`problem_from_spec` builds the network, example and η from a JSON-style dict
(:func:`article_spec` is the article's), :func:`check_limits` says whether a network is small
enough to write out, and :func:`error_table` trains N steps for the table of errors per step.

This is the math: it lays out nothing and holds no words of the page; it imports no format,
nor :mod:`bprop.web`, and it never prints or reads or writes files.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bprop.costs import pairing_problem
from bprop.network import Network, backprop, feedforward, feedforward_trace

Array = np.ndarray

#: Largest network shown step by step (and as an HTML page): neurons per layer, layers.
STEP_LIMIT = (6, 4)
#: Largest network shown in matrix form (``matrix=True``).
MATRIX_LIMIT = (10, 6)
#: Largest network whose error table ``--steps`` prints (only E per step is shown, so it may be
#: far larger than the others; the cap keeps a typo like 2,1000000000,2 from filling memory).
STEPS_LIMIT = (1000, 10)


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

    def __repr__(self) -> str:
        """One line: the network, η, and the error before and after the step."""
        sizes = "-".join(str(s) for s in self.sizes)
        acts = "/".join(dict.fromkeys(self.activations))
        article = ", the article's example" if self.is_article else ""
        return (
            f"Derivation({sizes} {acts}, {self.cost}, η = {self.eta:g}: "
            f"E = {self.error:.9g} → {self.error_after:.9g}{article})"
        )

    # Jupyter's display (explain's page as a scoped fragment): bprop.notebook draws it.
    def _repr_html_(self) -> str:
        from bprop.notebook import html

        return html(self)

    @property
    def output_rule(self) -> str:
        """How δ^L comes about: ``"chain"`` (∂E/∂out · σ'), ``"simplified"`` (out − target,
        the cost's exact simplification) or ``"softmax"`` (softmax's Jacobian)."""
        return _output_rule(self.activations[-1], self.cost)

    def weight(self, name: str) -> WeightStep:
        """A weight by its shown name: the article's ``"w5"``, or Nielsen's ``"w3_11"``."""
        for n, ws in enumerate(self.weights, start=1):
            if weight_key(self.sizes, n, ws.l, ws.j, ws.k) == name:
                return ws
        raise KeyError(f"no weight named {name!r}")

    def neuron(self, l: int, j: int) -> NeuronStep:  # noqa: E741
        """Neuron j (0-based) of layer l (1 = input)."""
        return self.layers[l - 1][j]


def weight_key(sizes: Sequence[int], n: int, l: int, j: int, k: int) -> str:  # noqa: E741
    """The plain name of w^l_jk, the ``n``-th weight of :attr:`Derivation.weights` (from 1).

    The article's ``"w5"`` for a network with one hidden layer, Nielsen's ``"w3_11"`` (l, then
    j and k from 1) otherwise: what :meth:`Derivation.weight` takes and the page's ids use.
    """
    return f"w{n}" if len(sizes) == 3 else f"w{l}_{j + 1}{k + 1}"


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

    Returns
    -------
    Derivation
        z, a and δ of every layer (BP1, BP2), ∂C/∂w and ∂C/∂b (BP3, BP4), the updated weights,
        the cost before and after — in float64, for the renderers and :func:`errata`.

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
            errors: list[float | None] = [
                float(cost.fn(a[-1][:, [j]], y[:, [j]])[0]) for j in range(len(z))
            ]
            paths: list[tuple[PathTerm, ...]] = [()] * len(z)
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
            delta = neuron.delta
            assert delta is not None  # every layer after the input has its δ
            for k in range(wi.shape[1]):
                a_in = float(a[i][0, k])
                grad = float(nw[j, k])
                _agree(delta * a_in, grad, f"∂E/∂w of layer {i + 2}, j={j + 1}, k={k + 1}")
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
                        delta,
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
    problem = pairing_problem(net.cost, net.activations[-1])
    if problem:
        raise ValueError(
            f"{problem}; its derivation would teach nothing: use --output-activation softmax "
            '("output_activation": "softmax" in a spec), or --cost cross-entropy'
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


def check_limits(sizes: Sequence[int], *, matrix: bool = False, steps: bool = False) -> None:
    """Raise ValueError when ``sizes`` is too large to print legibly in the chosen view
    (``steps``: the error table of ``--steps``, :data:`STEPS_LIMIT`)."""
    per_layer, layers = STEPS_LIMIT if steps else MATRIX_LIMIT if matrix else STEP_LIMIT
    if max(sizes) <= per_layer and len(sizes) <= layers:
        return
    shape = "-".join(str(n) for n in sizes)
    view = "with --steps" if steps else "in matrix form" if matrix else "step by step"
    hint = (
        ""
        if matrix or steps
        else (
            f"; use --matrix (up to {MATRIX_LIMIT[0]} neurons per layer and {MATRIX_LIMIT[1]} "
            f"layers) or --steps N for the error table (up to {STEPS_LIMIT[0]} and "
            f"{STEPS_LIMIT[1]})"
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
