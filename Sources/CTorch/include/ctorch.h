// A small C API over libtorch's ATen: tensors in and out, and the ops the DINOv3 backbone needs
// (generic ones, and its RoPE self-attention as one op). The architecture itself lives in Swift
// (Sources/Backbone).
//
// Every function that can fail returns NULL (or a negative int) and leaves a message that
// ct_last_error() returns; the message is per thread and valid until the next failing call.
#ifndef DINOPROBE_CTORCH_H
#define DINOPROBE_CTORCH_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Opaque handle owning one tensor. Free with ct_free.
typedef struct ct_tensor ct_tensor;

typedef enum { CT_FLOAT32 = 0, CT_BFLOAT16 = 1, CT_FLOAT16 = 2 } ct_dtype;
typedef enum { CT_CPU = 0, CT_CUDA = 1 } ct_device;
typedef enum { CT_GELU = 0, CT_GELU_TANH = 1, CT_SILU = 2, CT_RELU = 3, CT_QUICK_GELU = 4 } ct_activation_kind;

const char *ct_last_error(void);

// Library facts.
const char *ct_torch_version(void);
int ct_cuda_available(void);
int ct_cuda_device_count(void);
void ct_set_num_threads(int n);
int ct_get_num_threads(void);
/// ATen's build configuration (BLAS, OpenMP, ISA); owned by the library.
const char *ct_build_config(void);
/// Makes glibc keep freed blocks of up to 64 MB for reuse instead of unmapping them (activations
/// of big batches at 224 px are tens of MB; fresh mmaps page-fault and zero on every op). Larger
/// ones (a high-resolution image's) are mapped and unmapped: kept in the heap, they fragmented it
/// and grew the peak by a fixed amount per block for the first blocks (at 1536 px, 250 MB).
void ct_keep_freed_memory(void);
/// ATen's parallel settings (backend, intra-op threads).
const char *ct_parallel_info(void);
/// Threads that ct_run_tasks spreads its tasks over: ATen's intra-op threads, or 1 where its
/// OpenMP team cannot be used from here (a custom libtorch, or already inside a parallel region).
int ct_task_threads(void);
/// Runs task(context, i) for every i in [0, count), handed out in order to the threads of one
/// OpenMP team (ct_task_threads() of them) as each becomes free. Inside a task every op runs on
/// the task's thread alone: ATen's, oneDNN's and this library's parallel loops see the region and
/// run serially. `task` must return normally (no exception or unwinding crosses it).
void ct_run_tasks(int64_t count, void (*task)(void *context, int64_t index), void *context);

// Creation and extraction.
/// Wraps `data` without copying when `copy` is 0 (the caller keeps it alive), else copies.
ct_tensor *ct_from_blob(const void *data, const int64_t *shape, int ndim, ct_dtype dtype, int copy);
void ct_free(ct_tensor *t);
int ct_ndim(const ct_tensor *t);
int64_t ct_size(const ct_tensor *t, int dim);
int64_t ct_numel(const ct_tensor *t);
/// Copies the tensor (any device, dtype, layout) into `out` as contiguous float32.
int ct_copy_to_floats(const ct_tensor *t, float *out, int64_t count);
ct_tensor *ct_to(const ct_tensor *t, ct_device device, ct_dtype dtype);

// Shape.
ct_tensor *ct_reshape(const ct_tensor *t, const int64_t *shape, int ndim);
ct_tensor *ct_permute(const ct_tensor *t, const int64_t *dims, int ndim);
ct_tensor *ct_narrow(const ct_tensor *t, int dim, int64_t start, int64_t length);
ct_tensor *ct_cat(const ct_tensor *const *ts, int n, int dim);
ct_tensor *ct_expand(const ct_tensor *t, const int64_t *shape, int ndim);

