/* Softmax cross-entropy over the rows of a C-contiguous (n, c) array of logits, for one FL_REAL.
 * Included by softmax_ce.c once per type.
 *
 * Notation for one row: x_k = z_k / T (temperature), m = max_k x_k, S = sum_k exp(x_k - m),
 * lse = m + log S, p_k = exp(x_k - m) / S, log p_k = x_k - lse. Subtracting m keeps every
 * exponent <= 0, so logits of any finite size (1e4 and beyond) neither overflow nor underflow
 * to a 0/0. Each row is read three times from memory that stays hot in cache (max, exp-sum,
 * gradient) and the exponentials are computed once: they are parked in the gradient row. */

#include "row_impl.h"

/* sum_k w_k x_k (w_k = 1 without class weights), for the label-smoothing term. */
static inline double FL_FN(row_wdot)(const FL_REAL *restrict z, int64_t c, FL_REAL inv_t,
                                      const double *restrict cw) {
    double s = 0.0;
    if (cw) {
#pragma omp simd reduction(+ : s)
        for (int64_t k = 0; k < c; k++) s += cw[k] * (double)(z[k] * inv_t);
    } else {
#pragma omp simd reduction(+ : s)
        for (int64_t k = 0; k < c; k++) s += (double)(z[k] * inv_t);
    }
    return s;
}

/* Integer class targets.
 * IN   n, c          rows and classes
 * IN   logits        n*c values, row-major
 * IN   labels        n class indices; ignore_index rows contribute nothing
 * IN   sw            n sample weights or NULL
 * IN   cw            c class weights (double) or NULL
 * IN   eps           label smoothing in [0, 1]
 * IN   inv_t         1 / temperature
 * IN   reduction     FL_NONE, FL_SUM or FL_MEAN
 * OUT  loss          n per-row losses (times sw) or NULL
 * OUT  grad          n*c gradient of the reduced value w.r.t. the logits, or NULL
 * OUT  value         reduced value (FL_NONE: the sum)
 * OUT  bad           index of the first label outside [0, c), on FL_ERR_LABEL
 *
 * torch semantics (cross_entropy with label smoothing): per non-ignored row
 *   loss = (1 - eps) * w_y * (lse - x_y) + (eps / c) * sum_k w_k (lse - x_k),
 * and 'mean' divides the total by D = sum over non-ignored rows of w_y (their count without
 * class weights). Sample weights s multiply each row and enter D.
 * Gradient of one row w.r.t. x_k: a * (p_k - [k == y]) + b * (W p_k - w_k), W = sum_k w_k,
 * with a = s w_y (1 - eps) / D, b = s eps / (c D); the chain rule through x = z / T adds 1/T. */
/* Loss and gradient of one non-ignored row once m = max x and S = sum exp(x - m) are known;
 * g (may be NULL) holds exp(x_k - m) on entry and the gradient on exit. Returns the row's
 * contribution s * loss to the sum; writes s * loss to *loss_i when loss_i is not NULL. */
static inline __attribute__((always_inline)) double FL_FN(ce_row_finish)(const FL_REAL *restrict z, FL_REAL *restrict g,
                                          int64_t c, int64_t y, double s, const double *cw,
                                          double wsum, double eps, double scale, double inv_t,
                                          FL_REAL it, FL_REAL m, double S, FL_REAL *loss_i) {
    double wy = cw ? cw[y] : 1.0;
    double lse = (double)m + log(S);
    double nll = lse - (double)(z[y] * it);
    double smooth = 0.0;
    if (eps > 0.0) smooth = wsum * lse - FL_FN(row_wdot)(z, c, it, cw);
    double row = (1.0 - eps) * wy * nll + (eps / (double)c) * smooth;
    if (loss_i) *loss_i = (FL_REAL)(s * row);
    if (g) {
        double a = s * wy * (1.0 - eps) * scale * inv_t;
        double bb = s * (eps / (double)c) * scale * inv_t;
        FL_REAL cp = (FL_REAL)((a + bb * wsum) / S);
        FL_REAL bf = (FL_REAL)bb;
        if (cw)
            for (int64_t k = 0; k < c; k++) g[k] = cp * g[k] - bf * (FL_REAL)cw[k];
        else
            for (int64_t k = 0; k < c; k++) g[k] = cp * g[k] - bf;
        g[y] -= (FL_REAL)a;
    }
    return s * row;
}

