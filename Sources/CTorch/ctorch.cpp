// Implementation of ctorch.h over ATen. Each entry point catches every C++ exception and turns
// it into a NULL / negative return plus a per-thread message, so no exception crosses into Swift.
#include "ctorch.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/Context.h>
#include <torch/csrc/api/include/torch/version.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/InferenceMode.h>

#include <cstring>
#include <malloc.h>
#include <exception>
#include <string>
#include <vector>

struct ct_tensor {
    at::Tensor t;
};

namespace {
thread_local std::string last_error;

template <typename F>
ct_tensor *guarded(F &&f) {
    try {
        c10::InferenceMode guard;
        return new ct_tensor{f()};
    } catch (const c10::Error &e) {
        last_error = e.what_without_backtrace();
    } catch (const std::exception &e) {
        last_error = e.what();
    } catch (...) {
        last_error = "unknown libtorch error";
    }
    return nullptr;
}

at::ScalarType scalar_type(ct_dtype d) {
    switch (d) {
    case CT_BFLOAT16: return at::kBFloat16;
    case CT_FLOAT16: return at::kHalf;
    default: return at::kFloat;
    }
}

at::IntArrayRef dims(const int64_t *p, int n) { return at::IntArrayRef(p, static_cast<size_t>(n)); }
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
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 0x7fffffff);
}

const char *ct_parallel_info(void) {
    thread_local std::string info;
    info = at::get_parallel_info();
    return info.c_str();
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
ct_tensor *ct_neg(const ct_tensor *a) { return guarded([&] { return -a->t; }); }
ct_tensor *ct_addcmul(const ct_tensor *a, const ct_tensor *b, const ct_tensor *c) {
    return guarded([&] { return at::addcmul(a->t, b->t, c->t); });
}

ct_tensor *ct_activation(const ct_tensor *x, ct_activation_kind kind) {
    return guarded([&] {
        switch (kind) {
        case CT_GELU_TANH: return at::gelu(x->t, "tanh");
        case CT_SILU: return at::silu(x->t);
        case CT_RELU: return at::relu(x->t);
        case CT_QUICK_GELU: return x->t * at::sigmoid(x->t * 1.702);
        default: return at::gelu(x->t);
        }
    });
}

ct_tensor *ct_linear(const ct_tensor *x, const ct_tensor *w, const ct_tensor *b) {
    return guarded([&] {
        return b ? at::linear(x->t, w->t, b->t) : at::linear(x->t, w->t);
    });
}

ct_tensor *ct_layer_norm(const ct_tensor *x, const ct_tensor *w, const ct_tensor *b, double eps) {
    return guarded([&] {
        return at::layer_norm(x->t, {x->t.size(-1)}, w->t, b->t, eps);
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

ct_tensor *ct_attention(const ct_tensor *q, const ct_tensor *k, const ct_tensor *v, double scale) {
    return guarded([&] {
        // The scores are scaled in place and freed before the second product: one
        // [batch, heads, T, T] buffer fewer at the peak, same arithmetic as transformers'.
        at::Tensor probs;
        {
            at::Tensor scores = at::matmul(q->t, k->t.transpose(-2, -1));
            scores.mul_(scale);
            probs = at::softmax(scores, -1, at::kFloat).to(v->t.scalar_type());
        }
        return at::matmul(probs, v->t);
    });
}

} // extern "C"
