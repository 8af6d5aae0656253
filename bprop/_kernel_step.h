/* One stretch of mini-batches of bprop's fused training step, for one floating type.
 *
 * Included by _kernel.c once per type, with REAL (float or double), EXP_OF, TANH_OF and NAME(x)
 * (which appends the type's suffix) defined.  The equations, in the order of
 * bprop.train._Run.fused_step:
 *
 *   feedforward  z^l = w^l a^(l-1) + b^l,  a^l = σ(z^l)
 *   BP1          δ^L = ∇_a C ⊙ σ'(z^L)  (or the exact a − y), scaled by η/m
 *   BP2          δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l), computed before w^(l+1) changes
 *   BP3, BP4     summed over the mini-batch and applied row by row of w^l:
 *                w^l → (1 − ηλ/n) w^l − (η/m) Σ_x δ^(x,l) (a^(x,l-1))ᵀ  (or the momentum form)
 *
 * Matrices are row-major: a mini-batch holds one example per row, so z^l is (k, n_l) and
 * w^l is (n_l, n_(l-1)), entry [j][q] = w_jq.  The sums over q are vectorised with
 * "omp simd" reductions (so their order differs from NumPy's: results agree to rounding);
 * nothing assumes finite numbers, so NaN and infinity propagate to the cost.
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

/* A vector of LANES numbers (32 bytes: one AVX2 register), loaded from
 * any address. */
typedef REAL NAME(vec) __attribute__((vector_size(32), aligned(sizeof(REAL)), may_alias));
#define VEC NAME(vec)
#define LANES ((int64_t)(32 / sizeof(REAL)))

INLINE REAL NAME(lane_sum)(VEC v)
{
    REAL s = 0;
    for (int64_t lane = 0; lane < LANES; lane++)
        s += v[lane];
    return s;
}

/* s[0..3] = x0 · w_j … w_(j+3) and s[4..7] = x1 · the same rows: a 2 × 4 block of z.  Eight
 * independent sums, each LANES wide, keep both FMA units busy, and each element loaded
 * serves 2 or 4 of them. */
INLINE void NAME(block)(const REAL *RESTRICT x0, const REAL *RESTRICT x1,
                        const REAL *RESTRICT w0, int64_t cols, REAL *RESTRICT s)
{
    const REAL *RESTRICT w1 = w0 + cols, *RESTRICT w2 = w1 + cols, *RESTRICT w3 = w2 + cols;
    VEC s00 = {0}, s01 = {0}, s02 = {0}, s03 = {0}, s10 = {0}, s11 = {0}, s12 = {0}, s13 = {0};
    int64_t q = 0;
    for (; q + LANES <= cols; q += LANES) {
        const VEC a0 = *(const VEC *)(x0 + q), a1 = *(const VEC *)(x1 + q);
        const VEC b0 = *(const VEC *)(w0 + q), b1 = *(const VEC *)(w1 + q);
        const VEC b2 = *(const VEC *)(w2 + q), b3 = *(const VEC *)(w3 + q);
        s00 += a0 * b0;
        s01 += a0 * b1;
        s02 += a0 * b2;
        s03 += a0 * b3;
        s10 += a1 * b0;
        s11 += a1 * b1;
        s12 += a1 * b2;
        s13 += a1 * b3;
    }
    s[0] = NAME(lane_sum)(s00), s[1] = NAME(lane_sum)(s01);
    s[2] = NAME(lane_sum)(s02), s[3] = NAME(lane_sum)(s03);
    s[4] = NAME(lane_sum)(s10), s[5] = NAME(lane_sum)(s11);
    s[6] = NAME(lane_sum)(s12), s[7] = NAME(lane_sum)(s13);
    for (; q < cols; q++) {
        s[0] += x0[q] * w0[q], s[1] += x0[q] * w1[q], s[2] += x0[q] * w2[q];
        s[3] += x0[q] * w3[q], s[4] += x1[q] * w0[q], s[5] += x1[q] * w1[q];
        s[6] += x1[q] * w2[q], s[7] += x1[q] * w3[q];
    }
}

/* z[i][j] = Σ_q in_i[q] w[j][q] + b[j] for the k rows of the mini-batch: z^l = w^l a^(l-1) + b^l.
 * The mini-batch goes in tiles that stay in the L1 cache while each row of w passes once;
 * within a tile, 2 rows of the mini-batch meet 4 rows of w at a time (an odd last row is
 * paired with itself). */
