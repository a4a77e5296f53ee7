/* Binary-classification losses for one FL_REAL; included by binary.c once per type: hinge,
 * squared_hinge, binary cross-entropy on probabilities and on logits, focal, and the GAN
 * losses. Conventions as in regression_impl.h; domain checks (CHECK) as in elementwise.h. */

#include "sum_impl.h"

/* The logistic pieces of a logit x, shared by the value, the gradient and the Hessian of the
 * BCE-with-logits, focal and GAN losses: one exp, one log and one division per element.
 *   e = exp(-|x|) in (0, 1] (no overflow for any x), u = 1 + e, r = 1 / u, so that
 *   sigmoid(|x|) = r, sigmoid(-|x|) = e r, and
 *   L = log1p(e) = log(u) + c / u with c = e - (u - 1),
 * c being the rounding error of u (exact: u - 1 is exact for u in [1, 2] and the difference is
 * Fast2Sum's error term), so log(u) + c r is log(1 + e) up to (c / u)^2 ~ eps^2 on top of the
 * log's own error. This replaces a log1p whose correction needs a second division. Tiny e
 * (|x| beyond ~17 in float, ~37 in double) gives u = 1 and L = e exactly; x = +-inf gives e = 0
 * and L = 0; NaN gives NaN throughout. */
FL_POINT_FN void FL_FN(rb_logistic)(FL_REAL x, FL_REAL *e, FL_REAL *r, FL_REAL *L) {
    FL_REAL ev = FL_EXP(-FL_FABS(x));
    FL_REAL u = (FL_REAL)1 + ev, rv = (FL_REAL)1 / u;
    *e = ev;
    *r = rv;
    *L = FL_LOG(u) + (ev - (u - (FL_REAL)1)) * rv;
}

/* Targets in [0, 1] (BCE, focal): the probability of the positive class. */
static inline int FL_FN(rb_unit_target)(FL_REAL x, FL_REAL y, const fl_params *p) {
    return ((y < 0) | (y > 1)) ? FL_EW_BAD_Y : 0;
}
/* Probabilities in [0, 1] too (BCE on probabilities, focal with from_logits=False). */
static inline int FL_FN(rb_unit_both)(FL_REAL x, FL_REAL y, const fl_params *p) {
    return (((x < 0) | (x > 1)) ? FL_EW_BAD_X : 0) | FL_FN(rb_unit_target)(x, y, p);
}
/* Hinge targets: all in {-1, 1} or all in {0, 1} (0 read as -1). A value outside {-1, 0, 1}
 * fails here; -1 and 0 are reported, and the driver fails a mix of both anywhere. NaN passes
 * (y == y is false) and propagates through t. */
static inline int FL_FN(rb_hinge_target)(FL_REAL x, FL_REAL y, const fl_params *p) {
    int neg = y == -1, zero = y == 0;
    int bad = (y == y) & !((y == 1) | neg | zero);
    return (bad ? FL_EW_BAD_Y : 0) | (neg ? FL_EW_Y_NEG : 0) | (zero ? FL_EW_Y_ZERO : 0);
}
/* t = +1 for y > 0, -1 for y <= 0, NaN for NaN */
static inline FL_REAL FL_FN(rb_hinge_sign)(FL_REAL y) {
    return y > 0 ? (FL_REAL)1 : (y <= 0 ? (FL_REAL)-1 : y);
}

/* Binary hinge max(0, 1 - t x), t = +1 for y > 0 and -1 otherwise (targets checked: all in
 * {-1, 1} or all in {0, 1}). Subgradient 0 at the kink t x = 1; a NaN margin stays NaN in
 * both. */
FL_POINT_FN void FL_FN(hinge_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                      FL_REAL *g) {
    FL_REAL t = FL_FN(rb_hinge_sign)(y);
    FL_REAL mg = (FL_REAL)1 - t * x;
    *l = mg < 0 ? (FL_REAL)0 : mg;
    *g = mg > 0 ? -t : (mg <= 0 ? (FL_REAL)0 : mg);
}
FL_ELEMENTWISE_CHECKED_KERNEL(fl_hinge, FL_FN(hinge_point), FL_FN(rb_hinge_target))

/* Squared hinge max(0, 1 - t x)^2, t = +1 for y > 0 else -1 (targets checked as hinge's);
 * derivative -2 t max(0, 1 - t x), continuous at the kink. The second derivative, 2 inside the
 * margin and 0 beyond, jumps at the kink t x = 1: there it is taken as 0, the side where the
 * gradient vanishes too. */
