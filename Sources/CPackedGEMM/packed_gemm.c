// Instantiates packed_gemm_body.h for AVX-512F and AVX2 + FMA and dispatches between them.
#include "packed_gemm.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/// Rows of activations and depth of one pass: a block of activations is 96 x 384 floats (144 KB,
/// in L2); one step of the micro-tile reads MR of them in place and NR packed weights. Chosen by
/// measurement (see docs/performance.md).
#define GEMM_MC 96
#define GEMM_KC 384

/// dp_gelu_erf's polynomials, as oneDNN 3.x's AVX-512 GELU tabulates them (bit patterns): row d
/// holds the degree-d coefficient of the 25 polynomials (indices 0-24; 0 is never picked), padded
/// to 32 for the AVX-512 two-register permute. Polynomial 23 is the constant 1 (|x| past 5.54).
static const uint32_t gelu_polynomials[6][32] __attribute__((aligned(64))) = {
    {0xa6f2cb94, 0x32827792, 0x3381cc0c, 0x34523d4a, 0x351ac44d, 0x35f36d88, 0x36ee8229, 0x37b8a3bb, 0x3867a213, 0x3940033b,
     0x3a2a5a1d, 0x3ae35863, 0x3b7828f2, 0x3c08b14b, 0x3c515ed3, 0xbb503236, 0xbd8d8e5e, 0xbe8abcd9, 0xbf0c19a2, 0xbeccb328,
     0x3e176ced, 0x3f470d99, 0x3f7abb28, 0x3f800000, 0x00000000},
    {0x3f4c422a, 0x3f4c421f, 0x3f4c4207, 0x3f4c41cb, 0x3f4c413b, 0x3f4c3fad, 0x3f4c3a2f, 0x3f4c2d40, 0x3f4c146a, 0x3f4bc341,
     0x3f4ad08c, 0x3f48f8cf, 0x3f45fac7, 0x3f404e07, 0x3f3b980f, 0x3f48dff3, 0x3f78b21b, 0x3fbb0704, 0x40019c32, 0x3fe536d6,
     0x3f81331e, 0x3e6c8684, 0x3c98f936, 0x00000000, 0x3f800000},
    {0xb62173f4, 0x3735e4cf, 0x37f2ff89, 0x388c23be, 0x3917535c, 0x39ab2ab0, 0x3a60fadb, 0x3af9b960, 0x3b6e5491, 0x3c0a4ec5,
     0x3ca5aa8c, 0x3d2138d9, 0x3d8737d4, 0x3ddfb660, 0x3e0f27ab, 0x3d94004b, 0xbe0efdeb, 0xbf1d96c3, 0xbf89db58, 0xbf6d9897,
     0xbef69fb8, 0xbdc4f8a8, 0xbbde6422, 0x00000000, 0x00000000},
    {0xbe081a19, 0xbe084570, 0xbe08639b, 0xbe089837, 0xbe08f409, 0xbe09ab95, 0xbe0b66d0, 0xbe0e400a, 0xbe124df8, 0xbe1bde02,
     0xbe2f19c9, 0xbe4931bf, 0xbe685fbc, 0xbe89c95f, 0xbe96cbca, 0xbe8044aa, 0xbe0550f2, 0x3dcfd6a1, 0x3e94c826, 0x3e79345f,
     0x3decec91, 0x3ca46568, 0x3aa1e00a, 0x00000000, 0x00000000},
    {0xba3d61db, 0x39f097a3, 0x3a5845dc, 0x3ab1fa35, 0x3b0cefb8, 0x3b653ab6, 0x3bcae527, 0x3c221712, 0x3c6c5840, 0x3cc0a703,
     0x3d1dcc19, 0x3d63656d, 0x3d955907, 0x3dbf9910, 0x3dd53f69, 0x3db7dcef, 0x3d639ebe, 0xba6ede48, 0xbd22be69, 0xbd041cf1,
     0xbc64f5ab, 0xbb097a32, 0xb8ebf380, 0x00000000, 0x00000000},
    {0x3cb7d80c, 0x3c9b6050, 0x3c978d11, 0x3c92e850, 0x3c8d058b, 0x3c848454, 0x3c6cd623, 0x3c4c824b, 0x3c2a7935, 0x3be0b390,
     0x3b0651ac, 0xbb232f53, 0xbbd42fa0, 0xbc2c5366, 0xbc492c9e, 0xbc2a7aa6, 0xbbd55d04, 0xba823a76, 0x3b102aa8, 0x3ae25a7e,
     0x3a31f792, 0x38b84375, 0x3689bb5a, 0x00000000, 0x00000000},
};
/// Added to |x|'s bits before the shift by 21 that leaves exponent and two mantissa bits.
#define GELU_INDEX_BIAS 0xc21fffffu
/// Past this |x| (0x40b15cee, 5.5425...) polynomial 23 (erf = 1) is used.
#define GELU_RIGHT_BOUND 0x40b15cee

