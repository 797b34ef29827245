// One instantiation of the packed GEMM per instruction set; packed_gemm.c defines VEC, LANES,
// MR, NV, ATTR, the vector ops, NAME and PREFETCH_NEXT_PANEL before including this.
#define NR (LANES * NV)

/// The micro-tile's steps: acc[i] += row[i][kk] * the kk-th NR floats of packed b, kk < kc.
static inline ATTR __attribute__((always_inline)) void NAME(accumulate)(intptr_t kc, const float *const *row,
                                                                       const float *restrict b, VEC acc[MR][NV]) {
    for (intptr_t kk = 0; kk < kc; kk++) {
        VEC w[NV];
        // Unrolled in full so the MR x NV accumulators stay in registers (clang keeps a 12 x 2 tile
        // in memory otherwise, at half the speed).
#pragma unroll
        for (int v = 0; v < NV; v++) w[v] = VLOAD(b + LANES * v);
#pragma unroll
        for (int i = 0; i < MR; i++) {
            VEC x = VSET1(row[i][kk]);
#pragma unroll
            for (int v = 0; v < NV; v++) acc[i][v] = VFMA(x, w[v], acc[i][v]);
        }
        b += NR;
    }
}

/// The micro-tile: rows x NR outputs of c (rows <= MR), over kc steps of the rows of a (read in
/// place, row i at a + i * lda; a short tile re-reads its last row in place of the missing ones)
/// and of packed w (NR floats a step). Starts from `init` (one bias row) or, when it is NULL,
/// from what c holds. On the last pass of a dp_gemm_epilogue: with `gelu`, GELU of the sum
/// (VGELU); with `residual`, residual + scale * that (one fused multiply-add, as NAME(add_scaled));
/// with `stream`, stored non-temporally (c's rows aligned to the vector width).
static ATTR void NAME(tile)(intptr_t kc, const float *a, intptr_t lda, const float *restrict b, float *restrict c,
                            intptr_t ldc, intptr_t rows, const float *init, int gelu, const float *residual, intptr_t ldr,
                            const float *scale, int stream) {
    const float *row[MR];
    for (int i = 0; i < MR; i++) row[i] = a + (i < rows ? i : rows - 1) * lda;
    VEC acc[MR][NV];
    if (init) {
        for (int v = 0; v < NV; v++) {
            VEC start = VLOAD(init + LANES * v);
            for (int i = 0; i < MR; i++) acc[i][v] = start;
        }
    } else {
        for (int i = 0; i < MR; i++)
            for (int v = 0; v < NV; v++) acc[i][v] = i < rows ? VLOAD(c + i * ldc + LANES * v) : VZERO();
    }
    NAME(accumulate)(kc, row, b, acc);
    if (gelu)
        for (int i = 0; i < MR; i++)
            for (int v = 0; v < NV; v++) acc[i][v] = VGELU(acc[i][v]);
    if (residual) {
        VEC factor[NV];
        for (int v = 0; v < NV; v++) factor[v] = VLOAD(scale + LANES * v);
        for (int i = 0; i < MR; i++)
            if (i < rows)
                for (int v = 0; v < NV; v++) acc[i][v] = VFMA(factor[v], acc[i][v], VLOAD(residual + i * ldr + LANES * v));
    }
    if (stream) {
        for (int i = 0; i < MR; i++)
            if (i < rows)
                for (int v = 0; v < NV; v++) VSTREAM(c + i * ldc + LANES * v, acc[i][v]);
        return;
    }
    for (int i = 0; i < MR; i++)
        if (i < rows)
            for (int v = 0; v < NV; v++) VSTORE(c + i * ldc + LANES * v, acc[i][v]);
}

/// Attention's scores (dp_gemm_scores for this ISA): per tile of MR rows (in L1 throughout), all
/// the key panels streamed through the micro-tile (at 16,389 tokens 10% faster than NAME(gemm)'s
/// panel-outer order); every finished tile stored and folded, in registers, into its rows'
/// lane-wise maxima (a last partial panel's real columns one by one).
static ATTR void NAME(scores)(const float *a, intptr_t m, intptr_t k, intptr_t lda, const float *packed, intptr_t panels,
                              intptr_t columns, float *c, intptr_t ldc, float *maxima) {
    for (intptr_t i0 = 0; i0 < m; i0 += MR) {
        const intptr_t rows = m - i0 < MR ? m - i0 : MR;
        const float *row[MR];
        for (int i = 0; i < MR; i++) row[i] = a + (i0 + (i < rows ? i : rows - 1)) * lda;
        VEC high[MR];
        for (int i = 0; i < MR; i++) high[i] = VSET1(-INFINITY);
        for (intptr_t p = 0; p < panels; p++) {
            float *out = c + i0 * ldc + p * NR;
            VEC acc[MR][NV];
            for (int i = 0; i < MR; i++)
                for (int v = 0; v < NV; v++) acc[i][v] = VZERO();
            NAME(accumulate)(k, row, packed + p * k * NR, acc);
            for (int i = 0; i < MR; i++)
                if (i < rows)
                    for (int v = 0; v < NV; v++) VSTORE(out + i * ldc + LANES * v, acc[i][v]);
            if ((p + 1) * NR <= columns) {
                for (int i = 0; i < MR; i++)
                    for (int v = 0; v < NV; v++) high[i] = VMAXV(high[i], acc[i][v]);
                continue;
            }
            for (intptr_t i = 0; i < rows; i++) {
                float *lanes = (float *)&high[i];
                for (intptr_t j = 0; j < columns - p * NR; j++) lanes[0] = lanes[0] > out[i * ldc + j] ? lanes[0] : out[i * ldc + j];
            }
        }
        for (intptr_t i = 0; i < rows; i++) maxima[i0 + i] = VHMAX(high[i]);
    }
}

