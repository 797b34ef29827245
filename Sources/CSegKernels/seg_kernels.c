// Instantiates seg_kernels_body.h for scalar code, AVX2 + FMA and AVX-512F, and picks one at run
// time from CPUID (and the OS's saved register state, XGETBV).
#include "seg_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/// Row stride of the padded per-pixel buffers: classes rounded up to the widest vector (16).
static inline intptr_t seg_stride(intptr_t k) { return (k + 15) / 16 * 16; }

/// Pixels per exp batch in dp_seg_image_xent.
#define SEG_CHUNK 16

intptr_t dp_seg_scratch_count(intptr_t input_width, intptr_t classes) {
    return (2 * input_width + SEG_CHUNK) * seg_stride(classes);
}

// The online softmax's exp, base 2 (attention's scores arrive times log2 e): 2^x for x <= 0 as
// 2^n p(r), n = x rounded to the nearest integer (by adding and subtracting 1.5 x 2^23), r = x - n
// exactly (|r| <= 1/2) and p a degree-6 polynomial (minimax for 2^r's relative error, 1.6e-8),
// in Horner's fused multiply-adds, times 2^n built from n's bits (exact; NaN kept). Under 0.95
// ulp from 2^x on every float of [-125, 0]; x is first raised to -127, where 2^n's bits come out
// 0, so below -126.5 the result is 0 and up to -125 within 2^-149 of 2^x (scripts/check-online-exp2
// checks every float). Every kernel runs these operations in this order, so all give the same
// bits. Against SLEEF's exp (the softmax rows' and the one-tile attention's): 6 multiply-adds and
// a multiply a vector instead of 11 operations on the pipes the products need.
static const uint32_t online_exp2_polynomial[7] = {0x3f800000, 0x3f317218, 0x3e75fded, 0x3d63576a,
                                                   0x3c1d96de, 0x3aafa2b5, 0x3920e999};
#define ONLINE_EXP2_SHIFTER 12582912.0f  // 1.5 x 2^23
#define ONLINE_EXP2_FLOOR (-127.0f)      // n = -127: 2^n's bits (n + 127) << 23 are those of 0

static inline float online_exp2_scalar(float x) {
    x = x < ONLINE_EXP2_FLOOR ? ONLINE_EXP2_FLOOR : x;  // NaN kept
    const float t = x + ONLINE_EXP2_SHIFTER, r = x - (t - ONLINE_EXP2_SHIFTER);
    float p, power, c;
    uint32_t bits;
    memcpy(&p, &online_exp2_polynomial[6], sizeof p);
    for (int i = 5; i >= 0; i--) {
        memcpy(&c, &online_exp2_polynomial[i], sizeof c);
        p = fmaf(p, r, c);
    }
    memcpy(&bits, &t, sizeof bits);
    bits = (bits << 23) + 0x3f800000u;  // t's low bits hold n: 2^n
    memcpy(&power, &bits, sizeof power);
    return p * power;
}

// Scalar: one-lane vectors, libm's expf (the online softmax: online_exp2_scalar).
typedef float vf1 __attribute__((vector_size(4)));
static inline vf1 max1(vf1 a, vf1 b) { return (vf1){a[0] > b[0] ? a[0] : b[0]}; }
#define VEC vf1
#define W 1
#define ATTR
#define EXPV(v) ((vf1){expf((v)[0])})
#define EXPA(v) ((vf1){online_exp2_scalar((v)[0])})
#define VMAX(a, b) max1(a, b)
#define HMAX(v) ((v)[0])
#define HSUM(v) ((v)[0])
#define NAME(x) x##_scalar
#include "seg_kernels_body.h"

#if defined(__x86_64__) && defined(__linux__) && defined(DINOPROBE_HAVE_SLEEF)
#include <cpuid.h>
#include <immintrin.h>

// sleef_loops.S: loops over the SLEEF library's vector exp (which passes vectors in registers),
// the reference dp_exp_sleef runs.
void dp_sleef_expf16(const float *x, float *y, intptr_t rows, intptr_t stride, const float *shifts);
void dp_sleef_expf8(const float *x, float *y, intptr_t rows, intptr_t stride, const float *shifts);

