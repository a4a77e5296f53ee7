# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
# cython: freethreading_compatible=True
"""Typed wrappers over the C kernels in csrc/: dispatch on float/double, release the GIL, and
return (status, reduced value, offending index). All arrays arrive validated, C-contiguous and
flattened from fastloss._api; no logic lives here beyond choosing the kernel."""

from libc.stdint cimport int64_t

cdef extern from "fastloss.h" nogil:
    ctypedef struct fl_params:
        double delta
        # regression_binary.c
        double beta
        double gamma
        double alpha
        double label_smoothing
        int from_logits
        int saturating
    int fl_default_threads()
    int fl_have_openmp()

    int fl_ce_index_f32(int64_t, int64_t, const float*, const int64_t*, const float*, const double*,
                        int64_t, double, double, int, float*, float*, double*, int64_t*, int)
    int fl_ce_index_f64(int64_t, int64_t, const double*, const int64_t*, const double*, const double*,
                        int64_t, double, double, int, double*, double*, double*, int64_t*, int)
    int fl_ce_prob_f32(int64_t, int64_t, const float*, const float*, const float*, const double*,
                       double, double, int, float*, float*, double*, int)
    int fl_ce_prob_f64(int64_t, int64_t, const double*, const double*, const double*, const double*,
                       double, double, int, double*, double*, double*, int)
    int fl_dice_f32(int64_t, int64_t, int64_t, const float*, const float*, const int64_t*, const float*,
                    double, int, int, float*, float*, double*, int64_t*, int)
    int fl_dice_f64(int64_t, int64_t, int64_t, const double*, const double*, const int64_t*, const double*,
                    double, int, int, double*, double*, double*, int64_t*, int)
    int fl_check_binary_targets_f32(int64_t, const float*, int64_t*)
    int fl_check_binary_targets_f64(int64_t, const double*, int64_t*)

    int fl_huber_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, double*, int)
    int fl_huber_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, int)
    int fl_hinge_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, double*, int)
    int fl_hinge_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, int)
    int fl_kl_logq_t_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, double*, int)
    int fl_kl_logq_t_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, int)
    int fl_kl_logq_logt_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, double*, int)
    int fl_kl_logq_logt_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, int)
    int fl_kl_q_t_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, double*, int)
    int fl_kl_q_t_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, int)
    int fl_kl_q_logt_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, double*, int)
    int fl_kl_q_logt_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, int)

ctypedef int (*ew_f32_t)(int64_t, const float*, const float*, const float*, const fl_params*,
                         int, double, float*, float*, double*, int) noexcept nogil
ctypedef int (*ew_f64_t)(int64_t, const double*, const double*, const double*, const fl_params*,
                         int, double, double*, double*, double*, int) noexcept nogil

ctypedef fused real:
    float
    double

# Elementwise kernels by name; the Python layer passes the name.
cdef dict _EW_INDEX = {"huber": 0, "hinge": 1, "kl_logq_t": 2, "kl_logq_logt": 3, "kl_q_t": 4, "kl_q_logt": 5}
cdef ew_f32_t _EW_F32[6]
cdef ew_f64_t _EW_F64[6]
_EW_F32[:] = [fl_huber_f32, fl_hinge_f32, fl_kl_logq_t_f32, fl_kl_logq_logt_f32, fl_kl_q_t_f32, fl_kl_q_logt_f32]
_EW_F64[:] = [fl_huber_f64, fl_hinge_f64, fl_kl_logq_t_f64, fl_kl_logq_logt_f64, fl_kl_q_t_f64, fl_kl_q_logt_f64]

ELEMENTWISE = tuple(_EW_INDEX)


def default_threads():
    return fl_default_threads()


def have_openmp():
    return bool(fl_have_openmp())


cdef inline const real* _in(const real[::1] a) noexcept:
    return NULL if a is None or a.shape[0] == 0 else &a[0]


cdef inline real* _out(real[::1] a) noexcept:
    return NULL if a is None or a.shape[0] == 0 else &a[0]


cdef inline const int64_t* _lab(const int64_t[::1] a) noexcept:
    return NULL if a is None or a.shape[0] == 0 else &a[0]


