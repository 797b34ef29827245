import Backbone
import Foundation
import Images
import SafeTensors
import Support

/// A video's patch tokens, frame by frame: from the backbone as they are needed, or from a cache
/// entry (`FOLDER/video-tokens-KEY.safetensors`, tensor `tokens` [frames, cells, dim] and `grid`
/// [2]) that the first run writes as it extracts, one frame in memory at a time, and later runs
/// map. The key covers the weights, the frame size rule and statistics and every frame file.
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
        let path = entryPath(video, in: cacheFolder)
        var extracted = false
        let file = try CacheEntry.obtain(path, read: { try checked(SafeTensorsFile(path: path), frames: video.frames.count) }, make: {
            extracted = true
            try FileSystem.createDirectories(cacheFolder)
            let first = try tokens(video.frames[0], width: width, height: height)
            onExtracted()
            var writer = SafeTensorsWriter()
            try writer.add("grid", int64s: [Int64(first.gridHeight), Int64(first.gridWidth)], shape: [2])
            try writer.addStream("tokens", dtype: .f32, shape: [video.frames.count, first.tokens.count / model.config.hiddenSize, model.config.hiddenSize],
                                 byteCount: video.frames.count * first.tokens.count * 4) { sink in
                for t in video.frames.indices {
                    let values = t == 0 ? first.tokens : try tokens(video.frames[t], width: width, height: height).tokens
                    guard values.count == first.tokens.count else { throw TrainingError.incompatible("\(video.frames[t]): a patch grid unlike the first frame's") }
                    try values.withUnsafeBytes(sink)
                    if t > 0 { onExtracted() }
                }
            }
            try writer.write(to: path)
            return try checked(SafeTensorsFile(path: path), frames: video.frames.count)
        }, waiting: { reporter.note("\(video.name): waiting for another dinoprobe run (\($0)), which is extracting \(path)") },
           unusable: { reporter.note("\(video.name): cache entry \(path) is unusable (\($0)); removed it, extracting again") })
        let grid = try file.ints("grid").map(Int.init), size = grid[0] * grid[1] * model.config.hiddenSize
        return VideoTokens(gridHeight: grid[0], gridWidth: grid[1], extractedNow: extracted) { t in
            try file.withBytes(of: "tokens") { raw in
                [Float](unsafeUninitializedCapacity: size) { buffer, count in
                    _ = raw[(t * size * 4)..<((t + 1) * size * 4)].copyBytes(to: buffer)
                    count = size
                }
            }
        }
    }

    /// The cache entry of `video`'s tokens in `folder`: the key covers the weights, the frame size
    /// rule and statistics and every frame file.
    func entryPath(_ video: VideoSequence, in folder: String) -> String {
        let preprocessing = Preprocessing(preset: .native, size: settings.scaleSize, mean: settings.mean, std: settings.std,
                                          patchSize: model.config.patchSize)
        let key = FeatureStoreKey.make(kind: "video-tokens", model: model, preprocessing: preprocessing, blocks: 1, files: video.frames,
                                       extra: ["read_frame: short side scaleSize, long side floor to 64"])
        return "\(folder)/video-tokens-\(key).safetensors"
    }

    /// `file` if it holds `frames` frames of this model's tokens on a grid, all finite.
    private func checked(_ file: SafeTensorsFile, frames: Int) throws -> SafeTensorsFile {
        let grid = try file.ints("grid"), shape = file.tensors["tokens"]?.shape ?? []
        guard grid.count == 2, grid.allSatisfy({ (1...4096).contains($0) }), file.tensors["tokens"]?.dtype == .f32,
              shape == [frames, Int(grid[0] * grid[1]), model.config.hiddenSize] else {
            throw TrainingError.badFeaturesFile(path: file.path, reason: "not the tokens of this video's \(frames) frames")
        }
        try file.checkFinite("tokens")
        return file
    }
}
