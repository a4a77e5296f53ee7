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
    double beta;            /* smooth_l1: width of the quadratic zone (0: L1) */
    double gamma;           /* focal: focusing exponent >= 0 */
    double alpha;           /* focal: weight of the positive term in [0, 1]; < 0: none */
    double label_smoothing; /* bce_logits: t' = t (1 - eps) + eps / 2 (Keras) */
    int from_logits;        /* focal: x holds logits (else probabilities) */
    int saturating;         /* gan_generator: minimax log(1 - s(x)) instead of -log s(x) */
    double power;           /* tweedie: variance power p (poisson 1, gamma 2) */
    double quantile;        /* pinball: q in (0, 1) */
    double eps;             /* poisson_nll: added to the rate; gaussian_nll: variance clamp */
    double var;             /* gaussian_nll: the variance, times the factor a when given */
    int log_input;          /* poisson_nll: x is log(rate) */
    int full;               /* poisson_nll, gaussian_nll: add the constant terms */
    double hessian_floor;   /* grad_hess: lower bound of each second derivative (-inf: none) */
} fl_params;

/* The elementwise kernels (elementwise.h): one pass over x, y (y NULL for single-input losses)
 * and optional sample weights sw, writing the per-element losses and/or the gradient of the
 * reduced value, or the gradient and its derivative (hess: the second derivatives, for the
 * losses that have them; FL_ERR_ARG from the others). 'mean' divides by (sum of sw, or n) *
 * denom_scale. grad may be x itself (an in-place gradient). An element outside the loss's
 * domain gives FL_ERR_PRED (in x) or FL_ERR_TARGET (in y) with its flat index in *bad. */
#define FL_DECLARE_ELEMENTWISE(NAME, T, SUF)                                                    \
    int NAME##_##SUF(int64_t n, const T *x, const T *y, const T *sw, const fl_params *prm,      \
                     int reduction, double denom_scale, T *loss, T *grad, T *hess,              \
                     double *value, int64_t *bad, int n_threads);

/* Elementwise kernels with two per-element factors read by a broadcast pattern
 * (elementwise.h): element i reads a[(i / a_inner) % a_len], likewise b; NULL reads 1. */
#define FL_DECLARE_ELEMENTWISE_AB(NAME, T, SUF)                                                 \
    int NAME##_##SUF(int64_t n, const T *x, const T *y, const T *sw, const T *a, int64_t a_len, \
                     int64_t a_inner, const T *b, int64_t b_len, int64_t b_inner,               \
                     const fl_params *prm, int reduction, T *loss, T *grad, T *hess,            \
                     double *value, int64_t *bad, int n_threads);

/* regression.c */
#define FL_DECLARE_REGRESSION(T, SUF)                                                           \
    FL_DECLARE_ELEMENTWISE(fl_mse, T, SUF)                                                      \
    FL_DECLARE_ELEMENTWISE(fl_mae, T, SUF)                                                      \
    FL_DECLARE_ELEMENTWISE(fl_rmse, T, SUF)                                                     \
    FL_DECLARE_ELEMENTWISE(fl_msle, T, SUF)                                                     \
    FL_DECLARE_ELEMENTWISE(fl_huber, T, SUF)                                                    \
    FL_DECLARE_ELEMENTWISE(fl_smooth_l1, T, SUF)                                                \
    FL_DECLARE_ELEMENTWISE(fl_log_cosh, T, SUF)                                                 \
    FL_DECLARE_ELEMENTWISE(fl_tweedie, T, SUF)                                                  \
    FL_DECLARE_ELEMENTWISE(fl_pinball, T, SUF)                                                  \
    FL_DECLARE_ELEMENTWISE(fl_poisson_nll, T, SUF)                                              \
    FL_DECLARE_ELEMENTWISE_AB(fl_gaussian_nll, T, SUF)

/* binary.c */
#define FL_DECLARE_BINARY(T, SUF)                                                               \
    FL_DECLARE_ELEMENTWISE(fl_hinge, T, SUF)                                                    \
    FL_DECLARE_ELEMENTWISE(fl_squared_hinge, T, SUF)                                            \
    FL_DECLARE_ELEMENTWISE(fl_focal, T, SUF)                                                    \
    FL_DECLARE_ELEMENTWISE(fl_focal_g2, T, SUF)                                                 \
    FL_DECLARE_ELEMENTWISE(fl_focal_probs, T, SUF)                                              \
    FL_DECLARE_ELEMENTWISE(fl_softplus_neg, T, SUF)                                             \
    FL_DECLARE_ELEMENTWISE(fl_softplus_pos, T, SUF)                                             \
    FL_DECLARE_ELEMENTWISE(fl_gan_generator, T, SUF)                                            \
    FL_DECLARE_ELEMENTWISE_AB(fl_bce, T, SUF)                                                   \
    FL_DECLARE_ELEMENTWISE_AB(fl_bce_logits, T, SUF)                                            \
    int fl_gan_discriminator_##SUF(int64_t n_r, const T *real, const T *sw_r, int64_t n_f,      \
                                   const T *fake, const T *sw_f, int reduction, T *loss_r,      \
                                   T *loss_f, T *grad_r, T *grad_f, double *value,              \
                                   int n_threads);

