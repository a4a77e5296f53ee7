/* Regression losses for one FL_REAL; included by regression.c once per type: mse, mae, rmse,
 * msle, huber, smooth_l1, log_cosh, the Tweedie deviances (poisson, gamma, tweedie), pinball,
 * poisson_nll and gaussian_nll. Every point function writes the per-element loss l, its
 * derivative g w.r.t. x and (all but rmse) its second derivative h, or the convention stated
 * where that is 0 or undefined; the drivers (elementwise.h) apply sample weights, reductions
 * and the ordered sums. NaN inputs give NaN outputs: no branch below turns a NaN into a number
 * (comparisons with NaN are false, and each branch is arranged so that the false side carries
 * the NaN). */

#include "sum_impl.h"

/* sign(d) with sign(0) = 0 (the subgradient torch's l1_loss uses) and NaN kept. */
static inline FL_REAL FL_FN(rb_sign)(FL_REAL d) {
    return d > 0 ? (FL_REAL)1 : (d < 0 ? (FL_REAL)-1 : d);
}

/* 1, or NaN where v is NaN: the constant Hessians of the losses with none (the second
 * derivative 0 or undefined) still carry a NaN input through. */
static inline FL_REAL FL_FN(rb_one)(FL_REAL v) {
    return v == v ? (FL_REAL)1 : v;
}

/* Squared error (torch mse_loss): d^2, derivative 2d, second derivative 2. */
FL_POINT_FN void FL_FN(mse_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                    FL_REAL *g, FL_REAL *h) {
    FL_REAL d = x - y;
    *l = d * d;
    *g = (FL_REAL)2 * d;
    *h = (FL_REAL)2 * FL_FN(rb_one)(d);
}
FL_ELEMENTWISE_HESS_KERNEL(fl_mse, FL_FN(mse_point))

/* Absolute error (torch l1_loss): |d|, subgradient sign(d), 0 at d = 0. The second derivative
 * is 0 (and undefined at 0); the Hessian is the constant 1, the convention of scikit-learn's
 * AbsoluteError and of XGBoost's and LightGBM's L1 objectives. */
FL_POINT_FN void FL_FN(mae_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                    FL_REAL *g, FL_REAL *h) {
    FL_REAL d = x - y;
    *l = FL_FABS(d);
    *g = FL_FN(rb_sign)(d);
    *h = FL_FN(rb_one)(d);
}
FL_ELEMENTWISE_HESS_KERNEL(fl_mae, FL_FN(mae_point))

/* Root of the reduced squared error: r = sqrt(m), m the (weighted) 'sum' or 'mean' of d^2.
 * dr/dx = dm/dx / (2 r); the mse pass writes dm/dx, a second pass over the gradient alone scales
 * it. At m = 0 the derivative is defined as 0 (the subgradient of the norm at 0) so it stays
 * finite; NaN stays NaN. FL_NONE is rejected by the caller (sqrt does not commute with sum). */
FL_TARGET_CLONES
int FL_FN(fl_rmse)(int64_t n, const FL_REAL *x, const FL_REAL *y, const FL_REAL *restrict sw,
                   const fl_params *prm, int reduction, double denom_scale,
                   FL_REAL *restrict loss, FL_REAL *grad, FL_REAL *restrict hess, double *value,
                   int64_t *bad, int n_threads) {
    if (hess) return FL_ERR_ARG; /* the root couples every element: no diagonal Hessian here */
    double m = 0.0;
    int rc = FL_FN(fl_mse)(n, x, y, sw, prm, reduction, denom_scale, NULL, grad, NULL, &m, bad,
                           n_threads);
    if (rc != FL_OK) return rc;
    double r = sqrt(m);
    *value = r;
    if (grad) {
        const FL_REAL f = (FL_REAL)(m == 0.0 ? 0.0 : 0.5 / r);
        int64_t nb = (n + FL_BLOCK - 1) / FL_BLOCK;
        int nt = fl_threads_for(n_threads, n, nb);
        if (nt <= 1) { /* no OpenMP runtime on one thread (elementwise.h) */
#pragma omp simd
            for (int64_t i = 0; i < n; i++) grad[i] *= f;
        } else {
#pragma omp parallel for num_threads(nt) schedule(static)
            for (int64_t b = 0; b < nb; b++) {
                int64_t lo = b * FL_BLOCK, hi = lo + FL_BLOCK < n ? lo + FL_BLOCK : n;
#pragma omp simd
                for (int64_t i = lo; i < hi; i++) grad[i] *= f;
            }
        }
    }
    return FL_OK;
}

