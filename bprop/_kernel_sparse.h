/* The first layer's products over the non-zero inputs only (net->sparse_input).
 *
 * Included by _kernel_step.h, inside each floating type's and instruction set's copy of the
 * step, after the dense products (it uses VEC, LANES and NAME(apply)).
 */

/* Exact input sparsity for the first layer (net->sparse_input): an input that is 0 adds
 * nothing to z¹ = w¹x + b¹ and gets nothing from BP4, so the first layer's feedforward sums only
 * each example's non-zero inputs, and BP4 only the columns of w¹ that some example of the
 * mini-batch uses (every weight still gets L2's decay and momentum).  Each example's non-zero
 * inputs are the set bits of its row of a mask made once per run (nonzero_mask, one bit an
 * input), so no mini-batch scans its zeros.  For the stretch w¹ (and its velocities) live
 * transposed, (n_0, n1p) with n1p = n_1 rounded up to whole vectors, so that both sums move
 * whole rows of it; the columns left over stay 0.  The feedforward sums each example's inputs
 * in ascending order (in two interleaved partial sums); BP4 sums over the examples in ascending
 * order, in one sum for a narrow layer (sparse_bp4_scatter, as the dense BP4 does) or in two
 * (sparse_bp4_part).  So results agree with the dense kernel to rounding — except that a weight
 * that is NaN or infinite meets an input of 0 nowhere, where the dense products would give
 * NaN. */
struct NAME(sparse) {
    int64_t n1p;            /* n_1 rounded up to whole vectors */
    REAL *wt, *vt;          /* (w¹)ᵀ and its velocities, (n_0, n1p) */
    REAL *dpad;             /* δ¹ (times η/m) of the mini-batch, (m, n1p), padded with 0 */
    const uint64_t *mask;   /* where the training inputs are not 0 (struct bprop_net's) */
    int64_t words;          /* words of a row of mask: ⌈n_0 / 64⌉ */
    const REAL *x;          /* the training inputs, (n, n_0) */
    int scatter;            /* BP4 example by example (sparse_bp4_scatter), or by columns */
    REAL *step;             /* scatter: BP4's sums, (n_0, n1p), 0 between mini-batches */
    int64_t *col_start;     /* by columns: column q's entries, col_start[q] … col_start[q+1] − 1 */
    int64_t *col_fill;      /* (n_0) */
    int32_t *col_example;   /* the example of each entry, ascending within a column */
    REAL *col_value;        /* its input */
    int64_t q_cut;          /* where BP4's columns are cut between two threads */
};

/* The bytes a stretch's sparse buffers take (one block, aligned to 64 bytes each; vt only
 * with momentum, step only for scatter, the col_ ones only without). */
static inline size_t NAME(sparse_bytes)(int64_t m, int64_t n0, int64_t n1p, int scatter,
                                        int momentum, size_t *at)
{
    const size_t s = (size_t)scatter, c = 1 - s, v = (size_t)momentum;
    const size_t sizes[8] = {
        sizeof(REAL) * (size_t)(n0 * n1p),         v * sizeof(REAL) * (size_t)(n0 * n1p),
        sizeof(REAL) * (size_t)(m * n1p),          s * sizeof(REAL) * (size_t)(n0 * n1p),
        c * sizeof(int64_t) * (size_t)(n0 + 1),    c * sizeof(int64_t) * (size_t)n0,
        c * sizeof(int32_t) * (size_t)(m * n0),    c * sizeof(REAL) * (size_t)(m * n0)};
    size_t total = 0;
    for (int t = 0; t < 8; t++) {
        at[t] = total;
        total += (sizes[t] + 63) / 64 * 64;
    }
    return total;
}

/* wt[q][j] = w[j][q] (to = 1), or back (to = 0), for n1 rows of n0. */
INLINE void NAME(transpose)(int to, REAL *RESTRICT w, REAL *RESTRICT wt, int64_t n1,
                            int64_t n0, int64_t n1p)
{
    for (int64_t j = 0; j < n1; j++)
        for (int64_t q = 0; q < n0; q++) {
            if (to)
                wt[q * n1p + j] = w[j * n0 + q];
            else
                w[j * n0 + q] = wt[q * n1p + j];
        }
}

