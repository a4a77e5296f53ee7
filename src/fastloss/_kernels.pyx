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
fl_install_fork_guard()


def default_threads():
    return fl_default_threads()


def teams_available():
    """False in a process forked after this library had started OpenMP threads (csrc/parallel.h):
    every kernel then runs on one thread, since GNU libgomp's pool does not survive fork()."""
    return bool(fl_teams_available())


def have_openmp():
    return bool(fl_have_openmp())


def simd_path():
    return fl_simd_path().decode()


def have_libmvec():
    return bool(fl_have_libmvec())


def stream_copy(src, dst, int n_threads):
    """dst[:] = src[:] for float32 arrays of one size, with n_threads (a bandwidth probe)."""
    cdef int64_t n = _size(src)
    cdef char* ps = _arr(src, cnp.NPY_FLOAT32, n, False)
    cdef char* pd = _arr(dst, cnp.NPY_FLOAT32, n, True)
    with nogil:
        fl_stream_copy(n, <float*>ps, <float*>pd, n_threads)


def stream_sum(src, int n_threads):
    """Sum of a float32 array with n_threads (a bandwidth probe)."""
    cdef int64_t n = _size(src)
    cdef char* ps = _arr(src, cnp.NPY_FLOAT32, n, False)
    cdef double total
    with nogil:
        total = fl_stream_sum(n, <float*>ps, n_threads)
    return total


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
# The buffer cache: large result arrays recycle their memory
#
# A plain call at 1e7 elements returns a fresh 40 MB gradient; glibc serves allocations that
# large with mmap and gives them back with munmap, so every call pays the page faults of first
# touching 10,000 pages (more than the kernel itself costs, and a different amount each time).
# Result arrays of at least _CACHE_MIN bytes are therefore allocated here: their memory is owned
# by a _Block, and when the array is freed the block goes back into a small cache (at most
# _CACHE_SLOTS blocks, _cache_limit bytes in all) instead of to the system, warm, for the next
# call's result of about the same size - what the caching allocators of GPU frameworks do.

from libc.stdlib cimport free

cdef extern from "stdlib.h" nogil:
    int posix_memalign(void** ptr, size_t alignment, size_t size)

cdef extern from "pythread.h":
    ctypedef void* PyThread_type_lock
    PyThread_type_lock PyThread_allocate_lock()
    int PyThread_acquire_lock(PyThread_type_lock, int) nogil
    void PyThread_release_lock(PyThread_type_lock) nogil

cdef extern from *:
    """
    #if defined(__linux__)
    #include <sys/mman.h>
    static void fl_advise_huge(void *p, size_t n) { madvise(p, n, MADV_HUGEPAGE); }
    #else
    static void fl_advise_huge(void *p, size_t n) { (void)p; (void)n; }
    #endif
    """
    void fl_advise_huge(void* p, size_t n) nogil

DEF _CACHE_SLOTS = 8
cdef size_t _CACHE_MIN = 1 << 22  # 4 MiB: smaller allocations are cheap to make fresh
cdef size_t _cache_limit = 1 << 30
cdef size_t _cache_bytes = 0
cdef int _cache_count = 0
cdef void* _cache_ptr[_CACHE_SLOTS]
cdef size_t _cache_cap[_CACHE_SLOTS]
cdef PyThread_type_lock _cache_lock = PyThread_allocate_lock()


cdef void* _cache_take(size_t nbytes, size_t* cap) noexcept:
    """A cached block of at least nbytes (and at most twice that), or NULL; its capacity goes
    to *cap."""
    global _cache_count, _cache_bytes
    cdef void* p = NULL
    cdef int i, best = -1
    PyThread_acquire_lock(_cache_lock, 1)
    for i in range(_cache_count):
        if nbytes <= _cache_cap[i] <= 2 * nbytes and (best < 0 or _cache_cap[i] < _cache_cap[best]):
            best = i
    if best >= 0:
        p = _cache_ptr[best]
        cap[0] = _cache_cap[best]
        _cache_bytes -= _cache_cap[best]
        _cache_count -= 1
        _cache_ptr[best] = _cache_ptr[_cache_count]
        _cache_cap[best] = _cache_cap[_cache_count]
    PyThread_release_lock(_cache_lock)
    return p


