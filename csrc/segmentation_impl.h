/* Soft Dice over a C-contiguous (o_n, c, inner) array, for one FL_REAL; included by segmentation.c.
 *
 * For every (o, k): I = sum_i p t, P = sum_i p, T = sum_i t over the inner positions and
 * dice = 1 - (2 I + s) / (P + T + s). With den = P + T + s,
 *   d dice / d p_i = -2 t_i / den + (2 I + s) / den^2 = alpha t_i + beta,
 * and with from_logits p = softmax over k at each position, so the logit gradient is
 *   g_k = p_k (h_k - sum_j p_j h_j) with h_k = alpha_k t_k + beta_k.
 *
 * Two passes over a sample, both in chunks of positions (the class axis has stride inner, so
 * every loop runs along positions and vectorises; a chunk's c rows stay in L1):
 *   1. statistics: the softmax of the chunk (max, one exp per element, sum), p parked in the
 *      gradient (or in scratch for a value-only call), then I, P, T per class;
 *   2. gradient, once alpha and beta of the sample are known: from the parked p alone (no
 *      second read of the logits, no second exp).
 * Statistics are kept per chunk and added in chunk order, and chunks depend on the shape only,
 * so the result does not depend on the thread count. When there are enough samples for every
 * thread, one thread runs both passes of a sample back to back, while the sample is still in
 * its cache; otherwise the threads share the chunks of every pass. Both orders give the same
 * bits. */

/* Positions per chunk, a function of c only: the c rows of a chunk (about 32 KiB of logits)
 * and the per-position scratch fit in L1/L2; a multiple of 16, so that only the last chunk of
 * a sample can have a vector remainder. (Longer or shorter chunks, 256 to 4096 positions for
 * c = 4, measured the same.) */
static inline int64_t FL_FN(dice_chunk_len)(int64_t c) {
    int64_t len = 8192 / (c > 0 ? c : 1);
    len = len > 1024 ? 1024 : (len < 64 ? 64 : len);
    return len & ~(int64_t)15;
}

/* Per-thread scratch for one chunk of len positions. */
typedef struct {
    FL_REAL *mx;  /* max over the classes */
    FL_REAL *rs;  /* 1 / sum of exponentials, rounded once */
    double *se;   /* sum of exponentials */
    FL_REAL *dot; /* sum_j p_j h_j */
    FL_REAL *pk;  /* c * len parked probabilities when there is no gradient to park them in */
    int32_t *lab; /* the chunk's labels, narrowed: compared with 32-bit lanes, as wide as a
                   * float's, where int64 lanes would need packing to a float mask on AVX2 */
} FL_FN(dice_ws);

/* Pass 1 over one chunk of len positions at x (class k at x + k * inner; t, lab and pbuf alike,
 * pbuf with stride pstride): I, P, T of every class into st[k * 3 + {0, 1, 2}]. With
 * from_logits the probabilities go to pbuf. Labels outside [0, c) set *badflag. has_target and
 * from_logits are literals at every call site, so each variant is a branch-free loop. */
