// The kernels, written once over a vector type and instantiated by seg_kernels.c per ISA.
// Expects: VEC (a GCC vector of W floats), W, ATTR (target attribute), EXPV(v) (exp of each
// lane), EXPA(v) (the online softmax's exp), VMAX(a, b), HMAX(v) and HSUM(v) (horizontal max
// and sum) and NAME(x) (adds the ISA suffix); undefines them at the end.

#include "vector_basics.h"

/// y = exp(x - shift) over n floats (a multiple of W; x == y allowed); returns the lane-wise
/// sums of y, added in order.
static inline ATTR VEC NAME(exp_shifted)(const float *x, intptr_t n, float shift, float *y) {
    const VEC by = NAME(splat)(shift);
    VEC s = {0};
    for (intptr_t c = 0; c < n; c += W) {
        const VEC e = EXPV(NAME(load)(x + c) - by);
        NAME(store)(y + c, e);
        s += e;
    }
    return s;
}

/// dp_exp for this ISA: exp_shifted's loop shifted by 0 (x - 0 is x for every value but a
/// signalling NaN, which comes back quiet), so the check covers the code the kernels run.
static ATTR void NAME(exp_values)(const float *x, intptr_t n, float *y) { (void)NAME(exp_shifted)(x, n, 0, y); }

/// The largest of x[0..<k]: the whole vectors lane-wise, then the rest one by one. With `scaled`
/// (which may be x), each value is first multiplied by `scale` and stored there, in the same pass.
static inline ATTR float NAME(row_max)(const float *x, intptr_t k, float scale, float *scaled) {
    const intptr_t full = k - k % W;
    float m = -INFINITY;
    if (full > 0) {
        const VEC by = NAME(splat)(scale);
        VEC v = NAME(load)(x);
        if (scaled) NAME(store)(scaled, v *= by);
        for (intptr_t c = W; c < full; c += W) {
            VEC next = NAME(load)(x + c);
            if (scaled) NAME(store)(scaled + c, next *= by);
            v = VMAX(v, next);
        }
        m = HMAX(v);
    }
    for (intptr_t c = full; c < k; c++) {
        const float value = scaled ? (scaled[c] = x[c] * scale) : x[c];
        m = value > m ? value : m;
    }
    return m;
}

/// y = exp(x - m) over one row of k floats (x == y allowed): the whole vectors, then one partial
/// vector whose unused lanes are -inf (so their exp is 0), all through the same exp. Returns the
/// lane-wise sums of y.
static inline ATTR VEC NAME(exp_row)(const float *x, intptr_t k, float m, float *y) {
    const intptr_t full = k - k % W, rest = k - full;
    VEC s = NAME(exp_shifted)(x, full, m, y);
    if (rest > 0) {
        float tail[W];
        for (intptr_t j = 0; j < W; j++) tail[j] = j < rest ? x[full + j] : -INFINITY;
        const VEC e = EXPV(NAME(load)(tail) - NAME(splat)(m));
        NAME(store)(tail, e);
        for (intptr_t j = 0; j < rest; j++) y[full + j] = tail[j];
        s += e;
    }
    return s;
}

/// y[0..<k] *= factor.
static inline ATTR void NAME(scale_row)(float *y, intptr_t k, float factor) {
    const intptr_t full = k - k % W;
    for (intptr_t c = 0; c < full; c += W) NAME(store)(y + c, NAME(load)(y + c) * factor);
    for (intptr_t c = full; c < k; c++) y[c] *= factor;
}

/// dp_softmax_xent_row for this ISA.
static inline ATTR double NAME(xent_row)(const float *x, intptr_t k, intptr_t label, float scale,
                                         float *g) {
    const float maximum = NAME(row_max)(x, k, 1.0f, NULL);
    const float sum = HSUM(NAME(exp_row)(x, k, maximum, g));
    NAME(scale_row)(g, k, scale / sum);
    g[label] -= scale;
    return (double)logf(sum) + (double)maximum - (double)x[label];
}

