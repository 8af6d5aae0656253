/* One stretch of mini-batches of bprop's fused training step.
 *
 * Included by _kernel_types.h once per floating type and instruction set, with REAL (float or
 * double), EXP_OF, TANH_OF and NAME(x) (which appends the type's and instruction set's
 * suffix) defined.  The equations, in the order of bprop.fused.step:
 *
 *   feedforward  z^l = w^l a^(l-1) + b^l,  a^l = σ(z^l)
 *   BP1          δ^L = ∇_a C ⊙ σ'(z^L)  (or the exact a − y), scaled by η/m
 *   BP2          δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l), computed before w^(l+1) changes
 *   BP3, BP4     summed over the mini-batch and applied at once:
 *                w^l → (1 − ηλ/n) w^l − (η/m) Σ_x δ^(x,l) (a^(x,l-1))ᵀ  (or the momentum form)
 *
 * Matrices are row-major: a mini-batch holds one example per row, so z^l is (k, n_l) and
 * w^l is (n_l, n_(l-1)), entry [j][q] = w_jq.  The sums are vectorised (GCC/Clang vector
 * extensions and "omp simd" loops), so their order differs from NumPy's and results agree
 * to rounding; nothing assumes finite numbers, so NaN and infinity propagate to the cost.
 */

/* Row i of a mini-batch: row idx[i] of base (the training set, read through the epoch's
 * order, never copied), or row i when idx is NULL (a layer's buffer). */
INLINE const REAL *NAME(row)(const REAL *base, const int64_t *idx, int64_t i, int64_t stride)
{
    return base + (idx ? idx[i] : i) * stride;
}

INLINE REAL NAME(dot)(const REAL *RESTRICT u, const REAL *RESTRICT v, int64_t n)
{
    REAL s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t q = 0; q < n; q++)
        s += u[q] * v[q];
    return s;
}

#if defined(__AVX512F__)
#define VEC_BYTES 64 /* one AVX-512 register */
#define BLOCK_ROWS 4 /* feedforward blocks of 4 × 4 sums: 16 of its 32 registers */
#elif defined(__AVX__)
#define VEC_BYTES 32 /* one AVX register */
#define BLOCK_ROWS 2 /* 2 × 4 sums: 8 of its 16 registers */
#else
#define VEC_BYTES 16 /* one SSE or NEON register */
#define BLOCK_ROWS 2
#endif

/* A vector of LANES numbers, loaded from any address. */
typedef REAL NAME(vec) __attribute__((vector_size(VEC_BYTES), aligned(sizeof(REAL)), may_alias));
#define VEC NAME(vec)
#define LANES ((int64_t)(VEC_BYTES / sizeof(REAL)))

INLINE REAL NAME(lane_sum)(VEC v)
{
    REAL s = 0;
    for (int64_t lane = 0; lane < LANES; lane++)
        s += v[lane];
    return s;
}

/* s[4r + c] = x_r · w_c for r < R rows of the mini-batch and c < C rows of w (R ≤ BLOCK_ROWS,
 * C ≤ 4; both constants where it is inlined): a block of z.  The R·C independent sums, each
 * LANES wide, keep both FMA units busy, and each vector loaded serves C or R of them. */
INLINE void NAME(block)(int R, int C, const REAL *const *x, const REAL *RESTRICT w0,
                        int64_t cols, REAL *RESTRICT s)
{
    VEC acc[BLOCK_ROWS][4];
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++)
            acc[r][c] = (VEC){0};
    int64_t q = 0;
    for (; q + LANES <= cols; q += LANES) {
        VEC wc[4];
        for (int c = 0; c < C; c++)
            wc[c] = *(const VEC *)(w0 + c * cols + q);
        for (int r = 0; r < R; r++) {
            const VEC a = *(const VEC *)(x[r] + q);
            for (int c = 0; c < C; c++)
                acc[r][c] += a * wc[c];
        }
    }
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++)
            s[4 * r + c] = NAME(lane_sum)(acc[r][c]);
    for (; q < cols; q++)
        for (int r = 0; r < R; r++)
            for (int c = 0; c < C; c++)
                s[4 * r + c] += x[r][q] * w0[c * cols + q];
}

