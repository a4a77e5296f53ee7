/* Multi-class losses: softmax cross-entropy, multi-margin, distillation, KL divergence and the
 * softmax utilities (multiclass_impl.h). */
#include "fastloss.h"
#include "numerics.h"
#include "parallel.h"
#include "simd.h"
#include "template.h"
#include "elementwise.h"

#include "type_float.h"
#include "multiclass_impl.h"
#include "type_undef.h"

#include "type_double.h"
#include "multiclass_impl.h"
#include "type_undef.h"
