// The OpenMP team's work sharing for the shim's own kernels (ctorch.cpp, attention.cpp).
#ifndef DINOPROBE_CTORCH_PARALLEL_CHUNKS_H
#define DINOPROBE_CTORCH_PARALLEL_CHUNKS_H

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>

#ifndef DINOPROBE_LIBTORCH_CUSTOM
// libgomp's entry points (what `#pragma omp parallel` compiles to). This file is not built with
// -fopenmp, so ATen's header-only at::parallel_for would run serially here; calling libgomp
// directly runs on the same thread team as libtorch's ops and OpenBLAS (Debian's libtorch and
// the OpenMP OpenBLAS both use libgomp), and OpenBLAS sees the parallel region and keeps each
// call it receives there single-threaded.
extern "C" {
void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
int omp_in_parallel(void);
}
#endif

namespace ctorch {
/// Runs body(begin, end) over [0, count) in grabs of `grain` items, handed out in order to the
/// threads of the OpenMP team (at::get_num_threads() threads) as each becomes free, so that a
/// thread the system preempts (for the decoding thread, say) holds up only the grab it is in;
/// serially inside a parallel region, with one thread, or with a custom libtorch (whose OpenMP
/// runtime may not be the system's).
template <typename F>
void parallel_chunks(int64_t count, int64_t grain, const F &body) {
    grain = std::max<int64_t>(grain, 1);
#ifndef DINOPROBE_LIBTORCH_CUSTOM
    if (count > grain && at::get_num_threads() > 1 && !omp_in_parallel()) {
        struct Job {
            const F *body;
            int64_t count, grain;
            std::atomic<int64_t> next{0};
            std::atomic_flag failed = ATOMIC_FLAG_INIT;
            std::exception_ptr error;
        } job{&body, count, grain};
        GOMP_parallel([](void *data) {
            auto *job = static_cast<Job *>(data);
            for (;;) {
                const int64_t begin = job->next.fetch_add(job->grain, std::memory_order_relaxed);
                if (begin >= job->count) return;
                try {
                    (*job->body)(begin, std::min(job->count, begin + job->grain));
                } catch (...) {
                    if (!job->failed.test_and_set()) job->error = std::current_exception();
                    job->next.store(job->count, std::memory_order_relaxed);
                    return;
                }
            }
        }, &job, 0, 0);
        if (job.error) std::rethrow_exception(job.error);
        return;
    }
#endif
    body(0, count);
}

/// True for a float32, contiguous CPU tensor (what the shim's own kernels take).
inline bool is_cpu_float_contiguous(const at::Tensor &t) {
    return t.is_cpu() && t.scalar_type() == at::kFloat && t.is_contiguous();
}
} // namespace ctorch

#endif
