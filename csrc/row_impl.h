/* Row helpers shared by the class-axis kernels (softmax_ce_impl.h, rowwise_impl.h), for one
 * FL_REAL. Deliberately without an include guard: a family's *_impl.h includes it once per type,
 * inside the FL_REAL / FL_SUF definitions, so each type gets its own static inline copies. */

/* Row max of x = z * inv_t (inv_t > 0, so max(z) * inv_t). NaN does not win the comparison;
 * it still reaches the result through the exponential sum. */
static inline FL_REAL FL_FN(row_max)(const FL_REAL *restrict z, int64_t c, FL_REAL inv_t) {
    FL_REAL m = -INFINITY;
    for (int64_t k = 0; k < c; k++) m = z[k] > m ? z[k] : m;
    return m * inv_t;
}

/* S = sum exp(x_k - m) in double; the exponentials go to e (may be NULL). */
static inline double FL_FN(row_expsum)(const FL_REAL *restrict z, int64_t c, FL_REAL inv_t,
                                        FL_REAL m, FL_REAL *restrict e) {
    double s = 0.0;
    if (e) {
        for (int64_t k = 0; k < c; k++) {
            FL_REAL v = FL_EXP(z[k] * inv_t - m);
            e[k] = v;
            s += (double)v;
        }
    } else {
        for (int64_t k = 0; k < c; k++) s += (double)FL_EXP(z[k] * inv_t - m);
    }
    return s;
}
