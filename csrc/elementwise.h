/* The driver shared by every elementwise loss: one pass over (x, y[, sw]) that writes the
 * per-element loss and/or the gradient of the reduced value and sums the loss in fixed blocks,
 * or writes the gradient and the second derivative (grad_hess).
 * POINT(x, y, prm, &l, &g) is a static inline function of the loss, so the loop inlines it; a
 * loss with a second derivative has POINT3(x, y, prm, &l, &g, &h) instead. */
#ifndef FASTLOSS_ELEMENTWISE_H
#define FASTLOSS_ELEMENTWISE_H

#include "simd.h"

/* Which optional arrays a block touches, as compile-time constants: the block function is
 * instantiated once per combination (FL_EW_SWITCH), so the inner loop carries no tests on
 * NULL pointers and vectorises. Single-input losses read x again as y (it is in cache and the
 * point ignores it) rather than doubling the instantiations, which dominate compile time.
 * The Hessian adds only two combinations (gradient + Hessian, with and without sample
 * weights): boosting asks for nothing else, and every instantiation costs build time. */
#define FL_EW_WANT_HESS 8
#define FL_EW_HAS_SW 4
#define FL_EW_WANT_LOSS 2
#define FL_EW_WANT_GRAD 1

#define FL_EW_CASE(K, BLOCK)                                                                    \
    case K:                                                                                     \
        acc = BLOCK(lo, hi, x, y, sw, prm, gs, loss, grad, (K)&FL_EW_HAS_SW, (K)&FL_EW_WANT_LOSS, \
                    (K)&FL_EW_WANT_GRAD);                                                       \
        break;

/* HESS_CASES: FL_EW_HESS_CASES(HBLOCK) for losses with a second derivative, else nothing */
#define FL_EW_SWITCH(flags, BLOCK, HESS_CASES)                                                  \
    switch (flags) {                                                                            \
        FL_EW_CASE(0, BLOCK) FL_EW_CASE(1, BLOCK) FL_EW_CASE(2, BLOCK) FL_EW_CASE(3, BLOCK)     \
        FL_EW_CASE(4, BLOCK) FL_EW_CASE(5, BLOCK) FL_EW_CASE(6, BLOCK) FL_EW_CASE(7, BLOCK)     \
        HESS_CASES                                                                              \
    }

#define FL_EW_HESS_CASES(HBLOCK)                                                                \
    case FL_EW_WANT_HESS | FL_EW_WANT_GRAD:                                                     \
        HBLOCK(lo, hi, x, y, sw, prm, gs, grad, hess, 0);                                       \
        break;                                                                                  \
    case FL_EW_WANT_HESS | FL_EW_HAS_SW | FL_EW_WANT_GRAD:                                      \
        HBLOCK(lo, hi, x, y, sw, prm, gs, grad, hess, 1);                                       \
        break;

/* The flags of one call; with a Hessian the kernel accepts only grad + hess (+ sw). */
#define FL_EW_FLAGS(sw, loss, grad, hess)                                                       \
    ((sw ? FL_EW_HAS_SW : 0) | (loss ? FL_EW_WANT_LOSS : 0) | (grad ? FL_EW_WANT_GRAD : 0) |    \
     (hess ? FL_EW_WANT_HESS : 0))
#define FL_EW_FLAGS_OK(flags, has_hess)                                                         \
    (!((flags)&FL_EW_WANT_HESS) ||                                                              \
     ((has_hess) && ((flags) & (FL_EW_WANT_LOSS | FL_EW_WANT_GRAD)) == FL_EW_WANT_GRAD))

/* BLOCK(lo, hi, ...) applies POINT to elements [lo, hi) and returns their loss sum; one such
 * function serves every driver (FL_EW_SWITCH instantiates it per flag combination). */