cdef inline const double* _dbl(const double[::1] a) noexcept:
    return NULL if a is None or a.shape[0] == 0 else &a[0]


def elementwise(str name, const real[::1] x, const real[::1] y, const real[::1] sw,
                double delta, int reduction, double denom_scale,
                real[::1] loss, real[::1] grad, int n_threads):
    cdef int k = _EW_INDEX[name]
    cdef fl_params prm
    prm.delta = delta
    cdef double value = 0.0
    cdef int rc
    cdef int64_t n = x.shape[0]
    cdef const real* px = _in(x)
    cdef const real* py = _in(y)
    cdef const real* pw = _in(sw)
    cdef real* pl = _out(loss)
    cdef real* pg = _out(grad)
    with nogil:
        if real is float:
            rc = _EW_F32[k](n, px, py, pw, &prm, reduction, denom_scale, pl, pg, &value, n_threads)
        else:
            rc = _EW_F64[k](n, px, py, pw, &prm, reduction, denom_scale, pl, pg, &value, n_threads)
    return rc, value, -1


def check_binary_targets(const real[::1] y):
    cdef int64_t bad = -1
    cdef int rc
    cdef const real* py = _in(y)
    with nogil:
        if real is float:
            rc = fl_check_binary_targets_f32(y.shape[0], py, &bad)
        else:
            rc = fl_check_binary_targets_f64(y.shape[0], py, &bad)
    return rc, 0.0, bad


def ce_index(int64_t n, int64_t c, const real[::1] logits, const int64_t[::1] labels,
             const real[::1] sw, const double[::1] cw, int64_t ignore_index, double eps,
             double inv_t, int reduction, real[::1] loss, real[::1] grad, int n_threads):
    cdef double value = 0.0
    cdef int64_t bad = -1
    cdef int rc
    cdef const real* pz = _in(logits)
    cdef const int64_t* py = _lab(labels)
    cdef const real* pw = _in(sw)
    cdef const double* pc = _dbl(cw)
    cdef real* pl = _out(loss)
    cdef real* pg = _out(grad)
    with nogil:
        if real is float:
            rc = fl_ce_index_f32(n, c, pz, py, pw, pc, ignore_index, eps, inv_t, reduction,
                                 pl, pg, &value, &bad, n_threads)
        else:
            rc = fl_ce_index_f64(n, c, pz, py, pw, pc, ignore_index, eps, inv_t, reduction,
                                 pl, pg, &value, &bad, n_threads)
    return rc, value, bad


def ce_prob(int64_t n, int64_t c, const real[::1] logits, const real[::1] target,
            const real[::1] sw, const double[::1] cw, double eps, double inv_t, int reduction,
            real[::1] loss, real[::1] grad, int n_threads):
    cdef double value = 0.0
    cdef int rc
    cdef const real* pz = _in(logits)
    cdef const real* pt = _in(target)
    cdef const real* pw = _in(sw)
    cdef const double* pc = _dbl(cw)
    cdef real* pl = _out(loss)
    cdef real* pg = _out(grad)
    with nogil:
        if real is float:
            rc = fl_ce_prob_f32(n, c, pz, pt, pw, pc, eps, inv_t, reduction, pl, pg, &value, n_threads)
        else:
            rc = fl_ce_prob_f64(n, c, pz, pt, pw, pc, eps, inv_t, reduction, pl, pg, &value, n_threads)
    return rc, value, -1


def dice(int64_t o_n, int64_t c, int64_t inner, const real[::1] pred, const real[::1] target,
         const int64_t[::1] labels, const real[::1] sw, double smooth, bint from_logits,
         int reduction, real[::1] loss, real[::1] grad, int n_threads):
    cdef double value = 0.0
    cdef int64_t bad = -1
    cdef int rc
    cdef const real* pp = _in(pred)
    cdef const real* pt = _in(target)
    cdef const int64_t* pl_ = _lab(labels)
    cdef const real* pw = _in(sw)
    cdef real* pl = _out(loss)
    cdef real* pg = _out(grad)
    with nogil:
        if real is float:
            rc = fl_dice_f32(o_n, c, inner, pp, pt, pl_, pw, smooth, from_logits, reduction,
                             pl, pg, &value, &bad, n_threads)
        else:
            rc = fl_dice_f64(o_n, c, inner, pp, pt, pl_, pw, smooth, from_logits, reduction,
                             pl, pg, &value, &bad, n_threads)
    return rc, value, bad


