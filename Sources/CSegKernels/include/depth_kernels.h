// The depth head's kernels (Meta's dinov3/eval/depth linear probe): the bin normalisation of
// each patch-grid cell's logits to one depth and its backward, and one image's bilinear
// upsampling (PyTorch F.interpolate, align_corners=False) of that single-channel depth fused
// with the scale-invariant log loss (SigLoss) and the adjoint of the upsampling, so the
// upsampled prediction never exists whole. Written once over a vector type, instantiated for
// scalar code, AVX2 + FMA and AVX-512F, and picked at run time as the segmentation kernels are
// (dp_seg_kernel_resolve, DINOPROBE_KERNELS). log is a Cephes-style polynomial (about 1 ulp);
// sums of squares and counts are formed in Double.
#ifndef DINOPROBE_DEPTH_KERNELS_H
#define DINOPROBE_DEPTH_KERNELS_H

#include <stdint.h>
#include "seg_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/// How a cell's bin logits become weights (Meta's FeaturesToDepth norm_strategy).
typedef enum {
    DP_DEPTH_NORM_LINEAR = 0,   ///< relu(z) + 0.1, divided by its sum
    DP_DEPTH_NORM_SOFTMAX = 1,  ///< softmax(z)
    DP_DEPTH_NORM_SIGMOID = 2   ///< sigmoid(z), divided by its sum
} dp_depth_norm;

/// depth[r] = sum_k w_k centres[k] for each of `rows` rows of `bins` logits (row r at z + r * bins,
/// plus bias[0..<bins]), w the row's weights under `norm`. Needs bins > 0.
void dp_depth_bins_forward(dp_seg_kernel kernel, const float *z, const float *bias, intptr_t rows, intptr_t bins,
                           const float *centres, dp_depth_norm norm, float *depth);

/// The backward of dp_depth_bins_forward: overwrites z with d loss / d z given each row's depth
/// (from the forward) and d loss / d depth.
void dp_depth_bins_backward(dp_seg_kernel kernel, float *z, const float *bias, intptr_t rows, intptr_t bins,
                            const float *centres, dp_depth_norm norm, const float *depth, const float *depth_gradient);

/// Floats of scratch the two loss passes need for an image `input_height` rows high and
/// `output_width` wide.
intptr_t dp_depth_scratch_count(intptr_t input_height, intptr_t output_width);

/// Loss pass 1, one image: upsamples depth [input_height, input_width] to [output_height,
/// output_width] with the taps; each pixel whose target is positive and finite gets
/// g = log((pred + eps) / (target + eps)) in g (the others 0); adds the count of those pixels
/// and the sum of their g into stats[0] and stats[1].
void dp_depth_log_ratio(dp_seg_kernel kernel, const float *depth, intptr_t input_height, intptr_t input_width,
                        const float *target, intptr_t output_height, intptr_t output_width,
                        dp_axis_taps rows, dp_axis_taps columns, float eps, float *g, double *stats, float *scratch);

/// Loss pass 2, one image: d loss / d pred = (offset + slope * (g - centre)) / (pred + eps) at each
/// pixel pass 1 counted (0 elsewhere), taken back through the upsampling's adjoint and written
/// into depth_gradient [input_height, input_width]; adds the sum of (g - centre)^2 over those
/// pixels into *squares.
void dp_depth_log_ratio_backward(dp_seg_kernel kernel, const float *depth, intptr_t input_height, intptr_t input_width,
                                 const float *target, const float *g, intptr_t output_height, intptr_t output_width,
                                 dp_axis_taps rows, dp_axis_taps columns, float eps, float centre, float slope,
                                 float offset, float *depth_gradient, double *squares, float *scratch);

/// log of each of `count` positive finite floats through the loss's vector log (for the tests).
void dp_depth_log(dp_seg_kernel kernel, const float *x, intptr_t count, float *y);

#ifdef __cplusplus
}
#endif

#endif