/* Few classes: per-row vector loops would be mostly prologue, epilogue and one vector exp call
 * per row. Below FL_CE_SMALL_C classes the rows of a chunk are handled as one flat array
 * instead: scalar row maxima spread into a per-element shift, then a single vectorised exp loop
 * over the whole chunk, then scalar per-row sums and gradients. */
#ifndef FL_CE_SMALL_C
#define FL_CE_SMALL_C 32
#define FL_CE_FLAT 1024
#endif
static inline __attribute__((always_inline)) double FL_FN(ce_index_small)(int64_t lo, int64_t hi, int64_t c,
                                           const FL_REAL *restrict logits,
                                           const int64_t *restrict labels,
                                           const FL_REAL *restrict sw, const double *cw,
                                           int64_t ignore_index, double eps, double inv_t,
                                           double wsum, double scale, FL_REAL *restrict loss,
                                           FL_REAL *restrict grad) {
    FL_REAL shift[FL_CE_FLAT], ebuf[FL_CE_FLAT];
    const FL_REAL it = (FL_REAL)inv_t;
    const int64_t rows = FL_CE_FLAT / c;
    double acc = 0.0;
    for (int64_t r0 = lo; r0 < hi; r0 += rows) {
        int64_t r1 = r0 + rows < hi ? r0 + rows : hi, len = (r1 - r0) * c;
        const FL_REAL *restrict z = logits + r0 * c;
        FL_REAL *restrict e = grad ? grad + r0 * c : ebuf;
        for (int64_t i = 0; i < r1 - r0; i++) {
            const FL_REAL *zi = z + i * c;
            FL_REAL m = -INFINITY;
            for (int64_t k = 0; k < c; k++) m = zi[k] > m ? zi[k] : m;
            m *= it;
            for (int64_t k = 0; k < c; k++) shift[i * c + k] = m;
        }
        for (int64_t j = 0; j < len; j++) e[j] = FL_EXP(z[j] * it - shift[j]);
        for (int64_t i = 0; i < r1 - r0; i++) {
            int64_t y = labels[r0 + i];
            FL_REAL *ei = e + i * c;
            if (y == ignore_index) {
                if (loss) loss[r0 + i] = 0;
                if (grad)
                    for (int64_t k = 0; k < c; k++) ei[k] = 0;
                continue;
            }
            double S = 0.0;
            for (int64_t k = 0; k < c; k++) S += (double)ei[k];
            double s = sw ? (double)sw[r0 + i] : 1.0;
            acc += FL_FN(ce_row_finish)(z + i * c, grad ? ei : NULL, c, y, s, cw, wsum, eps,
                                        scale, inv_t, it, shift[i * c], S,
                                        loss ? loss + r0 + i : NULL);
        }
    }
    return acc;
}

