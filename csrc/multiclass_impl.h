/* Multi-class losses over a class axis, for one FL_REAL; included by multiclass.c once per type:
 *   fl_ce_index, fl_ce_index_strided, fl_ce_prob   softmax cross-entropy (integer / soft targets)
 *   fl_softmax, fl_softmax_vjp, fl_logsumexp       softmax utilities and their products
 *   fl_multi_margin                                multi-class hinge
 *   fl_distill                                     knowledge distillation
 *   fl_kl_*                                        pointwise KL divergence (elementwise driver)
 *
 * Notation for one row: x_k = z_k / T (temperature), m = max_k x_k, S = sum_k exp(x_k - m),
 * lse = m + log S, p_k = exp(x_k - m) / S, log p_k = x_k - lse. Subtracting m keeps every
 * exponent <= 0, so logits of any finite size (1e4 and beyond) neither overflow nor underflow
 * to a 0/0. Rows are processed in blocks of a size fixed by the shape (about FL_BLOCK
 * elements), so loss partials are added in block order whatever the thread count. */

#include "sum_impl.h"

/* ------------------------------------------------------------------------------ row helpers */

/* Row max of x = z * inv_t (inv_t > 0, so max(z) * inv_t). A NaN in the row may or may not win
 * the comparison; either way it reaches the result through the exponential sum. */
static inline FL_REAL FL_FN(row_max)(const FL_REAL *z, int64_t c, FL_REAL inv_t) {
    FL_REAL m = -INFINITY;
#pragma omp simd reduction(max : m)
    for (int64_t k = 0; k < c; k++) m = z[k] > m ? z[k] : m;
    return m * inv_t;
}

/* S = sum exp(x_k - m), accumulated in double; the exponentials go to e (may be NULL). The omp
 * simd reductions let these loops vectorise (simd.h). */
static inline double FL_FN(row_expsum)(const FL_REAL *z, int64_t c, FL_REAL inv_t, FL_REAL m,
                                        FL_REAL *e) {
    double s = 0.0;
    if (e) {
#pragma omp simd reduction(+ : s)
        for (int64_t k = 0; k < c; k++) {
            FL_REAL v = FL_EXP(z[k] * inv_t - m);
            e[k] = v;
            s += (double)v;
        }
    } else {
#pragma omp simd reduction(+ : s)
        for (int64_t k = 0; k < c; k++) s += (double)FL_EXP(z[k] * inv_t - m);
    }
    return s;
}

/* Rows per reduction block: about FL_BLOCK elements, a function of the shape only. */
static inline int64_t FL_FN(rows_per_block)(int64_t c) {
    return c >= FL_BLOCK ? 1 : FL_BLOCK / (c > 0 ? c : 1);
}

/* The 'mean' factor of losses averaged over rows: 1 / (sum of sw, or n); 1 otherwise. */
static inline double FL_FN(row_mean_scale)(int64_t n, const FL_REAL *restrict sw,
                                          int reduction) {
    if (reduction != FL_MEAN) return 1.0;
    double d = (double)n;
    if (sw) {
        d = 0.0;
        for (int64_t i = 0; i < n; i++) d += (double)sw[i];
    }
    return 1.0 / d;
}

/* FL_OK, or FL_ERR_LABEL with *bad the first label outside [0, c). */
static inline int FL_FN(row_check_labels)(int64_t n, const int64_t *restrict labels, int64_t c,
                                          int64_t *bad) {
    for (int64_t i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= c) {
            *bad = i;
            return FL_ERR_LABEL;
        }
    }
    return FL_OK;
}

/* ---------------------------------------------------------------------- softmax cross-entropy */

/* Each row is read three times from memory that stays hot in cache (max, exp-sum, gradient)
 * and the exponentials are computed once: they are parked in the gradient row. */

/* sum_k w_k (m - x_k) (w_k = 1 without class weights), for the label-smoothing term: every
 * term is >= 0, so the sum does not cancel the way W lse - sum_k w_k x_k would for huge logits. */
static inline double FL_FN(row_wgap)(const FL_REAL *z, int64_t c, FL_REAL inv_t,
                                      FL_REAL m, const double *restrict cw) {
    double s = 0.0;
    if (cw) {
#pragma omp simd reduction(+ : s)
        for (int64_t k = 0; k < c; k++) s += cw[k] * ((double)m - (double)(z[k] * inv_t));
    } else {
#pragma omp simd reduction(+ : s)
        for (int64_t k = 0; k < c; k++) s += (double)m - (double)(z[k] * inv_t);
    }
    return s;
}

