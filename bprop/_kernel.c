/* bprop's compiled training engine: the fused mini-batch step (BP1–BP4 and the SGD update)
 * for whole stretches of mini-batches, in float and double.  The step itself is written once,
 * in _kernel_step.h; bprop/_compiled.py calls it through ctypes.
 *
 * Built by setup.py as the extension module bprop._kernel (optional: without a C compiler
 * bprop trains with its NumPy engines).  Needs GCC or Clang (vector extensions).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <float.h>
#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    int32_t threads;     /* 2: the products are shared with `team`'s worker thread */
    int32_t sparse_input; /* 1: the first layer sums only the non-zero inputs (exact) */
    double slope;        /* leaky ReLU's slope for z ≤ 0 */
    double lmbda_over_n; /* L2: λ/n */
    double momentum;     /* μ */
    void *const *w, *const *b;      /* the network's weights (n_l, n_(l-1)) and biases */
    void *const *vw, *const *vb;    /* their velocities (when momentum ≠ 0) */
    void *const *z, *const *a, *const *delta; /* buffers (m, n_l) */
    const void *x, *y;              /* training inputs (n, n_in) and targets (n, n_out) */
    int64_t *predicted;             /* the class picked for each example, by position */
    double *batch_costs;            /* Σ_x C_x of each mini-batch */
    void *team;                     /* bprop_team_new's, or NULL: one thread */
    /* With sparse_input, where x is not 0 (bprop_nonzero_mask_*): bit q % 64 of word
     * r ⌈n_in / 64⌉ + q / 64 is set when x[r][q] ≠ 0 (NaN counts as non-zero). */
    const uint64_t *mask;
    /* The first layer's sparse buffers, kept from one call to the next (a fresh block's first
     * touch costs more than a short stretch): bprop_scratch_free releases them. */
    void *scratch;
    size_t scratch_bytes;
    uint64_t scratch_key; /* the layout they were zeroed for */
};

#if defined(__x86_64__)
#include <immintrin.h> /* the non-zero inputs' masks: vector compares to bits */
#endif

#if !defined(__GNUC__) && !defined(__clang__)
#error "bprop's kernel needs GCC or Clang (vector extensions); bprop then trains with NumPy"
#endif
#define INLINE static inline __attribute__((always_inline))
#define RESTRICT __restrict__

#define JOIN_(name, type, isa) name##_##type##_##isa
#define JOIN(name, type, isa) JOIN_(name, type, isa)


/* Two threads for the mini-batch step.  The step's three products (feedforward, BP2, BP4) are
 * each cut in two halves that write disjoint parts of z, δ and w, every element computed by
 * the same code in the same order as on one thread: results are bit-identical
 * (tests/test_compiled.py checks it).  The caller runs half 0 while the team's worker thread
 * runs half 1; they meet after each product.  A worker that has not taken its half by the
 * time the caller is done with its own (other programs hold its core) loses it to the caller,
 * so a busy machine costs time, never a stall.
 *
 * The worker lives for a whole training run (bprop_team_new … bprop_team_free, called by
 * bprop/_compiled.py): it spins between products (a mini-batch lasts microseconds; sleeping
 * and waking would cost as much), then yields its core, then naps, so that the gaps between
 * stretches (Python's own work: callbacks, the test set) cost little CPU.  It is started
 * through Python's thread API, which needs no libpthread symbol of a newer glibc (the
 * wheel's manylinux tag stays what it was). */
#define SPIN_TURNS 4096  /* pauses before the worker starts yielding its core (~0.1 ms) */
#define YIELD_TURNS 2000 /* yields before it naps */
#define NAP_NS 50000     /* a nap: 50 µs, which is how late it may see the next stretch */

struct team {
    void (*run)(const void *task, int half); /* the product to share, and its arguments */
    const void *task;
    atomic_long posted, claimed, finished;   /* products handed over / taken / done */
    atomic_int quit, exited;
    atomic_uint fp_mode;                     /* the caller's MXCSR (FTZ/DAZ), for the worker */
};

/* Halves of products worker threads have run since the library loaded (for the tests, which
 * check that two threads did share the work whose results they compare). */
static atomic_long worker_halves;