cdef bint _cache_give(void* p, size_t cap) noexcept:
    """Keep a freed block if there is room; False when the caller must free it."""
    global _cache_count, _cache_bytes
    cdef bint kept = False
    PyThread_acquire_lock(_cache_lock, 1)
    if _cache_count < _CACHE_SLOTS and _cache_bytes + cap <= _cache_limit:
        _cache_ptr[_cache_count] = p
        _cache_cap[_cache_count] = cap
        _cache_count += 1
        _cache_bytes += cap
        kept = True
    PyThread_release_lock(_cache_lock)
    return kept


cdef class _Block:
    """The owner of a cached allocation: the base object of the arrays made on it."""
    cdef void* ptr
    cdef size_t cap

    def __dealloc__(self):
        if self.ptr != NULL and not _cache_give(self.ptr, self.cap):
            free(self.ptr)


def set_cache_limit(size_t nbytes):
    """Set the buffer cache's size limit; blocks beyond it are released now."""
    global _cache_limit, _cache_count, _cache_bytes
    PyThread_acquire_lock(_cache_lock, 1)
    _cache_limit = nbytes
    while _cache_bytes > _cache_limit and _cache_count > 0:
        _cache_count -= 1
        _cache_bytes -= _cache_cap[_cache_count]
        free(_cache_ptr[_cache_count])
    PyThread_release_lock(_cache_lock)


def cache_info():
    """(blocks held, bytes held, limit)."""
    return _cache_count, _cache_bytes, _cache_limit


cdef object _result_array(int nd, cnp.npy_intp* dims, int typenum):
    """An uninitialised C-contiguous array for a result: from the buffer cache when large."""
    cdef size_t itemsize = 4 if typenum == cnp.NPY_FLOAT32 else 8
    cdef size_t n = 1
    for i in range(nd):
        n *= <size_t>dims[i]
    cdef size_t nbytes = n * itemsize
    if nbytes < _CACHE_MIN or _cache_limit == 0 or (typenum != cnp.NPY_FLOAT32
                                                     and typenum != cnp.NPY_FLOAT64):
        return cnp.PyArray_EMPTY(nd, dims, typenum, 0)
    cdef size_t cap = 0
    cdef void* p = _cache_take(nbytes, &cap)
    if p == NULL:
        cap = (nbytes + (1 << 21) - 1) & ~(<size_t>((1 << 21) - 1))  # whole huge pages
        if posix_memalign(&p, 1 << 21, cap) != 0:
            return cnp.PyArray_EMPTY(nd, dims, typenum, 0)  # NumPy reports the shortage
        fl_advise_huge(p, cap)
    cdef _Block block = _Block.__new__(_Block)
    block.ptr = p
    block.cap = cap
    arr = cnp.PyArray_SimpleNewFromData(nd, dims, typenum, p)
    cnp.set_array_base(arr, block)
    return arr


def result_array(Py_ssize_t n, dtype):
    """``np.empty(n, dtype)`` for a flat float32/float64 result, through the buffer cache."""
    cdef cnp.npy_intp dims[1]
    dims[0] = n
    return _result_array(1, dims, (<cnp.dtype>dtype).num)


# --------------------------------------------------------------------------------------------
# Elementwise kernels: one table, indexed by name

ELEMENTWISE = ("mse", "mae", "rmse", "msle", "huber", "smooth_l1", "log_cosh",   # regression.c
               "hinge", "squared_hinge", "focal", "focal_probs", "gan_generator",  # binary.c
               "kl_logq_t", "kl_logq_logt", "kl_q_t", "kl_q_logt",              # multiclass.c
               "tweedie", "pinball", "poisson_nll",                             # regression.c
               "focal_g2")                                                      # binary.c
ELEMENTWISE_FACTORS = ("bce", "bce_logits",                                     # binary.c
                       "gaussian_nll")                                          # regression.c

cdef fl_ew_f32 _EW_F32[20]
cdef fl_ew_f64 _EW_F64[20]
_EW_F32[:] = [fl_mse_f32, fl_mae_f32, fl_rmse_f32, fl_msle_f32, fl_huber_f32, fl_smooth_l1_f32,
              fl_log_cosh_f32, fl_hinge_f32, fl_squared_hinge_f32, fl_focal_f32,
              fl_focal_probs_f32, fl_gan_generator_f32, fl_kl_logq_t_f32, fl_kl_logq_logt_f32,
              fl_kl_q_t_f32, fl_kl_q_logt_f32, fl_tweedie_f32, fl_pinball_f32,
              fl_poisson_nll_f32, fl_focal_g2_f32]
