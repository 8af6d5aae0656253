"""The document: a derivation laid out as blocks that every format can write.

A block is ``("h", level, text)`` (a heading: a string, or a list ``[str | M, ...]`` of words
and inline mathematics), ``("p", [str | M, ...])`` (a paragraph of words and inline
mathematics), ``("eq", [M, ...])`` (an equation, its segments joined by "=") or
``("table", header, rows)``.  :func:`document` lays out one training step, the article's way
(neuron by neuron, the chain rule written out) or Nielsen's matrix form (BP1–BP4);
:func:`weight_panel` lays out one weight's derivation on its own (the page's panels) and
:func:`steps_document` the table of errors per step.

It only lays out numbers the derivation computed, in the words of :mod:`bprop.explain.i18n`
and the names of :mod:`bprop.explain.names`; it imports neither ``bprop.network`` nor
``bprop.train`` and knows no output format.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from bprop.explain.article import ARTICLE_FIGURES, Erratum
from bprop.explain.derivation import (
    Derivation,
    NeuronStep,
    Problem,
    WeightStep,
    _is_article,
    check_limits,
    table_rows,
)
from bprop.explain.i18n import _cost_name, _li, _t
from bprop.explain.mathlayout import (
    EQ,
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
)
from bprop.explain.names import _Names


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
        if _z(nr) > 0:
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
        op = (">", ">", "&gt;") if _z(nr) > 0 else ("<=", r"\le", "&le;")
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
        blocks.append(("p", _fill(_t("chain_rule", lang, w="{w}"), w=w)))
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
    blocks.append(("p", _fill(_t("example", lang, x="{x}", y="{y}"), x=ins, y=ts)))
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


def _fill(text: str, **parts: M) -> list[str | M]:
    """Words with mathematics: each ``{name}`` left in ``text`` becomes the ``M`` named so."""
    out: list[str | M] = []
    for piece in re.split(r"\{(\w+)\}", text):
        if piece in parts:
            out.append(parts[piece])
        elif piece:
            out.append(piece)
    return out


def _layer(base: str, tex: str = "", sup: tuple[str, str, str] = ("ˡ", "l", "l")) -> M:
    """A layer's vector or matrix in general, zˡ (``sup``: text, LaTeX and HTML of its index)."""
    return M(base + sup[0], (tex or base) + "^{" + sup[1] + "}", f"{base}<sup>{sup[2]}</sup>")


def _general_forward() -> M:
    """zˡ = wˡ aˡ⁻¹ + bˡ, aˡ = σ(zˡ): the forward pass of any layer."""
    z, w, b, a = (_layer(c) for c in "zwba")
    a_prev = _layer("a", sup=("ˡ⁻¹", "l-1", "l−1"))
    sigma = M("σ", r"\sigma", "σ")
    return cat(z, EQ, w, " ", a_prev, PLUS, b, M(", ", r",\quad ", ", "), a, EQ, sigma, paren(z))


def _general_update(letter: str) -> M:
    """wˡ → wˡ − η ∂C/∂wˡ: gradient descent on the weights (or biases) of any layer."""
    x = _layer(letter)
    to, minus = M(" → ", r" \rightarrow ", " → "), M(" − ", " - ", " − ")
    eta = M("η ", r"\eta ", "η ")
    grad = M(f"∂C/∂{x.text}", rf"\partial C/\partial {x.tex}", f"∂C/∂{x.html}")  # inline, no \frac
    return cat(x, to, x, minus, eta, grad)