static inline __attribute__((always_inline)) void FL_FN(dice_chunk_stats)(
    const FL_REAL *restrict x, const FL_REAL *restrict t, const int64_t *restrict lab, int64_t c,
    int64_t inner, int64_t len, FL_REAL *restrict pbuf, int64_t pstride, FL_FN(dice_ws) ws,
    double *restrict st, int *restrict badflag, const int from_logits, const int has_target) {
    FL_REAL *restrict mx = ws.mx, *restrict rs = ws.rs;
    double *restrict se = ws.se;
    if (!has_target) {
        /* the labels are only ever compared, never used as indices, so the range check can
         * run here, on data this pass reads anyway */
        int bad = 0;
        const uint64_t uc = (uint64_t)c;
        int32_t *restrict l32 = ws.lab;
#pragma omp simd reduction(| : bad)
        for (int64_t i = 0; i < len; i++) {
            bad |= (uint64_t)lab[i] >= uc;
            l32[i] = (int32_t)lab[i];
        }
        if (bad) *badflag |= 1;
    }
    if (from_logits) {
        /* max over classes; a NaN in the first class sticks, later ones reach p through exp */
        for (int64_t i = 0; i < len; i++) mx[i] = x[i];
        for (int64_t k = 1; k < c; k++) {
            const FL_REAL *restrict xk = x + k * inner;
            for (int64_t i = 0; i < len; i++) mx[i] = xk[i] > mx[i] ? xk[i] : mx[i];
        }
        /* the first class initialises the sums (a zeroing loop would be a memset call) */
        for (int64_t k = 0; k < c; k++) {
            const FL_REAL *restrict xk = x + k * inner;
            FL_REAL *restrict ek = pbuf + k * pstride;
            if (k == 0) {
                for (int64_t i = 0; i < len; i++) {
                    FL_REAL e = FL_EXP(xk[i] - mx[i]);
                    ek[i] = e;
                    se[i] = (double)e;
                }
            } else {
                for (int64_t i = 0; i < len; i++) {
                    FL_REAL e = FL_EXP(xk[i] - mx[i]);
                    ek[i] = e;
                    se[i] += (double)e;
                }
            }
        }
        for (int64_t i = 0; i < len; i++) rs[i] = (FL_REAL)(1.0 / se[i]);
    }
    const int32_t *restrict l32 = ws.lab;
    for (int64_t k = 0; k < c; k++) {
        const FL_REAL *restrict xk = x + k * inner;
        const FL_REAL *restrict tk = has_target ? t + k * inner : NULL;
        FL_REAL *restrict pk = pbuf + k * pstride;
        const int32_t k32 = (int32_t)k;
        double si = 0.0, sp = 0.0, stt = 0.0;
        /* probabilities as given must lie in [0, 1]: checked on the values this pass reads
         * anyway (NaN passes, as the NaN policy wants) */
        int pbad = 0;
        if (has_target) {
#pragma omp simd reduction(+ : si, sp, stt) reduction(| : pbad)
            for (int64_t i = 0; i < len; i++) {
                FL_REAL p = from_logits ? pk[i] * rs[i] : xk[i];
                if (from_logits) pk[i] = p;
                else pbad |= (p < 0) | (p > 1);
                si += (double)(p * tk[i]);
                sp += (double)p;
                stt += (double)tk[i];
            }
        } else {
            /* T is a count: exact in 32-bit lanes (a chunk has < 2^31 positions) */
            int32_t cnt = 0;
#pragma omp simd reduction(+ : si, sp, cnt) reduction(| : pbad)
            for (int64_t i = 0; i < len; i++) {
                FL_REAL p = from_logits ? pk[i] * rs[i] : xk[i];
                if (from_logits) pk[i] = p;
                else pbad |= (p < 0) | (p > 1);
                int32_t hit = l32[i] == k32;
                si += hit ? (double)p : 0.0;
                sp += (double)p;
                cnt += hit;
            }
            stt = (double)cnt;
        }
        if (pbad) *badflag |= 2;
        st[k * 3 + 0] = si;
        st[k * 3 + 1] = sp;
        st[k * 3 + 2] = stt;
    }
}

/* Pass 2 over one chunk: the gradient g (class k at g + k * inner) from alpha_k, beta_k in
 * cf[2k], cf[2k + 1]; with from_logits g holds p on entry (pass 1 parked it there). */
