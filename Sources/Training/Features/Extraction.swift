import Backbone
import Foundation
import Heads
import Images
import SafeTensors
import Support

/// How a cache row pools each block's patch tokens (the row's `mean_patch` tensor).
public enum PatchPooling: String, Sendable, Codable {
    /// The mean patch token.
    case mean
    /// Generalised mean with p = 3 over the tokens clamped at 1e-6 (cirtorch's `gem`,
    /// `avg_pool(x.clamp(min=eps).pow(p)).pow(1/p)`), per channel.
    case gem = "gem3"

    func pool(_ out: BackboneOutput, _ b: Int, layer: [Float]) -> [Float] {
        guard self == .gem else { return out.meanPatch(b, layer: layer) }
        return Self.gem(out.patchTokens(b, layer: layer), tokens: out.gridHeight * out.gridWidth, dim: out.dim)
    }

    /// GeM of `tokens` rows of width `dim` (summed in double precision).
    static func gem(_ patches: ArraySlice<Float>, tokens n: Int, dim: Int) -> [Float] {
        var sum = [Double](repeating: 0, count: dim)
        var i = patches.startIndex
        for _ in 0..<n {
            for d in 0..<dim { sum[d] += pow(Double(max(patches[i + d], 1e-6)), 3) }
            i += dim
        }
        return sum.map { Float(pow($0 / Double(n), 1.0 / 3)) }
    }
}

extension TokenFeatures {
    /// Adds one row per image of `batch`: the CLS and pooled patch tokens of each of its layers.
    public mutating func append(_ batch: ExtractedBatch, pooling: PatchPooling = .mean) throws {
        let out = batch.output
        for b in 0..<batch.indices.count {
            var cls: [Float] = [], pooled: [Float] = []
            for layer in out.layers {
                cls += out.cls(b, layer: layer)
                pooled += pooling.pool(out, b, layer: layer)
            }
            try append(cls: cls, meanPatch: pooled)
        }
    }
}

/// Running the backbone over image files into features.
public enum Extraction {
    /// CLS and mean-patch tokens of the blocks `layers` of every image; unreadable images are
    /// skipped and listed.
    public static func tokens(model: DINOv3Model, paths: [String], preprocessing: Preprocessing, layers: [Int],
                              batchSize: Int, maxPixels: Int, pooling: PatchPooling = .mean, name: String, reporter: Reporter) throws -> FeatureCache.Entry {
        let extractor = try FeatureExtractor(model: model, preprocessing: preprocessing, batchSize: batchSize,
                                             layers: layers, maxPixels: maxPixels)
        let task = reporter.task(name, total: paths.count, unit: "images")
        let entry = try tokens(paths: paths, extractor: extractor, dim: model.config.hiddenSize, blocks: layers.count, pooling: pooling) { task.update($0) }
        task.finish(paths.count, note: entry.skipped.isEmpty ? "" : "\(entry.skipped.count) skipped")
        return entry
    }

    /// The same with a given extractor; `onProgress` receives the images done.
    static func tokens(paths: [String], extractor: FeatureExtractor, dim: Int, blocks: Int, pooling: PatchPooling = .mean,
                       onProgress: (Int) -> Void) throws -> FeatureCache.Entry {
        var features = TokenFeatures(dim: dim, blocks: blocks)
        var sourceIndex: [Int] = []
        var skipped: [SkippedInput] = []
        try extractor.run(paths: paths, onBatch: { batch in
            try features.append(batch, pooling: pooling)
            sourceIndex += batch.indices
        }, onSkip: { skipped.append($0) }, onProgress: onProgress)
        return FeatureCache.Entry(features: features, sourceIndex: sourceIndex, skipped: skipped)
    }

    /// Writes a features file (see `FeaturesFile`) for `paths` as `settings` say: CLS and
    /// mean-patch tokens of the last blocks, and optionally the patch and register tokens and a
    /// ConvNeXt's stage maps; rows are streamed to disk as they come. Returns the rows written and
    /// the skipped inputs (`skippedBefore` first); nothing is written when no image could be read.
    @discardableResult
    public static func featuresFile(model: DINOv3Model, backboneID: String, paths: [String], settings: ExtractionSettings,
                                    destination: String, skippedBefore: [SkippedInput] = [],
                                    reporter: Reporter = SilentReporter()) throws -> (rows: Int, skipped: [SkippedInput]) {
        let extractor = try settings.extractor(model: model)
        let writer = try settings.writer(destination, model: model, inputs: paths.count)
        defer { writer.discard() }
        let task = reporter.task("extract", total: paths.count, unit: "images")
        let skipped = skippedBefore + (try write(paths, extractor: extractor, into: writer, onProgress: { task.update($0) }))
        task.finish(paths.count, note: skipped.isEmpty ? "" : "\(skipped.count) skipped")
        guard writer.count > 0 else {
            let reasons = skipped.prefix(3).map { "\($0.path): \($0.reason)" }.joined(separator: "; ")
            throw TrainingError.badOption("none of the \(paths.count) images could be read (\(reasons)); nothing written")
        }
        try writer.finish(source: settings.source(model: model, backboneID: backboneID), skipped: skipped, extraMetadata: metadata(of: model))
        return (writer.count, skipped)
    }

