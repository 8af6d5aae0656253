"""The seeds' worked examples, ready in one call.

:func:`worked_example` is the 2-2-2 sigmoid network that the article computes by hand (inputs
0.05/0.10, targets 0.01/0.99, η = 0.5, squared error, biases 0.35 and 0.60 held fixed), with the
article's weight names w1…w8 mapped onto Nielsen's ``w^l_jk``.  :func:`xor` is the article's
second example, the XOR truth table learned by a 2-5-1 sigmoid network.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bprop.network import Network
from bprop.train import History

Array = np.ndarray

# The article's names for each weight: (index into net.weights, j, k), so that
# net.weights[i][j, k] is w^l_jk with l = i + 2.  w1 runs from i1 to h1, w2 from i2 to h1, …
WEIGHT_NAMES: dict[str, tuple[int, int, int]] = {
    "w1": (0, 0, 0),
    "w2": (0, 0, 1),
    "w3": (0, 1, 0),
    "w4": (0, 1, 1),
    "w5": (1, 0, 0),
    "w6": (1, 0, 1),
    "w7": (1, 1, 0),
    "w8": (1, 1, 1),
}


@dataclass
class WorkedExample:
    """The article's network and its one training example.

    Attributes
    ----------
    net : Network
        2-2-2, sigmoid, quadratic cost, float64; weights w1…w8 = 0.15 … 0.55, biases
        b1 = 0.35 (both hidden neurons) and b2 = 0.60 (both output neurons).
    x : array ``(1, 2)``
        The inputs i1 = 0.05, i2 = 0.10.
    y : array ``(1, 2)``
        The targets 0.01, 0.99.
    eta : float
        The learning rate, 0.5.
    """

    net: Network
    x: Array
    y: Array
    eta: float = 0.5
    history: History = field(default_factory=History)

    def weight(self, name: str) -> float:
        """The current value of the article's weight ``"w1"`` … ``"w8"``."""
        i, j, k = WEIGHT_NAMES[name]
        return float(self.net.weights[i][j, k])

    def error(self) -> float:
        """E_total = Σ_o ½(target_o − out_o)² for the example, at the current weights."""
        return self.net.total_cost(self.x, self.y)

    def train(self, steps: int = 1) -> WorkedExample:
        """Apply ``steps`` updates w → w − η ∂E/∂w, biases held fixed, as the article does."""
        self.net.SGD(
            self.x,
            self.y,
            epochs=steps,
            mini_batch_size=1,
            eta=self.eta,
            shuffle=False,
            update_biases=False,
            verbose=False,
            seed=0,
        )
        return self


def worked_example() -> WorkedExample:
    """The 2-2-2 network of the article, before any update (see :class:`WorkedExample`)."""
    net = Network([2, 2, 2], activation="sigmoid", cost="quadratic")
    net.weights[0][:] = [[0.15, 0.20], [0.25, 0.30]]  # w1 w2 / w3 w4
    net.weights[1][:] = [[0.40, 0.45], [0.50, 0.55]]  # w5 w6 / w7 w8
    net.biases[0][:] = 0.35  # b1, shared by h1 and h2
    net.biases[1][:] = 0.60  # b2, shared by o1 and o2
    return WorkedExample(net, np.array([[0.05, 0.10]]), np.array([[0.01, 0.99]]))


XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([[0.0], [1.0], [1.0], [0.0]])


def xor(epochs: int = 5000, seed: int = 1) -> tuple[Network, History]:
    """Train the article's XOR example: a 2-5-1 sigmoid network, η = 0.5, one example per step.

    The article draws one random row of the truth table per step; here each epoch visits
    all four rows in a shuffled order, which is the same algorithm without repetition.

    Returns
    -------
    (net, history)
        ``net.feedforward(XOR_X)`` is then close to ``XOR_Y``.
    """
    net = Network([2, 5, 1], activation="sigmoid", cost="quadratic", seed=seed)
    history = net.SGD(XOR_X, XOR_Y, epochs, 1, 0.5, seed=seed, verbose=False)
    return net, history
