/* SSD multibox loss over n images of a anchors, for one FL_REAL; included by detection.c per type.
 *
 * Per image, with labels y_j (0 background, > 0 an object class, -1 ignored):
 *   loc  = sum over positives (y_j > 0) and the 4 coordinates of smoothL1_beta(p - t),
 *          smoothL1_beta(d) = 0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta (L1 when
 *          beta = 0), derivative d / beta or sign(d);
 *   conf = sum over positives of CE_j(y_j) + sum over the k hardest negatives of CE_j(0),
 *          CE_j(y) = lse_j - x_jy (softmax cross-entropy), derivative softmax_j - onehot(y);
 *   k    = min(floor(neg_pos_ratio * n_pos), n_neg), "hardest" by the background loss
 *          CE_j(0) = -log p_j(background), ties to the lower anchor index (fl_ssd_harder).
 * The per-image loss is loc + conf; 'sum' adds them, 'mean' divides the sum by the number of
 * positives over the whole batch (0 positives: value 0 and gradient 0).
 * Scratch per thread, sized by a: lse (double), the negative candidates, a selection mask. */

/* log-sum-exp of one row: exponentials in FL_REAL (every exponent <= 0), sum in double */
static inline double FL_FN(ssd_row_lse)(const FL_REAL *restrict row, int64_t c) {
    FL_REAL m = -INFINITY;
    for (int64_t k = 0; k < c; k++) m = row[k] > m ? row[k] : m;
    double s = 0.0;
    for (int64_t k = 0; k < c; k++) s += (double)FL_EXP(row[k] - m);
    return (double)m + log(s);
}

FL_TARGET_CLONES static double FL_FN(ssd_one)(int64_t a, int64_t c, const FL_REAL *restrict lp,
                             const FL_REAL *restrict lt, const FL_REAL *restrict x,
                             const int64_t *restrict y, double ratio, double beta, double scale,
                             FL_REAL *restrict gl, FL_REAL *restrict gc, double *restrict lse,
                             fl_ssd_item *restrict items, unsigned char *restrict sel) {
    int64_t npos = 0, nneg = 0;
    for (int64_t j = 0; j < a; j++) {
        sel[j] = 0;
        if (y[j] < 0) continue;
        lse[j] = FL_FN(ssd_row_lse)(x + j * c, c);
        if (y[j] > 0) {
            npos++;
        } else {
            double bg = lse[j] - (double)x[j * c];
            items[nneg].key = isnan(bg) ? INFINITY : bg;
            items[nneg].idx = j;
            nneg++;
        }
    }
    double kf = floor(ratio * (double)npos);
    int64_t k = kf >= (double)nneg ? nneg : (int64_t)kf;
    if (k > 0 && k < nneg) fl_ssd_select(items, nneg, k);
    for (int64_t m = 0; m < k; m++) sel[items[m].idx] = 1;

    /* every anchor in index order: loss terms and gradient rows */
    double loc = 0.0, conf = 0.0;
    for (int64_t j = 0; j < a; j++) {
        const int64_t yj = y[j];
        const int pos = yj > 0;
        if (gl) {
            for (int d = 0; d < 4; d++) gl[j * 4 + d] = 0;
        }
        if (pos) {
            for (int d = 0; d < 4; d++) {
                double diff = (double)lp[j * 4 + d] - (double)lt[j * 4 + d];
                double ad = fabs(diff), dl;
                if (ad < beta) {
                    loc += 0.5 * diff * diff / beta;
                    dl = diff / beta;
                } else {
                    loc += ad - 0.5 * beta;
                    dl = diff > 0 ? 1.0 : diff < 0 ? -1.0 : diff; /* sign, NaN kept */
                }
                if (gl) gl[j * 4 + d] = (FL_REAL)(scale * dl);
            }
        }
        FL_REAL *restrict g = gc ? gc + j * c : NULL;
        if (!pos && !sel[j]) {
            if (g)
                for (int64_t q = 0; q < c; q++) g[q] = 0;
            continue;
        }
        const FL_REAL *restrict row = x + j * c;
        const double l = lse[j];
        conf += l - (double)row[yj];
        if (g) {
            for (int64_t q = 0; q < c; q++) g[q] = (FL_REAL)(scale * exp((double)row[q] - l));
            g[yj] = (FL_REAL)(scale * (exp((double)row[yj] - l) - 1.0));
        }
    }
    return loc + conf;
}