// SLEEF 3.5's expf u10 (xexpf in sleefsimdsp.c), inlined: the instructions of its AVX2 and
// AVX-512 entry points (Sleef_finz_expf8_u10avx2, Sleef_finz_expf16_u10avx512f), one for one and
// in their order, with the constants' bit patterns, so every value gets the library's bits
// (scripts/check-sleef-exp checks all 2^32 inputs against it; the tests, a sweep). Inlined, the
// constants stay in registers across a row and no call is made per vector.
#define SLEEF_R_LN2 0x3fb8aa3bu    // 1 / ln 2
#define SLEEF_L2U 0xbf317200u      // -(ln 2, upper part)
#define SLEEF_L2L 0xb5bfbe8eu      // -(ln 2, lower part)
static const uint32_t sleef_exp_polynomial[6] = {0x39502bda, 0x3ab696c9, 0x3c0888a6, 0x3d2aaa7a, 0x3e2aaaab, 0x3f000000};
#define SLEEF_UNDERFLOW (-104.0f)  // below: 0
#define SLEEF_OVERFLOW 100.0f      // above: +inf

/// SLEEF's reduction of d by q ln 2 (q rounded, as a float) and its polynomial: exp(d) / 2^q.
static inline __attribute__((target("avx2,fma"), always_inline)) __m256 sleef_reduced_avx2(__m256 d, __m256 qf) {
#define C(bits) _mm256_castsi256_ps(_mm256_set1_epi32((int)(bits)))
    __m256 s = _mm256_fmadd_ps(qf, C(SLEEF_L2L), _mm256_fmadd_ps(qf, C(SLEEF_L2U), d)), u = C(sleef_exp_polynomial[0]);
    for (int i = 1; i < 6; i++) u = _mm256_fmadd_ps(s, u, C(sleef_exp_polynomial[i]));
    return _mm256_add_ps(_mm256_fmadd_ps(u, _mm256_mul_ps(s, s), s), _mm256_set1_ps(1.0f));
}

static inline __attribute__((target("avx2,fma"), always_inline)) __m256 sleef_exp_avx2(__m256 d) {
    const __m256i q = _mm256_cvtps_epi32(_mm256_mul_ps(d, C(SLEEF_R_LN2)));
    __m256 u = sleef_reduced_avx2(d, _mm256_cvtepi32_ps(q));
    const __m256i half = _mm256_srai_epi32(q, 1), one = _mm256_set1_epi32(0x3f800000);
    u = _mm256_mul_ps(u, _mm256_castsi256_ps(_mm256_add_epi32(_mm256_slli_epi32(half, 23), one)));
    u = _mm256_mul_ps(u, _mm256_castsi256_ps(_mm256_add_epi32(_mm256_slli_epi32(_mm256_sub_epi32(q, half), 23), one)));
    u = _mm256_andnot_ps(_mm256_cmp_ps(d, _mm256_set1_ps(SLEEF_UNDERFLOW), _CMP_LT_OS), u);
    return _mm256_blendv_ps(u, _mm256_set1_ps(INFINITY), _mm256_cmp_ps(_mm256_set1_ps(SLEEF_OVERFLOW), d, _CMP_LT_OS));
}

/// online_exp2_scalar, eight lanes.
static inline __attribute__((target("avx2,fma"), always_inline)) __m256 online_exp2_avx2(__m256 x) {
    x = _mm256_max_ps(_mm256_set1_ps(ONLINE_EXP2_FLOOR), x);  // NaN kept
    const __m256 shifter = _mm256_set1_ps(ONLINE_EXP2_SHIFTER), t = _mm256_add_ps(x, shifter);
    const __m256 r = _mm256_sub_ps(x, _mm256_sub_ps(t, shifter));
    const __m256i one = _mm256_castps_si256(C(online_exp2_polynomial[0]));
    const __m256 power = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_slli_epi32(_mm256_castps_si256(t), 23), one));
    __m256 p = C(online_exp2_polynomial[6]);
    for (int i = 5; i >= 1; i--) p = _mm256_fmadd_ps(p, r, C(online_exp2_polynomial[i]));
    p = _mm256_fmadd_ps(p, r, _mm256_castsi256_ps(one));
    return _mm256_mul_ps(p, power);
#undef C
}