/// dp_softmax_rows for this ISA, each row in place: x * scale and its max in one pass,
/// exp(x - max) and its sums in a second, then x * (1 / sum).
static ATTR void NAME(softmax_rows)(float *x, intptr_t rows, intptr_t k, intptr_t stride, float scale) {
    for (intptr_t r = 0; r < rows; r++) {
        float *row = x + r * stride;
        const float maximum = NAME(row_max)(row, k, scale, scale != 1.0f ? row : NULL);
        NAME(scale_row)(row, k, 1.0f / HSUM(NAME(exp_row)(row, k, maximum, row)));
    }
}

/// exp(x * by + shift) in place over row[0..<k] (x * by rounded first, never fused; x alone where `unscaled`), the
/// unused lanes of a last partial vector zeroed; returns the lane-wise sums, added in order. Four vectors a step:
/// each exp is a long chain of dependent operations, and with one in flight AVX2 ran 15% slower.
static inline ATTR __attribute__((always_inline)) VEC NAME(online_exps)(float *row, intptr_t k, VEC by, VEC shift, int unscaled) {
#pragma STDC FP_CONTRACT OFF
#define ONLINE_EXP(at) EXPA((unscaled ? NAME(load)(at) : NAME(load)(at) * by) + shift)
    VEC s = {0};
    intptr_t c = 0;
    for (; c + 4 * W <= k; c += 4 * W) {
        const VEC e0 = ONLINE_EXP(row + c), e1 = ONLINE_EXP(row + c + W), e2 = ONLINE_EXP(row + c + 2 * W);
        const VEC e3 = ONLINE_EXP(row + c + 3 * W);
        NAME(store)(row + c, e0), NAME(store)(row + c + W, e1);
        NAME(store)(row + c + 2 * W, e2), NAME(store)(row + c + 3 * W, e3);
        s = s + e0 + e1 + e2 + e3;
    }
    for (; c + W <= k; c += W) {
        const VEC e = ONLINE_EXP(row + c);
        NAME(store)(row + c, e);
        s += e;
    }
    if (c < k) {
        float tail[W];
        for (intptr_t j = 0; j < W; j++) tail[j] = c + j < k ? row[c + j] : 0;
        NAME(store)(tail, ONLINE_EXP(tail));
        for (intptr_t j = 0; j < W; j++) c + j < k ? (void)(row[c + j] = tail[j]) : (void)(tail[j] = 0);
        s += NAME(load)(tail);
    }
#undef ONLINE_EXP
    return s;
}

/// dp_softmax_online_rows for this ISA: per row, the tile's max read in one pass (times `scale`: the max of the
/// scaled scores, rounding being monotonic and `scale` positive); where the running max grows, the row's sum and
/// outputs times exp(old - new); then online_exps against the new max (a scale of 1 not multiplied) and the sum.
static ATTR void NAME(softmax_online_rows)(float *x, intptr_t rows, intptr_t k, intptr_t stride, float scale, const float *tile_maxima,
                                           float *maxima, float *sums, float *out, intptr_t width, intptr_t ldo) {
    const VEC by = NAME(splat)(scale);
    for (intptr_t r = 0; r < rows; r++) {
        float *row = x + r * stride;
        const float tile_max = (tile_maxima ? tile_maxima[r] : NAME(row_max)(row, k, 1.0f, NULL)) * scale;
        const float previous = maxima[r], maximum = tile_max > previous ? tile_max : previous;
        if (maximum > previous && previous > -INFINITY) {
            const float factor = EXPA(NAME(splat)(previous - maximum))[0];
            sums[r] *= factor;
            NAME(scale_row)(out + r * ldo, width, factor);
        }
        maxima[r] = maximum;
        const VEC shift = NAME(splat)(-maximum);
        sums[r] += HSUM(scale == 1.0f ? NAME(online_exps)(row, k, by, shift, 1) : NAME(online_exps)(row, k, by, shift, 0));
    }
}

/// dp_softmax_online_finish for this ISA: each output row times 1 / its sum.
static ATTR void NAME(softmax_online_finish)(const float *sums, intptr_t rows, float *out, intptr_t width, intptr_t ldo) {
    for (intptr_t r = 0; r < rows; r++) NAME(scale_row)(out + r * ldo, width, 1.0f / sums[r]);
}

