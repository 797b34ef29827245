// Every float through dp_exp (SLEEF's exp inlined) and dp_exp_sleef (the SLEEF library), for
// each vector kernel this CPU runs: prints the count of inputs whose bits differ (a NaN equals
// any NaN) and exits 1 if any do. Built and run by scripts/check-sleef-exp.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seg_kernels.h"

enum { CHUNK = 1 << 20 };

static int same(float a, float b) {
    uint32_t x, y;
    memcpy(&x, &a, 4);
    memcpy(&y, &b, 4);
    return x == y || (a != a && b != b);
}

int main(void) {
    static float x[CHUNK], inlined[CHUNK], library[CHUNK];
    const dp_seg_kernel kernels[] = {DP_SEG_KERNEL_AVX2, DP_SEG_KERNEL_AVX512};
    const char *names[] = {"avx2", "avx512"};
    int failed = 0;
    for (int k = 0; k < 2; k++) {
        if (!dp_seg_kernel_available(kernels[k])) {
            printf("%s: not available on this CPU, skipped\n", names[k]);
            continue;
        }
        uint64_t differ = 0, first = 0;
        for (uint64_t start = 0; start < (1ull << 32); start += CHUNK) {
            for (uint32_t i = 0; i < CHUNK; i++) {
                const uint32_t bits = (uint32_t)(start + i);
                memcpy(&x[i], &bits, 4);
            }
            dp_exp(kernels[k], x, CHUNK, inlined);
            if (!dp_exp_sleef(kernels[k], x, CHUNK, library)) {
                printf("%s: the SLEEF library is not linked\n", names[k]);
                return 1;
            }
            for (uint32_t i = 0; i < CHUNK; i++) {
                if (!same(inlined[i], library[i])) {
                    if (differ++ == 0) first = start + i;
                }
            }
        }
        printf("%s: 4294967296 inputs, %llu differ", names[k], (unsigned long long)differ);
        if (differ) printf(" (first: bits 0x%08llx)", (unsigned long long)first);
        printf("\n");
        failed |= differ != 0;
    }
    return failed;
}
