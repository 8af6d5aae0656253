"""The training step with the techniques beyond the book's SGD: dropout masks (BP2 as
:mod:`bprop.dropout` states it), L1 (:mod:`bprop.regularization`), an optimiser
(:mod:`bprop.optimizers`) and the max-norm constraint, in that order for each mini-batch:

    ∇C  by BP1–BP4 (with the masks r^l),   g_w = ∇_w C + (λ₁/n) sgn(w),
    w, b → the optimiser's step,           w_j → w_j · min(1, c / ‖w_j‖)

:mod:`bprop.train` runs it in place of its own step when any of them is asked for.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from bprop import dropout as _dropout
from bprop import optimizers, regularization
from bprop._validate import is_whole
from bprop.backprop import backprop, decide


def check(
    net: Any,
    optimizer: Any,
    l1: Any,
    n: int,
    max_norm: Any,
    dropout: Any,
    early_stop: Any,
    test: Any,
    eta_at: Any,
) -> tuple[optimizers.Optimizer, float, float | None, tuple[float, ...]]:
    """The techniques :func:`bprop.train.sgd` was given, checked: ``(optimizer, λ₁/n,
    max-norm c, dropout rates)``; ValueError for any that is not valid."""
    opt = optimizers.get(optimizer)
    l1, max_norm = regularization.check(l1, max_norm)
    rates = _dropout.rates(dropout, net.sizes)
    if early_stop is not None and not (is_whole(early_stop) and early_stop >= 1):
        raise ValueError(f"early_stop must be a whole number of epochs ≥ 1, got {early_stop!r}")
    if test is None and (early_stop or getattr(eta_at, "reads_accuracy", False)):
        raise ValueError("early stopping and the plateau schedule judge test_data: give it")
    return opt, l1 / n, max_norm, rates


def extended(tech: tuple[Any, ...]) -> bool:
    """True when the techniques need this module's step (not the book's SGD)."""
    opt, l1_over_n, max_norm, rates = tech
    return opt.name != "sgd" or bool(l1_over_n) or max_norm is not None or any(rates)


def record(tech: tuple[Any, ...], l1: float, early_stop: Any, augment: Any) -> dict[str, Any]:
    """What the run's ``history.config`` says of the techniques (only those in use)."""
    opt, _, max_norm, rates = tech
    extras = {"optimizer": opt.describe() if opt.adaptive else opt.name, "l1": float(l1)}
    extras |= {"max_norm": max_norm, "dropout": list(rates) if any(rates) else None}
    extras |= {"early_stop": early_stop, "augment": getattr(augment, "spec", None)}
    return {k: v for k, v in extras.items() if v and v != "sgd"}


def engine_note(extended: bool, augmented: bool) -> str | None:
    """Why the compiled kernel cannot train this run (None when it can)."""
    if extended:
        return (
            "its kernel has SGD, L2 and momentum only (not the optimiser, L1, max-norm or "
            "dropout asked for): training runs NumPy's textbook step"
        )
    if augmented:
        return "it holds the training inputs fixed, and augmentation redraws them each epoch"
    return None


def step(run: Any, rows: Any, eta: float, state: Any, offset: int) -> float:
    """One mini-batch of ``run`` (a ``bprop.train._Run``) with dropout masks, L1, an
    optimiser and max-norm; returns Σ_x C_x."""
    net, (opt, l1_over_n, c, drop) = run.net, run.tech
    xb, yb = run.x[rows], run.y[rows]
    args = (net.weights, net.biases, net.activations, net.cost, xb, yb)
    if any(drop):
        rng = np.random.default_rng([state.seed, state.epoch, offset // run.m, 1])
        masks = _dropout.masks(rng, drop, len(xb), net.sizes, net.dtype)
        nabla_b, nabla_w, out = _dropout.backprop(*args, masks)
    else:
        nabla_b, nabla_w, out = backprop(*args)
    run.predicted[offset : offset + len(xb)] = decide(out)
    batch_cost = float(np.sum(net.cost.fn(out, yb)))
    if not math.isfinite(batch_cost):
        return batch_cost
    state.steps += 1
    none = [None] * len(net.weights)
    for i, w in enumerate(net.weights):
        if l1_over_n:
            regularization.add_l1(nabla_w[i], w, l1_over_n)
        v, s = (state.velocity_w or none)[i], (state.moments_w or none)[i]
        optimizers.update(
            opt, w, nabla_w[i], v, s, state.steps, eta, run.momentum, run.lmbda_over_n
        )
        if c is not None:
            regularization.max_norm(w, c)
    for i, b in enumerate(net.biases if run.update_biases else []):
        v, s = (state.velocity_b or none)[i], (state.moments_b or none)[i]
        optimizers.update(opt, b, nabla_b[i], v, s, state.steps, eta, run.momentum, 0.0)
    return batch_cost