/// dp_rope_rows for this ISA: the rotation's two products rounded, then their sum, never fused.
static ATTR void NAME(rope_rows)(const float *src, intptr_t stride, intptr_t count, intptr_t width, intptr_t prefix,
                                 const float *cos, const float *sin, float *out) {
#pragma STDC FP_CONTRACT OFF
    const intptr_t half = width / 2, full = half - half % W;
    for (intptr_t r = 0; r < count; r++) {
        const float *x = src + r * stride;
        float *y = out + r * width;
        if (r + 8 < count)
            for (intptr_t i = 0; i < width; i += 16) __builtin_prefetch(x + 8 * stride + i);
        if (r < prefix) {
            __builtin_memcpy(y, x, (size_t)width * sizeof(float));
            continue;
        }
        const float *c = cos + (r - prefix) * width, *s = sin + (r - prefix) * width;
        for (intptr_t i = 0; i < full; i += W) {
            const VEC first = NAME(load)(x + i), second = NAME(load)(x + half + i);
            const VEC straight0 = first * NAME(load)(c + i), turned0 = -second * NAME(load)(s + i);
            const VEC straight1 = second * NAME(load)(c + half + i), turned1 = first * NAME(load)(s + half + i);
            NAME(store)(y + i, straight0 + turned0);
            NAME(store)(y + half + i, straight1 + turned1);
        }
        for (intptr_t i = full; i < half; i++) {
            const float straight0 = x[i] * c[i], turned0 = -x[half + i] * s[i];
            const float straight1 = x[half + i] * c[half + i], turned1 = x[i] * s[half + i];
            y[i] = straight0 + turned0;
            y[half + i] = straight1 + turned1;
        }
    }
}

/// A run of pixels that read the same two input columns, in the run's buffers.
typedef struct {
    intptr_t n;                     ///< pixels
    float maxima[SEG_CHUNK];        ///< each pixel's largest logit
    float picked[SEG_CHUNK];        ///< each pixel's logit of its label
    float w0[SEG_CHUNK], w1[SEG_CHUNK];  ///< the lower and upper column's weights
    float a0[SEG_CHUNK], a1[SEG_CHUNK];  ///< the weights times scale / (sum of exps)
    intptr_t labels[SEG_CHUNK];
} NAME(run);

/// The run's gradients g = (scale / sum) * e - scale * onehot(label) through the width pass's
/// adjoint: d0 += Σ w0 g and d1 += Σ w1 g over the run (d0 and d1 the two columns' dh, the same
/// when the columns are). The exp part is summed in registers, `count` vectors of classes from c
/// on at a time (independent sums hide the add latency); the onehot part is added by
/// run_backward_labels.
static inline ATTR void NAME(run_backward)(const NAME(run) *r, const float *e, intptr_t s, intptr_t c,
                                           int count, float *d0, float *d1) {
    VEC acc0[2] = {{0}}, acc1[2] = {{0}};
    for (intptr_t i = 0; i < r->n; i++) {
        for (int v = 0; v < count; v++) {
            const VEC p = NAME(load)(e + i * s + c + v * W);
            acc0[v] += r->a0[i] * p;
            acc1[v] += r->a1[i] * p;
        }
    }
    for (int v = 0; v < count; v++) {
        NAME(store)(d0 + c + v * W, NAME(load)(d0 + c + v * W) + acc0[v]);
        NAME(store)(d1 + c + v * W, NAME(load)(d1 + c + v * W) + acc1[v]);
    }
}

/// The -scale * onehot(label) part of run_backward.
static inline ATTR void NAME(run_backward_labels)(const NAME(run) *r, float scale, float *d0, float *d1) {
    for (intptr_t i = 0; i < r->n; i++) {
        d0[r->labels[i]] -= scale * r->w0[i];
        d1[r->labels[i]] -= scale * r->w1[i];
    }
}

