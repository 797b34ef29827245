// Unaligned load and store of a VEC and a VEC of one value, for the kernel bodies (which
// define VEC, ATTR and NAME before including this).
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
