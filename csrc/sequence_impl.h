/* CTC loss over a C-contiguous (n, t_max, c) array of unnormalised logits, for one FL_REAL;
 * included by sequence.c once per type.
 *
 * One sample with input length T and target l_1..l_L: the extended target l' has S' = 2L + 1
 * states, blank at even s and l_{(s+1)/2} at odd s. With log-probabilities
 * lp_t(k) = x_tk - lse_t (the log-softmax over k, fused here), em_t(s) = lp_t(l'_s), and
 * everything in log space:
 *   alpha_0(0) = em_0(0), alpha_0(1) = em_0(1), alpha_0(s > 1) = -inf;
 *   alpha_t(s) = em_t(s) + lse3(alpha_{t-1}(s), alpha_{t-1}(s-1), alpha_{t-1}(s-2) + skip(s)),
 *     skip(s) = 0 when l'_s is a label different from l'_{s-2} (a blank must separate
 *     repeated labels), -inf otherwise;
 *   log P = lae(alpha_{T-1}(S'-1), alpha_{T-1}(S'-2)), loss = -log P.
 * beta runs the same recursion backwards and, like alpha, includes the emission at t, so
 * gamma_t(s) = exp(alpha_t(s) + beta_t(s) - em_t(s) + loss) is the posterior probability of
 * state s at t. Gradient w.r.t. the logits (Graves et al. 2006, eq. 16, through the softmax):
 *   d loss / d x_tk = p_t(k) - sum over the states s with l'_s = k of gamma_t(s).
 *
 * Vectorisation: alpha_t depends on alpha_{t-1} only, so a whole row s = 0..S'-1 is one vector
 * loop (ctc_row: lse3 with two exponentials and one logarithm per state, libmvec's vector
 * functions, simd.h); rows are padded to whole vectors and carry -inf cells on the side the
 * recursion reads from (before s = 0 for alpha, after s = S'-1 for beta), so the loop body has
 * no edge cases and no state falls into a scalar remainder. The log-softmax of every step and
 * the emissions em (a gather of lp_t at the extended target) are computed once per sample,
 * before the recursions; gamma is one vector exp per state and the occupation a scatter-add.
 * Memory per sample: em and alpha (T x S' each), lse and 1/sum (T), two rows of beta, gamma,
 * three rows of scratch, the skip rows and the extended target (S'), an occupation row (C),
 * double. They live in one buffer per thread, sized for the longest sample; nothing scales
 * with n.
 * An impossible alignment (log P = -inf) gives loss +inf and a zero gradient. */

/* Only the states that can lie on a complete path are computed: at step t the state s needs
 * s <= 2t + 1 (reachable from the start) and s >= S' - 2(T - t) (able to reach the end); the
 * others stay -inf in alpha and beta (a state inside the window only ever reads states inside
 * the previous window), and they contribute nothing to log P or the gradient. */
static inline void FL_FN(ctc_window)(int64_t t, int64_t tl, int64_t sp, int64_t *lo,
                                     int64_t *hi) {
    int64_t a = sp - 2 * (tl - t), b = 2 * t + 1;
    *lo = a < 0 ? 0 : a;
    *hi = b > sp - 1 ? sp - 1 : b;
}

/* Rows are padded to whole groups of FL_CTC_LANES states (the widest vector: 8 doubles), and
 * the vector loops run over whole groups, so no state falls into a scalar remainder loop
 * (whose scalar exp and log cost as much as a vector call each). */
#define FL_CTC_LANES 8
#define FL_CTC_UP(v) (((v) + FL_CTC_LANES - 1) & ~(int64_t)(FL_CTC_LANES - 1))

/* Arguments of exp are clamped below at FL_CTC_EXP_MIN: libmvec's vector exp hands lanes with
 * -inf, or with results below the normal range, to the scalar exp one by one, which made the
 * -inf cells at the window's edges (and every blank's missing skip transition) its slowest
 * case. exp(-700) ~ 1e-304 is normal, and three of them are far below half an ulp of the
 * largest term of a sum (exp(0) = 1), so the log-sum-exp does not change; when all three terms
 * are -inf the sum is ~3e-304 instead of 0 and m = -inf still gives -inf. NaN passes through
 * the clamp (NaN < x is false).
 * The clamped arguments go through memory (one loop writes them, the next calls exp): written
 * as exp(v < lo ? lo : v) in one loop, GCC turns it into v < lo ? exp(lo) : exp(v), which
 * calls exp with the unclamped v. */
