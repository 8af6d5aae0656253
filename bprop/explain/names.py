"""The names of the quantities of a derivation: the article's, or Nielsen's.

A network with one hidden layer is written with the article's names (i1, h1, o1, w1…w8, net_h1,
out_h1, δ_o1, E_total, b1 shared by a layer); any other with Nielsen's (w³₁₂, z²₁, a²₁, δ²₁, C).
:class:`_Names` gives each quantity's name as an :class:`~bprop.explain.mathlayout.M`.

It only names: it computes no number and holds no sentence of any language.
"""

from __future__ import annotations

import numpy as np

from bprop.explain.derivation import Derivation, weight_key
from bprop.explain.mathlayout import M, sym


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
                rf"\delta_{{\mathrm{{{self.neuron(l, j)}}}}}",
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
        return weight_key(self.sizes, self._wnum[(l, j, k)], l, j, k)

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
