/* Connectionist temporal classification (CTC) loss with a fused log-softmax; see sequence_impl.h. */
#include <stdlib.h>
#include <string.h>

#include "fastloss.h"
#include "numerics.h"
#include "parallel.h"
#include "simd.h"
#include "template.h"

#include "type_float.h"
#include "sequence_impl.h"
#include "type_undef.h"

#include "type_double.h"
#include "sequence_impl.h"
#include "type_undef.h"