#define FL_CTC_EXP_MIN (-700.0)
#define FL_CTC_CLAMP(v) ((v) < FL_CTC_EXP_MIN ? FL_CTC_EXP_MIN : (v))

/* One row of the recursion over s in [lo, hi) (whole groups; the caller resets the states
 * outside the window to -inf afterwards):
 *   out[s] = em[s] + lse3(in[s], in[s + d], in[s + 2d] + skip[s]),
 * d = -1 for alpha, +1 for beta; in[] has -inf cells beyond the row in direction d.
 * With the three terms sorted, hi >= mid >= lo, lse3 = hi + log(1 + exp(mid - hi) +
 * exp(lo - hi)): two exponentials, as exp(hi - hi) = 1 exactly. When hi = -inf the exponents
 * use 0 in its place, so they are exp(-inf) = 0 (clamped: ~1e-304) and the result is -inf
 * with no NaN. Sorting with comparisons can drop a NaN, so a NaN among the terms is carried
 * separately (their sum is NaN exactly then: no term is ever +inf).
 * tmp: 3 * n_tmp doubles of scratch. */
static inline __attribute__((always_inline)) void FL_FN(ctc_row)(
    const double *restrict in, const double *restrict skip, const double *restrict em,
    double *restrict out, int64_t lo, int64_t hi, const int64_t d, double *restrict tmp,
    int64_t n_tmp) {
    double *restrict tmid = tmp, *restrict tlo = tmp + n_tmp, *restrict thi = tmp + 2 * n_tmp;
#pragma omp simd
    for (int64_t s = lo; s < hi; s++) {
        double a = in[s], b = in[s + d], c = in[s + 2 * d] + skip[s];
        double ab_hi = a > b ? a : b, ab_lo = a > b ? b : a;
        double h = ab_hi > c ? ab_hi : c;
        double l = ab_lo > c ? c : ab_lo;
        double m = ab_hi > c ? (ab_lo > c ? ab_lo : c) : ab_hi;
        double z = h == -INFINITY ? 0.0 : h;
        double nan = a + b + c;
        tmid[s] = FL_CTC_CLAMP(m - z);
        tlo[s] = FL_CTC_CLAMP(l - z);
        thi[s] = nan != nan ? nan : em[s] + h;
    }
#pragma omp simd
    for (int64_t s = lo; s < hi; s++) out[s] = thi[s] + log(1.0 + exp(tmid[s]) + exp(tlo[s]));
}

/* Per-thread scratch, carved from one 64-byte aligned buffer; every row starts on a 64-byte
 * boundary (alpha's and beta's rows are read one and two states off it). */
typedef struct {
    double *em, *alpha, *lse, *isum, *b0, *b1, *gam, *occ, *skip_a, *skip_b, *tmp;
    int32_t *ext;
} FL_FN(ctc_ws);

/* Row strides (doubles): em, gamma and the skip rows hold sp8 = FL_CTC_UP(sp) states; alpha's
 * rows have a head of FL_CTC_LANES cells (the two -inf before s = 0 at its end), beta's rows a
 * tail of FL_CTC_LANES cells (the two -inf after the last state). */
static size_t FL_FN(ctc_ws_len)(int64_t max_t, int64_t max_sp, int64_t c) {
    const int64_t sp8 = FL_CTC_UP(max_sp), w = sp8 + FL_CTC_LANES;
    return (size_t)(max_t * sp8 + max_t * w + 2 * FL_CTC_UP(max_t) + 2 * w + sp8 +
                    FL_CTC_UP(c) + 2 * sp8 + 3 * sp8) * sizeof(double) +
           (size_t)sp8 * sizeof(int32_t);
}

static FL_FN(ctc_ws) FL_FN(ctc_ws_carve)(void *mem, int64_t max_t, int64_t max_sp, int64_t c) {
    const int64_t sp8 = FL_CTC_UP(max_sp), w = sp8 + FL_CTC_LANES;
    FL_FN(ctc_ws) ws;
    ws.em = (double *)mem;
    ws.alpha = ws.em + max_t * sp8;
    ws.lse = ws.alpha + max_t * w;
    ws.isum = ws.lse + FL_CTC_UP(max_t);
    ws.b0 = ws.isum + FL_CTC_UP(max_t);
    ws.b1 = ws.b0 + w;
    ws.gam = ws.b1 + w;
    ws.occ = ws.gam + sp8;
    ws.skip_a = ws.occ + FL_CTC_UP(c);
    ws.skip_b = ws.skip_a + sp8;
    ws.tmp = ws.skip_b + sp8;
    ws.ext = (int32_t *)(ws.tmp + 3 * sp8); /* only ever accessed as int32_t */
    return ws;
}

