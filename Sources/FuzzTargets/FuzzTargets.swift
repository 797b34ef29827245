import Backbone
import Foundation
import Heads
import Images
import SafeTensors
import Support
import TorchFile
import Training

/// What each fuzz target does with its input bytes: every reader of files that come from
/// strangers, followed by the work a real run would do with what it read. The libFuzzer targets
/// in fuzz/ call these, and so do the regression tests on the committed corpus and every crash
/// the fuzzers ever found (fuzz/regressions). Errors are the expected outcome for most inputs;
/// a trap, a signal or a sanitizer report is a bug.
public enum FuzzTargets {
    /// The targets by name (the fuzz/ executables are `Fuzz<Name>`).
    public static let all: [(name: String, run: @Sendable (Data) -> Void)] = [
        ("SafeTensors", safeTensors), ("JSON", json), ("Images", images), ("Masks", masks),
        ("Heads", heads), ("Features", features), ("Config", config), ("Pth", pth), ("CSV", csv), ("Lists", lists), ("PNG16", png16),
    ]

    /// Pixel limit while fuzzing: the limit's checks are exercised, not the machine's memory.
    static let maxPixels = 4 << 20

    /// The safetensors parser (header length, strict JSON header, offsets), then every tensor read.
    @Sendable public static func safeTensors(_ data: Data) {
        guard let file = try? SafeTensorsFile(bytes: data, path: "fuzz") else { return }
        for name in file.names {
            _ = try? file.floats(name)
            _ = try? file.ints(name)
            try? file.checkFinite(name)
            _ = try? file.withBytes(of: name) { $0.count }
        }
    }

    /// PyTorch checkpoints: the zip directory, the restricted unpickler, every tensor read.
    @Sendable public static func pth(_ data: Data) {
        guard let file = try? TorchCheckpointFile(bytes: data, path: "fuzz") else { return }
        for name in file.names {
            _ = try? file.floats(name)
            try? file.checkFinite(name)
        }
    }

    /// The strict JSON reader, the path codec (which must round-trip every byte string) and the
    /// terminal sanitiser (`shown`).
    @Sendable public static func json(_ data: Data) {
        if let value = try? StrictJSON.parse(data) {
            _ = value["weight_map"]?.string
            _ = value.int
            _ = value.double
        }
        let name = PathCodec.string(fromBytes: data)
        if PathCodec.bytes(of: name) != Array(data) { fatalError("PathCodec does not round-trip \(Array(data))") }
        _ = PathCodec.display(name)
        // The terminal sanitiser: a value shown in a message holds no control character at all.
        if shown(name).unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
            fatalError("shown() lets a control character through in \(Array(data))")
        }
    }

    /// Image headers, EXIF, whole decoding, and the streaming decode + resample of every preset.
    @Sendable public static func images(_ data: Data) {
        let file = MappedFile(bytes: data, path: "fuzz")
        guard (try? ImageDecoder.info(of: file, maxPixels: maxPixels)) != nil else { return }
        _ = try? ImageDecoder.decode(file: file, maxPixels: maxPixels)
        for preset in PreprocessPreset.allCases {
            _ = try? Preprocessing(preset: preset, size: 32).prepare(file: file, maxPixels: maxPixels, mirrored: preset == .eval)
        }
    }

    /// Label masks (palette and greyscale PNG).
    @Sendable public static func masks(_ data: Data) {
        _ = try? MaskDecoder.decode(data: data, path: "fuzz", maxPixels: maxPixels)
    }

    /// 16-bit greyscale PNGs (depth maps): decoded, read as depth, scored against themselves, and
    /// written back, which must give the same samples.
    @Sendable public static func png16(_ data: Data) {
        guard let image = try? GreyPNG16.decode(data: data, path: "fuzz", maxPixels: maxPixels) else { return }
        let depth = DepthMap(image, scale: 1000)
        _ = try? DepthEvaluation.nyu.scores(prediction: depth.values, truth: depth)
        guard let again = try? GreyPNG16.decode(data: GreyPNG16.encode(image), path: "again"), again == image else {
            fatalError("a decoded 16-bit PNG does not survive encoding and decoding again")
        }
    }

    /// Head files (classifier and segmenter) and inference with what they hold.
    @Sendable public static func heads(_ data: Data) {
        guard let file = try? SafeTensorsFile(bytes: data, path: "fuzz") else { return }
        if let head = try? LinearClassifier.load(file: file), head.dim <= 4096, head.classes <= 4096 {
            _ = try? head.probabilities(features: [Float](repeating: 0.5, count: head.dim), count: 1)
        }
        if let head = try? LinearSegmenter.load(file: file), head.dim <= 4096 {
            _ = try? head.predict(features: [Float](repeating: 0.5, count: 4 * head.dim), batch: 1, height: 2, width: 2,
                                  outputHeight: 5, outputWidth: 3)
        }
    }

    /// Our own files read back: features files, feature-cache entries, patch-feature stores,
    /// keypoint-grid and video-token cache entries.
    @Sendable public static func features(_ data: Data) {
        guard let file = try? SafeTensorsFile(bytes: data, path: "fuzz") else { return }
        if let split = try? FeaturesFile.read(file: file) {
            for tokens in FeatureTokens.allCases {
                _ = try? split.labelled(tokens, blocks: split.features.blocks)
            }
            _ = split.features.normalisedCLS()
        }
        _ = try? FeatureCache.read(file, inputs: 3, fingerprint: "f", dim: 4, blocks: 1)
        if let store = try? PatchFeatureStore(file: file, expecting: .init(dim: 4, resolution: 16, targets: .classes(count: 3, ignoreIndex: 255))) {
            _ = try? store.batch([0])
        }
        if let store = try? PatchFeatureStore(file: file, expecting: .init(dim: 4, resolution: 16, targets: .depths)) {
            _ = try? store.batch([0], of: Float.self)
        }
        if let t = try? KeypointGridStore.read(file, grid: 2, dim: 4, maxPixels: 1 << 16),
           let grid = try? KeypointFeatureGrid(patchTokens: t.values, grid: t.grid, dim: t.dim, imageWidth: t.width, imageHeight: t.height) {
            _ = try? KeypointMatching.match([(x: 0, y: 0)], source: grid, target: grid, window: 2)
        }
        _ = try? PropagationRun.checkedTokens(file, frames: 2, dim: 4, grid: [2, 2]).floats("patch_tokens")
    }

    /// config.json (strict JSON, ranges) and model.safetensors.index.json (shard names).
    @Sendable public static func config(_ data: Data) {
        if let config = try? DINOv3Config.decode(data, path: "fuzz") {
            _ = config.tensorShapes.count
            _ = ComputeCost(config: config, height: 224, width: 224).flops
        }
        _ = try? ShardIndex.parse(data, path: "fuzz")
    }
}
