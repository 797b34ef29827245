import ArgumentParser
import CommandLineKit
import Backbone
import Foundation

/// One row of `bench backbone`'s table: dinoprobe and transformers at one input size and batch.
struct SizeFigures {
    let size: Int, batch: Int
    /// dinoprobe's images per second (median pass) and its share of the sgemm-bound limit (each
    /// pass against the limit measured just before it; median).
    let rate: Double, share: Double
    /// transformers' images per second and the median of the paired ratios (nil without it).
    let reference: Double?, ratio: Double?

    /// The JSON key: the batch alone at 224 px (as before sizes were added), else "SIZEpx/BATCH".
    var key: String { size == 224 ? "\(batch)" : "\(size)px/\(batch)" }
}

extension BenchBackbone {
    /// Times the forward pass at each size and batch (sizes outer), paired with the reference's.
    /// Writes the figures into `report`; returns image 0's CLS features per batch at 224 px.
    func timeSizes(_ backbone: DINOv3Model, reference: ReferenceForward?, report: inout [String: Any]) throws -> [Int: [Float]] {
        var rows: [SizeFigures] = [], gemmBound: [String: Double] = [:], cls: [Int: [Float]] = [:]
        var lastSize = 0
        for (size, b) in try timedShapes() {
            let flops = 2 * backbone.multiplyAdds(height: size, width: size)
            if size != 224 && size != lastSize { say(String(format: "at %d x %d px: %.1f GFLOPs/image (attention's two products included)", size, size, Double(flops) / 1e9)) }
            lastSize = size
            let timing = try timeForward(backbone, batch: b, size: size, against: reference, probing: true)
            let row = figures(timing, size: size, batch: b, flops: flops)
            rows.append(row)
            if size == 224 { cls[b] = timing.cls }
            // OpenBLAS on the GEMMs alone keeps T x T scores per thread: only where they are small.
            if backbone.convNextConfig == nil && device == .cpu && precision == .f32 && size <= 1024 {
                let bound = ForwardGEMMBound.imagesPerSecond(backbone.config, batch: b, height: size, width: size, threads: bench.threads, repeats: repeats)
                gemmBound[row.key] = bound
                say(String(format: "  OpenBLAS on its GEMMs alone, same shapes: %7.2f images/s", bound))
            }
        }
        if !gemmBound.isEmpty { report["openblas_gemm_only_images_per_s"] = gemmBound }
        report["forward_images_per_s"] = Dictionary(uniqueKeysWithValues: rows.map { ($0.key, $0.rate) })
        report["sgemm_bound_share"] = Dictionary(uniqueKeysWithValues: rows.map { ($0.key, $0.share) })
        if reference != nil {
            report["transformers_images_per_s"] = Dictionary(uniqueKeysWithValues: rows.compactMap { r in r.reference.map { (r.key, $0) } })
            report["ratio_to_transformers"] = Dictionary(uniqueKeysWithValues: rows.compactMap { r in r.ratio.map { (r.key, $0) } })
        }
        if rows.count > 1 { sayTable(rows) }
        return cls
    }

    /// The (size, batch) pairs to time: --shapes, else every --sizes x --batch-sizes (sizes outer).
    func timedShapes() throws -> [(size: Int, batch: Int)] {
        guard !shapes.isEmpty else { return inputSizes.flattened().flatMap { size in batchSizes.flattened().map { (size, $0) } } }
        return try shapes.flatMap(\.values).map { text in
            let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
            guard parts.count == 2, let size = Int(parts[0]), let batch = Int(parts[1]) else {
                throw ValidationError("--shapes takes SIZExBATCH pairs such as 512x8, not '\(text)'")
            }
            return (size, batch)
        }
    }

    /// One size and batch's figures from its timings, said as they come.
    private func figures(_ timing: ForwardTiming, size: Int, batch b: Int, flops: Int) -> SizeFigures {
        let rate = Double(b) / median(timing.seconds)
        // Each pass against the limit measured just before it: both under the same load.
        let pairShares = zip(timing.seconds, timing.probeGFLOPs).map { Double(b) / $0 / ($1 * 1e9 / Double(flops)) }.sorted()
        say(String(format: "backbone forward, %d px, batch %2d: %7.2f images/s (median of %d)", size, b, rate, timing.seconds.count))
        say(String(format: "  %.0f%% of the sgemm-bound limit measured just before each pass (median, middle half %.0f-%.0f%%)",
                   100 * median(pairShares), 100 * quantile(pairShares, 0.25), 100 * quantile(pairShares, 0.75)))
        guard !timing.referenceSeconds.isEmpty else { return SizeFigures(size: size, batch: b, rate: rate, share: median(pairShares), reference: nil, ratio: nil) }
        let referenceRate = Double(b) / median(timing.referenceSeconds)
        let pairRatios = zip(timing.referenceSeconds, timing.seconds).map { $0 / $1 }.sorted()
        say(String(format: "  transformers: %7.2f images/s; dinoprobe / transformers %.2fx (median of %d pairs, middle half %.2f-%.2fx)",
                   referenceRate, median(pairRatios), pairRatios.count, quantile(pairRatios, 0.25), quantile(pairRatios, 0.75)))
        return SizeFigures(size: size, batch: b, rate: rate, share: median(pairShares), reference: referenceRate, ratio: median(pairRatios))
    }

    /// The figures side by side, one line per size and batch.
    private func sayTable(_ rows: [SizeFigures]) {
        say("size   batch  dinoprobe img/s  transformers img/s  ratio  sgemm-bound share")
        for r in rows {
            let reference = r.reference.map { String(format: "%18.3f", $0) } ?? String(repeating: " ", count: 17) + "-"
            let ratio = r.ratio.map { String(format: "%5.2fx", $0) } ?? "     -"
            say(String(format: "%4d  %6d  %15.3f  %@  %@  %16.0f%%", r.size, r.batch, r.rate, reference, ratio, 100 * r.share))
        }
    }
}
