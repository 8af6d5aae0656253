/* The first layer's products over the non-zero inputs only (net->sparse_input).
 *
 * Included by _kernel_step.h, inside each floating type's and instruction set's copy of the
 * step, after the dense products (it uses VEC, LANES and NAME(apply)).
 */

/* Exact input sparsity for the first layer (net->sparse_input): an input that is 0 adds
 * nothing to z¹ = w¹x + b¹ and gets nothing from BP4, so the first layer's feedforward sums only
 * each example's non-zero inputs, and BP4 only the columns of w¹ that some example of the
 * mini-batch uses (every weight still gets L2's decay and momentum).  For the stretch w¹ (and
 * its velocities) live transposed, (n_0, n1p) with n1p = n_1 rounded up to whole vectors, so
 * that both sums move whole rows of it; the columns left over stay 0.  Both sums run over the
 * inputs in ascending order, examples ascending, as the dense loops do (in two interleaved
 * partial sums), so results agree with the dense kernel to rounding — except that a weight that
 * is NaN or infinite meets an input of 0 nowhere, where the dense products would give NaN. */
struct NAME(sparse) {
    int64_t n1p;            /* n_1 rounded up to whole vectors */
    REAL *wt, *vt;          /* (w¹)ᵀ and its velocities, (n_0, n1p) */
    REAL *dpad;             /* δ¹ (times η/m) of the mini-batch, (m, n1p), padded with 0 */
    int32_t *nz;            /* example i's non-zero inputs: nz[i (n_0 + 8) …], nz_count[i] */
    int64_t *nz_count;      /* (m) */
    int64_t *col_start;     /* column q's entries: col_start[q] … col_start[q + 1] − 1 */
    int64_t *col_fill;      /* (n_0) */
    int32_t *col_example;   /* the example of each entry, ascending within a column */
    REAL *col_value;        /* its input */
    int64_t q_cut;          /* where BP4's columns are cut between two threads */
};

/* The bytes a stretch's sparse buffers take (one block, aligned to 64 bytes each). */
static inline size_t NAME(sparse_bytes)(int64_t m, int64_t n0, int64_t n1p, size_t *at)
{
    const size_t sizes[9] = {
        sizeof(REAL) * (size_t)(n0 * n1p), sizeof(REAL) * (size_t)(n0 * n1p),
        sizeof(REAL) * (size_t)(m * n1p),  sizeof(int32_t) * (size_t)(m * (n0 + 8)),
        sizeof(int64_t) * (size_t)m,       sizeof(int64_t) * (size_t)(n0 + 1),
        sizeof(int64_t) * (size_t)n0,      sizeof(int32_t) * (size_t)(m * n0),
        sizeof(REAL) * (size_t)(m * n0)};
    size_t total = 0;
    for (int s = 0; s < 9; s++) {
        at[s] = total;
        total += (sizes[s] + 63) / 64 * 64;
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

/* The non-zero inputs of examples i_first … i_last − 1 (NaN counts as non-zero). */
INLINE void NAME(sparse_rows)(const struct NAME(sparse) *sp, const REAL *x, const int64_t *idx,
                              int64_t i_first, int64_t i_last, int64_t n0)
{
    for (int64_t i = i_first; i < i_last; i++) {
        const REAL *xi = x + idx[i] * n0;
        int32_t *nz = sp->nz + i * (n0 + 8);
        int64_t c = 0, q = 0;
#if defined(__AVX2__)
        /* 8 inputs at a time: their non-zero lanes' indices, stored at once (the row has
         * room for n_0 + 8: the last store may run 7 past the last index) */
        for (; q + 8 <= n0; q += 8) {
#if REAL_IS_FLOAT
            const int mask = _mm256_movemask_ps(
                _mm256_cmp_ps(_mm256_loadu_ps(xi + q), _mm256_setzero_ps(), _CMP_NEQ_UQ));
#else
            const int mask =
                _mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(xi + q), _mm256_setzero_pd(),
                                                 _CMP_NEQ_UQ)) |
                _mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(xi + q + 4),
                                                 _mm256_setzero_pd(), _CMP_NEQ_UQ))
                    << 4;
#endif
            const __m256i lanes = _mm256_cvtepu8_epi32(
                _mm_loadl_epi64((const __m128i *)nz_lanes[mask]));
            _mm256_storeu_si256((__m256i *)(nz + c),
                                _mm256_add_epi32(lanes, _mm256_set1_epi32((int)q)));
            c += __builtin_popcount((unsigned)mask);
        }
#endif
        for (; q < n0; q++) { /* without a branch: most guesses would miss */
            nz[c] = (int32_t)q;
            c += xi[q] != 0;
        }
        sp->nz_count[i] = c;
    }
}

