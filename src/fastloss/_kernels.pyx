# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
# cython: freethreading_compatible=True
"""Typed wrappers over the C kernels in csrc/ (declared in _kernels.pxd): choose the float or
double kernel, check that each array has the type and size the kernel will read, release the
GIL, and return (status, reduced value, offending index). The arrays arrive converted by
fastloss._checks (flat, C-contiguous, native, compute dtype); no loss logic lives here."""

from libc.math cimport INFINITY
from libc.stdint cimport int64_t

cimport numpy as cnp

cnp.import_array()


def default_threads():
    return fl_default_threads()


def have_openmp():
    return bool(fl_have_openmp())


def simd_path():
    return fl_simd_path().decode()


def have_libmvec():
    return bool(fl_have_libmvec())


cdef inline char* _arr(object a, int typenum, Py_ssize_t size, bint writable) except? NULL:
    """Data pointer of an array prepared by the Python layer (None gives NULL). The checks are
    cheap and keep a wrong call from reading or writing out of bounds."""
    if a is None:
        return NULL
    cdef cnp.ndarray arr = <cnp.ndarray?>a
    if (cnp.PyArray_TYPE(arr) != typenum or not cnp.PyArray_IS_C_CONTIGUOUS(arr)
            or not cnp.PyArray_ISALIGNED(arr) or not cnp.PyArray_ISNOTSWAPPED(arr)
            or cnp.PyArray_SIZE(arr) != size or (writable and not cnp.PyArray_ISWRITEABLE(arr))):
        raise ValueError(
            f"fastloss internal: expected a C-contiguous native array of type {typenum} and "
            f"size {size}, got {a.dtype} {a.shape}")
    if size == 0:
        return NULL
    return <char*>cnp.PyArray_DATA(arr)


cdef inline int _real_type(object x) except -1:
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray?>x)
    if t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64:
        raise TypeError(f"fastloss internal: float32 or float64 expected, got {x.dtype}")
    return t


cdef inline int64_t _size(object x):
    return cnp.PyArray_SIZE(<cnp.ndarray>x)


# --------------------------------------------------------------------------------------------
# Elementwise kernels: one table, indexed by name

ELEMENTWISE = ("mse", "mae", "rmse", "msle", "huber", "smooth_l1", "log_cosh",   # regression.c
               "hinge", "squared_hinge", "focal", "focal_probs", "gan_generator",  # binary.c
               "kl_logq_t", "kl_logq_logt", "kl_q_t", "kl_q_logt",              # multiclass.c
               "tweedie", "pinball", "poisson_nll")                             # regression.c
ELEMENTWISE_FACTORS = ("bce", "bce_logits",                                     # binary.c
                       "gaussian_nll")                                          # regression.c

cdef fl_ew_f32 _EW_F32[19]
cdef fl_ew_f64 _EW_F64[19]
_EW_F32[:] = [fl_mse_f32, fl_mae_f32, fl_rmse_f32, fl_msle_f32, fl_huber_f32, fl_smooth_l1_f32,
              fl_log_cosh_f32, fl_hinge_f32, fl_squared_hinge_f32, fl_focal_f32,
              fl_focal_probs_f32, fl_gan_generator_f32, fl_kl_logq_t_f32, fl_kl_logq_logt_f32,
              fl_kl_q_t_f32, fl_kl_q_logt_f32, fl_tweedie_f32, fl_pinball_f32,
              fl_poisson_nll_f32]
_EW_F64[:] = [fl_mse_f64, fl_mae_f64, fl_rmse_f64, fl_msle_f64, fl_huber_f64, fl_smooth_l1_f64,
              fl_log_cosh_f64, fl_hinge_f64, fl_squared_hinge_f64, fl_focal_f64,
              fl_focal_probs_f64, fl_gan_generator_f64, fl_kl_logq_t_f64, fl_kl_logq_logt_f64,
              fl_kl_q_t_f64, fl_kl_q_logt_f64, fl_tweedie_f64, fl_pinball_f64,
              fl_poisson_nll_f64]
