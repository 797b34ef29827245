import CommandLineKit
import Backbone
import COpenBLAS
import Dispatch
import Foundation

/// The ViT forward pass's matrix products alone through OpenBLAS, at the forward pass's shapes
/// and threading (the projections and MLP on all threads, attention as single-threaded products
/// per (image, head) spread over the threads), with one weight matrix kept hot in the cache: the
/// rate a backbone whose linear layers ran on OpenBLAS would reach if nothing but its GEMMs took
/// time. The forward pass itself runs its linear layers on the packed kernels
/// (`CPackedGEMM`) where it can, so this is the yardstick they are measured against.
enum ForwardGEMMBound {
    /// Images per second of the GEMMs of one forward pass over `batch` images at `height` x
    /// `width` (median of `repeats` after a warm-up).
    static func imagesPerSecond(_ c: DINOv3Config, batch: Int, height: Int, width: Int, threads: Int, repeats: Int) -> Double {
        let p = c.patchSize, patches = (height / p) * (width / p)
        let t = 1 + c.numRegisterTokens + patches, m = batch * t
        let (d, f, heads, hd) = (c.hiddenSize, c.intermediateSize, c.numAttentionHeads, c.headDim)
        let patchInputs = c.numChannels * p * p
        let widest = max(3 * d, f, patchInputs)
        let x = [Float](repeating: 0.25, count: max(m, batch * patches) * widest)
        let w = [Float](repeating: 0.5, count: widest * widest)
        var out = [Float](repeating: 0, count: max(m, batch * patches) * widest)
        /// out[rows, n] = x[rows, k] * w[n, k]^T, as a linear layer.
        func linear(_ rows: Int, _ k: Int, _ n: Int) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(n), Int32(k), 1, x, Int32(k), w, Int32(k), 0, &out, Int32(n))
        }
        func attention() {
            let tasks = batch * heads, workers = max(1, threads)
            openblas_set_num_threads(1)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                var scores = [Float](repeating: 0, count: t * t), context = [Float](repeating: 0, count: t * hd)
                for _ in stride(from: worker, to: tasks, by: workers) {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(t), Int32(t), Int32(hd), 1, x, Int32(hd), w, Int32(hd), 0, &scores, Int32(t))
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(t), Int32(hd), Int32(t), 1, scores, Int32(t), w, Int32(hd), 0, &context, Int32(hd))
                }
            }
            openblas_set_num_threads(Int32(threads))
        }
        func pass() {
            linear(batch * patches, patchInputs, d)
            for _ in 0..<c.numHiddenLayers {
                linear(m, d, 3 * d)
                attention()
                linear(m, d, d)
                linear(m, d, f)
                if c.useGatedMLP { linear(m, d, f) }
                linear(m, f, d)
            }
        }
        pass()
        var times: [Double] = []
        for _ in 0..<max(1, repeats) {
            let start = Date()
            pass()
            times.append(Date().timeIntervalSince(start))
        }
        times.sort()
        return Double(batch) / times[times.count / 2]
    }
}

/// The machine's single-precision GEMM rate with the BLAS in use: one 2048^3 sgemm per
/// measurement, so it can be taken beside each timed forward pass. The matrices (48 MB) live only
/// during a measurement, so they do not add to the forward pass's peak memory.
enum SGEMMProbe {
    static let n = 2048

    /// GFLOP/s of one sgemm (the matrices' allocation untimed).
    static func gflops() -> Double {
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        let n32 = Int32(n)
        let start = Date()
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n32, n32, n32, 1, a, n32, b, n32, 0, &c, n32)
        return 2 * Double(n) * Double(n) * Double(n) / Date().timeIntervalSince(start) / 1e9
    }

    /// The best of `count` measurements.
    static func best(of count: Int) -> Double { (0..<max(1, count)).reduce(0) { best, _ in max(best, gflops()) } }
}
