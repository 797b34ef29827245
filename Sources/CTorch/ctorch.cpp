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

#include "ctorch_internal.h"

thread_local std::string ctorch::last_error;

namespace {
using ctorch::is_cpu_float_contiguous;
using ctorch::parallel_chunks;
using ctorch::attempt;
using ctorch::guarded;
using ctorch::guarded_status;
using ctorch::last_error;

at::ScalarType scalar_type(ct_dtype d) {
    switch (d) {
    case CT_BFLOAT16: return at::kBFloat16;
    case CT_FLOAT16: return at::kHalf;
    default: return at::kFloat;
    }
}

at::IntArrayRef dims(const int64_t *p, int n) { return at::IntArrayRef(p, static_cast<size_t>(n)); }

at::Tensor activation(const at::Tensor &x, ct_activation_kind kind) {
    switch (kind) {
    case CT_GELU_TANH: return at::gelu(x, "tanh");
    case CT_SILU: return at::silu(x);
    case CT_RELU: return at::relu(x);
    case CT_QUICK_GELU: return x * at::sigmoid(x * 1.702);
    default: return at::gelu(x);
    }
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

} // extern "C"
