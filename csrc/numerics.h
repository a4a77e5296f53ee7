/* Stable scalar primitives shared by the kernels, in float and double versions. */
#ifndef FASTLOSS_NUMERICS_H
#define FASTLOSS_NUMERICS_H

#include <math.h>

/* x*log(y) with 0*log(y) = 0 for every y (0*log 0 = 0), NaN propagated from y when x == 0 too.
 * Same convention as scipy.special.xlogy and torch.xlogy. */
static inline double fl_xlogy(double x, double y) {
    if (x == 0.0 && !isnan(y)) return 0.0;
    return x * log(y);
}
static inline float fl_xlogyf(float x, float y) {
    if (x == 0.0f && !isnan(y)) return 0.0f;
    return x * logf(y);
}

/* log1p(x) through log, so loops that call it vectorise (glibc has vector log but, before 2.35,
 * no vector log1p): u = 1 + x rounds, and log(u) * x / (u - 1) cancels that rounding error
 * (Goldberg, "What every computer scientist should know about floating-point arithmetic",
 * 1991, Theorem 4: a few ulp). Edges: u == 1 (|x| below half an ulp of 1) gives x itself;
 * x = +inf gives +inf (inf/inf would be NaN); x = -1 gives -inf, x < -1 and NaN give NaN. */
static inline double fl_log1p(double x) {
    double u = 1.0 + x, d = u - 1.0;
    double r = d == 0.0 ? x : log(u) * (x / d);
    return u == INFINITY ? u : r;
}
static inline float fl_log1pf(float x) {
    float u = 1.0f + x, d = u - 1.0f;
    float r = d == 0.0f ? x : logf(u) * (x / d);
    return u == INFINITY ? u : r;
}

/* expm1(x) through exp and log, for the same reason (Kahan's formula: with u = exp(x) rounded,
 * (u - 1) * x / log(u) cancels the rounding of u to a few ulp). Edges: u == 1 gives x;
 * u - 1 == -1 (x below about -37 in double, -17 in float) gives -1; u = +inf gives +inf; NaN
 * stays NaN. */
static inline double fl_expm1(double x) {
    double u = exp(x), d = u - 1.0;
    double r = u == 1.0 ? x : (d == -1.0 ? -1.0 : d * (x / log(u)));
    return u == INFINITY ? u : r;
}
static inline float fl_expm1f(float x) {
    float u = expf(x), d = u - 1.0f;
    float r = u == 1.0f ? x : (d == -1.0f ? -1.0f : d * (x / logf(u)));
    return u == INFINITY ? u : r;
}

/* softplus(x) = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): exp never overflows, and for
 * x -> -inf the result underflows gracefully instead of rounding log(1 + tiny) to 0 early. */
static inline double fl_softplus(double x) {
    return fmax(x, 0.0) + fl_log1p(exp(-fabs(x)));
}
static inline float fl_softplusf(float x) {
    return fmaxf(x, 0.0f) + fl_log1pf(expf(-fabsf(x)));
}

/* logistic sigmoid without overflow for either sign. */
static inline double fl_sigmoid(double x) {
    if (x >= 0.0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}
static inline float fl_sigmoidf(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

#endif
