# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
# cython: freethreading_compatible=True
"""Typed wrappers over the C kernels in csrc/: dispatch on float/double, release the GIL, and
return (status, reduced value, offending index). All arrays arrive validated, C-contiguous and
flattened from fastloss._api; no logic lives here beyond choosing the kernel."""

from libc.stdint cimport int64_t

cimport numpy as cnp

cnp.import_array()

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
    const char* fl_simd_path()
    int fl_have_libmvec()

    int fl_ce_index_f32(int64_t, int64_t, const float*, const int64_t*, const float*, const double*,
                        int64_t, double, double, int, float*, float*, double*, int64_t*, int)
    int fl_ce_index_f64(int64_t, int64_t, const double*, const int64_t*, const double*, const double*,
                        int64_t, double, double, int, double*, double*, double*, int64_t*, int)
    int fl_ce_index_strided_f32(int64_t, int64_t, int64_t, const float*, const int64_t*, const float*,
                                const double*, int64_t, double, double, int, float*, float*, double*,
                                int64_t*, int)
    int fl_ce_index_strided_f64(int64_t, int64_t, int64_t, const double*, const int64_t*, const double*,
                                const double*, int64_t, double, double, int, double*, double*, double*,
                                int64_t*, int)
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


def simd_path():
    return fl_simd_path().decode()


def have_libmvec():
    return bool(fl_have_libmvec())


cdef inline const real* _in(const real[::1] a) noexcept:
    return NULL if a is None or a.shape[0] == 0 else &a[0]


cdef inline real* _out(real[::1] a) noexcept:
    return NULL if a is None or a.shape[0] == 0 else &a[0]


cdef inline const int64_t* _lab(const int64_t[::1] a) noexcept:
    return NULL if a is None or a.shape[0] == 0 else &a[0]


cdef inline const double* _dbl(const double[::1] a) noexcept:
    return NULL if a is None or a.shape[0] == 0 else &a[0]


cdef inline char* _arr(object a, int typenum, Py_ssize_t size, bint writable) except? NULL:
    """Data pointer of an array the Python layer prepared (None gives NULL). The checks are
    cheap and keep a wrong call from reading out of bounds."""
    if a is None:
        return NULL
    cdef cnp.ndarray arr = <cnp.ndarray?>a
    if (cnp.PyArray_TYPE(arr) != typenum or not cnp.PyArray_IS_C_CONTIGUOUS(arr)
            or cnp.PyArray_SIZE(arr) != size or (writable and not cnp.PyArray_ISWRITEABLE(arr))):
        raise ValueError(
            f"fastloss internal: expected a C-contiguous array of type {typenum} and size {size}, "
            f"got {a.dtype} {a.shape}")
    return <char*>cnp.PyArray_DATA(arr)


cdef inline int _real_type(object x) except -1:
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray?>x)
    if t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64:
        raise TypeError(f"fastloss internal: float32 or float64 expected, got {x.dtype}")
    return t


