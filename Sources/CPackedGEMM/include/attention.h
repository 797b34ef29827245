// Self-attention over tiles of keys (the online softmax), on the packed GEMM's micro-kernels and
// the softmax kernels' inlined SLEEF exp, for one head's rows at a time: memory grows with the
// tokens, never with their square. A head's keys (rotated by RoPE) and values are packed once,
// tile by tile (dp_attention_pack); then each tile of queries runs against them
// (dp_attention_queries), on any thread: a query row's result depends only on the tiles, not on
// which rows share its tile or which thread runs it.
//
// With a single tile of keys (tokens <= the key tile) the arithmetic is that of ATen's
// composition: unscaled scores, each times `scale`, softmax (dp_softmax_rows), then the
// normalised probabilities times the values. With several, each tile's exps are taken against
// the running max and the outputs divided by the sum at the end (dp_softmax_online_rows).
#ifndef DINOPROBE_ATTENTION_H
#define DINOPROBE_ATTENTION_H

#include <stdint.h>
#include "seg_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/// The key tile `kernel` runs: the tokens split evenly into as many tiles as `key_tile` rounded
/// up to whole panels (dp_gemm_panel_width) needs, rounded up to whole panels in turn (so one
/// tile where tokens <= key_tile); 0 where no packed kernel runs.
intptr_t dp_attention_key_tile(dp_seg_kernel kernel, intptr_t tokens, intptr_t key_tile);

/// Floats of one head's packed keys and values (dp_attention_pack) for `tokens` tokens of
/// head_dim values; -1 on overflow, a non-positive argument or no packed kernel.
intptr_t dp_attention_packed_count(dp_seg_kernel kernel, intptr_t tokens, intptr_t head_dim, intptr_t key_tile);

/// Floats of scratch one concurrent caller of dp_attention_pack and dp_attention_queries needs
/// for tiles of up to `query_tile` queries; -1 on overflow or a non-positive argument.
intptr_t dp_attention_scratch_count(dp_seg_kernel kernel, intptr_t tokens, intptr_t head_dim, intptr_t query_tile,
                                    intptr_t key_tile);

/// Packs one head's keys and values: key row r at k + r * stride (head_dim floats), rotated as
/// dp_rope_rows does (rows before `prefix` unrotated, cos and sin [tokens - prefix, head_dim]),
/// and value row r at v + r * stride, into `packed` (dp_attention_packed_count floats).
void dp_attention_pack(dp_seg_kernel kernel, const float *k, const float *v, intptr_t stride, intptr_t tokens,
                       intptr_t head_dim, intptr_t prefix, const float *cos, const float *sin, intptr_t key_tile,
                       float *packed, float *scratch);

/// Attention of queries [first, first + count) of one head (query row r at q + r * stride,
/// rotated as the keys are) over the head's packed keys and values: out + (r - first) * ldo gets
/// head_dim floats, softmax(q k^T * scale) v. `count` is at most the query tile the scratch was
/// counted for, and packed, key_tile and the kernel are those dp_attention_pack had.
void dp_attention_queries(dp_seg_kernel kernel, const float *q, intptr_t stride, intptr_t first, intptr_t count,
                          intptr_t tokens, intptr_t head_dim, intptr_t prefix, const float *cos, const float *sin,
                          const float *packed, intptr_t key_tile, float scale, float *out, intptr_t ldo, float *scratch);

#ifdef __cplusplus
}
#endif

#endif