FL_POINT_FN void FL_FN(squared_hinge_point)(FL_REAL x, FL_REAL y, const fl_params *p,
                                              FL_REAL *l, FL_REAL *g, FL_REAL *h) {
    FL_REAL t = FL_FN(rb_hinge_sign)(y);
    FL_REAL m = (FL_REAL)1 - t * x;
    FL_REAL mp = m > 0 ? m : (m <= 0 ? (FL_REAL)0 : m); /* max(m, 0), NaN kept */
    *l = mp * mp;
    *g = (FL_REAL)-2 * t * mp;
    *h = m > 0 ? (FL_REAL)2 : (m <= 0 ? (FL_REAL)0 : m);
}
FL_ELEMENTWISE_CHECKED_HESS_KERNEL(fl_squared_hinge, FL_FN(squared_hinge_point),
                                   FL_FN(rb_hinge_target))

/* Binary cross-entropy from probabilities, torch.nn.functional.binary_cross_entropy:
 *   l = -w [t max(log p, -100) + (1 - t) max(log(1 - p), -100)]
 * (torch clamps each log at -100 so p = 0 or 1 gives a finite loss). torch's backward does not
 * differentiate the clamp; it uses the unclamped derivative with the denominator clamped:
 *   g = w (p - t) / max(p (1 - p), 1e-12),
 * which is what we write too. a = torch's elementwise `weight` w; b unused. */
#define RB_BCE_LOG_MIN ((FL_REAL)-100)
#define RB_BCE_EPS ((FL_REAL)1e-12)
FL_POINT_FN void FL_FN(bce_point)(FL_REAL x, FL_REAL y, FL_REAL w, FL_REAL unused,
                                    const fl_params *p, FL_REAL *l, FL_REAL *g) {
    FL_REAL lp = FL_LOG(x), lq = FL_LOG1P(-x);
    lp = lp < RB_BCE_LOG_MIN ? RB_BCE_LOG_MIN : lp; /* NaN kept */
    lq = lq < RB_BCE_LOG_MIN ? RB_BCE_LOG_MIN : lq;
    *l = -w * (y * lp + ((FL_REAL)1 - y) * lq);
    FL_REAL den = x * ((FL_REAL)1 - x);
    den = den < RB_BCE_EPS ? RB_BCE_EPS : den;
    *g = w * (x - y) / den;
}
FL_ELEMENTWISE_AB_KERNEL(fl_bce, FL_FN(bce_point), FL_FN(rb_unit_both))

/* Binary cross-entropy on logits, torch binary_cross_entropy_with_logits with pos_weight P and
 * weight w, targets smoothed Keras-style t' = t (1 - eps) + eps / 2:
 *   l = w [P t' softplus(-x) + (1 - t') softplus(x)]          (-log s(x) = softplus(-x))
 *   g = w [(1 - t') s(x) - P t' s(-x)]
 *   h = w [(1 - t') + P t'] s(x) s(-x),   s(x) s(-x) = e / (1 + e)^2
 * Both softplus share L = log1p(exp(-|x|)) and both sigmoids share e = exp(-|x|) and
 * r = 1 / (1 + e) (rb_logistic): no overflow at any |x|, and the two loss terms are
 * non-negative, so there is no cancellation (the textbook (1 - t) x + softplus(-x) loses the
 * small loss of a confident correct logit). a = w, b = P. Targets in [0, 1] (checked). */
