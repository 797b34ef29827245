// What the every-float checks (check_sleef_exp.c, check_online_exp2.c) share: their STRIDE
// argument and the vector kernels they run.
#ifndef DINOPROBE_CHECK_FLOATS_H
#define DINOPROBE_CHECK_FLOATS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "seg_kernels.h"

static const dp_seg_kernel check_kernels[] = {DP_SEG_KERNEL_AVX2, DP_SEG_KERNEL_AVX512};
static const char *const check_kernel_names[] = {"avx2", "avx512"};

/// The count of bit patterns to check, every `*stride`-th of the 2^32 (the argument; 1 without
/// one), or 0 after saying why the argument is refused.
static uint64_t check_total(int argc, char **argv, uint64_t *stride) {
    *stride = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
    if (*stride < 1 || *stride > (1u << 20)) {
        printf("the stride must be in 1...%u\n", 1u << 20);
        return 0;
    }
    return ((1ull << 32) + *stride - 1) / *stride;
}

#endif
