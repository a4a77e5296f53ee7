/* Regression losses for one FL_REAL; included by regression.c once per type: mse, mae, rmse,
 * msle, huber, smooth_l1, log_cosh. Every point function writes the per-element loss l and its
 * derivative g w.r.t. x; the drivers (elementwise.h) apply sample weights, reductions and the
 * ordered sums. NaN inputs give NaN outputs: no branch below turns a NaN into a number
 * (comparisons with NaN are false, and each branch is arranged so that the false side carries
 * the NaN). */

#include "sum_impl.h"

/* sign(d) with sign(0) = 0 (the subgradient torch's l1_loss uses) and NaN kept. */
static inline FL_REAL FL_FN(rb_sign)(FL_REAL d) {
    return d > 0 ? (FL_REAL)1 : (d < 0 ? (FL_REAL)-1 : d);
}

/* Squared error (torch mse_loss): d^2, derivative 2d. */
FL_POINT_FN void FL_FN(mse_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                    FL_REAL *g) {
    FL_REAL d = x - y;
    *l = d * d;
    *g = (FL_REAL)2 * d;
}
FL_ELEMENTWISE_KERNEL(fl_mse, FL_FN(mse_point))

/* Absolute error (torch l1_loss): |d|, subgradient sign(d), 0 at d = 0. */
FL_POINT_FN void FL_FN(mae_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                    FL_REAL *g) {
    FL_REAL d = x - y;
    *l = FL_FABS(d);
    *g = FL_FN(rb_sign)(d);
}
FL_ELEMENTWISE_KERNEL(fl_mae, FL_FN(mae_point))

/* Root of the reduced squared error: r = sqrt(m), m the (weighted) 'sum' or 'mean' of d^2.
 * dr/dx = dm/dx / (2 r); the mse pass writes dm/dx, a second pass over the gradient alone scales
 * it. At m = 0 the derivative is defined as 0 (the subgradient of the norm at 0) so it stays
 * finite; NaN stays NaN. FL_NONE is rejected by the caller (sqrt does not commute with sum). */
FL_TARGET_CLONES
int FL_FN(fl_rmse)(int64_t n, const FL_REAL *restrict x, const FL_REAL *restrict y,
                   const FL_REAL *restrict sw, const fl_params *prm, int reduction,
                   double denom_scale, FL_REAL *restrict loss, FL_REAL *restrict grad,
                   double *value, int n_threads) {
    double m = 0.0;
    int rc = FL_FN(fl_mse)(n, x, y, sw, prm, reduction, denom_scale, NULL, grad, &m, n_threads);
    if (rc != FL_OK) return rc;
    double r = sqrt(m);
    *value = r;
    if (grad) {
        const FL_REAL f = (FL_REAL)(m == 0.0 ? 0.0 : 0.5 / r);
        int64_t nb = (n + FL_BLOCK - 1) / FL_BLOCK;
        int nt = fl_threads_for(n_threads, n, nb);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
        for (int64_t b = 0; b < nb; b++) {
            int64_t lo = b * FL_BLOCK, hi = lo + FL_BLOCK < n ? lo + FL_BLOCK : n;
            for (int64_t i = lo; i < hi; i++) grad[i] *= f;
        }
    }
    return FL_OK;
}

/* Squared log error (Keras MSLE without its clip; inputs > -1 checked by the caller):
 * a = log1p(x) - log1p(y), a^2, derivative 2a / (1 + x). */
FL_POINT_FN void FL_FN(msle_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                     FL_REAL *g) {
    FL_REAL a = FL_LOG1P(x) - FL_LOG1P(y);
    *l = a * a;
    *g = (FL_REAL)2 * a / ((FL_REAL)1 + x);
}
FL_ELEMENTWISE_KERNEL(fl_msle, FL_FN(msle_point))

/* Huber (torch.nn.functional.huber_loss): d = x - y; 0.5 d^2 inside |d| < delta, linear
 * delta (|d| - delta/2) outside; the gradient is d clipped to [-delta, delta] (NaN stays NaN). */
FL_POINT_FN void FL_FN(huber_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                      FL_REAL *g) {
    const FL_REAL delta = (FL_REAL)p->delta;
    FL_REAL d = x - y, ad = FL_FABS(d);
    *l = ad < delta ? (FL_REAL)0.5 * d * d : delta * (ad - (FL_REAL)0.5 * delta);
    *g = d > delta ? delta : (d < -delta ? -delta : d);
}
FL_ELEMENTWISE_KERNEL(fl_huber, FL_FN(huber_point))

/* Smooth L1 (torch smooth_l1_loss): 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta;
 * derivative d / beta clipped to [-1, 1]. beta = 0 is the L1 loss (torch dispatches to l1_loss),
 * with sign(d) as derivative. */
FL_POINT_FN void FL_FN(smooth_l1_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                          FL_REAL *g) {
    const FL_REAL beta = (FL_REAL)p->beta;
    FL_REAL d = x - y, ad = FL_FABS(d);
    if (beta == 0) {
        *l = ad;
        *g = FL_FN(rb_sign)(d);
        return;
    }
    *l = ad < beta ? (FL_REAL)0.5 * d * d / beta : ad - (FL_REAL)0.5 * beta;
    *g = d > beta ? (FL_REAL)1 : (d < -beta ? (FL_REAL)-1 : d / beta);
}
FL_ELEMENTWISE_KERNEL(fl_smooth_l1, FL_FN(smooth_l1_point))

/* log(cosh(d)), derivative tanh(d). cosh overflows for |d| > ~710 (double) / ~89 (float), so:
 *   |d| >= 1: log cosh d = |d| + log1p(exp(-2|d|)) - log 2   (exp argument <= -2, no overflow);
 *   |d| <  1: with m = expm1(|d|), cosh d - 1 = m^2 / (2 (1 + m)), so log cosh d =
 *             log1p(m^2 / (2 (1 + m))), which keeps full relative accuracy near 0 where the
 *             first form cancels (log cosh d ~ d^2/2);
 *   tanh |d| = -expm1(-2|d|) / (2 + expm1(-2|d|)), accurate near 0 as well.
 * Both forms are computed and one is selected, so the loop has no branch and vectorises. */
FL_POINT_FN void FL_FN(log_cosh_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                         FL_REAL *g) {
    FL_REAL d = x - y, ad = FL_FABS(d);
    FL_REAL m = FL_EXPM1(ad < 1 ? ad : (FL_REAL)1);
    FL_REAL near = FL_LOG1P(m * m / ((FL_REAL)2 * ((FL_REAL)1 + m)));
    FL_REAL far = ad + FL_LOG1P(FL_EXP((FL_REAL)-2 * ad)) - (FL_REAL)0.693147180559945309417232121458;
    *l = ad < 1 ? near : far;
    FL_REAL m2 = FL_EXPM1((FL_REAL)-2 * ad);
    FL_REAL th = -m2 / ((FL_REAL)2 + m2);
    *g = d < 0 ? -th : th;
}
FL_ELEMENTWISE_KERNEL(fl_log_cosh, FL_FN(log_cosh_point))