/* multiclass.c: rows of c classes (classes last, C-contiguous) unless said otherwise */
#define FL_DECLARE_MULTICLASS(T, SUF)                                                           \
    /* hess (or NULL; needs grad): the diagonal of the Hessian, each sample's second        \
     * derivatives raised to hess_floor before its weight multiplies them */                   \
    int fl_ce_index_##SUF(int64_t n, int64_t c, const T *logits, const int64_t *labels,         \
                          const T *sw, const double *cw, int64_t ignore_index, double eps,      \
                          double inv_t, int reduction, T *loss, T *grad, T *hess,               \
                          double hess_floor, double *value, int64_t *bad, int n_threads);       \
    int fl_ce_index_strided_##SUF(int64_t o_n, int64_t c, int64_t inner, const T *logits,         \
                                  const int64_t *labels, const T *sw, const double *cw,         \
                                  int64_t ignore_index, double eps, double inv_t, int reduction, \
                                  T *loss, T *grad, T *hess, double hess_floor, double *value,  \
                                  int64_t *bad, int n_threads);                                 \
    int fl_ce_prob_##SUF(int64_t n, int64_t c, const T *logits, const T *target, const T *sw,   \
                         const double *cw, double eps, double inv_t, int reduction, T *loss,    \
                         T *grad, T *hess, double hess_floor, double *value, int n_threads);    \
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
                         int n_threads);                                                        \
    FL_DECLARE_ELEMENTWISE(fl_kl_logq_t, T, SUF)                                                \
    FL_DECLARE_ELEMENTWISE(fl_kl_logq_logt, T, SUF)                                             \
    FL_DECLARE_ELEMENTWISE(fl_kl_q_t, T, SUF)                                                   \
    FL_DECLARE_ELEMENTWISE(fl_kl_q_logt, T, SUF)

/* segmentation.c: pred (o_n, c, inner) with the classes on the middle axis */
#define FL_DECLARE_SEGMENTATION(T, SUF)                                                         \
    int fl_dice_##SUF(int64_t o_n, int64_t c, int64_t inner, const T *pred, const T *target,    \
                      const int64_t *labels, const T *sw, double smooth, int from_logits,       \
                      int reduction, T *loss, T *grad, double *value, int64_t *bad,             \
                      int n_threads);

/* sequence.c */
#define FL_DECLARE_SEQUENCE(T, SUF)                                                             \
    int fl_ctc_##SUF(int64_t n, int64_t t_max, int64_t c, const T *logits,                      \
                     const int64_t *targets, int64_t n_targets, const int64_t *offsets,         \
                     const int64_t *input_lengths, const int64_t *target_lengths,               \
                     int64_t blank, int reduction, int zero_infinity, T *loss, T *grad,         \
                     double *value, int64_t *bad, int n_threads);

/* detection.c */
#define FL_DECLARE_DETECTION(T, SUF)                                                            \
    int fl_ssd_##SUF(int64_t n, int64_t a, int64_t c, const T *loc_pred, const T *loc_target,  \
                     const T *conf, const int64_t *labels, double neg_pos_ratio, double beta,   \
                     int reduction, T *loss, T *grad_loc, T *grad_conf, double *value,          \
                     int64_t *bad, int n_threads);

#define FL_DECLARE_ALL(T, SUF)                                                                  \
    FL_DECLARE_REGRESSION(T, SUF)                                                               \
    FL_DECLARE_BINARY(T, SUF)                                                                   \
    FL_DECLARE_MULTICLASS(T, SUF)                                                               \
    FL_DECLARE_SEGMENTATION(T, SUF)                                                             \
    FL_DECLARE_SEQUENCE(T, SUF)                                                                 \
    FL_DECLARE_DETECTION(T, SUF)

FL_DECLARE_ALL(float, f32)
FL_DECLARE_ALL(double, f64)

/* Build facts for show_config(). */
int fl_default_threads(void);
int fl_have_openmp(void);
const char *fl_simd_path(void);
int fl_have_libmvec(void);

#endif
