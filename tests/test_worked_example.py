"""The article's 2-2-2 example (seeds/003): every number it prints, to 9 decimals.

The printed figures are copied here from the article by hand; the library computes them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from bprop.examples import WEIGHT_NAMES, XOR_X, XOR_Y, worked_example, xor


def r9(value: float) -> float:
    return round(float(value), 9)


def shows(value: float, printed: str) -> bool:
    """True when ``value`` rounds to the article's figure at the decimals it printed.

    The article prints 9 decimals, except where a trailing digit was dropped (0.19956143 for
    w2⁺ = 0.1995614323): those are compared at the 8 decimals shown.
    """
    decimals = len(printed.split(".")[1])
    return f"{value:.{decimals}f}" == printed


@pytest.fixture
def ex():
    return worked_example()


def test_forward_pass(ex):
    from bprop.network import feedforward_trace

    zs, acts = feedforward_trace(ex.net.weights, ex.net.biases, ex.net.activations, ex.x)
    assert shows(zs[0][0, 0], "0.3775")  # net_h1
    assert shows(acts[1][0, 0], "0.593269992")  # out_h1
    assert shows(acts[1][0, 1], "0.596884378")  # out_h2
    assert shows(zs[1][0, 0], "1.105905967")  # net_o1
    assert shows(acts[2][0, 0], "0.75136507")  # out_o1
    assert shows(acts[2][0, 1], "0.772928465")  # out_o2


def test_total_error(ex):
    out = ex.net.feedforward(ex.x)[0]
    e = 0.5 * (ex.y[0] - out) ** 2
    assert shows(e[0], "0.274811083")  # E_o1
    assert shows(e[1], "0.023560026")  # E_o2
    assert shows(ex.error(), "0.298371109")  # E_total


def test_output_layer_chain_rule_and_gradients(ex):
    out = ex.net.feedforward(ex.x)[0]
    h = 1 / (1 + np.exp(-(ex.net.weights[0] @ ex.x[0] + 0.35)))
    assert shows(out[0] - ex.y[0, 0], "0.74136507")  # ∂E/∂out_o1
    assert shows(out[0] * (1 - out[0]), "0.186815602")  # ∂out_o1/∂net_o1
    assert shows((out[0] - ex.y[0, 0]) * out[0] * (1 - out[0]), "0.138498562")  # δ_o1
    nabla_b, nabla_w = ex.net.backprop(ex.x, ex.y)
    assert shows(nabla_w[1][0, 0], "0.082167041")  # ∂E/∂w5
    assert r9(nabla_w[1][0, 0]) == r9(0.74136507 * 0.186815602 * 0.593269992)
    assert shows(nabla_w[0][0, 0], "0.000438568")  # ∂E/∂w1
    assert shows(h[0] * (1 - h[0]), "0.241300709")  # ∂out_h1/∂net_h1
    # ∂E/∂out_h1 = ∂E_o1/∂out_h1 + ∂E_o2/∂out_h1: the two error paths summed (BP2)
    delta_o = nabla_b[1]
    paths = delta_o * ex.net.weights[1][:, 0]
    assert shows(paths[0], "0.055399425")
    # Erratum: the article prints −0.019049119; exact is −0.019049118258.  It rounded
    # δ_o2 = −0.0380982365 to −0.038098237 first, then halved that (double rounding).
    assert shows(paths[1], "-0.019049118")
    assert shows(round(delta_o[1], 9) * ex.net.weights[1][1, 0], "-0.019049119")
    assert shows(paths.sum(), "0.036350306")


def test_updated_weights(ex):
    ex.train(1)
    printed = {
        "w5": "0.35891648",
        "w6": "0.408666186",
        "w7": "0.511301270",
        "w8": "0.561370121",
        "w1": "0.149780716",
        "w2": "0.19956143",
        "w3": "0.24975114",
        "w4": "0.29950229",
    }
    for name, value in printed.items():
        assert shows(ex.weight(name), value), name
    assert list(ex.net.biases[0]) == [0.35, 0.35]  # biases held fixed, as in the article
    assert list(ex.net.biases[1]) == [0.60, 0.60]


def test_errata_error_after_updates():
    """Where the article's printed figures differ from exact arithmetic.

    The article prints E_total = 0.291027924 after the first update and 0.000035085 with
    outputs [0.015912196, 0.984065734] after 10,000.  Exact arithmetic on its own network gives
    0.291027774 and 0.000035102, [0.015913620, 0.984064270].  The printed figures are what one
    gets by backpropagating the hidden layer's error through the *already updated* w5…w8 (its
    hand calculation of w1⁺ uses the old w5 = 0.40, so the slip is in the program that produced
    the error figures, not in the derivation).
    """
    ex = worked_example().train(1)
    assert r9(ex.error()) == 0.291027774
    assert r9(ex.error()) != 0.291027924
    ex.train(9999)
    assert r9(ex.error()) == 0.000035102
    out = ex.net.feedforward(ex.x)[0]
    assert [r9(o) for o in out] == [0.01591362, 0.984064274]
    # Reproduce the article's figures with its slip, to confirm the cause.
    assert r9(_article_variant(1)[0]) == 0.291027924
    e, out = _article_variant(10000)
    assert r9(e) == 0.000035085
    assert [r9(o) for o in out] == [0.015912196, 0.984065734]


def _article_variant(steps):
    """The update with δ_h computed from the updated output weights (the article's slip)."""
    sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    w = [0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55]
    i1, i2, t1, t2 = 0.05, 0.10, 0.01, 0.99

    def forward(w):
        h1, h2 = sig(w[0] * i1 + w[1] * i2 + 0.35), sig(w[2] * i1 + w[3] * i2 + 0.35)
        return h1, h2, sig(w[4] * h1 + w[5] * h2 + 0.6), sig(w[6] * h1 + w[7] * h2 + 0.6)

    for _ in range(steps):
        h1, h2, o1, o2 = forward(w)
        d1, d2 = (o1 - t1) * o1 * (1 - o1), (o2 - t2) * o2 * (1 - o2)
        w[4:] = [
            w[4] - 0.5 * d1 * h1,
            w[5] - 0.5 * d1 * h2,
            w[6] - 0.5 * d2 * h1,
            w[7] - 0.5 * d2 * h2,
        ]
        dh1 = (d1 * w[4] + d2 * w[6]) * h1 * (1 - h1)
        dh2 = (d1 * w[5] + d2 * w[7]) * h2 * (1 - h2)
        w[:4] = [
            w[0] - 0.5 * dh1 * i1,
            w[1] - 0.5 * dh1 * i2,
            w[2] - 0.5 * dh2 * i1,
            w[3] - 0.5 * dh2 * i2,
        ]
    _, _, o1, o2 = forward(w)
    return 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2, (o1, o2)


class _ArticleNeuron:
    """The article's program, neuron by neuron (seeds/003), as an independent oracle."""

    def __init__(self, bias, weights):
        self.bias, self.weights = bias, list(weights)

    def output(self, inputs):
        self.inputs = inputs
        self.out = 1 / (
            1 + math.exp(-(sum(i * w for i, w in zip(inputs, self.weights)) + self.bias))
        )
        return self.out


def _article_program(steps, target):
    hidden = [_ArticleNeuron(0.35, [0.15, 0.20]), _ArticleNeuron(0.35, [0.25, 0.30])]
    output = [_ArticleNeuron(0.6, [0.40, 0.45]), _ArticleNeuron(0.6, [0.50, 0.55])]
    x = [0.05, 0.10]
    for _ in range(steps):
        h = [n.output(x) for n in hidden]
        for n in output:
            n.output(h)
        d_out = [-(t - n.out) * n.out * (1 - n.out) for t, n in zip(target, output)]
        d_hid = [
            sum(d * o.weights[j] for d, o in zip(d_out, output)) * n.out * (1 - n.out)
            for j, n in enumerate(hidden)
        ]
        for d, n in zip(d_out, output):
            n.weights = [w - 0.5 * d * i for w, i in zip(n.weights, n.inputs)]
        for d, n in zip(d_hid, hidden):
            n.weights = [w - 0.5 * d * i for w, i in zip(n.weights, n.inputs)]
    return [w for n in hidden + output for w in n.weights]


@pytest.mark.parametrize("target", [[0.01, 0.99], [0.01, 0.09]])
def test_trajectory_equals_the_articles_program(target):
    """1,000 updates of the batch-form library = the article's per-neuron program, to rounding.

    The article's program trains towards [0.01, 0.09], a typo for the text's [0.01, 0.99]; both
    targets are checked.
    """
    ex = worked_example()
    ex.y = np.array([target])
    ex.train(1000)
    ours = [ex.weight(f"w{i}") for i in range(1, 9)]
    np.testing.assert_allclose(ours, _article_program(1000, target), rtol=1e-12)
    assert len(WEIGHT_NAMES) == 8


def test_xor_trains_to_correct_outputs():
    net, history = xor()
    out = net.feedforward(XOR_X)
    assert np.all(np.abs(out - XOR_Y) < 0.1), out
    assert history.epochs[-1].train_accuracy == 1.0
    assert history.epochs[-1].train_cost < history.epochs[0].train_cost / 100
