// Implementation of ctorch.h over ATen. Each entry point catches every C++ exception and turns
// it into a NULL / negative return plus a per-thread message, so no exception crosses into Swift.
#include "ctorch.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/Context.h>
#include <torch/csrc/api/include/torch/version.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/InferenceMode.h>

#include <cblas.h>
#include "attention_cpu.h"
#include "layer_norm.h"
#include "parallel_chunks.h"
#include "packed_gemm.h"
#include "seg_kernels.h"

#include <atomic>
#include <cstring>
#include <malloc.h>
#include <exception>
#include <string>
#include <vector>

struct ct_tensor {
    at::Tensor t;
};

namespace {
using ctorch::is_cpu_float_contiguous;
using ctorch::parallel_chunks;

thread_local std::string last_error;

/// Runs `f` in inference mode; false (with the message in last_error) if it threw.
template <typename F>
bool attempt(F &&f) {
    try {
        c10::InferenceMode guard;
        f();
        return true;
    } catch (const c10::Error &e) {
        last_error = e.what_without_backtrace();
    } catch (const std::exception &e) {
        last_error = e.what();
    } catch (...) {
        last_error = "unknown libtorch error";
    }
    return false;
}

/// The tensor `f` returns, owned by a new handle; NULL if it threw.
template <typename F>
ct_tensor *guarded(F &&f) {
    ct_tensor *result = nullptr;
    attempt([&] { result = new ct_tensor{f()}; });
    return result;
}

at::ScalarType scalar_type(ct_dtype d) {
    switch (d) {
    case CT_BFLOAT16: return at::kBFloat16;
    case CT_FLOAT16: return at::kHalf;
    default: return at::kFloat;
    }
}

at::IntArrayRef dims(const int64_t *p, int n) { return at::IntArrayRef(p, static_cast<size_t>(n)); }


/// Runs `f` (an in-place op) as `guarded` does; 0 on success, -1 on failure.
template <typename F>
int guarded_status(F &&f) { return attempt(f) ? 0 : -1; }

at::Tensor activation(const at::Tensor &x, ct_activation_kind kind) {
    switch (kind) {
    case CT_GELU_TANH: return at::gelu(x, "tanh");
    case CT_SILU: return at::silu(x);
    case CT_RELU: return at::relu(x);
    case CT_QUICK_GELU: return x * at::sigmoid(x * 1.702);
    default: return at::gelu(x);
    }
}


/// Rows of activations per task of packed_linear_cpu: enough that a task's share of the weights
/// (read from L2/L3) is reused over many rows, few enough that batch 32's products (6,432 rows)
/// make dozens of tasks for the threads to balance.
constexpr int64_t kRowsPerTask = 384;

/// x . w^T + bias on float32 CPU tensors, w packed by ct_prepare_linear: row blocks x groups of
/// the output features' panels, handed out to the OpenMP team's threads as they become free. A
/// row's result does not depend on the blocking (see packed_gemm.h). With `residual` (and
/// `scale`), residual + scale * (x . w^T + bias) instead, equal to at::addcmul's (one fused
/// multiply-add per output). With `gelu`, GELU(x . w^T + bias) as dp_gelu_erf computes it.
at::Tensor packed_linear_cpu(const at::Tensor &input, const at::Tensor &packed, int64_t n, const at::Tensor *bias,
                             const at::Tensor *residual = nullptr, const at::Tensor *scale = nullptr, bool gelu = false) {
    const int64_t k = packed.size(1), nr = packed.size(2), panels = packed.size(0);
    TORCH_CHECK(input.dim() >= 1 && input.size(-1) == k, "linear: the input's last dimension must be ", k);
    TORCH_CHECK(nr == dp_gemm_panel_width(DP_SEG_KERNEL_AUTO) && panels == (n + nr - 1) / nr,
                "linear: the weight was packed for another kernel or feature count");
    TORCH_CHECK(!bias || (is_cpu_float_contiguous(*bias) && bias->numel() == n), "linear: the bias must be ", n, " floats on the CPU");
    const at::Tensor x = input.contiguous();
    std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
    shape.back() = n;
    // The outputs go straight to memory (dp_gemm_epilogue's `stream`): written through the caches,
    // they pushed out the weights and activations still being read. ViT-S/16 passes ran 2-12%
    // faster for it (AVX-512 and AVX2; batch 1, 8 and 32: outputs of 0.3-40 MB), the most at batch 1.
    dp_gemm_epilogue epilogue{nullptr, 0, nullptr, gelu ? DP_GEMM_GELU_ERF : DP_GEMM_NO_ACTIVATION, 1};
    at::Tensor residual_rows, scale_row;  // contiguous (copies only where the inputs were not)
    if (residual) {
        TORCH_CHECK(scale && residual->is_cpu() && residual->scalar_type() == at::kFloat && residual->sizes() == at::IntArrayRef(shape) &&
                    scale->is_cpu() && scale->scalar_type() == at::kFloat && scale->numel() == n,
                    "linear: the residual must be float32 of the output's shape, the scale ", n, " floats, both on the CPU");
        residual_rows = residual->contiguous();
        scale_row = scale->contiguous();
        epilogue.residual = residual_rows.data_ptr<float>();
        epilogue.ldr = n;
        epilogue.scale = scale_row.data_ptr<float>();
    }
    at::Tensor out = at::empty(shape, x.options());
    const int64_t m = k > 0 ? x.numel() / k : 0;
    if (m == 0) return out;
    const float *a = x.data_ptr<float>(), *w = packed.data_ptr<float>(), *b = bias ? bias->data_ptr<float>() : nullptr;
    float *c = out.data_ptr<float>();
    // Tasks: blocks of kRowsPerTask rows, each split into as many groups of panels as there are
    // threads, in that order; a thread reads the block's activations and its group's weights.
    const int64_t groups = std::min<int64_t>(std::max(at::get_num_threads(), 1), panels);
    const int64_t blocks = (m + kRowsPerTask - 1) / kRowsPerTask;
    parallel_chunks(blocks * groups, 1, [&](int64_t begin, int64_t end) {
        thread_local std::vector<float> scratch;
        scratch.resize(static_cast<size_t>(dp_gemm_scratch_count()));
        for (int64_t task = begin; task < end; ++task) {
            const int64_t block = task / groups, group = task % groups;
            const int64_t first = block * kRowsPerTask, rows = std::min(kRowsPerTask, m - first);
            const dp_gemm_epilogue shifted{epilogue.residual ? epilogue.residual + first * n : nullptr, n, epilogue.scale,
                                           epilogue.activation, epilogue.stream};
            dp_gemm_packed(DP_SEG_KERNEL_AUTO, a + first * k, rows, k, k, w, n, b, c + first * n, n,
                           panels * group / groups, panels * (group + 1) / groups, scratch.data(), &shifted);
        }
    });
    return out;
}
} // namespace