/* One sample: returns -log P; writes its gradient rows (times scale) when g is not NULL.
 * Not inlined; cloned per ISA like the entry point, so its loops use the CPU's vectors. */
FL_TARGET_CLONES
static double FL_FN(ctc_one)(const FL_REAL *restrict x, int64_t tl, int64_t t_max, int64_t c,
                             const int64_t *restrict lab, int64_t L, int64_t blank,
                             double scale, FL_REAL *restrict g, FL_FN(ctc_ws) ws) {
    const int64_t sp = 2 * L + 1, sp8 = FL_CTC_UP(sp);
    const int64_t w = sp8 + FL_CTC_LANES; /* alpha and beta row strides */
    double *restrict em = ws.em, *restrict lse = ws.lse, *restrict isum = ws.isum;
    double *restrict skip_a = ws.skip_a, *restrict skip_b = ws.skip_b;
    int32_t *restrict ext = ws.ext;

    if (tl == 0) {
        if (g) memset(g, 0, (size_t)(t_max * c) * sizeof(FL_REAL));
        return L == 0 ? 0.0 : INFINITY; /* the empty path emits the empty target only */
    }

    /* extended target and the skip rows: skip_a[s] for s - 2 -> s (alpha), skip_b[s] for
     * s + 2 -> s (beta) = skip_a[s + 2]; -inf in the padding */
    for (int64_t s = 0; s < sp8; s++) ext[s] = (int32_t)(s < sp ? ((s & 1) ? lab[s >> 1] : blank) : blank);
    for (int64_t s = 0; s < sp8; s++) skip_a[s] = -INFINITY;
    for (int64_t j = 1; j < L; j++)
        if (lab[j] != lab[j - 1]) skip_a[2 * j + 1] = 0.0;
    for (int64_t s = 0; s < sp8; s++) skip_b[s] = s + 2 < sp ? skip_a[s + 2] : -INFINITY;

    /* log-softmax of every step; with a gradient the exponentials are parked in its rows */
    for (int64_t t = 0; t < tl; t++) {
        const FL_REAL *restrict row = x + t * c;
        FL_REAL m = -INFINITY;
#pragma omp simd reduction(max : m)
        for (int64_t k = 0; k < c; k++) m = row[k] > m ? row[k] : m;
        double s = 0.0;
        if (g) {
            FL_REAL *restrict gr = g + t * c;
#pragma omp simd reduction(+ : s)
            for (int64_t k = 0; k < c; k++) {
                FL_REAL e = FL_EXP(row[k] - m);
                gr[k] = e;
                s += (double)e;
            }
        } else {
#pragma omp simd reduction(+ : s)
            for (int64_t k = 0; k < c; k++) s += (double)FL_EXP(row[k] - m);
        }
        lse[t] = (double)m + log(s);
        isum[t] = 1.0 / s;
    }
    /* emissions; the padding states read the blank, and are never used */
    for (int64_t t = 0; t < tl; t++) {
        const FL_REAL *restrict row = x + t * c;
        double *restrict e = em + t * sp8;
        const double l = lse[t];
        for (int64_t s = 0; s < sp8; s++) e[s] = (double)row[ext[s]] - l;
    }

    /* forward; a = row t at state 0, a[-2] and a[-1] are -inf */
    double *restrict alpha = ws.alpha + FL_CTC_LANES;
    for (int64_t s = -FL_CTC_LANES; s < sp8; s++) alpha[s] = -INFINITY;
    alpha[0] = em[0];
    if (L > 0) alpha[1] = em[1];
    for (int64_t t = 1; t < tl; t++) {
        double *restrict a = alpha + t * w;
        int64_t lo, hi;
        FL_FN(ctc_window)(t, tl, sp, &lo, &hi);
        const int64_t lo8 = lo & ~(int64_t)(FL_CTC_LANES - 1), hi8 = FL_CTC_UP(hi + 1);
        FL_FN(ctc_row)(a - w, skip_a, em + t * sp8, a, lo8, hi8, -1, ws.tmp, sp8);
        for (int64_t s = -2; s < lo; s++) a[s] = -INFINITY;
        for (int64_t s = hi + 1; s < sp8; s++) a[s] = -INFINITY;
    }
    double ll;
    {
        const double *a = alpha + (tl - 1) * w;
        double u = a[sp - 1], v = L > 0 ? a[sp - 2] : -INFINITY;
        double m = u > v ? u : v;
        ll = m == -INFINITY ? m : m + log1p(exp(-fabs(u - v)));
        if (u != u || v != v) ll = u + v; /* NaN */
    }
    const double nll = -ll;
    if (!g) return nll;

    /* rows beyond the input length, and every row of an impossible sample, get zero */
    int64_t first_zero = nll == INFINITY ? 0 : tl;
    if (first_zero < t_max)
        memset(g + first_zero * c, 0, (size_t)((t_max - first_zero) * c) * sizeof(FL_REAL));
    if (nll == INFINITY) return nll;

    /* backward, with the gradient of row t written as soon as beta_t is known; the cells
     * from sp8 on stay -inf */
    double *bc = ws.b0, *bn = ws.b1;
    double *restrict gam = ws.gam, *restrict occ = ws.occ;
    for (int64_t s = 0; s < w; s++) bn[s] = -INFINITY;
    for (int64_t s = 0; s < w; s++) bc[s] = -INFINITY;
    for (int64_t t = tl - 1; t >= 0; t--) {
        const double *restrict e = em + t * sp8;
        int64_t lo, hi;
        FL_FN(ctc_window)(t, tl, sp, &lo, &hi);
        const int64_t lo8 = lo & ~(int64_t)(FL_CTC_LANES - 1), hi8 = FL_CTC_UP(hi + 1);
        if (t == tl - 1) {
            bc[sp - 1] = e[sp - 1];
            if (L > 0) bc[sp - 2] = e[sp - 2];
        } else {
            FL_FN(ctc_row)(bn, skip_b, e, bc, lo8, hi8, 1, ws.tmp, sp8);
            for (int64_t s = 0; s < lo; s++) bc[s] = -INFINITY;
            for (int64_t s = hi + 1; s < sp8; s++) bc[s] = -INFINITY;
        }
        /* posteriors of the states (0 below exp's clamp), added up per class */
        const double *restrict a = alpha + t * w;
        double *restrict lg = ws.tmp;
#pragma omp simd
        for (int64_t s = lo8; s < hi8; s++) {
            double v = a[s] + bc[s] - e[s] + nll;
            lg[s] = v;
            gam[s] = FL_CTC_CLAMP(v);
        }
#pragma omp simd
        for (int64_t s = lo8; s < hi8; s++) {
            double p = exp(gam[s]);
            gam[s] = lg[s] < FL_CTC_EXP_MIN ? 0.0 : p;
        }
        for (int64_t k = 0; k < c; k++) occ[k] = 0.0;
        for (int64_t s = lo; s <= hi; s++) occ[ext[s]] += gam[s];
        /* p_t(k) = e_k / sum (e parked in the row) minus the occupation */
        FL_REAL *restrict gr = g + t * c;
        const double ps = scale * isum[t];
#pragma omp simd
        for (int64_t k = 0; k < c; k++) gr[k] = (FL_REAL)(ps * (double)gr[k] - scale * occ[k]);
        double *tmp = bc;
        bc = bn;
        bn = tmp;
    }
    return nll;
}