/* NAME(block) with R and C as constants, so that its sums live in registers. */
INLINE void NAME(block_of)(int R, int C, const REAL *const *x, const REAL *RESTRICT w0,
                           int64_t cols, REAL *RESTRICT s)
{
#define BLOCK(r, c)                                                                           \
    if (R == r && C == c) {                                                                   \
        NAME(block)(r, c, x, w0, cols, s);                                                    \
        return;                                                                               \
    }
#if BLOCK_ROWS == 4
    BLOCK(4, 4) BLOCK(3, 4) BLOCK(4, 1) BLOCK(3, 1)
#endif
    BLOCK(2, 4) BLOCK(1, 4) BLOCK(2, 1) BLOCK(1, 1)
#undef BLOCK
}

/* z[i][j] = Σ_q in_i[q] w[j][q] + b[j]: z^l = w^l a^(l-1) + b^l, for rows i_first … i_last − 1
 * of the mini-batch and rows j_first … j_last − 1 of w (all of them on one thread; half of
 * them each on two).  The mini-batch goes in tiles that stay in the L1 cache while each row
 * of w passes once; within a tile, BLOCK_ROWS rows of the mini-batch meet 4 rows of w at a
 * time (the last rows of w one at a time).  Each sum of a block is computed alone, the same
 * whatever the block's shape, so that a part of z comes out as when one thread does it all. */
INLINE void NAME(feedforward_part)(int64_t i_first, int64_t i_last, const REAL *base,
                                   const int64_t *idx, const REAL *RESTRICT w,
                                   const REAL *RESTRICT b, REAL *RESTRICT z, int64_t j_first,
                                   int64_t j_last, int64_t rows, int64_t cols)
{
    int64_t tile = 32768 / ((int64_t)sizeof(REAL) * cols);
    tile = tile < BLOCK_ROWS ? BLOCK_ROWS : tile - tile % BLOCK_ROWS;
    for (int64_t i0 = i_first; i0 < i_last; i0 += tile) {
        const int64_t i1 = i0 + tile < i_last ? i0 + tile : i_last;
        for (int64_t j = j_first; j < j_last;) {
            const int C = j_last - j >= 4 ? 4 : 1;
            for (int64_t i = i0; i < i1; i += BLOCK_ROWS) {
                const int R = i1 - i >= BLOCK_ROWS ? BLOCK_ROWS : (int)(i1 - i);
                const REAL *x[BLOCK_ROWS];
                REAL s[4 * BLOCK_ROWS];
                for (int r = 0; r < R; r++)
                    x[r] = NAME(row)(base, idx, i + r, cols);
                NAME(block_of)(R, C, x, w + j * cols, cols, s);
                for (int r = 0; r < R; r++)
                    for (int c = 0; c < C; c++)
                        z[(i + r) * rows + j + c] = s[4 * r + c] + b[j + c];
            }
            j += C;
        }
    }
}

/* a = σ(z) over k rows of n. */
INLINE void NAME(activate)(int code, REAL slope, const REAL *RESTRICT z, REAL *RESTRICT a,
                           int64_t k, int64_t n)
{
    if (code == SOFTMAX) {
        for (int64_t i = 0; i < k; i++) {
            const REAL *zi = z + i * n;
            REAL *ai = a + i * n;
            REAL top = zi[0], total = 0;
            for (int64_t j = 1; j < n; j++)
                top = zi[j] > top ? zi[j] : top;
            for (int64_t j = 0; j < n; j++) {
                ai[j] = EXP_OF(zi[j] - top);
                total += ai[j];
            }
            for (int64_t j = 0; j < n; j++)
                ai[j] /= total;
        }
        return;
    }
    int64_t size = k * n;
    switch (code) {
    case SIGMOID:
#pragma omp simd
        for (int64_t q = 0; q < size; q++)
            a[q] = 1 / (1 + EXP_OF(-z[q]));
        break;
    case TANH:
        for (int64_t q = 0; q < size; q++)
            a[q] = TANH_OF(z[q]);
        break;
    case RELU: /* max(z, 0) as NumPy's maximum: a NaN stays a NaN, −∞ gives 0 */
#pragma omp simd
        for (int64_t q = 0; q < size; q++)
            a[q] = z[q] > 0 || z[q] != z[q] ? z[q] : 0;
        break;
    case LEAKY_RELU:
#pragma omp simd
        for (int64_t q = 0; q < size; q++)
            a[q] = z[q] > 0 ? z[q] : slope * z[q];
        break;
    default: /* IDENTITY */
        memcpy(a, z, (size_t)size * sizeof(REAL));
    }
}

