"""The training step compiled in C: an optional engine for small matrices.

For the book's 784-30-10 network with mini-batches of 10, one NumPy call costs about as much
as the arithmetic it launches, and a mini-batch step makes some thirty of them.  The C kernel
(``bprop/_kernel_step.h``, built at install as ``bprop._kernel``) runs whole stretches of
mini-batches in one call instead: the same equations, in the same order as
:func:`bprop.fused.step`, written as loops —

* feedforward ``z^l = w^l a^(l−1) + b^l``, ``a^l = σ(z^l)``;
* BP1 ``δ^L = ∇_a C ⊙ σ'(z^L)`` (or the exact ``a − y``), scaled by η/m;
* BP2 ``δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l)``, computed before ``w^(l+1)`` changes;
* BP3/BP4 summed over the mini-batch and applied at once, block by block of ``w^l`` held in
  registers: ``w^l → (1 − ηλ/n) w^l − (η/m) Σ_x δ^(x,l) (a^(x,l−1))ᵀ`` (or the momentum form).

Each mini-batch's training rows are read in place through the epoch's index order (the data
set is never copied or shuffled).  Only the built-in activations and costs are compiled (a
user's own falls back to NumPy).  Sums are vectorised, so results agree with the NumPy engines
to float rounding, which tests check for every version of the kernel (AVX-512, AVX2, baseline)
the machine runs; NaN and infinity still propagate, so divergence is still caught.  On two
cores the three products of each mini-batch (feedforward, BP2, BP4) can be shared by two
threads, each computing disjoint rows of z, δ or w exactly as one thread would: the results are
bit-identical, and :class:`bprop.engines.KernelThreads` chooses.  This module only hands the
kernel pointers to the arrays, through :mod:`ctypes`.
"""

from __future__ import annotations

import ctypes
import importlib.util
from collections.abc import Sequence
from typing import Any

import numpy as np

Array = np.ndarray

#: Activation codes understood by the kernel (the enum in ``_kernel.c``).
SIGMOID, TANH, RELU, LEAKY_RELU, IDENTITY, SOFTMAX = range(6)
ACTIVATION_CODES = {
    "sigmoid": SIGMOID,
    "tanh": TANH,
    "relu": RELU,
    "leaky_relu": LEAKY_RELU,
    "identity": IDENTITY,
    "softmax": SOFTMAX,
}
#: Cost codes understood by the kernel.
QUADRATIC, CROSS_ENTROPY, LOG_LIKELIHOOD = range(3)
COST_CODES = {
    "quadratic": QUADRATIC,
    "cross-entropy": CROSS_ENTROPY,
    "log-likelihood": LOG_LIKELIHOOD,
}

_pointers = ctypes.POINTER(ctypes.c_void_p)


class _Net(ctypes.Structure):
    """``struct bprop_net`` of ``_kernel.c``, field for field."""

    _fields_ = [
        ("layers", ctypes.c_int64),
        ("m", ctypes.c_int64),
        ("n", ctypes.c_int64),
        ("sizes", ctypes.POINTER(ctypes.c_int64)),
        ("codes", ctypes.POINTER(ctypes.c_int32)),
        ("cost", ctypes.c_int32),
        ("exact", ctypes.c_int32),
        ("update_biases", ctypes.c_int32),
        ("threads", ctypes.c_int32),
        ("sparse_input", ctypes.c_int32),
        ("slope", ctypes.c_double),
        ("lmbda_over_n", ctypes.c_double),
        ("momentum", ctypes.c_double),
        ("w", _pointers),
        ("b", _pointers),
        ("vw", _pointers),
        ("vb", _pointers),
        ("z", _pointers),
        ("a", _pointers),
        ("delta", _pointers),
        ("x", ctypes.c_void_p),
        ("y", ctypes.c_void_p),
        ("predicted", ctypes.POINTER(ctypes.c_int64)),
        ("batch_costs", ctypes.POINTER(ctypes.c_double)),
        ("team", ctypes.c_void_p),
        ("mask", ctypes.c_void_p),
        ("scratch", ctypes.c_void_p),
        ("scratch_bytes", ctypes.c_size_t),
        ("scratch_key", ctypes.c_uint64),
    ]


_library: Any = None


def available() -> bool:
    """True when the kernel was built (``pip install`` with a C compiler at hand)."""
    return importlib.util.find_spec("bprop._kernel") is not None