/* Each q with bit q set in words u_first … u_last − 1 of bits (ascending), as `body`. */
#define EACH_BIT(bits, u_first, u_last, q, body)                                              \
    for (int64_t u_ = (u_first); u_ < (u_last); u_++)                                         \
        for (uint64_t b_ = (bits)[u_]; b_; b_ &= b_ - 1) {                                    \
            const int64_t q = u_ * 64 + __builtin_ctzll(b_);                                  \
            body                                                                              \
        }

/* The mini-batch's non-zero inputs by column, from its examples' masks, and where BP4's
 * columns are cut in two halves of about as many entries. */
INLINE void NAME(sparse_columns)(struct NAME(sparse) *sp, const int64_t *idx, int64_t k,
                                 int64_t n0)
{
    int64_t *RESTRICT count = sp->col_fill;
    int32_t *RESTRICT example = sp->col_example;
    REAL *RESTRICT value = sp->col_value;
    const int64_t words = sp->words;
    memset(count, 0, (size_t)n0 * sizeof(int64_t));
    for (int64_t i = 0; i < k; i++)
        EACH_BIT(sp->mask + idx[i] * words, 0, words, q, count[q]++;)
    int64_t total = 0;
    for (int64_t q = 0; q < n0; q++) {
        sp->col_start[q] = total;
        total += count[q];
        count[q] = sp->col_start[q];
    }
    sp->col_start[n0] = total;
    int64_t cut = 0;
    while (cut < n0 && sp->col_start[cut] < total / 2)
        cut++;
    sp->q_cut = cut;
    for (int64_t i = 0; i < k; i++) {
        const REAL *RESTRICT xi = sp->x + idx[i] * n0;
        EACH_BIT(sp->mask + idx[i] * words, 0, words, q, {
            const int64_t at = count[q]++;
            example[at] = (int32_t)i;
            value[at] = xi[q];
        })
    }
}

/* Vectors of z¹ (or of a row of w¹'s step) summed at once: 8 × 2 sums fill 16 of AVX-512's 32
 * registers; AVX2 and SSE have 16. */
#if defined(__AVX512F__)
#define SPARSE_VECS 8
#else
#define SPARSE_VECS 4
#endif

/* V vectors from lane `at` of z¹'s row for an example of inputs xi whose non-zero ones are
 * the bits of its mask mi (`words` words): Σ over them, ascending, of x_q wt[q] (in two sums
 * taking turns within each word, added at the end). */
INLINE void NAME(sparse_z_block)(int V, const REAL *RESTRICT xi, const uint64_t *RESTRICT mi,
                                 int64_t words, const REAL *RESTRICT wt, int64_t n1p,
                                 int64_t at, VEC *RESTRICT out)
{
    VEC even[SPARSE_VECS], odd[SPARSE_VECS];
    for (int v = 0; v < V; v++)
        even[v] = odd[v] = (VEC){0};
    for (int64_t u = 0; u < words; u++) {
        uint64_t bits = mi[u];
        while (bits) {
            const int64_t q0 = u * 64 + __builtin_ctzll(bits);
            bits &= bits - 1;
            const REAL x0 = xi[q0];
            const REAL *w0 = wt + q0 * n1p + at;
            if (!bits) {
                for (int v = 0; v < V; v++)
                    even[v] += x0 * *(const VEC *)(w0 + v * LANES);
                break;
            }
            const int64_t q1 = u * 64 + __builtin_ctzll(bits);
            bits &= bits - 1;
            const REAL x1 = xi[q1];
            const REAL *w1 = wt + q1 * n1p + at;
            for (int v = 0; v < V; v++) {
                even[v] += x0 * *(const VEC *)(w0 + v * LANES);
                odd[v] += x1 * *(const VEC *)(w1 + v * LANES);
            }
        }
    }
    for (int v = 0; v < V; v++)
        out[v] = even[v] + odd[v];
}

/* z¹ for examples i_first … i_last − 1: blocks of lanes outside, so that a block of wt stays in
 * the cache while the examples pass. */