static inline __attribute__((always_inline)) void FL_FN(dice_chunk_grad)(
    const FL_REAL *restrict t, const int64_t *restrict lab, int64_t c, int64_t inner,
    int64_t len, const double *restrict cf, FL_REAL *restrict g, FL_FN(dice_ws) ws,
    const int from_logits, const int has_target) {
    int32_t *restrict l32 = ws.lab;
    if (!has_target)
        for (int64_t i = 0; i < len; i++) l32[i] = (int32_t)lab[i];
    if (!from_logits) {
        for (int64_t k = 0; k < c; k++) {
            FL_REAL al = (FL_REAL)cf[k * 2], be = (FL_REAL)cf[k * 2 + 1];
            const int32_t k32 = (int32_t)k;
            FL_REAL *restrict gk = g + k * inner;
            const FL_REAL *restrict tk = has_target ? t + k * inner : NULL;
            for (int64_t i = 0; i < len; i++)
                gk[i] = has_target ? al * tk[i] + be : (l32[i] == k32 ? al + be : be);
        }
        return;
    }
    /* In FL_REAL, as the cross-entropy gradient: p is an FL_REAL already (parked in g), and the
     * few roundings of h_k - dot at the scale of |alpha| cost float32 ~3e-7 of max |g| (~1e-7
     * with this in double, where the loop needs ~30% more instructions). */
    FL_REAL *restrict dot = ws.dot;
    for (int64_t k = 0; k < c; k++) {
        const FL_REAL al = (FL_REAL)cf[k * 2], be = (FL_REAL)cf[k * 2 + 1];
        const int32_t k32 = (int32_t)k;
        const FL_REAL *restrict pk = g + k * inner;
        const FL_REAL *restrict tk = has_target ? t + k * inner : NULL;
        for (int64_t i = 0; i < len; i++) {
            FL_REAL h = has_target ? al * tk[i] + be : (l32[i] == k32 ? al + be : be);
            dot[i] = (k == 0 ? (FL_REAL)0 : dot[i]) + pk[i] * h;
        }
    }
    for (int64_t k = 0; k < c; k++) {
        const FL_REAL al = (FL_REAL)cf[k * 2], be = (FL_REAL)cf[k * 2 + 1];
        const int32_t k32 = (int32_t)k;
        FL_REAL *restrict gk = g + k * inner;
        const FL_REAL *restrict tk = has_target ? t + k * inner : NULL;
        for (int64_t i = 0; i < len; i++) {
            FL_REAL h = has_target ? al * tk[i] + be : (l32[i] == k32 ? al + be : be);
            gk[i] = gk[i] * (h - dot[i]);
        }
    }
}

/* Everything about one call that the chunk loops need. */
typedef struct {
    int64_t o_n, c, inner, len, nch;
    const FL_REAL *pred, *target;
    const int64_t *labels;
    const FL_REAL *sw;
    double smooth, scale;
    int from_logits;
    FL_REAL *grad;
    double *stats; /* [(o * nch + ch) * c + k] * 3 + {I, P, T} */
    double *coef;  /* [(o * c + k) * 2 + {alpha, beta}] */
} FL_FN(dice_job);

/* Not inlined into the two loops that call it; cloned per ISA like the entry point (an
 * uncloned static helper would be compiled for the baseline ISA only). */
FL_TARGET_CLONES
static void FL_FN(dice_stats_unit)(const FL_FN(dice_job) *j, int64_t o, int64_t ch,
                                   FL_FN(dice_ws) ws, int *badflag) {
    const int64_t c = j->c, inner = j->inner, lo = ch * j->len;
    const int64_t len = inner - lo < j->len ? inner - lo : j->len;
    const FL_REAL *x = j->pred + o * c * inner + lo;
    const FL_REAL *t = j->target ? j->target + o * c * inner + lo : NULL;
    const int64_t *lab = j->labels ? j->labels + o * inner + lo : NULL;
    FL_REAL *pbuf = j->grad ? j->grad + o * c * inner + lo : ws.pk;
    const int64_t pstride = j->grad ? inner : j->len;
    double *st = j->stats + (o * j->nch + ch) * c * 3;
    switch ((j->from_logits ? 2 : 0) | (t ? 1 : 0)) {
#define FL_DICE_STATS(K)                                                                        \
    case K:                                                                                     \
        FL_FN(dice_chunk_stats)(x, t, lab, c, inner, len, pbuf, pstride, ws, st, badflag,       \
                                (K) & 2, (K) & 1);                                              \
        break;
        FL_DICE_STATS(0) FL_DICE_STATS(1) FL_DICE_STATS(2) FL_DICE_STATS(3)
#undef FL_DICE_STATS
    }
}

/* I, P, T of (o, k): the chunk statistics added in chunk order (the only summation order). */
static inline void FL_FN(dice_sums)(const FL_FN(dice_job) *j, int64_t o, int64_t k,
                                    double *si, double *sp, double *stt) {
    double a = 0.0, b = 0.0, d = 0.0;
    for (int64_t ch = 0; ch < j->nch; ch++) {
        const double *st = j->stats + ((o * j->nch + ch) * j->c + k) * 3;
        a += st[0];
        b += st[1];
        d += st[2];
    }
    *si = a;
    *sp = b;
    *stt = d;
}

