// PyTorch's antialiased resampling weights, one dimension at a time (see image_resample.c for
// the arithmetic rules: the same promotions as the C++, no contraction).
#include "resample_internal.h"
#include "image_resample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// Fused multiply-adds only where written (fmaf/fma), never contracted by the compiler: the plain
// steps must round the product and the sum separately.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

// ---- checked size arithmetic ----

int ic_mul64(int64_t a, int64_t b, int64_t *out) {
    if (a < 0 || b < 0) return 0;
    if (a != 0 && b > INT64_MAX / a) return 0;
    *out = a * b;
    return 1;
}

int ic_add64(int64_t a, int64_t b, int64_t *out) {
    if (a < 0 || b < 0 || a > INT64_MAX - b) return 0;
    *out = a + b;
    return 1;
}

// ---- weights ----

// HelperInterpLinear::aa_filter<float>: `1.0 - x` is a double expression stored into float.
static float filter_linear(float x) {
    x = fabsf(x);
    return x < 1.0f ? (float)(1.0 - (double)x) : 0.0f;
}

// HelperInterpCubic::aa_filter<float>, a = -0.5.
static float filter_cubic(float x, int torch1, int fma_build) {
    x = fabsf(x);
    if (torch1) {
        // PyTorch <= 1.13: `#define a -0.5` makes the |x| < 1 branch double; the 1 <= |x| < 2
        // branch `(((x - 5) * x + 8) * x - 4) * a` is float until the final * a.
        const double a = -0.5, xd = (double)x;
        if (x < 1.0f) {
            if (fma_build) return (float)fma(fma(a + 2.0, xd, -(a + 3.0)) * xd, xd, 1.0);
            return (float)(((a + 2.0) * xd - (a + 3.0)) * xd * xd + 1.0);
        }
        if (x < 2.0f) {
            float p;
            if (fma_build) {
                p = fmaf(fmaf(x - 5.0f, x, 8.0f), x, -4.0f);
            } else {
                p = (x - 5.0f) * x;
                p = p + 8.0f;
                p = p * x;
                p = p - 4.0f;
            }
            return (float)((double)p * a);
        }
        return 0.0f;
    }
    // PyTorch >= 2.0: float cubic_convolution1 / cubic_convolution2 with A = -0.5f.
    const float A = -0.5f;
    if (x < 1.0f) {
        if (fma_build) return fmaf(fmaf(A + 2.0f, x, -(A + 3.0f)) * x, x, 1.0f);
        float p = (A + 2.0f) * x;
        p = p - (A + 3.0f);
        p = p * x;
        p = p * x;
        return p + 1.0f;
    }
    if (x < 2.0f) {
        if (fma_build) return fmaf(fmaf(fmaf(A, x, -5.0f * A), x, 8.0f * A), x, -4.0f * A);
        float p = A * x;
        p = p - 5.0f * A;
        p = p * x;
        p = p + 8.0f * A;
        p = p * x;
        return p - 4.0f * A;
    }
    return 0.0f;
}

// _compute_indices_min_size_weights_aa: taps of output i. An unchanged dimension (n == m) is a
// copy in PyTorch, here one tap of weight 1.
static void dim_taps(const dim_plan *d, int64_t i, float *center_out, int64_t *xmin_out,
                     int64_t *xsize_out) {
    if (d->n == d->m) {
        *center_out = 0.0f;
        *xmin_out = i;
        *xsize_out = 1;
        return;
    }
    // scalar_t center = scale * (i + 0.5): double product stored in float.
    const float center = (float)((double)d->scale * ((double)i + 0.5));
    // static_cast<int64_t>(center - support + 0.5): float difference, double sum, truncation.
    const float lo = center - d->support, hi = center + d->support;
    int64_t xmin = (int64_t)((double)lo + 0.5);
    int64_t xmax = (int64_t)((double)hi + 0.5);
    if (xmin < 0) xmin = 0;
    if (xmax > d->n) xmax = d->n;
    int64_t xsize = xmax - xmin;
    if (d->clamp && xsize > d->max_taps) xsize = d->max_taps;
    // Only past 2^24, where the float center can round beyond the input's end (PyTorch then
    // reads out of bounds): one tap of weight 0 at the last input.
    if (xsize < 1) {
        if (xmin > d->n - 1) xmin = d->n - 1;
        xsize = 0;
    }
    *center_out = center;
    *xmin_out = xmin;
    *xsize_out = xsize;
}

int ic_dim_plan_init(dim_plan *d, int64_t n, int64_t m, int64_t first, int64_t count,
                         int interp, int clamp) {
    memset(d, 0, sizeof *d);
    d->n = n;
    d->m = m;
    d->first = first;
    d->count = count;
    d->interp = interp;
    d->clamp = clamp;
    // area_pixel_compute_scale<float>: static_cast<float>(input_size) / output_size.
    d->scale = (float)n / (float)m;
    // support = (scale >= 1.0) ? (interp_size * 0.5) * scale : interp_size * 0.5 (into float).
    d->support = d->scale >= 1.0f ? (float)((interp * 0.5) * (double)d->scale)
                                  : (float)(interp * 0.5);
    d->invscale = d->scale >= 1.0f ? (float)(1.0 / (double)d->scale) : 1.0f;
    d->max_taps = (int64_t)ceilf(d->support) * 2 + 1;
    int64_t lo = INT64_MAX, hi = 0, total = 0;
    for (int64_t i = first; i < first + count; i++) {
        float c;
        int64_t xmin, xsize;
        dim_taps(d, i, &c, &xmin, &xsize);
        int64_t used = xsize < 1 ? 1 : xsize;
        if (xmin < lo) lo = xmin;
        if (xmin + used > hi) hi = xmin + used;
        if (!ic_add64(total, used, &total)) return 0;
    }
    d->in_lo = lo;
    d->in_hi = hi;
    d->taps_total = total;
    return 1;
}

void ic_dim_weights(const dim_plan *d, int torch1, int fma_build, ic_taps *taps, float *w) {
    int64_t off = 0;
    for (int64_t k = 0; k < d->count; k++) {
        float center;
        int64_t xmin, xsize;
        dim_taps(d, d->first + k, &center, &xmin, &xsize);
        taps[k].off = off;
        taps[k].start = (int32_t)(xmin - d->in_lo);
        float *wp = w + off;
        if (d->n == d->m) {
            taps[k].size = 1;
            wp[0] = 1.0f;
            off += 1;
            continue;
        }
        if (xsize < 1) {
            taps[k].size = 1;
            wp[0] = 0.0f;
            off += 1;
            continue;
        }
        taps[k].size = (int32_t)xsize;
        float total = 0.0f;
        for (int64_t j = 0; j < xsize; j++) {
            // filter_fn((j + xmin - center + 0.5) * invscale): int64 converted to float for the
            // float subtraction, + 0.5 and * invscale in double, the argument passed as float.
            const float diff = (float)(j + xmin) - center;
            const float arg = (float)(((double)diff + 0.5) * (double)d->invscale);
            const float v = d->interp == 2 ? filter_linear(arg) : filter_cubic(arg, torch1, fma_build);
            wp[j] = v;
            total += v;
        }
        if (total != 0.0f) {
            for (int64_t j = 0; j < xsize; j++) wp[j] /= total;
        }
        off += xsize;
    }
}
