/* Row-wise (class-axis) kernels over C-contiguous (n, c) arrays, for one FL_REAL; included by
 * rowwise.c once per type:
 *   fl_softmax        softmax / log_softmax of x = z / T
 *   fl_softmax_vjp    vector-Jacobian product of softmax / log_softmax
 *   fl_logsumexp      logsumexp of x = z / T and its (cotangent-scaled) gradient
 *   fl_multi_margin   multi-class hinge, torch.nn.functional.multi_margin_loss
 *   fl_distill        knowledge distillation, (1 - a) T^2 KL(p_teacher || q_student) + a CE
 *
 * Notation for one row as in softmax_ce_impl.h: x_k = z_k / T, m = max_k x_k,
 * S = sum_k exp(x_k - m), lse = m + log S, p_k = exp(x_k - m) / S. Rows are processed in blocks
 * of a size fixed by the shape (FL_BLOCK elements), so loss partials are added in block order
 * whatever the thread count; the purely row-local utilities have no cross-row sums at all. */

#include "row_impl.h"

/* Rows per block: about FL_BLOCK elements, at least one row. */

/* The shift used by log_softmax and logsumexp: the row max, or 0 when that max is not finite
 * (a row holding +inf, or only -inf). This is scipy.special's convention: logsumexp of a row
 * with +inf is +inf, of an all -inf row -inf, instead of the NaN that inf - inf would give. */
static inline FL_REAL FL_FN(row_shift)(const FL_REAL *restrict z, int64_t c, FL_REAL inv_t) {
    FL_REAL m = FL_FN(row_max)(z, c, inv_t);
    return isfinite(m) ? m : (FL_REAL)0;
}

/* softmax (log_out = 0) or log_softmax (log_out = 1) of every row.
 * IN   n, c       rows and classes
 * IN   z          n*c inputs, row-major
 * IN   inv_t      1 / temperature
 * OUT  out        n*c results
 * softmax shifts by the raw row max, so a row with +inf (or only -inf) gives NaN as in
 * scipy.special.softmax; log_softmax shifts by row_shift, as scipy.special.log_softmax does:
 * log p_k = x_k - lse, computed in double so that x_k ~ lse ~ 1e4 loses nothing in float. */
FL_TARGET_CLONES
int FL_FN(fl_softmax)(int64_t n, int64_t c, const FL_REAL *restrict z, double inv_t, int log_out,
                      FL_REAL *restrict out, int n_threads) {
    int64_t rpb = FL_FN(rows_per_block)(c);
    int64_t nb = (n + rpb - 1) / rpb;
    int nt = fl_threads_for(n_threads, n * c, nb);
    const FL_REAL it = (FL_REAL)inv_t;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int64_t b = 0; b < nb; b++) {
        int64_t lo = b * rpb, hi = lo + rpb < n ? lo + rpb : n;
        for (int64_t i = lo; i < hi; i++) {
            const FL_REAL *restrict zi = z + i * c;
            FL_REAL *restrict o = out + i * c;
            if (log_out) {
                FL_REAL m = FL_FN(row_shift)(zi, c, it);
                double lse = (double)m + log(FL_FN(row_expsum)(zi, c, it, m, NULL));
                for (int64_t k = 0; k < c; k++) o[k] = (FL_REAL)((double)zi[k] * inv_t - lse);
            } else {
                FL_REAL m = FL_FN(row_max)(zi, c, it);
                double r = 1.0 / FL_FN(row_expsum)(zi, c, it, m, o);
                for (int64_t k = 0; k < c; k++) o[k] = (FL_REAL)((double)o[k] * r);
            }
        }
    }
    return FL_OK;
}

/* Vector-Jacobian products, y = softmax(x) or log_softmax(x), x = z / T, cotangent v:
 *   softmax:      d/dz_k sum_j v_j y_j = y_k (v_k - sum_j v_j y_j) / T
 *   log_softmax:  d/dz_k sum_j v_j y_j = (v_k - p_k sum_j v_j) / T
 * IN   z, v       n*c inputs and cotangents
 * OUT  out        n*c products (the exponentials are parked there between passes) */