static inline float bits_to_float(uint32_t u) { float f; memcpy(&f, &u, sizeof f); return f; }
static inline uint32_t float_to_bits(float f) { uint32_t u; memcpy(&u, &f, sizeof u); return u; }

/// dp_gelu_erf on one value, operation for operation as the vector kernels.
static float gelu_erf_scalar(float x) {
    const uint32_t magnitude = float_to_bits(x) & 0x7fffffffu;
    const float positive = bits_to_float(magnitude);
    int32_t index = (int32_t)(magnitude + GELU_INDEX_BIAS) >> 21;
    index = index < 1 ? 1 : index > 24 ? 24 : index;
    if (bits_to_float(GELU_RIGHT_BOUND) < positive) index = 23;
    float p = bits_to_float(gelu_polynomials[5][index]);
    for (int d = 4; d >= 0; d--) p = __builtin_fmaf(p, positive, bits_to_float(gelu_polynomials[d][index]));
    p = bits_to_float(float_to_bits(p) ^ (float_to_bits(x) & 0x80000000u));
    p = p + 1.0f;
    const float product = x * p;
    return product * 0.5f;
}

#if defined(__x86_64__)
#include <immintrin.h>
#define HAVE_PACKED_KERNELS 1

/// gelu_erf_scalar on 16 lanes; the coefficients picked with a two-register permute.
static inline __attribute__((target("avx512f"), always_inline)) __m512 gelu_avx512(__m512 x) {
    const __m512i bits = _mm512_castps_si512(x);
    const __m512i magnitude = _mm512_and_si512(bits, _mm512_set1_epi32(0x7fffffff));
    const __m512 positive = _mm512_castsi512_ps(magnitude);
    __m512i index = _mm512_srai_epi32(_mm512_add_epi32(magnitude, _mm512_set1_epi32((int)GELU_INDEX_BIAS)), 21);
    index = _mm512_min_epi32(_mm512_max_epi32(index, _mm512_set1_epi32(1)), _mm512_set1_epi32(24));
    const __mmask16 beyond = _mm512_cmp_ps_mask(_mm512_castsi512_ps(_mm512_set1_epi32(GELU_RIGHT_BOUND)), positive, _CMP_LT_OS);
    index = _mm512_mask_mov_epi32(index, beyond, _mm512_set1_epi32(23));
#define GELU_COEFFICIENT(d) \
    _mm512_permutex2var_ps(_mm512_load_ps((const float *)gelu_polynomials[d]), index, _mm512_load_ps((const float *)gelu_polynomials[d] + 16))
    __m512 p = GELU_COEFFICIENT(5);
    p = _mm512_fmadd_ps(p, positive, GELU_COEFFICIENT(4));
    p = _mm512_fmadd_ps(p, positive, GELU_COEFFICIENT(3));
    p = _mm512_fmadd_ps(p, positive, GELU_COEFFICIENT(2));
    p = _mm512_fmadd_ps(p, positive, GELU_COEFFICIENT(1));
    p = _mm512_fmadd_ps(p, positive, GELU_COEFFICIENT(0));
#undef GELU_COEFFICIENT
    const __m512i sign = _mm512_and_si512(bits, _mm512_set1_epi32((int)0x80000000u));
    p = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(p), sign));
    p = _mm512_add_ps(p, _mm512_set1_ps(1.0f));
    return _mm512_mul_ps(_mm512_mul_ps(x, p), _mm512_set1_ps(0.5f));
}

/// gelu_erf_scalar on 8 lanes; polynomials 1-24 sit in three registers of 8 per degree, each
/// permuted by the index's low three bits, then the right one blended in.
static inline __attribute__((target("avx2,fma"), always_inline)) __m256 gelu_avx2(__m256 x) {
    const __m256i bits = _mm256_castps_si256(x);
    const __m256i magnitude = _mm256_and_si256(bits, _mm256_set1_epi32(0x7fffffff));
    const __m256 positive = _mm256_castsi256_ps(magnitude);
    __m256i index = _mm256_srai_epi32(_mm256_add_epi32(magnitude, _mm256_set1_epi32((int)GELU_INDEX_BIAS)), 21);
    index = _mm256_min_epi32(_mm256_max_epi32(index, _mm256_set1_epi32(1)), _mm256_set1_epi32(24));
    const __m256 beyond = _mm256_cmp_ps(_mm256_castsi256_ps(_mm256_set1_epi32(GELU_RIGHT_BOUND)), positive, _CMP_LT_OS);
    index = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(index), _mm256_castsi256_ps(_mm256_set1_epi32(23)), beyond));
    const __m256i offset = _mm256_sub_epi32(index, _mm256_set1_epi32(1));  // 0-23
    const __m256i lane = _mm256_and_si256(offset, _mm256_set1_epi32(7));
    const __m256i group = _mm256_srli_epi32(offset, 3);                      // 0, 1 or 2
    const __m256 second = _mm256_castsi256_ps(_mm256_cmpeq_epi32(group, _mm256_set1_epi32(1)));
    const __m256 third = _mm256_castsi256_ps(_mm256_cmpeq_epi32(group, _mm256_set1_epi32(2)));
