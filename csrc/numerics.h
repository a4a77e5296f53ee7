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

/* softplus(x) = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): exp never overflows, and for
 * x -> -inf the result underflows gracefully instead of rounding log(1 + tiny) to 0 early. */
static inline double fl_softplus(double x) {
    return fmax(x, 0.0) + log1p(exp(-fabs(x)));
}
static inline float fl_softplusf(float x) {
    return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
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