FL_POINT_FN void FL_FN(bce_logits_point)(FL_REAL x, FL_REAL y, FL_REAL w, FL_REAL pw,
                                           const fl_params *p, FL_REAL *l, FL_REAL *g,
                                           FL_REAL *h) {
    const FL_REAL eps = (FL_REAL)p->label_smoothing;
    FL_REAL t = eps != 0 ? y * ((FL_REAL)1 - eps) + (FL_REAL)0.5 * eps : y;
    FL_REAL e, r, L;
    FL_FN(rb_logistic)(x, &e, &r, &L);
    FL_REAL sp_pos = (x > 0 ? x : (FL_REAL)0) + L;  /* softplus(x), NaN through L */
    FL_REAL sp_neg = (x < 0 ? -x : (FL_REAL)0) + L; /* softplus(-x) */
    FL_REAL s_pos = x >= 0 ? r : e * r; /* sigmoid(x); NaN through e */
    FL_REAL s_neg = x >= 0 ? e * r : r; /* sigmoid(-x) */
    FL_REAL pt = pw * t, nt = (FL_REAL)1 - t;
    /* a term with a zero coefficient is 0, not 0 * inf: the limit at x = +-inf for hard targets */
    FL_REAL lv = (pt != 0 ? pt * sp_neg : (FL_REAL)0) + (nt != 0 ? nt * sp_pos : (FL_REAL)0);
    *l = w * (x != x ? x : lv); /* NaN logit: NaN even where both coefficients vanish */
    *g = w * (nt * s_pos - pt * s_neg);
    *h = w * (nt + pt) * (e * r * r);
}
FL_ELEMENTWISE_AB_HESS_KERNEL(fl_bce_logits, FL_FN(bce_logits_point), FL_FN(rb_unit_target))

/* Binary focal loss (Lin et al. 2017), general soft-target form with p the probability:
 *   l = a_pos t (1 - p)^gamma (-log p) + a_neg (1 - t) p^gamma (-log(1 - p)),
 * a_pos = alpha, a_neg = 1 - alpha (both 1 when alpha < 0, i.e. None). For hard targets this is
 * -alpha_t (1 - p_t)^gamma log p_t, torchvision's sigmoid_focal_loss.
 * From logits x (p = s(x), 1 - p = s(-x)), in log space: -log p = softplus(-x) =: A,
 * -log(1 - p) = softplus(x) =: B, (1 - p)^gamma = exp(-gamma B), p^gamma = exp(-gamma A); with
 * dp/dx = p (1 - p):
 *   d/dx [(1-p)^gamma A] = -(1-p)^gamma [(1 - p) + gamma p A]
 *   d/dx [p^gamma B]     =  p^gamma [p + gamma (1 - p) B]
 * From probabilities p (as given, no clamp): d/dp [-(1-p)^gamma log p] = gamma (1-p)^(gamma-1)
 * log p - (1-p)^gamma / p and d/dp [-p^gamma log(1-p)] = -gamma p^(gamma-1) log(1-p) +
 * p^gamma / (1-p); a term whose target coefficient is 0 is skipped (no 0 * inf), and
 * gamma q^(gamma-1) log(1-q) is taken as 0 at q = 0 (its limit) or gamma = 0.
 * Second derivative from logits (the logit form only: boosting works on margins), with
 * d(1-p)/dx = -p (1 - p), dA/dx = -(1 - p), dB/dx = p:
 *   d2/dx2 [(1-p)^gamma A] = (1-p)^gamma [p (1-p) (1 + 2 gamma) + gamma pA (gamma p - (1-p))]
 *   d2/dx2 [p^gamma B]     = p^gamma [p (1-p) (1 + 2 gamma) + gamma (1-p)B (gamma (1-p) - p)]
 * (gamma = 0: p (1 - p), the logistic loss's); pA and (1-p)B are the guarded products below, so
 * the limits at x = +-inf hold: every term is a vanishing factor times a bounded one. */
static inline FL_REAL FL_FN(rb_gpow_log)(FL_REAL q, FL_REAL gamma, FL_REAL logv) {
    /* gamma q^(gamma - 1) log v, with 0 when gamma = 0 or log v = 0 */
    if (gamma == 0 || logv == 0) return (FL_REAL)0;
    return gamma * RB_POW(q, gamma - (FL_REAL)1) * logv;
}
/* Three kernels: the logit form (exp and log only, branch-free) vectorises, and is compiled
 * twice, for any gamma and for gamma = 2 (the default and by far the commonest value), where
 * (1-p)^2 and p^2 are products of the shared sigmoids instead of two more exponentials: one
 * exp, one log and one division per element, and no exp(-gamma A), whose rounding grows with
 * A (~20 ulp at |x| = 33 in double; the products keep ~2); the probability form keeps its pow
 * calls and guarded terms. */