def _load() -> Any:
    """The kernel's shared library, its entry points typed."""
    global _library
    if _library is None:
        spec = importlib.util.find_spec("bprop._kernel")
        if spec is None or spec.origin is None:
            raise ImportError("bprop's compiled kernel is not built (reinstall with a C compiler)")
        library = ctypes.CDLL(spec.origin)
        for name in ("bprop_train_float", "bprop_train_double"):
            fn = getattr(library, name)
            fn.restype = ctypes.c_int64
            fn.argtypes = [
                ctypes.POINTER(_Net),
                ctypes.c_void_p,
                ctypes.c_int64,
                ctypes.c_int64,
                ctypes.c_double,
            ]
        library.bprop_isa.restype = ctypes.c_char_p
        library.bprop_isa.argtypes = []
        library.bprop_limit_isa.restype = ctypes.c_char_p
        library.bprop_limit_isa.argtypes = [ctypes.c_int]
        library.bprop_team_new.restype = ctypes.c_void_p
        library.bprop_team_new.argtypes = []
        library.bprop_team_free.restype = None
        library.bprop_team_free.argtypes = [ctypes.c_void_p]
        library.bprop_worker_halves.restype = ctypes.c_long
        library.bprop_worker_halves.argtypes = []
        for type_name in ("float", "double"):
            mask = getattr(library, f"bprop_nonzero_mask_{type_name}")
            mask.restype = ctypes.c_int64
            mask.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
        library.bprop_scratch_free.restype = None
        library.bprop_scratch_free.argtypes = [ctypes.POINTER(_Net)]
        library.bprop_flush_subnormals.restype = ctypes.c_int
        library.bprop_flush_subnormals.argtypes = [ctypes.c_int]
        _library = library
    return _library


#: The kernel's versions, from the most basic one (any x86-64, or any CPU elsewhere).
INSTRUCTION_SETS = ("generic", "avx2", "avx512")


def instruction_set() -> str:
    """The instruction set the kernel runs with: "avx512", "avx2" or "generic"."""
    return _load().bprop_isa().decode()


def limit_instruction_set(name: str | None) -> str:
    """Run the kernel's version for at most ``name`` (None: the best this CPU runs), so that
    every version can be tested on one machine.  Returns the one now in use."""
    most = -1 if name is None else INSTRUCTION_SETS.index(name)
    return _load().bprop_limit_isa(most).decode()


def worker_halves() -> int:
    """Halves of mini-batch products the kernel's second thread has run since it loaded."""
    return int(_load().bprop_worker_halves())


def flush_subnormals(on: bool) -> bool | None:
    """Flush subnormal floats to zero in this thread (FTZ/DAZ) when ``on``, else restore IEEE
    gradual underflow; the previous setting, or None where the CPU has no such mode.

    Subnormals (below 1.2e-38 in float32) arise when sigmoid neurons saturate and make the
    arithmetic many times slower; flushing them changes results only below that size.  It acts
    on the calling thread: the compiled kernel and NumPy's element-wise work, and BLAS when it
    runs on one thread (BLAS's worker threads keep their own setting).
    """
    was = _load().bprop_flush_subnormals(int(bool(on)))
    return None if was < 0 else bool(was)


