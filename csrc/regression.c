/* Regression losses: mse, mae, rmse, msle, huber, smooth_l1, log_cosh, and for boosting the
 * deviances poisson, gamma, tweedie, pinball, poisson_nll, gaussian_nll (regression_impl.h). */
#include "fastloss.h"
#include "numerics.h"
#include "parallel.h"
#include "simd.h"
#include "template.h"
#include "elementwise.h"

#include "type_float.h"
#include "regression_impl.h"
#include "type_undef.h"

#include "type_double.h"
#include "regression_impl.h"
#include "type_undef.h"
