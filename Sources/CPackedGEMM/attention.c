// Attention over tiles of keys (attention.h) on dp_gemm_packed and the online softmax kernels.
#include "attention.h"
#include "packed_gemm.h"

#include <math.h>
#include <string.h>

static intptr_t round_up(intptr_t n, intptr_t to) { return (n + to - 1) / to * to; }

intptr_t dp_attention_key_tile(dp_seg_kernel kernel, intptr_t tokens, intptr_t key_tile) {
    const intptr_t nr = dp_gemm_panel_width(kernel);
    if (nr <= 0 || tokens <= 0 || key_tile <= 0) return 0;
    // As many tiles as key_tile (whole panels) makes, the tokens split evenly between them: no
    // short last tile of a few keys costing a whole pass of the online softmax.
    const intptr_t tiles = (tokens + round_up(key_tile, nr) - 1) / round_up(key_tile, nr);
    return round_up((tokens + tiles - 1) / tiles, nr);
}

/// Floats of one tile of keys in `packed`: its keys' panels [kt / nr][head_dim][nr], then its
/// values' panels [ceil(head_dim / nr)][kt][nr].
static intptr_t tile_floats(intptr_t kt, intptr_t head_dim, intptr_t nr) { return kt * (head_dim + round_up(head_dim, nr)); }

/// Floats from one row of scores to the next: the key tile and one cache line more, so that the
/// rows a micro-tile writes and reads do not all fall in the same cache sets (a key tile of 512
/// floats, 16,389 tokens' tiles, made them 2 KB apart).
static intptr_t score_stride(intptr_t kt) { return kt + 16; }

intptr_t dp_attention_packed_count(dp_seg_kernel kernel, intptr_t tokens, intptr_t head_dim, intptr_t key_tile) {
    const intptr_t nr = dp_gemm_panel_width(kernel), kt = dp_attention_key_tile(kernel, tokens, key_tile);
    if (kt <= 0 || head_dim <= 0 || tokens > INTPTR_MAX / 4 || head_dim > INTPTR_MAX / 4) return -1;
    intptr_t count;
    if (__builtin_mul_overflow(round_up(tokens, kt), head_dim + round_up(head_dim, nr), &count)) return -1;
    return count;
}

intptr_t dp_attention_scratch_count(dp_seg_kernel kernel, intptr_t tokens, intptr_t head_dim, intptr_t query_tile,
                                    intptr_t key_tile) {
    const intptr_t kt = dp_attention_key_tile(kernel, tokens, key_tile);
    if (kt <= 0 || head_dim <= 0 || query_tile <= 0 || query_tile > INT32_MAX || head_dim > INT32_MAX) return -1;
    // Queries, scores, running maxima and sums, the GEMM's scratch or a tile's maxima; or, packing,
    // a tile of keys.
    const intptr_t gemm = dp_gemm_scratch_count() > query_tile ? dp_gemm_scratch_count() : query_tile;
    const intptr_t queries = query_tile * (head_dim + score_stride(kt) + 2) + gemm, keys = kt * head_dim;
    return queries > keys ? queries : keys;
}

void dp_attention_pack(dp_seg_kernel kernel, const float *k, const float *v, intptr_t stride, intptr_t tokens,
                       intptr_t head_dim, intptr_t prefix, const float *cos, const float *sin, intptr_t key_tile,
                       float *packed, float *scratch) {
    const intptr_t nr = dp_gemm_panel_width(kernel), kt = dp_attention_key_tile(kernel, tokens, key_tile);
    if (kt <= 0) return;
    for (intptr_t first = 0; first < tokens; first += kt) {
        const intptr_t n = tokens - first < kt ? tokens - first : kt;
        float *tile = packed + first / kt * tile_floats(kt, head_dim, nr);
        // Rows before the prefix come out unrotated; the tables' row for token r is r - prefix.
        dp_rope_rows(kernel, k + first * stride, stride, n, head_dim, prefix - first, cos, sin, scratch);
        dp_gemm_pack(scratch, n, head_dim, head_dim, nr, tile);
        dp_gemm_pack_transposed(v + first * stride, n, head_dim, stride, nr, tile + kt * head_dim);
    }
}

void dp_attention_queries(dp_seg_kernel kernel, const float *q, intptr_t stride, intptr_t first, intptr_t count,
                          intptr_t tokens, intptr_t head_dim, intptr_t prefix, const float *cos, const float *sin,
                          const float *packed, intptr_t key_tile, float scale, float *out, intptr_t ldo, float *scratch) {
    const intptr_t nr = dp_gemm_panel_width(kernel), kt = dp_attention_key_tile(kernel, tokens, key_tile);
    if (kt <= 0 || count <= 0) return;
    const intptr_t value_panels = (head_dim + nr - 1) / nr, ss = score_stride(kt);
    float *queries = scratch, *scores = queries + count * head_dim, *maxima = scores + count * ss, *sums = maxima + count;
    float *gemm = sums + count, *tile_maxima = gemm;
    dp_rope_rows(kernel, q + first * stride, stride, count, head_dim, prefix - first, cos, sin, queries);
    if (kt >= tokens) {  // one tile: the probabilities normalised before the product, as ATen's
        // A scale that is a power of two at most 1 (head dims 4, 16, 64, 256) goes into the
        // queries: every product and partial sum of q k^T is then the unscaled one times it,
        // exactly (barring values under 2^-123), so the softmax multiplies nothing.
        int exponent;
        if (scale <= 1.0f && frexpf(scale, &exponent) == 0.5f) {
            for (intptr_t i = 0; i < count * head_dim; i++) queries[i] *= scale;
            scale = 1.0f;
        }
        dp_gemm_packed(kernel, queries, count, head_dim, head_dim, packed, kt, NULL, scores, ss, 0, kt / nr, gemm, NULL);
        dp_softmax_rows(kernel, scores, count, tokens, ss, scale);
        dp_gemm_packed(kernel, scores, count, tokens, ss, packed + kt * head_dim, head_dim, NULL, out, ldo, 0, value_panels,
                       gemm, NULL);
        return;
    }
    // Several tiles: the online softmax takes its exps in base 2, so the queries are multiplied by
    // scale x log2 e (rounded once each) and the scores come out ready for it.
    const float to_base2 = (float)((double)scale * DP_LOG2E);
    for (intptr_t i = 0; i < count * head_dim; i++) queries[i] *= to_base2;
    const dp_gemm_epilogue gather = {NULL, 0, NULL, DP_GEMM_NO_ACTIVATION, 0, 1};
    for (intptr_t r = 0; r < count; r++) {
        maxima[r] = -INFINITY;
        sums[r] = 0;
        memset(out + r * ldo, 0, (size_t)head_dim * sizeof(float));
    }
    for (intptr_t key = 0; key < tokens; key += kt) {
        const intptr_t n = tokens - key < kt ? tokens - key : kt, panels = (n + nr - 1) / nr;
        const float *tile = packed + key / kt * tile_floats(kt, head_dim, nr);
        // Whole panels of scores (the keys past n are packed as zeros; their scores go unread).
        dp_gemm_scores(kernel, queries, count, head_dim, head_dim, tile, panels, n, scores, ss, tile_maxima);
        dp_softmax_online_rows(kernel, scores, count, n, ss, 1.0f, tile_maxima, maxima, sums, out, head_dim, ldo);
        dp_gemm_packed(kernel, scores, count, n, ss, tile + kt * head_dim, head_dim, NULL, out, ldo, 0, value_panels, gemm,
                       &gather);
    }
    dp_softmax_online_finish(kernel, sums, count, out, head_dim, ldo);
}
