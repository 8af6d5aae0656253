"""Activation functions σ and their derivatives σ', kept side by side.

Every activation is one small object holding the pair, registered under a plain name in
:data:`ACTIVATIONS`.  The backpropagation code never calls σ' directly: it asks the activation
for ``delta(z, a, g)``, the product ``g ⊙ σ'(z)`` that appears in BP1 and BP2.  For the
element-wise activations that is literally ``g * σ'(z)``; softmax is not element-wise (each
output depends on every ``z_j``), so it multiplies ``g`` by its Jacobian instead.

Arrays here hold one example per row: ``z`` and ``a`` are ``(m, n_l)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bprop.errors import unknown_name

Array = np.ndarray


@dataclass(frozen=True)
class Activation:
    """An activation function σ and its derivative σ'.

    Parameters
    ----------
    name : str
        The name it is registered and saved under.
    fn : callable
        σ(z), applied element-wise to an array ``(m, n)``.
    prime : callable
        σ'(z, a): the derivative at ``z``; ``a = σ(z)`` is passed too, so derivatives that are
        cheapest in terms of the output (sigmoid: a(1 − a), tanh: 1 − a²) need no recomputation.
    max_prime : float
        The largest value σ' takes, used by diagnostics to call a neuron saturated.
    elementwise : bool
        Whether σ acts on each z_j alone (False for softmax, whose δ needs the whole row).
    fn_out : callable, optional
        ``fn_out(z, out)`` writes σ(z) into ``out`` without a temporary (the training loop's
        buffers); the built-in activations have one, a user's may leave it out.
    delta_out : callable, optional
        ``delta_out(z, a, g, tmp)`` multiplies ``g`` by σ'(z) in place, ``tmp`` scratch space.
    """

    name: str
    fn: Callable[[Array], Array] = field(repr=False)
    prime: Callable[[Array, Array], Array] = field(repr=False)
    max_prime: float = 1.0
    elementwise: bool = True
    fn_out: Callable[[Array, Array], None] | None = field(default=None, repr=False)
    delta_out: Callable[[Array, Array, Array, Array], None] | None = field(default=None, repr=False)

    def __call__(self, z: Array) -> Array:
        return self.fn(z)

    def delta(self, z: Array, a: Array, g: Array) -> Array:
        """Return ``g ⊙ σ'(z)``, the factor shared by BP1 and BP2.

        ``g`` is ∂C/∂a for this layer, shape ``(m, n_l)``; the result is δ = ∂C/∂z, same shape.
        ``g`` may be overwritten (callers pass a fresh array).
        """
        g *= self.prime(z, a)
        return g

    # The training loop's fast path works in preallocated buffers.  The built-in activations
    # supply in-place kernels (``fn_out``, ``delta_out``) computing exactly what ``fn`` and
    # ``delta`` do, without temporary arrays; a user's own activation falls back to those.

    def forward_into(self, z: Array, out: Array) -> None:
        """Write σ(z) into ``out`` (same shape as ``z``)."""
        if self.fn_out is not None:
            self.fn_out(z, out)
        else:
            out[...] = self.fn(z)

    def delta_into(self, z: Array, a: Array, g: Array, tmp: Array) -> None:
        """Multiply ``g`` in place by σ'(z) (``delta``'s product); ``tmp`` is scratch space."""
        if self.delta_out is not None:
            self.delta_out(z, a, g, tmp)
        else:
            self.delta(z, a, g)


def sigmoid(z: Array) -> Array:
    """σ(z) = 1 / (1 + e^(−z)), element-wise.

    For z below about −709 (float64) e^(−z) overflows to inf and σ(z) rounds to exactly 0,
    which is the correctly rounded value's neighbourhood; the overflow warning is silenced.
    """
    with np.errstate(over="ignore"):
        a = np.exp(-z)
    a += 1.0
    np.reciprocal(a, out=a)
    return a


def sigmoid_prime(z: Array, a: Array | None = None) -> Array:
    """σ'(z) = σ(z)(1 − σ(z)), computed from the output ``a = σ(z)`` when given."""
    if a is None:
        a = sigmoid(z)
    return a * (1.0 - a)


def _sigmoid_out(z: Array, out: Array) -> None:
    np.negative(z, out=out)
    np.exp(out, out=out)
    out += 1.0
    np.reciprocal(out, out=out)


def _sigmoid_delta_out(z: Array, a: Array, g: Array, tmp: Array) -> None:
    np.subtract(1.0, a, out=tmp)  # g ⊙ a(1 − a)
    g *= a
    g *= tmp


def tanh_prime(z: Array, a: Array | None = None) -> Array:
    """tanh'(z) = 1 − tanh²(z)."""
    if a is None:
        a = np.tanh(z)
    return 1.0 - a * a


def _tanh_out(z: Array, out: Array) -> None:
    np.tanh(z, out=out)


def _tanh_delta_out(z: Array, a: Array, g: Array, tmp: Array) -> None:
    np.multiply(a, a, out=tmp)  # g ⊙ (1 − a²)
    np.subtract(1.0, tmp, out=tmp)
    g *= tmp