def nonzero_mask(x: Array) -> tuple[Array, int]:
    """Where the C-contiguous float32 or float64 matrix ``x`` is not 0 (NaN counts as
    non-zero), one bit an entry: ``(mask, count)``, bit ``q % 64`` of ``mask[r, q // 64]`` set
    when ``x[r, q] != 0`` (the bits past the last column clear), and how many are set."""
    if not (
        isinstance(x, np.ndarray)
        and x.ndim == 2
        and x.dtype in (np.float32, np.float64)
        and x.flags.c_contiguous
    ):
        raise ValueError("nonzero_mask needs a C-contiguous 2-D float32 or float64 array")
    n, n0 = x.shape
    mask = np.empty((n, -(-n0 // 64)), np.uint64)
    type_name = "double" if x.dtype == np.float64 else "float"
    count = getattr(_load(), f"bprop_nonzero_mask_{type_name}")(
        x.ctypes.data, n, n0, mask.ctypes.data
    )
    return mask, int(count)


def _addresses(arrays: Sequence[Array], dtype: np.dtype, shapes: Sequence[tuple]) -> Any:
    """A C array of the arrays' data pointers, after checking what the kernel assumes."""
    for array, shape in zip(arrays, shapes, strict=True):
        if not (
            isinstance(array, np.ndarray)
            and array.dtype == dtype
            and array.shape == shape
            and array.flags.c_contiguous
            and array.flags.writeable
        ):
            raise ValueError(
                "the compiled engine needs the network's weights, biases and velocities as "
                f"writable C-contiguous {dtype} arrays of their original shapes; got "
                f"{getattr(array, 'dtype', type(array))} {getattr(array, 'shape', '')}"
            )
    return (ctypes.c_void_p * len(arrays))(*[a.ctypes.data for a in arrays])


class Step:
    """The compiled fused step over one training run's data, network and buffers.

    ``z``, ``a`` and ``delta`` are ``(m, n_l)`` buffers; the class picked for each example
    goes to ``predicted`` (by position in the epoch's order) and each mini-batch's Σ_x C_x to
    ``batch_costs``.
    """

    def __init__(
        self,
        net: Any,
        x: Array,
        y: Array,
        m: int,
        lmbda_over_n: float,
        momentum: float,
        update_biases: bool,
        buffers: tuple[list[Array], list[Array], list[Array]],
        predicted: Array,
        batch_costs: Array,
        slope: float,
        sparse_input: bool = False,
    ) -> None:
        self.net, self.dtype = net, np.dtype(net.dtype)
        self.entry = getattr(
            _load(), "bprop_train_double" if self.dtype == np.float64 else "bprop_train_float"
        )
        sizes = np.array(net.sizes, np.int64)
        codes = np.array([ACTIVATION_CODES[f.name] for f in net.activations], np.int32)
        z, a, delta = buffers
        for array, rows in ((x, len(x)), (y, len(x))):
            if not (array.dtype == self.dtype and array.flags.c_contiguous and len(array) == rows):
                raise ValueError("the compiled engine needs C-contiguous data of the net's dtype")
        # Everything the structure points into stays referenced by this object.
        self._keep = [x, y, sizes, codes, z, a, delta, predicted, batch_costs]
        self.c = _Net(
            layers=len(net.weights),
            m=m,
            n=len(x),
            sizes=sizes.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)),
            codes=codes.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
            cost=COST_CODES[net.cost.name],
            exact=int(net.cost.is_exact(net.activations[-1])),
            update_biases=int(update_biases),
            sparse_input=int(sparse_input),
            slope=slope,
            lmbda_over_n=lmbda_over_n,
            momentum=momentum,
            z=self._buffer_pointers(z, m),
            a=self._buffer_pointers(a, m),
            delta=self._buffer_pointers(delta, m),
            x=x.ctypes.data,
            y=y.ctypes.data,
            predicted=predicted.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)),
            batch_costs=batch_costs.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
        )
        #: The share of the inputs the first layer multiplies: the non-zero ones with
        #: ``sparse_input``, else all.
        self.input_share = 1.0
        if sparse_input:  # the first layer finds x's non-zero inputs in a mask made once
            mask, count = nonzero_mask(x)
            self.input_share = count / max(x.size, 1)
            self._keep.append(mask)
            self.c.mask = mask.ctypes.data
        self._parameters: list[Array] = []

    @property
    def sparse_input(self) -> bool:
        """Whether the first layer's products sum only the non-zero inputs (exact; the weights
        agree with the dense products' to rounding)."""
        return bool(self.c.sparse_input)

    @property
    def threads(self) -> int:
        """Threads the products of the next stretches are shared by: 1, or 2 (bit-identical
        results).  Setting 2 starts the second thread, which waits for work until
        :meth:`close`; where no thread can be started it stays 1."""
        return int(self.c.threads)

    @threads.setter
    def threads(self, n: int) -> None:
        if n >= 2 and not self.c.team:
            self.c.team = _load().bprop_team_new()
        self.c.threads = 2 if n >= 2 and self.c.team else 1

    def close(self) -> None:
        """Stop the second thread, if one was started, and free the buffers the kernel keeps
        between calls (training may go on: one thread, buffers made again)."""
        if getattr(self, "c", None) is None:
            return
        if self.c.team:
            team, self.c.team, self.c.threads = self.c.team, None, 1
            _load().bprop_team_free(team)
        if self.c.scratch:
            _load().bprop_scratch_free(ctypes.byref(self.c))

    def __del__(self) -> None:
        self.close()

    def _buffer_pointers(self, buffers: list[Array], m: int) -> Any:
        shapes = [(m, width) for width in self.net.sizes[1:]]
        pointers = _addresses(buffers, self.dtype, shapes)
        self._keep.append(pointers)
        return ctypes.cast(pointers, _pointers)

    def _point_at(self, state: Any) -> None:
        """Point the kernel at the network's current arrays (a callback may replace them)."""
        net = self.net
        velocity = self.c.momentum != 0.0
        vw = state.velocity_w if velocity else net.weights
        vb = state.velocity_b if velocity else net.biases
        parameters = [*net.weights, *net.biases, *vw, *vb]
        if len(parameters) == len(self._parameters) and all(
            p is q for p, q in zip(parameters, self._parameters)
        ):
            return
        w_shapes = [(n_out, n_in) for n_in, n_out in zip(net.sizes, net.sizes[1:])]
        b_shapes = [(width,) for width in net.sizes[1:]]
        pointers = [
            _addresses(net.weights, self.dtype, w_shapes),
            _addresses(net.biases, self.dtype, b_shapes),
            _addresses(vw, self.dtype, w_shapes),
            _addresses(vb, self.dtype, b_shapes),
        ]
        self.c.w, self.c.b, self.c.vw, self.c.vb = (ctypes.cast(p, _pointers) for p in pointers)
        self._pointers, self._parameters = pointers, parameters

    def __call__(self, order: Array, first: int, last: int, eta: float, state: Any) -> int:
        """Train on mini-batches ``first`` … ``last − 1`` of the epoch ordered by ``order``.

        Returns the index of the first mini-batch not trained: ``last``, or a mini-batch whose
        cost is not finite (its update is skipped, as the NumPy engines do).
        """
        self._point_at(state)
        order = np.ascontiguousarray(order, np.int64)
        if len(order) != self.c.n:
            raise ValueError(f"the epoch's order has {len(order)} entries for {self.c.n} examples")
        done = int(self.entry(ctypes.byref(self.c), order.ctypes.data, first, last, eta))
        if done < 0:
            raise ValueError(
                f"the compiled kernel refused mini-batches {first}…{last - 1} of an epoch of "
                f"{self.c.n} examples in mini-batches of {self.c.m} (η = {eta}): out of range"
            )
        return done