/* Samples per reduction block: a function of n only, at most FL_SMALL_PARTIALS blocks, so the
 * block partials live on the stack and are added in block order whatever the thread count. */
static inline int64_t FL_FN(ctc_block)(int64_t n) {
    return n <= FL_SMALL_PARTIALS ? 1 : (n + FL_SMALL_PARTIALS - 1) / FL_SMALL_PARTIALS;
}

/* IN   n, t_max, c       batch, time steps, classes (blank included)
 * IN   logits            n*t_max*c unnormalised scores, (sample, time, class) row-major
 * IN   targets           n_targets labels; sample i reads targets[offsets[i] .. + L_i)
 * IN   offsets           n start offsets into targets
 * IN   input_lengths     n values T_i in [0, t_max]
 * IN   target_lengths    n values L_i >= 0
 * IN   blank             the blank class in [0, c)
 * IN   reduction         FL_NONE, FL_SUM or FL_MEAN (sum of loss_i / max(L_i, 1), over n)
 * IN   zero_infinity     1: an infinite loss counts as 0 (its gradient is 0 either way)
 * OUT  loss              n per-sample losses or NULL
 * OUT  grad              n*t_max*c gradient of the reduced value w.r.t. the logits, or NULL
 * OUT  value             reduced value (FL_NONE: the sum)
 * OUT  bad              on FL_ERR_LABEL: the sample with invalid lengths, or n + the position
 *                        in targets of an invalid label (the Python layer validates first;
 *                        this pre-pass only guarantees that nothing is read out of bounds) */
