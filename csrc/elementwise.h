/* The driver shared by every elementwise loss: one pass over (x, y[, sw]) that writes the
 * per-element loss and/or the gradient of the reduced value and sums the loss in fixed blocks.
 * POINT(x, y, prm, &l, &g) is a static inline function of the loss, so the loop inlines it. */
#ifndef FASTLOSS_ELEMENTWISE_H
#define FASTLOSS_ELEMENTWISE_H

#include "simd.h"

/* Which optional arrays a block touches, as compile-time constants: the block function is
 * instantiated once per combination (FL_EW_SWITCH), so the inner loop carries no tests on
 * NULL pointers and vectorises. Single-input losses read x again as y (it is in cache and the
 * point ignores it) rather than doubling the instantiations, which dominate compile time. */
#define FL_EW_HAS_SW 4
#define FL_EW_WANT_LOSS 2
#define FL_EW_WANT_GRAD 1

#define FL_EW_CASE(K, BLOCK)                                                                    \
    case K:                                                                                     \
        acc = BLOCK(lo, hi, x, y, sw, prm, gs, loss, grad, (K)&FL_EW_HAS_SW, (K)&FL_EW_WANT_LOSS, \
                    (K)&FL_EW_WANT_GRAD);                                                       \
        break;

#define FL_EW_SWITCH(flags, BLOCK)                                                              \
    switch (flags) {                                                                            \
        FL_EW_CASE(0, BLOCK) FL_EW_CASE(1, BLOCK) FL_EW_CASE(2, BLOCK) FL_EW_CASE(3, BLOCK)     \
        FL_EW_CASE(4, BLOCK) FL_EW_CASE(5, BLOCK) FL_EW_CASE(6, BLOCK) FL_EW_CASE(7, BLOCK)     \
    }

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

/* IN   n             elements
 * IN   x, y          prediction and target, n each (y may be NULL for single-input losses)
 * IN   sw            n sample weights or NULL
 * IN   prm           the loss's parameters
 * IN   reduction     FL_NONE, FL_SUM or FL_MEAN
 * IN   denom_scale   'mean' divides by (sum of sw, or n) * denom_scale
 * OUT  loss          n losses times sw, or NULL
 * OUT  grad          n gradient entries of the reduced value w.r.t. x, or NULL
 * OUT  value         reduced value (FL_NONE: the sum) */
#define FL_ELEMENTWISE_KERNEL(NAME, POINT)                                                      \
    FL_EW_BLOCK_FN(FL_FN(NAME##_block), POINT)                                                  \
    FL_TARGET_CLONES                                                                            \
    int FL_FN(NAME)(int64_t n, const FL_REAL *restrict x, const FL_REAL *restrict y,             \
                    const FL_REAL *restrict sw, const fl_params *prm, int reduction,             \
                    double denom_scale, FL_REAL *restrict loss, FL_REAL *restrict grad,          \
                    double *value, int n_threads) {                                             \
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
        const int flags = (sw ? FL_EW_HAS_SW : 0) |                                             \
                          (loss ? FL_EW_WANT_LOSS : 0) | (grad ? FL_EW_WANT_GRAD : 0);          \
        _Pragma("omp parallel for num_threads(nt) schedule(static) if (nt > 1)")              \
        for (int64_t b = 0; b < nb; b++) {                                                      \
            int64_t lo = b * FL_BLOCK, hi = lo + FL_BLOCK < n ? lo + FL_BLOCK : n;              \
            double acc = 0.0;                                                                   \
            FL_EW_SWITCH(flags, FL_FN(NAME##_block))                                            \
            part[b] = acc;                                                                      \
        }                                                                                       \
        *value = fl_sum_ordered(part, nb) * scale;                                              \
        fl_partials_free(&ps);                                                                  \
        return FL_OK;                                                                           \
    }

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
 * OUT  value                   reduced value (FL_NONE: the sum) */
#define FL_ELEMENTWISE_AB_KERNEL(NAME, POINT)                                                   \
    /* without factor arrays the point reads a = b = 1 and the generic vectorised block serves */ \
    FL_POINT_FN void FL_FN(NAME##_unit)(FL_REAL x, FL_REAL y, const fl_params *prm, FL_REAL *l,    \
                                        FL_REAL *g) {                                           \
        POINT(x, y, (FL_REAL)1, (FL_REAL)1, prm, l, g);                                         \
    }                                                                                           \
    FL_EW_BLOCK_FN(FL_FN(NAME##_plain), FL_FN(NAME##_unit))                                     \
    FL_TARGET_CLONES                                                                            \
    int FL_FN(NAME)(int64_t n, const FL_REAL *restrict x, const FL_REAL *restrict y,             \
                    const FL_REAL *restrict sw, const FL_REAL *restrict a, int64_t a_len,        \
                    int64_t a_inner, const FL_REAL *restrict b, int64_t b_len, int64_t b_inner,  \
                    const fl_params *prm, int reduction, FL_REAL *restrict loss,                 \
                    FL_REAL *restrict grad, double *value, int n_threads) {                      \
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
        _Pragma("omp parallel for num_threads(nt) schedule(static) if (nt > 1)")              \
        for (int64_t blk = 0; blk < nb; blk++) {                                                \
            int64_t lo = blk * FL_BLOCK, hi = lo + FL_BLOCK < n ? lo + FL_BLOCK : n;            \
            if (!a && !b) { /* no broadcast factors: the vectorised path of elementwise.h */    \
                double acc = 0.0;                                                               \
                const int flags = (sw ? FL_EW_HAS_SW : 0) |                                     \
                                  (loss ? FL_EW_WANT_LOSS : 0) | (grad ? FL_EW_WANT_GRAD : 0);  \
                FL_EW_SWITCH(flags, FL_FN(NAME##_plain))                                        \
                part[blk] = acc;                                                                \
                continue;                                                                       \
            }                                                                                   \
            int64_t ja = a ? (lo / a_inner) % a_len : 0, ra = a ? lo % a_inner : 0;             \
            int64_t jb = b ? (lo / b_inner) % b_len : 0, rb = b ? lo % b_inner : 0;             \
            double acc = 0.0;                                                                   \
            for (int64_t i = lo; i < hi; i++) {                                                 \
                FL_REAL l, g;                                                                   \
                FL_REAL av = a ? a[ja] : (FL_REAL)1, bv = b ? b[jb] : (FL_REAL)1;               \
                POINT(x[i], y[i], av, bv, prm, &l, &g);                                         \
                if (sw) {                                                                       \
                    l *= sw[i];                                                                 \
                    g *= sw[i];                                                                 \
                }                                                                               \
                acc += (double)l;                                                               \
                if (loss) loss[i] = l;                                                          \
                if (grad) grad[i] = gs * g;                                                     \
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
        *value = fl_sum_ordered(part, nb) * scale;                                              \
        fl_partials_free(&ps);                                                                  \
        return FL_OK;                                                                           \
    }

#endif
