// Streaming antialiased bilinear / bicubic resize, bit-exact with PyTorch's separable CPU kernel
// (aten/src/ATen/native/cpu/UpSampleKernel.cpp: separable_upsample_generic_Nd_kernel_impl,
// _compute_indices_min_size_weights_aa, HelperInterpLinear/HelperInterpCubic::aa_filter).
// See image_resample.h for the arithmetic variants. Every float operation below mirrors the C++
// type promotions of that code: where PyTorch mixes float variables with double literals, the
// operation is done in double and rounded back to float where PyTorch stores it. Assumes float
// arithmetic in float (FLT_EVAL_METHOD 0: SSE, NEON), not x87 extended precision.
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

// On x86 the FMA instruction is optional: the hot loops get a copy compiled for it, chosen at run
// time; the portable copy calls libm's fmaf (exact, slower where it is emulated). Only the last
// (taps - 1) % 4 terms of each sum use it.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(__FMA__) && !defined(__APPLE__) && !defined(IC_RESAMPLE_NO_DISPATCH)
#define IC_RESAMPLE_X86_DISPATCH 1
#endif

enum { FILTER_MASK = 0xff, KNOWN_FLAGS = IC_RESAMPLE_TORCH1 | IC_RESAMPLE_NO_FMA };
#define IC_BATCH 8

// One output position along a dimension: taps [start, start + size) of the input (start relative
// to the first input the crop reads), weights at `off` in the weight table.
typedef struct {
    int64_t off;
    int32_t start;
    int32_t size;
} ic_taps;

// Sizes of one dimension's plan (no allocation).
typedef struct {
    int64_t n, m;          // input and output size
    int64_t first, count;  // outputs produced: [first, first + count)
    int interp;            // 2 bilinear, 4 bicubic
    int clamp;             // clamp taps to max_taps (PyTorch >= 2.0)
    float scale, support, invscale;
    int64_t max_taps;
    int64_t in_lo, in_hi;  // inputs read by the produced outputs
    int64_t taps_total;    // sum of the tap counts
} dim_plan;

struct ic_resampler {
    int in_w, in_h, filter;
    int fma;  // 0 plain arithmetic, 1 PyTorch AVX2/AVX-512 (4 plain terms at a time, FMA tail)
    int fma_hw;
    dim_plan h, v;
    ic_taps *htaps, *vtaps;
    float *hweights, *vweights;
    // Pushed rows wait in batches of IC_BATCH, interleaved so that the width pass runs on all of
    // them at once with SIMD (each lane is one row's sum, in PyTorch's order).
    float *batch;        // 3 channels x (h.in_hi - h.in_lo) inputs x IC_BATCH rows
    int64_t batch_row[IC_BATCH];  // stored row of each lane
    int batch_n;
    float *store;        // (v.in_hi - v.in_lo) rows of 3 planes of crop_w floats
    unsigned char *have; // per stored row: pushed yet
    int64_t rows_have;
    float lut[256];      // u8 * (float)(1/255) in float32, as img.float() * (1/255)
};

// ---- checked size arithmetic ----

static int mul64(int64_t a, int64_t b, int64_t *out) {
    if (a < 0 || b < 0) return 0;
    if (a != 0 && b > INT64_MAX / a) return 0;
    *out = a * b;
    return 1;
}

static int add64(int64_t a, int64_t b, int64_t *out) {
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

static int dim_plan_init(dim_plan *d, int64_t n, int64_t m, int64_t first, int64_t count,
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
        if (!add64(total, used, &total)) return 0;
    }
    d->in_lo = lo;
    d->in_hi = hi;
    d->taps_total = total;
    return 1;
}

