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