/* The diagonal of one row's Hessian, h_k = hs * max(u p_k (1 - p_k), floor), from e_k =
 * exp(x_k - m) and S = sum_k e_k (p_k = e_k / S): a softmax loss that is B lse(x) minus terms
 * linear in x has the Hessian B (diag(p) - p p^T) w.r.t. x, whose diagonal is B p_k (1 - p_k);
 * u = B / T^2 (the chain rule through x = z / T), hs = the sample weight times the 'mean'
 * factor, applied after the floor so a weight of 0 gives 0. */
static inline void FL_FN(ce_row_hess)(const FL_REAL *restrict e, FL_REAL *restrict h, int64_t c,
                                      double S, double u, double hs, double floor) {
    const FL_REAL is = (FL_REAL)(1.0 / S), hu = (FL_REAL)u, sc = (FL_REAL)hs;
    const FL_REAL fl = (FL_REAL)floor;
#pragma omp simd
    for (int64_t k = 0; k < c; k++) {
        FL_REAL pk = e[k] * is;
        FL_REAL hk = hu * pk * ((FL_REAL)1 - pk);
        hk = hk < fl ? fl : hk; /* NaN kept */
        h[k] = sc * hk;
    }
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
 * OUT  hess          n*c diagonal of the Hessian of the reduced value, or NULL (needs grad)
 * IN   hess_floor    lower bound of each sample's second derivatives before its weight
 * OUT  value         reduced value (FL_NONE: the sum)
 * OUT  bad           index of the first label outside [0, c), on FL_ERR_LABEL
 *
 * torch semantics (cross_entropy with label smoothing): per non-ignored row
 *   loss = (1 - eps) * w_y * (lse - x_y) + (eps / c) * sum_k w_k (lse - x_k),
 * computed as lse - x_k = (m - x_k) + log S: both parts are >= 0, so tied logits of 1e17 still
 * give log 2 (m + log S would round log S away before x_y is subtracted),
 * and 'mean' divides the total by D = sum over non-ignored rows of w_y (their count without
 * class weights). Sample weights s multiply each row and enter D.
 * Gradient of one row w.r.t. x_k: a * (p_k - [k == y]) + b * (W p_k - w_k), W = sum_k w_k,
 * with a = s w_y (1 - eps) / D, b = s eps / (c D); the chain rule through x = z / T adds 1/T.
 * The row loss is ((1 - eps) w_y + (eps / c) W) lse minus terms linear in x: ce_row_hess with
 * that coefficient. */
/* Loss and gradient of one non-ignored row once m = max x, S = sum exp(x - m) and log S are
 * known, with x_y and the smoothing gap sum_k w_k (m - x_k) read from the logits beforehand:
 * g (may be NULL) holds exp(x_k - m) on entry and the gradient on exit, and may be the logits'
 * own row (an in-place gradient), which is why nothing here reads the logits. Returns the row's
 * contribution s * loss to the sum; writes s * loss to *loss_i when loss_i is not NULL. */
static inline __attribute__((always_inline)) double FL_FN(ce_row_end)(
    FL_REAL *g, int64_t c, int64_t y, double s, const double *cw, double wsum, double eps,
    double scale, double inv_t, FL_REAL m, FL_REAL xy, double gap, double S, double logS,
    FL_REAL *loss_i, FL_REAL *restrict h, double hess_floor) {
    double wy = cw ? cw[y] : 1.0;
    if (h) /* before g's exponentials become the gradient */
        FL_FN(ce_row_hess)(g, h, c, S, ((1.0 - eps) * wy + (eps / (double)c) * wsum) * inv_t * inv_t,
                           s * scale, hess_floor);
    double nll = ((double)m - (double)xy) + logS;
    double smooth = eps > 0.0 ? wsum * logS + gap : 0.0;
    double row = (1.0 - eps) * wy * nll + (eps / (double)c) * smooth;
    if (loss_i) *loss_i = (FL_REAL)(s * row);
    if (g) {
        double a = s * wy * (1.0 - eps) * scale * inv_t;
        double bb = s * (eps / (double)c) * scale * inv_t;
        FL_REAL cp = (FL_REAL)((a + bb * wsum) / S);
        FL_REAL bf = (FL_REAL)bb;
        if (cw) {
#pragma omp simd
            for (int64_t k = 0; k < c; k++) g[k] = cp * g[k] - bf * (FL_REAL)cw[k];
        } else {
#pragma omp simd
            for (int64_t k = 0; k < c; k++) g[k] = cp * g[k] - bf;
        }
        g[y] -= (FL_REAL)a;
    }
    return s * row;
}

/* An ignored row: loss, gradient and Hessian 0. */
static inline void FL_FN(ce_row_ignored)(FL_REAL *g, FL_REAL *restrict h, int64_t c,
                                         FL_REAL *loss_i) {
    if (loss_i) *loss_i = 0;
    if (g)
        for (int64_t k = 0; k < c; k++) g[k] = 0;
    if (h)
        for (int64_t k = 0; k < c; k++) h[k] = 0;
}

/* Many classes: one row at a time, each pass a vector loop over the row. Everything the row
 * needs from the logits (max, x_y, smoothing gap) is read before the exponentials are written
 * into g, so g may be the logits (in place). */
static inline __attribute__((always_inline)) double FL_FN(ce_index_rows)(
    int64_t lo, int64_t hi, int64_t c, const FL_REAL *logits, const int64_t *restrict labels,
    const FL_REAL *restrict sw, const double *cw, int64_t ignore_index, double eps,
    double inv_t, double wsum, double scale, FL_REAL *restrict loss, FL_REAL *grad,
    FL_REAL *restrict hess, double hess_floor) {
    const FL_REAL it = (FL_REAL)inv_t;
    double acc = 0.0;
    for (int64_t i = lo; i < hi; i++) {
        const FL_REAL *z = logits + i * c;
        FL_REAL *g = grad ? grad + i * c : NULL;
        FL_REAL *restrict h = hess ? hess + i * c : NULL;
        int64_t y = labels[i];
        if (y == ignore_index) {
            FL_FN(ce_row_ignored)(g, h, c, loss ? loss + i : NULL);
            continue;
        }
        double s = sw ? (double)sw[i] : 1.0;
        FL_REAL m = FL_FN(row_max)(z, c, it);
        FL_REAL xy = z[y] * it;
        double gap = eps > 0.0 ? FL_FN(row_wgap)(z, c, it, m, cw) : 0.0;
        double S = FL_FN(row_expsum)(z, c, it, m, g);
        acc += FL_FN(ce_row_end)(g, c, y, s, cw, wsum, eps, scale, inv_t, m, xy, gap, S, log(S),
                                 loss ? loss + i : NULL, h, hess_floor);
    }
    return acc;
}

/* Few classes: per-row vector loops would be mostly prologue, epilogue and one vector exp call
 * per row. Below FL_CE_SMALL_C classes a tile of up to FL_CE_TILE rows is transposed into a
 * small class-major buffer (one vector lane per row), so that every step - the row maxima, the
 * exponentials, the row sums, the logs, the gradients - is a vector loop across rows. The
 * tile's row count is padded to a multiple of FL_CE_PAD with harmless rows, so no row ever
 * falls into a loop's scalar tail: a row's bits do not depend on the rows around it (a
 * vectorised exp or log and the scalar one round differently). The logits are read into the
 * tile before any gradient is written, so the gradient may be the logits (in place). */
#ifndef FL_CE_SMALL_C
#define FL_CE_SMALL_C 32
#define FL_CE_TILE 64
#define FL_CE_PAD 16
#endif
static inline __attribute__((always_inline)) double FL_FN(ce_index_small)(
    int64_t lo, int64_t hi, int64_t c, const FL_REAL *logits, const int64_t *restrict labels,
    const FL_REAL *restrict sw, const double *cw, int64_t ignore_index, double eps,
    double inv_t, double wsum, double scale, FL_REAL *restrict loss, FL_REAL *grad,
    FL_REAL *restrict hess, double hess_floor) {
    FL_REAL xt[FL_CE_SMALL_C * FL_CE_TILE], et[FL_CE_SMALL_C * FL_CE_TILE];
    FL_REAL m[FL_CE_TILE], xy[FL_CE_TILE], cp[FL_CE_TILE], bf[FL_CE_TILE], ay[FL_CE_TILE];
    FL_REAL is[FL_CE_TILE], hu[FL_CE_TILE], hs[FL_CE_TILE];
    double S[FL_CE_TILE], logS[FL_CE_TILE], gap[FL_CE_TILE];
    int64_t yv[FL_CE_TILE];
    const FL_REAL it = (FL_REAL)inv_t;
    const double keep = 1.0 - eps, spread = eps / (double)c;
    const FL_REAL fl = (FL_REAL)hess_floor;
    double acc = 0.0;
    for (int64_t r0 = lo; r0 < hi; r0 += FL_CE_TILE) {
        const int64_t nr = hi - r0 < FL_CE_TILE ? hi - r0 : FL_CE_TILE;
        const int64_t np = (nr + FL_CE_PAD - 1) / FL_CE_PAD * FL_CE_PAD;
        const FL_REAL *z = logits + r0 * c;
        /* transpose x = z / T into the tile; padding rows read 0 */
        for (int64_t i = 0; i < nr; i++)
            for (int64_t k = 0; k < c; k++) xt[k * np + i] = z[i * c + k] * it;
        for (int64_t k = 0; k < c; k++)
            for (int64_t i = nr; i < np; i++) xt[k * np + i] = 0;
#pragma omp simd
        for (int64_t i = 0; i < np; i++) m[i] = -INFINITY;
        for (int64_t k = 0; k < c; k++) {
            const FL_REAL *xk = xt + k * np;
#pragma omp simd
            for (int64_t i = 0; i < np; i++) m[i] = xk[i] > m[i] ? xk[i] : m[i];
        }
        for (int64_t i = 0; i < np; i++) {
            int64_t y = i < nr ? labels[r0 + i] : ignore_index;
            yv[i] = y;
            xy[i] = y == ignore_index ? m[i] : xt[y * np + i];
        }
#pragma omp simd
        for (int64_t i = 0; i < np; i++) {
            S[i] = 0.0;
            gap[i] = 0.0;
        }
        for (int64_t k = 0; k < c; k++) {
            const FL_REAL *xk = xt + k * np;
            FL_REAL *ek = et + k * np;
            const double wk = cw ? cw[k] : 1.0;
            /* two loops: with the double sums in it, the exp loop would run at the doubles'
             * vector width, for which there is no vector expf, and fall back to scalar calls */
#pragma omp simd
            for (int64_t i = 0; i < np; i++) ek[i] = FL_EXP(xk[i] - m[i]);
#pragma omp simd
            for (int64_t i = 0; i < np; i++) {
                S[i] += (double)ek[i];
                gap[i] += wk * ((double)m[i] - (double)xk[i]); /* >= 0: see row_wgap */
            }
        }
#pragma omp simd
        for (int64_t i = 0; i < np; i++) logS[i] = log(S[i]);
        /* per row: the loss and the gradient's coefficients (see ce_row_end) */
        for (int64_t i = 0; i < nr; i++) {
            int64_t y = yv[i];
            if (y == ignore_index) {
                if (loss) loss[r0 + i] = 0;
                cp[i] = bf[i] = ay[i] = is[i] = hu[i] = hs[i] = 0;
                continue;
            }
            double s = sw ? (double)sw[r0 + i] : 1.0;
            double wy = cw ? cw[y] : 1.0;
            double nll = ((double)m[i] - (double)xy[i]) + logS[i];
            double smooth = eps > 0.0 ? wsum * logS[i] + gap[i] : 0.0;
            double row = keep * wy * nll + spread * smooth;
            if (loss) loss[r0 + i] = (FL_REAL)(s * row);
            acc += s * row;
            double a = s * wy * keep * scale * inv_t;
            double bb = s * spread * scale * inv_t;
            cp[i] = (FL_REAL)((a + bb * wsum) / S[i]);
            bf[i] = (FL_REAL)bb;
            ay[i] = (FL_REAL)a;
            is[i] = (FL_REAL)(1.0 / S[i]);
            hu[i] = (FL_REAL)((keep * wy + spread * wsum) * inv_t * inv_t);
            hs[i] = (FL_REAL)(s * scale);
        }
        if (hess) { /* B p_k (1 - p_k) / T^2, floored, times the weight (ce_row_hess) */
            FL_REAL *h = hess + r0 * c;
            for (int64_t k = 0; k < c; k++) {
                const FL_REAL *ek = et + k * np;
                FL_REAL *hk = xt + k * np; /* the tile's logits are no longer needed */
#pragma omp simd
                for (int64_t i = 0; i < np; i++) {
                    FL_REAL pk = ek[i] * is[i];
                    FL_REAL hv = hu[i] * pk * ((FL_REAL)1 - pk);
                    hv = hv < fl ? fl : hv; /* NaN kept */
                    hk[i] = hs[i] * hv;
                }
            }
            for (int64_t i = 0; i < nr; i++)
                for (int64_t k = 0; k < c; k++)
                    h[i * c + k] = yv[i] == ignore_index ? (FL_REAL)0 : xt[k * np + i];
        }
        if (grad) {
            FL_REAL *g = grad + r0 * c;
            for (int64_t k = 0; k < c; k++) {
                FL_REAL *ek = et + k * np;
                const FL_REAL wk = cw ? (FL_REAL)cw[k] : (FL_REAL)1;
#pragma omp simd
                for (int64_t i = 0; i < np; i++) {
                    FL_REAL gv = cp[i] * ek[i] - bf[i] * wk;
                    gv = yv[i] == k ? gv - ay[i] : gv;
                    ek[i] = yv[i] == ignore_index ? (FL_REAL)0 : gv; /* 0, not 0 * NaN */
                }
            }
            for (int64_t i = 0; i < nr; i++)
                for (int64_t k = 0; k < c; k++) g[i * c + k] = et[k * np + i];
        }
    }
    return acc;
}

/* The logits may be the gradient buffer itself (an in-place gradient): no restrict between
 * them, and every row reads what it needs from the logits before writing the gradient. */
FL_TARGET_CLONES
int FL_FN(fl_ce_index)(int64_t n, int64_t c, const FL_REAL *logits,
                       const int64_t *restrict labels, const FL_REAL *restrict sw,
                       const double *restrict cw, int64_t ignore_index, double eps, double inv_t,
                       int reduction, FL_REAL *restrict loss, FL_REAL *grad,
                       FL_REAL *restrict hess, double hess_floor, double *value, int64_t *bad,
                       int n_threads) {
    if (hess && !grad) return FL_ERR_ARG; /* the exponentials are parked in grad */
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
    FL_FOR_BLOCKS(nt, nb, b, {
        int64_t lo = b * rows_per_block;
        int64_t hi = lo + rows_per_block < n ? lo + rows_per_block : n;
        part[b] = c < FL_CE_SMALL_C
                      ? FL_FN(ce_index_small)(lo, hi, c, logits, labels, sw, cw, ignore_index,
                                              eps, inv_t, wsum, scale, loss, grad, hess,
                                              hess_floor)
                      : FL_FN(ce_index_rows)(lo, hi, c, logits, labels, sw, cw, ignore_index,
                                             eps, inv_t, wsum, scale, loss, grad, hess,
                                             hess_floor);
    })
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
                               const FL_REAL *logits, const int64_t *restrict labels,
                               const FL_REAL *restrict sw, const double *restrict cw,
                               int64_t ignore_index, double eps, double inv_t, int reduction,
                               FL_REAL *restrict loss, FL_REAL *grad,
                               FL_REAL *restrict hess, double hess_floor, double *value,
                               int64_t *bad, int n_threads) {
    if (hess && !grad) return FL_ERR_ARG; /* the exponentials are parked in grad */
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
        FL_REAL m[FL_CE_CHUNK], xy[FL_CE_CHUNK];
        double S[FL_CE_CHUNK], wx[FL_CE_CHUNK], a[FL_CE_CHUNK], b[FL_CE_CHUNK];
        double hu[FL_CE_CHUNK], hs[FL_CE_CHUNK]; /* ce_row_hess's u and hs per position */
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
        /* x_y, read before the exponentials are written (g may be the logits: in place) */
        for (int64_t i = 0; i < len; i++)
            xy[i] = y[i] == ignore_index ? m[i] : x[y[i] * inner + i] * it;
        for (int64_t k = 0; k < c; k++) {
            const FL_REAL *xk = x + k * inner;
            const double wk = cw ? cw[k] : 1.0;
            FL_REAL *gk = g ? g + k * inner : NULL;
            /* gk may be xk (in place): each element is read before it is written, which omp
             * simd asserts, so the loop is vectorised rather than versioned for aliasing (a
             * scalar exp would round differently from the vector one) */
#pragma omp simd
            for (int64_t i = 0; i < len; i++) {
                FL_REAL xi = xk[i] * it; /* read once, before gk[i] (maybe xk[i]) is written */
                FL_REAL e = FL_EXP(xi - m[i]);
                S[i] += (double)e;
                wx[i] += wk * ((double)m[i] - (double)xi); /* >= 0: see row_wgap */
                if (gk) gk[i] = e;
            }
        }
        double acc = 0.0;
        for (int64_t i = 0; i < len; i++) {
            int64_t yi = y[i];
            kept[i] = yi != ignore_index;
            if (!kept[i]) {
                a[i] = b[i] = hu[i] = hs[i] = 0.0;
                if (loss) loss[o * inner + lo + i] = 0;
                continue;
            }
            double s = sw ? (double)sw[o * inner + lo + i] : 1.0;
            double wy = cw ? cw[yi] : 1.0;
            double logS = log(S[i]);
            double nll = ((double)m[i] - (double)xy[i]) + logS;
            double smooth = eps > 0.0 ? wsum * logS + wx[i] : 0.0;
            double row = keep * wy * nll + spread * smooth;
            if (loss) loss[o * inner + lo + i] = (FL_REAL)(s * row);
            acc += s * row;
            a[i] = s * wy * keep * scale * inv_t;
            b[i] = s * spread * scale * inv_t;
            hu[i] = (keep * wy + spread * wsum) * inv_t * inv_t;
            hs[i] = s * scale;
        }
        part[u] = acc;
        if (!g) continue;
        if (hess) { /* ce_row_hess position by position, before g's exponentials change */
            FL_REAL *h = hess + o * c * inner + lo;
            const FL_REAL fl = (FL_REAL)hess_floor;
            for (int64_t k = 0; k < c; k++) {
                const FL_REAL *gk = g + k * inner;
                FL_REAL *hk = h + k * inner;
                for (int64_t i = 0; i < len; i++) {
                    FL_REAL pk = gk[i] / (FL_REAL)S[i];
                    FL_REAL hv = (FL_REAL)hu[i] * pk * ((FL_REAL)1 - pk);
                    hv = hv < fl ? fl : hv;
                    hk[i] = kept[i] ? (FL_REAL)hs[i] * hv : (FL_REAL)0;
                }
            }
        }
        /* g holds exp(x - m); the gradient of a position is
         * (a + b W) p_k - b w_k - a [k == y], and 0 where the label is ignored */
        for (int64_t i = 0; i < len; i++) S[i] = (a[i] + b[i] * wsum) / S[i];
        for (int64_t k = 0; k < c; k++) {
            FL_REAL *gk = g + k * inner;
            const double wk = cw ? cw[k] : 1.0;
#pragma omp simd
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

/* A = sum_k w_k t'_k (m - x_k) and B = sum_k w_k t'_k for one row of soft targets (every term
 * of A is >= 0: no cancellation at huge logits); has_cw is a constant at each call site so the
 * loop has no test on cw and vectorises. */
static inline __attribute__((always_inline)) void FL_FN(ce_prob_ab)(
    const FL_REAL *z, const FL_REAL *restrict t, const double *restrict cw, int64_t c,
    FL_REAL it, FL_REAL m, double keep, double spread, double *out, const int has_cw) {
    double A = 0.0, B = 0.0;
#pragma omp simd reduction(+ : A, B)
    for (int64_t k = 0; k < c; k++) {
        double wt = (has_cw ? cw[k] : 1.0) * (keep * (double)t[k] + spread);
        /* 0 * x_k is 0 even when x_k = -inf would make it NaN: a class with no target mass
         * contributes nothing, as 0 log 0 = 0 demands. */
        A += wt != 0.0 ? wt * ((double)m - (double)(z[k] * it)) : 0.0;
        B += wt;
    }
    out[0] = A;
    out[1] = B;
}

/* Class-probability targets (same shape as the logits), torch semantics: with
 * t'_k = (1 - eps) t_k + eps / c, a row's loss is -sum_k w_k t'_k log p_k = B log S + A with
 * A = sum_k w_k t'_k (m - x_k) and B = sum_k w_k t'_k; its gradient w.r.t. x_k is
 * B p_k - w_k t'_k, the diagonal of its Hessian B p_k (1 - p_k) (ce_row_hess).
 * 'mean' divides by the number of rows (the summed sample weights), not by class weights. */
/* One block of rows of fl_ce_prob; z may be g (an in-place gradient): A and B are read before
 * the exponentials are written. */
static inline __attribute__((always_inline)) double FL_FN(ce_prob_rows)(
    int64_t lo, int64_t hi, int64_t c, const FL_REAL *logits, const FL_REAL *restrict target,
    const FL_REAL *restrict sw, const double *restrict cw, double keep, double spread,
    double inv_t, double scale, FL_REAL *restrict loss, FL_REAL *grad, FL_REAL *restrict hess,
    double hess_floor) {
    const FL_REAL it = (FL_REAL)inv_t;
    double acc = 0.0;
    for (int64_t i = lo; i < hi; i++) {
        const FL_REAL *z = logits + i * c;
        const FL_REAL *restrict t = target + i * c;
        FL_REAL *g = grad ? grad + i * c : NULL;
        double s = sw ? (double)sw[i] : 1.0;
        FL_REAL m = FL_FN(row_max)(z, c, it);
        double AB[2];
        if (cw)
            FL_FN(ce_prob_ab)(z, t, cw, c, it, m, keep, spread, AB, 1);
        else
            FL_FN(ce_prob_ab)(z, t, cw, c, it, m, keep, spread, AB, 0);
        double A = AB[0], B = AB[1];
        double S = FL_FN(row_expsum)(z, c, it, m, g);
        double row = B * log(S) + A; /* B lse - sum w t' x = B log S + sum w t' (m - x) */
        if (loss) loss[i] = (FL_REAL)(s * row);
        acc += s * row;
        if (hess) FL_FN(ce_row_hess)(g, hess + i * c, c, S, B * inv_t * inv_t, s * scale, hess_floor);
        if (g) {
            double f = s * scale * inv_t;
            FL_REAL cp = (FL_REAL)(f * B / S);
            FL_REAL fk = (FL_REAL)(f * keep), fs = (FL_REAL)(f * spread);
            if (cw) {
#pragma omp simd
                for (int64_t k = 0; k < c; k++)
                    g[k] = cp * g[k] - (FL_REAL)cw[k] * (fk * t[k] + fs);
            } else {
#pragma omp simd
                for (int64_t k = 0; k < c; k++) g[k] = cp * g[k] - (fk * t[k] + fs);
            }
        }
    }
    return acc;
}

FL_TARGET_CLONES
int FL_FN(fl_ce_prob)(int64_t n, int64_t c, const FL_REAL *logits,
                      const FL_REAL *restrict target, const FL_REAL *restrict sw,
                      const double *restrict cw, double eps, double inv_t, int reduction,
                      FL_REAL *restrict loss, FL_REAL *grad, FL_REAL *restrict hess,
                      double hess_floor, double *value, int n_threads) {
    if (hess && !grad) return FL_ERR_ARG; /* the exponentials are parked in grad */
    double scale = FL_FN(row_mean_scale)(n, sw, reduction);
    int64_t rows_per_block = FL_FN(rows_per_block)(c);
    int64_t nb = (n + rows_per_block - 1) / rows_per_block;
    fl_partials ps;
    double *part = fl_partials_get(&ps, nb);
    if (!part) return FL_ERR_NOMEM;
    int nt = fl_threads_for(n_threads, n * c, nb);
    const double keep = 1.0 - eps, spread = eps / (double)c;
    FL_FOR_BLOCKS(nt, nb, b, {
        int64_t lo = b * rows_per_block;
        int64_t hi = lo + rows_per_block < n ? lo + rows_per_block : n;
        part[b] = FL_FN(ce_prob_rows)(lo, hi, c, logits, target, sw, cw, keep, spread, inv_t,
                                      scale, loss, grad, hess, hess_floor);
    })
    *value = fl_sum_ordered(part, nb) * scale;
    fl_partials_free(&ps);
    return FL_OK;
}

/* ------------------------------------------------ softmax utilities, multi-margin, distillation */

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
 * omp simd reduction so it vectorises; p and want_g are constants at each call site. */
static inline __attribute__((always_inline)) void FL_FN(mm_row)(
    const FL_REAL *restrict xi, FL_REAL *restrict g, int64_t c, int64_t y, double base,
    double gcoef, const int p, double *sum_out, double *gy_out, const int want_g) {
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
            /* p and want_g constant at each call: with p a run-time value GCC vectorised
             * neither loop and ran the scalar one (4.5 ns per element) */
            if (g && p == 1)
                FL_FN(mm_row)(xi, g, c, y, base, gcoef, 1, &sum, &gy, 1);
            else if (g)
                FL_FN(mm_row)(xi, g, c, y, base, gcoef, 2, &sum, &gy, 1);
            else if (p == 1)
                FL_FN(mm_row)(xi, g, c, y, base, gcoef, 1, &sum, &gy, 0);
            else
                FL_FN(mm_row)(xi, g, c, y, base, gcoef, 2, &sum, &gy, 0);
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
 * are recomputed in the gradient pass (see distill_grad), like the teacher's and (when T != 1)
 * the student's at T = 1.
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
    const FL_REAL *s, const FL_REAL *restrict u, const FL_REAL *restrict t,
    int64_t c, FL_REAL it, FL_REAL ms, FL_REAL mt, FL_REAL m1, double *out, const int has_t,
    const int t_is_one) {
    double Ss = 0.0, S1 = 0.0, St = 0.0, A = 0.0, B = 0.0, Tz = 0.0;
#pragma omp simd reduction(+ : Ss, S1, St, A, B, Tz)
    for (int64_t k = 0; k < c; k++) {
        /* the shifted exponents log q_k + log S_s and log p_k + log S_t, as fed to exp */
        FL_REAL sk = s[k]; /* read once, before g[k] is written */
        FL_REAL xs = sk * it - ms, xt = u[k] * it - mt;
        FL_REAL es = FL_EXP(xs);
        FL_REAL e1 = t_is_one ? es : FL_EXP(sk - m1);
        FL_REAL et = FL_EXP(xt);
        Ss += (double)es;
        S1 += (double)e1;
        St += (double)et;
        A += et != 0 ? (double)et * ((double)xt - (double)xs) : 0.0;
        if (has_t) {
            double tk = (double)t[k];
            B += tk;
            Tz += tk != 0 ? tk * ((double)sk - (double)m1) : 0.0;
        }
    }
    out[0] = Ss, out[1] = S1, out[2] = St, out[3] = A, out[4] = B, out[5] = Tz;
}

/* Gradient: every exponential is recomputed from the logits (none is parked in g between the
 * passes), each element read before its gradient is written, so g may be the student's own row
 * (an in-place gradient) with the same bits. Parking exp(x_s - m_s) would save one exp per
 * element, about 4 % of the time at (4096, 1000), and cost that equality. */
static inline __attribute__((always_inline)) void FL_FN(distill_grad)(
    const FL_REAL *s, const FL_REAL *restrict u, const FL_REAL *restrict t,
    FL_REAL *g, int64_t c, int64_t y, FL_REAL it, FL_REAL ms, FL_REAL mt, FL_REAL m1, double rq,
    double rp, double r1, double a_ce, const int has_t, const int t_is_one) {
#pragma omp simd
    for (int64_t k = 0; k < c; k++) {
        FL_REAL sk = s[k];
        double es = (double)FL_EXP(sk * it - ms);
        double et = (double)FL_EXP(u[k] * it - mt);
        double e1 = t_is_one ? es : (double)FL_EXP(sk - m1);
        double gk = rq * es - rp * et + r1 * e1;
        gk -= has_t ? a_ce * (double)t[k] : (k == y ? a_ce : 0.0);
        g[k] = (FL_REAL)gk;
    }
}

FL_TARGET_CLONES
int FL_FN(fl_distill)(int64_t n, int64_t c, const FL_REAL *zs,
                      const FL_REAL *restrict zt, const int64_t *restrict labels,
                      const FL_REAL *restrict target, const FL_REAL *restrict sw,
                      double temperature, double alpha, int reduction, FL_REAL *restrict loss,
                      FL_REAL *grad, double *value, int64_t *bad, int n_threads) {
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
            const FL_REAL *s = zs + i * c;
            const FL_REAL *restrict u = zt + i * c;
            const FL_REAL *restrict t = target ? target + i * c : NULL;
            FL_REAL *g = grad ? grad + i * c : NULL;
            double w = sw ? (double)sw[i] : 1.0;
            FL_REAL m1 = FL_FN(row_max)(s, c, (FL_REAL)1);
            FL_REAL ms = m1 * it; /* = row_max(s, c, it) */
            FL_REAL mt = FL_FN(row_max)(u, c, it);
            double st[6];
            switch ((t ? 2 : 0) | t_is_one) {
#define FL_DSTATS(K)                                                                            \
    case K:                                                                                     \
        FL_FN(distill_stats)(s, u, t, c, it, ms, mt, m1, st, (K) & 2, (K) & 1);                 \
        break;
                FL_DSTATS(0) FL_DSTATS(1) FL_DSTATS(2) FL_DSTATS(3)
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
        FL_FN(distill_grad)(s, u, t, g, c, y, it, ms, mt, m1, rq, rp, r1, a_ce, (K) & 2,         \
                            (K) & 1);                                                           \
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

/* ------------------------------------------------------------------------------ KL divergence */

/* KL divergence, torch.nn.functional.kl_div's pointwise term, target t (or log t) against the
 * prediction q (or log q). xlogy gives 0 log 0 = 0; the gradient is w.r.t. x as given.
 * Probabilities (q without log_pred, t without log_target) must be >= 0 (kl_check; NaN passes):
 * a negative one would give NaN, and is most often a log-probability passed without the flag. */
static inline int FL_FN(kl_check_q)(FL_REAL x, FL_REAL y, const fl_params *p) {
    return x < 0 ? FL_EW_BAD_X : 0;
}
static inline int FL_FN(kl_check_t)(FL_REAL x, FL_REAL y, const fl_params *p) {
    return y < 0 ? FL_EW_BAD_Y : 0;
}
static inline int FL_FN(kl_check_qt)(FL_REAL x, FL_REAL y, const fl_params *p) {
    return FL_FN(kl_check_q)(x, y, p) | FL_FN(kl_check_t)(x, y, p);
}

FL_POINT_FN void FL_FN(kl_logq_t_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                          FL_REAL *g) {
    *l = FL_XLOGY(y, y) - y * x;
    *g = -y;
}
FL_ELEMENTWISE_CHECKED_KERNEL(fl_kl_logq_t, FL_FN(kl_logq_t_point), FL_FN(kl_check_t))

FL_POINT_FN void FL_FN(kl_logq_logt_point)(FL_REAL x, FL_REAL y, const fl_params *p,
                                             FL_REAL *l, FL_REAL *g) {
    FL_REAL t = FL_EXP(y);
    *l = t * (y - x);
    *g = -t;
}
FL_ELEMENTWISE_KERNEL(fl_kl_logq_logt, FL_FN(kl_logq_logt_point))

/* Probabilities q as given: t (log t - log q); d/dq = -t / q, 0 where t = 0. */
FL_POINT_FN void FL_FN(kl_q_t_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                       FL_REAL *g) {
    *l = FL_XLOGY(y, y) - FL_XLOGY(y, x);
    *g = y == 0 ? (FL_REAL)0 : -y / x;
}
FL_ELEMENTWISE_CHECKED_KERNEL(fl_kl_q_t, FL_FN(kl_q_t_point), FL_FN(kl_check_qt))

FL_POINT_FN void FL_FN(kl_q_logt_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                          FL_REAL *g) {
    FL_REAL t = FL_EXP(y);
    *l = t == 0 ? (FL_REAL)0 : t * (y - FL_LOG(x));
    *g = t == 0 ? (FL_REAL)0 : -t / x;
}
FL_ELEMENTWISE_CHECKED_KERNEL(fl_kl_q_logt, FL_FN(kl_q_logt_point), FL_FN(kl_check_q))
