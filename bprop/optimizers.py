"""Optimisers: how one mini-batch's gradient ∇C moves a parameter p (a weight matrix w^l or a
bias vector b^l).

With η the learning rate, μ the momentum, λ' = λ/n the L2 strength for weights (0 for biases)
and t the number of mini-batches so far, counting this one:

* ``sgd`` (the book's, the default): ``p → (1 − ηλ') p − η∇C``; with momentum,
  ``v → μv − η(∇C + λ'p)``, ``p → p + v``.
* ``nesterov``: ``g = ∇C + λ'p``, ``v → μv − ηg``, ``p → p + μv − ηg`` (the gradient at the
  look-ahead point, in the form PyTorch's ``SGD(nesterov=True)`` computes).
* ``adam`` (Kingma & Ba 2015): ``g = ∇C + λ'p``, ``m → β₁m + (1 − β₁)g``,
  ``s → β₂s + (1 − β₂)g²``, ``p → p − η m̂ / (√ŝ + ε)`` with ``m̂ = m/(1 − β₁ᵗ)`` and
  ``ŝ = s/(1 − β₂ᵗ)``.
* ``adamw`` (Loshchilov & Hutter 2019): the decay decoupled from the moments,
  ``p → (1 − ηλ') p`` first, then Adam's step with ``g = ∇C``.

Every function updates its arrays in place and knows nothing of networks or files.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from bprop.errors import unknown_name

Array = np.ndarray
OPTIMIZERS = ("sgd", "nesterov", "adam", "adamw")


@dataclass(frozen=True)
class Optimizer:
    """An optimiser's name and constants (β₁, β₂, ε are Adam's)."""

    name: str = "sgd"
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    @property
    def adaptive(self) -> bool:
        """True for Adam and AdamW, which keep a second moment per parameter."""
        return self.name in ("adam", "adamw")

    def describe(self) -> dict[str, Any]:
        return asdict(self)


def get(spec: str | Optimizer | None) -> Optimizer:
    """An :class:`Optimizer` from a name (``sgd``, ``nesterov``, ``adam``, ``adamw``), an
    ``adam:BETA1:BETA2:EPS`` spec, or an Optimizer; ValueError otherwise."""
    if spec is None:
        return Optimizer()
    if isinstance(spec, Optimizer):
        opt = spec
    elif isinstance(spec, str):
        name, *args = spec.split(":")
        if name not in OPTIMIZERS:
            raise unknown_name("optimizer", name, OPTIMIZERS)
        try:
            numbers = [float(a) for a in args]
        except ValueError:
            numbers = [float("nan")]
        if len(numbers) > (3 if name in ("adam", "adamw") else 0):
            raise ValueError(f"optimizer {spec!r}: only adam and adamw take :BETA1:BETA2:EPS")
        opt = Optimizer(name, *numbers)
    else:
        raise TypeError(f"optimizer must be a name or an Optimizer, got {type(spec).__name__}")
    if opt.name not in OPTIMIZERS:
        raise unknown_name("optimizer", opt.name, OPTIMIZERS)
    if not (0 <= opt.beta1 < 1 and 0 <= opt.beta2 < 1 and opt.eps > 0):
        raise ValueError(
            f"optimizer {opt.name}: β₁ and β₂ must be in [0, 1) and ε > 0, got "
            f"β₁ = {opt.beta1}, β₂ = {opt.beta2}, ε = {opt.eps}"
        )
    return opt


def update(
    opt: Optimizer,
    p: Array,
    grad: Array,
    v: Array | None,
    s: Array | None,
    t: int,
    eta: float,
    momentum: float,
    decay: float,
) -> None:
    """Move ``p`` by one step of ``opt`` in place; ``grad`` (∇C) is consumed.

    ``v`` is the velocity (sgd with momentum, nesterov) or Adam's first moment m, ``s`` Adam's
    second moment; ``t`` ≥ 1 the step count; ``decay`` is λ' (λ/n for weights, 0 for biases).
    """
    if opt.name == "adamw" and decay:
        p *= 1.0 - eta * decay
    elif decay:
        if opt.name == "sgd" and not momentum:
            p *= 1.0 - eta * decay  # Nielsen's weight decay: (1 − ηλ/n) w
        else:
            grad += decay * p  # g = ∇C + (λ/n) p
    if v is None and (opt.name != "sgd" or momentum):
        raise ValueError(f"{opt.name}'s update needs its velocity (first moment)")
    if opt.name == "sgd":
        grad *= eta
        if momentum:
            assert v is not None  # checked above
            v *= momentum  # v → μv − ηg;  p → p + v
            v -= grad
            p += v
        else:
            p -= grad
    elif opt.name == "nesterov":
        assert v is not None  # checked above
        grad *= eta
        v *= momentum  # v → μv − ηg;  p → p + μv − ηg
        v -= grad
        p += momentum * v
        p -= grad
    else:
        if v is None or s is None:
            raise ValueError("Adam's update needs its first and second moments")
        b1, b2 = opt.beta1, opt.beta2
        v *= b1  # m → β₁m + (1 − β₁)g
        v += (1 - b1) * grad
        s *= b2  # s → β₂s + (1 − β₂)g²
        s += (1 - b2) * grad * grad
        # p → p − η m̂ / (√ŝ + ε), with m̂ = m/(1 − β₁ᵗ), ŝ = s/(1 − β₂ᵗ)
        denominator = np.sqrt(s / (1 - b2**t))
        denominator += opt.eps
        p -= (eta / (1 - b1**t)) * v / denominator