/// dp_seg_image_xent for this ISA. Per output row: the height pass into h [inW, S] (S = classes
/// rounded up to W, padding 0). Then per run of up to SEG_CHUNK scored pixels between the same
/// two input columns: the width pass into e (padding -inf), exp(e - each pixel's maximum) over
/// the run, the losses, and the gradients into dh. Last dh's adjoint (the height pass's) into
/// the logit gradient.
static ATTR double NAME(seg_image)(const float *z, intptr_t in_w, intptr_t k, const uint8_t *labels,
                                   intptr_t out_h, intptr_t out_w, uint8_t ignore, dp_axis_taps rows,
                                   dp_axis_taps cols, float scale, float *dz, float *scratch) {
    const intptr_t s = (k + W - 1) / W * W;  // at most seg_stride(k)
    float *h = scratch, *dh = h + in_w * s, *e = dh + in_w * s;
    VEC padding = {0};  // -inf in the lanes past the classes (only the last vector has any)
    for (intptr_t j = 0; j < W; j++) padding[j] = s - W + j < k ? 0 : -INFINITY;
    NAME(run) r;
    for (intptr_t i = 0; i < in_w * s; i++) h[i] = 0;
    double total = 0;
    for (intptr_t o = 0; o < out_h; o++) {
        const uint8_t *y = labels + o * out_w;
        intptr_t x = 0;
        while (x < out_w && y[x] == ignore) x++;
        if (x == out_w) continue;
        const float *a = z + rows.lower[o] * in_w * k, *b = z + rows.upper[o] * in_w * k;
        const float wa = rows.lowerWeight[o], wb = rows.upperWeight[o];
        for (intptr_t i = 0; i < in_w; i++) {
            for (intptr_t c = 0; c < k; c++) h[i * s + c] = wa * a[i * k + c] + wb * b[i * k + c];
        }
        for (intptr_t i = 0; i < in_w * s; i++) dh[i] = 0;
        while (x < out_w) {
            const intptr_t lower = cols.lower[x], upper = cols.upper[x];
            const float *h0 = h + lower * s, *h1 = h + upper * s;
            r.n = 0;
            for (; x < out_w && r.n < SEG_CHUNK && cols.lower[x] == lower && cols.upper[x] == upper; x++) {
                if (y[x] == ignore) continue;
                const float w0 = cols.lowerWeight[x], w1 = cols.upperWeight[x];
                float *t = e + r.n * s;
                VEC m = NAME(splat)(-INFINITY);
                for (intptr_t c = 0; c < s - W; c += W) {
                    const VEC tc = w0 * NAME(load)(h0 + c) + w1 * NAME(load)(h1 + c);
                    NAME(store)(t + c, tc);
                    m = VMAX(m, tc);
                }
                const VEC last = w0 * NAME(load)(h0 + s - W) + w1 * NAME(load)(h1 + s - W) + padding;
                NAME(store)(t + s - W, last);
                m = VMAX(m, last);
                r.maxima[r.n] = HMAX(m);
                r.picked[r.n] = t[y[x]];
                r.w0[r.n] = w0;
                r.w1[r.n] = w1;
                r.labels[r.n++] = y[x];
            }
            if (r.n == 0) continue;
            double sums = 1;  // the product of the run's sums of exps: each is in [1, classes]
            for (intptr_t i = 0; i < r.n; i++) {
                const float sum = HSUM(NAME(exp_shifted)(e + i * s, s, r.maxima[i], e + i * s)), factor = scale / sum;
                r.a0[i] = r.w0[i] * factor;
                r.a1[i] = r.w1[i] * factor;
                sums *= sum;
                total += (double)r.maxima[i] - (double)r.picked[i];
            }
            total += log(sums);
            intptr_t c = 0;
            for (; c + 2 * W <= s; c += 2 * W) NAME(run_backward)(&r, e, s, c, 2, dh + lower * s, dh + upper * s);
            for (; c < s; c += W) NAME(run_backward)(&r, e, s, c, 1, dh + lower * s, dh + upper * s);
            NAME(run_backward_labels)(&r, scale, dh + lower * s, dh + upper * s);
        }
        float *da = dz + rows.lower[o] * in_w * k, *db = dz + rows.upper[o] * in_w * k;
        for (intptr_t i = 0; i < in_w; i++) {
            for (intptr_t c = 0; c < k; c++) da[i * k + c] += wa * dh[i * s + c];
            for (intptr_t c = 0; c < k; c++) db[i * k + c] += wb * dh[i * s + c];
        }
    }
    return total;
}

#undef VEC
#undef W
#undef ATTR
#undef EXPV
#undef VMAX
#undef HMAX
#undef HSUM
#undef EXPA
#undef NAME
