import Backbone
import Foundation
import Heads
import SafeTensors
import Support
import Images

/// Patch features of a dense data set at one input resolution, with each image's `DenseTarget`
/// (a class mask: U8; a depth map: F32) resized by its own rule to that input size. Stored on
/// disk as a features file (`FeaturesFile`: `patch_tokens` F16 [N, h, w, D], the targets
/// `target_u8` or `target_f32` [N, H, W]) and read memory-mapped, so a data set larger than memory
/// trains: only the batches in use are paged in. The file is reused by later runs with the same
/// key. Stores written before (`dinoprobe-patch-store-v1`, targets under `labels`) are still read.
public final class PatchFeatureStore: @unchecked Sendable {
    public let path: String
    /// Views stored (images, times 2 with flips).
    public let count: Int
    public let gridHeight: Int, gridWidth: Int, dim: Int
    /// Label size (the input resolution).
    public let labelHeight: Int, labelWidth: Int
    /// How each target value is stored (U8 class labels, F32 depths).
    public let targetType: SafeTensorsDType
    /// Inputs that could not be used, with reasons.
    public let skipped: [SkippedInput]
    let file: SafeTensorsFile
    /// The tensor holding the targets.
    let targetName: String
    /// Set for a store built without a cache: its file is removed when the store goes away.
    public var removeWhenDone = false

    deinit {
        if removeWhenDone {
            try? FileSystem.removeFile(path)
            TemporaryFiles.unregister(path)
        }
    }

    /// What a store's targets must be.
    public enum TargetRule: Sendable, Equatable {
        /// U8 class labels below `count`, or the ignore index.
        case classes(count: Int, ignoreIndex: UInt8)
        /// F32 depths: finite and not negative (0: no depth).
        case depths

        var type: SafeTensorsDType { if case .classes = self { return .u8 }; return .f32 }

        /// How a store records the rule: `target`, and a class mask's `classes` and `ignore_index`.
        var metadata: [String: String] {
            if case let .classes(count, ignore) = self { return ["target": "classes", "classes": "\(count)", "ignore_index": "\(ignore)"] }
            return ["target": "depth"]
        }
    }

    /// What a store must hold to be used by a run.
    public struct Expectation: Sendable {
        public var dim: Int
        public var resolution: Int
        public var targets: TargetRule
        /// Rows per pair not skipped (nil: not checked; stores written before `views` was recorded are not).
        public var views: Int?

        public init(dim: Int, resolution: Int, targets: TargetRule, views: Int? = nil) {
            (self.dim, self.resolution, self.targets, self.views) = (dim, resolution, targets, views)
        }
    }

    /// Opens a store file written by `build`. With `expecting`, the file is checked in full
    /// before use: shapes against each other and the run, every feature finite, every label a
    /// class or the ignore index (a pass over the file, in parallel).
    public convenience init(path: String, expecting expected: Expectation? = nil) throws {
        try self.init(file: SafeTensorsFile(path: path), expecting: expected)
    }

    /// Opens an already mapped store file (see `init(path:expecting:)`).
    public init(file: SafeTensorsFile, expecting expected: Expectation? = nil) throws {
        let path = file.path
        func fail(_ reason: String) -> TrainingError { .badFeaturesFile(path: path, reason: reason) }
        let legacy = file.metadata["format"] == "dinoprobe-patch-store-v1"  // written before stores were features files
        if !legacy { _ = try FeaturesFile.Rows(file: file) }
        let targets = legacy ? ["labels"] : file.tensors.keys.filter { $0.hasPrefix("target_") }
        // A part may hold no rows (every pair of its range skipped); a store holds at least one.
        guard targets.count == 1, let f = file.tensors["patch_tokens"], f.dtype == .f16, f.shape.count == 4, f.shape[0] > 0 || file.metadata["part"] != nil,
              let l = file.tensors[targets[0]], [.u8, .f32].contains(l.dtype), l.shape.count == 3, l.shape[0] == f.shape[0] else {
            throw fail("not a dinoprobe patch-feature store (F16 patch tokens and one target per view)")
        }
        targetName = targets[0]
        self.path = path
        self.file = file
        count = f.shape[0]
        (gridHeight, gridWidth, dim) = (f.shape[1], f.shape[2], f.shape[3])
        (labelHeight, labelWidth, targetType) = (l.shape[1], l.shape[2], l.dtype)
        guard gridHeight > 0, gridWidth > 0, dim > 0, labelHeight > 0, labelWidth > 0 else { throw fail("a dimension is zero") }
        skipped = FeaturesFile.skipped(file.metadata)
        if let expected { try verify(expected) }
    }