FL_TARGET_CLONES
int FL_FN(fl_softmax_vjp)(int64_t n, int64_t c, const FL_REAL *restrict z,
                          const FL_REAL *restrict v, double inv_t, int log_in,
                          FL_REAL *restrict out, int n_threads) {
    int64_t rpb = FL_FN(rows_per_block)(c);
    int64_t nb = (n + rpb - 1) / rpb;
    int nt = fl_threads_for(n_threads, n * c, nb);
    const FL_REAL it = (FL_REAL)inv_t;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int64_t b = 0; b < nb; b++) {
        int64_t lo = b * rpb, hi = lo + rpb < n ? lo + rpb : n;
        for (int64_t i = lo; i < hi; i++) {
            const FL_REAL *restrict zi = z + i * c;
            const FL_REAL *restrict vi = v + i * c;
            FL_REAL *restrict o = out + i * c;
            FL_REAL m = log_in ? FL_FN(row_shift)(zi, c, it) : FL_FN(row_max)(zi, c, it);
            double r = 1.0 / FL_FN(row_expsum)(zi, c, it, m, o);
            double dot = 0.0;
            if (log_in) {
                for (int64_t k = 0; k < c; k++) dot += (double)vi[k];
                for (int64_t k = 0; k < c; k++)
                    o[k] = (FL_REAL)(inv_t * ((double)vi[k] - (double)o[k] * r * dot));
            } else {
                for (int64_t k = 0; k < c; k++) dot += (double)vi[k] * (double)o[k];
                dot *= r;
                for (int64_t k = 0; k < c; k++)
                    o[k] = (FL_REAL)(inv_t * (double)o[k] * r * ((double)vi[k] - dot));
            }
        }
    }
    return FL_OK;
}

/* logsumexp of every row of x = z / T, and the gradient of sum_i cot_i * lse_i:
 *   d lse_i / d z_k = p_k / T.
 * IN   z          n*c inputs
 * IN   cot        n cotangents, or NULL for all ones
 * OUT  out        n values, or NULL
 * OUT  grad       n*c gradient entries, or NULL */
FL_TARGET_CLONES
int FL_FN(fl_logsumexp)(int64_t n, int64_t c, const FL_REAL *restrict z,
                        const FL_REAL *restrict cot, double inv_t, FL_REAL *restrict out,
                        FL_REAL *restrict grad, int n_threads) {
    int64_t rpb = FL_FN(rows_per_block)(c);
    int64_t nb = (n + rpb - 1) / rpb;
    int nt = fl_threads_for(n_threads, n * c, nb);
    const FL_REAL it = (FL_REAL)inv_t;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int64_t b = 0; b < nb; b++) {
        int64_t lo = b * rpb, hi = lo + rpb < n ? lo + rpb : n;
        for (int64_t i = lo; i < hi; i++) {
            const FL_REAL *restrict zi = z + i * c;
            FL_REAL *restrict g = grad ? grad + i * c : NULL;
            FL_REAL m = FL_FN(row_shift)(zi, c, it);
            double S = FL_FN(row_expsum)(zi, c, it, m, g);
            if (out) out[i] = (FL_REAL)((double)m + log(S));
            if (g) {
                double f = (cot ? (double)cot[i] : 1.0) * inv_t / S;
                for (int64_t k = 0; k < c; k++) g[k] = (FL_REAL)((double)g[k] * f);
            }
        }
    }
    return FL_OK;
}

/* Multi-class hinge, torch.nn.functional.multi_margin_loss. For a row with target y and
 * z_k = margin - x_y + x_k (k != y):
 *   loss = w_y / c * sum_{k != y} max(0, z_k)^p,            p in {1, 2}
 *   d loss / d x_k = w_y / c * p z_k^(p-1)  where z_k > 0 (k != y), 0 elsewhere (also at the
 *   kink z_k = 0, as torch), and d loss / d x_y = -sum_{k != y} d loss / d x_k.
 * A NaN z_k is not dropped (torch's `z > 0` test would drop it): the row's loss and its whole
 * gradient row become NaN.
 * 'mean' divides by the number of rows (or the summed sample weights), not by class weights,
 * as torch does.
 * IN   n, c, x        rows, classes, n*c scores
 * IN   labels         n class indices in [0, c)
 * IN   sw             n sample weights or NULL
 * IN   cw             c class weights (double) or NULL
 * IN   p, margin      the exponent (1 or 2) and the margin
 * OUT  loss, grad, value, bad   as in fl_ce_index */