/* Squared log error (Keras MSLE without its clip; pred and target > -1, checked here):
 * a = log1p(x) - log1p(y), a^2, derivative 2a / (1 + x), second derivative
 * 2 (1 - a) / (1 + x)^2 (negative where a > 1: the loss is not convex there). */
FL_POINT_FN void FL_FN(msle_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                     FL_REAL *g, FL_REAL *h) {
    FL_REAL a = FL_LOG1P(x) - FL_LOG1P(y);
    FL_REAL r = (FL_REAL)1 / ((FL_REAL)1 + x);
    *l = a * a;
    *g = (FL_REAL)2 * a * r;
    *h = (FL_REAL)2 * ((FL_REAL)1 - a) * r * r;
}
static inline int FL_FN(msle_check)(FL_REAL x, FL_REAL y, const fl_params *p) {
    return (x <= -1 ? FL_EW_BAD_X : 0) | (y <= -1 ? FL_EW_BAD_Y : 0);
}
FL_ELEMENTWISE_CHECKED_HESS_KERNEL(fl_msle, FL_FN(msle_point), FL_FN(msle_check))

/* Huber (torch.nn.functional.huber_loss): d = x - y; 0.5 d^2 inside |d| < delta, linear
 * delta (|d| - delta/2) outside; the gradient is d clipped to [-delta, delta] (NaN stays NaN).
 * Second derivative 1 inside, 0 on the linear part; at |d| = delta, where it jumps, 1 (the
 * quadratic side, as scikit-learn's HuberLoss). */
FL_POINT_FN void FL_FN(huber_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                      FL_REAL *g, FL_REAL *h) {
    const FL_REAL delta = (FL_REAL)p->delta;
    FL_REAL d = x - y, ad = FL_FABS(d);
    *l = ad < delta ? (FL_REAL)0.5 * d * d : delta * (ad - (FL_REAL)0.5 * delta);
    *g = d > delta ? delta : (d < -delta ? -delta : d);
    *h = ad <= delta ? (FL_REAL)1 : (ad > delta ? (FL_REAL)0 : ad);
}
FL_ELEMENTWISE_HESS_KERNEL(fl_huber, FL_FN(huber_point))

/* Smooth L1 (torch smooth_l1_loss): 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta;
 * derivative d / beta clipped to [-1, 1]. beta = 0 is the L1 loss (torch dispatches to l1_loss),
 * with sign(d) as derivative. Second derivative 1 / beta where |d| <= beta (the quadratic side
 * at the kink, as huber), else 0; for beta = 0 the constant 1 of mae. */
FL_POINT_FN void FL_FN(smooth_l1_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                          FL_REAL *g, FL_REAL *h) {
    const FL_REAL beta = (FL_REAL)p->beta;
    FL_REAL d = x - y, ad = FL_FABS(d);
    if (beta == 0) {
        *l = ad;
        *g = FL_FN(rb_sign)(d);
        *h = FL_FN(rb_one)(d);
        return;
    }
    *l = ad < beta ? (FL_REAL)0.5 * d * d / beta : ad - (FL_REAL)0.5 * beta;
    *g = d > beta ? (FL_REAL)1 : (d < -beta ? (FL_REAL)-1 : d / beta);
    *h = ad <= beta ? (FL_REAL)1 / beta : (ad > beta ? (FL_REAL)0 : ad);
}
FL_ELEMENTWISE_HESS_KERNEL(fl_smooth_l1, FL_FN(smooth_l1_point))