/* alpha, beta of every class of sample o. */
static void FL_FN(dice_coef)(const FL_FN(dice_job) *j, int64_t o) {
    for (int64_t k = 0; k < j->c; k++) {
        double si, sp, stt;
        FL_FN(dice_sums)(j, o, k, &si, &sp, &stt);
        double w = j->sw ? (double)j->sw[o * j->c + k] : 1.0;
        double den = sp + stt + j->smooth, num = 2.0 * si + j->smooth;
        j->coef[(o * j->c + k) * 2 + 0] = -2.0 * w * j->scale / den;
        j->coef[(o * j->c + k) * 2 + 1] = w * j->scale * num / (den * den);
    }
}

FL_TARGET_CLONES
static void FL_FN(dice_grad_unit)(const FL_FN(dice_job) *j, int64_t o, int64_t ch,
                                  FL_FN(dice_ws) ws) {
    const int64_t c = j->c, inner = j->inner, lo = ch * j->len;
    const int64_t len = inner - lo < j->len ? inner - lo : j->len;
    const FL_REAL *t = j->target ? j->target + o * c * inner + lo : NULL;
    const int64_t *lab = j->labels ? j->labels + o * inner + lo : NULL;
    FL_REAL *g = j->grad + o * c * inner + lo;
    const double *cf = j->coef + o * c * 2;
    switch ((j->from_logits ? 2 : 0) | (t ? 1 : 0)) {
#define FL_DICE_GRAD(K)                                                                         \
    case K:                                                                                     \
        FL_FN(dice_chunk_grad)(t, lab, c, inner, len, cf, g, ws, (K) & 2, (K) & 1);            \
        break;
        FL_DICE_GRAD(0) FL_DICE_GRAD(1) FL_DICE_GRAD(2) FL_DICE_GRAD(3)
#undef FL_DICE_GRAD
    }
}

/* IN   o_n, c, inner   shape; the class axis is the middle one
 * IN   pred            probabilities, or logits when from_logits
 * IN   target          o_n*c*inner soft/one-hot targets, or NULL when labels are given
 * IN   labels          o_n*inner class indices, or NULL
 * IN   sw              o_n*c sample weights or NULL
 * IN   smooth          the additive smoothing s >= 0
 * IN   reduction       FL_NONE, FL_SUM or FL_MEAN (mean over o_n and c)
 * OUT  loss            o_n*c Dice losses times sw, or NULL
 * OUT  grad            gradient of the reduced value w.r.t. pred, or NULL; on FL_ERR_LABEL its
 *                      contents are unspecified (the labels are checked while they are read)
 * OUT  value           reduced value
 * OUT  bad             index of the first label outside [0, c), on FL_ERR_LABEL; of the first
 *                      probability outside [0, 1] (without from_logits), on FL_ERR_PRED */
