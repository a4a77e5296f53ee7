/* Connectionist temporal classification (CTC) loss with a fused log-softmax; see sequence_impl.h. */
#include <stdlib.h>
#include <string.h>

#include "fastloss.h"
#include "numerics.h"
#include "parallel.h"
#include "simd.h"
#include "template.h"

/* log(exp(a) + exp(b)) without overflow: max + log1p(exp(-|a - b|)). -inf is the log of 0 and
 * must be handled first, since -inf - (-inf) is NaN. NaN in either argument gives NaN. */
static inline double fl_ctc_lae(double a, double b) {
    if (a == -INFINITY) return b;
    if (b == -INFINITY) return a;
    double m = a > b ? a : b;
    return m + log1p(exp(-fabs(a - b)));
}

/* log(exp(a) + exp(b) + exp(c)) with the largest term factored out (-inf when all are). */
static inline double fl_ctc_lse3(double a, double b, double c) {
    double m = a > b ? a : b;
    m = m > c ? m : c;
    if (m == -INFINITY) return m;
    return m + log(exp(a - m) + exp(b - m) + exp(c - m));
}

#include "type_float.h"
#include "sequence_impl.h"
#include "type_undef.h"

#include "type_double.h"
#include "sequence_impl.h"
#include "type_undef.h"
