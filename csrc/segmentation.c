/* Segmentation losses: soft Dice (segmentation_impl.h). */
#include "fastloss.h"
#include "numerics.h"
#include "parallel.h"
#include "simd.h"
#include "template.h"

#include "type_float.h"
#include "segmentation_impl.h"
#include "type_undef.h"

#include "type_double.h"
#include "segmentation_impl.h"
#include "type_undef.h"