/* One row of multi_margin: sum over k != y of h(z_k), z_k = margin - x_y + x_k, h = max(0, z)^p,
 * and the gradient entries gcoef * h'(z_k) (NaN z gives NaN for both). Branch-free with an
 * omp simd reduction so it vectorises; want_g is a constant at each call site. */
static inline __attribute__((always_inline)) void FL_FN(mm_row)(
    const FL_REAL *restrict xi, FL_REAL *restrict g, int64_t c, int64_t y, double base,
    double gcoef, int p, double *sum_out, double *gy_out, const int want_g) {
    double sum = 0.0, gy = 0.0;
#pragma omp simd reduction(+ : sum, gy)
    for (int64_t k = 0; k < c; k++) {
        double zk = base + (double)xi[k];
        int active = (k != y) & (zk > 0.0);
        double nan_or_0 = zk != zk ? zk : 0.0;
        double h = active ? (p == 1 ? zk : zk * zk) : nan_or_0;
        double dh = active ? (p == 1 ? 1.0 : 2.0 * zk) : nan_or_0;
        sum += h;
        double gk = gcoef * dh;
        gy += gk;
        if (want_g) g[k] = (FL_REAL)gk;
    }
    *sum_out = sum;
    *gy_out = gy;
}

FL_TARGET_CLONES
int FL_FN(fl_multi_margin)(int64_t n, int64_t c, const FL_REAL *restrict x,
                           const int64_t *restrict labels, const FL_REAL *restrict sw,
                           const double *restrict cw, int p, double margin, int reduction,
                           FL_REAL *restrict loss, FL_REAL *restrict grad, double *value,
                           int64_t *bad, int n_threads) {
    if (FL_FN(row_check_labels)(n, labels, c, bad) != FL_OK) return FL_ERR_LABEL;
    double scale = FL_FN(row_mean_scale)(n, sw, reduction);
    int64_t rpb = FL_FN(rows_per_block)(c);
    int64_t nb = (n + rpb - 1) / rpb;
    fl_partials ps;
    double *part = fl_partials_get(&ps, nb);
    if (!part) return FL_ERR_NOMEM;
    int nt = fl_threads_for(n_threads, n * c, nb);
    const double inv_c = 1.0 / (double)c;

#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int64_t b = 0; b < nb; b++) {
        int64_t lo = b * rpb, hi = lo + rpb < n ? lo + rpb : n;
        double acc = 0.0;
        for (int64_t i = lo; i < hi; i++) {
            const FL_REAL *restrict xi = x + i * c;
            FL_REAL *restrict g = grad ? grad + i * c : NULL;
            int64_t y = labels[i];
            double s = sw ? (double)sw[i] : 1.0;
            double wy = cw ? cw[y] : 1.0;
            double base = margin - (double)xi[y];
            double gcoef = s * wy * inv_c * scale; /* d reduced / d (per-row hinge sum) */
            double sum = 0.0, gy = 0.0;
            if (g)
                FL_FN(mm_row)(xi, g, c, y, base, gcoef, p, &sum, &gy, 1);
            else
                FL_FN(mm_row)(xi, g, c, y, base, gcoef, p, &sum, &gy, 0);
            if (g) {
                g[y] = (FL_REAL)(-gy);
                if (isnan(sum)) /* NaN in the row: the whole row's gradient is NaN */
                    for (int64_t k = 0; k < c; k++) g[k] = (FL_REAL)NAN;
            }
            double row = s * wy * inv_c * sum;
            if (loss) loss[i] = (FL_REAL)row;
            acc += row;
        }
        part[b] = acc;
    }
    *value = fl_sum_ordered(part, nb) * scale;
    fl_partials_free(&ps);
    return FL_OK;
}