cdef fl_ab_f32 _AB_F32[3]
cdef fl_ab_f64 _AB_F64[3]
_AB_F32[:] = [fl_bce_f32, fl_bce_logits_f32, fl_gaussian_nll_f32]
_AB_F64[:] = [fl_bce_f64, fl_bce_logits_f64, fl_gaussian_nll_f64]


cdef inline double _floor(hessian_floor) except? -1.0:
    """The Hessian floor for the kernels: -inf for None."""
    return -INFINITY if hessian_floor is None else <double>hessian_floor


cdef inline fl_params _params(double delta, double beta, double gamma, double alpha,
                              double label_smoothing, bint from_logits, bint saturating,
                              double power, double quantile, double eps, bint log_input,
                              bint full, hessian_floor, double var=1.0) except *:
    cdef fl_params prm
    prm.delta = delta
    prm.beta = beta
    prm.gamma = gamma
    prm.alpha = alpha
    prm.label_smoothing = label_smoothing
    prm.from_logits = from_logits
    prm.saturating = saturating
    prm.power = power
    prm.quantile = quantile
    prm.eps = eps
    prm.var = var
    prm.log_input = log_input
    prm.full = full
    prm.hessian_floor = _floor(hessian_floor)
    return prm


def elementwise(int kernel, x, y, sw, int reduction, double denom_scale, loss, grad,
                int n_threads, hess=None, *, double delta=0.0, double beta=0.0,
                double gamma=0.0, double alpha=-1.0, double label_smoothing=0.0,
                bint from_logits=False, bint saturating=False, double power=0.0,
                double quantile=0.5, double eps=0.0, bint log_input=False, bint full=False,
                hessian_floor=None):
    """An ELEMENTWISE kernel by index; y may be None for single-input losses; hess receives
    the second derivatives (gradient required, no loss)."""
    if not 0 <= kernel < 19:
        raise ValueError("fastloss internal: unknown elementwise kernel")
    cdef fl_params prm = _params(delta, beta, gamma, alpha, label_smoothing, from_logits,
                                 saturating, power, quantile, eps, log_input, full,
                                 hessian_floor)
    cdef double value = 0.0
    cdef int rc
    cdef int t = _real_type(x)
    cdef int64_t n = _size(x)
    cdef char* px = _arr(x, t, n, False)
    cdef char* py = _arr(y, t, n, False)
    cdef char* pw = _arr(sw, t, n, False)
    cdef char* pl = _arr(loss, t, n, True)
    cdef char* pg = _arr(grad, t, n, True)
    cdef char* ph = _arr(hess, t, n, True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            rc = _EW_F32[kernel](n, <float*>px, <float*>py, <float*>pw, &prm, reduction,
                                 denom_scale, <float*>pl, <float*>pg, <float*>ph, &value,
                                 n_threads)
        else:
            rc = _EW_F64[kernel](n, <double*>px, <double*>py, <double*>pw, &prm, reduction,
                                 denom_scale, <double*>pl, <double*>pg, <double*>ph, &value,
                                 n_threads)
    return rc, value, -1


def elementwise_factors(int kernel, x, y, sw, a, int64_t a_len, int64_t a_inner, b,
                        int64_t b_len, int64_t b_inner, int reduction, loss, grad,
                        int n_threads, hess=None, *, double label_smoothing=0.0,
                        double eps=0.0, bint full=False, double var=1.0, hessian_floor=None):
    """An ELEMENTWISE_FACTORS kernel by index (per-element factors by broadcast pattern)."""
    if not 0 <= kernel < 3:
        raise ValueError("fastloss internal: unknown elementwise kernel")
    cdef fl_params prm = _params(0.0, 0.0, 0.0, -1.0, label_smoothing, False, False, 0.0, 0.5,
                                 eps, False, full, hessian_floor, var)
    cdef double value = 0.0
    cdef int rc
    cdef int t = _real_type(x)
    cdef int64_t n = _size(x)
    cdef char* px = _arr(x, t, n, False)
    cdef char* py = _arr(y, t, n, False)
    cdef char* pw = _arr(sw, t, n, False)
    cdef char* pa = _arr(a, t, a_len, False)
    cdef char* pb = _arr(b, t, b_len, False)
    cdef char* pl = _arr(loss, t, n, True)
    cdef char* pg = _arr(grad, t, n, True)
    cdef char* ph = _arr(hess, t, n, True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            rc = _AB_F32[kernel](n, <float*>px, <float*>py, <float*>pw, <float*>pa, a_len,
                                 a_inner, <float*>pb, b_len, b_inner, &prm, reduction,
                                 <float*>pl, <float*>pg, <float*>ph, &value, n_threads)
        else:
            rc = _AB_F64[kernel](n, <double*>px, <double*>py, <double*>pw, <double*>pa, a_len,
                                 a_inner, <double*>pb, b_len, b_inner, &prm, reduction,
                                 <double*>pl, <double*>pg, <double*>ph, &value, n_threads)
    return rc, value, -1


# --------------------------------------------------------------------------------------------
# binary.c

def check_binary_targets(y):
    cdef int64_t bad = -1
    cdef int rc
    cdef int t = _real_type(y)
    cdef int64_t n = _size(y)
    cdef char* py = _arr(y, t, n, False)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            rc = fl_check_binary_targets_f32(n, <float*>py, &bad)
        else:
            rc = fl_check_binary_targets_f64(n, <double*>py, &bad)
    return rc, 0.0, bad


def gan_discriminator(real, fake, sw_r, sw_f, int reduction, loss_r, loss_f, grad_r, grad_f,
                      int n_threads):
    cdef double value = 0.0
    cdef int rc
    cdef int t = _real_type(real)
    cdef int64_t n_r = _size(real)
    cdef int64_t n_f = _size(fake)
    cdef char* pr = _arr(real, t, n_r, False)
    cdef char* pf = _arr(fake, t, n_f, False)
    cdef char* pwr = _arr(sw_r, t, n_r, False)
    cdef char* pwf = _arr(sw_f, t, n_f, False)
    cdef char* plr = _arr(loss_r, t, n_r, True)
    cdef char* plf = _arr(loss_f, t, n_f, True)
    cdef char* pgr = _arr(grad_r, t, n_r, True)
    cdef char* pgf = _arr(grad_f, t, n_f, True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            rc = fl_gan_discriminator_f32(n_r, <float*>pr, <float*>pwr, n_f, <float*>pf,
                                          <float*>pwf, reduction, <float*>plr, <float*>plf,
                                          <float*>pgr, <float*>pgf, &value, n_threads)
        else:
            rc = fl_gan_discriminator_f64(n_r, <double*>pr, <double*>pwr, n_f, <double*>pf,
                                          <double*>pwf, reduction, <double*>plr, <double*>plf,
                                          <double*>pgr, <double*>pgf, &value, n_threads)
    return rc, value, -1


# --------------------------------------------------------------------------------------------
# multiclass.c

def ce_index(int64_t n, int64_t c, logits, labels, sw, cw, int64_t ignore_index, double eps,
             double inv_t, int reduction, loss, grad, int n_threads, hess=None,
             hessian_floor=None):
    cdef double value = 0.0
    cdef int64_t bad = -1
    cdef int rc
    cdef int t = _real_type(logits)
    cdef char* pz = _arr(logits, t, n * c, False)
    cdef char* py = _arr(labels, cnp.NPY_INT64, n, False)
    cdef char* pw = _arr(sw, t, n, False)
    cdef char* pc = _arr(cw, cnp.NPY_FLOAT64, c, False)
    cdef char* pl = _arr(loss, t, n, True)
    cdef char* pg = _arr(grad, t, n * c, True)
    cdef char* ph = _arr(hess, t, n * c, True)
    cdef double floor = _floor(hessian_floor)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            rc = fl_ce_index_f32(n, c, <float*>pz, <int64_t*>py, <float*>pw, <double*>pc,
                                 ignore_index, eps, inv_t, reduction, <float*>pl, <float*>pg,
                                 <float*>ph, floor, &value, &bad, n_threads)
        else:
            rc = fl_ce_index_f64(n, c, <double*>pz, <int64_t*>py, <double*>pw, <double*>pc,
                                 ignore_index, eps, inv_t, reduction, <double*>pl, <double*>pg,
                                 <double*>ph, floor, &value, &bad, n_threads)
    return rc, value, bad


def ce_index_strided(int64_t o_n, int64_t c, int64_t inner, logits, labels, sw, cw,
                     int64_t ignore_index, double eps, double inv_t, int reduction, loss, grad,
                     int n_threads, hess=None, hessian_floor=None):
    cdef double value = 0.0
    cdef int64_t bad = -1
    cdef int rc
    cdef int t = _real_type(logits)
    cdef int64_t n = o_n * inner
    cdef char* pz = _arr(logits, t, n * c, False)
    cdef char* py = _arr(labels, cnp.NPY_INT64, n, False)
    cdef char* pw = _arr(sw, t, n, False)
    cdef char* pc = _arr(cw, cnp.NPY_FLOAT64, c, False)
    cdef char* pl = _arr(loss, t, n, True)
    cdef char* pg = _arr(grad, t, n * c, True)
    cdef char* ph = _arr(hess, t, n * c, True)
    cdef double floor = _floor(hessian_floor)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            rc = fl_ce_index_strided_f32(o_n, c, inner, <float*>pz, <int64_t*>py, <float*>pw,
                                         <double*>pc, ignore_index, eps, inv_t, reduction,
                                         <float*>pl, <float*>pg, <float*>ph, floor, &value,
                                         &bad, n_threads)
        else:
            rc = fl_ce_index_strided_f64(o_n, c, inner, <double*>pz, <int64_t*>py, <double*>pw,
                                         <double*>pc, ignore_index, eps, inv_t, reduction,
                                         <double*>pl, <double*>pg, <double*>ph, floor, &value,
                                         &bad, n_threads)
    return rc, value, bad


def ce_prob(int64_t n, int64_t c, logits, target, sw, cw, double eps, double inv_t,
            int reduction, loss, grad, int n_threads, hess=None, hessian_floor=None):
    cdef double value = 0.0
    cdef int rc
    cdef int t = _real_type(logits)
    cdef char* pz = _arr(logits, t, n * c, False)
    cdef char* pt = _arr(target, t, n * c, False)
    cdef char* pw = _arr(sw, t, n, False)
    cdef char* pc = _arr(cw, cnp.NPY_FLOAT64, c, False)
    cdef char* pl = _arr(loss, t, n, True)
    cdef char* pg = _arr(grad, t, n * c, True)
    cdef char* ph = _arr(hess, t, n * c, True)
    cdef double floor = _floor(hessian_floor)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            rc = fl_ce_prob_f32(n, c, <float*>pz, <float*>pt, <float*>pw, <double*>pc, eps, inv_t,
                                reduction, <float*>pl, <float*>pg, <float*>ph, floor, &value,
                                n_threads)
        else:
            rc = fl_ce_prob_f64(n, c, <double*>pz, <double*>pt, <double*>pw, <double*>pc, eps,
                                inv_t, reduction, <double*>pl, <double*>pg, <double*>ph, floor,
                                &value, n_threads)
    return rc, value, -1


def softmax(int64_t n, int64_t c, z, double inv_t, bint log_out, out, int n_threads):
    cdef int rc
    cdef int t = _real_type(z)
    cdef char* pz = _arr(z, t, n * c, False)
    cdef char* po = _arr(out, t, n * c, True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            rc = fl_softmax_f32(n, c, <float*>pz, inv_t, log_out, <float*>po, n_threads)
        else:
            rc = fl_softmax_f64(n, c, <double*>pz, inv_t, log_out, <double*>po, n_threads)
    return rc, 0.0, -1


def softmax_vjp(int64_t n, int64_t c, z, v, double inv_t, bint log_in, out, int n_threads):
    cdef int rc
    cdef int t = _real_type(z)
    cdef char* pz = _arr(z, t, n * c, False)
    cdef char* pv = _arr(v, t, n * c, False)
    cdef char* po = _arr(out, t, n * c, True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            rc = fl_softmax_vjp_f32(n, c, <float*>pz, <float*>pv, inv_t, log_in, <float*>po,
                                    n_threads)
        else:
            rc = fl_softmax_vjp_f64(n, c, <double*>pz, <double*>pv, inv_t, log_in, <double*>po,
                                    n_threads)
    return rc, 0.0, -1


def logsumexp(int64_t n, int64_t c, z, cot, double inv_t, out, grad, int n_threads):
    cdef int rc
    cdef int t = _real_type(z)
    cdef char* pz = _arr(z, t, n * c, False)
    cdef char* pc = _arr(cot, t, n, False)
    cdef char* po = _arr(out, t, n, True)
    cdef char* pg = _arr(grad, t, n * c, True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            rc = fl_logsumexp_f32(n, c, <float*>pz, <float*>pc, inv_t, <float*>po, <float*>pg,
                                  n_threads)
        else:
            rc = fl_logsumexp_f64(n, c, <double*>pz, <double*>pc, inv_t, <double*>po,
                                  <double*>pg, n_threads)
    return rc, 0.0, -1


def multi_margin(int64_t n, int64_t c, x, labels, sw, cw, int p, double margin, int reduction,
                 loss, grad, int n_threads):
    cdef double value = 0.0
    cdef int64_t bad = -1
    cdef int rc
    cdef int t = _real_type(x)
    cdef char* px = _arr(x, t, n * c, False)
    cdef char* py = _arr(labels, cnp.NPY_INT64, n, False)
    cdef char* pw = _arr(sw, t, n, False)
    cdef char* pc = _arr(cw, cnp.NPY_FLOAT64, c, False)
    cdef char* pl = _arr(loss, t, n, True)
    cdef char* pg = _arr(grad, t, n * c, True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            rc = fl_multi_margin_f32(n, c, <float*>px, <int64_t*>py, <float*>pw, <double*>pc, p,
                                     margin, reduction, <float*>pl, <float*>pg, &value, &bad,
                                     n_threads)
        else:
            rc = fl_multi_margin_f64(n, c, <double*>px, <int64_t*>py, <double*>pw, <double*>pc,
                                     p, margin, reduction, <double*>pl, <double*>pg, &value,
                                     &bad, n_threads)
    return rc, value, bad


def distill(int64_t n, int64_t c, zs, zt, labels, target, sw, double temperature, double alpha,
            int reduction, loss, grad, int n_threads):
    cdef double value = 0.0
    cdef int64_t bad = -1
    cdef int rc
    cdef int t = _real_type(zs)
    cdef char* ps = _arr(zs, t, n * c, False)
    cdef char* pt = _arr(zt, t, n * c, False)
    cdef char* py = _arr(labels, cnp.NPY_INT64, n, False)
    cdef char* ptg = _arr(target, t, n * c, False)
    cdef char* pw = _arr(sw, t, n, False)
    cdef char* pl = _arr(loss, t, n, True)
    cdef char* pg = _arr(grad, t, n * c, True)
    if py == NULL and ptg == NULL and n > 0:
        raise ValueError("fastloss internal: distill needs labels or a target")
    with nogil:
        if t == cnp.NPY_FLOAT32:
            rc = fl_distill_f32(n, c, <float*>ps, <float*>pt, <int64_t*>py, <float*>ptg,
                                <float*>pw, temperature, alpha, reduction, <float*>pl,
                                <float*>pg, &value, &bad, n_threads)
        else:
            rc = fl_distill_f64(n, c, <double*>ps, <double*>pt, <int64_t*>py, <double*>ptg,
                                <double*>pw, temperature, alpha, reduction, <double*>pl,
                                <double*>pg, &value, &bad, n_threads)
    return rc, value, bad


# --------------------------------------------------------------------------------------------
# segmentation.c

def dice(int64_t o_n, int64_t c, int64_t inner, pred, target, labels, sw, double smooth,
         bint from_logits, int reduction, loss, grad, int n_threads):
    cdef double value = 0.0
    cdef int64_t bad = -1
    cdef int rc
    cdef int t = _real_type(pred)
    cdef int64_t size = o_n * c * inner
    cdef char* pp = _arr(pred, t, size, False)
    cdef char* pt = _arr(target, t, size, False)
    cdef char* plab = _arr(labels, cnp.NPY_INT64, o_n * inner, False)
    cdef char* pw = _arr(sw, t, o_n * c, False)
    cdef char* pl = _arr(loss, t, o_n * c, True)
    cdef char* pg = _arr(grad, t, size, True)
    if pt == NULL and plab == NULL and size > 0:
        raise ValueError("fastloss internal: dice needs target or labels")
    with nogil:
        if t == cnp.NPY_FLOAT32:
            rc = fl_dice_f32(o_n, c, inner, <float*>pp, <float*>pt, <int64_t*>plab, <float*>pw,
                             smooth, from_logits, reduction, <float*>pl, <float*>pg, &value, &bad,
                             n_threads)
        else:
            rc = fl_dice_f64(o_n, c, inner, <double*>pp, <double*>pt, <int64_t*>plab, <double*>pw,
                             smooth, from_logits, reduction, <double*>pl, <double*>pg, &value,
                             &bad, n_threads)
    return rc, value, bad


# --------------------------------------------------------------------------------------------
# sequence.c

def ctc(int64_t n, int64_t t_max, int64_t c, logits, targets, offsets, input_lengths,
        target_lengths, int64_t blank, int reduction, bint zero_infinity, loss, grad,
        int n_threads):
    cdef double value = 0.0
    cdef int64_t bad = -1
    cdef int rc
    cdef int t = _real_type(logits)
    cdef int64_t n_targets = _size(targets)
    cdef char* pz = _arr(logits, t, n * t_max * c, False)
    cdef char* pt = _arr(targets, cnp.NPY_INT64, n_targets, False)
    cdef char* po = _arr(offsets, cnp.NPY_INT64, n, False)
    cdef char* pil = _arr(input_lengths, cnp.NPY_INT64, n, False)
    cdef char* ptl = _arr(target_lengths, cnp.NPY_INT64, n, False)
    cdef char* pl = _arr(loss, t, n, True)
    cdef char* pg = _arr(grad, t, n * t_max * c, True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            rc = fl_ctc_f32(n, t_max, c, <float*>pz, <int64_t*>pt, n_targets, <int64_t*>po,
                            <int64_t*>pil, <int64_t*>ptl, blank, reduction, zero_infinity,
                            <float*>pl, <float*>pg, &value, &bad, n_threads)
        else:
            rc = fl_ctc_f64(n, t_max, c, <double*>pz, <int64_t*>pt, n_targets, <int64_t*>po,
                            <int64_t*>pil, <int64_t*>ptl, blank, reduction, zero_infinity,
                            <double*>pl, <double*>pg, &value, &bad, n_threads)
    return rc, value, bad


# --------------------------------------------------------------------------------------------
# detection.c

def ssd(int64_t n, int64_t a, int64_t c, loc_pred, loc_target, conf, labels,
        double neg_pos_ratio, double beta, int reduction, loss, grad_loc, grad_conf,
        int n_threads):
    cdef double value = 0.0
    cdef int64_t bad = -1
    cdef int rc
    cdef int t = _real_type(loc_pred)
    cdef char* pp = _arr(loc_pred, t, n * a * 4, False)
    cdef char* pt = _arr(loc_target, t, n * a * 4, False)
    cdef char* pc = _arr(conf, t, n * a * c, False)
    cdef char* py = _arr(labels, cnp.NPY_INT64, n * a, False)
    cdef char* pl = _arr(loss, t, n, True)
    cdef char* pgl = _arr(grad_loc, t, n * a * 4, True)
    cdef char* pgc = _arr(grad_conf, t, n * a * c, True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            rc = fl_ssd_f32(n, a, c, <float*>pp, <float*>pt, <float*>pc, <int64_t*>py,
                            neg_pos_ratio, beta, reduction, <float*>pl, <float*>pgl,
                            <float*>pgc, &value, &bad, n_threads)
        else:
            rc = fl_ssd_f64(n, a, c, <double*>pp, <double*>pt, <double*>pc, <int64_t*>py,
                            neg_pos_ratio, beta, reduction, <double*>pl, <double*>pgl,
                            <double*>pgc, &value, &bad, n_threads)
    return rc, value, bad
