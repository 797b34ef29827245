import Backbone
import Foundation
import Heads
import SafeTensors
import Support
import Images

/// Patch features of a dense data set at one input resolution, with each image's `DenseTarget`
/// (a class mask: U8; a depth map: F32) resized by its own rule to that input size. Stored on
/// disk as one safetensors file (features in F16, targets under `labels`) and read memory-mapped, so a data set larger than memory trains: only the
/// batches in use are paged in. The file is reused by later runs with the same key.
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
    }

    /// What a store must hold to be used by a run.
    public struct Expectation: Sendable {
        public var dim: Int
        public var resolution: Int
        public var targets: TargetRule

        public init(dim: Int, resolution: Int, targets: TargetRule) {
            (self.dim, self.resolution, self.targets) = (dim, resolution, targets)
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
        guard file.metadata["format"] == "dinoprobe-patch-store-v1",
              let f = file.tensors["patch_tokens"], f.dtype == .f16, f.shape.count == 4, f.shape[0] > 0,
              let l = file.tensors["labels"], [.u8, .f32].contains(l.dtype), l.shape.count == 3, l.shape[0] == f.shape[0] else {
            throw fail("not a dinoprobe patch-feature store")
        }
        self.path = path
        self.file = file
        count = f.shape[0]
        (gridHeight, gridWidth, dim) = (f.shape[1], f.shape[2], f.shape[3])
        (labelHeight, labelWidth, targetType) = (l.shape[1], l.shape[2], l.dtype)
        guard gridHeight > 0, gridWidth > 0, dim > 0, labelHeight > 0, labelWidth > 0 else { throw fail("a dimension is zero") }
        guard let rows = try? JSONDecoder().decode([[String]].self, from: Data((file.metadata["skipped"] ?? "[]").utf8)) else {
            throw fail("its list of skipped inputs is not valid JSON")
        }
        skipped = try rows.map { r in
            guard r.count == 3, let index = Int(r[0]) else { throw fail("a skipped entry is malformed") }
            return SkippedInput(index: index, path: r[1], reason: r[2])
        }
        if let expected { try verify(expected) }
    }

    private func verify(_ e: Expectation) throws {
        func fail(_ reason: String) -> TrainingError { .badFeaturesFile(path: path, reason: reason) }
        guard dim == e.dim, labelHeight == e.resolution, labelWidth == e.resolution, targetType == e.targets.type else {
            throw fail("it holds \(dim)-wide features with \(labelHeight)x\(labelWidth) \(targetType.rawValue) targets, "
                       + "not \(e.dim)-wide at \(e.resolution) with \(e.targets.type.rawValue) targets")
        }
        let failures = FailureList()
        let chunks = 64
        let rule = e.targets
        try file.withBytes(of: "patch_tokens") { featureBytes in
            try file.withBytes(of: "labels") { labelBytes in
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
        try file.withBytes(of: "labels") { raw in
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
    /// Pairs whose image or target cannot be used are skipped and reported. Written atomically to `path`.
    public static func build<Target: DenseTarget>(model: DINOv3Model, images: [String], loadTarget: (Int) throws -> Target,
                                                  resolution: Int, layers: [Int]? = nil, flip: Bool, batchSize: Int, to path: String,
                                                  maxPixels: Int = ImageDecoder.defaultMaxPixels,
                                                  reporter: Reporter = SilentReporter()) throws -> PatchFeatureStore
        where Target.Value: PatchStoreValue {
        let preprocessing = Preprocessing(preset: .hf, size: resolution)
        let spools = try Spools(path, targetType: Target.Value.storeType)
        defer { spools.discard() }

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
        var count = 0
        var grid = (0, 0), dim = 0
        for mirrored in flip ? [false, true] : [false] {
            let extractor = try FeatureExtractor(model: model, preprocessing: preprocessing, batchSize: batchSize,
                                                 layers: layers ?? model.lastBlocks(1), maxPixels: maxPixels, flipped: mirrored)
            let progress = reporter.task(mirrored ? "extract patches (flipped)" : "extract patches", total: usable.count, unit: "images")
            let paths = usable.map { images[$0] }
            var kept = Set<Int>()
            try extractor.run(paths: paths, onBatch: { batch in
                let out = batch.output
                grid = (out.gridHeight, out.gridWidth)
                dim = out.dim * out.layers.count
                for (b, j) in batch.indices.enumerated() {
                    let target = try loadTarget(usable[j]).resized(width: resolution, height: resolution)
                    try spools.append(tokens: out.concatenatedPatchTokens(b), targets: (mirrored ? target.mirrored() : target).values)
                    kept.insert(j)
                    count += 1
                }
            }, onSkip: { s in
                if !mirrored, let index = s.index { skipped.append(SkippedInput(index: usable[index], path: s.path, reason: s.reason)) }
            }, onProgress: { progress.update($0) })
            progress.finish(usable.count)
        }
        guard count > 0 else {
            throw TrainingError.badOption("no usable image/mask pair among \(images.count); see the skipped list: \(skipped.prefix(3).map { "\($0.path): \($0.reason)" }.joined(separator: "; "))")
        }
        return try finish(spools, count: count, grid: grid, dim: dim, resolution: resolution,
                          views: ["flip": "\(flip)"], skipped: skipped, model: model, to: path)
    }

    /// The two files a store is written through, a view at a time: patch tokens as F16, targets.
    struct Spools {
        let features: AtomicFile.Output
        let labels: AtomicFile.Output
        let targetType: SafeTensorsDType

        init(_ path: String, targetType: SafeTensorsDType) throws {
            features = try AtomicFile.begin(path + ".features")
            labels = try AtomicFile.begin(path + ".labels")
            self.targetType = targetType
        }

        func append<Value: PatchStoreValue>(tokens: [Float], targets values: [Value]) throws {
            try features.write(contentsOf: tokens.map { FloatConversion.floatToF16($0).littleEndian })
            try labels.write(contentsOf: values)
        }

        func discard() {
            features.discard()
            labels.discard()
        }
    }

    /// Writes the store from its two spools, with its metadata.
    static func finish(_ spools: Spools, count: Int, grid: (Int, Int),
                       dim: Int, resolution: Int, views: [String: String], skipped: [SkippedInput], model: DINOv3Model,
                       to path: String) throws -> PatchFeatureStore {
        try spools.features.finishWriting()
        try spools.labels.finishWriting()
        let skippedJSON = try JSONEncoder().encode(skipped.map { [String($0.index ?? -1), $0.path, $0.reason] })
        var metadata = ["format": "dinoprobe-patch-store-v1", "backbone_fingerprint": model.fingerprint, "resolution": "\(resolution)",
                        "skipped": String(decoding: skippedJSON, as: UTF8.self)]
        metadata.merge(views) { _, new in new }
        var writer = SafeTensorsWriter(metadata: metadata)
        try writer.addFile("patch_tokens", dtype: .f16, shape: [count, grid.0, grid.1, dim], path: spools.features.temporaryPath)
        try writer.addFile("labels", dtype: spools.targetType, shape: [count, resolution, resolution], path: spools.labels.temporaryPath)
        try writer.write(to: path)
        return try PatchFeatureStore(path: path)
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
