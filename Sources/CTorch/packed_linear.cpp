// The linear layers on weights packed once (CPackedGEMM), as ctorch.h's ct_prepare_linear and
// ct_prepared_linear* entry points.
#include "ctorch.h"
#include "ctorch_internal.h"

#include <ATen/Parallel.h>
#include "packed_gemm.h"
#include "parallel_chunks.h"
#include "seg_kernels.h"

#include <algorithm>
#include <vector>

namespace {
using ctorch::guarded;
using ctorch::is_cpu_float_contiguous;
using ctorch::parallel_chunks;

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
