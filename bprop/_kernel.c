/* bprop's compiled training engine: the fused mini-batch step (BP1–BP4 and the SGD update)
 * for whole stretches of mini-batches, in float and double.  The step itself is written once,
 * in _kernel_step.h; bprop/_compiled.py calls it through ctypes.
 *
 * Built by setup.py as the extension module bprop._kernel (optional: without a C compiler
 * bprop trains with its NumPy engines).  Needs GCC or Clang (vector extensions).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(BPROP_LIBMVEC) && defined(__GLIBC__) && defined(__x86_64__) && !defined(__clang__)
/* glibc's vector maths library (libmvec, linked by setup.py where it links) has expf for 4, 8
 * and 16 floats at once: declaring it lets GCC vectorise σ's loop.  Its results may differ
 * from the scalar expf's in the last bit. */
__attribute__((simd("notinbranch"))) float expf(float);
#endif

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
    const void *x, *y;              /* training inputs (n, n_in) and targets (n, n_out) */
    int64_t *predicted;             /* the class picked for each example, by position */
    double *batch_costs;            /* Σ_x C_x of each mini-batch */
};

#if !defined(__GNUC__) && !defined(__clang__)
#error "bprop's kernel needs GCC or Clang (vector extensions); bprop then trains with NumPy"
#endif
#define INLINE static inline __attribute__((always_inline))
#define RESTRICT __restrict__

#define JOIN_(name, type, isa) name##_##type##_##isa
#define JOIN(name, type, isa) JOIN_(name, type, isa)

typedef int64_t train_fn(const struct bprop_net *, const int64_t *, int64_t, int64_t, double);

/* GCC on x86-64 compiles the step three times: for AVX-512 (x86-64-v4), AVX2 (x86-64-v3) and
 * baseline x86-64; the first call picks the one this CPU runs.  Elsewhere: once, for the
 * compiler's default target. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define MULTIVERSION 1
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4")
#define ISA avx512
#include "_kernel_types.h"
#undef ISA
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v3")
#define ISA avx2
#include "_kernel_types.h"
#undef ISA
#pragma GCC pop_options
#else
#define MULTIVERSION 0
#endif
#define ISA generic
#include "_kernel_types.h"
#undef ISA

/* 2: AVX-512, 1: AVX2, 0: neither (or not x86-64 with GCC). */
static int cpu_level(void)
{
#if MULTIVERSION
    __builtin_cpu_init();
    return __builtin_cpu_supports("x86-64-v4") ? 2 : __builtin_cpu_supports("x86-64-v3") ? 1 : 0;
#else
    return 0;
#endif
}

static int level = -1; /* the version in use; −1: not chosen yet */

static int isa_level(void)
{
    if (level < 0)
        level = cpu_level();
    return level;
}

static const char *const isa_names[] = {"generic", "avx2", "avx512"};

/* The instruction set the step runs with. */
const char *bprop_isa(void)
{
    return isa_names[isa_level()];
}

/* Run the version for at most `most` (0, 1, 2 as above; −1: the CPU's best), so that tests
 * can check every version this CPU can run against the NumPy engines. */
const char *bprop_limit_isa(int most)
{
    const int top = cpu_level();
    level = most < 0 || most > top ? top : most;
    return isa_names[level];
}

/* Flush subnormal results to zero and read subnormal inputs as zero (x86's FTZ and DAZ bits of
 * MXCSR, AArch64's FZ bit of FPCR) in the calling thread when `on`, else restore IEEE gradual
 * underflow.  Returns the previous setting (1 flushed, 0 not), or −1 where this CPU has no such
 * mode (nothing changed).  Results differ from IEEE arithmetic only below 1.2e-38 (float32) or
 * 2.2e-308 (float64), where the arithmetic on subnormals is many times slower on most CPUs. */
int bprop_flush_subnormals(int on)
{
#if defined(__SSE2__)
    const unsigned int bits = 0x8040u; /* FTZ (bit 15) | DAZ (bit 6) */
    unsigned int csr = __builtin_ia32_stmxcsr();
    const int was = (csr & bits) == bits;
    __builtin_ia32_ldmxcsr(on ? (csr | bits) : (csr & ~bits));
    return was;
#elif defined(__aarch64__)
    const uint64_t bit = (uint64_t)1 << 24; /* FZ */
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    const int was = (fpcr & bit) != 0;
    fpcr = on ? (fpcr | bit) : (fpcr & ~bit);
    __asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
    return was;
#else
    (void)on;
    return -1;
#endif
}

/* Whether the arguments can be trained on: a network of at least one layer with positive
 * widths, n ≥ 1 examples, m ≥ 1, 0 ≤ first ≤ last ≤ the epoch's ⌈n/m⌉ mini-batches, η finite
 * and every example index the mini-batches read within 0 … n − 1.  The entry points check it
 * themselves rather than trust the caller: a damaged checkpoint once reached them with a
 * mini-batch of −3. */
static int arguments_ok(const struct bprop_net *net, const int64_t *order, int64_t first,
                        int64_t last, double eta)
{
    if (net == NULL || order == NULL || net->layers < 1 || net->n < 1 || net->m < 1)
        return 0;
    if (net->sizes == NULL || net->codes == NULL || !isfinite(eta))
        return 0;
    for (int64_t l = 0; l <= net->layers; l++)
        if (net->sizes[l] < 1)
            return 0;
    const int64_t batches = (net->n - 1) / net->m + 1;
    if (first < 0 || last < first || last > batches)
        return 0;
    const int64_t stop = last < batches ? last * net->m : net->n;
    for (int64_t q = first * net->m; q < stop; q++)
        if (order[q] < 0 || order[q] >= net->n)
            return 0;
    return 1;
}

/* Train on mini-batches first … last − 1 of the epoch ordered by `order` (see _kernel_step.h);
 * −1 when the arguments are not ones it can train on (arguments_ok). */
int64_t bprop_train_float(const struct bprop_net *net, const int64_t *order, int64_t first,
                          int64_t last, double eta)
{
    if (!arguments_ok(net, order, first, last, eta))
        return -1;
#if MULTIVERSION
    static train_fn *const by_level[] = {train_float_generic, train_float_avx2, train_float_avx512};
    return by_level[isa_level()](net, order, first, last, eta);
#else
    return train_float_generic(net, order, first, last, eta);
#endif
}

int64_t bprop_train_double(const struct bprop_net *net, const int64_t *order, int64_t first,
                           int64_t last, double eta)
{
    if (!arguments_ok(net, order, first, last, eta))
        return -1;
#if MULTIVERSION
    static train_fn *const by_level[] = {train_double_generic, train_double_avx2,
                                         train_double_avx512};
    return by_level[isa_level()](net, order, first, last, eta);
#else
    return train_double_generic(net, order, first, last, eta);
#endif
}

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
