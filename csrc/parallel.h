/* OpenMP batching with a reduction whose bits do not depend on the thread count.
 *
 * Every kernel splits its work into blocks whose size depends only on the input's shape, computes
 * one double partial per block, and adds the partials in block order (fl_sum_ordered). Threads
 * only decide which block is computed where, never the order of any floating-point addition. */
#ifndef FASTLOSS_PARALLEL_H
#define FASTLOSS_PARALLEL_H

#include <stdint.h>
#include <stdlib.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* Below this many elements of work a parallel region costs more than it saves. */
#define FL_PARALLEL_MIN_WORK ((int64_t)1 << 16)

/* Elements per reduction block for elementwise kernels. */
#define FL_BLOCK ((int64_t)8192)

/* for (b = 0; b < nb; b++) BODY, on nt threads with a static schedule - or, for nt == 1, as a
 * plain loop that never enters the OpenMP runtime (whose serialised team still costs about a
 * thousand instructions per call, which small calls notice). The blocks and their order are the
 * same either way, so results do not depend on nt. */
#ifdef _OPENMP
#define FL_FOR_BLOCKS(nt, nb, b, ...)                                                           \
    if ((nt) > 1) {                                                                             \
        _Pragma("omp parallel for num_threads(nt) schedule(static)")                          \
        for (int64_t b = 0; b < (nb); b++) __VA_ARGS__                                          \
    } else {                                                                                    \
        for (int64_t b = 0; b < (nb); b++) __VA_ARGS__                                          \
    }
#else
#define FL_FOR_BLOCKS(nt, nb, b, ...)                                                           \
    for (int64_t b = 0; b < (nb); b++) __VA_ARGS__
#endif

/* Threads to use for `work` elements: `requested` (<= 0 means the OpenMP default, which honours
 * OMP_NUM_THREADS and threadpoolctl), capped by the number of blocks, 1 for small inputs. */
int fl_threads_for(int requested, int64_t work, int64_t n_blocks);

/* The OpenMP default thread count (1 without OpenMP). */
int fl_default_threads(void);

/* Fork safety. GNU libgomp's thread pool does not survive fork(): a child process whose parent
 * had started an OpenMP team hangs in its first parallel region. fl_install_fork_guard()
 * (called once when the Python module loads) registers a pthread_atfork child handler; in a
 * child forked after a team was started, fl_threads_for() then always returns 1, so every
 * kernel runs its serial path (which never touches the pool). fl_teams_available() reports it. */
void fl_install_fork_guard(void);
int fl_teams_available(void);

/* 1 when the library was compiled with OpenMP. */
int fl_have_openmp(void);

/* Bandwidth probes (a copy and a read of n floats) for the benchmark. */
void fl_stream_copy(int64_t n, const float *src, float *dst, int n_threads);
double fl_stream_sum(int64_t n, const float *src, int n_threads);

/* Sum of p[0..n) in order, in double. */
double fl_sum_ordered(const double *p, int64_t n);

/* Scratch for block partials: a small stack buffer avoids malloc on tiny inputs. */
#define FL_SMALL_PARTIALS 64
typedef struct {
    double small[FL_SMALL_PARTIALS];
    double *p;
} fl_partials;

/* Returns NULL when memory is exhausted. */
double *fl_partials_get(fl_partials *s, int64_t n);
void fl_partials_free(fl_partials *s);

#define FL_OK 0
#define FL_ERR_LABEL (-1)  /* a label outside [0, C) (other than ignore_index) */
#define FL_ERR_NOMEM (-2)
#define FL_ERR_TARGET (-3) /* a target outside the loss's domain (*bad: its flat index) */
#define FL_ERR_ARG (-4)    /* outputs the kernel cannot give (a Hessian of a loss without one) */
#define FL_ERR_PRED (-5)   /* a prediction outside the loss's domain (*bad: its flat index) */

#endif