/* The mini-batch's non-zero inputs by column, from those by example (NAME(sparse_rows)), and
 * where BP4's columns are cut in two halves of about as many entries. */
INLINE void NAME(sparse_columns)(struct NAME(sparse) *sp, const REAL *x, const int64_t *idx,
                                 int64_t k, int64_t n0)
{
    int64_t *RESTRICT count = sp->col_fill;
    int32_t *RESTRICT example = sp->col_example;
    REAL *RESTRICT value = sp->col_value;
    memset(count, 0, (size_t)n0 * sizeof(int64_t));
    for (int64_t i = 0; i < k; i++) {
        const int32_t *RESTRICT nz = sp->nz + i * (n0 + 8);
        const int64_t c = sp->nz_count[i];
        for (int64_t e = 0; e < c; e++)
            count[nz[e]]++;
    }
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
        const REAL *RESTRICT xi = x + idx[i] * n0;
        const int32_t *RESTRICT nz = sp->nz + i * (n0 + 8);
        const int64_t c = sp->nz_count[i];
        for (int64_t e = 0; e < c; e++) {
            const int64_t at = count[nz[e]]++;
            example[at] = (int32_t)i;
            value[at] = xi[nz[e]];
        }
    }
}

/* Vectors of z¹ (or of a row of w¹'s step) summed at once: 8 × 2 sums fill 16 of AVX-512's 32
 * registers; AVX2 and SSE have 16. */
#if defined(__AVX512F__)
#define SPARSE_VECS 8
#else
#define SPARSE_VECS 4
#endif

/* V vectors from lane `at` of z¹'s row for example i: Σ over its non-zero inputs q of
 * x_q wt[q] (even and odd ones in two sums, added at the end), plus b. */
INLINE void NAME(sparse_z_block)(int V, const REAL *RESTRICT xi, const int32_t *RESTRICT nz,
                                 int64_t count, const REAL *RESTRICT wt, int64_t n1p,
                                 int64_t at, VEC *RESTRICT out)
{
    VEC even[SPARSE_VECS], odd[SPARSE_VECS];
    for (int v = 0; v < V; v++)
        even[v] = odd[v] = (VEC){0};
    int64_t e = 0;
    for (; e + 2 <= count; e += 2) {
        const REAL x0 = xi[nz[e]], x1 = xi[nz[e + 1]];
        const REAL *w0 = wt + nz[e] * n1p + at, *w1 = wt + nz[e + 1] * n1p + at;
        for (int v = 0; v < V; v++) {
            even[v] += x0 * *(const VEC *)(w0 + v * LANES);
            odd[v] += x1 * *(const VEC *)(w1 + v * LANES);
        }
    }
    if (e < count) {
        const REAL x0 = xi[nz[e]];
        const REAL *w0 = wt + nz[e] * n1p + at;
        for (int v = 0; v < V; v++)
            even[v] += x0 * *(const VEC *)(w0 + v * LANES);
    }
    for (int v = 0; v < V; v++)
        out[v] = even[v] + odd[v];
}

/* z¹ for examples i_first … i_last − 1: blocks of lanes outside, so that a block of wt stays in
 * the cache while the examples pass. */
INLINE void NAME(sparse_feedforward_part)(const struct NAME(sparse) *sp, int64_t i_first,
                                          int64_t i_last, const REAL *x, const int64_t *idx,
                                          const REAL *RESTRICT b, REAL *RESTRICT z,
                                          int64_t rows, int64_t cols)
{
    const int64_t n1p = sp->n1p, vectors = n1p / LANES;
    NAME(sparse_rows)(sp, x, idx, i_first, i_last, cols);
    for (int64_t t = 0; t < vectors;) {
        const int V = vectors - t >= SPARSE_VECS ? SPARSE_VECS : vectors - t >= 2 ? 2 : 1;
        const int64_t at = t * LANES;
        for (int64_t i = i_first; i < i_last; i++) {
            VEC out[SPARSE_VECS];
            const REAL *xi = x + idx[i] * cols;
            const int32_t *nz = sp->nz + i * (cols + 8);
            if (V == SPARSE_VECS)
                NAME(sparse_z_block)(SPARSE_VECS, xi, nz, sp->nz_count[i], sp->wt, n1p, at, out);
            else if (V == 2)
                NAME(sparse_z_block)(2, xi, nz, sp->nz_count[i], sp->wt, n1p, at, out);
            else
                NAME(sparse_z_block)(1, xi, nz, sp->nz_count[i], sp->wt, n1p, at, out);
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