extern "C" {

const char *ct_last_error(void) { return last_error.c_str(); }

const char *ct_torch_version(void) {
    static std::string v = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) +
                           "." + std::to_string(TORCH_VERSION_PATCH);
    return v.c_str();
}

int ct_cuda_available(void) {
    try { return at::hasCUDA() ? 1 : 0; } catch (...) { return 0; }
}

int ct_cuda_device_count(void) {
    try {
        if (!at::hasCUDA()) return 0;
        return static_cast<int>(at::detail::getCUDAHooks().getNumGPUs());
    } catch (...) { return 0; }
}

void ct_set_num_threads(int n) {
    if (n > 0) at::set_num_threads(n);
}

int ct_get_num_threads(void) { return at::get_num_threads(); }

const char *ct_build_config(void) {
    static std::string c = at::show_config();
    return c.c_str();
}

void ct_keep_freed_memory(void) {
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 0x7fffffff);
}

const char *ct_parallel_info(void) {
    thread_local std::string info;
    info = at::get_parallel_info();
    return info.c_str();
}

int ct_task_threads(void) {
#ifdef DINOPROBE_LIBTORCH_CUSTOM
    return 1;
#else
    return omp_in_parallel() ? 1 : std::max(at::get_num_threads(), 1);
#endif
}

void ct_run_tasks(int64_t count, void (*task)(void *context, int64_t index), void *context) {
    parallel_chunks(count, 1, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) task(context, i);
    });
}

ct_tensor *ct_from_blob(const void *data, const int64_t *shape, int ndim, ct_dtype dtype, int copy) {
    return guarded([&] {
        auto opts = at::TensorOptions().dtype(scalar_type(dtype)).device(at::kCPU);
        at::Tensor t = at::from_blob(const_cast<void *>(data), dims(shape, ndim), opts);
        return copy ? t.clone() : t;
    });
}

void ct_free(ct_tensor *t) { delete t; }
int ct_ndim(const ct_tensor *t) { return static_cast<int>(t->t.dim()); }
int64_t ct_size(const ct_tensor *t, int dim) { return t->t.size(dim); }
int64_t ct_numel(const ct_tensor *t) { return t->t.numel(); }

int ct_copy_to_floats(const ct_tensor *t, float *out, int64_t count) {
    try {
        c10::InferenceMode guard;
        at::Tensor c = t->t.to(at::kCPU, at::kFloat).contiguous();
        if (c.numel() != count) {
            last_error = "ct_copy_to_floats: tensor has " + std::to_string(c.numel()) +
                         " elements, buffer " + std::to_string(count);
            return -1;
        }
        std::memcpy(out, c.data_ptr<float>(), static_cast<size_t>(count) * sizeof(float));
        return 0;
    } catch (const std::exception &e) {
        last_error = e.what();
        return -1;
    }
}