static inline __attribute__((target("avx512f"), always_inline)) __m512 sleef_reduced_avx512(__m512 d, __m512 qf) {
#define C(bits) _mm512_castsi512_ps(_mm512_set1_epi32((int)(bits)))
    __m512 s = _mm512_fmadd_ps(qf, C(SLEEF_L2L), _mm512_fmadd_ps(qf, C(SLEEF_L2U), d)), u = C(sleef_exp_polynomial[0]);
    for (int i = 1; i < 6; i++) u = _mm512_fmadd_ps(s, u, C(sleef_exp_polynomial[i]));
    return _mm512_add_ps(_mm512_fmadd_ps(u, _mm512_mul_ps(s, s), s), _mm512_set1_ps(1.0f));
}

static inline __attribute__((target("avx512f"), always_inline)) __m512 sleef_exp_avx512(__m512 d) {
    const __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(d, C(SLEEF_R_LN2)));
    __m512 u = sleef_reduced_avx512(d, _mm512_cvtepi32_ps(q));
    const __m512i half = _mm512_srai_epi32(q, 1), one = _mm512_set1_epi32(0x3f800000);
    u = _mm512_mul_ps(u, _mm512_castsi512_ps(_mm512_add_epi32(_mm512_slli_epi32(half, 23), one)));
    const __mmask16 kept = _mm512_cmp_ps_mask(d, _mm512_set1_ps(SLEEF_UNDERFLOW), _CMP_NLT_US);
    u = _mm512_maskz_mul_ps(kept, u, _mm512_castsi512_ps(_mm512_add_epi32(_mm512_slli_epi32(_mm512_sub_epi32(q, half), 23), one)));
    return _mm512_mask_mov_ps(u, _mm512_cmp_ps_mask(d, _mm512_set1_ps(SLEEF_OVERFLOW), _CMP_GT_OS), _mm512_set1_ps(INFINITY));
}

/// online_exp2_scalar, sixteen lanes: 2^n applied by scalef, the same product as the multiply
/// (one rounding of p 2^n), and x under -126.5 (n = -127 there, whose 2^n's bits are 0) masked to
/// 0 rather than raised.
static inline __attribute__((target("avx512f"), always_inline)) __m512 online_exp2_avx512(__m512 x) {
    const __m512 shifter = _mm512_set1_ps(ONLINE_EXP2_SHIFTER), n = _mm512_sub_ps(_mm512_add_ps(x, shifter), shifter);
    const __m512 r = _mm512_sub_ps(x, n);
    __m512 p = C(online_exp2_polynomial[6]);
    for (int i = 5; i >= 0; i--) p = _mm512_fmadd_ps(p, r, C(online_exp2_polynomial[i]));
    return _mm512_maskz_scalef_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(-126.5f), _CMP_NLT_UQ), p, n);  // NaN kept
#undef C
}

