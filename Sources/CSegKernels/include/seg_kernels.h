// Vectorised softmax (rows in place, for the backbone's attention) and softmax cross-entropy for the segmentation head: one row of K logits, and one
// image's bilinear upsampling (PyTorch F.interpolate, align_corners=False) of [H, W, K] logits
// fused with the per-pixel softmax cross-entropy and the adjoint of the upsampling, so the
// upsampled logits of a row never leave the cache. exp is SLEEF's 1.0-ULP vector exp
// (Sleef_expf16_u10avx512f / Sleef_expf8_u10avx2, the AVX-512 and AVX2 entry points of
// Sleef_expf16_u10 / Sleef_expf8_u10), inlined instruction for instruction so that it gives the
// library's bits (dp_exp_sleef calls the library, for comparison), the kernel chosen at run time
// from the CPU's features; the scalar fallback uses libm's expf.
//
// Precision, as PyTorch's float kernels: the upsampled logits, exps, each pixel's softmax sum
// (lane-wise partial sums, then a tree) and gradient, and the gradient accumulations through the
// upsampling's adjoint are Float; each pixel's loss log(sum) + max - x[label] is formed and
// summed in Double (dp_seg_image_xent takes one log of the product of up to 16 pixels' sums,
// each in [1, classes]).
#ifndef DINOPROBE_SEG_KERNELS_H
#define DINOPROBE_SEG_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Which implementation runs; an unavailable one falls back to DP_SEG_KERNEL_AUTO.
typedef enum {
    DP_SEG_KERNEL_AUTO = 0,    ///< the widest this CPU supports (and DINOPROBE_KERNELS allows)
    DP_SEG_KERNEL_SCALAR = 1,  ///< plain C, libm expf
    DP_SEG_KERNEL_AVX2 = 2,    ///< 8 lanes, Sleef_expf8_u10avx2's exp (needs AVX2 and FMA)
    DP_SEG_KERNEL_AVX512 = 3   ///< 16 lanes, Sleef_expf16_u10avx512f's exp (needs AVX-512F)
} dp_seg_kernel;

/// 1 when `kernel` can run on this CPU and build (AUTO and SCALAR always can).
int dp_seg_kernel_available(dp_seg_kernel kernel);

/// What `kernel` runs as here: itself when available, else the widest available, but for AUTO
/// no wider than the environment's DINOPROBE_KERNELS (scalar, avx2, avx512) allows.
dp_seg_kernel dp_seg_kernel_resolve(dp_seg_kernel kernel);

/// One row: returns -log softmax(x)[label] (computed around the row maximum) and writes
/// scale * (softmax(x) - onehot(label)) into gradient[0..<classes]. Needs classes > 0 and
/// 0 <= label < classes.
double dp_softmax_xent_row(dp_seg_kernel kernel, const float *x, intptr_t classes, intptr_t label,
                           float scale, float *gradient);

/// Softmax of each of `rows` rows of `columns` floats (row r at x + r * stride) times `scale`, in
/// place: each value times `scale` (rounded, as ATen's mul_; skipped when scale is 1), then
/// exp(x - max) / sum, the sum over lanes then a tree, as PyTorch's float softmax. Needs
/// columns > 0. (The backbone's attention kernel runs it on each head's unscaled scores.)
void dp_softmax_rows(dp_seg_kernel kernel, float *x, intptr_t rows, intptr_t columns, intptr_t stride, float scale);

/// log2 e: scores times it take the online softmax (dp_softmax_online_rows) in base 2.
#define DP_LOG2E 1.44269504088896340736