#define GELU_COEFFICIENT(d)                                                                                               \
    _mm256_blendv_ps(_mm256_blendv_ps(_mm256_permutevar8x32_ps(_mm256_loadu_ps((const float *)gelu_polynomials[d] + 1), lane),  \
                                      _mm256_permutevar8x32_ps(_mm256_loadu_ps((const float *)gelu_polynomials[d] + 9), lane),  \
                                      second),                                                                            \
                     _mm256_permutevar8x32_ps(_mm256_loadu_ps((const float *)gelu_polynomials[d] + 17), lane), third)
    __m256 p = GELU_COEFFICIENT(5);
    p = _mm256_fmadd_ps(p, positive, GELU_COEFFICIENT(4));
    p = _mm256_fmadd_ps(p, positive, GELU_COEFFICIENT(3));
    p = _mm256_fmadd_ps(p, positive, GELU_COEFFICIENT(2));
    p = _mm256_fmadd_ps(p, positive, GELU_COEFFICIENT(1));
    p = _mm256_fmadd_ps(p, positive, GELU_COEFFICIENT(0));
#undef GELU_COEFFICIENT
    const __m256i sign = _mm256_and_si256(bits, _mm256_set1_epi32((int)0x80000000u));
    p = _mm256_castsi256_ps(_mm256_xor_si256(_mm256_castps_si256(p), sign));
    p = _mm256_add_ps(p, _mm256_set1_ps(1.0f));
    return _mm256_mul_ps(_mm256_mul_ps(x, p), _mm256_set1_ps(0.5f));
}

#define VEC __m512
#define LANES 16
// 12 rows: 24 accumulators, 2 weight vectors and the broadcast row value in 32 registers. On a
// ViT-S/16's GEMMs, 1% faster than 8 rows at 201, 804 and 3,216 rows; 201 rows also waste 3
// rows of a tile instead of 7. 14 rows ran 1-2% slower than 8.
#define MR 12
#define NV 2
#define ATTR __attribute__((target("avx512f")))
#define VLOAD _mm512_loadu_ps
#define VSTORE _mm512_storeu_ps
#define VSTREAM _mm512_stream_ps
#define VSET1 _mm512_set1_ps
#define VFMA _mm512_fmadd_ps
#define VZERO _mm512_setzero_ps
#define VMAXV _mm512_max_ps
#define VHMAX _mm512_reduce_max_ps
#define VGELU gelu_avx512
#define NAME(x) x##_avx512
// A panel is 48 KB: fetching the next one pushes this one's weights out of the 32 KB L1 (a
// ViT-S/16's GEMMs at 201 rows ran 3-8% slower with it, whichever cache level the fetch named).
#define PREFETCH_NEXT_PANEL 0
#include "packed_gemm_body.h"

/// The largest of 8 lanes.
static inline __attribute__((target("avx2"), always_inline)) float hmax_avx2(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}

#define VEC __m256
#define LANES 8
#define MR 6
#define NV 2
#define ATTR __attribute__((target("avx2,fma")))
#define VLOAD _mm256_loadu_ps
#define VSTORE _mm256_storeu_ps
#define VSTREAM _mm256_stream_ps
#define VSET1 _mm256_set1_ps
#define VFMA _mm256_fmadd_ps
#define VZERO _mm256_setzero_ps
#define VMAXV _mm256_max_ps
#define VHMAX hmax_avx2
#define VGELU gelu_avx2
#define NAME(x) x##_avx2
// A panel is 24 KB, so the next one fits in L1 beside it: at batch 1, where each weight serves
// only 201 rows, the GEMMs ran 4% faster with it (at 804 and 3,216 rows, within 3% either way).
#define PREFETCH_NEXT_PANEL 1
#include "packed_gemm_body.h"
#endif

intptr_t dp_gemm_panel_width(dp_seg_kernel kernel) {
#ifdef HAVE_PACKED_KERNELS
    switch (dp_seg_kernel_resolve(kernel)) {
    case DP_SEG_KERNEL_AVX512: return 32;
    case DP_SEG_KERNEL_AVX2: return 16;
    default: return 0;
    }
#else
    (void)kernel;
    return 0;
#endif
}

