// Instantiates depth_kernels_body.h for scalar code, AVX2 + FMA and AVX-512F; the kernel runs as
// dp_seg_kernel_resolve picks (the CPU's features, DINOPROBE_KERNELS).
#include "depth_kernels.h"

#include <math.h>
#include <stdlib.h>

/// Pads a row of output_width floats to whole vectors of the widest kernel (16).
static inline intptr_t depth_padded(intptr_t width) { return (width + 15) / 16 * 16; }

intptr_t dp_depth_scratch_count(intptr_t input_height, intptr_t output_width) {
    return input_height * output_width + input_height * depth_padded(output_width);
}

typedef float vf1 __attribute__((vector_size(4)));
typedef int32_t vi1 __attribute__((vector_size(4)));
#define VEC vf1
#define VECI vi1
#define W 1
#define ATTR
#define NAME(x) depth_##x##_scalar
#include "depth_kernels_body.h"

#if defined(__x86_64__) && defined(__linux__) && defined(DINOPROBE_HAVE_SLEEF)
#define DEPTH_SIMD 1
typedef float vf8 __attribute__((vector_size(32)));
typedef int32_t vi8 __attribute__((vector_size(32)));
#define VEC vf8
#define VECI vi8
#define W 8
#define ATTR __attribute__((target("avx2,fma")))
#define NAME(x) depth_##x##_avx2
#include "depth_kernels_body.h"

typedef float vf16 __attribute__((vector_size(64)));
typedef int32_t vi16 __attribute__((vector_size(64)));
#define VEC vf16
#define VECI vi16
#define W 16
#define ATTR __attribute__((target("avx512f")))
#define NAME(x) depth_##x##_avx512
#include "depth_kernels_body.h"
#endif

/// Calls depth_<name>_<isa>(args) for the ISA `kernel` resolves to.
#ifdef DEPTH_SIMD
#define DISPATCH(kernel, name, ...)                                                            \
    switch (dp_seg_kernel_resolve(kernel)) {                                                   \
    case DP_SEG_KERNEL_AVX512: depth_##name##_avx512(__VA_ARGS__); break;                      \
    case DP_SEG_KERNEL_AVX2: depth_##name##_avx2(__VA_ARGS__); break;                          \
    default: depth_##name##_scalar(__VA_ARGS__); break;                                        \
    }
#else
#define DISPATCH(kernel, name, ...) depth_##name##_scalar(__VA_ARGS__);
#endif

/// Row buffer for the bin kernels: bins floats, on the stack up to 1024 bins.
#define WITH_ROW_BUFFER(bins, body)                                                            \
    do {                                                                                       \
        float stack_buffer[1024];                                                              \
        float *w = bins <= 1024 ? stack_buffer : malloc((size_t)bins * sizeof(float));         \
        if (!w) return;                                                                        \
        body;                                                                                  \
        if (w != stack_buffer) free(w);                                                        \
    } while (0)

void dp_depth_bins_forward(dp_seg_kernel kernel, const float *z, const float *bias, intptr_t rows, intptr_t bins,
                           const float *centres, dp_depth_norm norm, float *depth) {
    WITH_ROW_BUFFER(bins, DISPATCH(kernel, bins_forward, z, bias, rows, bins, centres, norm, depth, w));
}

void dp_depth_bins_backward(dp_seg_kernel kernel, float *z, const float *bias, intptr_t rows, intptr_t bins,
                            const float *centres, dp_depth_norm norm, const float *depth, const float *depth_gradient) {
    WITH_ROW_BUFFER(bins, DISPATCH(kernel, bins_backward, z, bias, rows, bins, centres, norm, depth, depth_gradient, w));
}

void dp_depth_log_ratio(dp_seg_kernel kernel, const float *depth, intptr_t input_height, intptr_t input_width,
                        const float *target, intptr_t output_height, intptr_t output_width,
                        dp_axis_taps rows, dp_axis_taps columns, float eps, float *g, double *stats, float *scratch) {
    DISPATCH(kernel, log_ratio, depth, input_height, input_width, target, output_height, output_width, rows, columns, eps, g,
             stats, scratch);
}

void dp_depth_log_ratio_backward(dp_seg_kernel kernel, const float *depth, intptr_t input_height, intptr_t input_width,
                                 const float *target, const float *g, intptr_t output_height, intptr_t output_width,
                                 dp_axis_taps rows, dp_axis_taps columns, float eps, float centre, float slope,
                                 float offset, float *depth_gradient, double *squares, float *scratch) {
    DISPATCH(kernel, log_ratio_backward, depth, input_height, input_width, target, g, output_height, output_width, rows,
             columns, eps, centre, slope, offset, depth_gradient, squares, scratch);
}

void dp_depth_log(dp_seg_kernel kernel, const float *x, intptr_t count, float *y) {
    DISPATCH(kernel, log_values, x, count, y);
}