/* g ← g ⊙ σ'(z) over k rows of n (softmax: g times its Jacobian, row by row). */
INLINE void NAME(times_prime)(int code, REAL slope, const REAL *RESTRICT z,
                              const REAL *RESTRICT a, REAL *RESTRICT g, int64_t k, int64_t n)
{
    int64_t size = k * n;
    switch (code) {
    case SOFTMAX:
        for (int64_t i = 0; i < k; i++) {
            const REAL *ai = a + i * n;
            REAL *gi = g + i * n;
            REAL s = NAME(dot)(gi, ai, n);
            for (int64_t j = 0; j < n; j++)
                gi[j] = (gi[j] - s) * ai[j];
        }
        break;
    case SIGMOID:
#pragma omp simd
        for (int64_t q = 0; q < size; q++)
            g[q] = g[q] * a[q] * (1 - a[q]);
        break;
    case TANH:
#pragma omp simd
        for (int64_t q = 0; q < size; q++)
            g[q] = g[q] * (1 - a[q] * a[q]);
        break;
    case RELU: /* g · 0 rather than 0 keeps a NaN a NaN, as NumPy's product does */
#pragma omp simd
        for (int64_t q = 0; q < size; q++)
            g[q] = z[q] > 0 ? g[q] : g[q] * 0;
        break;
    case LEAKY_RELU:
#pragma omp simd
        for (int64_t q = 0; q < size; q++)
            g[q] = z[q] > 0 ? g[q] : g[q] * slope;
        break;
    default: /* IDENTITY: σ' = 1 */
        break;
    }
}

/* How BP4's step Δ = (η/m) Σ_x δ (a^(l-1))ᵀ changes the weights. */
struct NAME(rule) {
    int momentum, l2;
    REAL shrink, decay, mu; /* 1 − ηλ/n, ηλ/n, μ */
};

/* w → w − Δ; with L2 w → (1 − ηλ/n) w − Δ; with momentum v → μv − Δ (− ηλ/n w), w → w + v:
 * the NumPy engine's arithmetic, in its order, on LANES weights at once. */
INLINE void NAME(apply)(const struct NAME(rule) *rule, REAL *RESTRICT w, REAL *RESTRICT v,
                        VEC step)
{
    VEC wv = *(VEC *)w;
    if (rule->momentum) {
        VEC vv = *(VEC *)v * rule->mu - step;
        if (rule->l2)
            vv -= rule->decay * wv;
        *(VEC *)v = vv;
        *(VEC *)w = wv + vv;
    } else if (rule->l2) {
        *(VEC *)w = wv * rule->shrink - step;
    } else {
        *(VEC *)w = wv - step;
    }
}

/* The same for one weight. */
INLINE void NAME(apply_one)(const struct NAME(rule) *rule, REAL *w, REAL *v, REAL step)
{
    if (rule->momentum) {
        REAL vv = *v * rule->mu - step;
        if (rule->l2)
            vv -= rule->decay * *w;
        *v = vv;
        *w += vv;
    } else if (rule->l2) {
        *w = *w * rule->shrink - step;
    } else {
        *w -= step;
    }
}

/* BP4 summed over the mini-batch, and the update, for J rows of w^l (from w_j, velocities v_j)
 * and Q vectors of columns from q (J ≤ 4, Q ≤ 4; constants where inlined):
 * Δ[c][q] = Σ_i δ[i][j + c] in_i[q], δ already times η/m.  The J·Q sums stay in registers
 * over the whole mini-batch; each vector of in_i loaded serves J of them. */
INLINE void NAME(bp4_block)(int J, int Q, int64_t k, const REAL *base, const int64_t *idx,
                            const REAL *RESTRICT d, int64_t rows, int64_t j, int64_t q,
                            REAL *RESTRICT w, REAL *RESTRICT v, int64_t cols,
                            const struct NAME(rule) *rule)
{
    VEC acc[4][4];
    for (int c = 0; c < J; c++)
        for (int t = 0; t < Q; t++)
            acc[c][t] = (VEC){0};
    for (int64_t i = 0; i < k; i++) {
        const REAL *RESTRICT in = NAME(row)(base, idx, i, cols) + q;
        const REAL *RESTRICT di = d + i * rows + j;
        VEC a[4];
        for (int t = 0; t < Q; t++)
            a[t] = *(const VEC *)(in + t * LANES);
        for (int c = 0; c < J; c++)
            for (int t = 0; t < Q; t++)
                acc[c][t] += di[c] * a[t];
    }
    for (int c = 0; c < J; c++)
        for (int t = 0; t < Q; t++) {
            const int64_t at = (j + c) * cols + q + t * LANES;
            NAME(apply)(rule, w + at, v + at, acc[c][t]);
        }
}