    private func verify(_ e: Expectation) throws {
        func fail(_ reason: String) -> TrainingError { .badFeaturesFile(path: path, reason: reason) }
        guard dim == e.dim, labelHeight == e.resolution, labelWidth == e.resolution, targetType == e.targets.type else {
            throw fail("it holds \(dim)-wide features with \(labelHeight)x\(labelWidth) \(targetType.rawValue) targets, "
                       + "not \(e.dim)-wide at \(e.resolution) with \(e.targets.type.rawValue) targets")
        }
        if let views = e.views, targetName != "labels" {
            let inputs = Int(file.metadata["inputs"] ?? "") ?? -1, positions = Set(skipped.compactMap(\.index))
            guard file.metadata["views"] == "\(views)", count % views == 0, count / views == inputs - skipped.count else {
                throw fail("its \(count) rows are not \(views) views of each of its \(inputs) pairs not skipped")
            }
            guard positions.count == skipped.count, positions.allSatisfy({ (0..<inputs).contains($0) }) else {
                throw fail("its skipped list does not name distinct positions among its \(inputs) pairs")
            }
        }
        let failures = FailureList()
        let chunks = 64
        let rule = e.targets
        try file.withBytes(of: "patch_tokens") { featureBytes in
            try file.withBytes(of: targetName) { labelBytes in
                let (features, labels) = (SharedBytes(featureBytes), SharedBytes(labelBytes))
                DispatchQueue.concurrentPerform(iterations: chunks) { c in
                    let values = features.bytes.count / 2
                    let range = (values * c / chunks)..<(values * (c + 1) / chunks)
                    let slice = UnsafeRawBufferPointer(rebasing: features.bytes[(range.lowerBound * 2)..<(range.upperBound * 2)])
                    if FloatConversion.firstNonFinite(slice, dtype: .f16, count: range.count) != nil {
                        failures.add(c, TrainingError.badOption("a feature is NaN or infinite"))
                    }
                    if let problem = Self.firstBadTarget(labels.bytes, chunk: c, of: chunks, rule: rule) { failures.add(c, TrainingError.badOption(problem)) }
                }
            }
        }
        if let (_, error) = failures.first { throw fail("\(error)") }
    }

    /// The first target in chunk `c` of `chunks` that breaks `rule`, described.
    private static func firstBadTarget(_ bytes: UnsafeRawBufferPointer, chunk c: Int, of chunks: Int, rule: TargetRule) -> String? {
        switch rule {
        case let .classes(classes, ignore):
            let n = bytes.count
            for i in (n * c / chunks)..<(n * (c + 1) / chunks) where Int(bytes[i]) >= classes && bytes[i] != ignore {
                return "a label is \(bytes[i]), outside the \(classes) classes and not the ignore index \(ignore)"
            }
        case .depths:
            let n = bytes.count / 4
            for i in (n * c / chunks)..<(n * (c + 1) / chunks) {
                let depth = bytes.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
                if !depth.isFinite || depth < 0 { return "a depth is \(depth), not a finite distance" }
            }
        }
        return nil
    }

    /// Features [B, gh, gw, D] as Float and class labels [B, LH, LW] for the given views.
    public func batch(_ indices: [Int]) throws -> PatchBatch<UInt8> { try batch(indices, of: UInt8.self) }

    /// Features [B, gh, gw, D] as Float and targets [B, LH, LW] of type `Value` for the given views.
    public func batch<Value: PatchStoreValue>(_ indices: [Int], of type: Value.Type) throws -> PatchBatch<Value> {
        guard Value.storeType == targetType else {
            throw TrainingError.badFeaturesFile(path: path, reason: "its targets are \(targetType.rawValue), not \(Value.storeType.rawValue)")
        }
        let fSize = gridHeight * gridWidth * dim, lSize = labelHeight * labelWidth
        var features = [Float](repeating: 0, count: indices.count * fSize)
        var labels = [Value](repeating: .zero, count: indices.count * lSize)
        try file.withBytes(of: "patch_tokens") { raw in
            for (b, i) in indices.enumerated() {
                let base = i * fSize * 2
                for j in 0..<fSize {
                    features[b * fSize + j] = FloatConversion.f16ToFloat(raw.loadUnaligned(fromByteOffset: base + 2 * j, as: UInt16.self))
                }
            }
        }
        try file.withBytes(of: targetName) { raw in
            for (b, i) in indices.enumerated() {
                for j in 0..<lSize { labels[b * lSize + j] = raw.loadUnaligned(fromByteOffset: (i * lSize + j) * Value.storeType.size, as: Value.self) }
            }
        }
        return PatchBatch(features: features, batch: indices.count, height: gridHeight, width: gridWidth, targets: labels,
                          targetHeight: labelHeight, targetWidth: labelWidth)
    }

