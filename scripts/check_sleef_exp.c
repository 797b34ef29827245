// Every float through dp_exp (SLEEF's exp inlined) and dp_exp_sleef (the SLEEF library), for
// each vector kernel this CPU runs: prints the count of inputs whose bits differ (a NaN equals
// any NaN) and exits 1 if any do. Built and run by scripts/check-sleef-exp. An argument STRIDE
// checks every STRIDE-th bit pattern instead (an odd stride reaches every exponent and varied
// low bits: the short smoke scripts/test runs).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_floats.h"

enum { CHUNK = 1 << 20 };

static int same(float a, float b) {
    uint32_t x, y;
    memcpy(&x, &a, 4);
    memcpy(&y, &b, 4);
    return x == y || (a != a && b != b);
}

int main(int argc, char **argv) {
    static float x[CHUNK], inlined[CHUNK], library[CHUNK];
    uint64_t stride;
    const uint64_t total = check_total(argc, argv, &stride);
    if (total == 0) return 2;
    int failed = 0;
    for (int k = 0; k < 2; k++) {
        if (!dp_seg_kernel_available(check_kernels[k])) {
            printf("%s: not available on this CPU, skipped\n", check_kernel_names[k]);
            continue;
        }
        uint64_t differ = 0, first = 0;
        for (uint64_t start = 0; start < total; start += CHUNK) {
            const uint32_t n = total - start < CHUNK ? (uint32_t)(total - start) : CHUNK;
            for (uint32_t i = 0; i < n; i++) {
                const uint32_t bits = (uint32_t)((start + i) * stride);
                memcpy(&x[i], &bits, 4);
            }
            dp_exp(check_kernels[k], x, n, inlined);
            if (!dp_exp_sleef(check_kernels[k], x, n, library)) {
                printf("%s: the SLEEF library is not linked\n", check_kernel_names[k]);
                return 1;
            }
            for (uint32_t i = 0; i < n; i++) {
                if (!same(inlined[i], library[i])) {
                    if (differ++ == 0) first = (start + i) * stride;
                }
            }
        }
        printf("%s: %llu inputs (every %llu), %llu differ", check_kernel_names[k], (unsigned long long)total, (unsigned long long)stride,
               (unsigned long long)differ);
        if (differ) printf(" (first: bits 0x%08llx)", (unsigned long long)first);
        printf("\n");
        failed |= differ != 0;
    }
    return failed;
}