/* BP4 and the update for rows j_first … j_last − 1 of w^l (n_l rows of n_(l-1) columns):
 * blocks of 4 rows × 4 vectors, then the leftovers, then the last columns one at a time.
 * Each weight's sum is its own, so two threads may each take some of the rows. */
INLINE void NAME(bp4_update)(int64_t k, const REAL *base, const int64_t *idx,
                             const REAL *RESTRICT d, REAL *RESTRICT w, REAL *RESTRICT v,
                             int64_t j_first, int64_t j_last, int64_t rows, int64_t cols,
                             const struct NAME(rule) *rule)
{
    const int64_t vectors = cols / LANES;
    for (int64_t j = j_first; j < j_last;) {
        const int J = j_last - j >= 4 ? 4 : 1;
        int64_t t = 0;
        for (; t + 4 <= vectors; t += 4)
            if (J == 4)
                NAME(bp4_block)(4, 4, k, base, idx, d, rows, j, t * LANES, w, v, cols, rule);
            else
                NAME(bp4_block)(1, 4, k, base, idx, d, rows, j, t * LANES, w, v, cols, rule);
        for (; t < vectors; t++)
            if (J == 4)
                NAME(bp4_block)(4, 1, k, base, idx, d, rows, j, t * LANES, w, v, cols, rule);
            else
                NAME(bp4_block)(1, 1, k, base, idx, d, rows, j, t * LANES, w, v, cols, rule);
        const int64_t q0 = vectors * LANES, tail = cols - q0;
        if (tail > 0) { /* the last columns, fewer than a vector: their J × tail sums */
            REAL step[4][LANES];
            for (int c = 0; c < J; c++)
                for (int64_t q = 0; q < tail; q++)
                    step[c][q] = 0;
            for (int64_t i = 0; i < k; i++) {
                const REAL *RESTRICT in = NAME(row)(base, idx, i, cols) + q0;
                for (int c = 0; c < J; c++) {
                    const REAL dc = d[i * rows + j + c];
#pragma omp simd
                    for (int64_t q = 0; q < tail; q++)
                        step[c][q] += dc * in[q];
                }
            }
            for (int c = 0; c < J; c++)
                for (int64_t q = 0; q < tail; q++) {
                    const int64_t at = (j + c) * cols + q0 + q;
                    NAME(apply_one)(rule, w + at, v + at, step[c][q]);
                }
        }
        j += J;
    }
}

/* (w^l)ᵀ δ^l for rows i_first … i_last − 1 of the mini-batch: dp[i] = Σ_j δ[i][j] w[j]. */
INLINE void NAME(bp2_part)(int64_t i_first, int64_t i_last, const REAL *RESTRICT w,
                           const REAL *RESTRICT d, REAL *RESTRICT dp, int64_t rows,
                           int64_t cols)
{
    for (int64_t i = i_first; i < i_last; i++) {
        REAL *RESTRICT dpi = dp + i * cols;
        const REAL *di = d + i * rows;
        memset(dpi, 0, (size_t)cols * sizeof(REAL));
        for (int64_t j = 0; j < rows; j++) {
            const REAL c = di[j];
            const REAL *RESTRICT wj = w + j * cols;
#pragma omp simd
            for (int64_t q = 0; q < cols; q++)
                dpi[q] += c * wj[q];
        }
    }
}

#include "_kernel_sparse.h"

/* Where x (n rows of n0) is not 0, one bit an input, ⌈n0 / 64⌉ words a row, the bits past n0
 * clear (NaN counts as non-zero; a 784-input row takes 104 bytes); returns how many bits are
 * set.  Made once per training run, so that no mini-batch scans its inputs' zeros. */