/// The epilogue's residual connection on rows x width finished outputs at c (see dp_gemm_epilogue):
/// c = residual + scale * c in one fused multiply-add.
static ATTR void NAME(add_scaled)(float *c, intptr_t ldc, const float *residual, intptr_t ldr, const float *scale,
                                  intptr_t rows, intptr_t width) {
    for (intptr_t i = 0; i < rows; i++) {
        float *out = c + i * ldc;
        const float *in = residual + i * ldr;
        intptr_t j = 0;
        for (; j + LANES <= width; j += LANES) VSTORE(out + j, VFMA(VLOAD(scale + j), VLOAD(out + j), VLOAD(in + j)));
        for (; j < width; j++) out[j] = __builtin_fmaf(scale[j], out[j], in[j]);
    }
}

/// GELU (VGELU, then gelu_erf_scalar past the last whole vector) in place on rows x width
/// floats at x, rows ldx apart.
static ATTR void NAME(gelu_rows)(float *x, intptr_t rows, intptr_t width, intptr_t ldx) {
    for (intptr_t i = 0; i < rows; i++) {
        float *row = x + i * ldx;
        intptr_t j = 0;
        for (; j + LANES <= width; j += LANES) VSTORE(row + j, VGELU(VLOAD(row + j)));
        for (; j < width; j++) row[j] = gelu_erf_scalar(row[j]);
    }
}

static ATTR void NAME(gemm)(const float *a, intptr_t m, intptr_t k, intptr_t lda, const float *packed, intptr_t n,
                            const float *bias, float *c, intptr_t ldc, intptr_t panel_begin, intptr_t panel_end,
                            float *scratch, const dp_gemm_epilogue *epilogue) {
    float *edge = scratch;          // [MR, NR]: an edge panel's outputs
    float *start = edge + MR * NR;  // [NR]: the panel's bias, zero-padded
    const int streaming = epilogue && epilogue->stream && (uintptr_t)c % (LANES * sizeof(float)) == 0 && ldc % LANES == 0;
    for (intptr_t m0 = 0; m0 < m; m0 += GEMM_MC) {
        const intptr_t mc = m - m0 < GEMM_MC ? m - m0 : GEMM_MC;
        for (intptr_t k0 = 0; k0 < k; k0 += GEMM_KC) {
            const intptr_t kc = k - k0 < GEMM_KC ? k - k0 : GEMM_KC;
            for (intptr_t p = panel_begin; p < panel_end; p++) {
                const float *b = packed + (p * k + k0) * NR;
                const intptr_t j0 = p * NR, width = n - j0 < NR ? n - j0 : NR;
                const float *init = NULL;
                if (k0 == 0 && !(epilogue && epilogue->accumulate)) {
                    for (intptr_t j = 0; j < NR; j++) start[j] = j < width && bias ? bias[j0 + j] : 0;
                    init = start;
                }
                // With PREFETCH_NEXT_PANEL: the next panel's weights, a slice of their cache lines
                // per row tile, into the cache while this panel runs.
                const char *next = PREFETCH_NEXT_PANEL && p + 1 < panel_end ? (const char *)(packed + ((p + 1) * k + k0) * NR) : NULL;
                const intptr_t next_lines = kc * NR * (intptr_t)sizeof(float) / 64, tiles = (mc + MR - 1) / MR;
                const intptr_t lines_per_tile = (next_lines + tiles - 1) / tiles;
                for (intptr_t i0 = 0; i0 < mc; i0 += MR) {
                    const intptr_t rows = mc - i0 < MR ? mc - i0 : MR;
                    if (next)
                        for (intptr_t l = i0 / MR * lines_per_tile, end = l + lines_per_tile; l < end && l < next_lines; l++)
                            __builtin_prefetch(next + l * 64, 0, 2);
                    const float *in = a + (m0 + i0) * lda + k0;
                    float *out = c + (m0 + i0) * ldc + j0;
                    const int last = epilogue && k0 + kc == k;
                    const float *residual = last && epilogue->residual ? epilogue->residual + (m0 + i0) * epilogue->ldr + j0 : NULL;
                    const int gelu = last && epilogue->activation == DP_GEMM_GELU_ERF;
                    const int stream = streaming && last;
                    if (width == NR) {
                        NAME(tile)(kc, in, lda, b, out, ldc, rows, init, gelu, residual, residual ? epilogue->ldr : 0,
                                   residual ? epilogue->scale + j0 : NULL, stream);
                    } else {
                        for (intptr_t i = 0; i < MR; i++)
                            for (intptr_t j = 0; j < NR; j++) edge[i * NR + j] = i < rows && j < width && !init ? out[i * ldc + j] : 0;
                        NAME(tile)(kc, in, lda, b, edge, NR, rows, init, gelu, NULL, 0, NULL, 0);
                        for (intptr_t i = 0; i < rows; i++)
                            for (intptr_t j = 0; j < width; j++) out[i * ldc + j] = edge[i * NR + j];
                        if (residual) NAME(add_scaled)(out, ldc, residual, epilogue->ldr, epilogue->scale + j0, rows, width);
                    }
                }
            }
        }
    }
    if (streaming) _mm_sfence();  // the non-temporal stores reach memory before the callers' next step
}

#undef NR
#undef VEC
#undef LANES
#undef MR
#undef NV
#undef ATTR
#undef VLOAD
#undef VSTORE
#undef VSTREAM
#undef VSET1
#undef VFMA
#undef VZERO
#undef VMAXV
#undef VHMAX
#undef VGELU
#undef NAME
#undef PREFETCH_NEXT_PANEL
