// What the shim's translation units share: the tensor handle and the exception guard that keeps
// every C++ exception on this side (a NULL / negative return plus a per-thread message).
#pragma once
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <exception>
#include <string>

struct ct_tensor {
    at::Tensor t;
};

namespace ctorch {
/// The message of the last failed call on this thread.
extern thread_local std::string last_error;

/// Runs `f` in inference mode; false (with the message in last_error) if it threw.
template <typename F>
bool attempt(F &&f) {
    try {
        c10::InferenceMode guard;
        f();
        return true;
    } catch (const c10::Error &e) {
        last_error = e.what_without_backtrace();
    } catch (const std::exception &e) {
        last_error = e.what();
    } catch (...) {
        last_error = "unknown libtorch error";
    }
    return false;
}

/// The tensor `f` returns, owned by a new handle; NULL if it threw.
template <typename F>
ct_tensor *guarded(F &&f) {
    ct_tensor *result = nullptr;
    attempt([&] { result = new ct_tensor{f()}; });
    return result;
}

/// Runs `f` (an in-place op) as `guarded` does; 0 on success, -1 on failure.
template <typename F>
int guarded_status(F &&f) { return attempt(f) ? 0 : -1; }
} // namespace ctorch