static int64_t NAME(nonzero_mask)(const REAL *x, int64_t n, int64_t n0, uint64_t *mask)
{
    const int64_t words = (n0 + 63) / 64;
    int64_t total = 0;
    for (int64_t r = 0; r < n; r++)
        for (int64_t u = 0; u < words; u++) {
            const REAL *xu = x + r * n0 + u * 64;
            const int64_t end = n0 - u * 64 < 64 ? n0 - u * 64 : 64;
            uint64_t bits = 0;
            int64_t b = 0;
#if defined(__AVX512F__) && REAL_IS_FLOAT
            for (; b + 16 <= end; b += 16)
                bits |= (uint64_t)_mm512_cmp_ps_mask(_mm512_loadu_ps(xu + b), _mm512_setzero_ps(),
                                                     _CMP_NEQ_UQ) << b;
#elif defined(__AVX512F__)
            for (; b + 8 <= end; b += 8)
                bits |= (uint64_t)_mm512_cmp_pd_mask(_mm512_loadu_pd(xu + b), _mm512_setzero_pd(),
                                                     _CMP_NEQ_UQ) << b;
#elif defined(__AVX2__) && REAL_IS_FLOAT
            for (; b + 8 <= end; b += 8) {
                const __m256 ne =
                    _mm256_cmp_ps(_mm256_loadu_ps(xu + b), _mm256_setzero_ps(), _CMP_NEQ_UQ);
                bits |= (uint64_t)(unsigned)_mm256_movemask_ps(ne) << b;
            }
#elif defined(__AVX2__)
            for (; b + 4 <= end; b += 4) {
                const __m256d ne =
                    _mm256_cmp_pd(_mm256_loadu_pd(xu + b), _mm256_setzero_pd(), _CMP_NEQ_UQ);
                bits |= (uint64_t)(unsigned)_mm256_movemask_pd(ne) << b;
            }
#endif
            for (; b < end; b++)
                bits |= (uint64_t)(xu[b] != 0) << b;
            mask[r * words + u] = bits;
            total += __builtin_popcountll(bits);
        }
    return total;
}

/* One of the step's three products, cut in two halves for a team of two threads (see
 * team_share in _kernel.c): the feedforward and BP4 by rows of w, BP2 by examples; with
 * fewer than 8 rows of w the feedforward goes by examples and BP4 stays whole. */
struct NAME(task) {
    int kind;
    int64_t k, rows, cols;
    const REAL *base;      /* the layer's input rows: x through idx, or a^(l-1) */
    const int64_t *idx;
    REAL *w;               /* w^l */
    const REAL *b;         /* b^l (feedforward) */
    const REAL *d;         /* δ^l (BP2, BP4) */
    REAL *out;             /* z^l (feedforward), δ^(l-1) before σ' (BP2) */
    REAL *v;               /* velocities (BP4) */
    const struct NAME(rule) *rule;
    const struct NAME(sparse) *sparse; /* the first layer's sparse products */
};

static void NAME(run_half)(const void *p, int half)
{
    const struct NAME(task) *t = p;
    const int64_t rows = t->rows, k = t->k;
    const int64_t j_cut = half_of_rows(rows), i_cut = k / 2;
    switch (t->kind) {
    case FEEDFORWARD_PRODUCT:
        if (j_cut > 0)
            NAME(feedforward_part)(0, k, t->base, t->idx, t->w, t->b, t->out,
                                   half ? j_cut : 0, half ? rows : j_cut, rows, t->cols);
        else
            NAME(feedforward_part)(half ? i_cut : 0, half ? k : i_cut, t->base, t->idx, t->w,
                                   t->b, t->out, 0, rows, rows, t->cols);
        break;
    case SPARSE_FEEDFORWARD_PRODUCT:
        NAME(sparse_feedforward_part)(t->sparse, half ? i_cut : 0, half ? k : i_cut, t->idx,
                                      t->b, t->out, rows, t->cols);
        break;
    case SPARSE_BP4_PRODUCT:
        if (t->sparse->scatter) { /* V vectors (a constant in each call): 1 … SPARSE_VECS */
            const int64_t q_half = t->cols / 2 / 64 * 64; /* a whole word of the masks */
            const int64_t q_first = half ? q_half : 0, q_last = half ? t->cols : q_half;
            switch (t->sparse->n1p / LANES) {
#define SCATTER(V)                                                                            \
    case V:                                                                                   \
        NAME(sparse_bp4_scatter)(V, t->sparse, t->idx, k, q_first, q_last, t->cols, t->rule);   \
        break;
                SCATTER(1) SCATTER(2) SCATTER(3) SCATTER(4)
#if SPARSE_VECS == 8
                SCATTER(5) SCATTER(6) SCATTER(7) SCATTER(8)
#endif
#undef SCATTER
            }
        } else {
            NAME(sparse_bp4_part)(t->sparse, half ? t->sparse->q_cut : 0,
                                  half ? t->cols : t->sparse->q_cut, t->rule);
        }
        break;
    case BP2_PRODUCT:
        NAME(bp2_part)(half ? i_cut : 0, half ? k : i_cut, t->w, t->d, t->out, rows, t->cols);
        break;
    default: /* BP4_PRODUCT */
        if (j_cut > 0 || !half)
            NAME(bp4_update)(k, t->base, t->idx, t->d, t->w, t->v,
                             half ? j_cut : 0, half || j_cut == 0 ? rows : j_cut, rows,
                             t->cols, t->rule);
    }
}

