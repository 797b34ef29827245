// The depth kernels, written once over a vector type and instantiated by depth_kernels.c per
// ISA. Expects VEC (W floats), VECI (W int32), W, ATTR and NAME(x); undefines them at the end.

#include "vector_basics.h"

static inline ATTR VEC NAME(select)(VECI mask, VEC yes, VEC no) { return (VEC)(((VECI)yes & mask) | ((VECI)no & ~mask)); }
static inline ATTR float NAME(hsum)(VEC v) {
    float s = 0;
    for (int i = 0; i < W; i++) s += v[i];
    return s;
}

/// Natural log of positive finite normal lanes: x = m 2^e with m in [sqrt(1/2), sqrt(2)), then
/// Cephes' logf polynomial in m - 1 and e ln 2 in two parts.
static inline ATTR VEC NAME(logv)(VEC x) {
    const VECI bits = (VECI)x;
    VECI e = ((bits >> 23) & 0xff) - 126;
    VEC m = (VEC)((bits & 0x807fffff) | 0x3f000000);  // [0.5, 1)
    const VECI small = m < 0.707106781186547524f;
    e += small;  // -1 where small
    m = NAME(select)(small, m + m, m) - 1.0f;
    const VEC z = m * m;
    VEC y = NAME(splat)(7.0376836292e-2f);
    y = y * m - 1.1514610310e-1f;
    y = y * m + 1.1676998740e-1f;
    y = y * m - 1.2420140846e-1f;
    y = y * m + 1.4249322787e-1f;
    y = y * m - 1.6668057665e-1f;
    y = y * m + 2.0000714765e-1f;
    y = y * m - 2.4999993993e-1f;
    y = y * m + 3.3333331174e-1f;
    y = y * m * z;
    const VEC ef = __builtin_convertvector(e, VEC);
    y += ef * -2.12194440e-4f;
    y += z * -0.5f;
    return m + y + ef * 0.693359375f;
}

static ATTR void NAME(log_values)(const float *x, intptr_t n, float *y) {
    intptr_t i = 0;
    for (; i + W <= n; i += W) NAME(store)(y + i, NAME(logv)(NAME(load)(x + i)));
    if (i < n) {
        float in[W], out[W];
        for (int l = 0; l < W; l++) in[l] = i + l < n ? x[i + l] : 1.0f;
        NAME(store)(out, NAME(logv)(NAME(load)(in)));
        for (intptr_t l = 0; i + l < n; l++) y[i + l] = out[l];
    }
}

/// One row's weights before division (into w) and their sum: with x = z + bias, relu(x) + 0.1,
/// exp(x - max), or sigmoid(x).
static inline ATTR float NAME(row_weights)(const float *z, const float *bias, intptr_t k, dp_depth_norm norm, float *w) {
    float sum = 0;
    intptr_t c = 0;
    if (norm == DP_DEPTH_NORM_LINEAR) {
        VEC s = {0};
        for (; c + W <= k; c += W) {
            VEC v = NAME(load)(z + c) + NAME(load)(bias + c);
            v = NAME(select)(v > 0.0f, v, NAME(splat)(0)) + 0.1f;
            NAME(store)(w + c, v);
            s += v;
        }
        sum = NAME(hsum)(s);
        for (; c < k; c++) {
            const float x = z[c] + bias[c];
            sum += w[c] = (x > 0 ? x : 0) + 0.1f;
        }
        return sum;
    }
    float shift = -INFINITY;
    for (c = 0; c < k; c++) {
        w[c] = z[c] + bias[c];
        shift = w[c] > shift ? w[c] : shift;
    }
    for (c = 0; c < k; c++) sum += w[c] = norm == DP_DEPTH_NORM_SOFTMAX ? expf(w[c] - shift) : 1 / (1 + expf(-w[c]));
    return sum;
}

static inline ATTR float NAME(dot)(const float *a, const float *b, intptr_t k) {
    VEC s = {0};
    intptr_t c = 0;
    for (; c + W <= k; c += W) s += NAME(load)(a + c) * NAME(load)(b + c);
    float t = NAME(hsum)(s);
    for (; c < k; c++) t += a[c] * b[c];
    return t;
}