/// One tile of keys of the online softmax (attention over tiles of keys), in base 2: each of
/// `rows` rows of `columns` scores (row r at x + r * stride) is multiplied by `scale` (rounded, as
/// dp_softmax_rows; skipped when scale is 1), the row's running max maxima[r] raised to the
/// tile's max where that is larger, and then the running sum sums[r] and the row's `width` partial
/// outputs (out + r * ldo) multiplied by 2^(old max - new max); the scores become 2^(x - max) in
/// place and their sum (over lanes, then a tree) is added to sums[r]. A softmax in base e takes
/// scores times log2 e (in `scale`, or already in the scores). The exp is within 0.95 ulp of 2^x
/// on [-125, 0], 0 below -126.5, and the same bits with every kernel. Start from maxima -inf, sums
/// 0, outputs 0; the caller adds the tile's exps times its values to the outputs;
/// dp_softmax_online_finish ends. tile_maxima (NULL: read from the rows) holds each row's largest
/// unscaled score.
void dp_softmax_online_rows(dp_seg_kernel kernel, float *x, intptr_t rows, intptr_t columns, intptr_t stride, float scale,
                            const float *tile_maxima, float *maxima, float *sums, float *out, intptr_t width, intptr_t ldo);

/// The online softmax's last step: each row's `width` outputs (out + r * ldo) times 1 / sums[r].
void dp_softmax_online_finish(dp_seg_kernel kernel, const float *sums, intptr_t rows, float *out, intptr_t width, intptr_t ldo);

/// y = exp(x) over `count` floats (a multiple of 16) through the softmax kernels' own exp loop:
/// SLEEF's exp, inlined, for AVX2 and AVX-512; libm's expf for scalar.
void dp_exp(dp_seg_kernel kernel, const float *x, intptr_t count, float *y);

/// The same through the SLEEF library's own entry point for `kernel` (Sleef_expf8_u10avx2 or
/// Sleef_expf16_u10avx512f), the reference dp_exp must equal bit for bit; returns 0 (and
/// writes nothing) where `kernel` runs as scalar.
int dp_exp_sleef(dp_seg_kernel kernel, const float *x, intptr_t count, float *y);

/// One attention head's rows of q or k, copied out packed and rotated by RoPE: row r of `count`
/// (width floats at src + r * stride) goes to out + r * width; rows from `prefix` on (the patch
/// tokens) become x * cos + rotate_half(x) * sin with the tables' row r - prefix (width floats
/// each), rows before it (CLS and registers) are copied. Each output is two products, each
/// rounded, then their sum (never a fused multiply-add), as `transformers`' composition of
/// ATen ops computes it; every kernel gives the same bits. Needs an even width.
void dp_rope_rows(dp_seg_kernel kernel, const float *src, intptr_t stride, intptr_t count, intptr_t width, intptr_t prefix,
                  const float *cos, const float *sin, float *out);

/// The taps of a bilinear resize along one axis: output index o reads input indices lower[o]
/// and upper[o] with weights lowerWeight[o] and upperWeight[o].
typedef struct {
    const intptr_t *lower;
    const intptr_t *upper;
    const float *lowerWeight;
    const float *upperWeight;
} dp_axis_taps;

/// Floats of scratch dp_seg_image_xent needs.
intptr_t dp_seg_scratch_count(intptr_t input_width, intptr_t classes);

/// One image: upsamples logits [input_height, input_width, classes] to [output_height,
/// output_width] with `rows` / `columns` taps, scores each pixel whose label is not `ignore`
/// (labels [output_height, output_width], each < classes or `ignore`), adds
/// d(scale * summed loss)/d logits into logit_gradient (same layout as logits) and returns the
/// summed loss. Taps must index inside the input; scratch holds dp_seg_scratch_count floats.
double dp_seg_image_xent(dp_seg_kernel kernel, const float *logits, intptr_t input_height,
                         intptr_t input_width, intptr_t classes, const uint8_t *labels,
                         intptr_t output_height, intptr_t output_width, uint8_t ignore,
                         dp_axis_taps rows, dp_axis_taps columns, float scale,
                         float *logit_gradient, float *scratch);

#ifdef __cplusplus
}
#endif

#endif
