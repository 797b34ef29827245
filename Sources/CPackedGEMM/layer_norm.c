// dp_layer_norm (layer_norm.h): ATen's float32 LayerNorm on x86, operation for operation. The
// explicit fused multiply-adds are the ones ATen's source spells (fmadd) or that GCC contracts in
// the compiled kernel (found against PyTorch 2.15's results); every other product and sum is
// rounded on its own, so contraction stays off in this file.
#pragma STDC FP_CONTRACT OFF

#include "layer_norm.h"

#include <math.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

enum {
    /// Lanes of ATen's Vectorized<float> in the kernel that runs (AVX2, 256 bits).
    kLanes = 8,
    /// Vectors per Welford chunk (ATen's kChunkSize).
    kChunk = 16,
    /// Levels of the cascade: enough for any row length.
    kMaxDepth = 64,
};

/// ceil(log2(x)), and 1 for x <= 2 (ATen's utils::CeilLog2).
static int ceil_log2(int64_t x) {
    if (x <= 2) return 1;
    return 64 - __builtin_clzll((unsigned long long)(x - 1));
}

/// ATen's scalar AddMoments: merges (count, mean, m2) into the running triple, with the two
/// products the compiled kernel fuses.
static inline void add_moments(int64_t count, float mean, float m2, int64_t *m0, float *m1, float *running_m2) {
    const int64_t total = *m0 + count;
    const float c = total == 0 ? 0.0f : (float)count / (float)total;
    const float delta = mean - *m1;
    *m1 = __builtin_fmaf(c, delta, *m1);
    *running_m2 = *running_m2 + __builtin_fmaf(delta * delta * c, (float)*m0, m2);
    *m0 = total;
}

/// The lanes' moments merged in order after the leftover values (Welford, one at a time, unfused),
/// then the variance: what RowwiseMoments returns.
static inline void finish_moments(const float *x, int64_t n, int64_t vectors, const float *lane_m1,
                                  const float *lane_m2, float *mean, float *variance) {
    int64_t m0 = 0;
    float m1 = 0.0f, m2 = 0.0f;
    for (int64_t i = vectors * kLanes; i < n; i++) {
        const float delta = x[i] - m1;
        ++m0;
        m1 = m1 + delta / (float)m0;
        const float after = x[i] - m1;
        m2 = m2 + delta * after;
    }
    for (int lane = 0; lane < kLanes; lane++) add_moments(vectors, lane_m1[lane], lane_m2[lane], &m0, &m1, &m2);
    *mean = m1;
    *variance = m2 / (float)n;
}

/// The portable kernel: 8 lanes as arrays, the same operations in the same order.
typedef struct {
    float v[kLanes];
} lanes;

static inline lanes lanes_set1(float a) {
    lanes r;
    for (int i = 0; i < kLanes; i++) r.v[i] = a;
    return r;
}
static inline lanes lanes_load(const float *p) {
    lanes r;
    for (int i = 0; i < kLanes; i++) r.v[i] = p[i];
    return r;
}
static inline void lanes_store(float *p, lanes a) {
    for (int i = 0; i < kLanes; i++) p[i] = a.v[i];
}
static inline lanes lanes_add(lanes a, lanes b) {
    for (int i = 0; i < kLanes; i++) a.v[i] = a.v[i] + b.v[i];
    return a;
}
static inline lanes lanes_sub(lanes a, lanes b) {
    for (int i = 0; i < kLanes; i++) a.v[i] = a.v[i] - b.v[i];
    return a;
}
static inline lanes lanes_mul(lanes a, lanes b) {
    for (int i = 0; i < kLanes; i++) a.v[i] = a.v[i] * b.v[i];
    return a;
}
/// a * b + c, one rounding.
static inline lanes lanes_fma(lanes a, lanes b, lanes c) {
    for (int i = 0; i < kLanes; i++) a.v[i] = __builtin_fmaf(a.v[i], b.v[i], c.v[i]);
    return a;
}

#define ATTR
#define NAME(name) name##_portable
#define VEC lanes
#define VSET1 lanes_set1
#define VLOAD lanes_load
#define VSTORE lanes_store
#define VADD lanes_add
#define VSUB lanes_sub
#define VMUL lanes_mul
#define VFMA lanes_fma
#include "layer_norm_body.h"
#undef ATTR
#undef NAME
#undef VEC
#undef VSET1
#undef VLOAD
#undef VSTORE
#undef VADD
#undef VSUB
#undef VMUL
#undef VFMA

#if defined(__x86_64__)
#define ATTR __attribute__((target("avx2,fma")))
#define NAME(name) name##_avx2
#define VEC __m256
#define VSET1 _mm256_set1_ps
#define VLOAD _mm256_loadu_ps
#define VSTORE _mm256_storeu_ps
#define VADD _mm256_add_ps
#define VSUB _mm256_sub_ps
#define VMUL _mm256_mul_ps
#define VFMA _mm256_fmadd_ps
#include "layer_norm_body.h"
#define HAVE_AVX2_LAYER_NORM 1
#endif

void dp_layer_norm(dp_seg_kernel kernel, const float *x, intptr_t rows, intptr_t n, const float *gamma,
                   const float *beta, float eps, float *y) {
    if (rows <= 0 || n <= 0) return;
    switch (dp_seg_kernel_resolve(kernel)) {
#ifdef HAVE_AVX2_LAYER_NORM
    case DP_SEG_KERNEL_AVX512:
    case DP_SEG_KERNEL_AVX2:
        layer_norm_rows_avx2(x, rows, n, gamma, beta, eps, y);
        return;
#endif
    default:
        layer_norm_rows_portable(x, rows, n, gamma, beta, eps, y);
        return;
    }
}
