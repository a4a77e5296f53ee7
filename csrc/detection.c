/* SSD multibox loss (smooth-L1 localisation + softmax confidence with hard negative mining);
 * see detection_impl.h. */
#include <stdlib.h>
#include <string.h>

#include "fastloss.h"
#include "numerics.h"
#include "parallel.h"
#include "simd.h"
#include "template.h"

/* A negative anchor: its background loss (NaN read as +inf, so the order is total) and index. */
typedef struct {
    double key;
    int64_t idx;
} fl_ssd_item;

/* The mining order: a is harder than b if its background loss is larger, or equal with the
 * lower anchor index. Indices are distinct, so this is a strict total order and the set of the
 * k hardest negatives is unique, whatever algorithm finds it. */
static inline int fl_ssd_harder(const fl_ssd_item *a, const fl_ssd_item *b) {
    return a->key > b->key || (a->key == b->key && a->idx < b->idx);
}

static inline void fl_ssd_swap(fl_ssd_item *a, fl_ssd_item *b) {
    fl_ssd_item t = *a;
    *a = *b;
    *b = t;
}

/* Selection (Hoare's FIND / nth_element): reorders v[0..n) so that v[0..k) holds the k hardest
 * items (in no particular order), 0 < k < n. Each round partitions [lo, hi] around the median
 * of three and keeps only the side holding position k - 1: expected O(n) work, no sort. */
static void fl_ssd_select(fl_ssd_item *v, int64_t n, int64_t k) {
    int64_t lo = 0, hi = n - 1, target = k - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        /* median of three: order v[lo], v[mid], v[hi] hardest first, pivot = v[mid] */
        if (fl_ssd_harder(&v[mid], &v[lo])) fl_ssd_swap(&v[mid], &v[lo]);
        if (fl_ssd_harder(&v[hi], &v[lo])) fl_ssd_swap(&v[hi], &v[lo]);
        if (fl_ssd_harder(&v[hi], &v[mid])) fl_ssd_swap(&v[hi], &v[mid]);
        fl_ssd_item pivot = v[mid];
        int64_t i = lo, j = hi;
        /* Hoare partition: afterwards v[lo..j] are not easier than the pivot, v[i..hi] not
         * harder, and anything strictly between j and i equals the pivot. The pivot itself
         * stops both scans, so neither runs out of [lo, hi]. */
        while (i <= j) {
            while (fl_ssd_harder(&v[i], &pivot)) i++;
            while (fl_ssd_harder(&pivot, &v[j])) j--;
            if (i <= j) {
                fl_ssd_swap(&v[i], &v[j]);
                i++;
                j--;
            }
        }
        if (target <= j) {
            hi = j;
        } else if (target >= i) {
            lo = i;
        } else {
            break;
        }
    }
}

#include "type_float.h"
#include "detection_impl.h"
#include "type_undef.h"

#include "type_double.h"
#include "detection_impl.h"
#include "type_undef.h"
