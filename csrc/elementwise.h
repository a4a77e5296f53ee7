/* The driver shared by every elementwise loss: one pass over (x, y[, sw]) that writes the
 * per-element loss and/or the gradient of the reduced value and sums the loss in fixed blocks.
 * POINT(x, y, prm, &l, &g) is a static inline function of the loss, so the loop inlines it. */
#ifndef FASTLOSS_ELEMENTWISE_H
#define FASTLOSS_ELEMENTWISE_H

#include "simd.h"

/* Which optional arrays a block touches, as compile-time constants: the block function is
 * instantiated once per combination (FL_EW_SWITCH), so the inner loop carries no tests on
 * NULL pointers and vectorises. */
#define FL_EW_HAS_Y 8
#define FL_EW_HAS_SW 4
#define FL_EW_WANT_LOSS 2
#define FL_EW_WANT_GRAD 1

#define FL_EW_CASE(K, BLOCK)                                                                    \
    case K:                                                                                     \
        acc = BLOCK(lo, hi, x, y, sw, prm, gs, loss, grad, (K)&FL_EW_HAS_Y, (K)&FL_EW_HAS_SW,   \
                    (K)&FL_EW_WANT_LOSS, (K)&FL_EW_WANT_GRAD);                                  \
        break;

#define FL_EW_SWITCH(flags, BLOCK)                                                              \
    switch (flags) {                                                                            \
        FL_EW_CASE(0, BLOCK) FL_EW_CASE(1, BLOCK) FL_EW_CASE(2, BLOCK) FL_EW_CASE(3, BLOCK)     \
        FL_EW_CASE(4, BLOCK) FL_EW_CASE(5, BLOCK) FL_EW_CASE(6, BLOCK) FL_EW_CASE(7, BLOCK)     \
        FL_EW_CASE(8, BLOCK) FL_EW_CASE(9, BLOCK) FL_EW_CASE(10, BLOCK) FL_EW_CASE(11, BLOCK)   \
        FL_EW_CASE(12, BLOCK) FL_EW_CASE(13, BLOCK) FL_EW_CASE(14, BLOCK) FL_EW_CASE(15, BLOCK) \
    }

/* BLOCK(lo, hi, ...) applies POINT to elements [lo, hi) and returns their loss sum; one such
 * function serves every driver (FL_EW_SWITCH instantiates it per flag combination). */
#define FL_EW_BLOCK_FN(BLOCK, POINT)                                                            \
    static inline __attribute__((always_inline)) double BLOCK(                                  \
        int64_t lo, int64_t hi, const FL_REAL *restrict x, const FL_REAL *restrict y,            \
        const FL_REAL *restrict sw, const fl_params *prm, FL_REAL gs, FL_REAL *restrict loss,    \
        FL_REAL *restrict grad, int has_y, int has_sw, int want_loss, int want_grad) {          \
        double acc = 0.0;                                                                       \
        _Pragma("omp simd reduction(+ : acc)")                                                  \
        for (int64_t i = lo; i < hi; i++) {                                                     \
            FL_REAL l, g;                                                                       \
            POINT(x[i], has_y ? y[i] : (FL_REAL)0, prm, &l, &g);                                \
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
        int nt = fl_threads_for(n_threads, n, nb);                                              \
        double scale = 1.0;                                                                     \
        if (reduction == FL_MEAN) {                                                             \
            double d = sw ? FL_FN(fl_sum_blocks)(n, sw, part, nt) : (double)n;                  \
            scale = 1.0 / (d * denom_scale);                                                    \
        }                                                                                       \
        const FL_REAL gs = (FL_REAL)scale;                                                      \
        const int flags = (y ? FL_EW_HAS_Y : 0) | (sw ? FL_EW_HAS_SW : 0) |                     \
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

#endif
