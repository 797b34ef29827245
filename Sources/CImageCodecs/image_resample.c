// Streaming antialiased bilinear / bicubic resize, bit-exact with PyTorch's separable CPU kernel
// (aten/src/ATen/native/cpu/UpSampleKernel.cpp: separable_upsample_generic_Nd_kernel_impl,
// _compute_indices_min_size_weights_aa, HelperInterpLinear/HelperInterpCubic::aa_filter).
// See image_resample.h for the arithmetic variants. Every float operation below mirrors the C++
// type promotions of that code: where PyTorch mixes float variables with double literals, the
// operation is done in double and rounded back to float where PyTorch stores it. Assumes float
// arithmetic in float (FLT_EVAL_METHOD 0: SSE, NEON), not x87 extended precision.
#include "image_resample.h"
#include "resample_internal.h"

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
    if (!ic_dim_plan_init(&p->h, in_w, out_w, crop_x, crop_w, interp, clamp)) return 0;
    if (!ic_dim_plan_init(&p->v, in_h, out_h, crop_y, crop_h, interp, clamp)) return 0;
    // Per-dimension tap starts are stored in int32 (they are < in_w, in_h <= INT_MAX).
    const int64_t span = p->h.in_hi - p->h.in_lo, rows = p->v.in_hi - p->v.in_lo;
    int64_t t;
    p->bytes[0] = (int64_t)sizeof(ic_resampler);
    if (!ic_mul64(crop_w, (int64_t)sizeof(ic_taps), &p->bytes[1])) return 0;
    if (!ic_mul64(p->h.taps_total, (int64_t)sizeof(float), &p->bytes[2])) return 0;
    if (!ic_mul64(crop_h, (int64_t)sizeof(ic_taps), &p->bytes[3])) return 0;
    if (!ic_mul64(p->v.taps_total, (int64_t)sizeof(float), &p->bytes[4])) return 0;
    if (!ic_mul64(span, 3 * IC_BATCH * (int64_t)sizeof(float), &p->bytes[5])) return 0;
    if (!ic_mul64(rows, 3 * (int64_t)sizeof(float), &t) || !ic_mul64(t, crop_w, &p->bytes[6])) return 0;
    p->bytes[7] = rows;
    p->total = 0;
    for (int k = 0; k < 8; k++) {
        if (!ic_add64(p->total, p->bytes[k], &p->total)) return 0;
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
    ic_dim_weights(&r->h, torch1, r->fma, r->htaps, r->hweights);
    ic_dim_weights(&r->v, torch1, r->fma, r->vtaps, r->vweights);
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