/* Knowledge distillation (Hinton et al. 2015), one pass per row over the student row zs and
 * the teacher row zt. With q = softmax(zs / T), p = softmax(zt / T), s1 = softmax(zs) and the
 * target t (one-hot of a class index, or a probability row with B = sum_k t_k):
 *   KL   = sum_k p_k (log p_k - log q_k) = sum_k p_k (xt_k - xs_k) - (log S_t - log S_s)
 *          with xt_k = zt_k / T - m_t, xs_k = zs_k / T - m_s the shifted exponents exactly as
 *          fed to exp (sum_k p_k = 1). Differencing those small shifted values, not zt_k - zs_k,
 *          keeps the first-order terms consistent with S_t, S_s, so a teacher that is the
 *          student shifted by 1e4 gets a KL of rounding size, not of 1e4 * eps. Terms with
 *          p_k = 0 are 0, so a -inf teacher logit is fine,
 *   CE   = B lse_1 - sum_k t_k zs_k                (index target: lse_1 - zs_y),
 *          computed as B log S_1 - sum_k t_k (zs_k - m_1) with lse_1 = m_1 + log S_1,
 *   loss = (1 - a) T^2 KL + a CE,
 *   d loss / d zs_k = (1 - a) T (q_k - p_k) + a (B s1_k - t_k)
 * (the T^2 KL term: T^2 times the chain-rule 1/T times q - p). The student's exponentials at T
 * are parked in the gradient row between the sum pass and the gradient pass; the teacher's and
 * (when T != 1) the student's at T = 1 are recomputed there.
 * IN   zs, zt         n*c student and teacher logits
 * IN   labels         n class indices in [0, c), or NULL
 * IN   target         n*c class probabilities, or NULL (exactly one of labels/target is given)
 * IN   sw             n sample weights or NULL
 * IN   temperature, alpha
 * OUT  loss, grad, value, bad   as in fl_ce_index; 'mean' divides by n (or the summed sw) */
/* The two loops of one distillation row, with the row's options as compile-time constants
 * (each call site passes literals) so that both loops are branch-free and vectorise.
 * Statistics: out = {S_s, S_1, S_t, A, B, Tz} as named in fl_distill. */
static inline __attribute__((always_inline)) void FL_FN(distill_stats)(
    const FL_REAL *restrict s, const FL_REAL *restrict u, const FL_REAL *restrict t,
    FL_REAL *restrict g, int64_t c, FL_REAL it, FL_REAL ms, FL_REAL mt, FL_REAL m1, double *out,
    const int has_g, const int has_t, const int t_is_one) {
    double Ss = 0.0, S1 = 0.0, St = 0.0, A = 0.0, B = 0.0, Tz = 0.0;
#pragma omp simd reduction(+ : Ss, S1, St, A, B, Tz)
    for (int64_t k = 0; k < c; k++) {
        /* the shifted exponents log q_k + log S_s and log p_k + log S_t, as fed to exp */
        FL_REAL xs = s[k] * it - ms, xt = u[k] * it - mt;
        FL_REAL es = FL_EXP(xs);
        FL_REAL e1 = t_is_one ? es : FL_EXP(s[k] - m1);
        FL_REAL et = FL_EXP(xt);
        if (has_g) g[k] = es;
        Ss += (double)es;
        S1 += (double)e1;
        St += (double)et;
        A += et != 0 ? (double)et * ((double)xt - (double)xs) : 0.0;
        if (has_t) {
            double tk = (double)t[k];
            B += tk;
            Tz += tk != 0 ? tk * ((double)s[k] - (double)m1) : 0.0;
        }
    }
    out[0] = Ss, out[1] = S1, out[2] = St, out[3] = A, out[4] = B, out[5] = Tz;
}

/* Gradient: g holds exp(x_s - m_s) on entry. */
static inline __attribute__((always_inline)) void FL_FN(distill_grad)(
    const FL_REAL *restrict s, const FL_REAL *restrict u, const FL_REAL *restrict t,
    FL_REAL *restrict g, int64_t c, int64_t y, FL_REAL it, FL_REAL mt, FL_REAL m1, double rq,
    double rp, double r1, double a_ce, const int has_t, const int t_is_one) {
#pragma omp simd
    for (int64_t k = 0; k < c; k++) {
        double es = (double)g[k];
        double et = (double)FL_EXP(u[k] * it - mt);
        double e1 = t_is_one ? es : (double)FL_EXP(s[k] - m1);
        double gk = rq * es - rp * et + r1 * e1;
        gk -= has_t ? a_ce * (double)t[k] : (k == y ? a_ce : 0.0);
        g[k] = (FL_REAL)gk;
    }
}

