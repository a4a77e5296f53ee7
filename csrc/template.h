/* Type-generic kernels: a family's *_impl.h is included once per floating type with FL_REAL,
 * FL_SUF and the math names defined (see fl_type_float.h / fl_type_double.h), so one body of
 * code serves float and double while each keeps its own arithmetic. */
#ifndef FASTLOSS_TEMPLATE_H
#define FASTLOSS_TEMPLATE_H
#define FL_CAT2(a, b) a##_##b
#define FL_CAT(a, b) FL_CAT2(a, b)
#define FL_FN(name) FL_CAT(name, FL_SUF)
#endif
