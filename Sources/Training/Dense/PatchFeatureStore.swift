import Backbone
import Foundation
import SafeTensors
import Support
import Images

/// Patch features of a segmentation data set at one input resolution, with each label mask
/// resized (nearest) to that input size. Stored on disk as one safetensors file (features in F16,
/// labels in U8) and read memory-mapped, so a data set larger than memory trains: only the
/// batches in use are paged in. The file is reused by later runs with the same key.
public final class PatchFeatureStore: @unchecked Sendable {
    public let path: String
    /// Views stored (images, times 2 with flips).
    public let count: Int
    public let gridHeight: Int, gridWidth: Int, dim: Int
    /// Label size (the input resolution).
    public let labelHeight: Int, labelWidth: Int
    /// Inputs that could not be used, with reasons.
    public let skipped: [SkippedInput]
    private let file: SafeTensorsFile

    /// Opens a store file written by `build`.
    public init(path: String) throws {
        let file = try SafeTensorsFile(path: path)
        guard file.metadata["format"] == "dinoprobe-patch-store-v1",
              let f = file.tensors["patch_tokens"], f.dtype == .f16, f.shape.count == 4,
              let l = file.tensors["labels"], l.dtype == .u8, l.shape.count == 3, l.shape[0] == f.shape[0] else {
            throw TrainingError.badFeaturesFile(path: path, reason: "not a dinoprobe patch-feature store")
        }
        self.path = path
        self.file = file
        count = f.shape[0]
        (gridHeight, gridWidth, dim) = (f.shape[1], f.shape[2], f.shape[3])
        (labelHeight, labelWidth) = (l.shape[1], l.shape[2])
        let rows = (try? JSONDecoder().decode([[String]].self, from: Data((file.metadata["skipped"] ?? "[]").utf8))) ?? []
        skipped = rows.compactMap { r in r.count == 3 ? Int(r[0]).map { SkippedInput(index: $0, path: r[1], reason: r[2]) } : nil }
    }

