import ArgumentParser
import Backbone
import COpenBLAS
import Foundation
import Heads
import Support
import Images

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (release builds): the backbone, the linear-probe grid, logistic regression, a segmentation training step.",
        discussion: "Compare against the Python references in the same run with scripts/bench.",
        subcommands: [BenchBackbone.self, BenchGrid.self, BenchLogreg.self, BenchSegStep.self], defaultSubcommand: BenchBackbone.self)
}

/// Options every benchmark takes: the thread count and where the figures go.
struct BenchOptions: ParsableArguments {
    @Option(help: "CPU threads.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Write the figures as JSON to this file.")
    var json: String?

    func validate() throws { try Check.range(threads, 1...Check.maxThreads, "--threads") }

    func applyThreads() { Torch.setThreads(threads) }

    /// Writes the figures to `--json`, when given.
    func record(_ figures: [String: Any]) throws {
        guard let json else { return }
        // The typed writer: an integer stays an integer and 1.0 a float (JSONSerialization writes 1).
        try AtomicFile.write(Data((JSONValue(describing: figures).text(indent: 2, sortedKeys: true) + "\n").utf8), to: json)
    }
}

struct BenchBackbone: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backbone",
        abstract: "Backbone throughput (batch 1/8/32), end-to-end extraction on JPEGs, peak memory and the sgemm-bound limit.",
        discussion: "Compare against transformers in the same run with scripts/bench, which calls this command and scripts/bench_transformers.py.")

    @Option(help: "Checkpoint folder; default: a ViT-S/16-shaped checkpoint with random weights, generated in --work-dir.")
    var model: String?

    @Option(help: "Folder for the generated checkpoint and JPEGs.")
    var workDir: String = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-bench").path

    @Option(parsing: .upToNextOption, help: "Batch sizes for the backbone-only timing, comma-separated or repeated.")
    var batchSizes: [CommaList<Int>] = [CommaList(argument: "1,8,32")!]

    @Option(help: "Timed repetitions per figure (after one warm-up); the median is reported.")
    var repeats: Int = 5

    @Option(help: "Least time, in seconds, spent timing dinoprobe's forward pass at each batch size (more repeats when --repeats takes less).")
    var minSeconds: Double = 3

    @Option(help: "A Python with torch and transformers: times transformers on the same checkpoint, in turn with each forward pass, and reports the paired ratios (scripts/bench gives it).")
    var referencePython: String?

    @Option(help: "The reference's script (with --reference-python).")
    var referenceScript: String = "scripts/bench_transformers.py"

    @Option(help: "JPEGs in the end-to-end extraction run.")
    var imageCount: Int = 96

    @Option(name: .customLong("images"), help: .hidden)
    var deprecatedImages: Int?

    @Option(help: "Where the backbone runs: cpu or cuda.")
    var device: ComputeDevice = .cpu

    @Option(help: "Backbone precision: f32, or bf16 (also reports the feature drift against f32).")
    var precision: ComputePrecision = .f32

    @OptionGroup var bench: BenchOptions

    @Flag(name: .customLong("grid"), help: .hidden)
    var deprecatedGrid = false

    @Flag(name: .customLong("seg-step"), help: .hidden)
    var deprecatedSegStep = false

    func validate() throws {
        try Check.range(repeats, 1...1000, "--repeats")
        try Check.finite(minSeconds, 0...600, "--min-seconds")
        try Check.range(deprecatedImages ?? imageCount, 1...100_000, "--image-count")
        for b in batchSizes.flattened() { try Check.range(b, 1...1024, "--batch-sizes") }
    }

    func run() throws {
        let sizes = batchSizes.flattened()
        bench.applyThreads()
        if deprecatedGrid || deprecatedSegStep {
            Console.err("note: bench \(deprecatedGrid ? "--grid" : "--seg-step") is deprecated; use bench \(deprecatedGrid ? "grid" : "seg-step")")
            try bench.record(deprecatedGrid ? try GridBenchmark.run() : try SegmentationStepBenchmark.run())
            return
        }
        let work = URL(fileURLWithPath: workDir)
        let folder = try model.map { try ModelLocator.resolve($0) } ?? generatedModel(in: work)
        let backbone = try DINOv3Model(folder: folder, device: device, precision: precision)
        let flops = 2 * backbone.multiplyAdds(height: 224, width: 224)
        var report: [String: Any] = [
            "model": folder.path, "variant": backbone.variantName, "threads": bench.threads, "device": device.rawValue, "precision": precision.rawValue,
            "libtorch": Torch.version, "blas_core": FastBLAS.report.core,
            "gflops_per_image": Double(flops) / 1e9,
        ]
        let gflops = SGEMMProbe.best(of: 4)
        let limit = gflops / (Double(flops) / 1e9)
        report["sgemm_gflops"] = gflops
        report["sgemm_bound_images_per_s"] = limit
        say(String(format: "sgemm 2048^3: %.1f GFLOP/s -> sgemm-bound limit %.1f images/s (%.2f GFLOPs/image)", gflops, limit, Double(flops) / 1e9))

        let reference = try referencePython.map {
            try ReferenceForward(python: $0, script: referenceScript, model: folder, threads: bench.threads)
        }
        defer { reference?.close() }
        if let about = reference?.about {
            say("transformers (torch \(about["torch"] ?? "?"), \(about["model"] ?? "?"), attention \(about["attn_implementation"] ?? "?")) on the same checkpoint and \(bench.threads) threads, timed in turn with each forward pass below")
        }
        var forward: [String: Double] = [:], gemmBound: [String: Double] = [:], shares: [String: Double] = [:]
        var referenceRates: [String: Double] = [:], transformersRatios: [String: Double] = [:]
        var batchFeatures: [Int: [Float]] = [:]
        for b in sizes {
            let timing = try timeForward(backbone, batch: b, against: reference, probing: true)
            let rate = Double(b) / median(timing.seconds)
            // Each pass against the limit measured just before it: both under the same load.
            let pairShares = zip(timing.seconds, timing.probeGFLOPs).map { Double(b) / $0 / ($1 * 1e9 / Double(flops)) }.sorted()
            forward["\(b)"] = rate
            shares["\(b)"] = median(pairShares)
            batchFeatures[b] = timing.cls
            say(String(format: "backbone forward, batch %2d: %7.2f images/s (median of %d)", b, rate, timing.seconds.count))
            say(String(format: "  %.0f%% of the sgemm-bound limit measured just before each pass (median, middle half %.0f-%.0f%%); %.0f%% of the limit measured at the start",
                       100 * median(pairShares), 100 * quantile(pairShares, 0.25), 100 * quantile(pairShares, 0.75), 100 * rate / limit))
            if !timing.referenceSeconds.isEmpty {
                let referenceRate = Double(b) / median(timing.referenceSeconds)
                let pairRatios = zip(timing.referenceSeconds, timing.seconds).map { $0 / $1 }.sorted()
                referenceRates["\(b)"] = referenceRate
                transformersRatios["\(b)"] = median(pairRatios)
                say(String(format: "  transformers: %7.2f images/s; dinoprobe / transformers %.2fx (median of %d pairs, middle half %.2f-%.2fx)",
                           referenceRate, median(pairRatios), pairRatios.count, quantile(pairRatios, 0.25), quantile(pairRatios, 0.75)))
            }
            if backbone.convNextConfig == nil && device == .cpu && precision == .f32 {
                let bound = ForwardGEMMBound.imagesPerSecond(backbone.config, batch: b, height: 224, width: 224, threads: bench.threads, repeats: repeats)
                gemmBound["\(b)"] = bound
                say(String(format: "  OpenBLAS on its GEMMs alone, same shapes: %7.2f images/s (%.0f%% of the limit)", bound, 100 * bound / limit))
            }
        }
        reference?.close()  // its memory and threads are not needed for the rest
        if let about = reference?.about {
            report["transformers"] = about.filter { $0.key != "ready" }
            report["transformers_images_per_s"] = referenceRates
            report["ratio_to_transformers"] = transformersRatios
        }
        report["forward_images_per_s"] = forward
        report["sgemm_bound_share"] = shares
        if !gemmBound.isEmpty { report["openblas_gemm_only_images_per_s"] = gemmBound }
        if let single = batchFeatures[sizes.min()!], let big = batchFeatures[sizes.max()!] {
            // Image 0 of every batch holds the same pixels: batching must not change its features.
            let drift = zip(single, big).map { abs($0 - $1) }.max() ?? 0
            report["batch_feature_drift"] = drift
            say(String(format: "feature drift between batch %d and %d: max abs %.2e", sizes.min()!, sizes.max()!, drift))
        }

        if precision != .f32 {
            // Drift of the reduced precision against float32 on the same input.
            let reference = try DINOv3Model(folder: folder, device: device)
            let pixels = Self.pixels(batch: 1)
            let a = try reference.forward(pixels: pixels, batch: 1, height: 224, width: 224).lastHiddenState
            let b = try backbone.forward(pixels: pixels, batch: 1, height: 224, width: 224).lastHiddenState
            var maxDiff: Float = 0, sumDiff = 0.0, sumAbs = 0.0
            for (x, y) in zip(a, b) {
                maxDiff = max(maxDiff, abs(x - y))
                sumDiff += Double(abs(x - y))
                sumAbs += Double(abs(x))
            }
            let meanDiff = sumDiff / Double(a.count), scale = sumAbs / Double(a.count)
            report["precision_drift_max_abs"] = maxDiff
            report["precision_drift_mean_abs"] = meanDiff
            say(String(format: "%@ drift against f32 (last_hidden_state, one image): max abs %.3g, mean abs %.3g (mean |value| %.3g)",
                         precision.rawValue, maxDiff, meanDiff, scale))
        }

        let images = deprecated(deprecatedImages, old: "--images", new: "--image-count") ?? imageCount
        let jpegs = try generatedJPEGs(in: work.appendingPathComponent("jpegs"), count: images)
        let extractor = try FeatureExtractor(model: backbone, preprocessing: Preprocessing(), batchSize: 32)
        _ = try extractor.run(paths: Array(jpegs.prefix(32)), onBatch: { _ in })
        // Paired: each end-to-end run next to a backbone-only pass over the same number of images
        // at batch 32, interleaved batch by batch (extract batch 1, backbone, backbone, extract
        // batch 2, ...), the order flipping from batch to batch and from pair to pair, so that both
        // see the same seconds of a shared machine and a trend in its load favours neither; the
        // median ratio of the pairs is reported. Nine pairs, or one per repeat when --repeats asks
        // for more (each takes about 10 s): the pairs scatter by a few percent on a shared machine.
        let batches = stride(from: 0, to: jpegs.count, by: 32).map { Array(jpegs[$0..<min($0 + 32, jpegs.count)]) }
        // The backbone-only side's inputs: whole batches, and the last one's size when it is short.
        let fullPixels = Self.pixels(batch: 32), restPixels = Self.pixels(batch: jpegs.count % 32)
        var times: [Double] = [], ratios: [Double] = [], backboneRates: [Double] = []
        for pair in 0..<max(repeats, 9) {
            var extractSeconds = 0.0, backboneSeconds = 0.0
            for (index, batch) in batches.enumerated() {
                let extractFirst = (pair + index) % 2 == 0
                for step in 0..<2 {
                    let start = Date()
                    if (step == 0) == extractFirst {
                        try extractor.run(paths: batch, onBatch: { _ in })
                        extractSeconds += Date().timeIntervalSince(start)
                    } else {
                        _ = try backbone.forward(pixels: batch.count == 32 ? fullPixels : restPixels, batch: batch.count, height: 224, width: 224)
                        backboneSeconds += Date().timeIntervalSince(start)
                    }
                }
            }
            times.append(extractSeconds)
            backboneRates.append(Double(jpegs.count) / backboneSeconds)
            ratios.append(backboneSeconds / extractSeconds)
        }
        let e2e = Double(jpegs.count) / median(times)
        let backbone32 = median(backboneRates)
        report["extract_images_per_s"] = e2e
        report["extract_vs_backbone_32"] = median(ratios)
        say(String(format: "end-to-end extract (decode + preprocess + forward, batch 32, %d JPEGs 500x375): %.2f images/s = %.2fx backbone-only (median of %d pairs, each against a backbone-only pass over as many images, interleaved batch by batch: %@)",
                   jpegs.count, e2e, median(ratios), ratios.count, ratios.map { String(format: "%.2fx", $0) }.joined(separator: ", ")))
        // Decoding and preprocessing alone, on one thread with nothing else running: the CPU time
        // the overlap has to find beside the forward pass, which keeps every thread busy.
        let decodeStart = Date()
        for path in jpegs { _ = try extractor.prepare(path: path) }
        let decodeSeconds = Date().timeIntervalSince(decodeStart) / Double(jpegs.count)
        let ceiling = 1 / (1 + decodeSeconds * backbone32 / Double(bench.threads))
        report["decode_ms_per_image"] = decodeSeconds * 1000
        report["extract_ceiling_vs_backbone_32"] = ceiling
        say(String(format: "  decode + preprocess alone: %.2f ms/image on one thread, %.1f%% of the %d threads' time per image at the batch-32 rate: with no idle time at all, end to end could reach %.2fx",
                   decodeSeconds * 1000, 100 * (1 / ceiling - 1), bench.threads, ceiling))

        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let peakMB = Double(usage.ru_maxrss) / 1024
        report["peak_rss_mb"] = peakMB
        say(String(format: "peak RSS (whole bench, batch 32 extraction included): %.0f MB", peakMB))
        try bench.record(report)
    }

    /// Deterministic pixel values [batch, 3, 224, 224]: every image of the batch is the same.
    static func pixels(batch: Int) -> [Float] {
        let one: [Float] = (0..<(3 * 224 * 224)).map { (i: Int) -> Float in Float((i * 7919) % 255) / 127.5 - 1 }
        return Array([[Float]](repeating: one, count: batch).joined())
    }

    func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// ViT-S/16 with random weights, generated once.
    func generatedModel(in work: URL) throws -> URL {
        let folder = work.appendingPathComponent("vits16-random")
        if !FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path) {
            say("generating a ViT-S/16-shaped checkpoint with random weights in \(folder.path)")
            try RandomCheckpoint.write(config: .vitS16, to: folder, seed: 1)
        }
        return folder
    }

    /// Photo-sized JPEGs with structure (gradients, blocks, noise), generated once.
    func generatedJPEGs(in folder: URL, count: Int) throws -> [String] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var paths: [String] = []
        var random = SeededRandom(seed: 88172645463325252)
        for i in 0..<count {
            let path = folder.appendingPathComponent(String(format: "img_%04d.jpg", i)).path
            paths.append(path)
            if FileManager.default.fileExists(atPath: path) { continue }
            let (w, h) = (500, 375)
            var px = [UInt8](repeating: 0, count: w * h * 3)
            for y in 0..<h {
                for x in 0..<w {
                    let n = random.int(below: 32)
                    let o = (y * w + x) * 3
                    px[o] = UInt8((x * 255 / w + n + i * 13) % 256)
                    px[o + 1] = UInt8((y * 255 / h + n) % 256)
                    px[o + 2] = UInt8(((x / 40 + y / 40 + i) % 2) * 180 + n)
                }
            }
            try JPEGEncoder.write(RGBImage(width: w, height: h, pixels: px), to: path, quality: 90)
        }
        return paths
    }

}