FL_POINT_FN void FL_FN(focal_logit)(FL_REAL x, FL_REAL y, const fl_params *p, int gamma2,
                                      FL_REAL *l, FL_REAL *g, FL_REAL *h) {
    const FL_REAL gamma = gamma2 ? (FL_REAL)2 : (FL_REAL)p->gamma;
    const FL_REAL a_pos = p->alpha < 0 ? (FL_REAL)1 : (FL_REAL)p->alpha;
    const FL_REAL a_neg = p->alpha < 0 ? (FL_REAL)1 : (FL_REAL)(1.0 - p->alpha);
    const FL_REAL cp = a_pos * y, cn = a_neg * ((FL_REAL)1 - y);
    FL_REAL e, r, L;
    FL_FN(rb_logistic)(x, &e, &r, &L);
    FL_REAL B = (x > 0 ? x : (FL_REAL)0) + L; /* -log(1 - p) */
    FL_REAL A = (x < 0 ? -x : (FL_REAL)0) + L; /* -log p */
    FL_REAL sp = x >= 0 ? r : e * r, sn = x >= 0 ? e * r : r; /* p, 1 - p */
    /* (1-p)^gamma, p^gamma; gamma = 0 gives 1 even at x = +-inf (not exp(-0 * inf)) */
    FL_REAL qg, pg;
    if (gamma2) {
        qg = sn * sn;
        pg = sp * sp;
    } else {
        qg = gamma != 0 ? FL_EXP(-gamma * B) : (FL_REAL)1;
        pg = gamma != 0 ? FL_EXP(-gamma * A) : (FL_REAL)1;
    }
    /* p log p -> 0 as p -> 0: the limits at x = +-inf, not 0 * inf */
    FL_REAL spA = sp != 0 ? sp * A : (FL_REAL)0, snB = sn != 0 ? sn * B : (FL_REAL)0;
    FL_REAL lv = (cp != 0 ? cp * qg * A : (FL_REAL)0) + (cn != 0 ? cn * pg * B : (FL_REAL)0);
    FL_REAL gv = (cp != 0 ? -cp * qg * (sn + gamma * spA) : (FL_REAL)0) +
                 (cn != 0 ? cn * pg * (sp + gamma * snB) : (FL_REAL)0);
    FL_REAL pq = sp * sn, c2 = (FL_REAL)1 + (FL_REAL)2 * gamma;
    FL_REAL hv = (cp != 0 ? cp * qg * (pq * c2 + gamma * spA * (gamma * sp - sn)) : (FL_REAL)0) +
                 (cn != 0 ? cn * pg * (pq * c2 + gamma * snB * (gamma * sn - sp)) : (FL_REAL)0);
    *l = x != x ? x : lv; /* NaN logit: NaN even where a coefficient vanishes */
    *g = x != x ? x : gv;
    *h = x != x ? x : hv;
}
FL_POINT_FN void FL_FN(focal_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                      FL_REAL *g, FL_REAL *h) {
    FL_FN(focal_logit)(x, y, p, 0, l, g, h);
}
FL_POINT_FN void FL_FN(focal_g2_point)(FL_REAL x, FL_REAL y, const fl_params *p, FL_REAL *l,
                                         FL_REAL *g, FL_REAL *h) {
    FL_FN(focal_logit)(x, y, p, 1, l, g, h);
}
FL_ELEMENTWISE_CHECKED_HESS_KERNEL(fl_focal_g2, FL_FN(focal_g2_point), FL_FN(rb_unit_target))
FL_ELEMENTWISE_CHECKED_HESS_KERNEL(fl_focal, FL_FN(focal_point), FL_FN(rb_unit_target))

FL_POINT_FN void FL_FN(focal_probs_point)(FL_REAL x, FL_REAL y, const fl_params *p,
                                            FL_REAL *l, FL_REAL *g) {
    const FL_REAL gamma = (FL_REAL)p->gamma;
    const FL_REAL a_pos = p->alpha < 0 ? (FL_REAL)1 : (FL_REAL)p->alpha;
    const FL_REAL a_neg = p->alpha < 0 ? (FL_REAL)1 : (FL_REAL)(1.0 - p->alpha);
    const FL_REAL cp = a_pos * y, cn = a_neg * ((FL_REAL)1 - y);
    FL_REAL q = (FL_REAL)1 - x, lp = FL_LOG(x), lq = FL_LOG1P(-x);
    FL_REAL lv = 0, gv = 0;
    if (cp != 0) {
        FL_REAL qg = RB_POW(q, gamma);
        lv -= cp * qg * lp;
        gv += cp * (FL_FN(rb_gpow_log)(q, gamma, lp) - qg / x);
    }
    if (cn != 0) {
        FL_REAL pg = RB_POW(x, gamma);
        lv -= cn * pg * lq;
        gv += cn * (pg / q - FL_FN(rb_gpow_log)(x, gamma, lq));
    }
    if (x != x) lv = gv = x; /* NaN prediction: NaN even where both coefficients vanish */
    *l = lv;
    *g = gv;
}
FL_ELEMENTWISE_CHECKED_KERNEL(fl_focal_probs, FL_FN(focal_probs_point), FL_FN(rb_unit_both))

