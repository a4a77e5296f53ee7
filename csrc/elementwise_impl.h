/* Elementwise losses for one FL_REAL; included by elementwise.c once per type. */

#include "sum_impl.h"

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

/* Binary hinge max(0, 1 - t x), t = +1 for y > 0 and -1 otherwise (targets were validated to be
 * {-1, 1} or {0, 1}). Subgradient 0 at the kink t x = 1; a NaN margin stays NaN in both. */
FL_POINT_FN void FL_FN(hinge_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                      FL_REAL *g) {
    FL_REAL t = y > 0 ? (FL_REAL)1 : (FL_REAL)-1;
    FL_REAL mg = (FL_REAL)1 - t * x;
    *l = mg < 0 ? (FL_REAL)0 : mg;
    *g = mg > 0 ? -t : (mg <= 0 ? (FL_REAL)0 : mg);
}
FL_ELEMENTWISE_KERNEL(fl_hinge, FL_FN(hinge_point))

/* KL divergence, torch.nn.functional.kl_div's pointwise term, target t (or log t) against the
 * prediction q (or log q). xlogy gives 0 log 0 = 0; the gradient is w.r.t. x as given. */
FL_POINT_FN void FL_FN(kl_logq_t_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                          FL_REAL *g) {
    *l = FL_XLOGY(y, y) - y * x;
    *g = -y;
}
FL_ELEMENTWISE_KERNEL(fl_kl_logq_t, FL_FN(kl_logq_t_point))

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
FL_ELEMENTWISE_KERNEL(fl_kl_q_t, FL_FN(kl_q_t_point))

FL_POINT_FN void FL_FN(kl_q_logt_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                          FL_REAL *g) {
    FL_REAL t = FL_EXP(y);
    *l = t == 0 ? (FL_REAL)0 : t * (y - FL_LOG(x));
    *g = t == 0 ? (FL_REAL)0 : -t / x;
}
FL_ELEMENTWISE_KERNEL(fl_kl_q_logt, FL_FN(kl_q_logt_point))

/* Binary targets for hinge-type losses must be all in {-1, 1} or all in {0, 1}.
 * OUT bad: index of the first value outside {-1, 0, 1}, or of the first value that mixes -1 with
 * 0. Returns FL_OK or FL_ERR_TARGET. */
int FL_FN(fl_check_binary_targets)(int64_t n, const FL_REAL *restrict y, int64_t *bad) {
    /* One vectorised pass that only records whether anything is wrong; the exact offender is
     * looked up afterwards, on the error path only. */
    int any_bad = 0, any_neg = 0, any_zero = 0;
#pragma omp simd reduction(| : any_bad, any_neg, any_zero)
    for (int64_t i = 0; i < n; i++) {
        FL_REAL v = y[i];
        any_neg |= v == -1;
        any_zero |= v == 0;
        any_bad |= !(v == 1 || v == -1 || v == 0);
    }
    if (!any_bad && !(any_neg && any_zero)) return FL_OK;
    int64_t first_neg = -1, first_zero = -1;
    for (int64_t i = 0; i < n; i++) {
        FL_REAL v = y[i];
        if (v == 1) continue;
        if (v == -1) {
            if (first_neg < 0) first_neg = i;
        } else if (v == 0) {
            if (first_zero < 0) first_zero = i;
        } else {
            *bad = i;
            return FL_ERR_TARGET;
        }
        if (first_neg >= 0 && first_zero >= 0) {
            *bad = i;
            return FL_ERR_TARGET;
        }
    }
    return FL_OK;
}
