# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
# cython: freethreading_compatible=True
"""Typed wrappers over the C kernels in csrc/: dispatch on float/double, release the GIL, and
return (status, reduced value, offending index). All arrays arrive validated, C-contiguous and
flattened from fastloss._api; no logic lives here beyond choosing the kernel."""

from libc.stdint cimport int64_t

cdef extern from "fastloss.h" nogil:
    ctypedef struct fl_params:
        double delta
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
