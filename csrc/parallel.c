#include "parallel.h"
#include "simd.h"

#if defined(_OPENMP) && !defined(_WIN32)
#include <pthread.h>
#define FL_FORK_GUARD 1
#else
#define FL_FORK_GUARD 0
#endif

/* Written from several threads, only ever from 0 to 1; a relaxed atomic keeps that race defined. */
#if defined(__GNUC__)
#define FL_LOAD(p) __atomic_load_n(p, __ATOMIC_RELAXED)
#define FL_STORE(p, v) __atomic_store_n(p, v, __ATOMIC_RELAXED)
#else
#define FL_LOAD(p) (*(volatile int *)(p))
#define FL_STORE(p, v) (*(volatile int *)(p) = (v))
#endif
static int fl_team_started = 0;
static int fl_no_teams = 0;

#if FL_FORK_GUARD
static void fl_after_fork_in_child(void) {
    if (FL_LOAD(&fl_team_started)) fl_no_teams = 1;
}
#endif

void fl_install_fork_guard(void) {
#if FL_FORK_GUARD
    static int installed = 0;
    if (!installed) {
        installed = 1;
        pthread_atfork(NULL, NULL, fl_after_fork_in_child);
    }
#endif
}

int fl_teams_available(void) { return !fl_no_teams; }

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
    if (work < FL_PARALLEL_MIN_WORK || fl_no_teams) return 1;
    int t = requested > 0 ? requested : fl_default_threads();
    if (t < 1) return 1;
    if ((int64_t)t > n_blocks) t = (int)(n_blocks > 0 ? n_blocks : 1);
    if (t > 1 && !FL_LOAD(&fl_team_started)) FL_STORE(&fl_team_started, 1);
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

/* Memory bandwidth probes for the benchmark (python -m fastloss bench): the bound a streaming
 * kernel is measured against, taken with the same threads and static schedule as the kernels
 * and plain (cached) stores, as the kernels use. */
void fl_stream_copy(int64_t n, const float *restrict src, float *restrict dst, int n_threads) {
    int64_t nb = (n + FL_BLOCK - 1) / FL_BLOCK;
    int nt = n_threads > 0 ? n_threads : fl_default_threads();
    if (fl_no_teams) nt = 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int64_t b = 0; b < nb; b++) {
        int64_t lo = b * FL_BLOCK, hi = lo + FL_BLOCK < n ? lo + FL_BLOCK : n;
#pragma omp simd
        for (int64_t i = lo; i < hi; i++) dst[i] = src[i];
    }
}

double fl_stream_sum(int64_t n, const float *restrict src, int n_threads) {
    int64_t nb = (n + FL_BLOCK - 1) / FL_BLOCK;
    int nt = n_threads > 0 ? n_threads : fl_default_threads();
    if (fl_no_teams) nt = 1;
    double total = 0.0;
#pragma omp parallel for num_threads(nt) schedule(static) reduction(+ : total) if (nt > 1)
    for (int64_t b = 0; b < nb; b++) {
        int64_t lo = b * FL_BLOCK, hi = lo + FL_BLOCK < n ? lo + FL_BLOCK : n;
        double acc = 0.0;
#pragma omp simd reduction(+ : acc)
        for (int64_t i = lo; i < hi; i++) acc += (double)src[i];
        total += acc;
    }
    return total;
}
