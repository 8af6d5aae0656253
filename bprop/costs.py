"""Cost functions C and the output error δ^L they produce (BP1).

Each cost is one object holding C_x (the cost of one example), its gradient ∇_a C_x and the
output error δ^L = ∇_a C ⊙ σ'(z^L) (BP1), registered under a plain name in :data:`COSTS`.
The total cost over n examples is the mean C = (1/n) Σ_x C_x, as in the seeds.

Where a cost and an output activation combine into a simpler exact formula, BP1 uses it:

* cross-entropy with sigmoid outputs: ∇_a C = (a − y) / (a(1 − a)) and σ' = a(1 − a), so
  δ^L = a − y (Nielsen ch.3, eq. 66);
* log-likelihood with softmax outputs: δ^L = a − y (Nielsen ch.3, eq. 84).

Both logarithmic costs clip the outputs to [ε, 1 − ε] inside the logarithm (see
:func:`_xlogy`), as scikit-learn does, and softmax subtracts the row's largest z first (the
log-sum-exp shift), so no finite z gives an infinite cost. BP1 for the exact pairs needs no
logarithm at all.

Both are exact identities, not approximations, and the gradient check proves it; every other
pair goes through the general product.  Arrays hold one example per row: ``(m, n_L)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bprop.activations import ACTIVATIONS, Activation
from bprop.errors import unknown_name

Array = np.ndarray


def _xlogy(x: Array, y: Array) -> Array:
    """x · ln y with the convention 0 · ln 0 = 0 (a target of 0 contributes nothing).

    y is clipped to [ε, 1 − ε] (ε the machine epsilon of its dtype), as scikit-learn's
    ``log_loss`` clips probabilities: an output that underflowed to 0 (a saturated softmax or
    sigmoid) costs −ln ε ≈ 36 (float64), a large finite number, instead of infinity — which
    would read as divergence. The gradient is untouched (BP1 is a − y for the exact pairs).
    """
    eps = np.finfo(y.dtype).eps if np.issubdtype(y.dtype, np.floating) else np.finfo(float).eps
    with np.errstate(divide="ignore", invalid="ignore"):
        out = x * np.log(np.clip(y, eps, 1 - eps))
    out[x == 0] = 0.0
    return out


@dataclass(frozen=True)
class Cost:
    """A cost function: C_x, its gradient ∇_a C_x, and BP1.

    Parameters
    ----------
    name : str
        The name it is registered and saved under.
    fn : callable
        ``fn(a, y)`` → C_x for each row, shape ``(m,)``.
    nabla_a : callable
        ``nabla_a(a, y)`` → ∂C_x/∂a, shape ``(m, n_L)``.
    exact_delta : dict
        Built-in output activations (by name) for which δ^L = a − y exactly; a user's own
        activation always takes the general product, whatever its name.
    outputs_in_unit_interval : bool
        True when C is only defined for outputs in (0, 1) (logarithms of a).
    """

    name: str
    fn: Callable[[Array, Array], Array] = field(repr=False)
    nabla_a: Callable[[Array, Array], Array] = field(repr=False)
    exact_delta: frozenset[str] = frozenset()
    outputs_in_unit_interval: bool = False

    def __call__(self, a: Array, y: Array) -> float:
        """The mean cost C = (1/m) Σ_x C_x over the rows of ``a`` and ``y`` ``(m, n_L)``."""
        return float(np.mean(self.fn(a, y)))

    def is_exact(self, activation: Activation) -> bool:
        """True when δ^L = a − y exactly for this cost and output activation."""
        return (
            activation.name in self.exact_delta and ACTIVATIONS.get(activation.name) is activation
        )

    def delta(self, z: Array, a: Array, y: Array, activation: Activation) -> Array:
        """BP1: δ^L = ∇_a C ⊙ σ'(z^L), shape ``(m, n_L)``."""
        if self.is_exact(activation):
            return a - y  # the exact simplification named in the module docstring
        return activation.delta(z, a, self.nabla_a(a, y))

    def delta_into(
        self, z: Array, a: Array, y: Array, activation: Activation, out: Array, tmp: Array
    ) -> None:
        """BP1 written into ``out`` (the training loop's buffers; ``tmp`` is scratch)."""
        if self.is_exact(activation):
            np.subtract(a, y, out=out)
            return
        if self.name == "quadratic" and COSTS.get(self.name) is self:
            np.subtract(a, y, out=out)  # ∇_a C = a − y
        else:
            out[...] = self.nabla_a(a, y)
        activation.delta_into(z, a, out, tmp)