    /// Extracts patch features of `images` at `resolution` x `resolution` (hf preset) from the
    /// blocks `layers` (concatenated per patch; default the last block), with targets from
    /// `loadTarget` resized to the same size; `flip` adds a mirrored view of every pair.
    /// Pairs whose image or target cannot be used are skipped and reported. Written atomically to
    /// `path`, with `metadata` besides.
    public static func build<Target: DenseTarget>(model: DINOv3Model, images: [String], loadTarget: (Int) throws -> Target,
                                                  resolution: Int, layers: [Int]? = nil, flip: Bool, batchSize: Int, to path: String,
                                                  maxPixels: Int = ImageDecoder.defaultMaxPixels, metadata: [String: String] = [:],
                                                  reporter: Reporter = SilentReporter()) throws -> PatchFeatureStore
        where Target.Value: PatchStoreValue {
        let preprocessing = Preprocessing(preset: .hf, size: resolution)
        let writer = try writer(path, targetType: Target.Value.storeType, dim: model.config.hiddenSize * (layers?.count ?? 1),
                                resolution: resolution, grid: resolution / model.config.patchSize, inputs: images.count, views: flip ? 2 : 1)
        defer { writer.discard() }

        // Masks are checked first (cheap), so bad pairs are known before the backbone runs; they are
        // read again when their features are written rather than held: at 448 px, ADE20K's masks
        // alone would take 4 GB of memory.
        var skipped: [SkippedInput] = []
        var usable: [Int] = []
        let maskProgress = reporter.task("read masks", total: images.count, unit: "masks")
        for i in images.indices {
            maskProgress.update(i + 1)
            do {
                _ = try loadTarget(i)
                usable.append(i)
            } catch {
                skipped.append(SkippedInput(index: i, path: images[i], reason: "\(error)"))
            }
        }
        maskProgress.finish(images.count)
        for mirrored in flip ? [false, true] : [false] {
            let extractor = try FeatureExtractor(model: model, preprocessing: preprocessing, batchSize: batchSize,
                                                 layers: layers ?? model.lastBlocks(1), maxPixels: maxPixels, flipped: mirrored)
            let progress = reporter.task(mirrored ? "extract patches (flipped)" : "extract patches", total: usable.count, unit: "images")
            let paths = usable.map { images[$0] }
            try extractor.run(paths: paths, onBatch: { batch in
                for (b, j) in batch.indices.enumerated() {
                    let target = try loadTarget(usable[j]).resized(width: resolution, height: resolution)
                    try writer.append(path: paths[j], input: usable[j], batch.output, b, targets: (mirrored ? target.mirrored() : target).values)
                }
            }, onSkip: { s in
                if !mirrored, let index = s.index { skipped.append(SkippedInput(index: usable[index], path: s.path, reason: s.reason)) }
            }, onProgress: { progress.update($0) })
            progress.finish(usable.count)
        }
        return try finish(writer, of: images.count, skipped: skipped, source: FeatureCache.source(model, preprocessing),
                          metadata: metadata.merging(["flip": "\(flip)"]) { $1 })
    }

    /// The writer of a store (or a part) of `inputs` pairs, `views` rows each: patch tokens as F16
    /// on a `grid` x `grid` patch grid, targets [resolution, resolution] of `targetType` (`target_u8`, `target_f32`).
    static func writer(_ path: String, targetType: SafeTensorsDType, dim: Int, resolution: Int, grid: Int, inputs: Int, views: Int) throws -> FeaturesFile.Writer {
        try FeaturesFile.Writer(destination: path, dim: dim, layers: 1, registers: 0, patchTokens: true, dtype: .f16, grid: (grid, grid),
                                inputs: inputs, views: views, pooled: false,
                                target: ("target_" + targetType.rawValue.lowercased(), targetType, resolution, resolution))
    }

    /// Writes the store (refused when every one of its `inputs` pairs was skipped, unless it is a
    /// part of one: its `part` metadata) and opens it.
    static func finish(_ writer: FeaturesFile.Writer, of inputs: Int, skipped: [SkippedInput], source: FeatureSource,
                       metadata: [String: String]) throws -> PatchFeatureStore {
        guard writer.count > 0 || metadata["part"] != nil else { throw noUsablePair(among: inputs, skipped: skipped) }
        try writer.finish(source: source, skipped: skipped, extraMetadata: metadata)
        return try PatchFeatureStore(path: writer.destination)
    }

    /// The error of a store all of whose `inputs` pairs were skipped.
    static func noUsablePair(among inputs: Int, skipped: [SkippedInput]) -> TrainingError {
        .badOption("no usable image/target pair among \(inputs); see the skipped list: \(skipped.prefix(3).map { "\($0.path): \($0.reason)" }.joined(separator: "; "))")
    }
}

extension FeaturesFile.Writer {
    /// Adds a view of a patch store: image `b`'s patch tokens in `output`, and its targets.
    func append<Value: PatchStoreValue>(path: String, input: Int, _ output: BackboneOutput, _ b: Int, targets: [Value]) throws {
        try targets.withUnsafeBytes { bytes in
            try append(path: path, input: input, patchTokens: (output.concatenatedPatchTokens(b)[...], output.gridHeight, output.gridWidth), target: bytes)
        }
    }
}

/// A target value a patch store holds: class labels as U8, depths as F32 (little-endian hosts).
public protocol PatchStoreValue: Sendable, Equatable, BitwiseCopyable {
    static var storeType: SafeTensorsDType { get }
    static var zero: Self { get }
}

extension UInt8: PatchStoreValue {
    public static var storeType: SafeTensorsDType { .u8 }
}

extension Float: PatchStoreValue {
    public static var storeType: SafeTensorsDType { .f32 }
}
