// Loops over SLEEF's vector exp. SLEEF takes and returns vectors in registers (zmm0 / ymm0), but
// clang lowers a by-value __m512 / __m256 argument to memory unless the whole file is built for
// AVX-512 / AVX, which would need per-file compiler flags; so the calls are made here, and C
// calls these loops with pointers only:
//     void dp_sleef_expf16(const float *x, float *y, intptr_t rows, intptr_t stride,
//                          const float *shifts);  // stride a multiple of 16
//     void dp_sleef_expf8(...);                  // the same; stride a multiple of 8
// set y[r * stride + c] = exp(x[r * stride + c] - shifts[r]) for r < rows, c < stride (x == y
// allowed) with Sleef_expf16_u10avx512f / Sleef_expf8_u10avx2. Callers check the CPU first.
#if defined(__x86_64__) && defined(__linux__) && defined(DINOPROBE_HAVE_SLEEF)

// name, SLEEF function, argument register, a scratch register, bytes per vector
.macro EXP_LOOP name, callee, reg, tmp, bytes
    .text
    .globl \name
    .hidden \name
    .type \name, @function
    .p2align 4
\name:
    .cfi_startproc
    push %rbx
    .cfi_adjust_cfa_offset 8
    .cfi_offset %rbx, -16
    push %r12
    .cfi_adjust_cfa_offset 8
    .cfi_offset %r12, -24
    push %r13
    .cfi_adjust_cfa_offset 8
    .cfi_offset %r13, -32
    push %r14
    .cfi_adjust_cfa_offset 8
    .cfi_offset %r14, -40
    push %r15
    .cfi_adjust_cfa_offset 8
    .cfi_offset %r15, -48
    sub $8, %rsp  // with the five pushes after the return address: 16-byte aligned for the calls
    .cfi_adjust_cfa_offset 8
    mov %rdi, %rbx  // x, advancing
    mov %rsi, %r12  // y, advancing
    imul %rcx, %rdx
    lea (%rdi,%rdx,4), %r13  // end of x
    shl $2, %rcx
    mov %rcx, %r14  // bytes per row
    mov %r8, %r15  // shifts, advancing
    cmp %r13, %rbx
    jae 3f
1:
    lea (%rbx,%r14), %rax
    mov %rax, (%rsp)  // end of this row
2:
    vbroadcastss (%r15), %\tmp
    vmovups (%rbx), %\reg
    vsubps %\tmp, %\reg, %\reg
    call \callee@PLT
    vmovups %\reg, (%r12)
    add $\bytes, %rbx
    add $\bytes, %r12
    cmp (%rsp), %rbx
    jb 2b
    add $4, %r15
    cmp %r13, %rbx
    jb 1b
3:
    vzeroupper
    add $8, %rsp
    .cfi_adjust_cfa_offset -8
    pop %r15
    .cfi_adjust_cfa_offset -8
    pop %r14
    .cfi_adjust_cfa_offset -8
    pop %r13
    .cfi_adjust_cfa_offset -8
    pop %r12
    .cfi_adjust_cfa_offset -8
    pop %rbx
    .cfi_adjust_cfa_offset -8
    ret
    .cfi_endproc
    .size \name, .-\name
.endm

EXP_LOOP dp_sleef_expf16, Sleef_expf16_u10avx512f, zmm0, zmm1, 64
EXP_LOOP dp_sleef_expf8, Sleef_expf8_u10avx2, ymm0, ymm1, 32

#endif

#if defined(__linux__) && defined(__ELF__)
    .section .note.GNU-stack,"",@progbits
#endif
