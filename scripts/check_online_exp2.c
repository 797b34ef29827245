// Every float through the online softmax's base-2 exp (dp_softmax_online_rows, a row whose max is
// 0, so each score x becomes 2^x), with the scalar kernel and each vector kernel this CPU runs:
// on [-125, 0] each result must be within 0.95 ulp of 2^x (computed in double), from -126.5 to
// -125 within 2^-149 (the results there are subnormal), below -126.5 (-inf included) exactly 0, a
// NaN a NaN, and every vector kernel must give the scalar kernel's bits. Prints the counts and exits 1 on any failure. Built and run by scripts/check-online-exp2.
// An argument STRIDE checks every STRIDE-th bit pattern instead (the smoke scripts/test runs).
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_floats.h"

enum { CHUNK = 1 << 16 };

/// 2^x for the chunk's scores through `kernel`: one row, its max given as 0.
static void exps(dp_seg_kernel kernel, const float *x, uint32_t n, float *y) {
    memcpy(y, x, n * sizeof(float));
    float tile_max = 0, maximum = 0, sum = 0, unused = 0;
    dp_softmax_online_rows(kernel, y, 1, n, n, 1.0f, &tile_max, &maximum, &sum, &unused, 0, 0);
}

/// How far y is from 2^x, in units of the last place of 2^x's binade.
static double ulps(float y, float x) {
    const double exact = exp2((double)x);
    return fabs((double)y - exact) / ldexp(1.0, ilogb(exact) - 23);
}

int main(int argc, char **argv) {
    static float x[CHUNK], scalar[CHUNK], vector[CHUNK];
    uint64_t stride;
    const uint64_t total = check_total(argc, argv, &stride);
    if (total == 0) return 2;
    uint64_t checked = 0, wrong = 0, differ[2] = {0, 0};
    double worst = 0;
    float worst_at = 0;
    for (uint64_t start = 0; start < total; start += CHUNK) {
        const uint32_t n = total - start < CHUNK ? (uint32_t)(total - start) : CHUNK;
        uint32_t m = 0;
        for (uint32_t i = 0; i < n; i++) {  // the domain: x <= 0 and NaNs
            const uint32_t bits = (uint32_t)((start + i) * stride);
            float v;
            memcpy(&v, &bits, 4);
            if (v <= 0 || v != v) x[m++] = v;
        }
        if (m == 0) continue;
        exps(DP_SEG_KERNEL_SCALAR, x, m, scalar);
        for (uint32_t i = 0; i < m; i++) {
            checked++;
            if (x[i] != x[i]) {
                wrong += scalar[i] == scalar[i];
            } else if (x[i] < -126.5f) {
                wrong += scalar[i] != 0;
            } else if (x[i] < -125.0f) {
                wrong += !(fabs((double)scalar[i] - exp2((double)x[i])) <= 0x1p-149);
            } else {
                const double e = ulps(scalar[i], x[i]);
                if (e > worst) worst = e, worst_at = x[i];
                wrong += !(e < 0.95);
            }
        }
        for (int k = 0; k < 2; k++) {
            if (!dp_seg_kernel_available(check_kernels[k])) continue;
            exps(check_kernels[k], x, m, vector);
            for (uint32_t i = 0; i < m; i++) {
                uint32_t a, b;
                memcpy(&a, &scalar[i], 4);
                memcpy(&b, &vector[i], 4);
                differ[k] += a != b && !(scalar[i] != scalar[i] && vector[i] != vector[i]);
            }
        }
    }
    printf("scalar: %llu inputs (every %llu bit pattern, x <= 0 and NaN), %llu wrong; worst %.3f ulp at %.9g\n",
           (unsigned long long)checked, (unsigned long long)stride, (unsigned long long)wrong, worst, worst_at);
    int failed = wrong != 0;
    for (int k = 0; k < 2; k++) {
        if (!dp_seg_kernel_available(check_kernels[k])) {
            printf("%s: not available on this CPU, skipped\n", check_kernel_names[k]);
            continue;
        }
        printf("%s: %llu differ from scalar\n", check_kernel_names[k], (unsigned long long)differ[k]);
        failed |= differ[k] != 0;
    }
    return failed;
}