/* IN   n, a, c          images, anchors per image, classes (background = 0)
 * IN   loc_pred         n*a*4 predicted box offsets
 * IN   loc_target       n*a*4 encoded target boxes
 * IN   conf             n*a*c class logits
 * IN   labels           n*a labels in [-1, c)
 * IN   neg_pos_ratio    >= 0: at most floor(ratio * n_pos) negatives per image
 * IN   beta             >= 0, the smooth-L1 transition point
 * IN   reduction        FL_NONE, FL_SUM or FL_MEAN (the sum over positives in the batch)
 * OUT  loss             n per-image losses (loc + conf, unnormalised) or NULL
 * OUT  grad_loc         n*a*4 gradient of the reduced value w.r.t. loc_pred, or NULL
 * OUT  grad_conf        n*a*c gradient w.r.t. conf, or NULL
 * OUT  value            reduced value (FL_NONE: the sum)
 * OUT  bad              flat index of the first label outside [-1, c), on FL_ERR_LABEL */
FL_TARGET_CLONES
int FL_FN(fl_ssd)(int64_t n, int64_t a, int64_t c, const FL_REAL *restrict loc_pred,
                  const FL_REAL *restrict loc_target, const FL_REAL *restrict conf,
                  const int64_t *restrict labels, double neg_pos_ratio, double beta,
                  int reduction, FL_REAL *restrict loss, FL_REAL *restrict grad_loc,
                  FL_REAL *restrict grad_conf, double *value, int64_t *bad, int n_threads) {
    int64_t total_pos = 0;
    for (int64_t j = 0; j < n * a; j++) {
        if (labels[j] < -1 || labels[j] >= c) {
            *bad = j;
            return FL_ERR_LABEL;
        }
        total_pos += labels[j] > 0;
    }
    double scale = 1.0;
    if (reduction == FL_MEAN) scale = total_pos > 0 ? 1.0 / (double)total_pos : 0.0;
    if (n == 0 || a == 0) { /* nothing to mine: no scratch sized by a (which may be huge) */
        *value = 0.0;
        if (grad_loc)
            for (int64_t j = 0; j < n * a * 4; j++) grad_loc[j] = 0;
        if (grad_conf)
            for (int64_t j = 0; j < n * a * c; j++) grad_conf[j] = 0;
        if (loss)
            for (int64_t i = 0; i < n; i++) loss[i] = 0;
        return FL_OK;
    }
    fl_partials ps;
    double *per = fl_partials_get(&ps, n);
    if (!per) return FL_ERR_NOMEM;
    int nt = fl_threads_for(n_threads, n * a * c, n);
    int failed = 0;
    const size_t bytes = (size_t)a * (sizeof(double) + sizeof(fl_ssd_item) + 1) + 16;

#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        char *work = (char *)malloc(bytes);
        if (!work) {
#pragma omp atomic write
            failed = 1;
        }
        double *lse = (double *)work;
        fl_ssd_item *items = work ? (fl_ssd_item *)(work + (size_t)a * sizeof(double)) : NULL;
        unsigned char *sel =
            work ? (unsigned char *)(work + (size_t)a * (sizeof(double) + sizeof(fl_ssd_item)))
                 : NULL;
#pragma omp for schedule(dynamic, 1)
        for (int64_t i = 0; i < n; i++) {
            if (!work) continue;
            per[i] = FL_FN(ssd_one)(a, c, loc_pred + i * a * 4, loc_target + i * a * 4,
                                    conf + i * a * c, labels + i * a, neg_pos_ratio, beta, scale,
                                    grad_loc ? grad_loc + i * a * 4 : NULL,
                                    grad_conf ? grad_conf + i * a * c : NULL, lse, items, sel);
        }
        free(work);
    }
    if (failed) {
        fl_partials_free(&ps);
        return FL_ERR_NOMEM;
    }
    double total = 0.0;
    for (int64_t i = 0; i < n; i++) {
        if (loss) loss[i] = (FL_REAL)per[i];
        total += per[i];
    }
    *value = reduction == FL_MEAN ? (total_pos > 0 ? total / (double)total_pos : 0.0) : total;
    fl_partials_free(&ps);
    return FL_OK;
}