INLINE void NAME(sparse_feedforward_part)(const struct NAME(sparse) *sp, int64_t i_first,
                                          int64_t i_last, const int64_t *idx,
                                          const REAL *RESTRICT b, REAL *RESTRICT z,
                                          int64_t rows, int64_t cols)
{
    const int64_t n1p = sp->n1p, vectors = n1p / LANES;
    for (int64_t t = 0; t < vectors;) {
        const int V = vectors - t >= SPARSE_VECS ? SPARSE_VECS : vectors - t >= 2 ? 2 : 1;
        const int64_t at = t * LANES;
        for (int64_t i = i_first; i < i_last; i++) {
            VEC out[SPARSE_VECS];
            const REAL *xi = sp->x + idx[i] * cols;
            const uint64_t *mi = sp->mask + idx[i] * sp->words;
            if (V == SPARSE_VECS)
                NAME(sparse_z_block)(SPARSE_VECS, xi, mi, sp->words, sp->wt, n1p, at, out);
            else if (V == 2)
                NAME(sparse_z_block)(2, xi, mi, sp->words, sp->wt, n1p, at, out);
            else
                NAME(sparse_z_block)(1, xi, mi, sp->words, sp->wt, n1p, at, out);
            REAL *zi = z + i * rows;
            for (int v = 0; v < V; v++)
                for (int64_t lane = 0; lane < LANES; lane++) {
                    const int64_t j = at + v * LANES + lane;
                    if (j < rows)
                        zi[j] = out[v][lane] + b[j];
                }
        }
        t += V;
    }
}

/* BP4 and the update for V vectors from lane `at` of row q of wt: Σ over the examples whose
 * input q is not 0 of x_q δ (even and odd entries in two sums). */
INLINE void NAME(sparse_bp4_block)(int V, const struct NAME(sparse) *sp, int64_t q, int64_t at,
                                   const struct NAME(rule) *rule)
{
    const int64_t n1p = sp->n1p, first = sp->col_start[q], last = sp->col_start[q + 1];
    VEC even[SPARSE_VECS], odd[SPARSE_VECS];
    for (int v = 0; v < V; v++)
        even[v] = odd[v] = (VEC){0};
    int64_t e = first;
    for (; e + 2 <= last; e += 2) {
        const REAL x0 = sp->col_value[e], x1 = sp->col_value[e + 1];
        const REAL *d0 = sp->dpad + sp->col_example[e] * n1p + at;
        const REAL *d1 = sp->dpad + sp->col_example[e + 1] * n1p + at;
        for (int v = 0; v < V; v++) {
            even[v] += x0 * *(const VEC *)(d0 + v * LANES);
            odd[v] += x1 * *(const VEC *)(d1 + v * LANES);
        }
    }
    if (e < last) {
        const REAL x0 = sp->col_value[e];
        const REAL *d0 = sp->dpad + sp->col_example[e] * n1p + at;
        for (int v = 0; v < V; v++)
            even[v] += x0 * *(const VEC *)(d0 + v * LANES);
    }
    for (int v = 0; v < V; v++) {
        const int64_t o = q * n1p + at + v * LANES;
        NAME(apply)(rule, sp->wt + o, sp->vt + o, even[v] + odd[v]);
    }
}

/* BP4 and the update for rows q_first … q_last − 1 of wt; a row no example uses gets the
 * update with a step of 0 (L2's decay, momentum), or nothing when neither is on. */
INLINE void NAME(sparse_bp4_part)(const struct NAME(sparse) *sp, int64_t q_first,
                                  int64_t q_last, const struct NAME(rule) *rule)
{
    const int64_t n1p = sp->n1p, vectors = n1p / LANES;
    for (int64_t q = q_first; q < q_last; q++) {
        if (sp->col_start[q] == sp->col_start[q + 1]) {
            if (rule->l2 || rule->momentum)
                for (int64_t t = 0; t < vectors; t++)
                    NAME(apply)(rule, sp->wt + q * n1p + t * LANES, sp->vt + q * n1p + t * LANES,
                                (VEC){0});
            continue;
        }
        for (int64_t t = 0; t < vectors;) {
            const int V = vectors - t >= SPARSE_VECS ? SPARSE_VECS : vectors - t >= 2 ? 2 : 1;
            if (V == SPARSE_VECS)
                NAME(sparse_bp4_block)(SPARSE_VECS, sp, q, t * LANES, rule);
            else if (V == 2)
                NAME(sparse_bp4_block)(2, sp, q, t * LANES, rule);
            else
                NAME(sparse_bp4_block)(1, sp, q, t * LANES, rule);
            t += V;
        }
    }
}