/* expm1(-a) for 0 <= a <= 0.7 by its Taylor series, -a sum_k (-a)^k / (k+1)!, cut where the
 * first dropped term is below half an ulp (9 terms in float, 16 in double; the unused one is
 * compiled away). A polynomial, not Kahan's exp/log correction: no call, no division. */
static inline FL_REAL FL_FN(rb_expm1_neg)(FL_REAL a) {
    static const double c[16] = {
        1.0, -0.5, 0.16666666666666666, -0.041666666666666664, 0.0083333333333333332,
        -0.0013888888888888889, 0.00019841269841269841, -2.4801587301587302e-05,
        2.7557319223985893e-06, -2.7557319223985888e-07, 2.505210838544172e-08,
        -2.08767569878681e-09, 1.6059043836821613e-10, -1.1470745597729725e-11,
        7.6471637318198164e-13, -4.7794773323873853e-14};
    const int terms = sizeof(FL_REAL) == 4 ? 9 : 16;
    FL_REAL p = (FL_REAL)c[terms - 1];
    for (int k = terms - 2; k >= 0; k--) p = p * a + (FL_REAL)c[k];
    return -a * p;
}

/* log(cosh(d)), derivative tanh(d), second derivative sech^2(d), from one exp, one log and two
 * divisions per element (the direct forms need cosh, which overflows for |d| > ~710 (double) /
 * ~89 (float), and lose the relative accuracy of log cosh d ~ d^2/2 near 0). With a = |d| and
 * w = exp(-a) in (0, 1]:
 *   v = expm1(-a): rb_expm1_neg below 0.7, else w - 1 (w >= 0.5 there: exact, and w's own
 *       rounding is not amplified);
 *   tanh a = (1 - w^2) / (1 + w^2) = -v (2 + v) r,  r = 1 / (1 + w^2)  (no cancellation);
 *   sech^2 a = 4 w^2 r^2  (underflows to 0 as the true value does);
 *   a <  1: cosh a - 1 = v^2 / (2 w), so log cosh a = log1p(v^2 / (2 w)), accurate near 0;
 *   a >= 1: log cosh a = a + log1p(w^2) - log 2  (the exp argument is <= -2: no overflow).
 * The two log1p share one evaluation (the argument z, in [0, 0.55], is selected first):
 * log1p(z) = log(u) + c / u with u = 1 + z rounded and c = z - (u - 1) its rounding error
 * (exact: Fast2Sum), and c / u taken as c (1 - z): the difference, c z^2 / (1 + z), is below
 * half an ulp of the result. The loop has no branch and vectorises. */
FL_POINT_FN void FL_FN(log_cosh_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                         FL_REAL *g, FL_REAL *h) {
    FL_REAL d = x - y, a = FL_FABS(d);
    FL_REAL w = FL_EXP(-a);
    FL_REAL v = a < (FL_REAL)0.7 ? FL_FN(rb_expm1_neg)(a) : w - (FL_REAL)1;
    FL_REAL w2 = w * w, r = (FL_REAL)1 / ((FL_REAL)1 + w2);
    FL_REAL z = a < 1 ? v * v / ((FL_REAL)2 * w) : w2;
    FL_REAL u = (FL_REAL)1 + z;
    FL_REAL L = FL_LOG(u) + (z - (u - (FL_REAL)1)) * ((FL_REAL)1 - z);
    /* a - log 2 added where a >= 1 by a 0/1 factor, not a second select on a < 1: GCC threads
     * two selects on one condition into two branches and then computes the log in both */
    FL_REAL far = (FL_REAL)(a >= 1);
    *l = L + far * (a - (FL_REAL)0.693147180559945309417232121458);
    FL_REAL th = -v * ((FL_REAL)2 + v) * r;
    *g = d < 0 ? -th : th;
    *h = (FL_REAL)4 * w2 * r * r;
}
FL_ELEMENTWISE_HESS_KERNEL(fl_log_cosh, FL_FN(log_cosh_point))


/* --------------------------------------------------------------- deviances on the log link */

