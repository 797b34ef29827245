// ct_self_attention's computations (attention.cpp).
#ifndef DINOPROBE_CTORCH_ATTENTION_CPU_H
#define DINOPROBE_CTORCH_ATTENTION_CPU_H

#include <ATen/ATen.h>

namespace ctorch {
/// softmax(q k^T * scale) v per head of qkv [batch, tokens, 3 * heads * head_dim], q and k rotated
/// by RoPE (cos, sin [patches, head_dim]; the tokens before the last `patches` unrotated); returns
/// [batch, tokens, heads * head_dim]. `kernel` 0: ATen ops (any device and dtype); 1: the tiled
/// kernel on the packed GEMM (attention.h) where the tensors allow; 2: the same tiles on OpenBLAS.
at::Tensor self_attention(const at::Tensor &qkv, const at::Tensor &cos, const at::Tensor &sin, int64_t heads, double scale,
                          int kernel);
} // namespace ctorch

#endif