static ATTR void NAME(bins_forward)(const float *z, const float *bias, intptr_t rows, intptr_t k, const float *centres,
                                    dp_depth_norm norm, float *depth, float *w) {
    for (intptr_t r = 0; r < rows; r++) {
        const float sum = NAME(row_weights)(z + r * k, bias, k, norm, w);
        depth[r] = NAME(dot)(w, centres, k) / sum;
    }
}

/// dz_c = g (centres_c - d) / S * dw_c/dz_c with w the undivided weights and S their sum.
static ATTR void NAME(bins_backward)(float *z, const float *bias, intptr_t rows, intptr_t k, const float *centres,
                                     dp_depth_norm norm, const float *depth, const float *gradient, float *w) {
    for (intptr_t r = 0; r < rows; r++) {
        float *row = z + r * k;
        const float sum = NAME(row_weights)(row, bias, k, norm, w);
        const float scale = gradient[r] / sum, d = depth[r];
        for (intptr_t c = 0; c < k; c++) {
            const float shared = scale * (centres[c] - d);
            row[c] = norm == DP_DEPTH_NORM_LINEAR ? (row[c] + bias[c] > 0 ? shared : 0)
                   : norm == DP_DEPTH_NORM_SOFTMAX ? shared * w[c] : shared * w[c] * (1 - w[c]);
        }
    }
}

/// The width pass of one image: temp [ih, ow] from depth [ih, iw].
static inline ATTR void NAME(width_pass)(const float *depth, intptr_t ih, intptr_t iw, intptr_t ow, dp_axis_taps columns, float *temp) {
    for (intptr_t r = 0; r < ih; r++) {
        const float *source = depth + r * iw;
        for (intptr_t x = 0; x < ow; x++)
            temp[r * ow + x] = columns.lowerWeight[x] * source[columns.lower[x]] + columns.upperWeight[x] * source[columns.upper[x]];
    }
}

/// W pixels of an output row from the width-passed rows a and b and the targets t: the
/// prediction, and which pixels count (target positive and finite).
static inline ATTR VEC NAME(pixels)(const float *a, const float *b, float wa, float wb, const float *t, VECI *valid) {
    const VEC target = NAME(load)(t);
    *valid = (target > 0.0f) & (target <= 3.4028234663852886e38f);
    return NAME(splat)(wa) * NAME(load)(a) + NAME(splat)(wb) * NAME(load)(b);
}

/// Copies the last n < W values of each of `count` rows (row i at rows[i] + from) into
/// tail[i * W...], zero-padded, so a row's tail is one whole vector.
static inline ATTR void NAME(tails)(const float *const *rows, int count, intptr_t from, intptr_t n, float *tail) {
    for (int i = 0; i < count; i++)
        for (intptr_t l = 0; l < W; l++) tail[i * W + l] = l < n ? rows[i][from + l] : 0;
}

/// g for W pixels (0 where they do not count), added to the sum s and the count n.
static inline ATTR VEC NAME(ratio)(const float *a, const float *b, float wa, float wb, const float *t, float eps, VEC *s, VEC *n) {
    VECI valid;
    const VEC p = NAME(pixels)(a, b, wa, wb, t, &valid);
    const VEC ratio = (p + eps) / NAME(select)(valid, NAME(load)(t) + eps, NAME(splat)(1));
    const VEC v = NAME(select)(valid, NAME(logv)(NAME(select)(valid, ratio, NAME(splat)(1))), NAME(splat)(0));
    *s += v;
    *n += NAME(select)(valid, NAME(splat)(1), NAME(splat)(0));
    return v;
}

