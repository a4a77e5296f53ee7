/* Row helpers shared by the class-axis kernels (softmax_ce_impl.h, rowwise_impl.h), for one
 * FL_REAL. Deliberately without an include guard: a family's *_impl.h includes it once per type,
 * inside the FL_REAL / FL_SUF definitions, so each type gets its own static inline copies. */

/* Row max of x = z * inv_t (inv_t > 0, so max(z) * inv_t). A NaN in the row may or may not win
 * the comparison; either way it reaches the result through the exponential sum. */
static inline FL_REAL FL_FN(row_max)(const FL_REAL *restrict z, int64_t c, FL_REAL inv_t) {
    FL_REAL m = -INFINITY;
#pragma omp simd reduction(max : m)
    for (int64_t k = 0; k < c; k++) m = z[k] > m ? z[k] : m;
    return m * inv_t;
}

/* S = sum exp(x_k - m), accumulated in double; the exponentials go to e (may be NULL). The omp
 * simd reductions let these loops vectorise (simd.h). */
static inline double FL_FN(row_expsum)(const FL_REAL *restrict z, int64_t c, FL_REAL inv_t,
                                        FL_REAL m, FL_REAL *restrict e) {
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
