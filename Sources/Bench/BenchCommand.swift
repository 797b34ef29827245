import ArgumentParser
import CommandLineKit
import Backbone
import COpenBLAS
import Foundation
import Heads
import Support
import Images

@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dinoprobe-bench",
        abstract: "Benchmarks (release builds): the backbone, the attention kernel, the linear-probe grid, logistic regression, segmentation and depth training steps, keypoint matching, label propagation, retrieval ranking.",
        discussion: examples("bench backbone --batch-sizes 1,8 --sizes 224", "bench grid", then: "Compare against the Python references in the same run with scripts/bench."),
        subcommands: [BenchBackbone.self, BenchAttention.self, BenchGrid.self, BenchLogreg.self, BenchSegStep.self, BenchCorrespondence.self, BenchRetrieval.self, BenchDepthStep.self, BenchPropagation.self], defaultSubcommand: BenchBackbone.self)
}

extension Bench {
    /// The same set-up as dinoprobe's (the fast BLAS, kept activation memory), then the command.
    static func main() {
        Torch.keepFreedMemory()
        FastBLAS.ensure()
        var command: ParsableCommand
        // The table rewrites a command line that starts with its command: "bench" stands for this executable.
        let (arguments, notes) = DeprecatedSpellings.rewrite(["bench"] + CommandLine.arguments.dropFirst())
        for note in notes { Console.err("note: " + note) }
        do { command = try parseAsRoot(Array(arguments.dropFirst())) } catch { exit(withError: error) }
        do { try command.run() } catch { exit(withError: error) }
    }
}

/// Options every benchmark takes: the thread count and where the figures go.
struct BenchOptions: ParsableArguments {
    @Option(help: "CPU threads.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Write the figures as JSON to this file.", completion: .file())
    var json: String?

    func validate() throws { try Check.range(threads, 1...Check.maxThreads, "--threads") }

    func applyThreads() { Torch.setThreads(threads) }

    /// Writes the figures to `--json`, when given.
    func record(_ figures: [String: Any]) throws {
        guard let json else { return }
        // The typed writer (JSONValue): integers as integers, whole numbers without ".0", keys as given.
        try AtomicFile.write(Data((JSONValue(describing: figures).text(indent: 2, sortedKeys: true) + "\n").utf8), to: json)
    }
}

struct BenchBackbone: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backbone",
        abstract: "Backbone throughput (batch 1/8/32), end-to-end extraction on JPEGs, peak memory and the sgemm-bound limit.",
        discussion: examples("bench backbone --batch-sizes 1,8 --sizes 224", then: "Compare against transformers in the same run with scripts/bench, which calls this command and scripts/bench_transformers.py."))

    @Option(help: "Checkpoint folder; default: a ViT-S/16-shaped checkpoint with random weights, generated in --work-dir.", completion: .file())
    var model: String?

    @Option(help: "Folder for the generated checkpoint and JPEGs.", completion: .directory)
    var workDir: String = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-bench").path

    @Option(parsing: .upToNextOption, help: "Batch sizes for the backbone-only timing, comma-separated or repeated.")
    var batchSizes: [CommaList<Int>] = [CommaList(argument: "1,8,32")!]

    @Option(name: .customLong("sizes"), parsing: .upToNextOption, help: "Input sizes (square, pixels) for the backbone-only timing, comma-separated or repeated.")
    var inputSizes: [CommaList<Int>] = [CommaList(argument: "224")!]

    @Option(parsing: .upToNextOption, help: "Input size and batch pairs, SIZExBATCH, comma-separated or repeated (e.g. 512x8,2048x1): timed instead of every --sizes x --batch-sizes.")
    var shapes: [CommaList<String>] = []

    @Flag(help: "Skip the end-to-end extraction run (JPEGs at 224 px).")
    var noExtract = false

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

    @Option(help: "Where the backbone runs: cpu or cuda.")
    var device: ComputeDevice = .cpu

    @Option(help: "Backbone precision: f32, or bf16 (also reports the feature drift against f32).")
    var precision: ComputePrecision = .f32

    @OptionGroup var bench: BenchOptions

    func validate() throws {
        try Check.range(repeats, 1...1000, "--repeats")
        try Check.finite(minSeconds, 0...600, "--min-seconds")
        try Check.range(imageCount, 1...100_000, "--image-count")
        for b in batchSizes.flattened() { try Check.range(b, 1...1024, "--batch-sizes") }
        for size in inputSizes.flattened() { try Check.multiple(size, of: 16, 16...4096, "--sizes") }
        let timed = try timedShapes()
        guard Set(timed.map { "\($0.size)x\($0.batch)" }).count == timed.count else { throw ValidationError("a size and batch is named twice (--shapes, or --sizes and --batch-sizes)") }
        for (size, batch) in timed {
            try Check.multiple(size, of: 16, 16...4096, "--shapes")
            try Check.range(batch, 1...1024, "--shapes")
        }
    }

    func run() throws {
        let sizes = batchSizes.flattened()
        bench.applyThreads()
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
        let batchFeatures = try timeSizes(backbone, reference: reference, report: &report)
        reference?.close()  // its memory and threads are not needed for the rest
        if let about = reference?.about { report["transformers"] = about.filter { $0.key != "ready" } }
        if let single = batchFeatures[sizes.min()!], let big = batchFeatures[sizes.max()!] {
            // Image 0 of every batch holds the same pixels: batching must not change its features.
            let drift = zip(single, big).map { abs($0 - $1) }.max() ?? 0
            report["batch_feature_drift"] = drift
            say(String(format: "feature drift between batch %d and %d: max abs %.2e", sizes.min()!, sizes.max()!, drift))
        }

        if precision != .f32 { try measurePrecisionDrift(backbone, folder: folder, report: &report) }

        if !noExtract { try timeExtraction(backbone, work: work, report: &report) }

        let peakMB = peakResidentMiB()
        report["peak_rss_mb"] = peakMB
        say(String(format: "peak RSS (whole bench, batch 32 extraction included): %.0f MB", peakMB))
        try bench.record(report)
    }

    /// The drift of the reduced precision against float32 on the same input, into `report`.
    private func measurePrecisionDrift(_ backbone: DINOv3Model, folder: URL, report: inout [String: Any]) throws {
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

    /// Deterministic pixel values [batch, 3, size, size]: every image of the batch is the same.
    static func pixels(batch: Int, size: Int = 224) -> [Float] {
        let one: [Float] = (0..<(3 * size * size)).map { (i: Int) -> Float in Float((i * 7919) % 255) / 127.5 - 1 }
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

/// This process's peak resident memory so far, in MiB.
func peakResidentMiB() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024
}