static ATTR void NAME(log_ratio)(const float *depth, intptr_t ih, intptr_t iw, const float *target, intptr_t oh, intptr_t ow,
                                 dp_axis_taps rows, dp_axis_taps columns, float eps, float *g, double *stats, float *scratch) {
    NAME(width_pass)(depth, ih, iw, ow, columns, scratch);
    const intptr_t full = ow - ow % W;
    float tail[4 * W];
    double count = 0, sum = 0;
    for (intptr_t o = 0; o < oh; o++) {
        const float *a = scratch + rows.lower[o] * ow, *b = scratch + rows.upper[o] * ow, *t = target + o * ow;
        const float wa = rows.lowerWeight[o], wb = rows.upperWeight[o];
        VEC s = {0}, n = {0};
        for (intptr_t x = 0; x < full; x += W) NAME(store)(g + o * ow + x, NAME(ratio)(a + x, b + x, wa, wb, t + x, eps, &s, &n));
        if (full < ow) {
            const float *parts[3] = {a, b, t};
            NAME(tails)(parts, 3, full, ow - full, tail);
            NAME(store)(tail + 3 * W, NAME(ratio)(tail, tail + W, wa, wb, tail + 2 * W, eps, &s, &n));
            for (intptr_t l = 0; l < ow - full; l++) g[o * ow + full + l] = tail[3 * W + l];
        }
        for (int l = 0; l < W; l++) {
            count += n[l];
            sum += s[l];
        }
    }
    stats[0] += count;
    stats[1] += sum;
}

/// Adds the adjoint of W pixels' d loss / d pred into the width-passed gradient rows ga and gb.
static inline ATTR void NAME(ratio_backward)(const float *a, const float *b, float wa, float wb, const float *t, const float *g,
                                             float eps, float centre, float slope, float offset, float *ga, float *gb, VEC *q) {
    VECI valid;
    const VEC p = NAME(pixels)(a, b, wa, wb, t, &valid);
    const VEC centred = NAME(select)(valid, NAME(load)(g) - centre, NAME(splat)(0));
    *q += centred * centred;
    const VEC dp = NAME(select)(valid, (offset + slope * centred) / (p + eps), NAME(splat)(0));
    NAME(store)(ga, NAME(load)(ga) + wa * dp);
    NAME(store)(gb, NAME(load)(gb) + wb * dp);
}

static ATTR void NAME(log_ratio_backward)(const float *depth, intptr_t ih, intptr_t iw, const float *target, const float *g,
                                          intptr_t oh, intptr_t ow, dp_axis_taps rows, dp_axis_taps columns, float eps,
                                          float centre, float slope, float offset, float *depth_gradient, double *squares, float *scratch) {
    NAME(width_pass)(depth, ih, iw, ow, columns, scratch);
    const intptr_t padded = (ow + W - 1) / W * W, full = ow - ow % W;
    float *adjoint = scratch + ih * ow, tail[4 * W];
    for (intptr_t i = 0; i < ih * padded; i++) adjoint[i] = 0;
    for (intptr_t o = 0; o < oh; o++) {
        const intptr_t lo = rows.lower[o], hi = rows.upper[o];
        const float wa = rows.lowerWeight[o], wb = rows.upperWeight[o];
        const float *a = scratch + lo * ow, *b = scratch + hi * ow, *t = target + o * ow, *gr = g + o * ow;
        VEC q = {0};
        for (intptr_t x = 0; x < full; x += W)
            NAME(ratio_backward)(a + x, b + x, wa, wb, t + x, gr + x, eps, centre, slope, offset, adjoint + lo * padded + x,
                                 adjoint + hi * padded + x, &q);
        if (full < ow) {
            const float *parts[4] = {a, b, t, gr};
            NAME(tails)(parts, 4, full, ow - full, tail);
            NAME(ratio_backward)(tail, tail + W, wa, wb, tail + 2 * W, tail + 3 * W, eps, centre, slope, offset,
                                 adjoint + lo * padded + full, adjoint + hi * padded + full, &q);
        }
        for (int l = 0; l < W; l++) *squares += q[l];
    }
    for (intptr_t i = 0; i < ih * iw; i++) depth_gradient[i] = 0;
    for (intptr_t r = 0; r < ih; r++) {
        float *target_row = depth_gradient + r * iw;
        const float *source = adjoint + r * padded;
        for (intptr_t x = 0; x < ow; x++) {
            target_row[columns.lower[x]] += columns.lowerWeight[x] * source[x];
            target_row[columns.upper[x]] += columns.upperWeight[x] * source[x];
        }
    }
}

#undef VEC
#undef VECI
#undef W
#undef ATTR
#undef NAME