_EW_F64[:] = [fl_mse_f64, fl_mae_f64, fl_rmse_f64, fl_msle_f64, fl_huber_f64, fl_smooth_l1_f64,
              fl_log_cosh_f64, fl_hinge_f64, fl_squared_hinge_f64, fl_focal_f64,
              fl_focal_probs_f64, fl_gan_generator_f64, fl_kl_logq_t_f64, fl_kl_logq_logt_f64,
              fl_kl_q_t_f64, fl_kl_q_logt_f64, fl_tweedie_f64, fl_pinball_f64,
              fl_poisson_nll_f64, fl_focal_g2_f64]
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
    if not 0 <= kernel < 20:
        raise ValueError("fastloss internal: unknown elementwise kernel")
    cdef fl_params prm = _params(delta, beta, gamma, alpha, label_smoothing, from_logits,
                                 saturating, power, quantile, eps, log_input, full,
                                 hessian_floor)
    cdef double value = 0.0
    cdef int64_t bad = -1
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
                                 &bad, n_threads)
        else:
            rc = _EW_F64[kernel](n, <double*>px, <double*>py, <double*>pw, &prm, reduction,
                                 denom_scale, <double*>pl, <double*>pg, <double*>ph, &value,
                                 &bad, n_threads)
    return rc, value, bad


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
    cdef int64_t bad = -1
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
                                 <float*>pl, <float*>pg, <float*>ph, &value, &bad, n_threads)
        else:
            rc = _AB_F64[kernel](n, <double*>px, <double*>py, <double*>pw, <double*>pa, a_len,
                                 a_inner, <double*>pb, b_len, b_inner, &prm, reduction,
                                 <double*>pl, <double*>pg, <double*>ph, &value, &bad, n_threads)
    return rc, value, bad


# --------------------------------------------------------------------------------------------
# binary.c

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


# --------------------------------------------------------------------------------------------
# The front door: the common small call straight to a kernel
#
# Called first by the Loss entry points (fastloss._loss) with the call's own arguments. When
# every argument is of the common kind - exact ndarrays, native float32/float64, C-contiguous
# and aligned, default options, no sample weights, out= either None or a matching array that
# overlaps no input (the elementwise doors also take out= the prediction itself: an in-place
# gradient) - the kernel runs here with no Python-level conversion; otherwise (and on any
# other kernel error, so that the general path reports it) these return None and the general
# path in the family module takes over. An elementwise kernel's domain error (a value outside
# the loss's domain) is raised here, with the general path's message
# (fastloss._elementwise.door_domain_error): with out= the prediction, the elements before the
# offending one already hold the gradient, and the general path would read them as inputs.
# `mode`: 0 the value, 1 the gradient, 2 both.

cdef extern from "numpy/arrayobject.h":
    object PyArray_Scalar(void* data, cnp.dtype descr, object base)

cdef cnp.dtype _F32_DESCR = cnp.PyArray_DescrFromType(cnp.NPY_FLOAT32)
cdef cnp.dtype _F64_DESCR = cnp.PyArray_DescrFromType(cnp.NPY_FLOAT64)
cdef int _CARRAY = cnp.NPY_ARRAY_C_CONTIGUOUS | cnp.NPY_ARRAY_ALIGNED
cdef object _NONE = "none"
cdef object _SUM = "sum"
cdef object _MEAN = "mean"

cdef int _K_HUBER = ELEMENTWISE.index("huber")
DEF _ERR_TARGET = -3  # FL_ERR_TARGET, FL_ERR_PRED: csrc/parallel.h
DEF _ERR_PRED = -5


cdef inline int _door_reduction(object r) noexcept:
    """The kernel code of a reduction string, -1 for anything else."""
    if r is _MEAN:
        return 2
    if r is _SUM:
        return 1
    if r is _NONE:
        return 0
    if type(r) is str:
        if r == _MEAN:
            return 2
        if r == _SUM:
            return 1
        if r == _NONE:
            return 0
    return -1