intptr_t dp_gemm_packed_count(intptr_t n, intptr_t k, intptr_t nr) {
    if (n <= 0 || k <= 0 || nr <= 0) return -1;
    const intptr_t panels = n / nr + (n % nr != 0);
    intptr_t count;
    if (__builtin_mul_overflow(panels, k, &count) || __builtin_mul_overflow(count, nr, &count)) return -1;
    return count;
}

void dp_gemm_pack(const float *w, intptr_t n, intptr_t k, intptr_t ldw, intptr_t nr, float *packed) {
    for (intptr_t j0 = 0; j0 < n; j0 += nr) {
        for (intptr_t jj = 0; jj < nr; jj++) {
            const float *row = w + (j0 + jj) * ldw;
            float *out = packed + j0 * k + jj;
            if (j0 + jj < n) {
                for (intptr_t kk = 0; kk < k; kk++) out[kk * nr] = row[kk];
            } else {
                for (intptr_t kk = 0; kk < k; kk++) out[kk * nr] = 0;
            }
        }
    }
}

void dp_gemm_pack_transposed(const float *wt, intptr_t k, intptr_t n, intptr_t ldwt, intptr_t nr, float *packed) {
    for (intptr_t j0 = 0; j0 < n; j0 += nr) {
        const intptr_t width = n - j0 < nr ? n - j0 : nr;
        float *panel = packed + j0 * k;
        for (intptr_t kk = 0; kk < k; kk++) {
            const float *row = wt + kk * ldwt + j0;
            float *out = panel + kk * nr;
            if (kk + 8 < k)  // rows far apart (attention's values inside qkv): fetch ahead
                for (intptr_t jj = 0; jj < width; jj += 16) __builtin_prefetch(row + 8 * ldwt + jj);
            for (intptr_t jj = 0; jj < width; jj++) out[jj] = row[jj];
            for (intptr_t jj = width; jj < nr; jj++) out[jj] = 0;
        }
    }
}

intptr_t dp_gemm_scratch_count(void) { return 12 * 32 + 32; }  // the widest kernel's edge tile and bias row

void dp_gemm_packed(dp_seg_kernel kernel, const float *a, intptr_t m, intptr_t k, intptr_t lda,
                    const float *packed, intptr_t n, const float *bias, float *c, intptr_t ldc,
                    intptr_t panel_begin, intptr_t panel_end, float *scratch, const dp_gemm_epilogue *epilogue) {
    const dp_gemm_epilogue *after = epilogue && (epilogue->residual || epilogue->activation || epilogue->stream || epilogue->accumulate) ? epilogue : NULL;
#ifdef HAVE_PACKED_KERNELS
    switch (dp_seg_kernel_resolve(kernel)) {
    case DP_SEG_KERNEL_AVX512:
        gemm_avx512(a, m, k, lda, packed, n, bias, c, ldc, panel_begin, panel_end, scratch, after);
        return;
    case DP_SEG_KERNEL_AVX2:
        gemm_avx2(a, m, k, lda, packed, n, bias, c, ldc, panel_begin, panel_end, scratch, after);
        return;
    default: return;
    }
#else
    (void)kernel; (void)a; (void)m; (void)k; (void)lda; (void)packed; (void)n; (void)bias; (void)c; (void)ldc;
    (void)panel_begin; (void)panel_end; (void)scratch; (void)after;
#endif
}

void dp_gemm_scores(dp_seg_kernel kernel, const float *a, intptr_t m, intptr_t k, intptr_t lda, const float *packed,
                    intptr_t panels, intptr_t columns, float *c, intptr_t ldc, float *maxima) {
#ifdef HAVE_PACKED_KERNELS
    switch (dp_seg_kernel_resolve(kernel)) {
    case DP_SEG_KERNEL_AVX512: scores_avx512(a, m, k, lda, packed, panels, columns, c, ldc, maxima); return;
    case DP_SEG_KERNEL_AVX2: scores_avx2(a, m, k, lda, packed, panels, columns, c, ldc, maxima); return;
    default: return;
    }
#else
    (void)kernel; (void)a; (void)m; (void)k; (void)lda; (void)packed; (void)panels; (void)columns; (void)c; (void)ldc;
    (void)maxima;
#endif
}

void dp_gelu_erf(dp_seg_kernel kernel, float *x, intptr_t count) {
#ifdef HAVE_PACKED_KERNELS
    switch (dp_seg_kernel_resolve(kernel)) {
    case DP_SEG_KERNEL_AVX512: gelu_rows_avx512(x, 1, count, 0); return;
    case DP_SEG_KERNEL_AVX2: gelu_rows_avx2(x, 1, count, 0); return;
    default: break;
    }
#else
    (void)kernel;
#endif
    for (intptr_t i = 0; i < count; i++) x[i] = gelu_erf_scalar(x[i]);
}