INLINE void NAME(feedforward)(int64_t k, const REAL *base, const int64_t *idx,
                              const REAL *RESTRICT w, const REAL *RESTRICT b,
                              REAL *RESTRICT z, int64_t rows, int64_t cols)
{
    int64_t tile = (32768 / ((int64_t)sizeof(REAL) * cols)) & ~(int64_t)1;
    tile = tile < 2 ? 2 : tile;
    for (int64_t i0 = 0; i0 < k; i0 += tile) {
        const int64_t i1 = i0 + tile < k ? i0 + tile : k;
        int64_t j = 0;
        for (; j + 3 < rows; j += 4) {
            for (int64_t i = i0; i < i1; i += 2) {
                const int pair = i + 1 < i1;
                const REAL *x0 = NAME(row)(base, idx, i, cols);
                const REAL *x1 = pair ? NAME(row)(base, idx, i + 1, cols) : x0;
                REAL s[8];
                NAME(block)(x0, x1, w + j * cols, cols, s);
                for (int c = 0; c < 4; c++) {
                    z[i * rows + j + c] = s[c] + b[j + c];
                    if (pair)
                        z[(i + 1) * rows + j + c] = s[4 + c] + b[j + c];
                }
            }
        }
        for (; j < rows; j++) { /* the last rows of w, one at a time */
            const REAL *RESTRICT wj = w + j * cols;
            for (int64_t i = i0; i < i1; i += 2) {
                const int pair = i + 1 < i1;
                const REAL *RESTRICT x0 = NAME(row)(base, idx, i, cols);
                const REAL *RESTRICT x1 = pair ? NAME(row)(base, idx, i + 1, cols) : x0;
                REAL s0 = 0, s1 = 0;
#pragma omp simd reduction(+ : s0, s1)
                for (int64_t q = 0; q < cols; q++) {
                    s0 += x0[q] * wj[q];
                    s1 += x1[q] * wj[q];
                }
                z[i * rows + j] = s0 + b[j];
                if (pair)
                    z[(i + 1) * rows + j] = s1 + b[j];
            }
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
        for (int64_t q = 0; q < size; q++)
            a[q] = 1 / (1 + EXP_OF(-z[q]));
        break;
    case TANH:
        for (int64_t q = 0; q < size; q++)
            a[q] = TANH_OF(z[q]);
        break;
    case RELU: /* z − z rather than 0 keeps a NaN a NaN */
#pragma omp simd
        for (int64_t q = 0; q < size; q++)
            a[q] = z[q] > 0 ? z[q] : z[q] - z[q];
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

/* t = (row[q] if add else 0) + Σ_i c[i] x_i[q] for a group of 8, 4, 2 or 1 rows x_i of the
 * mini-batch: a piece of BP4 for one row j of w^l, c[i] = δ[i][j] (times η/m).  t goes to
 * row[q], or, for the last group of plain SGD, straight into the update w[q] −= t.  Fixed
 * group sizes keep each sum in a register while the loop over q is vectorised. */
INLINE void NAME(add_rows)(int group, const REAL *const *x, const REAL *c, REAL *RESTRICT row,
                           REAL *RESTRICT w, int64_t cols, int add)
{
/* One vectorised loop per group size and destination. */
#define ADD_ROWS(sum)                                                                         \
    do {                                                                                      \
        if (w) {                                                                              \
            _Pragma("omp simd") for (int64_t q = 0; q < cols; q++) w[q] -=                    \
                (add ? row[q] : 0) + (sum);                                                   \
        } else {                                                                              \
            _Pragma("omp simd") for (int64_t q = 0; q < cols; q++) row[q] =                   \
                (add ? row[q] : 0) + (sum);                                                   \
        }                                                                                     \
        return;                                                                               \
    } while (0)
    const REAL *RESTRICT x0 = x[0];
    const REAL c0 = c[0];
    if (group == 1)
        ADD_ROWS(c0 * x0[q]);
    const REAL *RESTRICT x1 = x[1];
    const REAL c1 = c[1];
    if (group == 2)
        ADD_ROWS(c0 * x0[q] + c1 * x1[q]);
    const REAL *RESTRICT x2 = x[2], *RESTRICT x3 = x[3];
    const REAL c2 = c[2], c3 = c[3];
    if (group == 4)
        ADD_ROWS(c0 * x0[q] + c1 * x1[q] + c2 * x2[q] + c3 * x3[q]);
    const REAL *RESTRICT x4 = x[4], *RESTRICT x5 = x[5], *RESTRICT x6 = x[6], *RESTRICT x7 = x[7];
    const REAL c4 = c[4], c5 = c[5], c6 = c[6], c7 = c[7];
    ADD_ROWS(c0 * x0[q] + c1 * x1[q] + c2 * x2[q] + c3 * x3[q] + c4 * x4[q] + c5 * x5[q] +
             c6 * x6[q] + c7 * x7[q]);
#undef ADD_ROWS
}

/* Σ_i δ[i][j] in_i over the k rows of the mini-batch: row j of δᵀ a^(l-1), BP4 summed over
 * the mini-batch (δ is already times η/m), into row, or subtracted from w_j (plain SGD). */
INLINE void NAME(column_times_rows)(int64_t k, const REAL *RESTRICT d, int64_t j, int64_t rows,
                                    const REAL *base, const int64_t *idx, REAL *RESTRICT row,
                                    REAL *RESTRICT wj, int64_t cols)
{
    for (int64_t i = 0; i < k;) {
        const int64_t left = k - i;
        const int group = left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
        const REAL *x[8];
        REAL c[8];
        for (int g = 0; g < group; g++) {
            x[g] = NAME(row)(base, idx, i + g, cols);
            c[g] = d[(i + g) * rows + j];
        }
        NAME(add_rows)(group, x, c, row, i + group == k ? wj : NULL, cols, i > 0);
        i += group;
    }
}

/* x · ln y with 0 · ln 0 = 0, in double (the cost is summed in double, as NumPy's float()). */
INLINE double NAME(xlogy)(REAL x, REAL y)
{
    return x == 0 ? 0.0 : (double)x * log((double)y);
}

/* Train on mini-batches first … last − 1 of the epoch whose example order is `order`.
 * Returns the first mini-batch not trained: last, or one whose cost is not finite (its
 * update is skipped, as the NumPy engines do). */
KERNEL int64_t NAME(bprop_train)(const struct bprop_net *net, const int64_t *order,
                                 int64_t first, int64_t last, double eta)
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
    REAL *row = net->row;
    const REAL slope = (REAL)net->slope, mu = (REAL)net->momentum;
    const REAL shrink = (REAL)(1.0 - eta * net->lmbda_over_n);
    const REAL decay = (REAL)(eta * net->lmbda_over_n);
    const int l2 = net->lmbda_over_n != 0.0, momentum = net->momentum != 0.0;

    for (int64_t batch = first; batch < last; batch++) {
        const int64_t start = batch * m;
        const int64_t k = m < n - start ? m : n - start;
        const int64_t *idx = order + start;

        /* Feedforward: z^l = w^l a^(l-1) + b^l, a^l = σ(z^l). */
        for (int64_t l = 0; l < L; l++) {
            if (l == 0)
                NAME(feedforward)(k, x, idx, W[0], B[0], Z[0], sizes[1], n_in);
            else
                NAME(feedforward)(k, A[l - 1], NULL, W[l], B[l], Z[l], sizes[l + 1], sizes[l]);
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
        if (!isfinite(cost))
            return batch;

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
                for (int64_t i = 0; i < k; i++) {
                    REAL *RESTRICT dpi = dp + i * cols;
                    const REAL *di = dl + i * rows;
                    memset(dpi, 0, (size_t)cols * sizeof(REAL));
                    for (int64_t j = 0; j < rows; j++) {
                        const REAL c = di[j];
                        const REAL *RESTRICT wj = w + j * cols;
#pragma omp simd
                        for (int64_t q = 0; q < cols; q++)
                            dpi[q] += c * wj[q];
                    }
                }
                NAME(times_prime)(net->codes[l - 1], slope, Z[l - 1], A[l - 1], dp, k, cols);
            }
            /* BP4 summed over the mini-batch (times η/m), applied one row of w^l at a time. */
            const REAL *base = l == 0 ? x : A[l - 1];
            const int64_t *rows_of = l == 0 ? idx : NULL;
            for (int64_t j = 0; j < rows; j++) {
                REAL *RESTRICT wj = w + j * cols;
                const int plain = !momentum && !l2;
                NAME(column_times_rows)(k, dl, j, rows, base, rows_of, row, plain ? wj : NULL,
                                        cols);
                if (momentum) {
                    REAL *RESTRICT vj = VW[l] + j * cols;
                    if (l2) {
#pragma omp simd
                        for (int64_t q = 0; q < cols; q++) {
                            vj[q] = vj[q] * mu - row[q] - decay * wj[q];
                            wj[q] += vj[q];
                        }
                    } else {
#pragma omp simd
                        for (int64_t q = 0; q < cols; q++) {
                            vj[q] = vj[q] * mu - row[q];
                            wj[q] += vj[q];
                        }
                    }
                } else if (l2) {
#pragma omp simd
                    for (int64_t q = 0; q < cols; q++)
                        wj[q] = wj[q] * shrink - row[q];
                } /* plain SGD: w_j −= row was done by column_times_rows */
            }
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
    return last;
}
