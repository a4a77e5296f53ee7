/* The driver shared by every elementwise loss: one pass over (x, y[, sw]) that writes the
 * per-element loss and/or the gradient of the reduced value and sums the loss in fixed blocks,
 * or writes the gradient and the second derivative (grad_hess), and checks each element's
 * domain in the same loop.
 * POINT(x, y, prm, &l, &g) is a static inline function of the loss, so the loop inlines it; a
 * loss with a second derivative has POINT3(x, y, prm, &l, &g, &h) instead.
 *
 * Domain checks. A checked loss also has CHECK(x, y, prm): FL_EW_BAD_X where x is outside the
 * loss's domain, FL_EW_BAD_Y where y is, built from comparisons, which are false for NaN (a NaN
 * passes the check and propagates, as the NaN policy wants). The block loop ORs these bits
 * into one int alongside its loss sum (a vector OR-reduction: no second pass over memory, no
 * branch in the loop); only when some bit is set does the kernel look for the first offending
 * element, in a scalar scan on that error path, and return FL_ERR_PRED or FL_ERR_TARGET with
 * its flat index in *bad. Targets of the hinge losses must be all in {-1, 1} or all in {0, 1},
 * a property of the whole array: their CHECK also reports FL_EW_Y_NEG / FL_EW_Y_ZERO, and a
 * mix of both anywhere is an error (FL_EW_FAILED), located by a scan from the start (such a
 * CHECK must not read x: see in-place below).
 *
 * In place. grad may be x itself (the same pointer, never a partial overlap): x, y and grad
 * carry no `restrict`, and every loop reads an element's inputs before writing its outputs
 * (`omp simd` loops keep that order per element). On a domain error with grad == x, the
 * elements before the offending one may already hold gradient entries; so that the error path
 * still reads the offender's original values, an in-place call checks each block (CHECK only,
 * a loop over data the block then finds in cache) before computing it, and a failing block is
 * left untouched.
 *
 * Threads. The blocks are fixed by n (FL_BLOCK elements), each block's loss sum lands in its own
 * partial and the partials are added in block order, so the bits do not depend on the thread
 * count. A call that runs on one thread (every call below FL_PARALLEL_MIN_WORK elements) runs
 * the blocks in a plain loop and never enters the OpenMP runtime (a parallel region with
 * if(0) still costs a GOMP_parallel call, a team allocation and ~1000 instructions). The
 * blocks themselves live in a range function (blocks [b0, b1)), compiled per ISA, which the
 * serial path and each thread of the parallel one call: the block loops are instantiated once
 * per flag combination, not once per path. */
#ifndef FASTLOSS_ELEMENTWISE_H
#define FASTLOSS_ELEMENTWISE_H

#include <string.h>

#include "simd.h"

/* Which optional arrays a block touches, as compile-time constants: the block function is
 * instantiated once per combination (FL_EW_SWITCH), so the inner loop carries no tests on
 * NULL pointers and vectorises. Single-input losses read x again as y (it is in cache and the
 * point ignores it) rather than doubling the instantiations, which dominate compile time.
 * The Hessian adds only two combinations (gradient + Hessian, with and without sample
 * weights): boosting asks for nothing else, and every instantiation costs build time. */
#define FL_EW_WANT_HESS 8
#define FL_EW_HAS_SW 4
#define FL_EW_WANT_LOSS 2
#define FL_EW_WANT_GRAD 1

/* CHECK bits: an element outside the domain (x, y), and the hinge targets' classes */
#define FL_EW_BAD_X 1
#define FL_EW_BAD_Y 2
#define FL_EW_Y_NEG 4
#define FL_EW_Y_ZERO 8
#define FL_EW_MIX (FL_EW_Y_NEG | FL_EW_Y_ZERO)
#define FL_EW_FAILED(bits)                                                                      \
    (((bits) & (FL_EW_BAD_X | FL_EW_BAD_Y)) != 0 || ((bits)&FL_EW_MIX) == FL_EW_MIX)
/* The CHECK of a loss without a domain (compiled away) */
#define fl_ew_no_check(x, y, prm) 0

#define FL_EW_CASE(K, BLOCK)                                                                    \
    case K:                                                                                     \
        acc = BLOCK(lo, hi, x, y, sw, prm, gs, loss, grad, &f, (K)&FL_EW_HAS_SW,                \
                    (K)&FL_EW_WANT_LOSS, (K)&FL_EW_WANT_GRAD);                                  \
        break;

