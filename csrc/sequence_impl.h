/* CTC loss over a C-contiguous (n, t_max, c) array of unnormalised logits, for one FL_REAL;
 * included by sequence.c once per type.
 *
 * One sample with input length T and target l_1..l_L: the extended target l' has S' = 2L + 1
 * states, blank at even s and l_{(s+1)/2} at odd s. With log-probabilities
 * lp_t(k) = x_tk - lse_t (the log-softmax over k, fused here) and everything in log space:
 *   alpha_0(0) = lp_0(blank), alpha_0(1) = lp_0(l_1), alpha_0(s > 1) = -inf;
 *   alpha_t(s) = lp_t(l'_s) + lae(alpha_{t-1}(s), alpha_{t-1}(s-1), alpha_{t-1}(s-2)),
 *     the s-2 term only when l'_s is a label different from l'_{s-2} (a blank must separate
 *     repeated labels);
 *   log P = lae(alpha_{T-1}(S'-1), alpha_{T-1}(S'-2)), loss = -log P.
 * beta runs the same recursion backwards and, like alpha, includes the emission at t, so
 * alpha_t(s) + beta_t(s) - lp_t(l'_s) is the log-probability of all paths through (t, s).
 * Gradient w.r.t. the logits (Graves et al. 2006, eq. 16, through the softmax):
 *   d loss / d x_tk = p_t(k) - exp(lcab_t(k) + loss - lp_t(k)),
 *   lcab_t(k) = lae over the states s with l'_s = k of alpha_t(s) + beta_t(s).
 * Memory per sample: alpha (T x S'), two rows of beta, lse and 1/sum (T), lcab (C), double. They
 * live in one buffer per thread, sized for the longest sample; nothing scales with n.
 * An impossible alignment (log P = -inf) gives loss +inf and a zero gradient. */

#define FL_CTC_LAB(s) (((s) & 1) ? lab[(s) >> 1] : blank)

/* One sample: returns -log P; writes its gradient rows (times scale) when g is not NULL.
 * Only the states that can lie on a complete path are computed: at step t the state s needs
 * s <= 2t + 1 (reachable from the start) and s >= S' - 2(T - t) (able to reach the end); the
 * others stay -inf in alpha and beta, and they contribute nothing to log P or the gradient. */