#define FL_EW_BLOCK_FN(BLOCK, POINT)                                                            \
    static inline __attribute__((always_inline)) double BLOCK(                                  \
        int64_t lo, int64_t hi, const FL_REAL *restrict x, const FL_REAL *restrict y,            \
        const FL_REAL *restrict sw, const fl_params *prm, FL_REAL gs, FL_REAL *restrict loss,    \
        FL_REAL *restrict grad, int has_sw, int want_loss, int want_grad) {                     \
        double acc = 0.0;                                                                       \
        _Pragma("omp simd reduction(+ : acc)")                                                  \
        for (int64_t i = lo; i < hi; i++) {                                                     \
            FL_REAL l, g;                                                                       \
            POINT(x[i], y[i], prm, &l, &g);                                                     \
            if (has_sw) {                                                                       \
                l *= sw[i];                                                                     \
                g *= sw[i];                                                                     \
            }                                                                                   \
            acc += (double)l;                                                                   \
            if (want_loss) loss[i] = l;                                                         \
            if (want_grad) grad[i] = gs * g;                                                    \
        }                                                                                       \
        return acc;                                                                             \
    }

/* HBLOCK(lo, hi, ...) writes the gradient and the second derivative of elements [lo, hi). The
 * loss is not summed, so the compiler drops its computation from POINT3 (boosting never reads
 * it). The floor applies to the loss's own second derivative, before the sample weight: a
 * sample of weight 0 keeps a Hessian of 0. A NaN stays NaN (NaN < floor is false). */
#define FL_EW_HESS_BLOCK_FN(HBLOCK, POINT3)                                                     \
    static inline __attribute__((always_inline)) void HBLOCK(                                   \
        int64_t lo, int64_t hi, const FL_REAL *restrict x, const FL_REAL *restrict y,            \
        const FL_REAL *restrict sw, const fl_params *prm, FL_REAL gs, FL_REAL *restrict grad,    \
        FL_REAL *restrict hess, int has_sw) {                                                   \
        const FL_REAL floor_ = (FL_REAL)prm->hessian_floor;                                     \
        _Pragma("omp simd")                                                                     \
        for (int64_t i = lo; i < hi; i++) {                                                     \
            FL_REAL l, g, h;                                                                    \
            POINT3(x[i], y[i], prm, &l, &g, &h);                                                \
            h = h < floor_ ? floor_ : h;                                                        \
            if (has_sw) {                                                                       \
                g *= sw[i];                                                                     \
                h *= sw[i];                                                                     \
            }                                                                                   \
            grad[i] = gs * g;                                                                   \
            hess[i] = gs * h;                                                                   \
        }                                                                                       \
    }

/* The two-output form of a POINT3, for the value and gradient paths (the unused h is dropped
 * by the compiler). */
#define FL_EW_POINT2_FN(NAME2, POINT3)                                                          \
    FL_POINT_FN void NAME2(FL_REAL x, FL_REAL y, const fl_params *prm, FL_REAL *l, FL_REAL *g) { \
        FL_REAL h;                                                                              \
        POINT3(x, y, prm, l, g, &h);                                                            \
    }

/* IN   n             elements
 * IN   x, y          prediction and target, n each (y may be NULL for single-input losses)
 * IN   sw            n sample weights or NULL
 * IN   prm           the loss's parameters (prm->hessian_floor: see FL_EW_HESS_BLOCK_FN)
 * IN   reduction     FL_NONE, FL_SUM or FL_MEAN
 * IN   denom_scale   'mean' divides by (sum of sw, or n) * denom_scale
 * OUT  loss          n losses times sw, or NULL
 * OUT  grad          n gradient entries of the reduced value w.r.t. x, or NULL
 * OUT  hess          n second derivatives of the reduced value w.r.t. x (the Hessian's
 *                    diagonal), or NULL; only for losses with a second derivative, only with
 *                    grad and without loss (FL_ERR_ARG otherwise), and *value is then NaN
 * OUT  value         reduced value (FL_NONE: the sum) */
