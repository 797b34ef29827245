import Backbone
import Foundation
import Heads
import Images
import Support

extension TokenFeatures {
    /// Adds one row per image of `batch`: the CLS and mean-patch tokens of each of its layers.
    public mutating func append(_ batch: ExtractedBatch) throws {
        let out = batch.output
        for b in 0..<batch.indices.count {
            var cls: [Float] = [], mean: [Float] = []
            for layer in out.layers {
                cls += out.cls(b, layer: layer)
                mean += out.meanPatch(b, layer: layer)
            }
            try append(cls: cls, meanPatch: mean)
        }
    }
}

/// Running the backbone over image files into features.
public enum Extraction {
    /// CLS and mean-patch tokens of the blocks `layers` of every image; unreadable images are
    /// skipped and listed.
    public static func tokens(model: DINOv3Model, paths: [String], preprocessing: Preprocessing, layers: [Int],
                              batchSize: Int, maxPixels: Int, name: String, reporter: Reporter) throws -> FeatureCache.Entry {
        let extractor = try FeatureExtractor(model: model, preprocessing: preprocessing, batchSize: batchSize,
                                             layers: layers, maxPixels: maxPixels)
        var features = TokenFeatures(dim: model.config.hiddenSize, blocks: layers.count)
        var sourceIndex: [Int] = []
        var skipped: [SkippedInput] = []
        let task = reporter.task(name, total: paths.count, unit: "images")
        try extractor.run(paths: paths, onBatch: { batch in
            try features.append(batch)
            sourceIndex += batch.indices
        }, onSkip: { skipped.append($0) }, onProgress: { task.update($0) })
        task.finish(paths.count, note: skipped.isEmpty ? "" : "\(skipped.count) skipped")
        return FeatureCache.Entry(features: features, sourceIndex: sourceIndex, skipped: skipped)
    }

    /// Writes a features file (see `FeaturesFile`) for `paths`: CLS and mean-patch tokens of the
    /// last `layers` blocks, and with `patchTokens` the patch and register tokens. Returns the
    /// rows written and the skipped inputs; nothing is written when no image could be read.
    @discardableResult
    public static func featuresFile(model: DINOv3Model, backboneID: String, paths: [String], preprocessing: Preprocessing,
                                    layers: Int, patchTokens: Bool, dtype: FeatureDType, batchSize: Int, maxPixels: Int,
                                    destination: String, skippedBefore: [SkippedInput] = [],
                                    reporter: Reporter = SilentReporter()) throws -> (rows: Int, skipped: [SkippedInput]) {
        let extractor = try FeatureExtractor(model: model, preprocessing: preprocessing, batchSize: batchSize,
                                             lastLayers: layers, maxPixels: maxPixels)
        let writer = try FeaturesFile.Writer(destination: destination, dim: model.config.hiddenSize, layers: layers,
                                             registers: model.config.numRegisterTokens, patchTokens: patchTokens,
                                             dtype: dtype == .f16 ? .f16 : .f32)
        defer { writer.discard() }
        var skipped = skippedBefore
        let task = reporter.task("extract", total: paths.count, unit: "images")
        try extractor.run(paths: paths, onBatch: { batch in
            let out = batch.output
            for (b, index) in batch.indices.enumerated() {
                var cls: [Float] = [], mean: [Float] = []
                for layer in out.layers {
                    cls += out.cls(b, layer: layer)
                    mean += out.meanPatch(b, layer: layer)
                }
                try writer.append(path: paths[index], cls: cls, meanPatch: mean,
                                  patchTokens: patchTokens ? (out.patchTokens(b), out.gridHeight, out.gridWidth) : nil,
                                  registers: patchTokens ? out.registerTokens(b) : nil)
            }
        }, onSkip: { skipped.append($0) }, onProgress: { task.update($0) })
        task.finish(paths.count, note: skipped.isEmpty ? "" : "\(skipped.count) skipped")
        guard writer.count > 0 else {
            let reasons = skipped.prefix(3).map { "\($0.path): \($0.reason)" }.joined(separator: "; ")
            throw TrainingError.badOption("none of the \(paths.count) images could be read (\(reasons)); nothing written")
        }
        try writer.finish(source: FeatureSource(backboneID: backboneID, backboneFingerprint: model.fingerprint, preprocessing: preprocessing),
                          skipped: skipped, extraMetadata: ["model_folder": model.folder.path, "model_variant": model.variantName])
        return (writer.count, skipped)
    }
}

/// How extracted features are stored.
public enum FeatureDType: String, Sendable, CaseIterable, Codable {
    case f32, f16
}