/* HESS_CASES: FL_EW_HESS_CASES(HBLOCK) for losses with a second derivative, else nothing */
#define FL_EW_SWITCH(flags, BLOCK, HESS_CASES)                                                  \
    switch (flags) {                                                                            \
        FL_EW_CASE(0, BLOCK) FL_EW_CASE(1, BLOCK) FL_EW_CASE(2, BLOCK) FL_EW_CASE(3, BLOCK)     \
        FL_EW_CASE(4, BLOCK) FL_EW_CASE(5, BLOCK) FL_EW_CASE(6, BLOCK) FL_EW_CASE(7, BLOCK)     \
        HESS_CASES                                                                              \
    }

#define FL_EW_HESS_CASES(HBLOCK)                                                                \
    case FL_EW_WANT_HESS | FL_EW_WANT_GRAD:                                                     \
        HBLOCK(lo, hi, x, y, sw, prm, gs, grad, hess, &f, 0);                                   \
        break;                                                                                  \
    case FL_EW_WANT_HESS | FL_EW_HAS_SW | FL_EW_WANT_GRAD:                                      \
        HBLOCK(lo, hi, x, y, sw, prm, gs, grad, hess, &f, 1);                                   \
        break;

/* The flags of one call; with a Hessian the kernel accepts only grad + hess (+ sw). */
#define FL_EW_FLAGS(sw, loss, grad, hess)                                                       \
    ((sw ? FL_EW_HAS_SW : 0) | (loss ? FL_EW_WANT_LOSS : 0) | (grad ? FL_EW_WANT_GRAD : 0) |    \
     (hess ? FL_EW_WANT_HESS : 0))
#define FL_EW_FLAGS_OK(flags, has_hess)                                                         \
    (!((flags)&FL_EW_WANT_HESS) ||                                                              \
     ((has_hess) && ((flags) & (FL_EW_WANT_LOSS | FL_EW_WANT_GRAD)) == FL_EW_WANT_GRAD))

/* BLOCK(lo, hi, ...) applies POINT to elements [lo, hi), ORs their CHECK bits into *bits and
 * returns their loss sum; one such function serves every driver (FL_EW_SWITCH instantiates it
 * per flag combination). */
#define FL_EW_BLOCK_FN(BLOCK, POINT, CHECK)                                                     \
    static inline __attribute__((always_inline)) double BLOCK(                                  \
        int64_t lo, int64_t hi, const FL_REAL *x, const FL_REAL *y,                             \
        const FL_REAL *restrict sw, const fl_params *prm, FL_REAL gs, FL_REAL *restrict loss,    \
        FL_REAL *grad, int *bits, int has_sw, int want_loss, int want_grad) {                   \
        double acc = 0.0;                                                                       \
        int f = 0;                                                                              \
        _Pragma("omp simd reduction(+ : acc) reduction(| : f)")                                 \
        for (int64_t i = lo; i < hi; i++) {                                                     \
            FL_REAL xi = x[i], yi = y[i], l, g;                                                 \
            f |= CHECK(xi, yi, prm);                                                            \
            POINT(xi, yi, prm, &l, &g);                                                         \
            if (has_sw) {                                                                       \
                l *= sw[i];                                                                     \
                g *= sw[i];                                                                     \
            }                                                                                   \
            acc += (double)l;                                                                   \
            if (want_loss) loss[i] = l;                                                         \
            if (want_grad) grad[i] = gs * g;                                                    \
        }                                                                                       \
        *bits = f;                                                                              \
        return acc;                                                                             \
    }

/* HBLOCK(lo, hi, ...) writes the gradient and the second derivative of elements [lo, hi). The
 * loss is not summed, so the compiler drops its computation from POINT3 (boosting never reads
 * it). The floor applies to the loss's own second derivative, before the sample weight: a
 * sample of weight 0 keeps a Hessian of 0. A NaN stays NaN (NaN < floor is false). */
#define FL_EW_HESS_BLOCK_FN(HBLOCK, POINT3, CHECK)                                              \
    static inline __attribute__((always_inline)) void HBLOCK(                                   \
        int64_t lo, int64_t hi, const FL_REAL *x, const FL_REAL *y,                             \
        const FL_REAL *restrict sw, const fl_params *prm, FL_REAL gs, FL_REAL *grad,            \
        FL_REAL *restrict hess, int *bits, int has_sw) {                                        \
        const FL_REAL floor_ = (FL_REAL)prm->hessian_floor;                                     \
        int f = 0;                                                                              \
        _Pragma("omp simd reduction(| : f)")                                                    \
        for (int64_t i = lo; i < hi; i++) {                                                     \
            FL_REAL xi = x[i], yi = y[i], l, g, h;                                              \
            f |= CHECK(xi, yi, prm);                                                            \
            POINT3(xi, yi, prm, &l, &g, &h);                                                    \
            h = h < floor_ ? floor_ : h;                                                        \
            if (has_sw) {                                                                       \
                g *= sw[i];                                                                     \
                h *= sw[i];                                                                     \
            }                                                                                   \
            grad[i] = gs * g;                                                                   \
            hess[i] = gs * h;                                                                   \
        }                                                                                       \
        *bits = f;                                                                              \
    }