FL_TARGET_CLONES
int FL_FN(fl_distill)(int64_t n, int64_t c, const FL_REAL *restrict zs,
                      const FL_REAL *restrict zt, const int64_t *restrict labels,
                      const FL_REAL *restrict target, const FL_REAL *restrict sw,
                      double temperature, double alpha, int reduction, FL_REAL *restrict loss,
                      FL_REAL *restrict grad, double *value, int64_t *bad, int n_threads) {
    if (labels && FL_FN(row_check_labels)(n, labels, c, bad) != FL_OK) return FL_ERR_LABEL;
    double scale = FL_FN(row_mean_scale)(n, sw, reduction);
    int64_t rpb = FL_FN(rows_per_block)(c);
    int64_t nb = (n + rpb - 1) / rpb;
    fl_partials ps;
    double *part = fl_partials_get(&ps, nb);
    if (!part) return FL_ERR_NOMEM;
    int nt = fl_threads_for(n_threads, n * c, nb);
    const double inv_t = 1.0 / temperature;
    const FL_REAL it = (FL_REAL)inv_t;
    const int t_is_one = temperature == 1.0;
    const double kl_w = (1.0 - alpha) * temperature * temperature;

#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int64_t b = 0; b < nb; b++) {
        int64_t lo = b * rpb, hi = lo + rpb < n ? lo + rpb : n;
        double acc = 0.0;
        for (int64_t i = lo; i < hi; i++) {
            const FL_REAL *restrict s = zs + i * c;
            const FL_REAL *restrict u = zt + i * c;
            const FL_REAL *restrict t = target ? target + i * c : NULL;
            FL_REAL *restrict g = grad ? grad + i * c : NULL;
            double w = sw ? (double)sw[i] : 1.0;
            FL_REAL m1 = FL_FN(row_max)(s, c, (FL_REAL)1);
            FL_REAL ms = m1 * it; /* = row_max(s, c, it) */
            FL_REAL mt = FL_FN(row_max)(u, c, it);
            double st[6];
            switch ((g ? 4 : 0) | (t ? 2 : 0) | t_is_one) {
#define FL_DSTATS(K)                                                                            \
    case K:                                                                                     \
        FL_FN(distill_stats)(s, u, t, g, c, it, ms, mt, m1, st, (K) & 4, (K) & 2, (K) & 1);     \
        break;
                FL_DSTATS(0) FL_DSTATS(1) FL_DSTATS(2) FL_DSTATS(3)
                FL_DSTATS(4) FL_DSTATS(5) FL_DSTATS(6) FL_DSTATS(7)
#undef FL_DSTATS
            }
            double Ss = st[0], S1 = st[1], St = st[2], A = st[3], B = st[4], Tz = st[5];
            double kl = A / St - (log(St) - log(Ss));
            /* CE with the row max m1 taken out of lse_1 = m1 + log S1 and of every logit */
            double ce;
            if (t) {
                ce = B * log(S1) - Tz;
            } else {
                B = 1.0;
                ce = log(S1) - ((double)s[labels[i]] - (double)m1);
            }
            double row = w * (kl_w * kl + alpha * ce);
            if (loss) loss[i] = (FL_REAL)row;
            acc += row;
            if (g) {
                double f = w * scale;
                double a_kl = f * (1.0 - alpha) * temperature; /* times (q_k - p_k) */
                double rq = a_kl / Ss, rp = a_kl / St;
                double a_ce = f * alpha, r1 = a_ce * B / S1;
                int64_t y = t ? -1 : labels[i];
                switch ((t ? 2 : 0) | t_is_one) {
#define FL_DGRAD(K)                                                                             \
    case K:                                                                                     \
        FL_FN(distill_grad)(s, u, t, g, c, y, it, mt, m1, rq, rp, r1, a_ce, (K) & 2, (K) & 1);  \
        break;
                    FL_DGRAD(0) FL_DGRAD(1) FL_DGRAD(2) FL_DGRAD(3)
#undef FL_DGRAD
                }
            }
        }
        part[b] = acc;
    }
    *value = fl_sum_ordered(part, nb) * scale;
    fl_partials_free(&ps);
    return FL_OK;
}