# --------------------------------------------------------------------------------------------
# Regression / binary catalogue (csrc/regression_binary.c)

cdef extern from "fastloss.h" nogil:
    int fl_mse_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, double*, int)
    int fl_mse_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, int)
    int fl_mae_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, double*, int)
    int fl_mae_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, int)
    int fl_rmse_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, double*, int)
    int fl_rmse_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, int)
    int fl_msle_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, double*, int)
    int fl_msle_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, int)
    int fl_smooth_l1_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, double*, int)
    int fl_smooth_l1_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, int)
    int fl_log_cosh_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, double*, int)
    int fl_log_cosh_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, int)
    int fl_squared_hinge_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, double*, int)
    int fl_squared_hinge_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, int)
    int fl_focal_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, double*, int)
    int fl_focal_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, int)
    int fl_gan_generator_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, double*, int)
    int fl_gan_generator_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, int)

    int fl_bce_f32(int64_t, const float*, const float*, const float*, const float*, int64_t, int64_t,
                   const float*, int64_t, int64_t, const fl_params*, int, float*, float*, double*, int)
    int fl_bce_f64(int64_t, const double*, const double*, const double*, const double*, int64_t, int64_t,
                   const double*, int64_t, int64_t, const fl_params*, int, double*, double*, double*, int)
    int fl_bce_logits_f32(int64_t, const float*, const float*, const float*, const float*, int64_t, int64_t,
                          const float*, int64_t, int64_t, const fl_params*, int, float*, float*, double*, int)
    int fl_bce_logits_f64(int64_t, const double*, const double*, const double*, const double*, int64_t, int64_t,
                          const double*, int64_t, int64_t, const fl_params*, int, double*, double*, double*, int)

    int fl_gan_discriminator_f32(int64_t, const float*, const float*, int64_t, const float*, const float*,
                                 int, float*, float*, float*, float*, double*, int)
    int fl_gan_discriminator_f64(int64_t, const double*, const double*, int64_t, const double*, const double*,
                                 int, double*, double*, double*, double*, double*, int)

ctypedef int (*ab_f32_t)(int64_t, const float*, const float*, const float*, const float*, int64_t, int64_t,
                         const float*, int64_t, int64_t, const fl_params*, int, float*, float*, double*,
                         int) noexcept nogil
ctypedef int (*ab_f64_t)(int64_t, const double*, const double*, const double*, const double*, int64_t, int64_t,
                         const double*, int64_t, int64_t, const fl_params*, int, double*, double*, double*,
                         int) noexcept nogil

cdef dict _RB_INDEX = {"mse": 0, "mae": 1, "rmse": 2, "msle": 3, "smooth_l1": 4, "log_cosh": 5,
                       "squared_hinge": 6, "focal": 7, "gan_generator": 8}
cdef ew_f32_t _RB_F32[9]
cdef ew_f64_t _RB_F64[9]
_RB_F32[:] = [fl_mse_f32, fl_mae_f32, fl_rmse_f32, fl_msle_f32, fl_smooth_l1_f32, fl_log_cosh_f32,
              fl_squared_hinge_f32, fl_focal_f32, fl_gan_generator_f32]
_RB_F64[:] = [fl_mse_f64, fl_mae_f64, fl_rmse_f64, fl_msle_f64, fl_smooth_l1_f64, fl_log_cosh_f64,
              fl_squared_hinge_f64, fl_focal_f64, fl_gan_generator_f64]
cdef dict _AB_INDEX = {"bce": 0, "bce_logits": 1}
cdef ab_f32_t _AB_F32[2]
cdef ab_f64_t _AB_F64[2]
_AB_F32[:] = [fl_bce_f32, fl_bce_logits_f32]
_AB_F64[:] = [fl_bce_f64, fl_bce_logits_f64]

