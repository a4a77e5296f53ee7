#include "parallel.h"
#include "simd.h"

int fl_default_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

int fl_have_openmp(void) {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int fl_threads_for(int requested, int64_t work, int64_t n_blocks) {
    int t = requested > 0 ? requested : fl_default_threads();
    if (work < FL_PARALLEL_MIN_WORK || t < 1) return 1;
    if ((int64_t)t > n_blocks) t = (int)(n_blocks > 0 ? n_blocks : 1);
    return t;
}

double fl_sum_ordered(const double *p, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += p[i];
    return s;
}

double *fl_partials_get(fl_partials *s, int64_t n) {
    s->p = NULL;
    if (n <= FL_SMALL_PARTIALS) return s->small;
    s->p = (double *)malloc((size_t)n * sizeof(double));
    return s->p;
}

void fl_partials_free(fl_partials *s) {
    free(s->p);
    s->p = NULL;
}

/* Which of the kernel clones (simd.h) the loader picks on this CPU, for show_config(). */
const char *fl_simd_path(void) {
#if FL_DISPATCH
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return "x86-64-v4 (AVX-512)";
    if (__builtin_cpu_supports("x86-64-v3")) return "x86-64-v3 (AVX2, FMA)";
    return "x86-64 (SSE2)";
#else
    return "generic (no runtime dispatch)";
#endif
}

/* 1 when loops calling exp/log use glibc's vector math (simd.h). */
int fl_have_libmvec(void) { return FL_LIBMVEC; }