FL_TARGET_CLONES
int FL_FN(fl_dice)(int64_t o_n, int64_t c, int64_t inner, const FL_REAL *restrict pred,
                   const FL_REAL *restrict target, const int64_t *restrict labels,
                   const FL_REAL *restrict sw, double smooth, int from_logits, int reduction,
                   FL_REAL *restrict loss, FL_REAL *restrict grad, double *value, int64_t *bad,
                   int n_threads) {
    /* labels are compared as 32-bit integers (see dice_ws); a class axis of 2^31 or more with
     * integer labels (an 8 GiB prediction per position) is refused as too large */
    if (labels && !target && c > INT32_MAX) return FL_ERR_NOMEM;
    FL_FN(dice_job) j;
    j.o_n = o_n;
    j.c = c;
    j.inner = inner;
    j.len = FL_FN(dice_chunk_len)(c);
    j.nch = inner > 0 ? (inner + j.len - 1) / j.len : 0;
    j.pred = pred;
    j.target = target;
    j.labels = target ? NULL : labels;
    j.sw = sw;
    j.smooth = smooth;
    j.from_logits = from_logits;
    j.grad = grad;
    const int64_t units = o_n * j.nch;
    j.stats = (double *)malloc((size_t)(units * c * 3 + o_n * c * 2 + 1) * sizeof(double));
    if (!j.stats) return FL_ERR_NOMEM;
    j.coef = j.stats + units * c * 3;
    double d = (double)(o_n * c);
    if (reduction == FL_MEAN && sw) {
        d = 0.0;
        for (int64_t q = 0; q < o_n * c; q++) d += (double)sw[q];
    }
    j.scale = reduction == FL_MEAN ? 1.0 / d : 1.0;

    int nt = fl_threads_for(n_threads, o_n * c * inner, units);
    /* whole samples per thread when that keeps every thread busy: pass 2 then finds the
     * sample in the cache pass 1 left it in, and there is no barrier between the passes */
    const int by_sample = grad && (nt == 1 || o_n % nt == 0 || o_n >= 4 * (int64_t)nt);
    const size_t ws_len = (size_t)j.len * (3 * sizeof(FL_REAL) + sizeof(double) + sizeof(int32_t)) +
                          (grad ? 0 : (size_t)(c * j.len) * sizeof(FL_REAL));
    int failed = 0, badflag = 0;

#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        /* double-aligned scratch: the doubles first */
        void *mem = malloc(ws_len);
        FL_FN(dice_ws) ws;
        int my_bad = 0;
        if (!mem) {
#pragma omp atomic write
            failed = 1;
        } else {
            ws.se = (double *)mem;
            ws.mx = (FL_REAL *)(ws.se + j.len);
            ws.dot = ws.mx + j.len;
            ws.rs = ws.dot + j.len;
            ws.lab = (int32_t *)(ws.rs + j.len);
            ws.pk = (FL_REAL *)(ws.lab + j.len);
        }
        if (by_sample) {
            /* dynamic: a sample is a large unit, and a thread held up (by another process on
             * its core) leaves its samples to the others; no bit depends on the order */
#pragma omp for schedule(dynamic, 1)
            for (int64_t o = 0; o < o_n; o++) {
                if (!mem) continue;
                for (int64_t ch = 0; ch < j.nch; ch++) FL_FN(dice_stats_unit)(&j, o, ch, ws, &my_bad);
                FL_FN(dice_coef)(&j, o);
                for (int64_t ch = 0; ch < j.nch; ch++) FL_FN(dice_grad_unit)(&j, o, ch, ws);
            }
        } else {
#pragma omp for schedule(static)
            for (int64_t u = 0; u < units; u++) {
                if (mem) FL_FN(dice_stats_unit)(&j, u / j.nch, u % j.nch, ws, &my_bad);
            }
            if (grad) {
#pragma omp for schedule(static)
                for (int64_t o = 0; o < o_n; o++) FL_FN(dice_coef)(&j, o);
#pragma omp for schedule(static)
                for (int64_t u = 0; u < units; u++) {
                    if (mem) FL_FN(dice_grad_unit)(&j, u / j.nch, u % j.nch, ws);
                }
            }
        }
        if (my_bad) {
#pragma omp atomic update
            badflag |= my_bad;
        }
        free(mem);
    }
    if (failed) {
        free(j.stats);
        return FL_ERR_NOMEM;
    }
    if (badflag & 1) {
        free(j.stats);
        for (int64_t q = 0; q < o_n * inner; q++) {
            if (labels[q] < 0 || labels[q] >= c) {
                *bad = q;
                break;
            }
        }
        return FL_ERR_LABEL;
    }
    if (badflag & 2) { /* the first probability outside [0, 1], found only on this path */
        free(j.stats);
        for (int64_t q = 0; q < o_n * c * inner; q++) {
            if (pred[q] < 0 || pred[q] > 1) {
                *bad = q;
                break;
            }
        }
        return FL_ERR_PRED;
    }

    double total = 0.0;
    for (int64_t o = 0; o < o_n; o++) {
        for (int64_t k = 0; k < c; k++) {
            double si, sp, stt;
            FL_FN(dice_sums)(&j, o, k, &si, &sp, &stt);
            double w = sw ? (double)sw[o * c + k] : 1.0;
            double dl = 1.0 - (2.0 * si + smooth) / (sp + stt + smooth);
            if (loss) loss[o * c + k] = (FL_REAL)(w * dl);
            total += w * dl;
        }
    }
    *value = total * j.scale;
    free(j.stats);
    return FL_OK;
}