#define FL_EW_DRIVER(NAME, BLOCK, HESS_CASES, HAS_HESS)                                         \
    FL_TARGET_CLONES                                                                            \
    int FL_FN(NAME)(int64_t n, const FL_REAL *restrict x, const FL_REAL *restrict y,             \
                    const FL_REAL *restrict sw, const fl_params *prm, int reduction,             \
                    double denom_scale, FL_REAL *restrict loss, FL_REAL *restrict grad,          \
                    FL_REAL *restrict hess, double *value, int n_threads) {                     \
        const int flags = FL_EW_FLAGS(sw, loss, grad, hess);                                    \
        if (!FL_EW_FLAGS_OK(flags, HAS_HESS)) return FL_ERR_ARG;                                \
        int64_t nb = (n + FL_BLOCK - 1) / FL_BLOCK;                                             \
        fl_partials ps;                                                                         \
        double *part = fl_partials_get(&ps, nb);                                                \
        if (!part) return FL_ERR_NOMEM;                                                         \
        if (!y) y = x; /* single-input losses: the point ignores y */                          \
        int nt = fl_threads_for(n_threads, n, nb);                                              \
        double scale = 1.0;                                                                     \
        if (reduction == FL_MEAN) {                                                             \
            double d = sw ? FL_FN(fl_sum_blocks)(n, sw, part, nt) : (double)n;                  \
            scale = 1.0 / (d * denom_scale);                                                    \
        }                                                                                       \
        const FL_REAL gs = (FL_REAL)scale;                                                      \
        _Pragma("omp parallel for num_threads(nt) schedule(static) if (nt > 1)")              \
        for (int64_t b = 0; b < nb; b++) {                                                      \
            int64_t lo = b * FL_BLOCK, hi = lo + FL_BLOCK < n ? lo + FL_BLOCK : n;              \
            double acc = 0.0;                                                                   \
            FL_EW_SWITCH(flags, BLOCK, HESS_CASES)                                              \
            part[b] = acc;                                                                      \
        }                                                                                       \
        *value = hess ? NAN : fl_sum_ordered(part, nb) * scale;                                 \
        fl_partials_free(&ps);                                                                  \
        return FL_OK;                                                                           \
    }