def _matrix_blocks(d: Derivation, n: _Names, lang: str) -> list[tuple]:
    """Nielsen's matrix form: z^l, a^l, then BP1–BP4 with the vectors and matrices printed."""
    L = n.L
    v = n.layer_vec
    blocks: list[tuple] = [("h", 2, _fill(_t("m_forward", lang, eq="{eq}"), eq=_general_forward()))]
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
            "(" + v("w", l + 1).tex + ")^{T}",  # (w³)ᵀ: the transpose of w³, not w to a power 3T
            "(" + v("w", l + 1).html + ")<sup>T</sup>",
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
            "(" + v("a", l - 1).tex + ")^{T}",
            "(" + v("a", l - 1).html + ")<sup>T</sup>",
        )
        blocks.append(
            _eq(
                partial(M("C", "C", "C"), v("w", l)),
                cat(v("δ", l), " ", at),
                cat(matrix(d.nabla_b[i]), " ", matrix(d.acts[i][None, :])),
                matrix(d.nabla_w[i]),
            )
        )
    blocks.append(("h", 2, _fill(_t("m_update", lang, eq="{eq}"), eq=_general_update("w"))))
    for l in range(2, L + 1):  # noqa: E741
        i = l - 2
        new = [
            [ws.updated for ws in d.weights if (ws.l, ws.j) == (l, j)] for j in range(len(d.b[i]))
        ]
        blocks.append(
            _greek(
                _eq(
                    plus_sup(v("w", l)),
                    cat(v("w", l), " - η ", partial(M("C", "C", "C"), v("w", l))),
                    cat(matrix(d.w[i]), " - ", num(d.eta), " ", matrix(d.nabla_w[i])),
                    matrix(np.array(new)),  # w − η ∂C/∂w, as the derivation computed it
                )
            )
        )
    if d.update_biases:
        blocks.append(("p", _fill(_t("m_bias_update", lang, eq="{eq}"), eq=_general_update("b"))))
        for l in range(2, L + 1):  # noqa: E741
            i = l - 2
            new_b = [bs.updated for bs in d.biases if bs.l == l]
            blocks.append(
                _greek(
                    _eq(
                        plus_sup(v("b", l)),
                        cat(matrix(d.b[i]), " - ", num(d.eta), " ", matrix(d.nabla_b[i])),
                        matrix(np.array(new_b)),
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


def weight_panel(d: Derivation, ws: WeightStep, lang: str = "en") -> list[tuple]:
    """One weight's derivation on its own: the error reaching its neuron, δ, ∂E/∂w, w⁺."""
    n = _Names(d)
    nr = d.neuron(ws.l, ws.j)
    w = n.weight(ws.l, ws.j, ws.k)
    blocks: list[tuple] = [("h", 3, [f"{_t('html_panel', lang)} ", w])]
    if ws.l < n.L:
        blocks += _path_lines(d, n, nr)
    else:
        blocks.append(_d_out_line(d, n, nr))
    if nr.prime is not None:
        blocks.append(_prime_line(d, n, ws.l, nr))
    blocks.append(_delta_line(d, n, nr))
    blocks += _weight_lines(d, n, ws, lang, full=True)
    return [_fix_half(_fix_delta(b)) for b in blocks]


def steps_document(
    rows: Sequence[tuple[int, float]], problem: Problem, *, lang: str = "en"
) -> list[tuple]:
    """The table of the error after each step (:func:`~bprop.explain.error_table`'s rows), as
    blocks: the steps of :func:`~bprop.explain.table_rows` and, for the article's example after
    10,000 updates, what the article prints there."""
    _li(lang)
    n_steps = rows[-1][0]
    net = problem.net
    acts = [a.name for a in net.activations]
    bias = "" if problem.update_biases else _t("steps_bias", lang)
    blocks: list[tuple] = [
        ("h", 1, _t("steps_title", lang, n=n_steps)),
        (
            "p",
            [
                _t(
                    "steps_text",
                    lang,
                    sizes="-".join(map(str, net.sizes)),
                    act=acts[0] if len(set(acts)) == 1 else ", ".join(acts),
                    cost=_cost_name(net.cost.name, lang),
                    eta=number(problem.eta),
                    bias=bias,
                )
            ],
        ),
        (
            "table",
            [_t("col_step", lang), _t("col_error", lang)],
            [[str(s), number(rows[s][1])] for s in table_rows(n_steps)],
        ),
    ]
    d_article = _is_article(net, problem.x, problem.y, problem.eta, problem.update_biases)
    if d_article and n_steps == 10000:
        printed = dict(ARTICLE_FIGURES)["E_after_10000"]
        blocks.append(
            ("p", [_t("steps_article", lang, printed=printed, exact=number(rows[-1][1]))])
        )
    return blocks


def _z(nr: NeuronStep) -> float:
    """The weighted input z of a neuron after the input layer (which has one)."""
    if nr.net is None:
        raise ValueError(f"neuron {nr.j + 1} of layer {nr.l} has no weighted input z")
    return float(nr.net)