REGRESSION_BINARY = tuple(_RB_INDEX) + tuple(_AB_INDEX)


cdef fl_params _rb_params(dict p):
    cdef fl_params prm
    prm.delta = 0.0
    prm.beta = p.get("beta", 0.0)
    prm.gamma = p.get("gamma", 0.0)
    prm.alpha = p.get("alpha", -1.0)
    prm.label_smoothing = p.get("label_smoothing", 0.0)
    prm.from_logits = p.get("from_logits", 0)
    prm.saturating = p.get("saturating", 0)
    return prm


def rb_elementwise(str name, const real[::1] x, const real[::1] y, const real[::1] sw,
                   dict params, int reduction, double denom_scale, real[::1] loss,
                   real[::1] grad, int n_threads):
    """The FL_ELEMENTWISE_KERNEL losses of regression_binary.c; y may be None."""
    cdef int k = _RB_INDEX[name]
    cdef fl_params prm = _rb_params(params)
    cdef double value = 0.0
    cdef int rc
    cdef int64_t n = x.shape[0]
    cdef const real* px = _in(x)
    cdef const real* py = _in(y)
    cdef const real* pw = _in(sw)
    cdef real* pl = _out(loss)
    cdef real* pg = _out(grad)
    with nogil:
        if real is float:
            rc = _RB_F32[k](n, px, py, pw, &prm, reduction, denom_scale, pl, pg, &value, n_threads)
        else:
            rc = _RB_F64[k](n, px, py, pw, &prm, reduction, denom_scale, pl, pg, &value, n_threads)
    return rc, value, -1


def rb_factors(str name, const real[::1] x, const real[::1] y, const real[::1] sw,
               const real[::1] a, int64_t a_len, int64_t a_inner,
               const real[::1] b, int64_t b_len, int64_t b_inner,
               dict params, int reduction, real[::1] loss, real[::1] grad, int n_threads):
    """The FL_ELEMENTWISE_AB_KERNEL losses (per-element factors by broadcast pattern)."""
    cdef int k = _AB_INDEX[name]
    cdef fl_params prm = _rb_params(params)
    cdef double value = 0.0
    cdef int rc
    cdef int64_t n = x.shape[0]
    cdef const real* px = _in(x)
    cdef const real* py = _in(y)
    cdef const real* pw = _in(sw)
    cdef const real* pa = _in(a)
    cdef const real* pb = _in(b)
    cdef real* pl = _out(loss)
    cdef real* pg = _out(grad)
    with nogil:
        if real is float:
            rc = _AB_F32[k](n, px, py, pw, pa, a_len, a_inner, pb, b_len, b_inner, &prm,
                            reduction, pl, pg, &value, n_threads)
        else:
            rc = _AB_F64[k](n, px, py, pw, pa, a_len, a_inner, pb, b_len, b_inner, &prm,
                            reduction, pl, pg, &value, n_threads)
    return rc, value, -1


def gan_discriminator(const real[::1] real_, const real[::1] fake, const real[::1] sw_r,
                      const real[::1] sw_f, int reduction, real[::1] loss_r, real[::1] loss_f,
                      real[::1] grad_r, real[::1] grad_f, int n_threads):
    cdef double value = 0.0
    cdef int rc
    cdef int64_t n_r = real_.shape[0]
    cdef int64_t n_f = fake.shape[0]
    cdef const real* pr = _in(real_)
    cdef const real* pf = _in(fake)
    cdef const real* pwr = _in(sw_r)
    cdef const real* pwf = _in(sw_f)
    cdef real* plr = _out(loss_r)
    cdef real* plf = _out(loss_f)
    cdef real* pgr = _out(grad_r)
    cdef real* pgf = _out(grad_f)
    with nogil:
        if real is float:
            rc = fl_gan_discriminator_f32(n_r, pr, pwr, n_f, pf, pwf, reduction, plr, plf, pgr,
                                          pgf, &value, n_threads)
        else:
            rc = fl_gan_discriminator_f64(n_r, pr, pwr, n_f, pf, pwf, reduction, plr, plf, pgr,
                                          pgf, &value, n_threads)
    return rc, value, -1
