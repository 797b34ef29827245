import Backbone
import Foundation
import Images
import SafeTensors
import Support

/// The patch tokens of one image at the correspondence input, in the feature cache folder: one
/// safetensors file per image (`keypoints-<key>.safetensors`, F32, so a cached run gives the same
/// numbers as a fresh one), keyed by `FeatureStoreKey` (backbone, precision, input, the file's
/// path, size and time). Made under `CacheEntry`'s claim, so runs sharing the folder extract an
/// image once, and an interrupted run keeps every image it finished.
public struct KeypointGridStore: Sendable {
    /// The cache folder; nil keeps nothing on disk.
    public let folder: String?

    public init(folder: String?) { self.folder = folder }

    static let format = "dinoprobe-keypoint-grid-v1"

    /// The feature grid of the image at `path`: read from the folder, or extracted (and stored).
    public func grid(of path: String, model: DINOv3Model, size: Int, maxPixels: Int, reporter: Reporter) throws -> KeypointFeatureGrid {
        let make = { try CorrespondenceRun.patchTokens(of: path, model: model, size: size, maxPixels: maxPixels) }
        guard let folder else { return try Self.grid(make()) }
        let file = Self.entryPath(path, in: folder, model: model, size: size)
        return try CacheEntry.obtain(file, read: { try Self.grid(Self.read(file)) }, make: {
            let tokens = try make()
            try FileSystem.createDirectories(folder)
            var writer = SafeTensorsWriter(metadata: ["format": Self.format, "width": "\(tokens.width)", "height": "\(tokens.height)"])
            try writer.add("patch_tokens", floats: tokens.values, shape: [tokens.grid, tokens.grid, tokens.dim])
            try writer.write(to: file)
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

    /// A stored entry, checked: its format, a square grid, the image size, every value finite
    /// (the key already names the backbone and input that made it).
    static func read(_ file: String) throws -> CorrespondenceRun.PatchTokens {
        let stored = try SafeTensorsFile(path: file)
        guard stored.metadata["format"] == format, let shape = stored.tensors["patch_tokens"]?.shape, shape.count == 3, shape[0] == shape[1],
              shape[0] > 0, shape[2] > 0,
              let width = stored.metadata["width"].flatMap({ Int($0) }), let height = stored.metadata["height"].flatMap({ Int($0) }),
              width > 0, height > 0 else {
            throw TrainingError.badFeaturesFile(path: file, reason: "not a keypoint grid")
        }
        return .init(values: try stored.finiteFloats("patch_tokens"), grid: shape[0], dim: shape[2], width: width, height: height)
    }

    static func grid(_ t: CorrespondenceRun.PatchTokens) throws -> KeypointFeatureGrid {
        try KeypointFeatureGrid(patchTokens: t.values, grid: t.grid, dim: t.dim, imageWidth: t.width, imageHeight: t.height)
    }
}