/* The product `task`, shared with the team's worker (or all here when it has none). */
INLINE void NAME(share)(struct team *team, const struct NAME(task) *task)
{
    team_share(team, NAME(run_half), task);
}

/* Ask the cache for the bytes from p on, ahead of their use. */
INLINE void NAME(prefetch)(const void *p, size_t bytes)
{
    const char *line = (const char *)((uintptr_t)p & ~(uintptr_t)63);
    const char *end = (const char *)p + bytes;
    for (; line < end; line += 64)
        __builtin_prefetch(line, 0, 1);
}

/* The same for the `k` examples of the next mini-batch (picked by idx, anywhere in a training
 * set far larger than the caches): their targets, and their inputs — with sparse inputs only
 * the cache lines that hold a non-zero one, by their masks, which were asked for a mini-batch
 * earlier (prefetch_masks). */
INLINE void NAME(prefetch_rows)(const struct NAME(sparse) *sp, const REAL *x, const REAL *y,
                                const int64_t *idx, int64_t k, int64_t n_in, int64_t n_out)
{
    const int64_t line = 64 / (int64_t)sizeof(REAL); /* inputs a line; 64 is a multiple */
    for (int64_t i = 0; i < k; i++) {
        NAME(prefetch)(y + idx[i] * n_out, (size_t)n_out * sizeof(REAL));
        const REAL *xi = x + idx[i] * n_in;
        if (sp == NULL) {
            NAME(prefetch)(xi, (size_t)n_in * sizeof(REAL));
            continue;
        }
        const uint64_t *mi = sp->mask + idx[i] * sp->words;
        for (int64_t q = 0; q < n_in; q += line)
            if (mi[q / 64] >> (q % 64) & (((uint64_t)1 << line) - 1)) {
                const int64_t last = q + line < n_in ? q + line - 1 : n_in - 1;
                __builtin_prefetch(xi + q, 0, 1);
                __builtin_prefetch(xi + last, 0, 1); /* the same line where rows are aligned */
            }
    }
}

/* The masks of the `k` examples picked by idx, ahead of prefetch_rows. */
INLINE void NAME(prefetch_masks)(const struct NAME(sparse) *sp, const int64_t *idx, int64_t k)
{
    for (int64_t i = 0; i < k; i++)
        NAME(prefetch)(sp->mask + idx[i] * sp->words, (size_t)sp->words * sizeof(uint64_t));
}

/* x · ln y with 0 · ln 0 = 0, in double (the cost is summed in double, as NumPy's float()),
 * y clipped to [eps, 1 − eps] of its type as bprop.costs does (scikit-learn's log_loss): an
 * output that underflowed to 0 gives a large finite cost, not infinity. */
INLINE double NAME(xlogy)(REAL x, REAL y)
{
    if (x == 0)
        return 0.0;
    if (!(y >= REAL_EPS))
        y = isnan(y) ? y : REAL_EPS;
    else if (y > 1 - REAL_EPS)
        y = 1 - REAL_EPS;
    return (double)x * log((double)y);
}

/* Train on mini-batches first … last − 1 of the epoch whose example order is `order`.
 * Returns the first mini-batch not trained: last, or one whose cost is not finite (its
 * update is skipped, as the NumPy engines do). */
