import Backbone
import Foundation
import Heads
import Images
import SafeTensors
import Support

/// A video's patch tokens, frame by frame: from the backbone as they are needed, or from a cache
/// entry (`FOLDER/video-tokens-KEY.safetensors`, a features file of one row per frame: `patch_tokens`
/// F32 [frames, h, w, dim], the frame paths) that the first run writes as it extracts, one frame
/// in memory at a time, and later runs map. The key covers the weights, the frame size rule and
/// statistics and every frame file. An entry of an earlier dinoprobe (`tokens` and `grid`) is
/// unusable: it is removed and extracted again.
struct VideoTokens {
    var gridHeight: Int, gridWidth: Int
    /// Whether the frames are extracted now (then the extraction counted them).
    var extractedNow: Bool
    var frame: (Int) throws -> [Float]
}

extension PropagationRun {
    /// The tokens of `video`'s frames (all `width` x `height`); `onExtracted` hears of each frame extracted now.
    func videoTokens(_ video: VideoSequence, width: Int, height: Int, onExtracted: @escaping () -> Void) throws -> VideoTokens {
        guard let cacheFolder else {
            let first = try tokens(video.frames[0], width: width, height: height)
            return VideoTokens(gridHeight: first.gridHeight, gridWidth: first.gridWidth, extractedNow: false) { t in
                try t == 0 ? first.tokens : tokens(video.frames[t], width: width, height: height).tokens
            }
        }
        let path = entryPath(video, in: cacheFolder), input = try settings.inputSize(width: width, height: height)
        let grid = [input.height / model.config.patchSize, input.width / model.config.patchSize]
        var extracted = false
        let file = try CacheEntry.obtain(path, read: { try Self.checkedTokens(SafeTensorsFile(path: path), frames: video.frames.count, dim: model.config.hiddenSize, grid: grid) }, make: {
            extracted = true
            try FileSystem.createDirectories(cacheFolder)
            let writer = try FeaturesFile.Writer(destination: path, dim: model.config.hiddenSize, layers: 1, registers: 0, patchTokens: true,
                                                 dtype: .f32, pooled: false)
            defer { writer.discard() }
            for frame in video.frames {
                let t = try tokens(frame, width: width, height: height)
                try writer.append(path: frame, patchTokens: (t.tokens[...], t.gridHeight, t.gridWidth))
                onExtracted()
            }
            try writer.finish(source: FeatureCache.source(model, tokenPreprocessing), skipped: [])
            return try Self.checkedTokens(SafeTensorsFile(path: path), frames: video.frames.count, dim: model.config.hiddenSize, grid: grid)
        }, waiting: { reporter.note("\(video.name): waiting for another dinoprobe run (\($0)), which is extracting \(path)") },
           unusable: { reporter.note("\(video.name): cache entry \(path) is unusable (\($0)); removed it, extracting again") })
        let shape = file.tensors["patch_tokens"]?.shape ?? [], size = shape.dropFirst().reduce(1, *)
        return VideoTokens(gridHeight: shape[1], gridWidth: shape[2], extractedNow: extracted) { t in
            try file.withBytes(of: "patch_tokens") { raw in
                [Float](unsafeUninitializedCapacity: size) { buffer, count in
                    _ = raw[(t * size * 4)..<((t + 1) * size * 4)].copyBytes(to: buffer)
                    count = size
                }
            }
        }
    }

    /// The frames' input: the short side `scaleSize`, the statistics of the settings.
    private var tokenPreprocessing: Preprocessing {
        Preprocessing(preset: .native, size: settings.scaleSize, mean: settings.mean, std: settings.std, patchSize: model.config.patchSize)
    }

    /// The cache entry of `video`'s tokens in `folder`: the key covers the weights, the frame size
    /// rule and statistics and every frame file.
    func entryPath(_ video: VideoSequence, in folder: String) -> String {
        let key = FeatureStoreKey.make(kind: "video-tokens", model: model, preprocessing: tokenPreprocessing, blocks: 1, files: video.frames,
                                       extra: ["read_frame: short side scaleSize, long side floor to 64"])
        return "\(folder)/video-tokens-\(key).safetensors"
    }

    /// `file` if it is a features file of `frames` rows of F32 patch tokens `dim` wide on the
    /// frames' `grid` (height, width), all finite.
    public static func checkedTokens(_ file: SafeTensorsFile, frames: Int, dim: Int, grid: [Int]) throws -> SafeTensorsFile {
        let rows = try FeaturesFile.Rows(file: file), info = file.tensors["patch_tokens"]
        guard !rows.pooled, rows.count == frames, rows.dim == dim, info?.dtype == .f32, info?.shape.dropFirst(1).prefix(2) == grid[...] else {
            throw TrainingError.badFeaturesFile(path: file.path, reason: "not the tokens of this video's \(frames) frames")
        }
        try file.checkFinite("patch_tokens")
        return file
    }
}