    /// Features [B, gh, gw, D] as Float and labels [B, LH, LW] for the given views.
    public func batch(_ indices: [Int]) throws -> (features: [Float], labels: [UInt8]) {
        let fSize = gridHeight * gridWidth * dim, lSize = labelHeight * labelWidth
        var features = [Float](repeating: 0, count: indices.count * fSize)
        var labels = [UInt8](repeating: 0, count: indices.count * lSize)
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
                for j in 0..<lSize { labels[b * lSize + j] = raw[i * lSize + j] }
            }
        }
        return (features, labels)
    }

    /// The cache key of a store: weights, resolution, flips and every input file's path, size and mtime.
    public static func key(backboneFingerprint: String, resolution: Int, flip: Bool, files: [String]) -> String {
        var h = FNV1a()
        h.combine("dinoprobe-patch-store-v1 \(backboneFingerprint) \(resolution) \(flip)")
        for path in files {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            h.combine("\(path) \((attributes?[.size] as? Int) ?? -1) \((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)")
        }
        return h.hexDigest
    }

    /// Extracts patch features of `images` at `resolution` x `resolution` (hf preset), with masks
    /// from `loadMask` resized to the same size; `flip` adds a mirrored view of every pair.
    /// Pairs whose image or mask cannot be used are skipped and reported. Written atomically to `path`.
    public static func build(model: DINOv3Model, images: [String], loadMask: (Int) throws -> LabelMask,
                             resolution: Int, flip: Bool, batchSize: Int, to path: String,
                             maxPixels: Int = ImageDecoder.defaultMaxPixels) throws -> PatchFeatureStore {
        let preprocessing = Preprocessing(preset: .hf, size: resolution)
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let featureTemp = folder.appendingPathComponent(".\(url.lastPathComponent).features-\(getpid())").path
        let labelTemp = folder.appendingPathComponent(".\(url.lastPathComponent).labels-\(getpid())").path
        guard FileManager.default.createFile(atPath: featureTemp, contents: nil),
              FileManager.default.createFile(atPath: labelTemp, contents: nil) else {
            throw TrainingError.badOption("cannot write the patch-feature cache in \(folder.path) (permissions or disk full?)")
        }
        defer {
            try? FileManager.default.removeItem(atPath: featureTemp)
            try? FileManager.default.removeItem(atPath: labelTemp)
        }
        let featureHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: featureTemp))
        let labelHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: labelTemp))
        defer { try? featureHandle.close(); try? labelHandle.close() }

        // Masks are checked first (cheap), so bad pairs are known before the backbone runs; they are
        // read again when their features are written rather than held: at 448 px, ADE20K's masks
        // alone would take 4 GB of memory.
        var skipped: [SkippedInput] = []
        var usable: [Int] = []
        let maskProgress = ProgressReporter("read masks", total: images.count, unit: "masks")
        for i in images.indices {
            maskProgress.update(i + 1)
            do {
                _ = try loadMask(i)
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
                                                 maxPixels: maxPixels, flipped: mirrored)
            let progress = ProgressReporter(mirrored ? "extract patches (flipped)" : "extract patches", total: usable.count)
            let paths = usable.map { images[$0] }
            var kept = Set<Int>()
            try extractor.run(paths: paths, onBatch: { batch in
                let out = batch.output
                grid = (out.gridHeight, out.gridWidth)
                dim = out.dim
                for (b, j) in batch.indices.enumerated() {
                    let tokens = out.patchTokens(b)
                    try featureHandle.write(contentsOf: tokens.map { FloatConversion.floatToF16($0).littleEndian }.withUnsafeBytes { Data($0) })
                    var labels = resizeNearest(try loadMask(usable[j]), height: resolution, width: resolution)
                    if mirrored { labels = mirror(labels, height: resolution, width: resolution) }
                    try labelHandle.write(contentsOf: Data(labels))
                    kept.insert(j)
                    count += 1
                }
            }, onSkip: { s in
                if !mirrored { skipped.append(SkippedInput(index: usable[s.index], path: s.path, reason: s.reason)) }
            }, onProgress: { progress.update($0) })
            progress.finish(usable.count)
        }
        guard count > 0 else {
            throw TrainingError.badOption("no usable image/mask pair among \(images.count); see the skipped list: \(skipped.prefix(3).map { "\($0.path): \($0.reason)" }.joined(separator: "; "))")
        }
        try featureHandle.synchronize()
        try labelHandle.synchronize()
        let skippedJSON = try JSONEncoder().encode(skipped.map { [String($0.index), $0.path, $0.reason] })
        var writer = SafeTensorsWriter(metadata: ["format": "dinoprobe-patch-store-v1", "backbone_fingerprint": model.fingerprint,
                                                  "resolution": "\(resolution)", "flip": "\(flip)",
                                                  "skipped": String(decoding: skippedJSON, as: UTF8.self)])
        try writer.addFile("patch_tokens", dtype: .f16, shape: [count, grid.0, grid.1, dim], path: featureTemp)
        try writer.addFile("labels", dtype: .u8, shape: [count, resolution, resolution], path: labelTemp)
        try writer.write(to: path)
        return try PatchFeatureStore(path: path)
    }

    /// Nearest-neighbour resize as torch's interpolate(mode="nearest"): src = floor(dst * in / out).
    public static func resizeNearest(_ mask: LabelMask, height: Int, width: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: height * width)
        let sy = Double(mask.height) / Double(height), sx = Double(mask.width) / Double(width)
        let columns = (0..<width).map { min(Int(Double($0) * sx), mask.width - 1) }
        for y in 0..<height {
            let row = min(Int(Double(y) * sy), mask.height - 1) * mask.width
            for x in 0..<width { out[y * width + x] = mask.labels[row + columns[x]] }
        }
        return out
    }

    static func mirror(_ labels: [UInt8], height: Int, width: Int) -> [UInt8] {
        var out = labels
        for y in 0..<height { for x in 0..<width { out[y * width + x] = labels[y * width + width - 1 - x] } }
        return out
    }
}