long bprop_worker_halves(void)
{
    return atomic_load(&worker_halves);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

/* Waiting, turn after turn: spin, then yield the core, then (when `nap`) sleep a little. */
static void wait_turn(long *turns, int nap)
{
    const long turn = ++*turns;
    if (turn < SPIN_TURNS) {
        cpu_relax();
    } else if (!nap || turn < SPIN_TURNS + YIELD_TURNS) {
        sched_yield();
    } else {
        const struct timespec pause = {0, NAP_NS};
        nanosleep(&pause, NULL);
    }
}

static unsigned int fp_mode_get(void)
{
#if defined(__SSE2__)
    return __builtin_ia32_stmxcsr();
#else
    return 0;
#endif
}

static void fp_mode_set(unsigned int mode)
{
#if defined(__SSE2__)
    __builtin_ia32_ldmxcsr(mode);
#else
    (void)mode;
#endif
}

static void team_worker(void *arg)
{
    struct team *t = arg;
    long seen = 0, turns = 0;
    unsigned int mode = fp_mode_get();
    for (;;) {
        const long posted = atomic_load_explicit(&t->posted, memory_order_acquire);
        if (posted != seen) {
            long expected = posted - 1; /* the caller posts a product once the last is done */
            seen = posted;
            turns = 0;
            if (atomic_compare_exchange_strong_explicit(&t->claimed, &expected, posted,
                                                        memory_order_acq_rel,
                                                        memory_order_acquire)) {
                const unsigned int wanted = atomic_load_explicit(&t->fp_mode, memory_order_relaxed);
                if (wanted != mode) { /* flushing subnormals, or not, as the caller does */
                    fp_mode_set(wanted);
                    mode = wanted;
                }
                t->run(t->task, 1);
                atomic_fetch_add_explicit(&worker_halves, 1, memory_order_relaxed);
                atomic_store_explicit(&t->finished, posted, memory_order_release);
            }
        } else if (atomic_load_explicit(&t->quit, memory_order_acquire)) {
            break;
        } else {
            wait_turn(&turns, 1);
        }
    }
    atomic_store_explicit(&t->exited, 1, memory_order_release);
}

/* A team with its worker running; NULL when no thread can be started (then one thread
 * trains). */
void *bprop_team_new(void)
{
    struct team *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    atomic_init(&t->posted, 0);
    atomic_init(&t->claimed, 0);
    atomic_init(&t->finished, 0);
    atomic_init(&t->quit, 0);
    atomic_init(&t->exited, 0);
    atomic_init(&t->fp_mode, fp_mode_get());
    if (PyThread_start_new_thread(team_worker, t) == (unsigned long)-1) {
        free(t);
        return NULL;
    }
    return t;
}

/* Stop the worker, wait until it no longer reads *t, and free it. */
void bprop_team_free(void *team)
{
    struct team *t = team;
    if (t == NULL)
        return;
    atomic_store_explicit(&t->quit, 1, memory_order_release);
    long turns = 0;
    while (!atomic_load_explicit(&t->exited, memory_order_acquire))
        wait_turn(&turns, 0);
    free(t);
}

/* Before a stretch: the worker computes under the caller's floating-point mode. */
static void team_begin(struct team *t)
{
    if (t != NULL)
        atomic_store_explicit(&t->fp_mode, fp_mode_get(), memory_order_relaxed);
}

/* run(task, 0) here and run(task, 1) on the worker (or here too, when it is late or there is
 * no team); returns when both are done. */
static void team_share(struct team *t, void (*run)(const void *, int), const void *task)
{
    if (t == NULL) {
        run(task, 0);
        run(task, 1);
        return;
    }
    t->run = run;
    t->task = task;
    long expected = atomic_load_explicit(&t->posted, memory_order_relaxed);
    const long ticket = expected + 1;
    atomic_store_explicit(&t->posted, ticket, memory_order_release);
    run(task, 0);
    if (atomic_compare_exchange_strong_explicit(&t->claimed, &expected, ticket,
                                                memory_order_acq_rel, memory_order_acquire)) {
        run(task, 1);
        return;
    }
    long turns = 0;
    while (atomic_load_explicit(&t->finished, memory_order_acquire) != ticket)
        wait_turn(&turns, 0);
}

/* Where a product of `rows` outputs is cut: a multiple of 4 near half (the step's blocks are
 * 4 rows of w), so that both halves keep whole blocks; 0 for fewer than 8 rows (the worker
 * then has nothing to do). */
static inline int64_t half_of_rows(int64_t rows)
{
    return rows < 8 ? 0 : (rows + 4) / 8 * 4;
}

/* The products a team shares (the kinds of NAME(task) in _kernel_step.h). */
enum { FEEDFORWARD_PRODUCT, BP2_PRODUCT, BP4_PRODUCT, SPARSE_FEEDFORWARD_PRODUCT, SPARSE_BP4_PRODUCT };

typedef int64_t train_fn(struct bprop_net *, const int64_t *, int64_t, int64_t, double);

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
int64_t bprop_train_float(struct bprop_net *net, const int64_t *order, int64_t first,
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

int64_t bprop_train_double(struct bprop_net *net, const int64_t *order, int64_t first,
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

/* Free the first layer's sparse buffers the training calls kept in net (they come back when
 * needed). */
void bprop_scratch_free(struct bprop_net *net)
{
    free(net->scratch);
    net->scratch = NULL;
    net->scratch_bytes = 0;
    net->scratch_key = 0;
}

/* Where x is not 0, for the first layer's sparse products (struct bprop_net's mask; made by
 * nonzero_mask in _kernel_step.h, this CPU's version): the number of bits set. */
#if MULTIVERSION
#define NONZERO_MASK(type)                                                                    \
    int64_t bprop_nonzero_mask_##type(const type *x, int64_t n, int64_t n0, uint64_t *mask)   \
    {                                                                                         \
        static int64_t (*const by_level[])(const type *, int64_t, int64_t, uint64_t *) = {    \
            nonzero_mask_##type##_generic, nonzero_mask_##type##_avx2,                        \
            nonzero_mask_##type##_avx512};                                                    \
        return by_level[isa_level()](x, n, n0, mask);                                         \
    }
#else
#define NONZERO_MASK(type)                                                                    \
    int64_t bprop_nonzero_mask_##type(const type *x, int64_t n, int64_t n0, uint64_t *mask)   \
    {                                                                                         \
        return nonzero_mask_##type##_generic(x, n, n0, mask);                                 \
    }
#endif
NONZERO_MASK(float)
NONZERO_MASK(double)
#undef NONZERO_MASK

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
