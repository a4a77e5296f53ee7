#include "fastloss.h"
#include "numerics.h"
#include "parallel.h"
#include "template.h"
#include "elementwise.h"

#include "type_float.h"
#include "elementwise_impl.h"
#include "type_undef.h"

#include "type_double.h"
#include "elementwise_impl.h"
#include "type_undef.h"