/* A loss with value and gradient: POINT(x, y, prm, &l, &g). */
#define FL_ELEMENTWISE_KERNEL(NAME, POINT)                                                      \
    FL_EW_BLOCK_FN(FL_FN(NAME##_block), POINT)                                                  \
    FL_EW_DRIVER(NAME, FL_FN(NAME##_block), , 0)

/* A loss with value, gradient and second derivative: POINT3(x, y, prm, &l, &g, &h). */
#define FL_ELEMENTWISE_HESS_KERNEL(NAME, POINT3)                                                \
    FL_EW_POINT2_FN(FL_FN(NAME##_point2), POINT3)                                               \
    FL_EW_BLOCK_FN(FL_FN(NAME##_block), FL_FN(NAME##_point2))                                   \
    FL_EW_HESS_BLOCK_FN(FL_FN(NAME##_hblock), POINT3)                                           \
    FL_EW_DRIVER(NAME, FL_FN(NAME##_block), FL_EW_HESS_CASES(FL_FN(NAME##_hblock)), 1)

/* FL_ELEMENTWISE_AB_KERNEL adds two per-element factors a and b read from compact arrays by a
 * broadcast pattern: element i reads a[(i / a_inner) % a_len] (and the same for b), which covers
 * torch's elementwise `weight` (any operand whose varying axes form one run of the prediction's
 * axes: (C,), (N, 1), (1, C, 1, 1), ...) and `pos_weight` along the last axis without
 * materialising the broadcast. The Python layer materialises only patterns that are not one run.
 * The pattern indices advance with counters, not a division per element. Blocks and the ordered
 * block sum are those of FL_ELEMENTWISE_KERNEL, so the bits do not depend on the thread count.
 *
 * POINT(x, y, a_i, b_i, prm, &l, &g): a NULL factor array reads 1. The mean divides by the sum
 * of sw (or n); a and b never enter the denominator (torch's convention for `weight`). */
/* IN   n                       elements
 * IN   x, y                    prediction and target, n each
 * IN   sw                      n sample weights or NULL
 * IN   a, a_len, a_inner       first factor pattern (a NULL: 1)
 * IN   b, b_len, b_inner       second factor pattern (b NULL: 1)
 * IN   prm                     the loss's parameters
 * IN   reduction               FL_NONE, FL_SUM or FL_MEAN
 * OUT  loss                    n losses times sw, or NULL
 * OUT  grad                    n gradient entries of the reduced value w.r.t. x, or NULL
 * OUT  hess                    n second derivatives, or NULL (as FL_ELEMENTWISE_KERNEL's)
 * OUT  value                   reduced value (FL_NONE: the sum)
 * y is required: FL_ERR_ARG without it. */
#define FL_EW_AB_DRIVER(NAME, PLAIN, HESS_CASES, HAS_HESS, POINT3)                              \
    FL_TARGET_CLONES                                                                            \
    int FL_FN(NAME)(int64_t n, const FL_REAL *restrict x, const FL_REAL *restrict y,             \
                    const FL_REAL *restrict sw, const FL_REAL *restrict a, int64_t a_len,        \
                    int64_t a_inner, const FL_REAL *restrict b, int64_t b_len, int64_t b_inner,  \
                    const fl_params *prm, int reduction, FL_REAL *restrict loss,                 \
                    FL_REAL *restrict grad, FL_REAL *restrict hess, double *value,               \
                    int n_threads) {                                                            \
        const int flags = FL_EW_FLAGS(sw, loss, grad, hess);                                    \
        if (!FL_EW_FLAGS_OK(flags, HAS_HESS) || (!y && n > 0)) return FL_ERR_ARG;               \
        int64_t nb = (n + FL_BLOCK - 1) / FL_BLOCK;                                             \
        fl_partials ps;                                                                         \
        double *part = fl_partials_get(&ps, nb);                                                \
        if (!part) return FL_ERR_NOMEM;                                                         \
        int nt = fl_threads_for(n_threads, n, nb);                                              \
        double scale = 1.0;                                                                     \
        if (reduction == FL_MEAN) {                                                             \
            double d = sw ? FL_FN(fl_sum_blocks)(n, sw, part, nt) : (double)n;                  \
            scale = 1.0 / d;                                                                    \
        }                                                                                       \
        const FL_REAL gs = (FL_REAL)scale;                                                      \
        const FL_REAL floor_ = (FL_REAL)prm->hessian_floor;                                     \
        _Pragma("omp parallel for num_threads(nt) schedule(static) if (nt > 1)")              \
        for (int64_t blk = 0; blk < nb; blk++) {                                                \
            int64_t lo = blk * FL_BLOCK, hi = lo + FL_BLOCK < n ? lo + FL_BLOCK : n;            \
            if (!a && !b) { /* no broadcast factors: the vectorised path of elementwise.h */    \
                double acc = 0.0;                                                               \
                FL_EW_SWITCH(flags, PLAIN, HESS_CASES)                                          \
                part[blk] = acc;                                                                \
                continue;                                                                       \
            }                                                                                   \
            int64_t ja = a ? (lo / a_inner) % a_len : 0, ra = a ? lo % a_inner : 0;             \
            int64_t jb = b ? (lo / b_inner) % b_len : 0, rb = b ? lo % b_inner : 0;             \
            double acc = 0.0;                                                                   \
            for (int64_t i = lo; i < hi; i++) {                                                 \
                FL_REAL l, g, h;                                                                \
                FL_REAL av = a ? a[ja] : (FL_REAL)1, bv = b ? b[jb] : (FL_REAL)1;               \
                POINT3(x[i], y[i], av, bv, prm, &l, &g, &h);                                    \
                if (HAS_HESS && hess) {                                                         \
                    h = h < floor_ ? floor_ : h;                                                \
                    if (sw) {                                                                   \
                        g *= sw[i];                                                             \
                        h *= sw[i];                                                             \
                    }                                                                           \
                    grad[i] = gs * g;                                                           \
                    hess[i] = gs * h;                                                           \
                } else {                                                                        \
                    if (sw) {                                                                   \
                        l *= sw[i];                                                             \
                        g *= sw[i];                                                             \
                    }                                                                           \
                    acc += (double)l;                                                           \
                    if (loss) loss[i] = l;                                                      \
                    if (grad) grad[i] = gs * g;                                                 \
                }                                                                               \
                if (a && ++ra == a_inner) {                                                     \
                    ra = 0;                                                                     \
                    if (++ja == a_len) ja = 0;                                                  \
                }                                                                               \
                if (b && ++rb == b_inner) {                                                     \
                    rb = 0;                                                                     \
                    if (++jb == b_len) jb = 0;                                                  \
                }                                                                               \
            }                                                                                   \
            part[blk] = acc;                                                                    \
        }                                                                                       \
        *value = hess ? NAN : fl_sum_ordered(part, nb) * scale;                                 \
        fl_partials_free(&ps);                                                                  \
        return FL_OK;                                                                           \
    }

/* POINT(x, y, a_i, b_i, prm, &l, &g); without factor arrays the point reads a = b = 1 and the
 * generic vectorised block serves. */
#define FL_ELEMENTWISE_AB_KERNEL(NAME, POINT)                                                   \
    FL_POINT_FN void FL_FN(NAME##_unit)(FL_REAL x, FL_REAL y, const fl_params *prm, FL_REAL *l,    \
                                        FL_REAL *g) {                                           \
        POINT(x, y, (FL_REAL)1, (FL_REAL)1, prm, l, g);                                         \
    }                                                                                           \
    FL_POINT_FN void FL_FN(NAME##_ab3)(FL_REAL x, FL_REAL y, FL_REAL av, FL_REAL bv,             \
                                       const fl_params *prm, FL_REAL *l, FL_REAL *g,            \
                                       FL_REAL *h) {                                            \
        POINT(x, y, av, bv, prm, l, g);                                                         \
        *h = 0; /* never read: the kernel refuses a Hessian (HAS_HESS 0) */                     \
    }                                                                                           \
    FL_EW_BLOCK_FN(FL_FN(NAME##_plain), FL_FN(NAME##_unit))                                     \
    FL_EW_AB_DRIVER(NAME, FL_FN(NAME##_plain), , 0, FL_FN(NAME##_ab3))

/* POINT3(x, y, a_i, b_i, prm, &l, &g, &h): the same with a second derivative. */
#define FL_ELEMENTWISE_AB_HESS_KERNEL(NAME, POINT3)                                             \
    FL_POINT_FN void FL_FN(NAME##_unit3)(FL_REAL x, FL_REAL y, const fl_params *prm, FL_REAL *l,   \
                                         FL_REAL *g, FL_REAL *h) {                              \
        POINT3(x, y, (FL_REAL)1, (FL_REAL)1, prm, l, g, h);                                     \
    }                                                                                           \
    FL_EW_POINT2_FN(FL_FN(NAME##_unit), FL_FN(NAME##_unit3))                                    \
    FL_EW_BLOCK_FN(FL_FN(NAME##_plain), FL_FN(NAME##_unit))                                     \
    FL_EW_HESS_BLOCK_FN(FL_FN(NAME##_hblock), FL_FN(NAME##_unit3))                              \
    FL_EW_AB_DRIVER(NAME, FL_FN(NAME##_plain), FL_EW_HESS_CASES(FL_FN(NAME##_hblock)), 1,       \
                    POINT3)

#endif