FL_TARGET_CLONES
int FL_FN(fl_ctc)(int64_t n, int64_t t_max, int64_t c, const FL_REAL *restrict logits,
                  const int64_t *restrict targets, int64_t n_targets,
                  const int64_t *restrict offsets, const int64_t *restrict input_lengths,
                  const int64_t *restrict target_lengths, int64_t blank, int reduction,
                  int zero_infinity, FL_REAL *restrict loss, FL_REAL *restrict grad,
                  double *value, int64_t *bad, int n_threads) {
    /* classes are gathered with 32-bit indices (a vector gather on AVX2 and AVX-512); a time
     * step of 2^31 classes would be an 8 GiB row */
    if (blank < 0 || blank >= c || c > INT32_MAX) {
        *bad = -1;
        return FL_ERR_LABEL;
    }
    int64_t max_t = 0, max_sp = 1;
    for (int64_t i = 0; i < n; i++) {
        int64_t tl = input_lengths[i], L = target_lengths[i], off = offsets[i];
        if (tl < 0 || tl > t_max || L < 0 || off < 0 || off > n_targets || L > n_targets - off) {
            *bad = i;
            return FL_ERR_LABEL;
        }
        for (int64_t j = off; j < off + L; j++) {
            if (targets[j] < 0 || targets[j] >= c || targets[j] == blank) {
                *bad = n + j;
                return FL_ERR_LABEL;
            }
        }
        if (tl > max_t) max_t = tl;
        if (2 * L + 1 > max_sp) max_sp = 2 * L + 1;
    }
    const int64_t bs = FL_FN(ctc_block)(n), nb = (n + bs - 1) / bs;
    double part[FL_SMALL_PARTIALS];
    const size_t scratch = FL_FN(ctc_ws_len)(max_t, max_sp, c);
    int nt = fl_threads_for(n_threads, n * t_max * c, nb);
    int failed = 0;

#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        /* 64-byte aligned, a whole number of lines (aligned_alloc's contract) */
        void *work = aligned_alloc(64, (scratch + 63) & ~(size_t)63);
        if (!work) {
#pragma omp atomic write
            failed = 1;
        }
        FL_FN(ctc_ws) ws;
        if (work) ws = FL_FN(ctc_ws_carve)(work, max_t, max_sp, c);
#pragma omp for schedule(dynamic, 1)
        for (int64_t b = 0; b < nb; b++) {
            if (!work) continue;
            double sum = 0.0;
            const int64_t end = (b + 1) * bs < n ? (b + 1) * bs : n;
            for (int64_t i = b * bs; i < end; i++) {
                int64_t L = target_lengths[i];
                double per_len = (double)(L > 1 ? L : 1);
                double scale = 1.0;
                if (reduction == FL_MEAN) scale = 1.0 / (per_len * (double)n);
                FL_REAL *g = grad ? grad + i * t_max * c : NULL;
                double nll = FL_FN(ctc_one)(logits + i * t_max * c, input_lengths[i], t_max, c,
                                            targets + offsets[i], L, blank, scale, g, ws);
                if (zero_infinity && nll == INFINITY) nll = 0.0;
                if (loss) loss[i] = (FL_REAL)nll;
                sum += reduction == FL_MEAN ? nll / per_len : nll;
            }
            part[b] = sum;
        }
        free(work);
    }
    if (failed) return FL_ERR_NOMEM;
    double total = fl_sum_ordered(part, nb);
    *value = reduction == FL_MEAN ? total / (double)n : total;
    return FL_OK;
}