// AVX2 + FMA: 8 lanes.
typedef float vf8 __attribute__((vector_size(32)));
#define ATTR __attribute__((target("avx2,fma")))
static inline ATTR float hmax8(vf8 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128((__m256)v), _mm256_extractf128_ps((__m256)v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}
static inline ATTR float hsum8(vf8 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128((__m256)v), _mm256_extractf128_ps((__m256)v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}
#define VEC vf8
#define W 8
#define EXPV(v) ((vf8)sleef_exp_avx2((__m256)(v)))
#define EXPA(v) ((vf8)online_exp2_avx2((__m256)(v)))
#define VMAX(a, b) ((vf8)_mm256_max_ps((__m256)(a), (__m256)(b)))
#define HMAX(v) hmax8(v)
#define HSUM(v) hsum8(v)
#define NAME(x) x##_avx2
#include "seg_kernels_body.h"

// AVX-512F: 16 lanes.
typedef float vf16 __attribute__((vector_size(64)));
#define ATTR __attribute__((target("avx512f")))
#define VEC vf16
#define W 16
#define EXPV(v) ((vf16)sleef_exp_avx512((__m512)(v)))
#define EXPA(v) ((vf16)online_exp2_avx512((__m512)(v)))
#define VMAX(a, b) ((vf16)_mm512_max_ps((__m512)(a), (__m512)(b)))
#define HMAX(v) _mm512_reduce_max_ps((__m512)(v))
#define HSUM(v) _mm512_reduce_add_ps((__m512)(v))
#define NAME(x) x##_avx512
#include "seg_kernels_body.h"

/// XCR0: which register states the OS saves.
static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static int cpu_has(dp_seg_kernel kernel) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1;
    if (!osxsave) return 0;
    const uint64_t xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return 0;  // SSE and AVX state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    if (kernel == DP_SEG_KERNEL_AVX2) return fma && ((b >> 5) & 1);
    if (kernel == DP_SEG_KERNEL_AVX512) return ((b >> 16) & 1) && (xcr0 & 0xe0) == 0xe0;  // opmask, ZMM state
    return 0;
}

int dp_seg_kernel_available(dp_seg_kernel kernel) {
    static int cached[4] = {-1, -1, -1, -1};
    if (kernel == DP_SEG_KERNEL_AUTO || kernel == DP_SEG_KERNEL_SCALAR) return 1;
    if (kernel != DP_SEG_KERNEL_AVX2 && kernel != DP_SEG_KERNEL_AVX512) return 0;
    int known = __atomic_load_n(&cached[kernel], __ATOMIC_RELAXED);
    if (known < 0) {
        known = cpu_has(kernel);
        __atomic_store_n(&cached[kernel], known, __ATOMIC_RELAXED);
    }
    return known;
}
#else
int dp_seg_kernel_available(dp_seg_kernel kernel) {
    return kernel == DP_SEG_KERNEL_AUTO || kernel == DP_SEG_KERNEL_SCALAR;
}
#endif

/// The widest kernel AUTO may pick: DINOPROBE_KERNELS (scalar, avx2 or avx512), read once; any
/// other value, or none, caps nothing.
static dp_seg_kernel automatic_cap(void) {
    static int cached = -1;
    int cap = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (cap < 0) {
        const char *value = getenv("DINOPROBE_KERNELS");
        cap = DP_SEG_KERNEL_AVX512;
        if (value && strcmp(value, "scalar") == 0) cap = DP_SEG_KERNEL_SCALAR;
        if (value && strcmp(value, "avx2") == 0) cap = DP_SEG_KERNEL_AVX2;
        __atomic_store_n(&cached, cap, __ATOMIC_RELAXED);
    }
    return (dp_seg_kernel)cap;
}

dp_seg_kernel dp_seg_kernel_resolve(dp_seg_kernel kernel) {
    if (kernel != DP_SEG_KERNEL_AUTO && dp_seg_kernel_available(kernel)) return kernel;
    const dp_seg_kernel cap = automatic_cap();
    if (cap >= DP_SEG_KERNEL_AVX512 && dp_seg_kernel_available(DP_SEG_KERNEL_AVX512)) return DP_SEG_KERNEL_AVX512;
    if (cap >= DP_SEG_KERNEL_AVX2 && dp_seg_kernel_available(DP_SEG_KERNEL_AVX2)) return DP_SEG_KERNEL_AVX2;
    return DP_SEG_KERNEL_SCALAR;
}

double dp_softmax_xent_row(dp_seg_kernel kernel, const float *x, intptr_t classes, intptr_t label,
                           float scale, float *gradient) {
    switch (dp_seg_kernel_resolve(kernel)) {
#if defined(__x86_64__) && defined(__linux__) && defined(DINOPROBE_HAVE_SLEEF)
    case DP_SEG_KERNEL_AVX512: return xent_row_avx512(x, classes, label, scale, gradient);
    case DP_SEG_KERNEL_AVX2: return xent_row_avx2(x, classes, label, scale, gradient);
#endif
    default: return xent_row_scalar(x, classes, label, scale, gradient);
    }
}

void dp_softmax_rows(dp_seg_kernel kernel, float *x, intptr_t rows, intptr_t columns, intptr_t stride, float scale) {
    switch (dp_seg_kernel_resolve(kernel)) {
#if defined(__x86_64__) && defined(__linux__) && defined(DINOPROBE_HAVE_SLEEF)
    case DP_SEG_KERNEL_AVX512: softmax_rows_avx512(x, rows, columns, stride, scale); return;
    case DP_SEG_KERNEL_AVX2: softmax_rows_avx2(x, rows, columns, stride, scale); return;
#endif
    default: softmax_rows_scalar(x, rows, columns, stride, scale); return;
    }
}

void dp_softmax_online_rows(dp_seg_kernel kernel, float *x, intptr_t rows, intptr_t columns, intptr_t stride, float scale,
                            const float *tile_maxima, float *maxima, float *sums, float *out, intptr_t width, intptr_t ldo) {
    switch (dp_seg_kernel_resolve(kernel)) {
#if defined(__x86_64__) && defined(__linux__) && defined(DINOPROBE_HAVE_SLEEF)
    case DP_SEG_KERNEL_AVX512: softmax_online_rows_avx512(x, rows, columns, stride, scale, tile_maxima, maxima, sums, out, width, ldo);
        return;
    case DP_SEG_KERNEL_AVX2: softmax_online_rows_avx2(x, rows, columns, stride, scale, tile_maxima, maxima, sums, out, width, ldo);
        return;
#endif
    default: softmax_online_rows_scalar(x, rows, columns, stride, scale, tile_maxima, maxima, sums, out, width, ldo); return;
    }
}

void dp_softmax_online_finish(dp_seg_kernel kernel, const float *sums, intptr_t rows, float *out, intptr_t width, intptr_t ldo) {
    switch (dp_seg_kernel_resolve(kernel)) {
#if defined(__x86_64__) && defined(__linux__) && defined(DINOPROBE_HAVE_SLEEF)
    case DP_SEG_KERNEL_AVX512: softmax_online_finish_avx512(sums, rows, out, width, ldo); return;
    case DP_SEG_KERNEL_AVX2: softmax_online_finish_avx2(sums, rows, out, width, ldo); return;
#endif
    default: softmax_online_finish_scalar(sums, rows, out, width, ldo); return;
    }
}

void dp_exp(dp_seg_kernel kernel, const float *x, intptr_t count, float *y) {
    switch (dp_seg_kernel_resolve(kernel)) {
#if defined(__x86_64__) && defined(__linux__) && defined(DINOPROBE_HAVE_SLEEF)
    case DP_SEG_KERNEL_AVX512: exp_values_avx512(x, count, y); return;
    case DP_SEG_KERNEL_AVX2: exp_values_avx2(x, count, y); return;
#endif
    default: exp_values_scalar(x, count, y); return;
    }
}

int dp_exp_sleef(dp_seg_kernel kernel, const float *x, intptr_t count, float *y) {
    const float no_shift = 0;
    switch (dp_seg_kernel_resolve(kernel)) {
#if defined(__x86_64__) && defined(__linux__) && defined(DINOPROBE_HAVE_SLEEF)
    case DP_SEG_KERNEL_AVX512: dp_sleef_expf16(x, y, 1, count, &no_shift); return 1;
    case DP_SEG_KERNEL_AVX2: dp_sleef_expf8(x, y, 1, count, &no_shift); return 1;
#endif
    default: (void)no_shift; (void)x; (void)count; (void)y; return 0;
    }
}

void dp_rope_rows(dp_seg_kernel kernel, const float *src, intptr_t stride, intptr_t count, intptr_t width, intptr_t prefix,
                  const float *cos, const float *sin, float *out) {
    switch (dp_seg_kernel_resolve(kernel)) {
#if defined(__x86_64__) && defined(__linux__) && defined(DINOPROBE_HAVE_SLEEF)
    case DP_SEG_KERNEL_AVX512: rope_rows_avx512(src, stride, count, width, prefix, cos, sin, out); return;
    case DP_SEG_KERNEL_AVX2: rope_rows_avx2(src, stride, count, width, prefix, cos, sin, out); return;
#endif
    default: rope_rows_scalar(src, stride, count, width, prefix, cos, sin, out); return;
    }
}

double dp_seg_image_xent(dp_seg_kernel kernel, const float *logits, intptr_t input_height,
                         intptr_t input_width, intptr_t classes, const uint8_t *labels,
                         intptr_t output_height, intptr_t output_width, uint8_t ignore,
                         dp_axis_taps rows, dp_axis_taps columns, float scale,
                         float *logit_gradient, float *scratch) {
    (void)input_height;  // the taps index inside it
    switch (dp_seg_kernel_resolve(kernel)) {
#if defined(__x86_64__) && defined(__linux__) && defined(DINOPROBE_HAVE_SLEEF)
    case DP_SEG_KERNEL_AVX512:
        return seg_image_avx512(logits, input_width, classes, labels, output_height, output_width,
                                ignore, rows, columns, scale, logit_gradient, scratch);
    case DP_SEG_KERNEL_AVX2:
        return seg_image_avx2(logits, input_width, classes, labels, output_height, output_width,
                              ignore, rows, columns, scale, logit_gradient, scratch);
#endif
    default:
        return seg_image_scalar(logits, input_width, classes, labels, output_height, output_width,
                                ignore, rows, columns, scale, logit_gradient, scratch);
    }
}
