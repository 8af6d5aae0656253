"""Exact input sparsity (#20 item 2): the compiled engine's first layer sums only the inputs
that are not 0, and gives the dense products' weights to float rounding."""

from __future__ import annotations

import numpy as np
import pytest

import bprop
from bprop import engines
from bprop.errors import DivergenceError
from bprop.train import Callback
from tests.conftest import kernel_versions, needs_kernel

pytestmark = needs_kernel


@pytest.fixture(params=kernel_versions())
def kernel_version(request):
    """Each version of the kernel this CPU runs, in turn."""
    from bprop import _compiled

    assert _compiled.limit_instruction_set(request.param) == request.param
    yield request.param
    _compiled.limit_instruction_set(None)


def _sparse_data(n, n_in, n_out, dtype=np.float64, seed=0, share=0.2):
    """Inputs that are 0 but for about ``share`` of them, as in MNIST's digits, with the first
    and last three columns 0 in every example (MNIST's borders); the targets' classes."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_in)) * (rng.random((n, n_in)) < share)
    X[:, :3] = 0
    X[:, -3:] = 0
    X[::7, 5] = -0.0  # a negative zero is a zero too
    return X.astype(dtype), rng.integers(0, n_out, n)


def _train(X, y, sizes, m, *, sparse, dtype=np.float64, epochs=3, set_up=None, **kw):
    """A fresh network (given to ``set_up`` first, where there is one) trained by the compiled
    engine, with the first layer's sparse products on or off; returns (net, history)."""
    options = {"seed": 4, "verbose": False, "compiled": True} | kw
    old = engines.SPARSE_INPUT_SHARE
    engines.SPARSE_INPUT_SHARE = 1.0 if sparse else -1.0
    try:
        net = bprop.Network(list(sizes), "sigmoid", "cross-entropy", dtype=dtype, seed=2)
        if set_up is not None:
            set_up(net)
        history = net.SGD(X, y, epochs, m, 0.5, **options)
    finally:
        engines.SPARSE_INPUT_SHARE = old
    assert history.config["sparse_input"] is sparse
    return net, history


