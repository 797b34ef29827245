// A float32 GEMM for linear layers whose weights are fixed: the weight matrix is packed once into
// panels of NR output features (the layout the micro-kernel reads), and the activations are read
// in place, so a call copies nothing. The backbone's linear layers run through it on float32 CPU
// runs. Kernels: AVX-512F (12 rows x 32 features per micro-tile) and AVX2 + FMA (6 x 16), chosen
// with CSegKernels' dispatch (dp_seg_kernel_resolve, which DINOPROBE_KERNELS caps); without
// either, no packed kernel runs and callers use their BLAS.
//
// Every output is bias + sum over k in increasing k of a[i, k] * w[j, k], accumulated in float
// with fused multiply-adds, whatever the number of rows: a row's result does not depend on the
// batch it came in.
#ifndef DINOPROBE_PACKED_GEMM_H
#define DINOPROBE_PACKED_GEMM_H

#include <stdint.h>
#include "seg_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Output features per packed panel when `kernel` runs (resolved as dp_seg_kernel_resolve does):
/// 32 for AVX-512, 16 for AVX2, 0 when no packed kernel runs here.
intptr_t dp_gemm_panel_width(dp_seg_kernel kernel);

/// Floats of the packed form of an [n, k] weight with panels of `nr` features: ceil(n / nr) * k * nr
/// (the last panel padded with zeros); -1 if that overflows or an argument is not positive.
intptr_t dp_gemm_packed_count(intptr_t n, intptr_t k, intptr_t nr);

/// Packs w [n, k] (row j at w + j * ldw) into panels: packed[(p * k + kk) * nr + jj] = w[p * nr + jj, kk].
void dp_gemm_pack(const float *w, intptr_t n, intptr_t k, intptr_t ldw, intptr_t nr, float *packed);

/// Packs the same panels as dp_gemm_pack from w's transpose: wt [k, n], row kk at wt + kk * ldwt
/// holding w[0..<n, kk] (attention's values, whose rows are the reduced index).
void dp_gemm_pack_transposed(const float *wt, intptr_t k, intptr_t n, intptr_t ldwt, intptr_t nr, float *packed);

/// Floats of scratch one dp_gemm_packed call needs (one buffer per concurrent caller).
intptr_t dp_gemm_scratch_count(void);

/// An activation dp_gemm_packed applies to each finished output (see dp_gemm_epilogue).
typedef enum {
    DP_GEMM_NO_ACTIVATION = 0,
    /// GELU with erf, as dp_gelu_erf computes it.
    DP_GEMM_GELU_ERF = 1,
} dp_gemm_activation;

/// What dp_gemm_packed does to each output once its sum is complete: in the micro-tile's registers
/// before the store (in cache for a partial panel). The activation comes first, then the residual.
typedef struct {
    /// When not NULL: c[i, j] = residual[i * ldr + j] + scale[j] * sum in one fused multiply-add,
    /// as ATen's addcmul computes it on the CPUs these kernels run on (bit for bit; tested): a
    /// transformer block's residual connection with layer scale. The residual must not overlap
    /// c (c holds partial sums until the last pass).
    const float *residual;
    intptr_t ldr;
    const float *scale;
    dp_gemm_activation activation;
    /// When not 0: the finished outputs of whole panels go straight to memory (non-temporal
    /// stores, where c and its rows are aligned to the vector width), not through the caches,
    /// where they would push out the weights and activations the rest of the product still reads.
    /// For outputs read by a later step, not at once (the scores of attention are read at once).
    /// Same values either way.
    int stream;
    /// When not 0: the sums start from what c holds (c += a . w^T; the bias is ignored), as
    /// attention's outputs gather one tile of keys after another.
    int accumulate;
} dp_gemm_epilogue;

/// x = GELU(x) = x * (1 + erf(x / sqrt 2)) / 2 in place, on `count` floats, computed as oneDNN 3.x
/// computes it on AVX-512 CPUs, which is what PyTorch 2.x's `torch.nn.functional.gelu` runs there
/// on float32 CPU tensors: erf(|x| / sqrt 2) from a degree-5 polynomial in |x| picked from 25 by
/// |x|'s exponent and two leading mantissa bits (1 past 5.54), Horner's rule in fused
/// multiply-adds, its sign restored, then (x * (1 + erf)) * 0.5. Every kernel (and the scalar
/// path, for any CPU) gives the same bits; checked against PyTorch 2.15 on every float class.
void dp_gelu_erf(dp_seg_kernel kernel, float *x, intptr_t count);

/// c[i, j] = bias[j] + sum_k a[i, k] * w[j, k] for i < m and the features of panels
/// [panel_begin, panel_end), with w packed by dp_gemm_pack for dp_gemm_panel_width(kernel), then
/// the epilogue (NULL: none). Rows of a and c start at a + i * lda and c + i * ldc; bias may be
/// NULL (zeros). Disjoint panel ranges may run concurrently, each with its own scratch.
void dp_gemm_packed(dp_seg_kernel kernel, const float *a, intptr_t m, intptr_t k, intptr_t lda,
                    const float *packed, intptr_t n, const float *bias, float *c, intptr_t ldc,
                    intptr_t panel_begin, intptr_t panel_end, float *scratch, const dp_gemm_epilogue *epilogue);

/// Attention's scores: c[i, j] = sum_k a[i, k] * w[j, k] for i < m over whole panels [0, panels)
/// of w packed as for dp_gemm_packed (no bias, no epilogue), and maxima[i] = the max of row i's
/// first `columns` outputs (columns > (panels - 1) * panel width) in the same pass.
void dp_gemm_scores(dp_seg_kernel kernel, const float *a, intptr_t m, intptr_t k, intptr_t lda, const float *packed,
                    intptr_t panels, intptr_t columns, float *c, intptr_t ldc, float *maxima);

#ifdef __cplusplus
}
#endif

#endif
