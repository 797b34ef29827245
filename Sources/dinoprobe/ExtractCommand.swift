import ArgumentParser
import Backbone
import Foundation
import SafeTensors
import Training
import Support

struct Extract: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Extract CLS, mean-patch (and optionally patch and register) features of images into a safetensors file.",
        discussion: """
        Tensors written: cls [N, D] (pooler_output), mean_patch [N, D]; with --layers L > 1 also \
        layers_cls and layers_mean_patch [N, L, D] (oldest block first, after the final norm); with \
        --patch-tokens, patch_tokens [N, h, w, D] and registers [N, R, D]. Metadata: the image paths \
        (in row order), skipped files, model, weights fingerprint and preprocessing settings.
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var preprocess: PreprocessOptions

    @Option(name: .long, parsing: .upToNextOption, help: "Image files, or folders searched recursively for .jpg/.jpeg/.png.")
    var images: [String]

    @Option(help: "Output safetensors file (written whole or not at all).")
    var out: String

    @Flag(help: "Replace an existing output file.")
    var overwrite = false

    @Flag(help: "Also write patch tokens [N, h, w, D] and register tokens [N, R, D].")
    var patchTokens = false

    @Option(help: "Also keep the normed outputs of the last L blocks.")
    var layers: Int = 1

    @Option(help: "Images per forward pass.")
    var batchSize: Int = 32

    @Option(help: "Store features as f32 or f16.")
    var dtype: String = "f32"

    func validate() throws {
        guard dtype == "f32" || dtype == "f16" else { throw ValidationError("--dtype must be f32 or f16") }
        try Check.range(layers, 1...1024, "--layers")
        try Check.range(batchSize, 1...4096, "--batch-size")
        guard !images.isEmpty else { throw ValidationError("--images needs at least one file or folder") }
    }

    func run() throws {
        // The output first: a bad destination must not cost an extraction.
        try AtomicFile.checkWritable(out)
        if FileSystem.exists(out) && !overwrite {
            throw ValidationError("\(out) already exists; choose another --out, or pass --overwrite to replace it")
        }
        let listing = try ImageFiles.expand(images)
        let paths = listing.images
        for problem in listing.problems { stderrPrint("skipped \(problem.path): \(problem.reason)") }
        guard !paths.isEmpty else { throw ValidationError("no image files found in \(images.joined(separator: ", "))") }
        let preprocessing = try preprocess.preprocessing()
        if patchTokens && preprocessing.preset == .native {
            throw ValidationError("--patch-tokens needs one input size for all images: use --preset hf or eval (native keeps each image's aspect ratio, so grids differ)")
        }
        let model = try modelOptions.load()
        let extractor = try FeatureExtractor(model: model, preprocessing: preprocessing, batchSize: batchSize,
                                             lastLayers: layers, maxPixels: preprocess.maxPixels)
        let writer = try FeatureFileWriter(destination: out, dim: model.config.hiddenSize, layers: layers,
                                           registers: model.config.numRegisterTokens, patchTokens: patchTokens,
                                           dtype: dtype == "f16" ? .f16 : .f32)
        let progress = ProgressReporter("extract", total: paths.count)
        var skipped: [SkippedInput] = []
        do {
            try extractor.run(paths: paths, onBatch: { batch in
                try writer.append(batch, paths: batch.indices.map { paths[$0] })
            }, onSkip: { skip in
                skipped.append(skip)
            }, onProgress: { progress.update($0) })
        } catch {
            writer.discard()
            throw error
        }
        progress.finish(paths.count, note: skipped.isEmpty ? "" : "\(skipped.count) skipped")
        for s in skipped { stderrPrint("skipped \(s.path): \(s.reason)") }
        guard writer.count > 0 else {
            writer.discard()
            throw ValidationError("none of the \(paths.count) images could be read; nothing written")
        }
        let metadata: [String: String] = [
            "format": "dinoprobe-features-v1",
            "model": modelOptions.displayID,
            "model_folder": model.folder.path,
            "model_variant": model.variantName,
            "backbone_fingerprint": model.fingerprint,
            "preset": preprocessing.preset.rawValue,
            "size": "\(preprocessing.size)",
            "mean": preprocessing.mean.map { "\($0)" }.joined(separator: ","),
            "std": preprocessing.std.map { "\($0)" }.joined(separator: ","),
            "layers": "\(layers)",
            "skipped": try jsonString(skipped.map { [$0.path, $0.reason] }),
        ]
        try writer.finish(metadata: metadata)
        say("wrote \(out): \(writer.count) images x \(model.config.hiddenSize) features\(patchTokens ? " + patch tokens" : "")\(skipped.isEmpty ? "" : ", \(skipped.count) skipped")")
    }
}

/// Compact JSON text of a value (slashes unescaped), for safetensors metadata.
func jsonString<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
