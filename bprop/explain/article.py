"""The seeds' article (003): the figures it prints, and where they differ from exact arithmetic.

The article trains the 2-2-2 sigmoid network of :func:`bprop.examples.worked_example` by hand for
one step, then reports the error after 10,000 updates of its program.  :data:`ARTICLE_FIGURES`
holds every figure it prints, as printed, and :data:`ARTICLE_TEXT` its wrong words;
:func:`errata` checks each figure against the library and, for each that is off, reproduces the
figure its likely cause gives (a double rounding, a slip that backpropagates the hidden layer's
error through the already-updated output weights, a typo in the program's target).

It computes with the library (:func:`~bprop.explain.derivation.derive`, the network's forward
pass) and returns :class:`Erratum` records; it lays out nothing (the document and the formats
do) and its explanations' words are in :mod:`bprop.explain.i18n`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from bprop.explain.derivation import Array, derive, error_table
from bprop.explain.i18n import _ERRATA_TEXT, _li
from bprop.explain.mathlayout import number
from bprop.network import feedforward_trace


@dataclass(frozen=True)
class Erratum:
    """A place where the article's printed figure or word differs from exact arithmetic.

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
    note.  The article's wrong words (:data:`ARTICLE_TEXT`) follow.  Only what the article prints
    differently from the truth is listed (its fixed biases are right, and the derivation says
    it holds them fixed).  Each erratum's ``reproduced`` is the figure its likely cause gives,
    computed.

    Returns
    -------
    list of Erratum
        In the order the article prints the figures.
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
    return tuple(out)


def _article_exact() -> dict[str, float]:
    """The exact value of each of the article's figures, by the library (every one is known
    for the worked example's output and hidden neurons: the Optional fields are those of the
    input layer)."""
    from bprop.examples import worked_example

    ex = worked_example()
    d = derive(ex.net, ex.x, ex.y, ex.eta)
    h1, h2 = d.layers[1]
    o1, o2 = d.layers[2]
    names = {f"w{n}": ws for n, ws in enumerate(d.weights, start=1)}
    w5 = names["w5"]
    ex.train(10000)
    out = ex.net.feedforward(ex.x)[0]
    figures = {
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
    missing = [k for k, v in figures.items() if v is None]
    if missing:
        raise AssertionError(f"the derivation left {missing} unknown")
    return {k: v for k, v in figures.items() if v is not None}


def _article_slips() -> dict[str, str]:
    """The figures that the likely cause of each erratum gives, computed with the library."""
    from bprop.examples import worked_example

    ex = worked_example()
    d = derive(ex.net, ex.x, ex.y, ex.eta)
    o2 = d.layers[2][1]
    assert o2.delta is not None  # an output neuron has its δ
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
