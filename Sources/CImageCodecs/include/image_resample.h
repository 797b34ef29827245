// Streaming antialiased resize of 8-bit RGB images to float planes, bit-exact with PyTorch's CPU
// kernels for
//     x = img.float() * (1/255)                       (float32, NCHW)
//     F.interpolate(x, size=(out_h, out_w), mode="bilinear" | "bicubic",
//                   align_corners=False, antialias=True)[..., crop]
// (at::_upsample_bilinear2d_aa / at::_upsample_bicubic2d_aa). Rows are pushed one at a time in
// any order; the width pass runs per pushed row, the height pass in ic_resampler_finish. Memory is
// O(rows needed * crop_w) floats plus the weight tables; see ic_resampler_memory.
//
// PyTorch's result depends on how its kernel was compiled (all verified against libtorch 1.13
// and torch 2.x on x86-64):
//  - Default: the AVX2 / AVX-512 kernels that x86-64 builds pick on any CPU from the last decade.
//    There GCC evaluates each weighted sum 4 terms at a time in order (separately rounded
//    products and adds) and finishes the last (taps - 1) % 4 terms with fused multiply-adds, and
//    contracts the bicubic filter polynomial into FMAs.
//  - IC_RESAMPLE_NO_FMA: kernels built without FMA (ATEN_CPU_CAPABILITY=default, pre-AVX2 CPUs):
//    plain float arithmetic throughout.
//  - IC_RESAMPLE_TORCH1: bicubic weights as PyTorch <= 1.13 computes them (|x| < 1 in double,
//    1 <= |x| < 2 in float, Pillow's form); the default is PyTorch >= 2.0 (float
//    cubic_convolution1/2, taps clamped to 2 * ceil(support) + 1). Bilinear is the same in both.
// Not reproduced: other compilers' choices (e.g. clang or non-x86 builds of PyTorch may contract
// or vectorise differently; expect a few float ulps there), and a torch 2.x bug (seen in 2.15):
// an output width of 1 with more than one output row gives every row the first row's weights;
// here, as in libtorch 1.13, each row gets its own.
#ifndef DINOPROBE_IMAGE_RESAMPLE_H
#define DINOPROBE_IMAGE_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// `filter` argument: one filter, optionally or'ed with flags.
enum {
    IC_RESAMPLE_BILINEAR = 0,
    IC_RESAMPLE_BICUBIC = 1,
    /// Bicubic weights as PyTorch <= 1.13 computes them (default: PyTorch >= 2.0).
    IC_RESAMPLE_TORCH1 = 0x100,
    /// Arithmetic of kernels built without FMA (default: x86-64 AVX2/AVX-512 kernels).
    IC_RESAMPLE_NO_FMA = 0x200,
};

typedef struct ic_resampler ic_resampler;

/// An in_w x in_h RGB image resized to out_w x out_h, of which only the crop
/// [crop_x, crop_x + crop_w) x [crop_y, crop_y + crop_h) is produced (the whole image is
/// crop 0, 0, out_w, out_h). All sizes >= 1 and the crop inside the output. Returns NULL on
/// invalid arguments, size overflow or allocation failure.
ic_resampler *ic_resampler_create(int in_w, int in_h, int out_w, int out_h,
                                  int crop_x, int crop_y, int crop_w, int crop_h, int filter);

/// Bytes that ic_resampler_create allocates for the same arguments (exact, computed without
/// allocating; O(crop_w + crop_h) time), or -1 for invalid arguments or overflow:
///     ~1.4 KB + 16 (crop_w + crop_h) + 4 (taps_w + taps_h) + 96 span_w + rows (12 crop_w + 1)
/// rows, span_w: input rows and columns the crop reads (<= in_h, in_w); taps_w, taps_h: the
/// summed filter lengths of the crop's columns and rows, about crop * (2 * support + 1) with
/// support = (1 bilinear, 2 bicubic) * max(1, in / out) per dimension, and at most crop * in.
/// The dominant term is the row store, rows * crop_w * 3 floats.
int64_t ic_resampler_memory(int in_w, int in_h, int out_w, int out_h,
                            int crop_x, int crop_y, int crop_w, int crop_h, int filter);

/// Input rows [*first, *last) are the ones the crop reads (rows outside may be skipped:
/// pushing them is allowed and does nothing).
void ic_resampler_needed_rows(const ic_resampler *r, int *first, int *last);

/// Feeds input row y (0 <= y < in_h, any order): in_w RGB triples, 3 bytes per pixel.
/// mirror != 0 reads the row right to left (a horizontal flip of the input). A row pushed twice
/// replaces the earlier one. Returns 0, or -1 for a bad argument.
int ic_resampler_push_row(ic_resampler *r, int y, const uint8_t *rgb, int mirror);

/// Feeds input row y from a strided source: pixel x of the row is the 3 bytes at
/// rgb + x * pixel_stride (pixel_stride may be negative or larger than 3, e.g. a column of a
/// decoded image for EXIF transposes). Returns 0, or -1 for a bad argument.
int ic_resampler_push_strided_row(ic_resampler *r, int y, const uint8_t *rgb,
                                  ptrdiff_t pixel_stride);

/// After all needed rows: writes 3 * crop_h * crop_w floats, planar R, G, B (channel-major,
/// row-major within a plane). Returns 0, or -1 if a needed row is missing (push it and call
/// again). May be called again; rows pushed since replace the earlier ones.
int ic_resampler_finish(ic_resampler *r, float *out);

void ic_resampler_free(ic_resampler *r);

#ifdef __cplusplus
}
#endif

#endif