cdef inline int _door_float(object a) noexcept:
    """The type number of an array the door accepts, or -1."""
    if type(a) is not cnp.ndarray:
        return -1
    cdef cnp.ndarray arr = <cnp.ndarray>a
    cdef int t = cnp.PyArray_TYPE(arr)
    if t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64:
        return -1
    if (cnp.PyArray_FLAGS(arr) & _CARRAY) != _CARRAY or not cnp.PyArray_ISNOTSWAPPED(arr):
        return -1
    return t


cdef inline bint _as_double(object o, double* out):
    """A Python float or (not huge) int option as a double; False for anything else."""
    if type(o) is float:
        out[0] = o
        return True
    if type(o) is int and -2**53 <= o <= 2**53:
        out[0] = <double>(<int64_t>o)
        return True
    return False


cdef inline bint _same_shape(cnp.ndarray a, cnp.ndarray b) noexcept:
    cdef int nd = cnp.PyArray_NDIM(a)
    if nd != cnp.PyArray_NDIM(b):
        return False
    cdef cnp.npy_intp* da = cnp.PyArray_DIMS(a)
    cdef cnp.npy_intp* db = cnp.PyArray_DIMS(b)
    for i in range(nd):
        if da[i] != db[i]:
            return False
    return True


cdef inline bint _overlaps(cnp.ndarray a, cnp.ndarray b) noexcept:
    """Whether the byte ranges of two C-contiguous arrays intersect."""
    cdef char* pa = <char*>cnp.PyArray_DATA(a)
    cdef char* pb = <char*>cnp.PyArray_DATA(b)
    return pa < pb + cnp.PyArray_NBYTES(b) and pb < pa + cnp.PyArray_NBYTES(a)


cdef inline object _door_grad(object out, cnp.ndarray like, int t, cnp.ndarray other,
                              bint inplace=False):
    """The gradient buffer: a fresh array shaped like `like`, or `out` when it matches and
    overlaps no input (with `inplace`, `out` may also be `like` itself, for kernels that read
    each element before writing its gradient); None when out= needs the general path."""
    if out is None:
        return _result_array(cnp.PyArray_NDIM(like), cnp.PyArray_DIMS(like), t)
    if type(out) is not cnp.ndarray:
        return None
    cdef cnp.ndarray o = <cnp.ndarray>out
    if (cnp.PyArray_TYPE(o) != t or not _same_shape(o, like)
            or (cnp.PyArray_FLAGS(o) & (_CARRAY | cnp.NPY_ARRAY_WRITEABLE))
            != (_CARRAY | cnp.NPY_ARRAY_WRITEABLE) or not cnp.PyArray_ISNOTSWAPPED(o)
            or (_overlaps(o, like) and not (inplace and cnp.PyArray_DATA(o) == cnp.PyArray_DATA(like)))
            or (other is not None and _overlaps(o, other))):
        return None
    return out


cdef object _door_domain_error(str kernel, int rc, int64_t bad, object x, object y):
    """Raise the general path's error for a value outside the loss's domain."""
    from fastloss._elementwise import door_domain_error
    raise door_domain_error(kernel, rc, bad, x, y)


cdef inline object _door_scalar(double value, int t):
    cdef float v32
    if t == cnp.NPY_FLOAT32:
        v32 = <float>value
        return PyArray_Scalar(&v32, _F32_DESCR, None)
    return PyArray_Scalar(&value, _F64_DESCR, None)


cdef inline object _door_result(int mode, int code, double value, object per, object grad, int t):
    cdef object v = None
    if mode != 1:
        v = per if code == 0 else _door_scalar(value, t)
    if mode == 0:
        return v
    if mode == 1:
        return grad
    return (v, grad)


cdef inline fl_params _door_params(double width, double label_smoothing) noexcept:
    """The options of a front-door call: a width (huber's delta, smooth_l1's beta) and BCE's
    label smoothing; everything else at its default."""
    cdef fl_params prm
    prm.delta = width
    prm.beta = width
    prm.gamma = 0.0
    prm.alpha = -1.0
    prm.label_smoothing = label_smoothing
    prm.from_logits = 0
    prm.saturating = 0
    prm.power = 0.0
    prm.quantile = 0.5
    prm.eps = 0.0
    prm.var = 1.0
    prm.log_input = 0
    prm.full = 0
    prm.hessian_floor = -INFINITY
    return prm


# The front door's kernel number for binary_cross_entropy_with_logits (its own signature, with
# unit factors); the others index ELEMENTWISE.
cdef enum:
    _DOOR_BCE_LOGITS = -1