ct_tensor *ct_to(const ct_tensor *t, ct_device device, ct_dtype dtype) {
    return guarded([&] {
        at::Device d = device == CT_CUDA ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
        return t->t.to(d, scalar_type(dtype));
    });
}

ct_tensor *ct_reshape(const ct_tensor *t, const int64_t *shape, int ndim) {
    return guarded([&] { return t->t.reshape(dims(shape, ndim)); });
}
ct_tensor *ct_permute(const ct_tensor *t, const int64_t *d, int ndim) {
    return guarded([&] { return t->t.permute(dims(d, ndim)); });
}
ct_tensor *ct_narrow(const ct_tensor *t, int dim, int64_t start, int64_t length) {
    return guarded([&] { return t->t.narrow(dim, start, length); });
}
ct_tensor *ct_cat(const ct_tensor *const *ts, int n, int dim) {
    return guarded([&] {
        std::vector<at::Tensor> v;
        v.reserve(static_cast<size_t>(n));
        for (int i = 0; i < n; ++i) v.push_back(ts[i]->t);
        return at::cat(v, dim);
    });
}
ct_tensor *ct_expand(const ct_tensor *t, const int64_t *shape, int ndim) {
    return guarded([&] { return t->t.expand(dims(shape, ndim)); });
}

ct_tensor *ct_add(const ct_tensor *a, const ct_tensor *b) { return guarded([&] { return a->t + b->t; }); }
ct_tensor *ct_mul(const ct_tensor *a, const ct_tensor *b) { return guarded([&] { return a->t * b->t; }); }
ct_tensor *ct_addcmul(const ct_tensor *a, const ct_tensor *b, const ct_tensor *c) {
    return guarded([&] { return at::addcmul(a->t, b->t, c->t); });
}

ct_tensor *ct_activation(const ct_tensor *x, ct_activation_kind kind) {
    return guarded([&] { return activation(x->t, kind); });
}

int ct_activation_in_place(ct_tensor *x, ct_activation_kind kind) {
    return guarded_status([&] {
        switch (kind) {
        case CT_GELU_TANH: at::gelu_(x->t, "tanh"); break;
        case CT_SILU: at::silu_(x->t); break;
        case CT_RELU: at::relu_(x->t); break;
        case CT_GELU: at::gelu_(x->t); break;
        default: x->t.copy_(activation(x->t, kind)); break;
        }
    });
}

int ct_mul_in_place(ct_tensor *a, const ct_tensor *b) {
    return guarded_status([&] { a->t.mul_(b->t); });
}

int ct_addcmul_in_place(ct_tensor *a, const ct_tensor *b, const ct_tensor *c) {
    return guarded_status([&] { a->t.addcmul_(b->t, c->t); });
}

ct_tensor *ct_linear(const ct_tensor *x, const ct_tensor *w, const ct_tensor *b) {
    return guarded([&] {
        return b ? at::linear(x->t, w->t, b->t) : at::linear(x->t, w->t);
    });
}

/// Rows of a LayerNorm per grab of the OpenMP team (a ViT-S/16 image is 201 rows of 384).
constexpr int64_t kLayerNormRowsPerGrab = 64;

ct_tensor *ct_layer_norm(const ct_tensor *x, const ct_tensor *w, const ct_tensor *b, double eps) {
    return guarded([&] {
        const at::Tensor &input = x->t;
        const int64_t n = input.dim() > 0 ? input.size(-1) : 0;
        const auto is_parameter = [n](const at::Tensor &p) { return !p.defined() || (is_cpu_float_contiguous(p) && p.numel() == n); };
        if (!(input.is_cpu() && input.scalar_type() == at::kFloat && n > 0 && is_parameter(w->t) && is_parameter(b->t)))
            return at::layer_norm(input, {n}, w->t, b->t, eps);
        // Float32 on the CPU: PyTorch 2.x's arithmetic (dp_layer_norm), not this libtorch's.
        const at::Tensor rows = input.contiguous();
        at::Tensor out = at::empty(rows.sizes(), rows.options());
        const float *in = rows.data_ptr<float>(), *gamma = w->t.defined() ? w->t.data_ptr<float>() : nullptr,
                    *beta = b->t.defined() ? b->t.data_ptr<float>() : nullptr;
        float *y = out.data_ptr<float>();
        parallel_chunks(rows.numel() / n, kLayerNormRowsPerGrab, [&](int64_t begin, int64_t end) {
            dp_layer_norm(DP_SEG_KERNEL_AUTO, in + begin * n, end - begin, n, gamma, beta, static_cast<float>(eps), y + begin * n);
        });
        return out;
    });
}