// Elementwise (broadcasting).
ct_tensor *ct_add(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct_mul(const ct_tensor *a, const ct_tensor *b);
/// a + b * c in one pass (b broadcast against c), the residual-with-layer-scale update.
ct_tensor *ct_addcmul(const ct_tensor *a, const ct_tensor *b, const ct_tensor *c);
ct_tensor *ct_activation(const ct_tensor *x, ct_activation_kind kind);
/// In place (x, a, owned by the caller and not viewed elsewhere, is overwritten); 0 on success.
int ct_activation_in_place(ct_tensor *x, ct_activation_kind kind);
int ct_mul_in_place(ct_tensor *a, const ct_tensor *b);
/// a += b * c.
int ct_addcmul_in_place(ct_tensor *a, const ct_tensor *b, const ct_tensor *c);

// Neural-network ops.
ct_tensor *ct_linear(const ct_tensor *x, const ct_tensor *w, const ct_tensor *b /* nullable */);
/// A linear layer's weight [out, in] as ct_prepared_linear applies it: on float32 CPU matrices,
/// when a packed GEMM kernel runs here (see packed_gemm.h) and the shim is built against Debian's
/// libtorch (whose OpenMP team the kernel runs on), packed once into the kernel's panels
/// ([panels, in, panel width], new memory); otherwise the weight itself (a new handle).
ct_tensor *ct_prepare_linear(const ct_tensor *w);
/// x . w^T + b for `prepared` from ct_prepare_linear of an [out_features, in] weight: the packed
/// kernel for packed weights (float32 CPU inputs), at::linear otherwise.
ct_tensor *ct_prepared_linear(const ct_tensor *x, const ct_tensor *prepared, int64_t out_features,
                              const ct_tensor *b /* nullable */);
/// GELU(x . w^T + b) (erf form): for packed weights in the kernel's epilogue, as dp_gelu_erf
/// computes it (PyTorch 2.x's float32 GELU on AVX-512 CPUs, bit for bit), with no separate pass
/// over the output; at::gelu(at::linear(...)) otherwise.
ct_tensor *ct_prepared_linear_gelu(const ct_tensor *x, const ct_tensor *prepared, int64_t out_features,
                                   const ct_tensor *b /* nullable */);
/// residual + scale * (x . w^T + b), as at::addcmul(residual, scale, linear) computes it: a
/// transformer block's residual connection with layer scale (`scale` [out_features]), applied
/// by the packed kernel as each tile of outputs is finished, with no separate pass over the output.
ct_tensor *ct_prepared_linear_residual(const ct_tensor *x, const ct_tensor *prepared, int64_t out_features,
                                       const ct_tensor *b /* nullable */, const ct_tensor *residual,
                                       const ct_tensor *scale);
/// LayerNorm over the last dimension. Float32 CPU tensors take dp_layer_norm (PyTorch 2.x's
/// arithmetic, bit for bit); other dtypes and devices take this libtorch's at::layer_norm.
ct_tensor *ct_layer_norm(const ct_tensor *x, const ct_tensor *w, const ct_tensor *b, double eps);
ct_tensor *ct_conv2d(const ct_tensor *x, const ct_tensor *w, const ct_tensor *b, int64_t stride);
/// A 2-D convolution with zero padding and channel groups (groups = channels: depthwise).
ct_tensor *ct_conv2d_grouped(const ct_tensor *x, const ct_tensor *w, const ct_tensor *b, int64_t stride, int64_t padding, int64_t groups);
/// The mean over `dims`, which are kept as size 1 when `keepdim` is nonzero.
ct_tensor *ct_mean(const ct_tensor *x, const int64_t *dims, int ndim, int keepdim);
/// DINOv3's self-attention on the fused projection `qkv` [batch, tokens, 3 * heads * head_dim]
/// (q, then k, then v, each heads x head_dim): RoPE with the tables `cos`, `sin`
/// [patches, head_dim] on the q and k of the last `patches` tokens (the leading CLS and register
/// tokens pass unrotated), then softmax(q k^T * scale) v per head (softmax in float32, no mask).
/// Returns [batch, tokens, heads * head_dim], heads side by side, as the output projection reads
/// them. On float32 CPU tensors and `kernel` nonzero, a fused kernel runs over tiles of queries
/// and keys in parallel (memory linear in the tokens), its products on the packed GEMM where one
/// runs here (`kernel` 1, attention.h) or on OpenBLAS (`kernel` 2); otherwise (`kernel` 0, any
/// device or dtype) ATen ops compute the same.
ct_tensor *ct_self_attention(const ct_tensor *qkv, const ct_tensor *cos, const ct_tensor *sin, int64_t heads,
                             double scale, int kernel);

#ifdef __cplusplus
}
#endif
#endif
