/* Vectorisation support shared by the kernels.
 *
 * 1. Runtime dispatch: with GCC on x86-64 glibc every kernel entry point is compiled three
 *    times (x86-64-v4 = AVX-512, x86-64-v3 = AVX2+FMA, baseline SSE2) and the loader picks the
 *    best clone for the CPU (an ifunc), so one wheel is fast everywhere.
 * 2. Vector exp/log: glibc's libmvec has SIMD versions of exp/expf/log/logf (glibc >= 2.22),
 *    but <math.h> only announces them under -ffast-math, which we must not use (it breaks
 *    inf/NaN and flushes denormals process-wide). Declaring the SIMD variants ourselves lets
 *    -O3 -fno-math-errno vectorise loops that call them while inf/NaN keep their IEEE meaning
 *    (see shared/BUILD-NOTES.md; ~2 ulp vs ~0.5 ulp for the scalar calls). log1p is left out:
 *    its vector form needs glibc 2.35.
 * 3. Vector reductions: a sum written as one running scalar cannot be vectorised without
 *    reassociation, which only -ffast-math would allow globally. Each reduction loop instead
 *    carries `#pragma omp simd reduction(...)` (honoured with -fopenmp-simd even when OpenMP
 *    threading is off), which allows exactly that loop to keep one partial sum per vector lane.
 *    The order of additions then depends on the vector width of the clone the CPU runs, never
 *    on the thread count, so results stay bit-identical for any number of threads.  */
#ifndef FASTLOSS_SIMD_H
#define FASTLOSS_SIMD_H

#include <math.h>
#include <stdint.h>

/* Point functions of the elementwise losses must be inlined into the driver's loop, or the
 * loop cannot vectorise; GCC's size heuristics give up on the larger ones without this. */
#if defined(__GNUC__)
#define FL_POINT_FN static inline __attribute__((always_inline))
#else
#define FL_POINT_FN static inline
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__) && \
    !defined(FL_NO_DISPATCH)
#define FL_DISPATCH 1
#define FL_TARGET_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FL_DISPATCH 0
#define FL_TARGET_CLONES
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 22)) && !defined(__FAST_MATH__) && \
    !defined(FL_NO_LIBMVEC)
#define FL_LIBMVEC 1
__attribute__((simd("notinbranch"))) extern float expf(float);
__attribute__((simd("notinbranch"))) extern double exp(double);
__attribute__((simd("notinbranch"))) extern float logf(float);
__attribute__((simd("notinbranch"))) extern double log(double);
#else
#define FL_LIBMVEC 0
#endif

#endif
