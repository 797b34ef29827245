// Self-attention for ct_self_attention: ATen's composition (any device and dtype), and on float32
// CPU tensors the tiled kernel (attention.h) run by the OpenMP team, or its OpenBLAS variant.
#include "attention_cpu.h"
#include "parallel_chunks.h"

#include <cblas.h>
#include "attention.h"
#include "packed_gemm.h"
#include "seg_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include <sys/mman.h>

namespace ctorch {
namespace {
/// Query rows per task (at most; a head's rows are split evenly). Measured (see docs/performance.md).
constexpr int64_t kQueryTile = 96;
/// Keys per tile of the online softmax (at most; the tokens are split evenly): at up to this many
/// tokens (ViT-S/16 at 224 px has 201) a row's scores stay whole, as ATen computes them.
/// Measured (see docs/performance.md).
constexpr int64_t kKeyTile = 512;

/// Floats of attention scratch a thread keeps between calls (16 MB); more is given back after use.
constexpr size_t kKeptScratchFloats = size_t(4) << 20;

/// The tile sizes, unless DINOPROBE_ATTENTION_TILES="QUERIES,KEYS" says otherwise (for tuning).
std::pair<int64_t, int64_t> tiles() {
    static const std::pair<int64_t, int64_t> chosen = [] {
        const char *text = std::getenv("DINOPROBE_ATTENTION_TILES");
        long q = 0, k = 0;
        if (text && std::sscanf(text, "%ld,%ld", &q, &k) == 2 && q > 0 && k > 0) return std::pair<int64_t, int64_t>(q, k);
        return std::make_pair(kQueryTile, kKeyTile);
    }();
    return chosen;
}

/// Bytes of a transparent huge page.
constexpr size_t kHugePage = size_t(2) << 20;
/// Packed keys and values from this size up go on huge pages: past the 4 KB pages' TLB reach (12
/// MB), where each 2 MB page's zeroing is repaid; a ViT-S/16 image at 224 px packs 0.6 MB.
constexpr size_t kHugePagesFrom = size_t(8) << 20;

/// `floats` floats for the packed keys and values, which every tile of queries streams whole (8.4
/// MB a head at 16,389 tokens): from kHugePagesFrom bytes on huge-page boundaries, advised to the
/// kernel as huge pages (where it allows them), so they take one TLB entry per 2 MB instead of
/// one per 4 KB (an AVX2 panel is 4 KB, each on its own page). Throws std::bad_alloc where the
/// memory is not there.
std::unique_ptr<float, decltype(&std::free)> packed_floats(size_t floats) {
    if (floats > (SIZE_MAX - kHugePage) / sizeof(float)) throw std::bad_alloc();
    const bool huge = floats * sizeof(float) >= kHugePagesFrom;
    const size_t alignment = huge ? kHugePage : 64, bytes = (floats * sizeof(float) + alignment - 1) / alignment * alignment;
    void *memory = std::aligned_alloc(alignment, bytes);
    if (!memory) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    if (huge) (void)madvise(memory, bytes, MADV_HUGEPAGE);  // a hint: without it, 4 KB pages
#endif
    return {static_cast<float *>(memory), &std::free};
}

/// RoPE as transformers applies it, x * cos + rotate_half(x) * sin, on tensors whose last
/// dimension is the head dimension (cos, sin broadcast over the leading ones).
at::Tensor rotate(const at::Tensor &x, const at::Tensor &cos, const at::Tensor &sin) {
    int64_t half = x.size(-1) / 2;
    at::Tensor rotated_half = at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
    return x * cos + rotated_half * sin;
}

/// The reference composition of ct_self_attention in ATen ops, for any device and dtype.
at::Tensor self_attention_ops(const at::Tensor &qkv, const at::Tensor &cos, const at::Tensor &sin,
                              int64_t heads, double scale) {
    int64_t b = qkv.size(0), t = qkv.size(1), d = qkv.size(2) / 3, hd = d / heads;
    int64_t prefix = t - cos.size(0);
    auto split = [&](int64_t part) { return qkv.narrow(2, part * d, d).view({b, t, heads, hd}).transpose(1, 2); };
    auto with_rope = [&](const at::Tensor &x) {
        at::Tensor patches = rotate(x.narrow(2, prefix, t - prefix), cos, sin);
        return at::cat({x.narrow(2, 0, prefix), patches}, 2);
    };
    at::Tensor q = with_rope(split(0)), k = with_rope(split(1)), v = split(2);
    at::Tensor probs;
    {
        at::Tensor scores = at::matmul(q, k.transpose(-2, -1));
        scores.mul_(scale);
        probs = at::softmax(scores, -1, at::kFloat).to(v.scalar_type());
    }
    return at::matmul(probs, v).transpose(1, 2).reshape({b, t, d});
}

/// A thread's scratch of at least `floats` floats, kept between calls unless large (then given
/// back by release_scratch). Every value is written before it is read.
float *thread_scratch(size_t floats, bool release = false) {
    thread_local std::vector<float> scratch;
    if (release) {
        if (scratch.size() > kKeptScratchFloats) std::vector<float>().swap(scratch);
        return nullptr;
    }
    if (scratch.size() < floats) scratch.resize(floats);
    return scratch.data();
}

/// The shape of one call: batch, tokens, qkv's row width, heads, head_dim, unrotated tokens,
/// query tiles per head.
struct Shape {
    int64_t b, t, width, heads, hd, prefix, query_tiles;
    Shape(const at::Tensor &qkv, const at::Tensor &cos, int64_t heads, int64_t query_tile)
        : b(qkv.size(0)), t(qkv.size(1)), width(qkv.size(2)), heads(heads), hd(width / 3 / heads), prefix(t - cos.size(0)),
          query_tiles((t + query_tile - 1) / query_tile) {}
    /// Query tile `i`'s rows of a head: the tokens split evenly, in order.
    std::pair<int64_t, int64_t> rows(int64_t i) const { return {t * i / query_tiles, t * (i + 1) / query_tiles}; }
};

/// The tiled kernel: each (image, head)'s keys and values packed once (in parallel), then
/// (image, head, query tile) tasks over the team, writing the head's columns of the output.
at::Tensor self_attention_tiled(const at::Tensor &qkv, const at::Tensor &cos, const at::Tensor &sin, int64_t heads, double scale) {
    const auto [query_tile, key_tile] = tiles();
    const Shape s(qkv, cos, heads, query_tile);
    const int64_t d = s.heads * s.hd, packed = dp_attention_packed_count(DP_SEG_KERNEL_AUTO, s.t, s.hd, key_tile);
    const int64_t scratch = dp_attention_scratch_count(DP_SEG_KERNEL_AUTO, s.t, s.hd, query_tile, key_tile);
    TORCH_CHECK(packed > 0 && scratch > 0 && packed <= INT64_MAX / (s.b * s.heads), "self-attention: ", s.t,
                " tokens of ", s.hd, " values are too many to pack");
    at::Tensor out = at::empty({s.b, s.t, d}, qkv.options());
    const auto panels = packed_floats(static_cast<size_t>(s.b * s.heads * packed));
    const float *x = qkv.data_ptr<float>(), *c = cos.data_ptr<float>(), *sn = sin.data_ptr<float>();
    float *o = out.data_ptr<float>(), *p = panels.get();
    parallel_chunks(s.b * s.heads, 1, [&](int64_t begin, int64_t end) {
        float *work = thread_scratch(static_cast<size_t>(scratch));
        for (int64_t task = begin; task < end; ++task) {
            const float *rows = x + task / s.heads * s.t * s.width + task % s.heads * s.hd;
            dp_attention_pack(DP_SEG_KERNEL_AUTO, rows + d, rows + 2 * d, s.width, s.t, s.hd, s.prefix, c, sn, key_tile,
                              p + task * packed, work);
        }
    });
    parallel_chunks(s.b * s.heads * s.query_tiles, 1, [&](int64_t begin, int64_t end) {
        float *work = thread_scratch(static_cast<size_t>(scratch));
        for (int64_t task = begin; task < end; ++task) {
            const int64_t head_task = task / s.query_tiles, image = head_task / s.heads, head = head_task % s.heads;
            const auto [first, last] = s.rows(task % s.query_tiles);
            dp_attention_queries(DP_SEG_KERNEL_AUTO, x + image * s.t * s.width + head * s.hd, s.width, first, last - first, s.t,
                                 s.hd, s.prefix, c, sn, p + head_task * packed, key_tile, static_cast<float>(scale),
                                 o + (image * s.t + first) * d + head * s.hd, d, work);
        }
        thread_scratch(0, true);
    });
    return out;
}

/// The same tiles with single-threaded OpenBLAS products (where no packed kernel runs, and as the
/// tests' second opinion): one (image, head) per task, its q and k rotated whole, v read in place.
at::Tensor self_attention_blas(const at::Tensor &qkv, const at::Tensor &cos, const at::Tensor &sin, int64_t heads, double scale) {
    const auto [query_tile, key_tile] = tiles();
    const Shape s(qkv, cos, heads, query_tile);
    const int64_t key_tiles = (s.t + key_tile - 1) / key_tile, kt = (s.t + key_tiles - 1) / key_tiles;  // split evenly
    const int64_t d = s.heads * s.hd, qt = (s.t + s.query_tiles - 1) / s.query_tiles;
    at::Tensor out = at::empty({s.b, s.t, d}, qkv.options());
    const float *x = qkv.data_ptr<float>(), *c = cos.data_ptr<float>(), *sn = sin.data_ptr<float>();
    float *o = out.data_ptr<float>();
    const float alpha = static_cast<float>(scale), to_base2 = static_cast<float>(scale * DP_LOG2E);
    const auto product = [](bool transposed, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b,
                            int64_t ldb, float beta, float *y, int64_t ldy) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, transposed ? CblasTrans : CblasNoTrans, int(m), int(n), int(k), 1.0f, a, int(lda),
                    b, int(ldb), beta, y, int(ldy));
    };
    parallel_chunks(s.b * s.heads, 1, [&](int64_t begin, int64_t end) {
        float *q = thread_scratch(static_cast<size_t>(2 * s.t * s.hd + qt * (kt + 2))), *k = q + s.t * s.hd, *scores = k + s.t * s.hd;
        float *maxima = scores + qt * kt, *sums = maxima + qt;
        for (int64_t task = begin; task < end; ++task) {
            const float *rows = x + task / s.heads * s.t * s.width + task % s.heads * s.hd, *v = rows + 2 * d;
            dp_rope_rows(DP_SEG_KERNEL_AUTO, rows, s.width, s.t, s.hd, s.prefix, c, sn, q);
            dp_rope_rows(DP_SEG_KERNEL_AUTO, rows + d, s.width, s.t, s.hd, s.prefix, c, sn, k);
            for (int64_t tile = 0; tile < s.query_tiles; ++tile) {
                const auto [first, last] = s.rows(tile);
                const int64_t count = last - first;
                float *result = o + (task / s.heads * s.t + first) * d + task % s.heads * s.hd;
                if (kt == s.t) {  // one tile: softmax whole, as ATen's
                    product(true, count, s.t, s.hd, q + first * s.hd, s.hd, k, s.hd, 0, scores, kt);
                    dp_softmax_rows(DP_SEG_KERNEL_AUTO, scores, count, s.t, kt, alpha);
                    product(false, count, s.hd, s.t, scores, kt, v, s.width, 0, result, d);
                    continue;
                }
                std::fill(maxima, maxima + count, -INFINITY);
                std::fill(sums, sums + count, 0.0f);
                for (int64_t r = 0; r < count; ++r) std::fill(result + r * d, result + r * d + s.hd, 0.0f);
                for (int64_t key = 0; key < s.t; key += kt) {
                    const int64_t n = std::min(kt, s.t - key);
                    product(true, count, n, s.hd, q + first * s.hd, s.hd, k + key * s.hd, s.hd, 0, scores, kt);
                    // The online softmax's exps are base 2: the scores times scale x log2 e.
                    dp_softmax_online_rows(DP_SEG_KERNEL_AUTO, scores, count, n, kt, to_base2, nullptr, maxima, sums, result, s.hd,
                                           d);
                    product(false, count, s.hd, n, scores, kt, v + key * s.width, s.width, 1, result, d);
                }
                dp_softmax_online_finish(DP_SEG_KERNEL_AUTO, sums, count, result, s.hd, d);
            }
        }
        thread_scratch(0, true);
    });
    return out;
}
} // namespace

at::Tensor self_attention(const at::Tensor &qkv, const at::Tensor &cos, const at::Tensor &sin, int64_t heads, double scale,
                          int kernel) {
    const bool fused = kernel != 0 && is_cpu_float_contiguous(qkv) && is_cpu_float_contiguous(cos) &&
                       is_cpu_float_contiguous(sin) && qkv.size(1) <= INT32_MAX / 2 && qkv.size(2) <= INT32_MAX;
    if (!fused) return self_attention_ops(qkv, cos, sin, heads, scale);
    if (kernel == 1 && dp_gemm_panel_width(DP_SEG_KERNEL_AUTO) > 0) return self_attention_tiled(qkv, cos, sin, heads, scale);
    return self_attention_blas(qkv, cos, sin, heads, scale);
}
} // namespace ctorch