cdef inline int _door_kernel(int kernel, int t, int64_t n, char* px, char* py, fl_params* prm,
                             int code, char* pl, char* pg, double* value, int64_t* bad,
                             int threads) noexcept nogil:
    if kernel == _DOOR_BCE_LOGITS:
        if t == cnp.NPY_FLOAT32:
            return fl_bce_logits_f32(n, <float*>px, <float*>py, NULL, NULL, 1, 1, NULL, 1, 1,
                                     prm, code, <float*>pl, <float*>pg, NULL, value, bad, threads)
        return fl_bce_logits_f64(n, <double*>px, <double*>py, NULL, NULL, 1, 1, NULL, 1, 1,
                                 prm, code, <double*>pl, <double*>pg, NULL, value, bad, threads)
    if t == cnp.NPY_FLOAT32:
        return _EW_F32[kernel](n, <float*>px, <float*>py, NULL, prm, code, 1.0, <float*>pl,
                               <float*>pg, NULL, value, bad, threads)
    return _EW_F64[kernel](n, <double*>px, <double*>py, NULL, prm, code, 1.0, <double*>pl,
                           <double*>pg, NULL, value, bad, threads)


cdef object _door_elementwise(int kernel, int mode, object out, object pred, object target,
                              object reduction, fl_params* prm):
    cdef int t = _door_float(pred)
    if t < 0 or _door_float(target) != t:
        return None
    cdef cnp.ndarray x = <cnp.ndarray>pred
    cdef cnp.ndarray y = <cnp.ndarray>target
    if not _same_shape(x, y):
        return None
    cdef int code = _door_reduction(reduction)
    if code < 0:
        return None
    cdef int64_t n = cnp.PyArray_SIZE(x)
    cdef int64_t bad = -1
    cdef object grad = None
    cdef object per = None
    cdef char* pg = NULL
    cdef char* pl = NULL
    if mode != 0:
        grad = _door_grad(out, x, t, y, True)
        if grad is None:
            return None
        pg = <char*>cnp.PyArray_DATA(<cnp.ndarray>grad)
    if mode != 1 and code == 0:
        per = _result_array(cnp.PyArray_NDIM(x), cnp.PyArray_DIMS(x), t)
        pl = <char*>cnp.PyArray_DATA(<cnp.ndarray>per)
    cdef char* px = <char*>cnp.PyArray_DATA(x)
    cdef char* py = <char*>cnp.PyArray_DATA(y)
    cdef double value = 0.0
    cdef int rc = 0
    cdef int threads = _THREADS
    if n >= 16384:
        with nogil:
            rc = _door_kernel(kernel, t, n, px, py, prm, code, pl, pg, &value, &bad, threads)
    else:  # a short call: releasing the GIL would cost more than the kernel
        rc = _door_kernel(kernel, t, n, px, py, prm, code, pl, pg, &value, &bad, threads)
    if rc != 0:
        if rc == _ERR_PRED or rc == _ERR_TARGET:
            _door_domain_error("bce_logits" if kernel == _DOOR_BCE_LOGITS else ELEMENTWISE[kernel],
                               rc, bad, x, y)
        return None
    return _door_result(mode, code, value, per, grad, t)


# The thread count the front door gives the kernels; fastloss._config keeps it in step.
cdef int _THREADS = 0


def door_threads(int n):
    global _THREADS
    _THREADS = n


def door_plain(int kernel, int mode, object out, object pred, object target, object reduction,
               object sample_weight):
    """Losses called as (pred, target, *, reduction, sample_weight)."""
    if sample_weight is not None:
        return None
    cdef fl_params prm = _door_params(0.0, 0.0)
    return _door_elementwise(kernel, mode, out, pred, target, reduction, &prm)


def door_width(int kernel, int mode, object out, object pred, object target, object width,
               object reduction, object sample_weight):
    """huber (delta > 0) and smooth_l1 (beta >= 0): (pred, target, *, width, reduction,
    sample_weight)."""
    cdef double w
    if sample_weight is not None or not _as_double(width, &w):
        return None
    if not (w >= 0.0 and w < 1.0e308) or (w == 0.0 and kernel == _K_HUBER):
        return None
    cdef fl_params prm = _door_params(w, 0.0)
    return _door_elementwise(kernel, mode, out, pred, target, reduction, &prm)


