/* Binary-classification losses: hinge, squared hinge, binary cross-entropy (probabilities and
 * logits), focal and the GAN losses (binary_impl.h). */
#include <string.h>

#include "fastloss.h"
#include "numerics.h"
#include "parallel.h"
#include "simd.h"
#include "template.h"
#include "elementwise.h"

/* The one math name this family needs beyond type_*.h, kept local to it. */
#include "type_float.h"
#define RB_POW powf
#include "binary_impl.h"
#undef RB_POW
#include "type_undef.h"

#include "type_double.h"
#define RB_POW pow
#include "binary_impl.h"
#undef RB_POW
#include "type_undef.h"
