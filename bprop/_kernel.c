/* bprop's compiled training engine: the fused mini-batch step (BP1–BP4 and the SGD update)
 * for whole stretches of mini-batches, in float and double.  The step itself is written once,
 * in _kernel_step.h; bprop/_compiled.py calls it through ctypes.
 *
 * Built by setup.py as the extension module bprop._kernel (optional: without a C compiler
 * bprop trains with its NumPy engines).  On x86-64 with GCC, the entry points are compiled
 * for AVX-512, AVX2 and baseline x86-64, and the loader picks the one this CPU runs.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Codes shared with bprop/_compiled.py. */
enum { SIGMOID, TANH, RELU, LEAKY_RELU, IDENTITY, SOFTMAX };
enum { QUADRATIC, CROSS_ENTROPY, LOG_LIKELIHOOD };

/* What the kernel needs of a training run; mirrored by _compiled.Net (ctypes). */
struct bprop_net {
    int64_t layers;      /* L: weight matrices w^2 … w^(L+1) */
    int64_t m;           /* mini-batch size */
    int64_t n;           /* training examples */
    const int64_t *sizes; /* L + 1 layer widths, input first */
    const int32_t *codes; /* σ of each layer (the enum above) */
    int32_t cost;        /* the cost (the enum above) */
    int32_t exact;       /* 1: δ^L = a − y exactly (cross-entropy/sigmoid, log-likelihood/softmax) */
    int32_t update_biases;
    int32_t unused;
    double slope;        /* leaky ReLU's slope for z ≤ 0 */
    double lmbda_over_n; /* L2: λ/n */
    double momentum;     /* μ */
    void *const *w, *const *b;      /* the network's weights (n_l, n_(l-1)) and biases */
    void *const *vw, *const *vb;    /* their velocities (when momentum ≠ 0) */
    void *const *z, *const *a, *const *delta; /* buffers (m, n_l) */
    void *row;                      /* a buffer as long as the widest layer's input */
    const void *x, *y;              /* training inputs (n, n_in) and targets (n, n_out) */
    int64_t *predicted;             /* the class picked for each example, by position */
    double *batch_costs;            /* Σ_x C_x of each mini-batch */
};

#if defined(__GNUC__) || defined(__clang__)
#define INLINE static inline __attribute__((always_inline))
#define RESTRICT __restrict__
#else
#define INLINE static inline
#define RESTRICT
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define KERNEL                                                                                \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define KERNEL
#endif

#define REAL float
#define EXP_OF expf
#define TANH_OF tanhf
#define NAME(name) name##_float
#include "_kernel_step.h"
#undef REAL
#undef EXP_OF
#undef TANH_OF
#undef NAME

#define REAL double
#define EXP_OF exp
#define TANH_OF tanh
#define NAME(name) name##_double
#include "_kernel_step.h"

/* A module with nothing in it, so that the library installs and imports like any
 * extension; its functions are reached through ctypes. */
static struct PyModuleDef kernel_module = {
    PyModuleDef_HEAD_INIT, "_kernel",
    "bprop's compiled training step (reached through ctypes; see bprop/_compiled.py).", -1,
    NULL, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__kernel(void)
{
    return PyModule_Create(&kernel_module);
}
