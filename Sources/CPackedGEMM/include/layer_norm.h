// LayerNorm over the last dimension of float32 rows, with PyTorch 2.x's arithmetic on x86 CPUs.
#ifndef DINOPROBE_LAYER_NORM_H
#define DINOPROBE_LAYER_NORM_H

#include <stdint.h>
#include "seg_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/// y[r, j] = (x[r, j] - mean_r) / sqrt(var_r + eps) * gamma[j] + beta[j] for `rows` contiguous rows
/// of n floats, computed as PyTorch 2.x's `torch.nn.functional.layer_norm` computes it on float32
/// x86 CPU tensors, bit for bit. PyTorch registers no AVX-512 LayerNorm kernel, so AVX-512 CPUs
/// run its AVX2 one; both this kernel and the scalar path (any CPU, same bits) follow it:
/// - moments: Welford's update on 8 lanes, in chunks of 16 vectors merged by a binary cascade,
///   the lanes then merged in order, the n % 8 leftover values first (ATen's RowwiseMoments);
/// - rstd = 1 / sqrtf(var + eps) in float, eps rounded to float;
/// - y = fma((x + -mean) * rstd, gamma, beta), as the compiled ATen kernel contracts it.
/// gamma and beta may be NULL (ones and zeros). y may equal x. Checked against PyTorch 2.15.
void dp_layer_norm(dp_seg_kernel kernel, const float *x, intptr_t rows, intptr_t n, const float *gamma,
                   const float *beta, float eps, float *y);

#ifdef __cplusplus
}
#endif

#endif
