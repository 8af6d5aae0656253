"""Diagnostics: watching the four equations slow learning down, on the user's own run.

The seeds end with two insights, both read straight off the equations:

* BP1, δ^L = ∇_a C ⊙ σ'(z^L): when an output neuron saturates (σ'(z^L) ≈ 0) its error — and so
  by BP3/BP4 the gradient of its weights and bias — is tiny, however wrong the neuron is;
* BP2, δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l): a small σ' in a layer shrinks the error passed to
  the layers before it, so early layers starve (and BP4 adds: a weight whose input activation
  a^(l−1)_k is near 0 learns slowly).

:class:`Diagnostics` is a training callback that measures these effects on a fixed probe
sample of the training data (1,000 examples, as Nielsen does in ch.5): at the start of
training, at a few points within the first epoch (where the difference between costs shows
most), and after every epoch.  Per layer l it records

* the learning speed ‖∂C/∂b^l‖ and ‖∂C/∂w^l‖ (Nielsen ch.5's measure),
* the mean over examples of ‖δ^l_x‖,
* the fraction of saturated neurons, σ'(z)/max σ' < :data:`SATURATION` (sigmoid, tanh, softmax),
  and for the output layer the fraction saturated on the *wrong* answer (|a − y| > ½),
* the fraction of dead ReLUs (z ≤ 0 for every probe example, so σ' = 0 and δ = 0 for good),
* the mean, standard deviation and largest |w| of the weights,

and, once, the inputs' scale: the largest root mean square of a feature over the probe (the
one thing that saturates a sigmoid network of few inputs before it learns, whatever its
initialisation).

:func:`warnings_for` turns a run's measurements into advice naming the insight and a remedy.
Nothing here prints; the callback hands each new warning to an ``on_warning`` function.
Everything recorded is plain JSON (:meth:`Diagnostics.to_dict`).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from bprop.activations import Activation
from bprop.costs import Cost
from bprop.network import Network, deltas, feedforward_trace
from bprop.train import Callback, EpochRecord, TrainState

Array = np.ndarray

FORMAT = "bprop-diagnostics"
PROBE_SIZE = 1000
#: A neuron is saturated when σ'(z) is below this fraction of σ's largest slope.
SATURATION = 0.01
#: Activations that saturate (σ' → 0 for large |z|).
SATURATING = frozenset({"sigmoid", "tanh", "softmax"})
#: Where within the first epoch (as fractions of it) the probe is measured as well: early,
#: where the costs differ most. Each measurement costs about 2% of an epoch of the book's network.
FIRST_EPOCH_POINTS = (0.01, 0.05, 0.2)

#: Warn when this share of output neurons (over probe examples) is saturated on the wrong answer.
SATURATED_WRONG_SHARE = 0.01
#: Warn when the first layer's ‖∂C/∂b‖ is this many times smaller than the last layer's.
VANISHING_RATIO = 10.0
#: Warn when this share of a hidden layer's neurons is saturated before training.
SATURATED_HIDDEN_SHARE = 0.3
#: Warn when this share of a layer's ReLUs is dead.
DEAD_SHARE = 0.25
#: Warn when an epoch's training cost is this many times the lowest earlier one.
RISING_COST = 1.5
#: Inputs are badly scaled when some feature's root mean square over the probe exceeds this:
#: standardised features have 1, MNIST's pixels in [0, 1] about 0.5 at most.
UNSCALED_RMS = 3.0


# -- measuring ---------------------------------------------------------------------------------


def probe_sample(X: Any, y: Any, size: int = PROBE_SIZE, seed: int = 0) -> tuple[Array, Array]:
    """A fixed random sample of ``size`` rows of ``(X, y)``, the same for every run.

    The default seed does not depend on the run's seed, so two runs on the same data (say, the
    quadratic and the cross-entropy cost) are measured on the same examples.
    """
    X, y = np.asarray(X), np.asarray(y)
    n = len(X)
    if n == 0:
        raise ValueError("cannot draw a probe sample from 0 examples")
    idx = np.sort(np.random.default_rng(seed).choice(n, size=min(size, n), replace=False))
    return X[idx], y[idx]


def measure(
    weights: Sequence[Array],
    biases: Sequence[Array],
    acts: Sequence[Activation],
    cost: Cost,
    x: Array,
    y: Array,
) -> dict[str, Any]:
    """One forward and one backward pass over ``x`` ``(m, n_1)``, ``y`` ``(m, n_L)``.

    Returns a JSON-ready dict: ``cost`` (the mean C over the probe), ``accuracy`` (share of
    argmax matches, or None for one output) and ``layers``, one dict per layer with weights,
    input side first (see the module docstring for the keys).
    """
    m = len(x)
    zs, activations = feedforward_trace(weights, biases, acts, x)
    a_L = activations[-1]  # (m, n_L)
    layers: list[dict[str, Any]] = []
    delta_all = deltas(weights, acts, cost, zs, activations, y)  # BP1, BP2: (m, n_l) each
    for i, delta in enumerate(delta_all):
        nabla_b = delta.sum(axis=0) / m  # BP3: (n_l,)
        nabla_w = delta.T @ activations[i] / m  # BP4: (n_l, n_(l−1))
        stats = _layer_stats(
            acts[i], zs[i], activations[i + 1], delta, nabla_b, nabla_w, weights[i]
        )
        layers.append(stats | {"layer": i + 2})  # the book's numbering: 2 … L
    if acts[-1].name in SATURATING:
        wrong = np.abs(a_L - y) > 0.5
        layers[-1]["saturated_wrong"] = float(np.mean(wrong & _saturated(acts[-1], zs[-1], a_L)))
    accuracy = None
    if a_L.shape[1] > 1:
        accuracy = float(np.mean(np.argmax(a_L, axis=1) == np.argmax(y, axis=1)))
    return {"cost": cost(a_L, y), "accuracy": accuracy, "layers": layers}


def _saturated(act: Activation, z: Array, a: Array) -> Array:
    """True where σ'(z) < SATURATION · max σ': (m, n_l)."""
    return act.prime(z, a) < SATURATION * act.max_prime


def _layer_stats(
    act: Activation,
    z: Array,
    a: Array,
    delta: Array,
    nabla_b: Array,
    nabla_w: Array,
    w: Array,
) -> dict[str, Any]:
    return {
        "activation": act.name,
        "speed_b": float(np.linalg.norm(nabla_b)),
        "speed_w": float(np.linalg.norm(nabla_w)),
        "delta": float(np.mean(np.linalg.norm(delta, axis=1))),
        "saturated": float(np.mean(_saturated(act, z, a))) if act.name in SATURATING else None,
        "dead": float(np.mean(np.all(z <= 0, axis=0))) if act.name == "relu" else None,
        "w_mean": float(np.mean(w)),
        "w_std": float(np.std(w)),
        "w_max": float(np.max(np.abs(w))),
    }


# -- the callback ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingWarning:
    """Advice about a run: ``code`` names the problem, ``message`` the insight and a remedy.

    ``position`` is where it first applied, in epochs of training (0 = before training).
    """

    code: str
    message: str
    position: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Diagnostics(Callback):
    """Record the learning speed, saturation and weights of each layer while training.

    Parameters
    ----------
    X_probe : array ``(m, n_in)``
        The probe inputs (see :func:`probe_sample`); the training loop's callbacks do not see
        the data, so the probe is given here.
    Y_probe : array ``(m, n_out)`` or ``(m,)``
        Their targets or class labels.
    batches_per_epoch : int, optional
        Mini-batches per epoch. When given, the probe is also measured at the fractions
        :data:`FIRST_EPOCH_POINTS` of the first epoch.
    on_warning : callable, optional
        Called with each :class:`TrainingWarning` the first time it applies.
    previous : dict, optional
        :meth:`to_dict` of an interrupted run being resumed: its records are kept and its
        warnings are not raised again.

    Attributes
    ----------
    records : list of dict
        One per measurement: ``position`` (epochs of training done), ``epoch``, ``batch``,
        ``cost``, ``accuracy``, ``layers`` (see :func:`measure`); the records taken at an
        epoch's end add ``eta``, ``train_cost`` and ``test_accuracy`` from the history.
    """

    def __init__(
        self,
        X_probe: Any,
        Y_probe: Any,
        *,
        batches_per_epoch: int | None = None,
        on_warning: Callable[[TrainingWarning], None] | None = None,
        previous: dict[str, Any] | None = None,
    ) -> None:
        self.X_probe, self.Y_probe = X_probe, Y_probe
        self.batches_per_epoch = batches_per_epoch
        self.on_warning = on_warning
        self.records: list[dict[str, Any]] = list((previous or {}).get("records", []))
        self.warnings = [TrainingWarning(**w) for w in (previous or {}).get("warnings", [])]
        self.meta: dict[str, Any] = {}
        self._net: Network | None = None
        self._x = self._y = np.empty(0)
        points = sorted({round(f * (batches_per_epoch or 0)) for f in FIRST_EPOCH_POINTS})
        self._first_epoch_batches = {b for b in points if 0 < b < (batches_per_epoch or 0)}

    def __repr__(self) -> str:
        return f"Diagnostics(probe={len(self.X_probe)} examples, {len(self.records)} records)"

    def on_train_begin(self, net: Network, state: TrainState) -> None:
        self._net = net
        self._x = np.ascontiguousarray(self.X_probe, dtype=net.dtype)
        self._y = net.targets(self.Y_probe, len(self._x))
        out, cost = net.activations[-1], net.cost
        self.meta = {
            "sizes": list(net.sizes),
            "activations": [a.name for a in net.activations],
            "cost": cost.name,
            # The initialisation, so that the advice never suggests the one in use.
            "init": getattr(net, "init", None),
            # False when the cost cancels σ'(z^L) in BP1 (δ^L = a − y).
            "output_delta_has_sigma_prime": out.name not in cost.exact_delta,
            "probe_size": len(self._x),
            "saturation_threshold": SATURATION,
            **_input_scale(self._x),
        }
        self._record(state.epoch, state.batch, {})

    def on_batch_end(self, state: TrainState) -> None:
        if state.epoch == 0 and state.batch in self._first_epoch_batches:
            self._record(0, state.batch, {})

    def next_batch_end(self, state: TrainState) -> int:
        later = (
            [b for b in self._first_epoch_batches if b > state.batch] if state.epoch == 0 else []
        )
        return min(later, default=sys.maxsize)

    def on_epoch_end(self, record: EpochRecord, net: Network, state: TrainState) -> None:
        extra = {
            "eta": record.eta,
            "train_cost": record.train_cost,
            "test_accuracy": record.test_accuracy,
        }
        self._record(record.epoch + 1, 0, extra)

    def to_dict(self) -> dict[str, Any]:
        """Everything recorded, as JSON-ready data (what ``diagnostics.json`` holds)."""
        return {
            "format": FORMAT,
            "version": 1,
            **self.meta,
            "records": self.records,
            "warnings": [w.to_dict() for w in self.warnings],
        }

    def _record(self, epoch: int, batch: int, extra: dict[str, Any]) -> None:
        net = self._net
        assert net is not None  # on_train_begin sets it before any record
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            stats = measure(net.weights, net.biases, net.activations, net.cost, self._x, self._y)
        position = epoch + (batch / self.batches_per_epoch if self.batches_per_epoch else 0.0)
        self.records.append(
            {"position": position, "epoch": epoch, "batch": batch, **stats, **extra}
        )
        seen = {w.code for w in self.warnings}
        for w in warnings_for(self.to_dict()):
            if w.code not in seen:
                self.warnings.append(w)
                if self.on_warning is not None:
                    self.on_warning(w)


# -- warnings ----------------------------------------------------------------------------------


def warnings_for(
    diagnostics: dict[str, Any], history: dict[str, Any] | None = None
) -> list[TrainingWarning]:
    """The advice a run's measurements call for, each problem at most once.

    Parameters
    ----------
    diagnostics : dict
        :meth:`Diagnostics.to_dict` (the contents of ``diagnostics.json``).
    history : dict, optional
        :meth:`bprop.train.History.to_dict`; a ``"diverged"`` status raises the divergence
        warning even when no measurement saw it.

    Returns
    -------
    list of TrainingWarning
        In the order the problems first appeared.
    """
    records = diagnostics.get("records", [])
    found: dict[str, TrainingWarning] = {}
    for rec in records:
        for check in (_unscaled, _saturated_output, _saturated_hidden, _vanishing, _dead_relus):
            w = check(diagnostics, rec)
            if w is not None and w.code not in found:
                found[w.code] = w
    divergence = _divergence(records, history)
    if divergence is not None:
        found.setdefault(divergence.code, divergence)
    return list(found.values())


def _in_use(d: dict[str, Any]) -> tuple[set[str], str | None]:
    """The run's hidden activations and initialisation (None where the file does not say), so
    that the advice never suggests what was given."""
    return set(d.get("activations", [])[:-1]), d.get("init")


def describe_position(position: float) -> str:
    """``0`` → "before training", ``0.2`` → "20% into epoch 0", ``3`` → "after epoch 2"."""
    if position == 0:
        return "before training"
    if position == int(position):
        return f"after epoch {int(position) - 1}"
    return f"{position - int(position):.0%} into epoch {int(position)}"


def _listed(items: Sequence[str]) -> str:
    """``a``, ``a or b``, ``a, b, or c``."""
    if len(items) <= 2:
        return " or ".join(items)
    return ", ".join(items[:-1]) + ", or " + items[-1]


def _percent(share: float) -> str:
    return f"{share:.0%}" if share >= 0.01 else f"{share:.1%}"


def _saturated_output(d: dict[str, Any], rec: dict[str, Any]) -> TrainingWarning | None:
    out = rec["layers"][-1]
    share = out.get("saturated_wrong")
    if not d.get("output_delta_has_sigma_prime") or share is None:
        return None
    if share < SATURATED_WRONG_SHARE:
        return None
    remedy = (
        "the log-likelihood cost (--cost log-likelihood)"
        if out["activation"] == "softmax"
        else "the cross-entropy cost (--cost cross-entropy)"
    )
    return TrainingWarning(
        "saturated-output",
        f"{_percent(share)} of the output neurons' answers are saturated and wrong "
        f"{describe_position(rec['position'])}: σ'(z^L) ≈ 0 while |a − y| > ½. With the "
        f"{d.get('cost', 'quadratic')} cost, BP1 gives δ^L = (a − y) ⊙ σ'(z^L) ≈ 0 for them, "
        "so by BP3 and BP4 their biases and weights barely learn: an output neuron that "
        f"saturates learns slowly however wrong it is. Remedy: {remedy}, whose δ^L = a − y has "
        "no σ'(z^L) factor.",
        rec["position"],
    )


def _saturated_hidden(d: dict[str, Any], rec: dict[str, Any]) -> TrainingWarning | None:
    if rec["position"] != 0:
        return None  # trained hidden neurons often saturate usefully; only the start is a fault
    init = _in_use(d)[1]
    for layer in rec["layers"][:-1]:
        share = layer.get("saturated")
        if share is not None and share >= SATURATED_HIDDEN_SHARE and _badly_scaled(d):
            n = d.get("sizes", [0])[0]
            also = (
                f" With w ~ N(0, 1), scaled initialisation (--init scaled) narrows z by a "
                f"further √{n} ≈ {math.sqrt(n):.2g}."
                if init in (None, "standard") and isinstance(n, int) and n > 1
                else ""
            )
            return TrainingWarning(
                "saturated-hidden",
                f"{_percent(share)} of layer {layer['layer']}'s {layer['activation']} neurons "
                f"are saturated before training, which points at large inputs: {_unscaled_text(d)} "
                "With inputs that large, z = w·a + b spreads far beyond σ's slope whatever the "
                "initialisation, so σ'(z) ≈ 0 and by BP2 its δ ≈ 0 — it learns slowly and "
                f"starves any layers before it. Remedy: {_SCALE_REMEDY}.{also}",
                rec["position"],
            )
        if share is not None and share >= SATURATED_HIDDEN_SHARE:
            return TrainingWarning(
                "saturated-hidden",
                f"{_percent(share)} of layer {layer['layer']}'s {layer['activation']} neurons "
                "are saturated before training: "
                + (
                    "their weighted inputs z spread widely although the weights are "
                    f"{init}-initialised, which points at large inputs,"
                    if init not in (None, "standard")
                    else "with w ~ N(0, 1) a neuron with many inputs gets a weighted input z of "
                    "large spread,"
                )
                + " so σ'(z) ≈ 0 and by BP2 its δ ≈ 0 — it learns slowly and starves any layers "
                "before it. Remedy: "
                + (
                    "scaled initialisation w ~ N(0, 1/n_in) (--init scaled)."
                    if init != "scaled"
                    else "inputs in a small range (such as [0, 1]) and smaller initial weights."
                ),
                rec["position"],
            )
    return None


def _input_scale(x: Array) -> dict[str, Any]:
    """The largest root mean square of a feature over the probe ``x`` ``(m, n_in)``, and which."""
    if x.size == 0:
        return {}
    rms = np.sqrt(np.mean(np.square(x, dtype=np.float64), axis=0))
    k = int(np.argmax(rms))
    return {"input_rms": float(rms[k]), "input_rms_feature": k}


def _badly_scaled(d: dict[str, Any]) -> bool:
    rms = d.get("input_rms")
    return isinstance(rms, (int, float)) and rms > UNSCALED_RMS


_SCALE_REMEDY = (
    "scale the features to order 1 (--scale standard; in Python a StandardScaler before "
    "BPClassifier, or datasets.load_csv(scale='standard'))"
)


def _unscaled_text(d: dict[str, Any]) -> str:
    return (
        f"the inputs are not scaled (feature {d['input_rms_feature'] + 1} has a root mean square "
        f"of {d['input_rms']:.3g} over the probe, where σ needs inputs of order 1)."
    )


def _unscaled(d: dict[str, Any], rec: dict[str, Any]) -> TrainingWarning | None:
    """Inputs far from order 1, where no hidden layer saturates yet (saturated-hidden then
    names the inputs as its cause)."""
    if rec["position"] != 0 or not _badly_scaled(d):
        return None
    shares = [layer.get("saturated") for layer in rec["layers"][:-1]]
    if any(share is not None and share >= SATURATED_HIDDEN_SHARE for share in shares):
        return None
    return TrainingWarning(
        "unscaled-inputs",
        f"{_unscaled_text(d)[0].upper()}{_unscaled_text(d)[1:]} With inputs that large, "
        "z = w·a + b spreads far beyond the slope of sigmoid or tanh and ReLUs take steps of "
        f"their size, so training is slow or unstable. Remedy: {_SCALE_REMEDY}.",
        rec["position"],
    )


def _vanishing(d: dict[str, Any], rec: dict[str, Any]) -> TrainingWarning | None:
    if rec["position"] == 0 and _badly_scaled(d):
        return None  # the unscaled inputs saturate the first layer: that warning says so
    layers = rec["layers"]
    first, last = layers[0], layers[-1]
    slow, fast = first["speed_b"], last["speed_b"]
    if not (math.isfinite(slow) and math.isfinite(fast)) or fast <= VANISHING_RATIO * slow:
        return None
    ratio = fast / slow if slow > 0 else math.inf
    hidden = sorted({layer["activation"] for layer in layers[:-1]})
    return TrainingWarning(
        "vanishing-gradient",
        f"layer {first['layer']} learns {ratio:.0f}× slower than layer {last['layer']} "
        f"{describe_position(rec['position'])} (‖∂C/∂b‖ = {first['speed_b']:.2g} against "
        f"{last['speed_b']:.2g}). By BP2, δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l): every layer's "
        f"σ'(z) (at most ¼ for sigmoid; hidden layers here: {', '.join(hidden)}) shrinks the "
        "error on its way back, so the early layers starve — the vanishing gradient problem. "
        + _vanishing_remedy(d),
        rec["position"],
    )


def _vanishing_remedy(d: dict[str, Any]) -> str:
    hidden, init = _in_use(d)
    relu, he = hidden == {"relu"}, init == "he"
    options = []
    if not relu and not he:
        options.append("ReLU hidden layers with He initialisation (--activation relu --init he)")
    elif not relu:
        options.append("ReLU hidden layers (--activation relu)")
    elif not he:
        options.append("He initialisation (--init he)")
    if not relu and init != "scaled":
        options.append("scaled initialisation (--init scaled)")
    if not options:
        return (
            "ReLU hidden layers with He initialisation, the usual remedy, are in use already; "
            "with ReLU a slow first layer usually means dead neurons (z ≤ 0 on every example "
            "passes no error back). Remedy: a smaller learning rate η, or leaky ReLU "
            "(--activation leaky_relu)."
        )
    return "Remedy: " + ", or at least ".join(options) + "."


def _dead_relus(d: dict[str, Any], rec: dict[str, Any]) -> TrainingWarning | None:
    for layer in rec["layers"]:
        share = layer.get("dead")
        if share is not None and share >= DEAD_SHARE:
            return TrainingWarning(
                "dead-relu",
                f"{_percent(share)} of layer {layer['layer']}'s ReLU neurons are dead "
                f"{describe_position(rec['position'])}: z ≤ 0 for every probe example, so "
                "σ'(z) = 0 and by BP2 their δ is 0 — they never learn again. Remedy: "
                + _listed(
                    ["a smaller learning rate η"]
                    + ([] if _in_use(d)[1] == "he" else ["He initialisation (--init he)"])
                    + ["leaky ReLU (--activation leaky_relu)"]
                )
                + ".",
                rec["position"],
            )
    return None


def _divergence(
    records: list[dict[str, Any]], history: dict[str, Any] | None
) -> TrainingWarning | None:
    eta = next((r["eta"] for r in reversed(records) if "eta" in r), None)
    config = (history or {}).get("config") or {}
    if history:
        epochs = history.get("epochs")
        eta = epochs[-1].get("eta", eta) if epochs else config.get("eta", eta)
    tried = config.get("tried_eta")  # the η training tried where it diverged (bprop.train)
    if isinstance(tried, (int, float)) and not isinstance(tried, bool):
        remedy = f"η = {tried:g}, the smaller η that trained best when bprop tried some"
    elif isinstance(eta, (int, float)) and not (history and history.get("status") == "diverged"):
        remedy = f"e.g. η = {eta / 10:g}"
    else:
        remedy = "e.g. a tenth of it"
    advice = (
        "the gradient steps overshoot the minimum instead of descending into it. Remedy: a "
        f"smaller learning rate η, {remedy}."
    )
    lmbda, n = config.get("lmbda"), config.get("n_train")
    real = (int, float)
    if (
        isinstance(eta, real)
        and isinstance(lmbda, real)
        and isinstance(n, real)
        and n > 0
        and 1 - eta * lmbda / n < 0
    ):
        advice = (
            f"the weight decay factor 1 − ηλ/n = {1 - eta * lmbda / n:.3g} is negative, so "
            f"every mini-batch flips and multiplies the weights. Remedy: a smaller L2 strength "
            f"λ (now {lmbda:g}), well below n/η = {n / eta:.3g}."
        )
    if history and history.get("status") == "diverged":
        return TrainingWarning(
            "divergence", f"training diverged: the cost became NaN or infinite; {advice}", None
        )
    lowest = math.inf
    for rec in records:
        where = describe_position(rec["position"])
        for cost in (rec["cost"], rec.get("train_cost")):
            if cost is not None and not math.isfinite(cost):
                return TrainingWarning(
                    "divergence", f"the cost became {cost} {where}; {advice}", rec["position"]
                )
        cost = rec.get("train_cost")
        if cost is None:
            continue
        if cost > RISING_COST * lowest:
            return TrainingWarning(
                "divergence",
                f"the training cost rose from {lowest:.3g} to {cost:.3g} {where}; {advice}",
                rec["position"],
            )
        lowest = min(lowest, cost)
    return None