/* Tweedie deviance with power p on the raw margin x (mean mu = exp(x)), the unit deviance of
 * scikit-learn's mean_tweedie_deviance (twice its HalfTweedieLoss). With a = 1 - p, b = 2 - p:
 *   d(y, mu) = 2 [max(y, 0)^b / (a b) - y mu^a / a + mu^b / b]
 *   dd/dx    = 2 [mu^b - y mu^a],        d2d/dx2 = 2 [b mu^b - a y mu^a]
 * p = 1 is the Poisson deviance 2 [y log(y / mu) - y + mu], p = 2 the Gamma deviance
 * 2 [log(mu / y) + y / mu - 1], p = 0 the squared error (y - mu)^2 (a, b = 0: mu^0 = 1).
 * For y > 0 the first form cancels near the perfect fit (each term ~ y log y, the sum ~ 0);
 * with r = log y - x (so mu = y e^-r) and a + 1 = b it is exactly
 *   d / 2 = y^b [expm1(-b r) / b - expm1(-a r) / a],
 * each quotient read as -r where its denominator is 0 (its limit), so the cancellation is only
 * in the leading -r of the two expm1 terms: relative error ~ eps / |r| instead of
 * eps log(y) / r^2. For y <= 0 (y = 0 for 1 <= p < 2, any y for p < 0) the first term is 0
 * (scikit-learn's max(y, 0)); p = 0 is the squared error (y - mu)^2 for any y.
 * Targets outside the domain are refused (tweedie_check: y >= 0 for 1 <= p < 2, y > 0 for
 * p >= 2, any y for p <= 0). Exponents overflow to inf where the true value does. */
FL_POINT_FN void FL_FN(tweedie_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                        FL_REAL *g, FL_REAL *h) {
    const FL_REAL a = (FL_REAL)(1.0 - p->power), b = (FL_REAL)(2.0 - p->power);
    FL_REAL mua = a != 0 ? FL_EXP(a * x) : (FL_REAL)1;
    FL_REAL mub = b != 0 ? FL_EXP(b * x) : (FL_REAL)1;
    FL_REAL ya = y != 0 ? y * mua : (FL_REAL)0; /* y mu^a; 0 at y = 0 even where mu^a = inf */
    *g = (FL_REAL)2 * (mub - ya);
    *h = (FL_REAL)2 * (b * mub - a * ya);
    FL_REAL ly = FL_LOG(y), r = ly - x;
    FL_REAL ta = a != 0 ? FL_EXPM1(-a * r) / a : -r;
    FL_REAL tb = b != 0 ? FL_EXPM1(-b * r) / b : -r;
    FL_REAL pos = (b != 0 ? FL_EXP(b * ly) : (FL_REAL)1) * (tb - ta);
    FL_REAL nonpos = (y != 0 ? -ya / a : (FL_REAL)0) + mub / b;
    FL_REAL lv = (FL_REAL)2 * (y > 0 ? pos : nonpos);
    FL_REAL dn = y - mua; /* p = 0 (a = 1): the squared error, for targets of either sign */
    lv = a == 1 ? dn * dn : lv;
    *l = x != x ? x : lv;
}
static inline int FL_FN(tweedie_check)(FL_REAL x, FL_REAL y, const fl_params *p) {
    const int from1 = p->power >= 1.0, from2 = p->power >= 2.0;
    return (from1 & ((y < 0) | (from2 & (y == 0)))) ? FL_EW_BAD_Y : 0;
}
FL_ELEMENTWISE_CHECKED_HESS_KERNEL(fl_tweedie, FL_FN(tweedie_point), FL_FN(tweedie_check))

/* Pinball (quantile) loss with quantile q, d = y - x: q d where d >= 0, (q - 1) d below
 * (scikit-learn's mean_pinball_loss and PinballLoss). Subgradient -q where d > 0, 1 - q where
 * d < 0 and 0 at d = 0 (as mae's). The second derivative is 0 (undefined at 0); the Hessian is
 * the constant 1, scikit-learn's PinballLoss and LightGBM's quantile objective convention. */
