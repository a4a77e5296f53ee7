/* Regression and binary-classification losses of the catalogue (mse, mae, rmse, msle, smooth_l1,
 * log_cosh, binary cross-entropy with and without logits, squared hinge, focal, GAN losses). */
#include <string.h>

#include "fastloss.h"
#include "numerics.h"
#include "parallel.h"
#include "simd.h"
#include "template.h"
#include "elementwise.h"
#include "regression_binary.h"

/* The few math names this family needs beyond type_*.h, kept local to it. */
#include "type_float.h"
#define RB_POW powf
#include "regression_binary_impl.h"
#undef RB_POW
#include "type_undef.h"

#include "type_double.h"
#define RB_POW pow
#include "regression_binary_impl.h"
#undef RB_POW
#include "type_undef.h"