static double FL_FN(ctc_one)(const FL_REAL *restrict x, int64_t tl, int64_t t_max, int64_t c,
                             const int64_t *restrict lab, int64_t L, int64_t blank,
                             double scale, FL_REAL *restrict g, double *restrict work) {
    const int64_t sp = 2 * L + 1;
    double *restrict alpha = work;          /* tl * sp */
    double *restrict lse = alpha + tl * sp; /* tl */
    double *restrict isum = lse + tl;       /* tl: 1 / sum_k exp(x_tk - max_t) */
    double *b0 = isum + tl, *b1 = b0 + sp;  /* beta at t and at t + 1 */
    double *restrict lcab = b1 + sp;        /* c */

    /* log-sum-exp per step; with a gradient the exponentials are parked in its rows */
    for (int64_t t = 0; t < tl; t++) {
        const FL_REAL *restrict row = x + t * c;
        FL_REAL m = -INFINITY;
        for (int64_t k = 0; k < c; k++) m = row[k] > m ? row[k] : m;
        double s = 0.0;
        if (g) {
            FL_REAL *restrict gr = g + t * c;
            for (int64_t k = 0; k < c; k++) {
                FL_REAL e = FL_EXP(row[k] - m);
                gr[k] = e;
                s += (double)e;
            }
        } else {
            for (int64_t k = 0; k < c; k++) s += (double)FL_EXP(row[k] - m);
        }
        lse[t] = (double)m + log(s);
        isum[t] = 1.0 / s;
    }

    /* forward */
    if (tl > 0) {
        for (int64_t s = 0; s < sp; s++) alpha[s] = -INFINITY;
        alpha[0] = (double)x[blank] - lse[0];
        if (L > 0) alpha[1] = (double)x[lab[0]] - lse[0];
    }
    for (int64_t t = 1; t < tl; t++) {
        const double *restrict ap = alpha + (t - 1) * sp;
        double *restrict a = alpha + t * sp;
        const FL_REAL *restrict row = x + t * c;
        const double l = lse[t];
        int64_t lo = sp - 2 * (tl - t), hi = 2 * t + 1;
        if (lo < 0) lo = 0;
        if (hi > sp - 1) hi = sp - 1;
        for (int64_t s = 0; s < lo; s++) a[s] = -INFINITY;
        for (int64_t s = hi + 1; s < sp; s++) a[s] = -INFINITY;
        for (int64_t s = lo; s <= hi; s++) {
            double v;
            if ((s & 1) && s > 1 && lab[s >> 1] != lab[(s >> 1) - 1])
                v = fl_ctc_lse3(ap[s], ap[s - 1], ap[s - 2]);
            else if (s > 0)
                v = fl_ctc_lae(ap[s], ap[s - 1]);
            else
                v = ap[s];
            a[s] = v == -INFINITY ? -INFINITY : v + ((double)row[FL_CTC_LAB(s)] - l);
        }
    }
    double ll;
    if (tl == 0) {
        ll = L == 0 ? 0.0 : -INFINITY; /* the empty path emits the empty target only */
    } else {
        const double *a = alpha + (tl - 1) * sp;
        ll = a[sp - 1];
        if (L > 0) ll = fl_ctc_lae(ll, a[sp - 2]);
    }
    const double nll = -ll;
    if (!g) return nll;

    /* rows beyond the input length, and every row of an impossible sample, get zero */
    int64_t first_zero = nll == INFINITY ? 0 : tl;
    if (first_zero < t_max)
        memset(g + first_zero * c, 0, (size_t)((t_max - first_zero) * c) * sizeof(FL_REAL));
    if (nll == INFINITY) return nll;

    /* backward, with the gradient of row t written as soon as beta_t is known */
    double *bc = b0, *bn = b1;
    for (int64_t t = tl - 1; t >= 0; t--) {
        const FL_REAL *restrict row = x + t * c;
        const double l = lse[t];
        int64_t lo = sp - 2 * (tl - t), hi = 2 * t + 1;
        if (lo < 0) lo = 0;
        if (hi > sp - 1) hi = sp - 1;
        for (int64_t s = 0; s < sp; s++) bc[s] = -INFINITY;
        if (t == tl - 1) {
            bc[sp - 1] = (double)row[blank] - l;
            if (L > 0) bc[sp - 2] = (double)row[lab[L - 1]] - l;
        } else {
            for (int64_t s = lo; s <= hi; s++) {
                double v;
                if ((s & 1) && s + 2 < sp && lab[s >> 1] != lab[(s >> 1) + 1])
                    v = fl_ctc_lse3(bn[s], bn[s + 1], bn[s + 2]);
                else if (s + 1 < sp)
                    v = fl_ctc_lae(bn[s], bn[s + 1]);
                else
                    v = bn[s];
                bc[s] = v == -INFINITY ? -INFINITY : v + ((double)row[FL_CTC_LAB(s)] - l);
            }
        }
        /* lcab_t(k), only for the classes of the states in the window */
        const double *restrict a = alpha + t * sp;
        for (int64_t s = lo; s <= hi; s++) lcab[FL_CTC_LAB(s)] = -INFINITY;
        for (int64_t s = lo; s <= hi; s++) {
            int64_t k = FL_CTC_LAB(s);
            lcab[k] = fl_ctc_lae(lcab[k], a[s] + bc[s]);
        }
        /* p_t(k) = e_k / sum (e parked in the row), minus the occupation of the state labels */
        FL_REAL *restrict gr = g + t * c;
        const double ps = scale * isum[t];
        for (int64_t k = 0; k < c; k++) gr[k] = (FL_REAL)(ps * (double)gr[k]);
        for (int64_t s = lo; s <= hi; s++) {
            int64_t k = FL_CTC_LAB(s);
            double v = lcab[k];
            if (v == -INFINITY) continue;
            lcab[k] = -INFINITY; /* each class once */
            double lpk = (double)row[k] - l;
            gr[k] = (FL_REAL)(scale * (exp(lpk) - exp(v + nll - lpk)));
        }
        double *tmp = bc;
        bc = bn;
        bn = tmp;
    }
    return nll;
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
    if (blank < 0 || blank >= c) {
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
    fl_partials ps;
    double *per = fl_partials_get(&ps, n);
    if (!per) return FL_ERR_NOMEM;
    const size_t scratch = (size_t)(max_t * max_sp + 2 * max_t + 2 * max_sp + c);
    int nt = fl_threads_for(n_threads, n * t_max * c, n);
    int failed = 0;

#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        double *work = (double *)malloc(scratch * sizeof(double));
        if (!work) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (int64_t i = 0; i < n; i++) {
            if (!work) continue;
            int64_t L = target_lengths[i];
            double scale = 1.0;
            if (reduction == FL_MEAN) scale = 1.0 / ((double)(L > 1 ? L : 1) * (double)n);
            FL_REAL *g = grad ? grad + i * t_max * c : NULL;
            double nll = FL_FN(ctc_one)(logits + i * t_max * c, input_lengths[i], t_max, c,
                                        targets + offsets[i], L, blank, scale, g, work);
            if (zero_infinity && nll == INFINITY) nll = 0.0;
            per[i] = nll;
        }
        free(work);
    }
    if (failed) {
        fl_partials_free(&ps);
        return FL_ERR_NOMEM;
    }
    double total = 0.0;
    for (int64_t i = 0; i < n; i++) {
        if (loss) loss[i] = (FL_REAL)per[i];
        if (reduction == FL_MEAN) {
            int64_t L = target_lengths[i];
            total += per[i] / (double)(L > 1 ? L : 1);
        } else {
            total += per[i];
        }
    }
    *value = reduction == FL_MEAN ? total / (double)n : total;
    fl_partials_free(&ps);
    return FL_OK;
}

#undef FL_CTC_LAB
