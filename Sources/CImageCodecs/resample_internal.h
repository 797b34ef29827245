// What image_resample.c and resample_weights.c share: one dimension's plan and taps, and the
// functions that compute them (PyTorch's antialiased weights; see image_resample.c).
#pragma once
#include <stdint.h>

// One output position along a dimension: taps [start, start + size) of the input (start relative
// to the first input the crop reads), weights at `off` in the weight table.
typedef struct {
    int64_t off;
    int32_t start;
    int32_t size;
} ic_taps;

// Sizes of one dimension's plan (no allocation).
typedef struct {
    int64_t n, m;          // input and output size
    int64_t first, count;  // outputs produced: [first, first + count)
    int interp;            // 2 bilinear, 4 bicubic
    int clamp;             // clamp taps to max_taps (PyTorch >= 2.0)
    float scale, support, invscale;
    int64_t max_taps;
    int64_t in_lo, in_hi;  // inputs read by the produced outputs
    int64_t taps_total;    // sum of the tap counts
} dim_plan;

int ic_mul64(int64_t a, int64_t b, int64_t *out);
int ic_add64(int64_t a, int64_t b, int64_t *out);
int ic_dim_plan_init(dim_plan *d, int64_t n, int64_t m, int64_t first, int64_t count, int interp, int clamp);
void ic_dim_weights(const dim_plan *d, int torch1, int fma_build, ic_taps *taps, float *w);