ct_tensor *ct_conv2d(const ct_tensor *x, const ct_tensor *w, const ct_tensor *b, int64_t stride) {
    return guarded([&] { return at::conv2d(x->t, w->t, b->t, {stride, stride}); });
}

ct_tensor *ct_conv2d_grouped(const ct_tensor *x, const ct_tensor *w, const ct_tensor *b, int64_t stride, int64_t padding, int64_t groups) {
    return guarded([&] { return at::conv2d(x->t, w->t, b->t, {stride, stride}, {padding, padding}, {1, 1}, groups); });
}

ct_tensor *ct_mean(const ct_tensor *x, const int64_t *d, int ndim, int keepdim) {
    return guarded([&] { return x->t.mean(dims(d, ndim), keepdim != 0); });
}

ct_tensor *ct_self_attention(const ct_tensor *qkv, const ct_tensor *cos, const ct_tensor *sin, int64_t heads,
                             double scale, int kernel) {
    return guarded([&] {
        const at::Tensor &x = qkv->t, &c = cos->t, &s = sin->t;
        TORCH_CHECK(heads > 0 && x.dim() == 3 && x.size(2) % (3 * heads) == 0,
                    "self_attention: qkv must be [batch, tokens, 3 * heads * head_dim]");
        const int64_t hd = x.size(2) / 3 / heads;
        TORCH_CHECK(hd % 2 == 0 && c.dim() == 2 && c.sizes() == s.sizes() && c.size(1) == hd && c.size(0) <= x.size(1),
                    "self_attention: RoPE tables must be [patches, head_dim] with patches <= tokens and an even head_dim");
        return ctorch::self_attention(x, c, s, heads, scale, kernel);
    });
}

ct_tensor *ct_prepare_linear(const ct_tensor *w) {
    return guarded([&] {
        const at::Tensor &weight = w->t;
#ifdef DINOPROBE_LIBTORCH_CUSTOM
        // parallel_chunks runs serially with a custom libtorch; its own linear keeps the threads.
        const int64_t nr = 0;
#else
        const int64_t nr = dp_gemm_panel_width(DP_SEG_KERNEL_AUTO);
#endif
        if (nr == 0 || weight.dim() != 2 || !is_cpu_float_contiguous(weight) || weight.numel() == 0) return weight;
        const int64_t n = weight.size(0), k = weight.size(1);
        TORCH_CHECK(dp_gemm_packed_count(n, k, nr) > 0, "prepare_linear: a [", n, ", ", k, "] weight is too large to pack");
        at::Tensor packed = at::empty({(n + nr - 1) / nr, k, nr}, weight.options());
        dp_gemm_pack(weight.data_ptr<float>(), n, k, k, nr, packed.data_ptr<float>());
        return packed;
    });
}

ct_tensor *ct_prepared_linear(const ct_tensor *x, const ct_tensor *prepared, int64_t out_features, const ct_tensor *b) {
    return guarded([&] {
        const at::Tensor &w = prepared->t;
        if (w.dim() != 3) return b ? at::linear(x->t, w, b->t) : at::linear(x->t, w);
        TORCH_CHECK(x->t.is_cpu() && x->t.scalar_type() == at::kFloat && is_cpu_float_contiguous(w),
                    "linear: a packed weight takes float32 CPU inputs");
        return packed_linear_cpu(x->t, w, out_features, b ? &b->t : nullptr);
    });
}

ct_tensor *ct_prepared_linear_gelu(const ct_tensor *x, const ct_tensor *prepared, int64_t out_features, const ct_tensor *b) {
    return guarded([&] {
        const at::Tensor &w = prepared->t;
        if (w.dim() != 3) return at::gelu(b ? at::linear(x->t, w, b->t) : at::linear(x->t, w));
        TORCH_CHECK(x->t.is_cpu() && x->t.scalar_type() == at::kFloat && is_cpu_float_contiguous(w),
                    "linear: a packed weight takes float32 CPU inputs");
        return packed_linear_cpu(x->t, w, out_features, b ? &b->t : nullptr, nullptr, nullptr, true);
    });
}

ct_tensor *ct_prepared_linear_residual(const ct_tensor *x, const ct_tensor *prepared, int64_t out_features, const ct_tensor *b,
                                       const ct_tensor *residual, const ct_tensor *scale) {
    return guarded([&] {
        const at::Tensor &w = prepared->t;
        if (w.dim() != 3) return at::addcmul(residual->t, scale->t, b ? at::linear(x->t, w, b->t) : at::linear(x->t, w));
        TORCH_CHECK(x->t.is_cpu() && x->t.scalar_type() == at::kFloat && is_cpu_float_contiguous(w),
                    "linear: a packed weight takes float32 CPU inputs");
        return packed_linear_cpu(x->t, w, out_features, b ? &b->t : nullptr, &residual->t, &scale->t);
    });
}

} // extern "C"