SHAPES = [
    ((784, 30, 10), 10),  # the book's network and mini-batch
    ((70, 37, 21, 5), 23),  # widths that are no multiple of a vector; ragged blocks
    ((130, 100, 10), 32),  # several vectors of z¹: blocks of lanes and their leftovers
    ((130, 10), 7),  # no hidden layer: the first layer is the output layer
    ((40, 9, 3), 1),  # mini-batches of one: BP4's halves are cut by entries
]
RULES = [
    {},  # plain SGD: w − Δ
    {"lmbda": 0.3},  # L2 decays every weight, the unused columns too
    {"lmbda": 0.3, "momentum": 0.6},  # velocities live transposed during a stretch
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("sizes", "m"), SHAPES)
@pytest.mark.parametrize("rule", RULES, ids=["plain", "l2", "momentum"])
def test_sparse_products_give_the_dense_weights(sizes, m, rule, dtype, kernel_version):
    """Three epochs with the sparse first layer end on the weights the fused NumPy engine and
    the compiled engine's dense products end on, to float rounding, with every version of the
    kernel this CPU runs."""
    X, y = _sparse_data(101, sizes[0], sizes[-1], dtype)
    sparse, hs = _train(X, y, sizes, m, sparse=True, dtype=dtype, **rule)
    dense, _ = _train(X, y, sizes, m, sparse=False, dtype=dtype, **rule)
    numpy_net = bprop.Network(list(sizes), "sigmoid", "cross-entropy", dtype=dtype, seed=2)
    hn = numpy_net.SGD(X, y, 3, m, 0.5, seed=4, verbose=False, compiled=False, **rule)
    rtol = 1e-11 if dtype == np.float64 else 1e-4
    for net in (dense, numpy_net):
        for p, q in zip(sparse.weights + sparse.biases, net.weights + net.biases):
            assert p.dtype == dtype
            np.testing.assert_allclose(p, q, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(hs.column("train_cost"), hn.column("train_cost"), rtol=rtol)


def test_columns_no_example_uses_keep_their_weights_bit_for_bit_and_l2_still_decays_them():
    """Without L2 or momentum BP4 gives the always-zero inputs' weights nothing to do: they
    are the initial ones, bit for bit; with L2 they shrink by (1 − ηλ/n) every mini-batch,
    as the dense products make them."""
    X, y = _sparse_data(60, 50, 4)
    start = bprop.Network([50, 12, 4], "sigmoid", "cross-entropy", seed=2).weights[0]
    plain, _ = _train(X, y, (50, 12, 4), 10, sparse=True)
    np.testing.assert_array_equal(plain.weights[0][:, :3], start[:, :3])
    np.testing.assert_array_equal(plain.weights[0][:, -3:], start[:, -3:])
    assert not np.array_equal(plain.weights[0][:, 10:20], start[:, 10:20])
    decayed, _ = _train(X, y, (50, 12, 4), 10, sparse=True, lmbda=2.0)
    shrink = (1 - 0.5 * 2.0 / 60) ** (3 * 6)  # 3 epochs of 6 mini-batches
    np.testing.assert_allclose(decayed.weights[0][:, :3], start[:, :3] * shrink, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_mask_of_non_zero_inputs_marks_every_one(dtype, kernel_version):
    """The mask the first layer reads (made once a run): a bit for every input that is not 0 —
    NaN and ±∞ included, −0 not — 64 to a word, the bits past the last column clear."""
    from bprop import _compiled

    X, _ = _sparse_data(30, 130, 2, dtype, seed=7)  # three words a row, the last one short
    X[4] = 0  # an empty row
    X[9, 0], X[9, 129], X[11, 64], X[12, 63] = np.nan, np.inf, -np.inf, -0.0
    X[20] = 1  # a full one
    mask, count = _compiled.nonzero_mask(X)
    assert mask.shape == (30, 3) and mask.dtype == np.uint64
    bits = np.unpackbits(mask.view(np.uint8), axis=1, bitorder="little")
    np.testing.assert_array_equal(bits[:, :130], X != 0)
    assert not bits[:, 130:].any()
    assert count == np.count_nonzero(X != 0)
    assert bits[9, 0] and bits[9, 129] and bits[11, 64] and not bits[12, 63]
    with pytest.raises(ValueError, match="C-contiguous"):
        _compiled.nonzero_mask(X[:, ::2])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("rule", RULES, ids=["plain", "l2", "momentum"])
def test_a_narrow_first_layers_bp4_adds_in_the_dense_order(rule, dtype, kernel_version):
    """A first layer of a few vectors' width takes BP4 example by example, each weight's sum
    running over the examples in ascending order as the dense BP4's does: with z¹ exact (small
    dyadic inputs and weights, so the feedforward's order cannot matter), one mini-batch gives
    the dense products' weights bit for bit."""
    rng = np.random.default_rng(11)
    X = rng.choice([0.0, 0.0, 0.0, 0.25, 0.5, 1.0], size=(10, 200)).astype(dtype)
    y = rng.integers(0, 3, 10)

    def dyadic(net):
        rng_w = np.random.default_rng(5)
        net.weights[0][...] = rng_w.integers(-64, 64, net.weights[0].shape) / 64
        net.biases[0][...] = rng_w.integers(-8, 8, 8) / 8

    sparse, dense = (
        _train(X, y, (200, 8, 3), 10, sparse=on, dtype=dtype, epochs=1, set_up=dyadic, **rule)[0]
        for on in (True, False)
    )
    for p, q in zip(sparse.weights + sparse.biases, dense.weights + dense.biases):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("sizes", "m"), SHAPES)
def test_two_threads_give_the_sparse_weights_one_thread_gives(sizes, m, dtype, kernel_version):
    """The second thread takes half the examples of the feedforward and half of BP4 (the
    columns from n_0 / 2 on for a narrow layer, half the entries for a wide one) by the same
    code: bit-identical weights, with momentum and L2."""
    X, y = _sparse_data(397, sizes[0], sizes[-1], dtype, seed=5)
    runs = [
        _train(
            X,
            y,
            sizes,
            m,
            sparse=True,
            dtype=dtype,
            epochs=2,
            blas_threads=threads,
            lmbda=0.3,
            momentum=0.6,
        )
        for threads in (1, 2)
    ]
    (one, h1), (two, h2) = runs
    assert h1.config["kernel_threads"] == 1 and h2.config["kernel_threads"] == 2
    for p, q in zip(one.weights + one.biases, two.weights + two.biases):
        np.testing.assert_array_equal(p, q)
    assert h1.column("train_cost") == h2.column("train_cost")


class _SeeEvery(Callback):
    """Asks to see the state every few mini-batches, which cuts the compiled engine's
    stretches there (w¹ goes back to its own layout at each cut)."""

    def __init__(self, every):
        self.every, self.seen = every, []

    def next_batch_end(self, state):
        return (state.batch // self.every + 1) * self.every

    def on_batch_end(self, state):
        self.seen.append(state.batch)


def test_stretches_cut_anywhere_give_the_same_weights():
    """w¹ and its velocities are transposed for a stretch and back after it: stretches of 3
    mini-batches give the weights of stretches of 256, bit for bit."""
    X, y = _sparse_data(200, 60, 5, seed=3)
    whole, _ = _train(X, y, (60, 16, 5), 10, sparse=True, lmbda=0.2, momentum=0.5)
    see = _SeeEvery(3)
    cut, _ = _train(X, y, (60, 16, 5), 10, sparse=True, lmbda=0.2, momentum=0.5, callbacks=[see])
    assert see.seen[:7] == [3, 6, 9, 12, 15, 18, 20]  # 20 mini-batches an epoch
    for p, q in zip(whole.weights + whole.biases, cut.weights + cut.biases):
        np.testing.assert_array_equal(p, q)


class _SwitchVersions(_SeeEvery):
    """Cuts the stretches every few mini-batches and runs the next one on another kernel
    version: the buffers the kernel keeps between calls are then laid out anew (another vector
    width gives w¹ᵀ other rows)."""

    def __init__(self, every, versions):
        super().__init__(every)
        self.versions = versions

    def on_batch_end(self, state):
        from bprop import _compiled

        super().on_batch_end(state)
        _compiled.limit_instruction_set(self.versions[len(self.seen) % len(self.versions)])


@pytest.mark.parametrize("rule", RULES, ids=["plain", "l2", "momentum"])
def test_the_buffers_kept_between_calls_start_clean_for_each_layout(rule):
    """The first layer's buffers live from one kernel call to the next and are zeroed again
    whenever the layout changes: switching kernel versions between stretches (first layers of
    20 neurons: rows of 32, 24 or 20 numbers), narrow BP4 included, still gives the NumPy
    engine's weights to rounding."""
    from bprop import _compiled

    versions = kernel_versions()
    X, y = _sparse_data(120, 60, 4, seed=9)
    switch = _SwitchVersions(2, versions[::-1])
    try:
        net, _ = _train(X, y, (60, 20, 4), 10, sparse=True, callbacks=[switch], **rule)
    finally:
        _compiled.limit_instruction_set(None)
    assert len(switch.seen) == 3 * 6 and len(versions) >= 1
    numpy_net = bprop.Network([60, 20, 4], "sigmoid", "cross-entropy", seed=2)
    numpy_net.SGD(X, y, 3, 10, 0.5, seed=4, verbose=False, compiled=False, **rule)
    for p, q in zip(net.weights + net.biases, numpy_net.weights + numpy_net.biases):
        np.testing.assert_allclose(p, q, rtol=1e-11, atol=1e-11)


def test_divergence_with_sparse_products_stops_where_the_dense_ones_do(monkeypatch):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 8)) * 50 * (rng.random((40, 8)) < 0.3)
    Y = rng.normal(size=(40, 2)) * 50
    messages = []
    for sparse in (True, False):
        monkeypatch.setattr(engines, "SPARSE_INPUT_SHARE", 1.0 if sparse else -1.0)
        net = bprop.Network([8, 5, 2], "relu", "quadratic", output_activation="identity", seed=0)
        before = [w.copy() for w in net.weights]
        with pytest.raises(DivergenceError, match="too large") as info:
            net.SGD(X, Y, 3, 4, 5.0, verbose=False, compiled=True, seed=0)
        assert info.value.history.config["sparse_input"] is sparse
        for w, w0 in zip(net.weights, before):  # diverged in epoch 0: the weights it started with
            np.testing.assert_array_equal(w, w0)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_the_choice_follows_the_share_of_non_zero_inputs():
    """Sparse products where at most a quarter of the inputs are non-zero (MNIST's digits:
    about a fifth), dense ones otherwise; NaN counts as non-zero; the choice is recorded."""
    X = np.zeros((20, 10))
    X[:, :2] = 1.0
    X[:10, 2] = 1.0
    assert engines.input_share(X) == 0.25 and engines.sparse_input(X)
    X[0, 7] = np.nan
    assert engines.input_share(X) == 0.255 and not engines.sparse_input(X)
    assert engines.input_share(np.zeros((0, 4))) == 1.0
    big = engines.SPARSE_INPUT_ENTRIES // 10  # a mini-batch whose lists would take too much
    zeros = np.zeros((4, 10))
    assert engines.sparse_input(zeros, big) and not engines.sparse_input(zeros, big + 1)
    Xs, y = _sparse_data(100, 40, 3)
    net = bprop.Network([40, 8, 3], seed=0)
    assert net.SGD(Xs, y, 1, 10, 0.5, verbose=False, compiled=True).config["sparse_input"]
    dense = np.random.default_rng(0).random((100, 40))
    net = bprop.Network([40, 8, 3], seed=0)
    assert not net.SGD(dense, y, 1, 10, 0.5, verbose=False, compiled=True).config["sparse_input"]