static int64_t NAME(train)(struct bprop_net *net, const int64_t *order, int64_t first,
                          int64_t last, double eta)
{
    const int64_t L = net->layers, n = net->n, m = net->m;
    const int64_t *sizes = net->sizes;
    const int64_t n_in = sizes[0], n_out = sizes[L];
    const REAL *x = net->x, *y = net->y;
    REAL *const *W = (REAL *const *)net->w;
    REAL *const *B = (REAL *const *)net->b;
    REAL *const *VW = (REAL *const *)net->vw;
    REAL *const *VB = (REAL *const *)net->vb;
    REAL *const *Z = (REAL *const *)net->z;
    REAL *const *A = (REAL *const *)net->a;
    REAL *const *D = (REAL *const *)net->delta;
    const REAL slope = (REAL)net->slope, mu = (REAL)net->momentum;
    const REAL shrink = (REAL)(1.0 - eta * net->lmbda_over_n);
    const REAL decay = (REAL)(eta * net->lmbda_over_n);
    const int l2 = net->lmbda_over_n != 0.0, momentum = net->momentum != 0.0;
    const struct NAME(rule) rule = {momentum, l2, shrink, decay, mu};
    struct team *team = net->threads >= 2 ? net->team : NULL; /* NULL: one thread */
    team_begin(team);

    /* The first layer's sparse products, where asked for and the memory is there: buffers
     * kept in net from call to call, all 0 when made or laid out anew; what must start as 0
     * (the lanes of wt, vt and dpad beyond n_1, step) is 0 again after each call. */
    struct NAME(sparse) sparse, *sp = NULL;
    if (net->sparse_input && net->mask != NULL) {
        const int64_t n1 = sizes[1], n1p = (n1 + LANES - 1) / LANES * LANES;
        size_t at[8];
        const int scatter =
            n1p / LANES <= SPARSE_VECS && n1p * (int64_t)sizeof(REAL) <= SCATTER_BYTES;
        const size_t bytes = NAME(sparse_bytes)(m, n_in, n1p, scatter, momentum, at);
        const uint64_t key = (uint64_t)bytes << 16 ^ (uint64_t)n1p << 2 ^
                             (uint64_t)scatter << 1 ^ (uint64_t)momentum;
        if (net->scratch_bytes < bytes) {
            free(net->scratch);
            net->scratch = aligned_alloc(64, bytes);
            net->scratch_bytes = net->scratch != NULL ? bytes : 0;
            net->scratch_key = 0;
        }
        if (net->scratch != NULL) {
            char *base = net->scratch;
            if (net->scratch_key != key) {
                memset(base, 0, bytes);
                net->scratch_key = key;
            }
            sparse = (struct NAME(sparse)){
                n1p, (REAL *)(base + at[0]), (REAL *)(base + at[1]), (REAL *)(base + at[2]),
                net->mask, (n_in + 63) / 64, x, scatter,
                (REAL *)(base + at[3]), (int64_t *)(base + at[4]), (int64_t *)(base + at[5]),
                (int32_t *)(base + at[6]), (REAL *)(base + at[7]), 0};
            sp = &sparse;
            if (!momentum)
                sp->vt = sp->wt; /* not read: apply reads velocities only with momentum */
            NAME(transpose)(1, W[0], sp->wt, n1, n_in, n1p);
            if (momentum)
                NAME(transpose)(1, VW[0], sp->vt, n1, n_in, n1p);
        }
    }
    int64_t done = last;

    for (int64_t batch = first; batch < last; batch++) {
        const int64_t start = batch * m;
        const int64_t k = m < n - start ? m : n - start;
        const int64_t *idx = order + start;
        if (batch + 1 < last) /* the next mini-batch's rows, scattered over the training set */
            NAME(prefetch_rows)(sp, x, y, order + start + m, m < n - start - m ? m : n - start - m,
                                n_in, n_out);
        if (sp != NULL && batch + 2 < last) /* and the masks of the one after */
            NAME(prefetch_masks)(sp, order + start + 2 * m,
                                 m < n - start - 2 * m ? m : n - start - 2 * m);

        /* Feedforward: z^l = w^l a^(l-1) + b^l, a^l = σ(z^l). */
        for (int64_t l = 0; l < L; l++) {
            const int sparse_layer = l == 0 && sp != NULL;
            const struct NAME(task) ff = {sparse_layer ? SPARSE_FEEDFORWARD_PRODUCT
                                                       : FEEDFORWARD_PRODUCT,
                                          k, sizes[l + 1], sizes[l],
                                          l == 0 ? x : A[l - 1], l == 0 ? idx : NULL,
                                          W[l], B[l], NULL, Z[l], NULL, NULL, sp};
            NAME(share)(team, &ff);
            if (sparse_layer && !sp->scatter) /* BP4's lists by column */
                NAME(sparse_columns)(sp, idx, k, n_in);
            NAME(activate)(net->codes[l], slope, Z[l], A[l], k, sizes[l + 1]);
        }
        const REAL *out = A[L - 1];

        /* The picked classes and the mini-batch's cost Σ_x C_x. */
        double cost = 0.0;
        for (int64_t i = 0; i < k; i++) {
            const REAL *ai = out + i * n_out, *yi = y + idx[i] * n_out;
            if (n_out == 1) {
                net->predicted[start + i] = ai[0] > (REAL)0.5;
            } else {
                int64_t best = 0;
                for (int64_t j = 1; j < n_out; j++)
                    if (ai[j] > ai[best])
                        best = j;
                net->predicted[start + i] = best;
            }
            for (int64_t j = 0; j < n_out; j++) {
                if (net->cost == QUADRATIC) {
                    double diff = (double)ai[j] - (double)yi[j];
                    cost += 0.5 * diff * diff;
                } else if (net->cost == CROSS_ENTROPY) {
                    cost -= NAME(xlogy)(yi[j], ai[j]) + NAME(xlogy)(1 - yi[j], 1 - ai[j]);
                } else {
                    cost -= NAME(xlogy)(yi[j], ai[j]);
                }
            }
        }
        net->batch_costs[batch] = cost;
        if (!isfinite(cost)) {
            done = batch;
            break;
        }

        /* BP1: δ^L = ∇_a C ⊙ σ'(z^L), scaled by η/m so that BP3/BP4 give the update itself. */
        REAL *dL = D[L - 1];
        for (int64_t i = 0; i < k; i++) {
            const REAL *ai = out + i * n_out, *yi = y + idx[i] * n_out;
            REAL *di = dL + i * n_out;
            for (int64_t j = 0; j < n_out; j++) {
                REAL av = ai[j], yv = yi[j];
                if (net->exact || net->cost == QUADRATIC)
                    di[j] = av - yv;
                else if (net->cost == CROSS_ENTROPY)
                    di[j] = (av - yv) / (av * (1 - av));
                else
                    di[j] = yv == 0 ? 0 : -yv / av;
            }
        }
        if (!net->exact)
            NAME(times_prime)(net->codes[L - 1], slope, Z[L - 1], out, dL, k, n_out);
        const REAL scale = (REAL)(eta / (double)k);
        for (int64_t q = 0; q < k * n_out; q++)
            dL[q] *= scale;

        for (int64_t l = L - 1; l >= 0; l--) {
            const int64_t rows = sizes[l + 1], cols = sizes[l];
            REAL *RESTRICT w = W[l];
            const REAL *dl = D[l];
            if (l > 0) {
                /* BP2: δ^(l-1) = ((w^l)ᵀ δ^l) ⊙ σ'(z^(l-1)), before w^l changes. */
                REAL *dp = D[l - 1];
                const struct NAME(task) bp2 = {BP2_PRODUCT, k, rows, cols, NULL, NULL,
                                               w, NULL, dl, dp, NULL, NULL, NULL};
                NAME(share)(team, &bp2);
                NAME(times_prime)(net->codes[l - 1], slope, Z[l - 1], A[l - 1], dp, k, cols);
            }
            /* BP4 summed over the mini-batch (times η/m), applied to w^l at once. */
            const int sparse_layer = l == 0 && sp != NULL;
            if (sparse_layer)
                for (int64_t i = 0; i < k; i++)
                    memcpy(sp->dpad + i * sp->n1p, dl + i * rows, (size_t)rows * sizeof(REAL));
            const struct NAME(task) bp4 = {sparse_layer ? SPARSE_BP4_PRODUCT : BP4_PRODUCT,
                                           k, rows, cols,
                                           l == 0 ? x : A[l - 1], l == 0 ? idx : NULL,
                                           w, NULL, dl, NULL, momentum ? VW[l] : w, &rule, sp};
            NAME(share)(team, &bp4);
            /* BP3 summed over the mini-batch (times η/m). */
            if (net->update_biases) {
                REAL *bl = B[l];
                for (int64_t j = 0; j < rows; j++) {
                    REAL s = 0;
                    for (int64_t i = 0; i < k; i++)
                        s += dl[i * rows + j];
                    if (momentum) {
                        VB[l][j] = VB[l][j] * mu - s;
                        bl[j] += VB[l][j];
                    } else {
                        bl[j] -= s;
                    }
                }
            }
        }
    }
    if (sp != NULL) { /* w¹ (and its velocities) back in their own layout */
        NAME(transpose)(0, W[0], sp->wt, sizes[1], n_in, sp->n1p);
        if (momentum)
            NAME(transpose)(0, VW[0], sp->vt, sizes[1], n_in, sp->n1p);
    }
    return done;
}

#undef SPARSE_VECS
#undef SCATTER_BYTES
#undef EACH_BIT
#undef VEC
#undef LANES
#undef VEC_BYTES
#undef BLOCK_ROWS
