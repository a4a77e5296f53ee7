/* The driver shared by every elementwise loss: one pass over (x, y[, sw]) that writes the
 * per-element loss and/or the gradient of the reduced value and sums the loss in fixed blocks.
 * POINT(x, y, prm, &l, &g) is a static inline function of the loss, so the loop inlines it. */
#ifndef FASTLOSS_ELEMENTWISE_H
#define FASTLOSS_ELEMENTWISE_H

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
        _Pragma("omp parallel for num_threads(nt) schedule(static) if (nt > 1)")              \
        for (int64_t b = 0; b < nb; b++) {                                                      \
            int64_t lo = b * FL_BLOCK, hi = lo + FL_BLOCK < n ? lo + FL_BLOCK : n;              \
            double acc = 0.0;                                                                   \
            for (int64_t i = lo; i < hi; i++) {                                                 \
                FL_REAL l, g;                                                                   \
                POINT(x[i], y ? y[i] : (FL_REAL)0, prm, &l, &g);                                \
                if (sw) {                                                                       \
                    l *= sw[i];                                                                 \
                    g *= sw[i];                                                                 \
                }                                                                               \
                acc += (double)l;                                                               \
                if (loss) loss[i] = l;                                                          \
                if (grad) grad[i] = gs * g;                                                     \
            }                                                                                   \
            part[b] = acc;                                                                      \
        }                                                                                       \
        *value = fl_sum_ordered(part, nb) * scale;                                              \
        fl_partials_free(&ps);                                                                  \
        return FL_OK;                                                                           \
    }

#endif