FL_POINT_FN void FL_FN(pinball_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                        FL_REAL *g, FL_REAL *h) {
    const FL_REAL q = (FL_REAL)p->quantile;
    FL_REAL d = y - x;
    *l = d >= 0 ? q * d : (q - (FL_REAL)1) * d;
    *g = d > 0 ? -q : (d < 0 ? (FL_REAL)1 - q : (FL_REAL)0 * d);
    *h = FL_FN(rb_one)(d);
}
FL_ELEMENTWISE_HESS_KERNEL(fl_pinball, FL_FN(pinball_point))

/* Poisson negative log-likelihood, torch.nn.functional.poisson_nll_loss:
 *   log_input: exp(x) - y x,          derivative exp(x) - y,         second exp(x)
 *   else:      x - y log(x + eps),    derivative 1 - y / (x + eps),  second y / (x + eps)^2
 * full adds Stirling's term y log y - y + log(2 pi y) / 2 where y > 1 (0 elsewhere), which does
 * not depend on x. Written as torch writes it, without rearranging, so both give the same
 * numbers: exp(x) overflows for x > ~88 (float) / ~709 (double) as torch's does. */
#define RB_HALF_LOG_2PI 0.918938533204672741780329736406
FL_POINT_FN void FL_FN(poisson_nll_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                            FL_REAL *g, FL_REAL *h) {
    FL_REAL lv, gv, hv;
    if (p->log_input) {
        FL_REAL e = FL_EXP(x);
        lv = e - y * x;
        gv = e - y;
        hv = e;
    } else {
        FL_REAL xe = x + (FL_REAL)p->eps, r = (FL_REAL)1 / xe;
        lv = x - y * FL_LOG(xe);
        gv = (FL_REAL)1 - y * r;
        hv = y * r * r;
    }
    if (p->full) {
        FL_REAL st = y * FL_LOG(y) - y + (FL_REAL)0.5 * FL_LOG((FL_REAL)6.283185307179586 * y);
        lv += y > 1 ? st : (FL_REAL)0;
    }
    *l = lv;
    *g = gv;
    *h = hv;
}
/* Rates (log_input off) must be >= 0. */
static inline int FL_FN(poisson_nll_check)(FL_REAL x, FL_REAL y, const fl_params *p) {
    return (!p->log_input & (x < 0)) ? FL_EW_BAD_X : 0;
}
FL_ELEMENTWISE_CHECKED_HESS_KERNEL(fl_poisson_nll, FL_FN(poisson_nll_point),
                                   FL_FN(poisson_nll_check))

/* Gaussian negative log-likelihood, torch.nn.functional.gaussian_nll_loss, with the variance
 * var = a * p->var: a broadcast factor a times a scalar (a NULL reads 1, so a scalar variance
 * takes the vectorised path without factor arrays). v = max(var, eps) (torch clamps a copy of
 * var), d = x - y:
 *   (log v + d^2 / v) / 2 [+ log(2 pi) / 2 when full],  derivative d / v,  second 1 / v. */
FL_POINT_FN void FL_FN(gaussian_nll_point)(FL_REAL x, FL_REAL y, FL_REAL a, FL_REAL unused,
                                             const fl_params *p, FL_REAL *l, FL_REAL *g,
                                             FL_REAL *h) {
    const FL_REAL eps = (FL_REAL)p->eps;
    FL_REAL var = a * (FL_REAL)p->var;
    FL_REAL v = var < eps ? eps : var; /* NaN kept */
    FL_REAL d = x - y, r = (FL_REAL)1 / v;
    *l = (FL_REAL)0.5 * (FL_LOG(v) + d * d * r) +
         (p->full ? (FL_REAL)RB_HALF_LOG_2PI : (FL_REAL)0);
    *g = d * r;
    *h = FL_FN(rb_one)(d) * r;
}
FL_ELEMENTWISE_AB_HESS_KERNEL(fl_gaussian_nll, FL_FN(gaussian_nll_point), fl_ew_no_check)
#undef RB_HALF_LOG_2PI
