/* Soft Dice over a C-contiguous (o_n, c, inner) array, for one FL_REAL; included by segmentation.c.
 *
 * For every (o, k): I = sum_i p t, P = sum_i p, T = sum_i t over the inner positions and
 * dice = 1 - (2 I + s) / (P + T + s). With den = P + T + s,
 *   d dice / d p_i = -2 t_i / den + (2 I + s) / den^2 = alpha t_i + beta,
 * and with from_logits p = softmax over k at each position, so the logit gradient is
 *   g_k = p_k (h_k - sum_j p_j h_j) with h_k = alpha_k t_k + beta_k.
 * Positions are processed in chunks of DICE_CHUNK whose statistics are added in chunk order, so
 * the result does not depend on the thread count. */
#ifndef DICE_CHUNK
#define DICE_CHUNK 1024
#endif

/* Per-position max and sum of exponentials over the class axis for positions [lo, hi). */
static inline void FL_FN(dice_softmax_stats)(const FL_REAL *restrict x, int64_t c, int64_t inner,
                                             int64_t lo, int64_t len, FL_REAL *restrict mx,
                                             double *restrict se) {
    for (int64_t i = 0; i < len; i++) {
        mx[i] = -INFINITY;
        se[i] = 0.0;
    }
    for (int64_t k = 0; k < c; k++) {
        const FL_REAL *xk = x + k * inner + lo;
        for (int64_t i = 0; i < len; i++) mx[i] = xk[i] > mx[i] ? xk[i] : mx[i];
    }
    for (int64_t k = 0; k < c; k++) {
        const FL_REAL *xk = x + k * inner + lo;
        for (int64_t i = 0; i < len; i++) se[i] += (double)FL_EXP(xk[i] - mx[i]);
    }
}

/* The per-class loops, with the layout of the target and from_logits as compile-time
 * constants (every call site passes literals) so that they are branch-free and vectorise.
 * tk: the class's soft target row (has_target), else lab: the labels of the chunk. */
static inline __attribute__((always_inline)) void FL_FN(dice_class_stats)(
    const FL_REAL *restrict xk, const FL_REAL *restrict tk, const int64_t *restrict lab,
    int64_t k, const FL_REAL *restrict mx, const double *restrict se, int64_t len,
    double *restrict out, const int from_logits, const int has_target) {
    double si = 0.0, sp = 0.0, stt = 0.0;
#pragma omp simd reduction(+ : si, sp, stt)
    for (int64_t i = 0; i < len; i++) {
        FL_REAL p = from_logits ? (FL_REAL)((double)FL_EXP(xk[i] - mx[i]) / se[i]) : xk[i];
        FL_REAL t = has_target ? tk[i] : (lab[i] == k ? (FL_REAL)1 : (FL_REAL)0);
        si += (double)(p * t);
        sp += (double)p;
        stt += (double)t;
    }
    out[0] = si;
    out[1] = sp;
    out[2] = stt;
}

/* Logit gradient, pass 1 (second == 0): p_k into gk and dot += p_k h_k; pass 2: gk = p_k (h_k -
 * dot), with h_k = alpha t_k + beta. */
