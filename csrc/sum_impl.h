/* Sum of v[0..n) in FL_BLOCK blocks added in order (the elementwise drivers' 'mean'
 * denominator); bits independent of nt. `part` must hold ceil(n / FL_BLOCK) doubles.
 * Deliberately without an include guard: a family's *_impl.h includes it once per FL_REAL. */
static inline double FL_FN(fl_sum_block)(int64_t n, int64_t b, const FL_REAL *restrict v) {
    int64_t lo = b * FL_BLOCK, hi = lo + FL_BLOCK < n ? lo + FL_BLOCK : n;
    double acc = 0.0;
#pragma omp simd reduction(+ : acc)
    for (int64_t i = lo; i < hi; i++) acc += (double)v[i];
    return acc;
}
/* On one thread a plain loop: a parallel region with if(0) still enters the OpenMP runtime. */
static double FL_FN(fl_sum_blocks)(int64_t n, const FL_REAL *restrict v, double *part, int nt) {
    int64_t nb = (n + FL_BLOCK - 1) / FL_BLOCK;
    if (nt <= 1) {
        for (int64_t b = 0; b < nb; b++) part[b] = FL_FN(fl_sum_block)(n, b, v);
    } else {
#pragma omp parallel for num_threads(nt) schedule(static)
        for (int64_t b = 0; b < nb; b++) part[b] = FL_FN(fl_sum_block)(n, b, v);
    }
    return fl_sum_ordered(part, nb);
}