FL_TARGET_CLONES
int FL_FN(fl_ce_index)(int64_t n, int64_t c, const FL_REAL *restrict logits,
                       const int64_t *restrict labels, const FL_REAL *restrict sw,
                       const double *restrict cw, int64_t ignore_index, double eps, double inv_t,
                       int reduction, FL_REAL *restrict loss, FL_REAL *restrict grad,
                       double *value, int64_t *bad, int n_threads) {
    double d_valid = 0.0;
    for (int64_t i = 0; i < n; i++) {
        int64_t y = labels[i];
        if (y == ignore_index) continue;
        if (y < 0 || y >= c) {
            *bad = i;
            return FL_ERR_LABEL;
        }
        d_valid += (sw ? (double)sw[i] : 1.0) * (cw ? cw[y] : 1.0);
    }
    double wsum = (double)c;
    if (cw) {
        wsum = 0.0;
        for (int64_t k = 0; k < c; k++) wsum += cw[k];
    }
    double scale = reduction == FL_MEAN ? 1.0 / d_valid : 1.0;

    int64_t rows_per_block = FL_FN(rows_per_block)(c);
    int64_t nb = (n + rows_per_block - 1) / rows_per_block;
    fl_partials ps;
    double *part = fl_partials_get(&ps, nb);
    if (!part) return FL_ERR_NOMEM;
    int nt = fl_threads_for(n_threads, n * c, nb);
    const FL_REAL it = (FL_REAL)inv_t;

#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int64_t b = 0; b < nb; b++) {
        int64_t lo = b * rows_per_block;
        int64_t hi = lo + rows_per_block < n ? lo + rows_per_block : n;
        double acc = 0.0;
        if (c < FL_CE_SMALL_C) {
            acc = FL_FN(ce_index_small)(lo, hi, c, logits, labels, sw, cw, ignore_index, eps,
                                        inv_t, wsum, scale, loss, grad);
            part[b] = acc;
            continue;
        }
        for (int64_t i = lo; i < hi; i++) {
            const FL_REAL *restrict z = logits + i * c;
            FL_REAL *restrict g = grad ? grad + i * c : NULL;
            int64_t y = labels[i];
            if (y == ignore_index) {
                if (loss) loss[i] = 0;
                if (g)
                    for (int64_t k = 0; k < c; k++) g[k] = 0;
                continue;
            }
            double s = sw ? (double)sw[i] : 1.0;
            FL_REAL m = FL_FN(row_max)(z, c, it);
            double S = FL_FN(row_expsum)(z, c, it, m, g);
            acc += FL_FN(ce_row_finish)(z, g, c, y, s, cw, wsum, eps, scale, inv_t, it, m, S,
                                        loss ? loss + i : NULL);
        }
        part[b] = acc;
    }
    *value = fl_sum_ordered(part, nb) * scale;
    fl_partials_free(&ps);
    return FL_OK;
}

/* Integer class targets with the classes on a middle axis: logits of shape (o_n, c, inner),
 * labels (o_n, inner) -- e.g. segmentation logits (N, C, H, W). Same semantics, arguments and
 * outputs as fl_ce_index (loss is per (o, i), the gradient has the logits' layout), without
 * moving the class axis: positions are processed in chunks, vectorised across positions, and
 * the classes are visited with stride `inner`. Chunks' partial sums are added in order. */