def relu(z: Array) -> Array:
    """ReLU(z) = max(0, z)."""
    return np.maximum(z, 0.0)


def relu_prime(z: Array, a: Array | None = None) -> Array:
    """ReLU'(z) = 1 for z > 0, else 0 (the subgradient 0 is taken at z = 0)."""
    return (z > 0).astype(z.dtype)


def _relu_out(z: Array, out: Array) -> None:
    np.maximum(z, 0.0, out=out)


def _relu_delta_out(z: Array, a: Array, g: Array, tmp: Array) -> None:
    np.greater(z, 0.0, out=tmp)  # g ⊙ [z > 0]
    g *= tmp


LEAKY_SLOPE = 0.01


def leaky_relu(z: Array) -> Array:
    """Leaky ReLU: z for z > 0, 0.01 z otherwise."""
    return np.where(z > 0, z, LEAKY_SLOPE * z)


def leaky_relu_prime(z: Array, a: Array | None = None) -> Array:
    """Leaky ReLU': 1 for z > 0, 0.01 otherwise."""
    return np.where(z > 0, 1.0, LEAKY_SLOPE).astype(z.dtype)


def _leaky_relu_out(z: Array, out: Array) -> None:
    np.multiply(z, LEAKY_SLOPE, out=out)  # max(z, 0.01 z) is z for z > 0, 0.01 z otherwise
    np.maximum(z, out, out=out)


def _leaky_relu_delta_out(z: Array, a: Array, g: Array, tmp: Array) -> None:
    tmp.fill(LEAKY_SLOPE)
    np.copyto(tmp, 1.0, where=z > 0)
    g *= tmp


def identity(z: Array) -> Array:
    """σ(z) = z (a linear output layer, for regression)."""
    return z.copy()


def identity_prime(z: Array, a: Array | None = None) -> Array:
    """σ'(z) = 1."""
    return np.ones_like(z)


def _identity_out(z: Array, out: Array) -> None:
    np.copyto(out, z)


def _identity_delta_out(z: Array, a: Array, g: Array, tmp: Array) -> None:
    pass  # σ' = 1


def softmax(z: Array) -> Array:
    """softmax(z)_j = e^(z_j) / Σ_k e^(z_k), over each row of ``z`` ``(m, n)``."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    e /= e.sum(axis=1, keepdims=True)
    return e


def softmax_prime(z: Array, a: Array | None = None) -> Array:
    """The diagonal of softmax's Jacobian, a_j (1 − a_j).

    Softmax is not element-wise, so this is *not* enough for backpropagation (the
    off-diagonal terms −a_j a_k matter); :class:`Softmax` uses the full Jacobian. The diagonal is
    what the saturation diagnostics look at.
    """
    if a is None:
        a = softmax(z)
    return a * (1.0 - a)


class Softmax(Activation):
    """Softmax output layer: δ_j = Σ_k g_k ∂a_k/∂z_j = a_j (g_j − Σ_k g_k a_k)."""

    def delta(self, z: Array, a: Array, g: Array) -> Array:
        # J = diag(a) − a aᵀ is symmetric, so Jᵀ g = a ⊙ (g − (g·a)).
        g -= np.einsum("ij,ij->i", g, a)[:, None]
        g *= a
        return g


ACTIVATIONS: dict[str, Activation] = {
    act.name: act
    for act in (
        Activation("sigmoid", sigmoid, sigmoid_prime, 0.25, True, _sigmoid_out, _sigmoid_delta_out),
        Activation("tanh", np.tanh, tanh_prime, 1.0, True, _tanh_out, _tanh_delta_out),
        Activation("relu", relu, relu_prime, 1.0, True, _relu_out, _relu_delta_out),
        Activation(
            "leaky_relu",
            leaky_relu,
            leaky_relu_prime,
            1.0,
            True,
            _leaky_relu_out,
            _leaky_relu_delta_out,
        ),
        Activation(
            "identity", identity, identity_prime, 1.0, True, _identity_out, _identity_delta_out
        ),
        Softmax("softmax", softmax, softmax_prime, max_prime=0.25, elementwise=False),
    )
}
_ALIASES = {"leaky-relu": "leaky_relu", "linear": "identity", "logistic": "sigmoid"}


def get(activation: str | Activation) -> Activation:
    """Look up an activation by name (or pass an :class:`Activation` through).

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known ones and suggests the closest.
    """
    if isinstance(activation, Activation):
        return activation
    if not isinstance(activation, str):
        raise TypeError(
            f"activation must be a name such as 'sigmoid' or an Activation, "
            f"got {type(activation).__name__}"
        )
    key = _ALIASES.get(activation.lower(), activation.lower())
    if key in ACTIVATIONS:
        return ACTIVATIONS[key]
    raise unknown_name(
        "activation",
        activation,
        ACTIVATIONS,
        " Or pass bprop.Activation(name, fn, prime) for your own.",
    )
