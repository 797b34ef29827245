import Backbone
import Foundation
import Heads
import Images
import SafeTensors
import Support

/// The patch tokens of one image at the correspondence input, in the feature cache folder: one
/// features file of one row per image (`keypoints-<key>.safetensors`, `patch_tokens` F32
/// [1, grid, grid, dim], so a cached run gives the same numbers as a fresh one, and the image size
/// as `width` and `height`), keyed by `FeatureStoreKey` (backbone, precision, input, the file's
/// path, size and time). Made under `CacheEntry`'s claim, so runs sharing the folder extract an
/// image once, and an interrupted run keeps every image it finished. An entry of an earlier
/// dinoprobe (`dinoprobe-keypoint-grid-v1`) is unusable: it is removed and extracted again.
public struct KeypointGridStore: Sendable {
    /// The cache folder; nil keeps nothing on disk.
    public let folder: String?

    public init(folder: String?) { self.folder = folder }

    /// The feature grid of the image at `path`: read from the folder, or extracted (and stored).
    public func grid(of path: String, model: DINOv3Model, size: Int, maxPixels: Int, reporter: Reporter) throws -> KeypointFeatureGrid {
        let make = { try CorrespondenceRun.patchTokens(of: path, model: model, size: size, maxPixels: maxPixels) }
        guard let folder else { return try Self.grid(make()) }
        let file = Self.entryPath(path, in: folder, model: model, size: size)
        return try CacheEntry.obtain(file, read: {
            try Self.grid(Self.read(SafeTensorsFile(path: file), grid: size / model.config.patchSize, dim: model.config.hiddenSize, maxPixels: maxPixels))
        }, make: {
            let tokens = try make()
            try FileSystem.createDirectories(folder)
            let writer = try FeaturesFile.Writer(destination: file, dim: tokens.dim, layers: 1, registers: 0, patchTokens: true, dtype: .f32, pooled: false)
            defer { writer.discard() }
            try writer.append(path: path, patchTokens: (tokens.values[...], tokens.grid, tokens.grid))
            try writer.finish(source: FeatureCache.source(model, Preprocessing(preset: .hf, size: size)), skipped: [],
                              extraMetadata: ["width": "\(tokens.width)", "height": "\(tokens.height)"])
            return try Self.grid(tokens)
        }, waiting: { reporter.note("waiting for another dinoprobe run (\($0)), which is extracting \(file)") },
           unusable: { reporter.note("cache entry \(file) is unusable (\($0)); removed it, extracting again") })
    }

    /// The entry of the image at `path` in `folder`.
    static func entryPath(_ path: String, in folder: String, model: DINOv3Model, size: Int) -> String {
        let key = FeatureStoreKey.make(kind: "keypoint-grid", model: model, preprocessing: Preprocessing(preset: .hf, size: size), blocks: 1,
                                       files: [path], extra: ["white square pad, bicubic"])
        return "\(folder)/keypoints-\(key).safetensors"
    }

    /// A stored entry, checked: one row of patch tokens on the `grid` x `grid` x `dim` grid the
    /// run extracts, the size of an image that `maxPixels` admits padded to a square (an entry's
    /// size sizes the similarity maps), every value finite.
    public static func read(_ stored: SafeTensorsFile, grid: Int, dim: Int, maxPixels: Int) throws -> CorrespondenceRun.PatchTokens {
        let rows = try FeaturesFile.Rows(file: stored)
        guard !rows.pooled, rows.count == 1, stored.tensors["patch_tokens"]?.shape == [1, grid, grid, dim],
              let width = stored.metadata["width"].flatMap({ Int($0) }), let height = stored.metadata["height"].flatMap({ Int($0) }),
              width > 0, height > 0, max(width, height) <= maxPixels / max(width, height) else {
            throw TrainingError.badFeaturesFile(path: stored.path, reason: "not a keypoint grid")
        }
        return .init(values: try stored.finiteFloats("patch_tokens"), grid: grid, dim: dim, width: width, height: height)
    }

    static func grid(_ t: CorrespondenceRun.PatchTokens) throws -> KeypointFeatureGrid {
        try KeypointFeatureGrid(patchTokens: t.values, grid: t.grid, dim: t.dim, imageWidth: t.width, imageHeight: t.height)
    }
}