#ifndef FL_CE_CHUNK
#define FL_CE_CHUNK 256
#endif
FL_TARGET_CLONES
int FL_FN(fl_ce_index_strided)(int64_t o_n, int64_t c, int64_t inner,
                               const FL_REAL *restrict logits, const int64_t *restrict labels,
                               const FL_REAL *restrict sw, const double *restrict cw,
                               int64_t ignore_index, double eps, double inv_t, int reduction,
                               FL_REAL *restrict loss, FL_REAL *restrict grad, double *value,
                               int64_t *bad, int n_threads) {
    int64_t n = o_n * inner;
    double d_valid = 0.0;
    for (int64_t j = 0; j < n; j++) {
        int64_t y = labels[j];
        if (y == ignore_index) continue;
        if (y < 0 || y >= c) {
            *bad = j;
            return FL_ERR_LABEL;
        }
        d_valid += (sw ? (double)sw[j] : 1.0) * (cw ? cw[y] : 1.0);
    }
    double wsum = (double)c;
    if (cw) {
        wsum = 0.0;
        for (int64_t k = 0; k < c; k++) wsum += cw[k];
    }
    double scale = reduction == FL_MEAN ? 1.0 / d_valid : 1.0;
    int64_t nch = (inner + FL_CE_CHUNK - 1) / FL_CE_CHUNK, units = o_n * nch;
    fl_partials ps;
    double *part = fl_partials_get(&ps, units);
    if (!part) return FL_ERR_NOMEM;
    int nt = fl_threads_for(n_threads, n * c, units);
    const FL_REAL it = (FL_REAL)inv_t;
    const double keep = 1.0 - eps, spread = eps / (double)c;

#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int64_t u = 0; u < units; u++) {
        int64_t o = u / nch, lo = (u % nch) * FL_CE_CHUNK;
        int64_t len = inner - lo < FL_CE_CHUNK ? inner - lo : FL_CE_CHUNK;
        const FL_REAL *x = logits + o * c * inner + lo;
        const int64_t *y = labels + o * inner + lo;
        FL_REAL *g = grad ? grad + o * c * inner + lo : NULL;
        FL_REAL m[FL_CE_CHUNK];
        double S[FL_CE_CHUNK], wx[FL_CE_CHUNK], a[FL_CE_CHUNK], b[FL_CE_CHUNK];
        unsigned char kept[FL_CE_CHUNK];
        for (int64_t i = 0; i < len; i++) {
            m[i] = -INFINITY;
            S[i] = 0.0;
            wx[i] = 0.0;
        }
        for (int64_t k = 0; k < c; k++) {
            const FL_REAL *xk = x + k * inner;
            for (int64_t i = 0; i < len; i++) m[i] = xk[i] > m[i] ? xk[i] : m[i];
        }
        for (int64_t i = 0; i < len; i++) m[i] *= it;
        for (int64_t k = 0; k < c; k++) {
            const FL_REAL *xk = x + k * inner;
            const double wk = cw ? cw[k] : 1.0;
            FL_REAL *gk = g ? g + k * inner : NULL;
            for (int64_t i = 0; i < len; i++) {
                FL_REAL e = FL_EXP(xk[i] * it - m[i]);
                if (gk) gk[i] = e;
                S[i] += (double)e;
                wx[i] += wk * (double)(xk[i] * it);
            }
        }
        double acc = 0.0;
        for (int64_t i = 0; i < len; i++) {
            int64_t yi = y[i];
            kept[i] = yi != ignore_index;
            if (!kept[i]) {
                a[i] = b[i] = 0.0;
                if (loss) loss[o * inner + lo + i] = 0;
                continue;
            }
            double s = sw ? (double)sw[o * inner + lo + i] : 1.0;
            double wy = cw ? cw[yi] : 1.0;
            double lse = (double)m[i] + log(S[i]);
            double nll = lse - (double)(x[yi * inner + i] * it);
            double smooth = eps > 0.0 ? wsum * lse - wx[i] : 0.0;
            double row = keep * wy * nll + spread * smooth;
            if (loss) loss[o * inner + lo + i] = (FL_REAL)(s * row);
            acc += s * row;
            a[i] = s * wy * keep * scale * inv_t;
            b[i] = s * spread * scale * inv_t;
        }
        part[u] = acc;
        if (!g) continue;
        /* g holds exp(x - m); the gradient of a position is
         * (a + b W) p_k - b w_k - a [k == y], and 0 where the label is ignored */
        for (int64_t i = 0; i < len; i++) S[i] = (a[i] + b[i] * wsum) / S[i];
        for (int64_t k = 0; k < c; k++) {
            FL_REAL *gk = g + k * inner;
            const double wk = cw ? cw[k] : 1.0;
            for (int64_t i = 0; i < len; i++) {
                double gv = S[i] * (double)gk[i] - b[i] * wk - (y[i] == k ? a[i] : 0.0);
                gk[i] = kept[i] ? (FL_REAL)gv : (FL_REAL)0;
            }
        }
    }
    *value = fl_sum_ordered(part, units) * scale;
    fl_partials_free(&ps);
    return FL_OK;
}

/* A = sum_k w_k t'_k x_k and B = sum_k w_k t'_k for one row of soft targets; has_cw is a
 * constant at each call site so the loop has no test on cw and vectorises. */