    /// Runs `paths` (inputs `offset...` of the writer's list) through `extractor` into `writer`
    /// (patch tokens and stage maps when it takes them); returns the skipped inputs, numbered from `offset`.
    static func write(_ paths: [String], offset: Int = 0, extractor: FeatureExtractor, into writer: FeaturesFile.Writer,
                      onProgress: (Int) -> Void) throws -> [SkippedInput] {
        var skipped: [SkippedInput] = []
        try extractor.run(paths: paths, onBatch: { batch in
            let out = batch.output
            for (b, index) in batch.indices.enumerated() {
                var cls: [Float] = [], mean: [Float] = []
                for layer in out.layers {
                    cls += out.cls(b, layer: layer)
                    mean += out.meanPatch(b, layer: layer)
                }
                try writer.append(path: paths[index], input: offset + index, cls: cls, meanPatch: mean,
                                  patchTokens: writer.patchTokens ? (out.patchTokens(b), out.gridHeight, out.gridWidth) : nil,
                                  registers: writer.patchTokens ? out.registerTokens(b) : nil,
                                  stageMaps: out.stages.map { $0.image(b) })
            }
        }, onSkip: { skipped.append($0.shifted(by: offset)) }, onProgress: onProgress)
        return skipped
    }

    /// The metadata of every features file besides the format's own: where the model came from.
    static func metadata(of model: DINOv3Model) -> [String: String] {
        ["model_folder": model.folder.path, "model_variant": model.variantName]
    }
}

/// What `extract` keeps of each image, and how it runs.
public struct ExtractionSettings: Sendable {
    public var preprocessing: Preprocessing
    /// The last `blocks` blocks are kept.
    public var blocks: Int
    public var patchTokens: Bool
    /// A ConvNeXt's stages whose raw maps are kept (`stage_<i>`), ascending; empty: none.
    public var stages: [Int]
    public var dtype: FeatureDType
    /// Images per forward pass (which images share one is fixed by their positions, see `FeatureExtractor.run`).
    public var batchSize: Int
    public var maxPixels: Int

    public init(preprocessing: Preprocessing, blocks: Int = 1, patchTokens: Bool = false, stages: [Int] = [], dtype: FeatureDType = .f32,
                batchSize: Int = 32, maxPixels: Int = ImageDecoder.defaultMaxPixels) {
        self.preprocessing = preprocessing
        self.blocks = blocks
        self.patchTokens = patchTokens
        self.stages = stages
        self.dtype = dtype
        self.batchSize = batchSize
        self.maxPixels = maxPixels
    }

    var storedType: SafeTensorsDType { dtype == .f16 ? .f16 : .f32 }

    func extractor(model: DINOv3Model) throws -> FeatureExtractor {
        try FeatureExtractor(model: model, preprocessing: preprocessing, batchSize: batchSize, lastLayers: blocks, stages: stages,
                             maxPixels: maxPixels)
    }

    /// A writer of these features of a list of `inputs` images; the patch grid and the stage maps'
    /// sizes are known ahead for square inputs (stage maps need them).
    func writer(_ destination: String, model: DINOv3Model, inputs: Int) throws -> FeaturesFile.Writer {
        let side = preprocessing.size / model.config.patchSize
        return try FeaturesFile.Writer(destination: destination, dim: model.config.hiddenSize, layers: blocks,
                                       registers: model.config.numRegisterTokens, patchTokens: patchTokens, dtype: storedType,
                                       grid: patchTokens && preprocessing.preset != .native ? (side, side) : nil,
                                       stages: stageLayouts(model: model), inputs: inputs)
    }

    /// The layouts of the kept stage maps at the input size.
    func stageLayouts(model: DINOv3Model) throws -> [FeaturesFile.StageLayout] {
        try model.checkStages(stages)
        guard !stages.isEmpty, let convNext = model.convNextConfig else { return [] }
        guard preprocessing.preset != .native else {
            throw TrainingError.badOption("stage maps need one input size for all images: use the hf or eval preset (native keeps each image's aspect ratio)")
        }
        return try stages.map { try FeaturesFile.StageLayout(index: $0, shape: convNext.stageShape($0, height: preprocessing.size, width: preprocessing.size)) }
    }

    func source(model: DINOv3Model, backboneID: String) -> FeatureSource {
        FeatureSource(backboneID: backboneID, backboneFingerprint: model.fingerprint, preprocessing: preprocessing)
    }
}

/// How extracted features are stored.
public enum FeatureDType: String, Sendable, CaseIterable, Codable {
    case f32, f16
}