/* The widest first layer (n1p REALs, in bytes) whose BP4 goes example by example
 * (sparse_bp4_scatter) rather than by columns (sparse_bp4_part): the step's rows are read and
 * written once per entry, where the columns' sums stay in registers, and that pays only while
 * a row is a few cache lines and so saves sorting the entries by column.  Measured (with the
 * lists of non-zero inputs that preceded the mask), epochs of 20,000 MNIST images on one
 * thread, example by example ÷ by columns: float32 AVX-512
 * 784-30-10 m = 10 0.86, 784-40-10 0.92, 784-50-10 (m = 32) 1.06, 784-60-10 1.04,
 * 784-100-10 (m = 64) 1.14; float64 784-20-10 0.95, 784-30-10 1.00, 784-60-10 1.20; AVX2
 * float32 784-30-10 0.93; SSE float32 784-16-10 0.79. */
#define SCATTER_BYTES 192

/* BP4 and the update for a first layer of at most SPARSE_VECS vectors, example by example,
 * for the columns q_first … q_last − 1 (q_first a multiple of 64; all columns on one thread,
 * below and from about n_0 / 2 on two): each example's δ¹ stays in registers while each of its
 * non-zero inputs q adds x_q δ¹ to row q of the step.  So every row's sum runs over the
 * examples in ascending order, as the dense BP4's does (whose zero inputs add exact zeros): the
 * same weights, bit for bit.  Then the update for the rows some example touched, found
 * from the mini-batch's masks put together (every row, with a step of 0 where none did, for
 * L2's decay and momentum), their step rows back to 0. */
INLINE void NAME(sparse_bp4_scatter)(int V, const struct NAME(sparse) *sp, const int64_t *idx,
                                     int64_t k, int64_t q_first, int64_t q_last, int64_t n0,
                                     const struct NAME(rule) *rule)
{
    /* the struct's fields in locals: stores through VEC (may_alias) might change them */
    const int64_t n1p = sp->n1p, words = sp->words;
    const int64_t u_first = q_first / 64, u_last = (q_last + 63) / 64;
    const uint64_t *RESTRICT mask = sp->mask;
    const REAL *RESTRICT x = sp->x, *RESTRICT dpad = sp->dpad;
    REAL *RESTRICT step = sp->step, *RESTRICT wt = sp->wt, *RESTRICT vt = sp->vt;
    for (int64_t i = 0; i < k; i++) {
        VEC di[SPARSE_VECS];
        for (int v = 0; v < V; v++)
            di[v] = *(const VEC *)(dpad + i * n1p + v * LANES);
        const REAL *RESTRICT xi = x + idx[i] * n0;
        EACH_BIT(mask + idx[i] * words, u_first, u_last, q, {
            const REAL xq = xi[q];
            REAL *RESTRICT row = step + q * n1p;
            for (int v = 0; v < V; v++)
                *(VEC *)(row + v * LANES) += xq * di[v];
        })
    }
    /* the update for the rows some example touched: the bits of the mini-batch's masks put
     * together (every row with L2 or momentum) */
    const int every_row = rule->l2 || rule->momentum;
    for (int64_t u = u_first; u < u_last; u++) {
        uint64_t used = every_row ? ~(uint64_t)0 : 0;
        for (int64_t i = 0; i < k && !every_row; i++)
            used |= mask[idx[i] * words + u];
        for (; used; used &= used - 1) {
            const int64_t q = u * 64 + __builtin_ctzll(used);
            if (q >= q_last)
                break;
            for (int v = 0; v < V; v++) {
                const int64_t o = q * n1p + v * LANES;
                NAME(apply)(rule, wt + o, vt + o, *(VEC *)(step + o));
                *(VEC *)(step + o) = (VEC){0};
            }
        }
    }
}