/* The two-output form of a POINT3, for the value and gradient paths (the unused h is dropped
 * by the compiler). */
#define FL_EW_POINT2_FN(NAME2, POINT3)                                                          \
    FL_POINT_FN void NAME2(FL_REAL x, FL_REAL y, const fl_params *prm, FL_REAL *l, FL_REAL *g) { \
        FL_REAL h;                                                                              \
        POINT3(x, y, prm, l, g, &h);                                                            \
    }

/* The CHECK bits of elements [lo, hi) alone: an in-place call runs this before computing a
 * block, so that a failing block keeps its inputs (compiled away without a CHECK). */
#define FL_EW_PRECHECK_FN(PRECHECK, CHECK)                                                      \
    static inline __attribute__((always_inline)) int PRECHECK(                                  \
        int64_t lo, int64_t hi, const FL_REAL *x, const FL_REAL *y, const fl_params *prm) {     \
        int f = 0;                                                                              \
        _Pragma("omp simd reduction(| : f)")                                                    \
        for (int64_t i = lo; i < hi; i++) f |= CHECK(x[i], y[i], prm);                         \
        return f;                                                                               \
    }

/* The error path: the flat index of the first offending element and its status. Without a
 * mix of hinge classes the offender lies in the first block whose own bits failed, and the
 * scan starts there (in place, the blocks before it already hold gradients); a mix can be
 * completed by any element, so that scan starts at 0 (the hinge CHECK reads y only, which is
 * never written). */