def elementwise(str name, x, y, sw, double delta, int reduction, double denom_scale, loss, grad,
                int n_threads):
    cdef int k = _EW_INDEX[name]
    cdef fl_params prm
    prm.delta = delta
    cdef double value = 0.0
    cdef int rc
    cdef int t = _real_type(x)
    cdef int64_t n = cnp.PyArray_SIZE(<cnp.ndarray>x)
    cdef char* px = _arr(x, t, n, False)
    cdef char* py = _arr(y, t, n, False)
    cdef char* pw = _arr(sw, t, n, False)
    cdef char* pl = _arr(loss, t, n, True)
    cdef char* pg = _arr(grad, t, n, True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            rc = _EW_F32[k](n, <float*>px, <float*>py, <float*>pw, &prm, reduction, denom_scale,
                            <float*>pl, <float*>pg, &value, n_threads)
        else:
            rc = _EW_F64[k](n, <double*>px, <double*>py, <double*>pw, &prm, reduction, denom_scale,
                            <double*>pl, <double*>pg, &value, n_threads)
    return rc, value, -1


def check_binary_targets(y):
    cdef int64_t bad = -1
    cdef int rc
    cdef int t = _real_type(y)
    cdef int64_t n = cnp.PyArray_SIZE(<cnp.ndarray>y)
    cdef char* py = _arr(y, t, n, False)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            rc = fl_check_binary_targets_f32(n, <float*>py, &bad)
        else:
            rc = fl_check_binary_targets_f64(n, <double*>py, &bad)
    return rc, 0.0, bad


def ce_index(int64_t n, int64_t c, logits, labels, sw, cw, int64_t ignore_index, double eps,
             double inv_t, int reduction, loss, grad, int n_threads):
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
    with nogil:
        if t == cnp.NPY_FLOAT32:
            rc = fl_ce_index_f32(n, c, <float*>pz, <int64_t*>py, <float*>pw, <double*>pc,
                                 ignore_index, eps, inv_t, reduction, <float*>pl, <float*>pg,
                                 &value, &bad, n_threads)
        else:
            rc = fl_ce_index_f64(n, c, <double*>pz, <int64_t*>py, <double*>pw, <double*>pc,
                                 ignore_index, eps, inv_t, reduction, <double*>pl, <double*>pg,
                                 &value, &bad, n_threads)
    return rc, value, bad


def ce_index_strided(int64_t o_n, int64_t c, int64_t inner, logits, labels, sw, cw,
                     int64_t ignore_index, double eps, double inv_t, int reduction, loss, grad,
                     int n_threads):
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
    with nogil:
        if t == cnp.NPY_FLOAT32:
            rc = fl_ce_index_strided_f32(o_n, c, inner, <float*>pz, <int64_t*>py, <float*>pw,
                                         <double*>pc, ignore_index, eps, inv_t, reduction,
                                         <float*>pl, <float*>pg, &value, &bad, n_threads)
        else:
            rc = fl_ce_index_strided_f64(o_n, c, inner, <double*>pz, <int64_t*>py, <double*>pw,
                                         <double*>pc, ignore_index, eps, inv_t, reduction,
                                         <double*>pl, <double*>pg, &value, &bad, n_threads)
    return rc, value, bad


def ce_prob(int64_t n, int64_t c, logits, target, sw, cw, double eps, double inv_t,
            int reduction, loss, grad, int n_threads):
    cdef double value = 0.0
    cdef int rc
    cdef int t = _real_type(logits)
    cdef char* pz = _arr(logits, t, n * c, False)
    cdef char* pt = _arr(target, t, n * c, False)
    cdef char* pw = _arr(sw, t, n, False)
    cdef char* pc = _arr(cw, cnp.NPY_FLOAT64, c, False)
    cdef char* pl = _arr(loss, t, n, True)
    cdef char* pg = _arr(grad, t, n * c, True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            rc = fl_ce_prob_f32(n, c, <float*>pz, <float*>pt, <float*>pw, <double*>pc, eps, inv_t,
                                reduction, <float*>pl, <float*>pg, &value, n_threads)
        else:
            rc = fl_ce_prob_f64(n, c, <double*>pz, <double*>pt, <double*>pw, <double*>pc, eps,
                                inv_t, reduction, <double*>pl, <double*>pg, &value, n_threads)
    return rc, value, -1


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
    if pt == NULL and plab == NULL:
        raise ValueError("fastloss internal: dice needs target or labels")
    with nogil:
        if t == cnp.NPY_FLOAT32:
            rc = fl_dice_f32(o_n, c, inner, <float*>pp, <float*>pt, <int64_t*>plab, <float*>pw,
                             smooth, from_logits, reduction, <float*>pl, <float*>pg, &value, &bad,
                             n_threads)
        else:
            rc = fl_dice_f64(o_n, c, inner, <double*>pp, <double*>pt, <int64_t*>plab, <double*>pw,
                             smooth, from_logits, reduction, <double*>pl, <double*>pg, &value, &bad,
                             n_threads)
    return rc, value, bad


# --------------------------------------------------------------------------------------------
# Row-wise (class-axis) kernels, csrc/rowwise.c

cdef extern from "fastloss.h" nogil:
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


def softmax(int64_t n, int64_t c, const real[::1] z, double inv_t, bint log_out, real[::1] out,
            int n_threads):
    cdef int rc
    cdef const real* pz = _in(z)
    cdef real* po = _out(out)
    with nogil:
        if real is float:
            rc = fl_softmax_f32(n, c, pz, inv_t, log_out, po, n_threads)
        else:
            rc = fl_softmax_f64(n, c, pz, inv_t, log_out, po, n_threads)
    return rc, 0.0, -1


def softmax_vjp(int64_t n, int64_t c, const real[::1] z, const real[::1] v, double inv_t,
                bint log_in, real[::1] out, int n_threads):
    cdef int rc
    cdef const real* pz = _in(z)
    cdef const real* pv = _in(v)
    cdef real* po = _out(out)
    with nogil:
        if real is float:
            rc = fl_softmax_vjp_f32(n, c, pz, pv, inv_t, log_in, po, n_threads)
        else:
            rc = fl_softmax_vjp_f64(n, c, pz, pv, inv_t, log_in, po, n_threads)
    return rc, 0.0, -1


def logsumexp(int64_t n, int64_t c, const real[::1] z, const real[::1] cot, double inv_t,
              real[::1] out, real[::1] grad, int n_threads):
    cdef int rc
    cdef const real* pz = _in(z)
    cdef const real* pc = _in(cot)
    cdef real* po = _out(out)
    cdef real* pg = _out(grad)
    with nogil:
        if real is float:
            rc = fl_logsumexp_f32(n, c, pz, pc, inv_t, po, pg, n_threads)
        else:
            rc = fl_logsumexp_f64(n, c, pz, pc, inv_t, po, pg, n_threads)
    return rc, 0.0, -1


def multi_margin(int64_t n, int64_t c, const real[::1] x, const int64_t[::1] labels,
                 const real[::1] sw, const double[::1] cw, int p, double margin, int reduction,
                 real[::1] loss, real[::1] grad, int n_threads):
    cdef double value = 0.0
    cdef int64_t bad = -1
    cdef int rc
    cdef const real* px = _in(x)
    cdef const int64_t* py = _lab(labels)
    cdef const real* pw = _in(sw)
    cdef const double* pc = _dbl(cw)
    cdef real* pl = _out(loss)
    cdef real* pg = _out(grad)
    with nogil:
        if real is float:
            rc = fl_multi_margin_f32(n, c, px, py, pw, pc, p, margin, reduction, pl, pg, &value,
                                     &bad, n_threads)
        else:
            rc = fl_multi_margin_f64(n, c, px, py, pw, pc, p, margin, reduction, pl, pg, &value,
                                     &bad, n_threads)
    return rc, value, bad


def distill(int64_t n, int64_t c, const real[::1] zs, const real[::1] zt,
            const int64_t[::1] labels, const real[::1] target, const real[::1] sw,
            double temperature, double alpha, int reduction, real[::1] loss, real[::1] grad,
            int n_threads):
    cdef double value = 0.0
    cdef int64_t bad = -1
    cdef int rc
    cdef const real* ps = _in(zs)
    cdef const real* pt = _in(zt)
    cdef const int64_t* py = _lab(labels)
    cdef const real* ptg = _in(target)
    cdef const real* pw = _in(sw)
    cdef real* pl = _out(loss)
    cdef real* pg = _out(grad)
    with nogil:
        if real is float:
            rc = fl_distill_f32(n, c, ps, pt, py, ptg, pw, temperature, alpha, reduction, pl, pg,
                                &value, &bad, n_threads)
        else:
            rc = fl_distill_f64(n, c, ps, pt, py, ptg, pw, temperature, alpha, reduction, pl, pg,
                                &value, &bad, n_threads)
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
    int fl_focal_probs_f32(int64_t, const float*, const float*, const float*, const fl_params*, int, double, float*, float*, double*, int)
    int fl_focal_probs_f64(int64_t, const double*, const double*, const double*, const fl_params*, int, double, double*, double*, double*, int)
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
                       "squared_hinge": 6, "focal": 7, "gan_generator": 8, "focal_probs": 9}
cdef ew_f32_t _RB_F32[10]
cdef ew_f64_t _RB_F64[10]
_RB_F32[:] = [fl_mse_f32, fl_mae_f32, fl_rmse_f32, fl_msle_f32, fl_smooth_l1_f32, fl_log_cosh_f32,
              fl_squared_hinge_f32, fl_focal_f32, fl_gan_generator_f32, fl_focal_probs_f32]
_RB_F64[:] = [fl_mse_f64, fl_mae_f64, fl_rmse_f64, fl_msle_f64, fl_smooth_l1_f64, fl_log_cosh_f64,
              fl_squared_hinge_f64, fl_focal_f64, fl_gan_generator_f64, fl_focal_probs_f64]
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


def rb_elementwise(str name, x, y, sw, dict params, int reduction, double denom_scale, loss,
                   grad, int n_threads):
    """The FL_ELEMENTWISE_KERNEL losses of regression_binary.c; y may be None."""
    cdef int k = _RB_INDEX[name]
    cdef fl_params prm = _rb_params(params)
    cdef double value = 0.0
    cdef int rc
    cdef int t = _real_type(x)
    cdef int64_t n = cnp.PyArray_SIZE(<cnp.ndarray>x)
    cdef char* px = _arr(x, t, n, False)
    cdef char* py = _arr(y, t, n, False)
    cdef char* pw = _arr(sw, t, n, False)
    cdef char* pl = _arr(loss, t, n, True)
    cdef char* pg = _arr(grad, t, n, True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            rc = _RB_F32[k](n, <float*>px, <float*>py, <float*>pw, &prm, reduction, denom_scale,
                            <float*>pl, <float*>pg, &value, n_threads)
        else:
            rc = _RB_F64[k](n, <double*>px, <double*>py, <double*>pw, &prm, reduction,
                            denom_scale, <double*>pl, <double*>pg, &value, n_threads)
    return rc, value, -1


def rb_factors(str name, x, y, sw, a, int64_t a_len, int64_t a_inner, b, int64_t b_len,
               int64_t b_inner, dict params, int reduction, loss, grad, int n_threads):
    """The FL_ELEMENTWISE_AB_KERNEL losses (per-element factors by broadcast pattern)."""
    cdef int k = _AB_INDEX[name]
    cdef fl_params prm = _rb_params(params)
    cdef double value = 0.0
    cdef int rc
    cdef int t = _real_type(x)
    cdef int64_t n = cnp.PyArray_SIZE(<cnp.ndarray>x)
    cdef char* px = _arr(x, t, n, False)
    cdef char* py = _arr(y, t, n, False)
    cdef char* pw = _arr(sw, t, n, False)
    cdef char* pa = _arr(a, t, a_len, False)
    cdef char* pb = _arr(b, t, b_len, False)
    cdef char* pl = _arr(loss, t, n, True)
    cdef char* pg = _arr(grad, t, n, True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            rc = _AB_F32[k](n, <float*>px, <float*>py, <float*>pw, <float*>pa, a_len, a_inner,
                            <float*>pb, b_len, b_inner, &prm, reduction, <float*>pl,
                            <float*>pg, &value, n_threads)
        else:
            rc = _AB_F64[k](n, <double*>px, <double*>py, <double*>pw, <double*>pa, a_len,
                            a_inner, <double*>pb, b_len, b_inner, &prm, reduction,
                            <double*>pl, <double*>pg, &value, n_threads)
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


# ------------------------------------------------------------------ CTC and SSD multibox (ctc.c, ssd.c)

cdef extern from "fastloss.h" nogil:
    int fl_ctc_f32(int64_t, int64_t, int64_t, const float*, const int64_t*, int64_t, const int64_t*,
                   const int64_t*, const int64_t*, int64_t, int, int, float*, float*, double*,
                   int64_t*, int)
    int fl_ctc_f64(int64_t, int64_t, int64_t, const double*, const int64_t*, int64_t, const int64_t*,
                   const int64_t*, const int64_t*, int64_t, int, int, double*, double*, double*,
                   int64_t*, int)
    int fl_ssd_f32(int64_t, int64_t, int64_t, const float*, const float*, const float*, const int64_t*,
                   double, double, int, float*, float*, float*, double*, int64_t*, int)
    int fl_ssd_f64(int64_t, int64_t, int64_t, const double*, const double*, const double*, const int64_t*,
                   double, double, int, double*, double*, double*, double*, int64_t*, int)


def ctc(int64_t n, int64_t t_max, int64_t c, const real[::1] logits, const int64_t[::1] targets,
        const int64_t[::1] offsets, const int64_t[::1] input_lengths,
        const int64_t[::1] target_lengths, int64_t blank, int reduction, bint zero_infinity,
        real[::1] loss, real[::1] grad, int n_threads):
    cdef double value = 0.0
    cdef int64_t bad = -1
    cdef int rc
    cdef const real* pz = _in(logits)
    cdef const int64_t* pt = _lab(targets)
    cdef int64_t n_targets = 0 if targets is None else targets.shape[0]
    cdef const int64_t* po = _lab(offsets)
    cdef const int64_t* pil = _lab(input_lengths)
    cdef const int64_t* ptl = _lab(target_lengths)
    cdef real* pl = _out(loss)
    cdef real* pg = _out(grad)
    with nogil:
        if real is float:
            rc = fl_ctc_f32(n, t_max, c, pz, pt, n_targets, po, pil, ptl, blank, reduction,
                            zero_infinity, pl, pg, &value, &bad, n_threads)
        else:
            rc = fl_ctc_f64(n, t_max, c, pz, pt, n_targets, po, pil, ptl, blank, reduction,
                            zero_infinity, pl, pg, &value, &bad, n_threads)
    return rc, value, bad


def ssd(int64_t n, int64_t a, int64_t c, const real[::1] loc_pred, const real[::1] loc_target,
        const real[::1] conf, const int64_t[::1] labels, double neg_pos_ratio, double beta,
        int reduction, real[::1] loss, real[::1] grad_loc, real[::1] grad_conf, int n_threads):
    cdef double value = 0.0
    cdef int64_t bad = -1
    cdef int rc
    cdef const real* pp = _in(loc_pred)
    cdef const real* pt = _in(loc_target)
    cdef const real* pc = _in(conf)
    cdef const int64_t* py = _lab(labels)
    cdef real* pl = _out(loss)
    cdef real* pgl = _out(grad_loc)
    cdef real* pgc = _out(grad_conf)
    with nogil:
        if real is float:
            rc = fl_ssd_f32(n, a, c, pp, pt, pc, py, neg_pos_ratio, beta, reduction, pl, pgl, pgc,
                            &value, &bad, n_threads)
        else:
            rc = fl_ssd_f64(n, a, c, pp, pt, pc, py, neg_pos_ratio, beta, reduction, pl, pgl, pgc,
                            &value, &bad, n_threads)
    return rc, value, bad