static void dim_weights(const dim_plan *d, int torch1, int fma_build, ic_taps *taps, float *w) {
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

// ---- plan and memory ----

typedef struct {
    dim_plan h, v;
    int64_t bytes[8];
    int64_t total;
} full_plan;

static int make_plan(int in_w, int in_h, int out_w, int out_h, int crop_x, int crop_y,
                     int crop_w, int crop_h, int filter, full_plan *p) {
    if (in_w < 1 || in_h < 1 || out_w < 1 || out_h < 1 || crop_w < 1 || crop_h < 1) return 0;
    if (crop_x < 0 || crop_y < 0) return 0;
    if ((int64_t)crop_x + crop_w > out_w || (int64_t)crop_y + crop_h > out_h) return 0;
    const int f = filter & FILTER_MASK;
    if (f != IC_RESAMPLE_BILINEAR && f != IC_RESAMPLE_BICUBIC) return 0;
    if ((filter & ~FILTER_MASK) & ~KNOWN_FLAGS) return 0;
    const int interp = f == IC_RESAMPLE_BICUBIC ? 4 : 2;
    const int clamp = !(filter & IC_RESAMPLE_TORCH1);
    if (!dim_plan_init(&p->h, in_w, out_w, crop_x, crop_w, interp, clamp)) return 0;
    if (!dim_plan_init(&p->v, in_h, out_h, crop_y, crop_h, interp, clamp)) return 0;
    // Per-dimension tap starts are stored in int32 (they are < in_w, in_h <= INT_MAX).
    const int64_t span = p->h.in_hi - p->h.in_lo, rows = p->v.in_hi - p->v.in_lo;
    int64_t t;
    p->bytes[0] = (int64_t)sizeof(ic_resampler);
    if (!mul64(crop_w, (int64_t)sizeof(ic_taps), &p->bytes[1])) return 0;
    if (!mul64(p->h.taps_total, (int64_t)sizeof(float), &p->bytes[2])) return 0;
    if (!mul64(crop_h, (int64_t)sizeof(ic_taps), &p->bytes[3])) return 0;
    if (!mul64(p->v.taps_total, (int64_t)sizeof(float), &p->bytes[4])) return 0;
    if (!mul64(span, 3 * IC_BATCH * (int64_t)sizeof(float), &p->bytes[5])) return 0;
    if (!mul64(rows, 3 * (int64_t)sizeof(float), &t) || !mul64(t, crop_w, &p->bytes[6])) return 0;
    p->bytes[7] = rows;
    p->total = 0;
    for (int k = 0; k < 8; k++) {
        if (!add64(p->total, p->bytes[k], &p->total)) return 0;
        if ((uint64_t)p->bytes[k] > (uint64_t)SIZE_MAX) return 0;
    }
    if ((uint64_t)p->total > (uint64_t)SIZE_MAX) return 0;
    return 1;
}

int64_t ic_resampler_memory(int in_w, int in_h, int out_w, int out_h, int crop_x, int crop_y,
                            int crop_w, int crop_h, int filter) {
    full_plan p;
    if (!make_plan(in_w, in_h, out_w, out_h, crop_x, crop_y, crop_w, crop_h, filter, &p)) return -1;
    return p.total;
}

void ic_resampler_free(ic_resampler *r) {
    if (!r) return;
    free(r->htaps);
    free(r->vtaps);
    free(r->hweights);
    free(r->vweights);
    free(r->batch);
    free(r->store);
    free(r->have);
    free(r);
}

static int cpu_has_fma_avx2(void) {
#if defined(IC_RESAMPLE_X86_DISPATCH)
    __builtin_cpu_init();
    return __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx2") ? 1 : 0;
#else
    return 0;
#endif
}

ic_resampler *ic_resampler_create(int in_w, int in_h, int out_w, int out_h, int crop_x,
                                  int crop_y, int crop_w, int crop_h, int filter) {
    full_plan p;
    if (!make_plan(in_w, in_h, out_w, out_h, crop_x, crop_y, crop_w, crop_h, filter, &p)) return NULL;
    ic_resampler *r = (ic_resampler *)calloc(1, sizeof *r);
    if (!r) return NULL;
    r->in_w = in_w;
    r->in_h = in_h;
    r->filter = filter;
    r->fma = !(filter & IC_RESAMPLE_NO_FMA);
    r->fma_hw = cpu_has_fma_avx2();
    r->h = p.h;
    r->v = p.v;
    r->htaps = (ic_taps *)malloc((size_t)p.bytes[1]);
    r->hweights = (float *)malloc((size_t)p.bytes[2]);
    r->vtaps = (ic_taps *)malloc((size_t)p.bytes[3]);
    r->vweights = (float *)malloc((size_t)p.bytes[4]);
    r->batch = (float *)calloc((size_t)p.bytes[5], 1);  // idle lanes stay finite
    r->store = (float *)malloc((size_t)p.bytes[6]);
    r->have = (unsigned char *)calloc((size_t)p.bytes[7], 1);
    if (!r->htaps || !r->hweights || !r->vtaps || !r->vweights || !r->batch || !r->store || !r->have) {
        ic_resampler_free(r);
        return NULL;
    }
    const int torch1 = (filter & IC_RESAMPLE_TORCH1) != 0;
    dim_weights(&r->h, torch1, r->fma, r->htaps, r->hweights);
    dim_weights(&r->v, torch1, r->fma, r->vtaps, r->vweights);
    for (int k = 0; k < 256; k++) r->lut[k] = (float)k * (float)(1.0 / 255.0);
    return r;
}

void ic_resampler_needed_rows(const ic_resampler *r, int *first, int *last) {
    if (first) *first = r ? (int)r->v.in_lo : 0;
    if (last) *last = r ? (int)r->v.in_hi : 0;
}

// ---- hot loops ----
// Each weighted sum runs in PyTorch's order: out = s0 * w0, then out = out + s_j * w_j for the
// first `plain` terms and out = fma(s_j, w_j, out) for the rest (plain = all terms without FMA;
// a multiple of 4 in the AVX2/AVX-512 build, whose loop GCC vectorised 4 terms at a time).

static inline int32_t plain_terms(int32_t size, int fma) {
    return fma ? ((size - 1) & ~3) : size - 1;
}

// Width pass over a batch, one channel: for each produced column, IC_BATCH sums (one per lane).
// in: span x IC_BATCH floats; lane k's result goes to row_out[k][x] (skipped where NULL).
#define IC_DEFINE_HPASS(NAME, ATTR, FMA)                                                         \
    ATTR static void NAME(const ic_taps *taps, const float *wts, int64_t count, const float *in, \
                          float *const *row_out, int fma) {                                      \
        for (int64_t x = 0; x < count; x++) {                                                    \
            const float *w = wts + taps[x].off;                                                   \
            const int32_t n = taps[x].size, np = plain_terms(n, fma);                             \
            const float *s = in + (size_t)taps[x].start * IC_BATCH;                               \
            float a[IC_BATCH];                                                                    \
            const float w0 = w[0];                                                                \
            for (int k = 0; k < IC_BATCH; k++) a[k] = s[k] * w0;                                  \
            int32_t j = 1;                                                                        \
            for (; j <= np; j++) {                                                                \
                const float wj = w[j];                                                            \
                const float *sj = s + (size_t)j * IC_BATCH;                                       \
                for (int k = 0; k < IC_BATCH; k++) a[k] = a[k] + sj[k] * wj;                      \
            }                                                                                     \
            for (; j < n; j++) {                                                                  \
                const float wj = w[j];                                                            \
                const float *sj = s + (size_t)j * IC_BATCH;                                       \
                for (int k = 0; k < IC_BATCH; k++) a[k] = FMA(sj[k], wj, a[k]);                   \
            }                                                                                     \
            for (int k = 0; k < IC_BATCH; k++) {                                                  \
                if (row_out[k]) row_out[k][x] = a[k];                                             \
            }                                                                                     \
        }                                                                                         \
    }

// One output row of one channel: o[x] = sum_j src[j * stride + x] * w[j] over width columns.
#define IC_DEFINE_VPASS(NAME, ATTR, FMA)                                                         \
    ATTR static void NAME(float *o, const float *src, size_t stride, const float *w, int32_t n,  \
                          int64_t width, int fma) {                                               \
        const int32_t np = plain_terms(n, fma);                                                   \
        const float w0 = w[0];                                                                    \
        for (int64_t x = 0; x < width; x++) o[x] = src[x] * w0;                                   \
        int32_t j = 1;                                                                            \
        for (; j <= np; j++) {                                                                    \
            const float *s = src + (size_t)j * stride;                                            \
            const float wj = w[j];                                                                \
            for (int64_t x = 0; x < width; x++) o[x] = o[x] + s[x] * wj;                          \
        }                                                                                         \
        for (; j < n; j++) {                                                                      \
            const float *s = src + (size_t)j * stride;                                            \
            const float wj = w[j];                                                                \
            for (int64_t x = 0; x < width; x++) o[x] = FMA(s[x], wj, o[x]);                       \
        }                                                                                         \
    }

IC_DEFINE_HPASS(hpass_portable, , fmaf)
IC_DEFINE_VPASS(vpass_portable, , fmaf)
#if defined(IC_RESAMPLE_X86_DISPATCH)
IC_DEFINE_HPASS(hpass_fma, __attribute__((target("avx2,fma"))), __builtin_fmaf)
IC_DEFINE_VPASS(vpass_fma, __attribute__((target("avx2,fma"))), __builtin_fmaf)
#endif

// Runs the width pass on the pending batch and writes its rows to the store.
static void flush_batch(ic_resampler *r) {
    if (r->batch_n == 0) return;
    const int64_t cw = r->h.count, span = r->h.in_hi - r->h.in_lo;
    float *row_out[IC_BATCH];
    for (int k = 0; k < IC_BATCH; k++) {
        row_out[k] = k < r->batch_n ? r->store + (size_t)r->batch_row[k] * 3 * (size_t)cw : NULL;
    }
    for (int c = 0; c < 3; c++) {
        const float *in = r->batch + (size_t)c * (size_t)span * IC_BATCH;
#if defined(IC_RESAMPLE_X86_DISPATCH)
        if (r->fma && r->fma_hw) {
            hpass_fma(r->htaps, r->hweights, cw, in, row_out, 1);
        } else
#endif
        {
            hpass_portable(r->htaps, r->hweights, cw, in, row_out, r->fma);
        }
        for (int k = 0; k < IC_BATCH; k++) {
            if (row_out[k]) row_out[k] += cw;  // next channel's plane
        }
    }
    r->batch_n = 0;
}

int ic_resampler_push_strided_row(ic_resampler *r, int y, const uint8_t *rgb,
                                  ptrdiff_t pixel_stride) {
    if (!r || !rgb || y < 0 || y >= r->in_h) return -1;
    if (y < r->v.in_lo || y >= r->v.in_hi) return 0;  // not read by the crop
    const int64_t lo = r->h.in_lo, span = r->h.in_hi - r->h.in_lo, row = y - r->v.in_lo;
    const int k = r->batch_n;
    float *R = r->batch + k, *G = R + (size_t)span * IC_BATCH, *B = G + (size_t)span * IC_BATCH;
    const uint8_t *p = rgb + (ptrdiff_t)lo * pixel_stride;
    for (int64_t i = 0; i < span; i++, p += pixel_stride) {
        R[i * IC_BATCH] = r->lut[p[0]];
        G[i * IC_BATCH] = r->lut[p[1]];
        B[i * IC_BATCH] = r->lut[p[2]];
    }
    r->batch_row[k] = row;
    if (++r->batch_n == IC_BATCH) flush_batch(r);
    if (!r->have[row]) {
        r->have[row] = 1;
        r->rows_have++;
    }
    return 0;
}

int ic_resampler_push_row(ic_resampler *r, int y, const uint8_t *rgb, int mirror) {
    if (!r || !rgb) return -1;
    if (mirror) return ic_resampler_push_strided_row(r, y, rgb + (ptrdiff_t)(r->in_w - 1) * 3, -3);
    return ic_resampler_push_strided_row(r, y, rgb, 3);
}

int ic_resampler_finish(ic_resampler *r, float *out) {
    if (!r || !out) return -1;
    if (r->rows_have != r->v.in_hi - r->v.in_lo) return -1;
    flush_batch(r);
    const int64_t cw = r->h.count, ch = r->v.count;
    const size_t stride = 3 * (size_t)cw;
    for (int64_t y = 0; y < ch; y++) {
        const ic_taps *t = &r->vtaps[y];
        const float *w = r->vweights + t->off;
        for (int c = 0; c < 3; c++) {
            float *o = out + ((size_t)c * (size_t)ch + (size_t)y) * (size_t)cw;
            const float *src = r->store + (size_t)t->start * stride + (size_t)c * (size_t)cw;
#if defined(IC_RESAMPLE_X86_DISPATCH)
            if (r->fma && r->fma_hw) {
                vpass_fma(o, src, stride, w, t->size, cw, 1);
                continue;
            }
#endif
            vpass_portable(o, src, stride, w, t->size, cw, r->fma);
        }
    }
    return 0;
}
