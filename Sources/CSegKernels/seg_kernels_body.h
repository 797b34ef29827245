// The kernels, written once over a vector type and instantiated by seg_kernels.c per ISA.
// Expects: VEC (a GCC vector of W floats), W, ATTR (target attribute), EXPN(x, y, rows, stride,
// shifts) (y = exp(x - shifts[row]) over rows of stride floats, stride a multiple of W, x == y
// allowed), VMAX(a, b), HMAX(v) and HSUM(v) (horizontal max and sum) and NAME(x) (adds the ISA
// suffix).

static inline ATTR VEC NAME(load)(const float *p) {
    VEC v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static inline ATTR void NAME(store)(float *p, VEC v) { __builtin_memcpy(p, &v, sizeof v); }

static inline ATTR VEC NAME(splat)(float x) {
    VEC v = {0};
    return v + x;
}

/// Lane-wise sums of n floats (a multiple of W).
static inline ATTR VEC NAME(sum)(const float *x, intptr_t n) {
    VEC s = {0};
    for (intptr_t c = 0; c < n; c += W) s += NAME(load)(x + c);
    return s;
}

/// dp_softmax_xent_row for this ISA: exp(x - max) for the whole vectors, then for one partial
/// vector whose unused lanes are -inf (so their exp is 0), all through the same exp.
static inline ATTR double NAME(xent_row)(const float *x, intptr_t k, intptr_t label, float scale,
                                         float *g) {
    const intptr_t full = k - k % W, rest = k - full;
    float maximum = -INFINITY;
    if (full > 0) {
        VEC m = NAME(load)(x);
        for (intptr_t c = W; c < full; c += W) m = VMAX(m, NAME(load)(x + c));
        maximum = HMAX(m);
    }
    for (intptr_t c = full; c < k; c++) maximum = x[c] > maximum ? x[c] : maximum;
    EXPN(x, g, 1, full, &maximum);
    VEC s = NAME(sum)(g, full);
    if (rest > 0) {
        float tail[W];
        for (intptr_t j = 0; j < W; j++) tail[j] = j < rest ? x[full + j] : -INFINITY;
        EXPN(tail, tail, 1, W, &maximum);
        for (intptr_t j = 0; j < rest; j++) g[full + j] = tail[j];
        s += NAME(load)(tail);
    }
    const float sum = HSUM(s);
    const float factor = scale / sum;
    for (intptr_t c = 0; c < full; c += W) NAME(store)(g + c, NAME(load)(g + c) * factor);
    for (intptr_t c = full; c < k; c++) g[c] *= factor;
    g[label] -= scale;
    return (double)logf(sum) + (double)maximum - (double)x[label];
}

/// A run of pixels that read the same two input columns, in the run's buffers.
typedef struct {
    intptr_t n;                     ///< pixels
    float maxima[SEG_CHUNK];        ///< each pixel's largest logit
    float picked[SEG_CHUNK];        ///< each pixel's logit of its label
    float factors[SEG_CHUNK];       ///< scale / sum of exps
    float w0[SEG_CHUNK], w1[SEG_CHUNK];  ///< the lower and upper column's weights
    intptr_t labels[SEG_CHUNK];
} NAME(run);

/// Adds the run's gradients g = factor * e - scale * onehot(label) for the `count` vectors of
/// classes from c on through the width pass's adjoint into the two columns' dh, d0 and d1 (the
/// same when the columns are), summed over the run in registers first (count independent sums
/// per column hide the add latency). onehot [2 W] is 1 at W only: loaded at W - j it is 1 in
/// lane j.
static inline ATTR void NAME(run_backward)(const NAME(run) *r, const float *e, intptr_t s, intptr_t c,
                                           int count, float scale, const float *onehot, float *d0,
                                           float *d1) {
    VEC acc0[2] = {{0}}, acc1[2] = {{0}};
    for (intptr_t i = 0; i < r->n; i++) {
        for (int v = 0; v < count; v++) {
            VEC g = NAME(load)(e + i * s + c + v * W) * r->factors[i];
            const intptr_t lane = r->labels[i] - c - v * W;
            if (lane >= 0 && lane < W) g -= scale * NAME(load)(onehot + W - lane);
            acc0[v] += r->w0[i] * g;
            acc1[v] += r->w1[i] * g;
        }
    }
    for (int v = 0; v < count; v++) {
        NAME(store)(d0 + c + v * W, NAME(load)(d0 + c + v * W) + acc0[v]);
        NAME(store)(d1 + c + v * W, NAME(load)(d1 + c + v * W) + acc1[v]);
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
    float onehot[2 * W] = {0};
    onehot[W] = 1;
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
            EXPN(e, e, r.n, s, r.maxima);
            for (intptr_t i = 0; i < r.n; i++) {
                const float sum = HSUM(NAME(sum)(e + i * s, s));
                r.factors[i] = scale / sum;
                total += (double)logf(sum) + (double)r.maxima[i] - (double)r.picked[i];
            }
            intptr_t c = 0;
            for (; c + 2 * W <= s; c += 2 * W) NAME(run_backward)(&r, e, s, c, 2, scale, onehot, dh + lower * s, dh + upper * s);
            for (; c < s; c += W) NAME(run_backward)(&r, e, s, c, 1, scale, onehot, dh + lower * s, dh + upper * s);
        }
        float *da = dz + rows.lower[o] * in_w * k, *db = dz + rows.upper[o] * in_w * k;
        for (intptr_t i = 0; i < in_w; i++) {
            for (intptr_t c = 0; c < k; c++) da[i * k + c] += wa * dh[i * s + c];
            for (intptr_t c = 0; c < k; c++) db[i * k + c] += wb * dh[i * s + c];
        }
    }
    return total;
}