def test_sparse_inputs_take_the_first_layer_off_the_compiled_engines_size_limit():
    """784-800-10 with m = 128 is past the compiled engine's limit for dense inputs (80 million
    multiply-adds a product: NumPy's BLAS trains it), but with MNIST-like inputs only the later
    layers count, and the kernel trains it; 784-800-800-10 keeps a dense 800 × 800 product
    past the limit, so NumPy trains that."""
    X, _ = _sparse_data(50, 784, 10)
    dense = np.random.default_rng(0).random((50, 784))
    wide = bprop.Network([784, 800, 10], seed=0)
    assert engines.engine_for(wide, 128) == "fused"
    assert engines.engine_for(wide, 128, X=dense) == "fused"
    assert engines.engine_for(wide, 128, X=X) == "compiled"
    assert engines.engine_for(bprop.Network([784, 800, 800, 10], seed=0), 128, X=X) == "fused"


def test_the_cli_says_when_the_first_layer_skips_the_zero_inputs():
    from bprop.cli.train import describe_engine

    X, _ = _sparse_data(50, 784, 10)
    net = bprop.Network([784, 30, 10], seed=0)
    config = {"batch_size": 10, "engine": "auto"}
    share = engines.input_share(X)
    assert f"first layer over the non-zero inputs, {share:.0%} of them" in describe_engine(
        net, config, X
    )
    dense = np.random.default_rng(0).random((50, 784))
    assert "non-zero" not in describe_engine(net, config, dense)
