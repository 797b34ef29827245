// One kernel of dp_layer_norm, included by layer_norm.c with ATTR, NAME, VEC (8 float lanes) and
// its operations VSET1, VLOAD, VSTORE, VADD, VSUB, VMUL and VFMA (a * b + c, one rounding).

/// ATen's AddMomentsVec: merges lanes of (count, mean, m2) into the running triple.
static inline ATTR void NAME(add_moments_vec)(int64_t count, VEC mean, VEC m2, int64_t *m0, VEC *m1, VEC *running_m2) {
    const int64_t total = *m0 + count;
    const float c = total == 0 ? 0.0f : (float)count / (float)total;
    const VEC delta = VSUB(mean, *m1);
    const VEC m2_sum = VADD(*running_m2, m2);
    const VEC c_delta = VMUL(VSET1(c), delta);
    const VEC m0_delta = VMUL(delta, VSET1((float)*m0));
    *m1 = VADD(*m1, c_delta);
    *running_m2 = VFMA(m0_delta, c_delta, m2_sum);
    *m0 = total;
}

/// ATen's RowwiseMoments on one row: Welford per lane over chunks of kChunk vectors, each chunk
/// pushed onto a binary cascade, the cascade folded, then finish_moments.
static ATTR void NAME(row_moments)(const float *x, int64_t n, float *mean, float *variance) {
    const int64_t vectors = n / kLanes, chunks = (vectors + kChunk - 1) / kChunk;
    const int depth = ceil_log2(chunks);
    int64_t m0_stack[kMaxDepth] = {0};
    VEC m1_stack[kMaxDepth], m2_stack[kMaxDepth];
    for (int d = 0; d < depth; d++) m1_stack[d] = m2_stack[d] = VSET1(0.0f);
    for (int64_t chunk = 0; chunk < chunks; chunk++) {
        const float *p = x + chunk * kChunk * kLanes;
        const int64_t count = vectors - chunk * kChunk < kChunk ? vectors - chunk * kChunk : kChunk;
        VEC m1 = VSET1(0.0f), m2 = VSET1(0.0f);
        for (int64_t j = 0; j < count; j++) {
            const VEC value = VLOAD(p + j * kLanes);
            const VEC delta = VSUB(value, m1);
            m1 = VFMA(VSET1(1.0f / (float)(j + 1)), delta, m1);
            m2 = VFMA(delta, VSUB(value, m1), m2);
        }
        NAME(add_moments_vec)(count, m1, m2, &m0_stack[0], &m1_stack[0], &m2_stack[0]);
        int64_t mask = chunk + 1;
        for (int d = 1; d < depth && (mask & 1) == 0; d++) {
            NAME(add_moments_vec)(m0_stack[d - 1], m1_stack[d - 1], m2_stack[d - 1], &m0_stack[d], &m1_stack[d], &m2_stack[d]);
            m0_stack[d - 1] = 0;
            m1_stack[d - 1] = m2_stack[d - 1] = VSET1(0.0f);
            mask >>= 1;
        }
    }
    for (int d = 1; d < depth; d++)
        NAME(add_moments_vec)(m0_stack[d], m1_stack[d], m2_stack[d], &m0_stack[0], &m1_stack[0], &m2_stack[0]);
    float lane_m1[kLanes], lane_m2[kLanes];
    VSTORE(lane_m1, m1_stack[0]);
    VSTORE(lane_m2, m2_stack[0]);
    finish_moments(x, n, vectors, lane_m1, lane_m2, mean, variance);
}

static ATTR void NAME(layer_norm_rows)(const float *x, intptr_t rows, intptr_t n, const float *gamma, const float *beta,
                                       float eps, float *y) {
    for (intptr_t r = 0; r < rows; r++) {
        const float *in = x + r * n;
        float *out = y + r * n;
        float mean, variance;
        NAME(row_moments)(in, n, &mean, &variance);
        const float rstd = 1.0f / sqrtf(variance + eps), bias = -mean;
        intptr_t j = 0;
        for (; j + kLanes <= n; j += kLanes) {
            const VEC g = gamma ? VLOAD(gamma + j) : VSET1(1.0f), b = beta ? VLOAD(beta + j) : VSET1(0.0f);
            VSTORE(out + j, VFMA(VMUL(VADD(VLOAD(in + j), VSET1(bias)), VSET1(rstd)), g, b));
        }
        for (; j < n; j++) {
            const float centered = in[j] + bias, scaled = centered * rstd;
            out[j] = __builtin_fmaf(scaled, gamma ? gamma[j] : 1.0f, beta ? beta[j] : 0.0f);
        }
    }
}