def door_bce_logits(int mode, object out, object pred, object target, object pos_weight,
                    object weight, object label_smoothing, object reduction,
                    object sample_weight):
    """binary_cross_entropy_with_logits without weights."""
    if pos_weight is not None or weight is not None or sample_weight is not None:
        return None
    cdef double eps
    if not _as_double(label_smoothing, &eps) or not (0.0 <= eps <= 1.0):
        return None
    cdef fl_params prm = _door_params(0.0, eps)
    return _door_elementwise(_DOOR_BCE_LOGITS, mode, out, pred, target, reduction, &prm)


def door_cross_entropy(int mode, object out, object logits, object target, object axis,
                       object weight, object ignore_index, object label_smoothing,
                       object temperature, object reduction, object sample_weight):
    """cross_entropy with (N, C) logits, classes last, (N,) int64 labels, no weights."""
    if weight is not None or sample_weight is not None:
        return None
    cdef int t = _door_float(logits)
    if t < 0 or type(target) is not cnp.ndarray:
        return None
    cdef cnp.ndarray z = <cnp.ndarray>logits
    cdef cnp.ndarray y = <cnp.ndarray>target
    if (cnp.PyArray_NDIM(z) != 2 or cnp.PyArray_NDIM(y) != 1
            or cnp.PyArray_TYPE(y) != cnp.NPY_INT64
            or (cnp.PyArray_FLAGS(y) & _CARRAY) != _CARRAY or not cnp.PyArray_ISNOTSWAPPED(y)):
        return None
    cdef int64_t n = cnp.PyArray_DIMS(z)[0]
    cdef int64_t c = cnp.PyArray_DIMS(z)[1]
    if cnp.PyArray_DIMS(y)[0] != n or c == 0:
        return None
    if type(axis) is not int or (axis != -1 and axis != 1):
        return None
    if type(ignore_index) is not int or not (-2**62 < ignore_index < 2**62):
        return None
    cdef double eps, temp
    if not _as_double(label_smoothing, &eps) or not _as_double(temperature, &temp):
        return None
    if not (0.0 <= eps <= 1.0) or not (0.0 < temp < 1.0e308):
        return None
    cdef int code = _door_reduction(reduction)
    if code < 0:
        return None
    cdef int64_t ignore = ignore_index
    cdef object grad = None
    cdef object per = None
    cdef char* pg = NULL
    cdef char* pl = NULL
    if mode != 0:
        grad = _door_grad(out, z, t, None, True)
        if grad is None or (out is not None and _overlaps(<cnp.ndarray>grad, y)):
            return None
        pg = <char*>cnp.PyArray_DATA(<cnp.ndarray>grad)
    if mode != 1 and code == 0:
        per = cnp.PyArray_EMPTY(1, cnp.PyArray_DIMS(y), t, 0)
        pl = <char*>cnp.PyArray_DATA(<cnp.ndarray>per)
    cdef char* pz = <char*>cnp.PyArray_DATA(z)
    cdef int64_t* py = <int64_t*>cnp.PyArray_DATA(y)
    cdef double value = 0.0
    cdef double inv_t = 1.0 / temp
    cdef int64_t bad = -1
    cdef int rc
    cdef int threads = _THREADS
    if n * c >= 16384:
        with nogil:
            if t == cnp.NPY_FLOAT32:
                rc = fl_ce_index_f32(n, c, <float*>pz, py, NULL, NULL, ignore, eps, inv_t, code,
                                     <float*>pl, <float*>pg, NULL, -INFINITY, &value, &bad,
                                     threads)
            else:
                rc = fl_ce_index_f64(n, c, <double*>pz, py, NULL, NULL, ignore, eps, inv_t, code,
                                     <double*>pl, <double*>pg, NULL, -INFINITY, &value, &bad,
                                     threads)
    elif t == cnp.NPY_FLOAT32:
        rc = fl_ce_index_f32(n, c, <float*>pz, py, NULL, NULL, ignore, eps, inv_t, code,
                             <float*>pl, <float*>pg, NULL, -INFINITY, &value, &bad, threads)
    else:
        rc = fl_ce_index_f64(n, c, <double*>pz, py, NULL, NULL, ignore, eps, inv_t, code,
                             <double*>pl, <double*>pg, NULL, -INFINITY, &value, &bad, threads)
    if rc != 0:
        return None
    return _door_result(mode, code, value, per, grad, t)
