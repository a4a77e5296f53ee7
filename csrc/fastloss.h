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

/* Sequence and detection losses (ctc.c, ssd.c). */
#define FL_DECLARE_SEQUENCE(T, SUF)                                                             \
    int fl_ctc_##SUF(int64_t n, int64_t t_max, int64_t c, const T *logits,                      \
                     const int64_t *targets, int64_t n_targets, const int64_t *offsets,         \
                     const int64_t *input_lengths, const int64_t *target_lengths,               \
                     int64_t blank, int reduction, int zero_infinity, T *loss, T *grad,         \
                     double *value, int64_t *bad, int n_threads);                               \
    int fl_ssd_##SUF(int64_t n, int64_t a, int64_t c, const T *loc_pred, const T *loc_target,  \
                     const T *conf, const int64_t *labels, double neg_pos_ratio, double beta,   \
                     int reduction, T *loss, T *grad_loc, T *grad_conf, double *value,          \
                     int64_t *bad, int n_threads);

FL_DECLARE_SEQUENCE(float, f32)
FL_DECLARE_SEQUENCE(double, f64)

/* Build facts for show_config(). */
int fl_default_threads(void);
int fl_have_openmp(void);

#endif
