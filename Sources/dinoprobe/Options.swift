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

    /// Finds and loads the model, reporting where it came from.
    func load(quiet: Bool = false) throws -> DINOv3Model {
        guard threads > 0 else { throw ValidationError("--threads must be at least 1") }
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

    @Option(help: "Refuse images with more pixels than this (decompression-bomb guard).")
    var maxPixels: Int = ImageDecoder.defaultMaxPixels

    func preprocessing() throws -> Preprocessing {
        func triple(_ text: String, _ name: String) throws -> [Float] {
            let values = text.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard values.count == 3 else { throw ValidationError("--\(name) needs three comma-separated numbers, got '\(text)'") }
            return values
        }
        let p = Preprocessing(preset: preset, size: size, mean: try triple(mean, "mean"), std: try triple(std, "std"))
        try p.validate()
        return p
    }
}

func stderrPrint(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
