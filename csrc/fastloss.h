/* fastloss C API: plain C11, no Python. Every kernel takes C-contiguous arrays, computes the
 * requested outputs (per-sample loss, gradient of the reduced value, reduced value) in one call
 * and returns FL_OK or a negative FL_ERR_* code (parallel.h). Outputs passed as NULL are skipped.
 * Each kernel exists as <name>_f32 (float) and <name>_f64 (double). */
#ifndef FASTLOSS_H
#define FASTLOSS_H

#include <stdint.h>

#define FL_NONE 0
#define FL_SUM 1
#define FL_MEAN 2

/* Parameters of the elementwise losses; each loss reads only its own fields. */
typedef struct {
    double delta; /* huber */
} fl_params;

#define FL_DECLARE_ELEMENTWISE(NAME, T, SUF)                                                    \
    int NAME##_##SUF(int64_t n, const T *x, const T *y, const T *sw, const fl_params *prm,      \
                     int reduction, double denom_scale, T *loss, T *grad, double *value,        \
                     int n_threads);

#define FL_DECLARE_ALL(T, SUF)                                                                  \
    int fl_ce_index_##SUF(int64_t n, int64_t c, const T *logits, const int64_t *labels,         \
                          const T *sw, const double *cw, int64_t ignore_index, double eps,      \
                          double inv_t, int reduction, T *loss, T *grad, double *value,         \
                          int64_t *bad, int n_threads);                                         \
    int fl_ce_prob_##SUF(int64_t n, int64_t c, const T *logits, const T *target, const T *sw,   \
                         const double *cw, double eps, double inv_t, int reduction, T *loss,    \
                         T *grad, double *value, int n_threads);                                \
    int fl_dice_##SUF(int64_t o_n, int64_t c, int64_t inner, const T *pred, const T *target,    \
                      const int64_t *labels, const T *sw, double smooth, int from_logits,       \
                      int reduction, T *loss, T *grad, double *value, int64_t *bad,             \
                      int n_threads);                                                           \
    int fl_check_binary_targets_##SUF(int64_t n, const T *y, int64_t *bad);                     \
    FL_DECLARE_ELEMENTWISE(fl_huber, T, SUF)                                                    \
    FL_DECLARE_ELEMENTWISE(fl_hinge, T, SUF)                                                    \
    FL_DECLARE_ELEMENTWISE(fl_kl_logq_t, T, SUF)                                                \
    FL_DECLARE_ELEMENTWISE(fl_kl_logq_logt, T, SUF)                                             \
    FL_DECLARE_ELEMENTWISE(fl_kl_q_t, T, SUF)                                                   \
    FL_DECLARE_ELEMENTWISE(fl_kl_q_logt, T, SUF)

FL_DECLARE_ALL(float, f32)
FL_DECLARE_ALL(double, f64)

/* Row-wise (class-axis) kernels, csrc/rowwise.c: softmax utilities, multi-margin, distillation. */
#define FL_DECLARE_ROWWISE(T, SUF)                                                              \
    int fl_softmax_##SUF(int64_t n, int64_t c, const T *z, double inv_t, int log_out, T *out,    \
                         int n_threads);                                                        \
    int fl_softmax_vjp_##SUF(int64_t n, int64_t c, const T *z, const T *v, double inv_t,        \
                             int log_in, T *out, int n_threads);                                \
    int fl_logsumexp_##SUF(int64_t n, int64_t c, const T *z, const T *cot, double inv_t,        \
                           T *out, T *grad, int n_threads);                                     \
    int fl_multi_margin_##SUF(int64_t n, int64_t c, const T *x, const int64_t *labels,          \
                              const T *sw, const double *cw, int p, double margin,              \
                              int reduction, T *loss, T *grad, double *value, int64_t *bad,     \
                              int n_threads);                                                   \
    int fl_distill_##SUF(int64_t n, int64_t c, const T *zs, const T *zt, const int64_t *labels, \
                         const T *target, const T *sw, double temperature, double alpha,        \
                         int reduction, T *loss, T *grad, double *value, int64_t *bad,          \
                         int n_threads);

FL_DECLARE_ROWWISE(float, f32)
FL_DECLARE_ROWWISE(double, f64)

/* Build facts for show_config(). */
int fl_default_threads(void);
int fl_have_openmp(void);
const char *fl_simd_path(void);
int fl_have_libmvec(void);

#endif