static inline __attribute__((always_inline)) void FL_FN(dice_class_grad)(
    const FL_REAL *restrict xk, const FL_REAL *restrict tk, const int64_t *restrict lab,
    int64_t k, const FL_REAL *restrict mx, const double *restrict se, double *restrict dot,
    FL_REAL *restrict gk, double al, double be, int64_t len, const int second,
    const int has_target) {
    for (int64_t i = 0; i < len; i++) {
        double t = has_target ? (double)tk[i] : (lab[i] == k ? 1.0 : 0.0);
        double h = al * t + be;
        if (!second) {
            double p = (double)FL_EXP(xk[i] - mx[i]) / se[i];
            gk[i] = (FL_REAL)p;
            dot[i] += p * h;
        } else {
            gk[i] = (FL_REAL)((double)gk[i] * (h - dot[i]));
        }
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
 * OUT  grad            gradient of the reduced value w.r.t. pred, or NULL
 * OUT  value           reduced value
 * OUT  bad             index of the first label outside [0, c), on FL_ERR_LABEL */
FL_TARGET_CLONES
int FL_FN(fl_dice)(int64_t o_n, int64_t c, int64_t inner, const FL_REAL *restrict pred,
                   const FL_REAL *restrict target, const int64_t *restrict labels,
                   const FL_REAL *restrict sw, double smooth, int from_logits, int reduction,
                   FL_REAL *restrict loss, FL_REAL *restrict grad, double *value, int64_t *bad,
                   int n_threads) {
    if (labels) {
        for (int64_t j = 0; j < o_n * inner; j++) {
            if (labels[j] < 0 || labels[j] >= c) {
                *bad = j;
                return FL_ERR_LABEL;
            }
        }
    }
    int64_t nch = inner > 0 ? (inner + DICE_CHUNK - 1) / DICE_CHUNK : 0;
    int64_t units = o_n * nch;
    /* stats[(unit * c + k) * 3 + {0: I, 1: P, 2: T}], then coef[(o * c + k) * 2 + {alpha, beta}] */
    double *stats = (double *)malloc((size_t)(units * c * 3 + o_n * c * 2 + 1) * sizeof(double));
    if (!stats) return FL_ERR_NOMEM;
    double *coef = stats + units * c * 3;
    int nt = fl_threads_for(n_threads, o_n * c * inner, units);

#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int64_t u = 0; u < units; u++) {
        int64_t o = u / nch, lo = (u % nch) * DICE_CHUNK;
        int64_t len = inner - lo < DICE_CHUNK ? inner - lo : DICE_CHUNK;
        const FL_REAL *x = pred + o * c * inner;
        double *st = stats + u * c * 3;
        FL_REAL mx[DICE_CHUNK];
        double se[DICE_CHUNK];
        if (from_logits) FL_FN(dice_softmax_stats)(x, c, inner, lo, len, mx, se);
        for (int64_t k = 0; k < c; k++) {
            const FL_REAL *xk = x + k * inner + lo;
            const FL_REAL *tk = target ? target + (o * c + k) * inner + lo : NULL;
            const int64_t *lab = labels ? labels + o * inner + lo : NULL;
            switch ((from_logits ? 2 : 0) | (target ? 1 : 0)) {
#define FL_DICE_STATS(K)                                                                        \
    case K:                                                                                     \
        FL_FN(dice_class_stats)(xk, tk, lab, k, mx, se, len, st + k * 3, (K) & 2, (K) & 1);     \
        break;
                FL_DICE_STATS(0) FL_DICE_STATS(1) FL_DICE_STATS(2) FL_DICE_STATS(3)
#undef FL_DICE_STATS
            }
        }
    }

    double d = (double)(o_n * c);
    if (reduction == FL_MEAN && sw) {
        d = 0.0;
        for (int64_t j = 0; j < o_n * c; j++) d += (double)sw[j];
    }
    double scale = reduction == FL_MEAN ? 1.0 / d : 1.0;
    double total = 0.0;
    for (int64_t o = 0; o < o_n; o++) {
        for (int64_t k = 0; k < c; k++) {
            double si = 0.0, sp = 0.0, stt = 0.0;
            for (int64_t ch = 0; ch < nch; ch++) {
                const double *st = stats + ((o * nch + ch) * c + k) * 3;
                si += st[0];
                sp += st[1];
                stt += st[2];
            }
            double w = sw ? (double)sw[o * c + k] : 1.0;
            double den = sp + stt + smooth, num = 2.0 * si + smooth;
            double dl = 1.0 - num / den;
            if (loss) loss[o * c + k] = (FL_REAL)(w * dl);
            total += w * dl;
            coef[(o * c + k) * 2 + 0] = -2.0 * w * scale / den;
            coef[(o * c + k) * 2 + 1] = w * scale * num / (den * den);
        }
    }
    *value = total * scale;

    if (grad) {
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
        for (int64_t u = 0; u < units; u++) {
            int64_t o = u / nch, lo = (u % nch) * DICE_CHUNK;
            int64_t len = inner - lo < DICE_CHUNK ? inner - lo : DICE_CHUNK;
            const FL_REAL *x = pred + o * c * inner;
            FL_REAL *g = grad + o * c * inner;
            const double *cf = coef + o * c * 2;
            const int64_t *lab = labels ? labels + o * inner + lo : NULL;
            if (!from_logits) {
                for (int64_t k = 0; k < c; k++) {
                    FL_REAL al = (FL_REAL)cf[k * 2], be = (FL_REAL)cf[k * 2 + 1];
                    FL_REAL *gk = g + k * inner + lo;
                    if (target) {
                        const FL_REAL *tk = target + (o * c + k) * inner + lo;
                        for (int64_t i = 0; i < len; i++) gk[i] = al * tk[i] + be;
                    } else {
                        for (int64_t i = 0; i < len; i++) gk[i] = lab[i] == k ? al + be : be;
                    }
                }
                continue;
            }
            FL_REAL mx[DICE_CHUNK];
            double se[DICE_CHUNK], dot[DICE_CHUNK];
            FL_FN(dice_softmax_stats)(x, c, inner, lo, len, mx, se);
            for (int64_t i = 0; i < len; i++) dot[i] = 0.0;
            /* pass 1: p into the gradient, dot = sum_k p_k h_k; pass 2: g = p (h - dot) */
            for (int64_t pass = 0; pass < 2; pass++) {
                for (int64_t k = 0; k < c; k++) {
                    const FL_REAL *xk = x + k * inner + lo;
                    const FL_REAL *tk = target ? target + (o * c + k) * inner + lo : NULL;
                    FL_REAL *gk = g + k * inner + lo;
                    switch ((int)(pass * 2) | (target ? 1 : 0)) {
#define FL_DICE_GRAD(K)                                                                         \
    case K:                                                                                     \
        FL_FN(dice_class_grad)(xk, tk, lab, k, mx, se, dot, gk, cf[k * 2], cf[k * 2 + 1], len,   \
                               (K) & 2, (K) & 1);                                               \
        break;
                        FL_DICE_GRAD(0) FL_DICE_GRAD(1) FL_DICE_GRAD(2) FL_DICE_GRAD(3)
#undef FL_DICE_GRAD
                    }
                }
            }
        }
    }
    free(stats);
    return FL_OK;
}
