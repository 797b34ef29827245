// Instantiates packed_gemm_body.h for AVX-512F and AVX2 + FMA and dispatches between them.
#include "packed_gemm.h"

#include <stddef.h>

/// Rows of activations and depth of one pass: a block of activations is 96 x 384 floats (144 KB,
/// in L2); one step of the micro-tile reads MR of them in place and NR packed weights. Chosen by
/// measurement (see the README, "Performance").
#define GEMM_MC 96
#define GEMM_KC 384

#if defined(__x86_64__)
#include <immintrin.h>
#define HAVE_PACKED_KERNELS 1

#define VEC __m512
#define LANES 16
#define MR 8
#define NV 2
#define ATTR __attribute__((target("avx512f")))
#define VLOAD _mm512_loadu_ps
#define VSTORE _mm512_storeu_ps
#define VSET1 _mm512_set1_ps
#define VFMA _mm512_fmadd_ps
#define VZERO _mm512_setzero_ps
#define NAME(x) x##_avx512
#include "packed_gemm_body.h"

#define VEC __m256
#define LANES 8
#define MR 6
#define NV 2
#define ATTR __attribute__((target("avx2,fma")))
#define VLOAD _mm256_loadu_ps
#define VSTORE _mm256_storeu_ps
#define VSET1 _mm256_set1_ps
#define VFMA _mm256_fmadd_ps
#define VZERO _mm256_setzero_ps
#define NAME(x) x##_avx2
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

intptr_t dp_gemm_scratch_count(void) { return 8 * 32 + 32; }  // the widest kernel's edge tile and bias row

void dp_gemm_packed(dp_seg_kernel kernel, const float *a, intptr_t m, intptr_t k, intptr_t lda,
                    const float *packed, intptr_t n, const float *bias, float *c, intptr_t ldc,
                    intptr_t panel_begin, intptr_t panel_end, float *scratch, const dp_gemm_epilogue *epilogue) {
    const dp_gemm_epilogue *after = epilogue && epilogue->residual ? epilogue : NULL;
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
