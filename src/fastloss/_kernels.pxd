# The C API of csrc/fastloss.h, declared for the typed wrappers in _kernels.pyx. Every kernel
# takes flat C-contiguous arrays (NULL for an absent optional one) and returns FL_OK (0) or a
# negative FL_ERR_* code; see fastloss.h for the meaning of each argument.

from libc.stdint cimport int64_t

cdef extern from "fastloss.h" nogil:
    ctypedef struct fl_params:
        double delta
        double beta
        double gamma
        double alpha
        double label_smoothing
        int from_logits
        int saturating
        double power
        double quantile
        double eps
        double var
        int log_input
        int full
        double hessian_floor

    int fl_default_threads()
    void fl_install_fork_guard()
    int fl_teams_available()

cdef extern from "parallel.h" nogil:
    void fl_stream_copy(int64_t, const float*, float*, int)
    double fl_stream_sum(int64_t, const float*, int)

cdef extern from "fastloss.h" nogil:
    int fl_have_openmp()
    const char* fl_simd_path()
    int fl_have_libmvec()

    # regression.c
    int fl_mse_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, float*, double*, int64_t*, int)
    int fl_mse_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, double*, int64_t*, int)
    int fl_mae_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, float*, double*, int64_t*, int)
    int fl_mae_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, double*, int64_t*, int)
    int fl_rmse_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, float*, double*, int64_t*, int)
    int fl_rmse_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, double*, int64_t*, int)
    int fl_msle_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, float*, double*, int64_t*, int)
    int fl_msle_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, double*, int64_t*, int)
    int fl_huber_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, float*, double*, int64_t*, int)
    int fl_huber_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, double*, int64_t*, int)
    int fl_smooth_l1_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, float*, double*, int64_t*, int)
    int fl_smooth_l1_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, double*, int64_t*, int)
    int fl_log_cosh_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, float*, double*, int64_t*, int)
    int fl_log_cosh_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, double*, int64_t*, int)

    int fl_tweedie_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, float*, double*, int64_t*, int)
    int fl_tweedie_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, double*, int64_t*, int)
    int fl_pinball_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, float*, double*, int64_t*, int)
    int fl_pinball_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, double*, int64_t*, int)
    int fl_poisson_nll_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, float*, double*, int64_t*, int)
    int fl_poisson_nll_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, double*, int64_t*, int)
    int fl_gaussian_nll_f32(int64_t, const float*, const float*, const float*, const float*, int64_t, int64_t,
                            const float*, int64_t, int64_t, const fl_params*, int, float*, float*, float*, double*, int64_t*, int)
    int fl_gaussian_nll_f64(int64_t, const double*, const double*, const double*, const double*, int64_t, int64_t,
                            const double*, int64_t, int64_t, const fl_params*, int, double*, double*, double*, double*, int64_t*, int)
    # binary.c
    int fl_hinge_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, float*, double*, int64_t*, int)
    int fl_hinge_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, double*, int64_t*, int)
    int fl_squared_hinge_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, float*, double*, int64_t*, int)
    int fl_squared_hinge_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, double*, int64_t*, int)
    int fl_focal_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, float*, double*, int64_t*, int)
    int fl_focal_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, double*, int64_t*, int)
    int fl_focal_g2_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, float*, double*, int64_t*, int)
    int fl_focal_g2_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, double*, int64_t*, int)
    int fl_focal_probs_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, float*, double*, int64_t*, int)
    int fl_focal_probs_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, double*, int64_t*, int)
    int fl_gan_generator_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, float*, double*, int64_t*, int)
    int fl_gan_generator_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, double*, int64_t*, int)
    int fl_bce_f32(int64_t, const float*, const float*, const float*, const float*, int64_t, int64_t,
                   const float*, int64_t, int64_t, const fl_params*, int, float*, float*, float*, double*, int64_t*, int)
    int fl_bce_f64(int64_t, const double*, const double*, const double*, const double*, int64_t, int64_t,
                   const double*, int64_t, int64_t, const fl_params*, int, double*, double*, double*, double*, int64_t*, int)
    int fl_bce_logits_f32(int64_t, const float*, const float*, const float*, const float*, int64_t, int64_t,
                          const float*, int64_t, int64_t, const fl_params*, int, float*, float*, float*, double*, int64_t*, int)
    int fl_bce_logits_f64(int64_t, const double*, const double*, const double*, const double*, int64_t, int64_t,
                          const double*, int64_t, int64_t, const fl_params*, int, double*, double*, double*, double*, int64_t*, int)
    int fl_gan_discriminator_f32(int64_t, const float*, const float*, int64_t, const float*, const float*,
                                 int, float*, float*, float*, float*, double*, int)
    int fl_gan_discriminator_f64(int64_t, const double*, const double*, int64_t, const double*, const double*,
                                 int, double*, double*, double*, double*, double*, int)

    # multiclass.c
    int fl_ce_index_f32(int64_t, int64_t, const float*, const int64_t*, const float*, const double*,
                        int64_t, double, double, int, float*, float*, float*, double, double*,
                        int64_t*, int)
    int fl_ce_index_f64(int64_t, int64_t, const double*, const int64_t*, const double*, const double*,
                        int64_t, double, double, int, double*, double*, double*, double, double*,
                        int64_t*, int)
    int fl_ce_index_strided_f32(int64_t, int64_t, int64_t, const float*, const int64_t*, const float*,
                                const double*, int64_t, double, double, int, float*, float*, float*,
                                double, double*, int64_t*, int)
    int fl_ce_index_strided_f64(int64_t, int64_t, int64_t, const double*, const int64_t*, const double*,
                                const double*, int64_t, double, double, int, double*, double*, double*,
                                double, double*, int64_t*, int)
    int fl_ce_prob_f32(int64_t, int64_t, const float*, const float*, const float*, const double*,
                       double, double, int, float*, float*, float*, double, double*, int)
    int fl_ce_prob_f64(int64_t, int64_t, const double*, const double*, const double*, const double*,
                       double, double, int, double*, double*, double*, double, double*, int)
    int fl_softmax_f32(int64_t, int64_t, const float*, double, int, float*, int)
    int fl_softmax_f64(int64_t, int64_t, const double*, double, int, double*, int)
    int fl_softmax_vjp_f32(int64_t, int64_t, const float*, const float*, double, int, float*, int)
    int fl_softmax_vjp_f64(int64_t, int64_t, const double*, const double*, double, int, double*, int)
    int fl_logsumexp_f32(int64_t, int64_t, const float*, const float*, double, float*, float*, int)
    int fl_logsumexp_f64(int64_t, int64_t, const double*, const double*, double, double*, double*, int)
    int fl_multi_margin_f32(int64_t, int64_t, const float*, const int64_t*, const float*, const double*,
                            int, double, int, float*, float*, double*, int64_t*, int)
    int fl_multi_margin_f64(int64_t, int64_t, const double*, const int64_t*, const double*, const double*,
                            int, double, int, double*, double*, double*, int64_t*, int)
    int fl_distill_f32(int64_t, int64_t, const float*, const float*, const int64_t*, const float*,
                       const float*, double, double, int, float*, float*, double*, int64_t*, int)
    int fl_distill_f64(int64_t, int64_t, const double*, const double*, const int64_t*, const double*,
                       const double*, double, double, int, double*, double*, double*, int64_t*, int)
    int fl_kl_logq_t_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, float*, double*, int64_t*, int)
    int fl_kl_logq_t_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, double*, int64_t*, int)
    int fl_kl_logq_logt_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, float*, double*, int64_t*, int)
    int fl_kl_logq_logt_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, double*, int64_t*, int)
    int fl_kl_q_t_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, float*, double*, int64_t*, int)
    int fl_kl_q_t_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, double*, int64_t*, int)
    int fl_kl_q_logt_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, float*, double*, int64_t*, int)
    int fl_kl_q_logt_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, double*, int64_t*, int)

    # segmentation.c
    int fl_dice_f32(int64_t, int64_t, int64_t, const float*, const float*, const int64_t*, const float*,
                    double, int, int, float*, float*, double*, int64_t*, int)
    int fl_dice_f64(int64_t, int64_t, int64_t, const double*, const double*, const int64_t*, const double*,
                    double, int, int, double*, double*, double*, int64_t*, int)

    # sequence.c
    int fl_ctc_f32(int64_t, int64_t, int64_t, const float*, const int64_t*, int64_t, const int64_t*,
                   const int64_t*, const int64_t*, int64_t, int, int, float*, float*, double*,
                   int64_t*, int)
    int fl_ctc_f64(int64_t, int64_t, int64_t, const double*, const int64_t*, int64_t, const int64_t*,
                   const int64_t*, const int64_t*, int64_t, int, int, double*, double*, double*,
                   int64_t*, int)

    # detection.c
    int fl_ssd_f32(int64_t, int64_t, int64_t, const float*, const float*, const float*, const int64_t*,
                   double, double, int, float*, float*, float*, double*, int64_t*, int)
    int fl_ssd_f64(int64_t, int64_t, int64_t, const double*, const double*, const double*, const int64_t*,
                   double, double, int, double*, double*, double*, double*, int64_t*, int)

# Function-pointer types for the kernel tables in _kernels.pyx.
# elementwise kernels (regression.c, binary.c, multiclass.c's KL) share one signature
ctypedef int (*fl_ew_f32)(int64_t, const float*, const float*, const float*,
                          const fl_params*, int, double, float*, float*, float*, double*, int64_t*, int) noexcept nogil
ctypedef int (*fl_ew_f64)(int64_t, const double*, const double*, const double*,
                          const fl_params*, int, double, double*, double*, double*, double*, int64_t*, int) noexcept nogil
# ... and so do the ones with two broadcast factors (binary.c's BCE)
ctypedef int (*fl_ab_f32)(int64_t, const float*, const float*, const float*, const float*,
                          int64_t, int64_t, const float*, int64_t, int64_t,
                          const fl_params*, int, float*, float*, float*, double*,
                          int64_t*, int) noexcept nogil
ctypedef int (*fl_ab_f64)(int64_t, const double*, const double*, const double*,
                          const double*, int64_t, int64_t, const double*, int64_t, int64_t,
                          const fl_params*, int, double*, double*, double*, double*,
                          int64_t*, int) noexcept nogil
