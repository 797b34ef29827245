import ArgumentParser
import Backbone
import Foundation
import Images

extension ComputeDevice: ExpressibleByArgument {}
extension ComputePrecision: ExpressibleByArgument {}
extension PreprocessPreset: ExpressibleByArgument {}

/// Which backbone to run, and where.
struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Checkpoint folder (config.json + safetensors), or a hub id found in the local Hugging Face cache.",
                               discussion: "Default: $DINOPROBE_MODEL, else \(ModelLocator.defaultModelID)."))
    var model: String?

    @Option(help: "Where the backbone runs: cpu or cuda.")
    var device: ComputeDevice = .cpu

    @Option(help: "Backbone precision: f32 (default, matches transformers) or bf16 (opt-in; faster on CPUs with AVX512-BF16, features drift).")
    var precision: ComputePrecision = .f32

    @Option(help: "CPU threads for the backbone and BLAS (default: all available cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        try Check.range(threads, 1...Check.maxThreads, "--threads")
    }

    /// Finds and loads the model, reporting where it came from.
    func load(quiet: Bool = false) throws -> DINOv3Model {
        // One OpenMP pool of this size serves libtorch and the OpenMP OpenBLAS: no oversubscription.
        Torch.setThreads(threads)
        let folder = try ModelLocator.resolve(model)
        let start = Date()
        let loaded = try DINOv3Model(folder: folder, device: device, precision: precision)
        if !quiet {
            stderrPrint("model: \(loaded.variantName) from \(folder.path) (\(String(format: "%.1f", Date().timeIntervalSince(start)))s, \(device.rawValue), \(precision.rawValue))")
        }
        return loaded
    }

    /// The id recorded with features and heads: the hub id or folder the user named.
    var displayID: String { model ?? ProcessInfo.processInfo.environment["DINOPROBE_MODEL"] ?? ModelLocator.defaultModelID }
}

/// How images become pixel values.
struct PreprocessOptions: ParsableArguments {
    @Option(help: "Preprocessing: hf (transformers' processor: resize to S x S), eval (short side 256/224*S, centre crop S), native (keep aspect ratio, sides multiples of 16).")
    var preset: PreprocessPreset = .hf

    @Option(help: "Input size S in pixels (native: the short side). A multiple of 16.")
    var size: Int = 224

    @Option(help: "Normalisation mean, R,G,B (satellite weights: 0.430,0.411,0.296).")
    var mean: String = "0.485,0.456,0.406"

    @Option(help: "Normalisation std, R,G,B (satellite weights: 0.213,0.156,0.143).")
    var std: String = "0.229,0.224,0.225"

    @Option(help: "Refuse images with more pixels than this (decompression-bomb guard; decoding one image takes at most about 8 bytes per allowed pixel).")
    var maxPixels: Int = ImageDecoder.defaultMaxPixels

    func validate() throws {
        try Check.multiple(size, of: 16, 16...8192, "--size")
        _ = try Check.numbers(mean, count: 3, -1000...1000, "--mean")
        _ = try Check.numbers(std, count: 3, 1e-6...1000, "--std")
        try Check.range(maxPixels, 1...ImageDecoder.maxPixelsLimit, "--max-pixels")
    }

    func preprocessing() throws -> Preprocessing {
        let p = Preprocessing(preset: preset, size: size, mean: try Check.numbers(mean, count: 3, -1000...1000, "--mean"),
                              std: try Check.numbers(std, count: 3, 1e-6...1000, "--std"))
        try p.validate()
        return p
    }
}