static inline __attribute__((always_inline)) void FL_FN(ce_prob_ab)(
    const FL_REAL *restrict z, const FL_REAL *restrict t, const double *restrict cw, int64_t c,
    FL_REAL it, double keep, double spread, double *out, const int has_cw) {
    double A = 0.0, B = 0.0;
#pragma omp simd reduction(+ : A, B)
    for (int64_t k = 0; k < c; k++) {
        double wt = (has_cw ? cw[k] : 1.0) * (keep * (double)t[k] + spread);
        /* 0 * x_k is 0 even when x_k = -inf would make it NaN: a class with no target mass
         * contributes nothing, as 0 log 0 = 0 demands. */
        A += wt != 0.0 ? wt * (double)(z[k] * it) : 0.0;
        B += wt;
    }
    out[0] = A;
    out[1] = B;
}

/* Class-probability targets (same shape as the logits), torch semantics: with
 * t'_k = (1 - eps) t_k + eps / c, a row's loss is -sum_k w_k t'_k log p_k = B lse - A with
 * A = sum_k w_k t'_k x_k and B = sum_k w_k t'_k; its gradient w.r.t. x_k is B p_k - w_k t'_k.
 * 'mean' divides by the number of rows (the summed sample weights), not by class weights. */
FL_TARGET_CLONES
int FL_FN(fl_ce_prob)(int64_t n, int64_t c, const FL_REAL *restrict logits,
                      const FL_REAL *restrict target, const FL_REAL *restrict sw,
                      const double *restrict cw, double eps, double inv_t, int reduction,
                      FL_REAL *restrict loss, FL_REAL *restrict grad, double *value,
                      int n_threads) {
    double scale = FL_FN(row_mean_scale)(n, sw, reduction);
    int64_t rows_per_block = FL_FN(rows_per_block)(c);
    int64_t nb = (n + rows_per_block - 1) / rows_per_block;
    fl_partials ps;
    double *part = fl_partials_get(&ps, nb);
    if (!part) return FL_ERR_NOMEM;
    int nt = fl_threads_for(n_threads, n * c, nb);
    const FL_REAL it = (FL_REAL)inv_t;
    const double keep = 1.0 - eps, spread = eps / (double)c;

#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int64_t b = 0; b < nb; b++) {
        int64_t lo = b * rows_per_block;
        int64_t hi = lo + rows_per_block < n ? lo + rows_per_block : n;
        double acc = 0.0;
        for (int64_t i = lo; i < hi; i++) {
            const FL_REAL *restrict z = logits + i * c;
            const FL_REAL *restrict t = target + i * c;
            FL_REAL *restrict g = grad ? grad + i * c : NULL;
            double s = sw ? (double)sw[i] : 1.0;
            FL_REAL m = FL_FN(row_max)(z, c, it);
            double S = FL_FN(row_expsum)(z, c, it, m, g);
            double lse = (double)m + log(S);
            double AB[2];
            if (cw)
                FL_FN(ce_prob_ab)(z, t, cw, c, it, keep, spread, AB, 1);
            else
                FL_FN(ce_prob_ab)(z, t, cw, c, it, keep, spread, AB, 0);
            double A = AB[0], B = AB[1];
            double row = B * lse - A;
            if (loss) loss[i] = (FL_REAL)(s * row);
            acc += s * row;
            if (g) {
                double f = s * scale * inv_t;
                FL_REAL cp = (FL_REAL)(f * B / S);
                FL_REAL fk = (FL_REAL)(f * keep), fs = (FL_REAL)(f * spread);
                if (cw)
                    for (int64_t k = 0; k < c; k++)
                        g[k] = cp * g[k] - (FL_REAL)cw[k] * (fk * t[k] + fs);
                else
                    for (int64_t k = 0; k < c; k++) g[k] = cp * g[k] - (fk * t[k] + fs);
            }
        }
        part[b] = acc;
    }
    *value = fl_sum_ordered(part, nb) * scale;
    fl_partials_free(&ps);
    return FL_OK;
}