def _quadratic(a: Array, y: Array) -> Array:
    d = a - y
    return 0.5 * np.einsum("ij,ij->i", d, d)  # C_x = ½‖y − a‖²


def _quadratic_nabla(a: Array, y: Array) -> Array:
    return a - y  # ∇_a C_x = a − y


def _cross_entropy(a: Array, y: Array) -> Array:
    # C_x = −Σ_j [y_j ln a_j + (1 − y_j) ln(1 − a_j)]
    return -(_xlogy(y, a) + _xlogy(1.0 - y, 1.0 - a)).sum(axis=1)


def _cross_entropy_nabla(a: Array, y: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        return (a - y) / (a * (1.0 - a))


def _log_likelihood(a: Array, y: Array) -> Array:
    return -_xlogy(y, a).sum(axis=1)  # C_x = −ln a_y for a one-hot y


def _log_likelihood_nabla(a: Array, y: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        g = -y / a
    g[y == 0] = 0.0
    return g


COSTS: dict[str, Cost] = {
    c.name: c
    for c in (
        Cost("quadratic", _quadratic, _quadratic_nabla),
        Cost(
            "cross-entropy",
            _cross_entropy,
            _cross_entropy_nabla,
            exact_delta=frozenset({"sigmoid"}),
            outputs_in_unit_interval=True,
        ),
        Cost(
            "log-likelihood",
            _log_likelihood,
            _log_likelihood_nabla,
            exact_delta=frozenset({"softmax"}),
            outputs_in_unit_interval=True,
        ),
    )
}
_ALIASES = {
    "mse": "quadratic",
    "squared": "quadratic",
    "cross_entropy": "cross-entropy",
    "crossentropy": "cross-entropy",
    "log_likelihood": "log-likelihood",
    "nll": "log-likelihood",
}


def pairing_problem(cost: Cost, output: Activation) -> str | None:
    """Why ``cost`` with ``output`` neurons learns nothing useful, or None when it can.

    The log-likelihood cost C_x = −Σ_j y_j ln a_j is the cost of outputs that form a
    probability distribution (softmax, whose outputs sum to 1, so raising one lowers the
    others).  With sigmoid outputs BP1 gives δ^L_j = −y_j (1 − a_j): every output whose target
    is above 0 is pushed up towards 1, and an output whose target is 0 gets δ^L_j = 0 — nothing
    ever pulls a wrong answer down.  The gradient is exact (the gradient check passes), but a
    784-30-10 MNIST classifier trained so ends at 12–16% after 3 epochs and falls further,
    against 92–93% for sigmoid with the quadratic or cross-entropy cost or softmax with
    log-likelihood (10,000 images, η = 0.5, seeds 0 and 1).
    """
    if cost.name == "log-likelihood" and output.name == "sigmoid":
        return (
            "the log-likelihood cost C = −Σ_j y_j ln a_j belongs with softmax outputs, which "
            "sum to 1: with sigmoid outputs BP1 gives δ^L_j = −y_j (1 − a_j), which pushes every "
            "output whose target is above 0 up towards 1 and leaves an output whose target is 0 "
            "with δ^L_j = 0 — nothing ever pulls a wrong answer down, so the network learns no "
            "classifier"
        )
    return None


def get(cost: str | Cost) -> Cost:
    """Look up a cost by name (or pass a :class:`Cost` through).

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known ones and suggests the closest.
    """
    if isinstance(cost, Cost):
        return cost
    if not isinstance(cost, str):
        raise TypeError(f"cost must be a name such as 'quadratic', got {type(cost).__name__}")
    key = _ALIASES.get(cost.lower(), cost.lower())
    if key in COSTS:
        return COSTS[key]
    raise unknown_name("cost", cost, COSTS)