/* ------------------------------------------------------------------------------------ GAN */

/* softplus(-x) = -log s(x), derivative -s(-x); softplus(x) = -log(1 - s(x)), derivative s(x).
 * One exp, one log and one division each (rb_logistic), stable for any |x|. */
FL_POINT_FN void FL_FN(softplus_neg_point)(FL_REAL x, FL_REAL y, const fl_params *p,
                                             FL_REAL *l, FL_REAL *g) {
    FL_REAL e, r, L;
    FL_FN(rb_logistic)(x, &e, &r, &L);
    *l = (x < 0 ? -x : (FL_REAL)0) + L;
    *g = -(x >= 0 ? e * r : r);
}
FL_POINT_FN void FL_FN(softplus_pos_point)(FL_REAL x, FL_REAL y, const fl_params *p,
                                             FL_REAL *l, FL_REAL *g) {
    FL_REAL e, r, L;
    FL_FN(rb_logistic)(x, &e, &r, &L);
    *l = (x > 0 ? x : (FL_REAL)0) + L;
    *g = x >= 0 ? r : e * r;
}
FL_ELEMENTWISE_KERNEL(fl_softplus_neg, FL_FN(softplus_neg_point))
FL_ELEMENTWISE_KERNEL(fl_softplus_pos, FL_FN(softplus_pos_point))

/* Generator loss on the discriminator's logits for fakes, single input (y unused):
 * non-saturating -log s(x) = softplus(-x); saturating (minimax) log(1 - s(x)) = -softplus(x). */
FL_POINT_FN void FL_FN(gan_generator_point)(FL_REAL x, FL_REAL y, const fl_params *p,
                                              FL_REAL *l, FL_REAL *g) {
    if (p->saturating) {
        FL_FN(softplus_pos_point)(x, y, p, l, g);
        *l = -*l;
        *g = -*g;
    } else {
        FL_FN(softplus_neg_point)(x, y, p, l, g);
    }
}
FL_ELEMENTWISE_KERNEL(fl_gan_generator, FL_FN(gan_generator_point))

/* Discriminator loss BCE(real, 1) + BCE(fake, 0) = softplus(-real) + softplus(fake) on logits of
 * two independent batches (any sizes). Each part is reduced on its own ('mean': its own weighted
 * mean) and the value is the sum of the two parts; the gradients are per part.
 * IN   n_r, real, sw_r     real logits and their sample weights (or NULL)
 * IN   n_f, fake, sw_f     fake logits and their sample weights (or NULL)
 * OUT  loss_r, loss_f      per-sample losses times weights, or NULL
 * OUT  grad_r, grad_f      gradients of the reduced value, or NULL
 * OUT  value               reduced value (FL_NONE: the total sum) */
int FL_FN(fl_gan_discriminator)(int64_t n_r, const FL_REAL *real, const FL_REAL *sw_r,
                                int64_t n_f, const FL_REAL *fake, const FL_REAL *sw_f,
                                int reduction, FL_REAL *loss_r, FL_REAL *loss_f, FL_REAL *grad_r,
                                FL_REAL *grad_f, double *value, int n_threads) {
    fl_params prm;
    memset(&prm, 0, sizeof prm);
    double vr = 0.0, vf = 0.0;
    int rc = FL_FN(fl_softplus_neg)(n_r, real, NULL, sw_r, &prm, reduction, 1.0, loss_r, grad_r,
                                    NULL, &vr, NULL, n_threads);
    if (rc != FL_OK) return rc;
    rc = FL_FN(fl_softplus_pos)(n_f, fake, NULL, sw_f, &prm, reduction, 1.0, loss_f, grad_f,
                                NULL, &vf, NULL, n_threads);
    if (rc != FL_OK) return rc;
    *value = vr + vf;
    return FL_OK;
}

#undef RB_BCE_LOG_MIN
#undef RB_BCE_EPS