#define FL_EW_LOCATE_FN(LOCATE, CHECK)                                                          \
    static int LOCATE(int64_t n, int64_t nb, const FL_REAL *x, const FL_REAL *y,                \
                      const fl_params *prm, const int *bits, int seen, int64_t *bad) {          \
        int64_t start = 0;                                                                      \
        if ((seen & FL_EW_MIX) != FL_EW_MIX) {                                                  \
            for (int64_t b = 0; b < nb; b++) {                                                  \
                if (bits[b] & (FL_EW_BAD_X | FL_EW_BAD_Y)) {                                    \
                    start = b * FL_BLOCK;                                                       \
                    break;                                                                      \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
        int acc = 0;                                                                            \
        for (int64_t i = start; i < n; i++) {                                                   \
            int f = CHECK(x[i], y[i], prm);                                                     \
            acc |= f;                                                                           \
            if (FL_EW_FAILED(acc)) {                                                            \
                if (bad) *bad = i;                                                              \
                return (f & FL_EW_BAD_X) ? FL_ERR_PRED : FL_ERR_TARGET;                         \
            }                                                                                   \
        }                                                                                       \
        return FL_ERR_ARG; /* not reached: some element failed */                               \
    }

/* Runs CALL (a call of the range function on blocks [b0, b1)) over the nb blocks: a plain
 * call on one thread, contiguous ranges (the static schedule's) on nt threads; ORs the returned
 * CHECK bits into `seen`. */
#define FL_EW_RUN(CALL)                                                                         \
    if (nt <= 1) {                                                                              \
        int64_t b0 = 0, b1 = nb;                                                                \
        seen = CALL;                                                                            \
    } else {                                                                                    \
        _Pragma("omp parallel for num_threads(nt) schedule(static) reduction(| : seen)")        \
        for (int t_ = 0; t_ < nt; t_++) {                                                       \
            int64_t b0 = nb * t_ / nt, b1 = nb * (t_ + 1) / nt;                                 \
            seen |= CALL;                                                                       \
        }                                                                                       \
    }

/* RANGE(b0, b1, ...): blocks [b0, b1), each block's loss sum into part[b] and its CHECK bits
 * into bits[b]; stops after a block that fails (the call is an error then); returns the OR of
 * the bits seen. */
#define FL_EW_RANGE_FN(RANGE, BLOCK, HESS_CASES, PRECHECK)                                      \
    FL_TARGET_CLONES static int RANGE(                                                          \
        int64_t b0, int64_t b1, int64_t n, const FL_REAL *x, const FL_REAL *y,                  \
        const FL_REAL *restrict sw, const fl_params *prm, FL_REAL gs, FL_REAL *restrict loss,    \
        FL_REAL *grad, FL_REAL *restrict hess, double *part, int *bits, int flags) {            \
        const int inplace = grad == x;                                                          \
        int seen = 0;                                                                           \
        for (int64_t b = b0; b < b1; b++) {                                                     \
            int64_t lo = b * FL_BLOCK, hi = lo + FL_BLOCK < n ? lo + FL_BLOCK : n;              \
            double acc = 0.0;                                                                   \
            int f = inplace ? PRECHECK(lo, hi, x, y, prm) : 0;                                  \
            if (!FL_EW_FAILED(f)) {                                                             \
                FL_EW_SWITCH(flags, BLOCK, HESS_CASES)                                          \
            }                                                                                   \
            part[b] = acc;                                                                      \
            bits[b] = f;                                                                        \
            seen |= f;                                                                          \
            if (FL_EW_FAILED(seen)) break;                                                      \
        }                                                                                       \
        return seen;                                                                            \
    }

/* IN   n             elements
 * IN   x, y          prediction and target, n each (y may be NULL for single-input losses)
 * IN   sw            n sample weights or NULL
 * IN   prm           the loss's parameters (prm->hessian_floor: see FL_EW_HESS_BLOCK_FN)
 * IN   reduction     FL_NONE, FL_SUM or FL_MEAN
 * IN   denom_scale   'mean' divides by (sum of sw, or n) * denom_scale
 * OUT  loss          n losses times sw, or NULL
 * OUT  grad          n gradient entries of the reduced value w.r.t. x, or NULL; may be x
 * OUT  hess          n second derivatives of the reduced value w.r.t. x (the Hessian's
 *                    diagonal), or NULL; only for losses with a second derivative, only with
 *                    grad and without loss (FL_ERR_ARG otherwise), and *value is then NaN
 * OUT  value         reduced value (FL_NONE: the sum); NaN on a domain error
 * OUT  bad           on FL_ERR_PRED / FL_ERR_TARGET: the flat index of the first element
 *                    outside the loss's domain (see CHECK above); may be NULL
 * Returns FL_OK, FL_ERR_PRED (x out of the domain), FL_ERR_TARGET (y), FL_ERR_ARG or
 * FL_ERR_NOMEM. */
#define FL_EW_DRIVER(NAME, RANGE, LOCATE, HAS_HESS)                                             \
    FL_TARGET_CLONES                                                                            \
    int FL_FN(NAME)(int64_t n, const FL_REAL *x, const FL_REAL *y, const FL_REAL *restrict sw,  \
                    const fl_params *prm, int reduction, double denom_scale,                     \
                    FL_REAL *restrict loss, FL_REAL *grad, FL_REAL *restrict hess,               \
                    double *value, int64_t *bad, int n_threads) {                               \
        const int flags = FL_EW_FLAGS(sw, loss, grad, hess);                                    \
        if (!FL_EW_FLAGS_OK(flags, HAS_HESS)) return FL_ERR_ARG;                                \
        int64_t nb = (n + FL_BLOCK - 1) / FL_BLOCK;                                             \
        fl_partials ps;                                                                         \
        double *part = fl_partials_get(&ps, 2 * nb); /* block sums, then block CHECK bits */    \
        if (!part) return FL_ERR_NOMEM;                                                         \
        int *bits = (int *)(part + nb);                                                         \
        memset(bits, 0, (size_t)nb * sizeof(int));                                              \
        if (!y) y = x; /* single-input losses: the point ignores y */                          \
        int nt = fl_threads_for(n_threads, n, nb);                                              \
        double scale = 1.0;                                                                     \
        if (reduction == FL_MEAN) {                                                             \
            double d = sw ? FL_FN(fl_sum_blocks)(n, sw, part, nt) : (double)n;                  \
            scale = 1.0 / (d * denom_scale);                                                    \
        }                                                                                       \
        const FL_REAL gs = (FL_REAL)scale;                                                      \
        int seen = 0;                                                                           \
        FL_EW_RUN(RANGE(b0, b1, n, x, y, sw, prm, gs, loss, grad, hess, part, bits, flags))     \
        int rc = FL_OK;                                                                         \
        if (FL_EW_FAILED(seen)) {                                                               \
            rc = LOCATE(n, nb, x, y, prm, bits, seen, bad);                                     \
            *value = NAN;                                                                       \
        } else {                                                                                \
            *value = hess ? NAN : fl_sum_ordered(part, nb) * scale;                             \
        }                                                                                       \
        fl_partials_free(&ps);                                                                  \
        return rc;                                                                              \
    }

/* The pieces every kernel has: precheck, range, locate and driver around BLOCK. */
#define FL_EW_KERNEL_PARTS(NAME, BLOCK, HESS_CASES, HAS_HESS, CHECK)                            \
    FL_EW_PRECHECK_FN(FL_FN(NAME##_precheck), CHECK)                                            \
    FL_EW_RANGE_FN(FL_FN(NAME##_range), BLOCK, HESS_CASES, FL_FN(NAME##_precheck))              \
    FL_EW_LOCATE_FN(FL_FN(NAME##_locate), CHECK)                                                \
    FL_EW_DRIVER(NAME, FL_FN(NAME##_range), FL_FN(NAME##_locate), HAS_HESS)

/* A loss with value and gradient: POINT(x, y, prm, &l, &g); _CHECKED: with a CHECK. */
#define FL_ELEMENTWISE_CHECKED_KERNEL(NAME, POINT, CHECK)                                       \
    FL_EW_BLOCK_FN(FL_FN(NAME##_block), POINT, CHECK)                                           \
    FL_EW_KERNEL_PARTS(NAME, FL_FN(NAME##_block), , 0, CHECK)
#define FL_ELEMENTWISE_KERNEL(NAME, POINT) FL_ELEMENTWISE_CHECKED_KERNEL(NAME, POINT, fl_ew_no_check)

/* A loss with value, gradient and second derivative: POINT3(x, y, prm, &l, &g, &h). */
#define FL_ELEMENTWISE_CHECKED_HESS_KERNEL(NAME, POINT3, CHECK)                                 \
    FL_EW_POINT2_FN(FL_FN(NAME##_point2), POINT3)                                               \
    FL_EW_BLOCK_FN(FL_FN(NAME##_block), FL_FN(NAME##_point2), CHECK)                            \
    FL_EW_HESS_BLOCK_FN(FL_FN(NAME##_hblock), POINT3, CHECK)                                    \
    FL_EW_KERNEL_PARTS(NAME, FL_FN(NAME##_block), FL_EW_HESS_CASES(FL_FN(NAME##_hblock)), 1,   \
                       CHECK)
#define FL_ELEMENTWISE_HESS_KERNEL(NAME, POINT3)                                                \
    FL_ELEMENTWISE_CHECKED_HESS_KERNEL(NAME, POINT3, fl_ew_no_check)

/* FL_ELEMENTWISE_AB_KERNEL adds two per-element factors a and b read from compact arrays by a
 * broadcast pattern: element i reads a[(i / a_inner) % a_len] (and the same for b), which covers
 * torch's elementwise `weight` (any operand whose varying axes form one run of the prediction's
 * axes: (C,), (N, 1), (1, C, 1, 1), ...) and `pos_weight` along the last axis without
 * materialising the broadcast. The Python layer materialises only patterns that are not one run.
 *
 * The factors reach the vectorised loop through two small buffers: each block is cut into
 * chunks of FL_EW_CHUNK elements, the factor values of a chunk are copied into the buffers
 * (runs of consecutive values or of one repeated value: memcpy or a fill, no division per
 * element), and the block loop reads them like any other input. A missing factor is a buffer
 * of ones, filled once: 1 * v is exact, so that case gives the bits a factor-free point
 * would. So a weighted call runs the same vector loop as an unweighted one, and the kernel has
 * one loop per flag combination, as FL_ELEMENTWISE_KERNEL. A block's loss sum is the sum of
 * its chunks' sums in chunk order; blocks, checks, threads and the ordered block sum are those
 * of FL_ELEMENTWISE_KERNEL, so the bits do not depend on the thread count.
 *
 * POINT(x, y, a_i, b_i, prm, &l, &g). The mean divides by the sum of sw (or n); a and b never
 * enter the denominator (torch's convention for `weight`). */
#define FL_EW_CHUNK 1024

/* FILL: the next m values of a factor pattern into buf, from position (j, r): value a[j], of
 * which r repeats are used; updates (j, r). */
#define FL_EW_FILL_FN(FILL)                                                                     \
    static inline void FILL(FL_REAL *restrict buf, int64_t m, const FL_REAL *restrict a,         \
                            int64_t len, int64_t inner, int64_t *jp, int64_t *rp) {             \
        int64_t j = *jp, r = *rp, k = 0;                                                        \
        while (k < m) {                                                                         \
            if (inner == 1) { /* consecutive values, up to the end of a */                      \
                int64_t run = len - j < m - k ? len - j : m - k;                                \
                memcpy(buf + k, a + j, (size_t)run * sizeof(FL_REAL));                          \
                k += run;                                                                       \
                j += run;                                                                       \
                if (j == len) j = 0;                                                            \
            } else { /* a[j] repeated up to inner times */                                      \
                int64_t run = inner - r < m - k ? inner - r : m - k;                            \
                const FL_REAL v = a[j];                                                         \
                for (int64_t q = 0; q < run; q++) buf[k + q] = v;                               \
                k += run;                                                                       \
                r += run;                                                                       \
                if (r == inner) {                                                               \
                    r = 0;                                                                      \
                    if (++j == len) j = 0;                                                      \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
        *jp = j;                                                                                \
        *rp = r;                                                                                \
    }

/* The AB forms of FL_EW_BLOCK_FN / FL_EW_HESS_BLOCK_FN: element i's factors are fa[i - lo] and
 * fb[i - lo]. */
#define FL_EW_AB_BLOCK_FN(BLOCK, POINT, CHECK)                                                  \
    static inline __attribute__((always_inline)) double BLOCK(                                  \
        int64_t lo, int64_t hi, const FL_REAL *x, const FL_REAL *y,                             \
        const FL_REAL *restrict sw, const FL_REAL *restrict fa, const FL_REAL *restrict fb,     \
        const fl_params *prm, FL_REAL gs, FL_REAL *restrict loss, FL_REAL *grad, int *bits,     \
        int has_sw, int want_loss, int want_grad) {                                             \
        double acc = 0.0;                                                                       \
        int f = 0;                                                                              \
        _Pragma("omp simd reduction(+ : acc) reduction(| : f)")                                 \
        for (int64_t i = lo; i < hi; i++) {                                                     \
            FL_REAL xi = x[i], yi = y[i], l, g;                                                 \
            f |= CHECK(xi, yi, prm);                                                            \
            POINT(xi, yi, fa[i - lo], fb[i - lo], prm, &l, &g);                                 \
            if (has_sw) {                                                                       \
                l *= sw[i];                                                                     \
                g *= sw[i];                                                                     \
            }                                                                                   \
            acc += (double)l;                                                                   \
            if (want_loss) loss[i] = l;                                                         \
            if (want_grad) grad[i] = gs * g;                                                    \
        }                                                                                       \
        *bits = f;                                                                              \
        return acc;                                                                             \
    }
#define FL_EW_AB_HESS_BLOCK_FN(HBLOCK, POINT3, CHECK)                                           \
    static inline __attribute__((always_inline)) void HBLOCK(                                   \
        int64_t lo, int64_t hi, const FL_REAL *x, const FL_REAL *y,                             \
        const FL_REAL *restrict sw, const FL_REAL *restrict fa, const FL_REAL *restrict fb,     \
        const fl_params *prm, FL_REAL gs, FL_REAL *grad, FL_REAL *restrict hess, int *bits,     \
        int has_sw) {                                                                           \
        const FL_REAL floor_ = (FL_REAL)prm->hessian_floor;                                     \
        int f = 0;                                                                              \
        _Pragma("omp simd reduction(| : f)")                                                    \
        for (int64_t i = lo; i < hi; i++) {                                                     \
            FL_REAL xi = x[i], yi = y[i], l, g, h;                                              \
            f |= CHECK(xi, yi, prm);                                                            \
            POINT3(xi, yi, fa[i - lo], fb[i - lo], prm, &l, &g, &h);                            \
            h = h < floor_ ? floor_ : h;                                                        \
            if (has_sw) {                                                                       \
                g *= sw[i];                                                                     \
                h *= sw[i];                                                                     \
            }                                                                                   \
            grad[i] = gs * g;                                                                   \
            hess[i] = gs * h;                                                                   \
        }                                                                                       \
        *bits = f;                                                                              \
    }

#define FL_EW_AB_CASE(K, BLOCK)                                                                 \
    case K:                                                                                     \
        acc += BLOCK(c, ce, x, y, sw, fa, fb, prm, gs, loss, grad, &fc, (K)&FL_EW_HAS_SW,        \
                     (K)&FL_EW_WANT_LOSS, (K)&FL_EW_WANT_GRAD);                                 \
        break;
#define FL_EW_AB_SWITCH(flags, BLOCK, HESS_CASES)                                               \
    switch (flags) {                                                                            \
        FL_EW_AB_CASE(0, BLOCK) FL_EW_AB_CASE(1, BLOCK) FL_EW_AB_CASE(2, BLOCK)                 \
        FL_EW_AB_CASE(3, BLOCK) FL_EW_AB_CASE(4, BLOCK) FL_EW_AB_CASE(5, BLOCK)                 \
        FL_EW_AB_CASE(6, BLOCK) FL_EW_AB_CASE(7, BLOCK)                                         \
        HESS_CASES                                                                              \
    }
#define FL_EW_AB_HESS_CASES(HBLOCK)                                                             \
    case FL_EW_WANT_HESS | FL_EW_WANT_GRAD:                                                     \
        HBLOCK(c, ce, x, y, sw, fa, fb, prm, gs, grad, hess, &fc, 0);                           \
        break;                                                                                  \
    case FL_EW_WANT_HESS | FL_EW_HAS_SW | FL_EW_WANT_GRAD:                                      \
        HBLOCK(c, ce, x, y, sw, fa, fb, prm, gs, grad, hess, &fc, 1);                           \
        break;

/* IN   n                       elements
 * IN   x, y                    prediction and target, n each
 * IN   sw                      n sample weights or NULL
 * IN   a, a_len, a_inner       first factor pattern (a NULL: 1)
 * IN   b, b_len, b_inner       second factor pattern (b NULL: 1)
 * IN   prm                     the loss's parameters
 * IN   reduction               FL_NONE, FL_SUM or FL_MEAN
 * OUT  loss                    n losses times sw, or NULL
 * OUT  grad                    n gradient entries of the reduced value w.r.t. x, or NULL; may
 *                              be x
 * OUT  hess                    n second derivatives, or NULL (as FL_ELEMENTWISE_KERNEL's)
 * OUT  value                   reduced value (FL_NONE: the sum)
 * OUT  bad                     the first element outside the domain (as FL_ELEMENTWISE_KERNEL's)
 * y is required: FL_ERR_ARG without it. */
#define FL_EW_AB_RANGE_FN(RANGE, BLOCK, HESS_CASES, FILL, PRECHECK)                             \
    FL_TARGET_CLONES static int RANGE(                                                          \
        int64_t b0, int64_t b1, int64_t n, const FL_REAL *x, const FL_REAL *y,                  \
        const FL_REAL *restrict sw, const FL_REAL *restrict a, int64_t a_len, int64_t a_inner,  \
        const FL_REAL *restrict b, int64_t b_len, int64_t b_inner, const fl_params *prm,        \
        FL_REAL gs, FL_REAL *restrict loss, FL_REAL *grad, FL_REAL *restrict hess,              \
        double *part, int *bits, int flags) {                                                   \
        FL_REAL fa[FL_EW_CHUNK], fb[FL_EW_CHUNK];                                               \
        for (int k = 0; k < FL_EW_CHUNK; k++) fa[k] = fb[k] = (FL_REAL)1;                       \
        const int inplace = grad == x;                                                          \
        int seen = 0;                                                                           \
        for (int64_t blk = b0; blk < b1; blk++) {                                               \
            int64_t lo = blk * FL_BLOCK, hi = lo + FL_BLOCK < n ? lo + FL_BLOCK : n;            \
            double acc = 0.0;                                                                   \
            int f = inplace ? PRECHECK(lo, hi, x, y, prm) : 0;                                  \
            if (!FL_EW_FAILED(f)) {                                                             \
                int64_t ja = a ? (lo / a_inner) % a_len : 0, ra = a ? lo % a_inner : 0;         \
                int64_t jb = b ? (lo / b_inner) % b_len : 0, rb = b ? lo % b_inner : 0;         \
                for (int64_t c = lo; c < hi; c += FL_EW_CHUNK) {                                \
                    int64_t ce = c + FL_EW_CHUNK < hi ? c + FL_EW_CHUNK : hi;                   \
                    if (a) FILL(fa, ce - c, a, a_len, a_inner, &ja, &ra);                       \
                    if (b) FILL(fb, ce - c, b, b_len, b_inner, &jb, &rb);                       \
                    int fc = 0;                                                                 \
                    FL_EW_AB_SWITCH(flags, BLOCK, HESS_CASES)                                   \
                    f |= fc;                                                                    \
                }                                                                               \
            }                                                                                   \
            part[blk] = acc;                                                                    \
            bits[blk] = f;                                                                      \
            seen |= f;                                                                          \
            if (FL_EW_FAILED(seen)) break;                                                      \
        }                                                                                       \
        return seen;                                                                            \
    }

#define FL_EW_AB_DRIVER(NAME, RANGE, LOCATE, HAS_HESS)                                          \
    FL_TARGET_CLONES                                                                            \
    int FL_FN(NAME)(int64_t n, const FL_REAL *x, const FL_REAL *y, const FL_REAL *restrict sw,  \
                    const FL_REAL *restrict a, int64_t a_len, int64_t a_inner,                  \
                    const FL_REAL *restrict b, int64_t b_len, int64_t b_inner,                  \
                    const fl_params *prm, int reduction, FL_REAL *restrict loss, FL_REAL *grad, \
                    FL_REAL *restrict hess, double *value, int64_t *bad, int n_threads) {       \
        const int flags = FL_EW_FLAGS(sw, loss, grad, hess);                                    \
        if (!FL_EW_FLAGS_OK(flags, HAS_HESS) || (!y && n > 0)) return FL_ERR_ARG;               \
        int64_t nb = (n + FL_BLOCK - 1) / FL_BLOCK;                                             \
        fl_partials ps;                                                                         \
        double *part = fl_partials_get(&ps, 2 * nb);                                            \
        if (!part) return FL_ERR_NOMEM;                                                         \
        int *bits = (int *)(part + nb);                                                         \
        memset(bits, 0, (size_t)nb * sizeof(int));                                              \
        int nt = fl_threads_for(n_threads, n, nb);                                              \
        double scale = 1.0;                                                                     \
        if (reduction == FL_MEAN) {                                                             \
            double d = sw ? FL_FN(fl_sum_blocks)(n, sw, part, nt) : (double)n;                  \
            scale = 1.0 / d;                                                                    \
        }                                                                                       \
        const FL_REAL gs = (FL_REAL)scale;                                                      \
        int seen = 0;                                                                           \
        FL_EW_RUN(RANGE(b0, b1, n, x, y, sw, a, a_len, a_inner, b, b_len, b_inner, prm, gs,     \
                        loss, grad, hess, part, bits, flags))                                   \
        int rc = FL_OK;                                                                         \
        if (FL_EW_FAILED(seen)) {                                                               \
            rc = LOCATE(n, nb, x, y, prm, bits, seen, bad);                                     \
            *value = NAN;                                                                       \
        } else {                                                                                \
            *value = hess ? NAN : fl_sum_ordered(part, nb) * scale;                             \
        }                                                                                       \
        fl_partials_free(&ps);                                                                  \
        return rc;                                                                              \
    }

#define FL_EW_AB_PARTS(NAME, HESS_CASES, HAS_HESS, CHECK)                                       \
    FL_EW_FILL_FN(FL_FN(NAME##_fill))                                                           \
    FL_EW_PRECHECK_FN(FL_FN(NAME##_precheck), CHECK)                                            \
    FL_EW_AB_RANGE_FN(FL_FN(NAME##_range), FL_FN(NAME##_block), HESS_CASES, FL_FN(NAME##_fill), \
                      FL_FN(NAME##_precheck))                                                   \
    FL_EW_LOCATE_FN(FL_FN(NAME##_locate), CHECK)                                                \
    FL_EW_AB_DRIVER(NAME, FL_FN(NAME##_range), FL_FN(NAME##_locate), HAS_HESS)

/* POINT(x, y, a_i, b_i, prm, &l, &g); CHECK as for FL_ELEMENTWISE_CHECKED_KERNEL
 * (fl_ew_no_check: none). */
#define FL_ELEMENTWISE_AB_KERNEL(NAME, POINT, CHECK)                                            \
    FL_EW_AB_BLOCK_FN(FL_FN(NAME##_block), POINT, CHECK)                                        \
    FL_EW_AB_PARTS(NAME, , 0, CHECK)

/* POINT3(x, y, a_i, b_i, prm, &l, &g, &h): the same with a second derivative. */
#define FL_ELEMENTWISE_AB_HESS_KERNEL(NAME, POINT3, CHECK)                                      \
    FL_POINT_FN void FL_FN(NAME##_point2)(FL_REAL x, FL_REAL y, FL_REAL av, FL_REAL bv,          \
                                          const fl_params *prm, FL_REAL *l, FL_REAL *g) {       \
        FL_REAL h;                                                                              \
        POINT3(x, y, av, bv, prm, l, g, &h);                                                    \
    }                                                                                           \
    FL_EW_AB_BLOCK_FN(FL_FN(NAME##_block), FL_FN(NAME##_point2), CHECK)                         \
    FL_EW_AB_HESS_BLOCK_FN(FL_FN(NAME##_hblock), POINT3, CHECK)                                 \
    FL_EW_AB_PARTS(NAME, FL_EW_AB_HESS_CASES(FL_FN(NAME##_hblock)), 1, CHECK)

#endif
