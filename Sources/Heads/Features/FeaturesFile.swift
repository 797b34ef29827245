import Foundation
import ImagePreprocessing
import SafeTensors
import Support

/// The features file that `dinoprobe extract` writes (safetensors, readable with Python's
/// `safetensors` as is): `cls` and `mean_patch` [N, D] (the last block), with more blocks
/// `layers_cls` and `layers_mean_patch` [N, L, D] (oldest first), optionally `patch_tokens`
/// [N, h, w, D] and `registers` [N, R, D], optionally a ConvNeXt's raw stage maps `stage_<i>`
/// [N, C_i, H_i, W_i] (listed by the `stages` metadata), and optionally `labels` [N] with `class_names`.
/// A file of patch tokens only (a dense patch store, a video's frames, an image's grid) has no
/// pooled tokens, and may keep a dense target per row, `target_u8` or `target_f32` [N, H, W].
/// Metadata: the image paths in row order, the skipped files, the backbone and its weights
/// fingerprint, and the preprocessing. This is the one reader and the one writer of the format.
public enum FeaturesFile {
    public static let format = "dinoprobe-features-v1"

    /// Reads a features file, or a folder of shards written by `extract --shard` (streamed shard
    /// by shard, see `ShardedFeatures`). Labels come from a `labels` tensor when present, else
    /// from each image's parent folder (the ImageFolder convention); `classNames` fixes the class
    /// list (e.g. the train split's, when reading val). Every tensor's shape is checked against
    /// the others, and every value must be finite.
    public static func read(path: String, classNames: [String]? = nil) throws -> FeatureSplit {
        if FileSystem.isDirectory(path) { return try ShardedFeatures.read(folder: path, classNames: classNames) }
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(path: path) } catch {
            throw HeadError.badFeaturesFile(path: path, reason: "\(error)")
        }
        return try read(file: file, classNames: classNames)
    }

    /// Reads an open safetensors file (see `read(path:classNames:)`).
    public static func read(file: SafeTensorsFile, classNames knownClasses: [String]? = nil) throws -> FeatureSplit {
        func fail(_ reason: String) -> HeadError { .badFeaturesFile(path: file.path, reason: reason) }
        let rows = try Rows(file: file)
        guard rows.count > 0 else { throw fail("cls has shape [0, \(rows.dim)]: no features") }
        guard rows.pooled else { throw fail("it holds patch tokens only (a patch store or a cache entry of patch grids), no cls and mean_patch to classify") }
        let (labels, classNames) = try storedLabels(file, rows: rows.count, fail: fail)
            ?? folderLabels(paths: rows.paths, knownClasses: knownClasses, fail: fail)
        return try rows.split(labels: labels, classNames: classNames, fail: fail)
    }

    /// The rows of one features file, checked, without labels. Pooled tokens are read; patch
    /// tokens, stage maps and targets are checked against the rows, not read.
    public struct Rows {
        public var dim: Int
        public var blocks: Int
        /// [N, blocks, dim] each (empty in a file of patch tokens only).
        public var cls: [Float]
        public var meanPatch: [Float]
        public var pooled: Bool
        public var paths: [String]
        /// The stage maps the file holds besides (checked, not read).
        var stages: [StageLayout]
        public var skipped: [SkippedInput]
        public var source: FeatureSource
        public var count: Int { paths.count }

        public init(file: SafeTensorsFile) throws {
            func fail(_ reason: String) -> HeadError { .badFeaturesFile(path: file.path, reason: reason) }
            guard file.metadata["format"] == format else {
                let old = file.metadata["format"] == "dinoprobe-feature-cache-v1"
                    ? "; it is a cache entry of an earlier dinoprobe, read by the runs that use the cache: `dinoprobe extract` writes the same features as a file" : ""
                throw fail("it was not written by `dinoprobe extract` (no \(format) metadata)\(old)")
            }
            let floatTypes: Set<SafeTensorsDType> = [.f32, .f16, .bf16]
            pooled = file.tensors["cls"] != nil || file.tensors["patch_tokens"] == nil
            guard let clsInfo = file.tensors[pooled ? "cls" : "patch_tokens"], clsInfo.shape.count == (pooled ? 2 : 4), floatTypes.contains(clsInfo.dtype),
                  !pooled || (file.tensors["mean_patch"].map { $0.shape == clsInfo.shape && floatTypes.contains($0.dtype) } ?? false) else {
                throw fail("it lacks float cls and mean_patch tensors of one shape [N, D] (or, without them, float patch_tokens [N, h, w, D])")
            }
            let (n, d) = (clsInfo.shape[0], clsInfo.shape.last ?? 0)
            guard d > 0 else { throw fail("cls has shape [\(n), \(d)]: no features") }
            var blocks = 1
            if let layers = file.tensors["layers_cls"] {
                guard layers.shape.count == 3, layers.shape[0] == n, layers.shape[2] == d, layers.shape[1] >= 1,
                      let means = file.tensors["layers_mean_patch"], means.shape == layers.shape,
                      floatTypes.contains(layers.dtype), floatTypes.contains(means.dtype) else {
                    throw fail("layers_cls and layers_mean_patch must both be float [\(n), L, \(d)]")
                }
                blocks = layers.shape[1]
            } else if file.tensors["layers_mean_patch"] != nil {
                throw fail("it has layers_mean_patch without layers_cls")
            }
            if let patches = file.tensors["patch_tokens"],
               !(patches.shape.count == 4 && patches.shape[0] == n && patches.shape[1] > 0 && patches.shape[2] > 0 && patches.shape[3] == d) {
                throw fail("patch_tokens has shape \(patches.shape), not [\(n), h, w, \(d)]")
            }
            if let registers = file.tensors["registers"], !(registers.shape.count == 3 && registers.shape[0] == n && registers.shape[2] == d) {
                throw fail("registers has shape \(registers.shape), not [\(n), R, \(d)]")
            }
            for (name, info) in file.tensors where name.hasPrefix("target_") {
                guard info.shape.count == 3, info.shape[0] == n, info.shape[1] > 0, info.shape[2] > 0, name == "target_" + info.dtype.rawValue.lowercased(),
                      [.u8, .f32].contains(info.dtype), pooled == false else {
                    throw fail("\(name) is \(info.dtype.rawValue) \(info.shape), not a target_u8 or target_f32 [\(n), H, W] beside patch tokens only")
                }
            }
            stages = try FeaturesFile.stageLayouts(of: file, rows: n)
            guard let paths = decodeJSON([String].self, file.metadata["paths"]), paths.count == n else {
                throw fail("its metadata does not list one image path per row (\(n) rows)")
            }
            do {
                let layered = file.tensors["layers_cls"] != nil
                cls = pooled ? try file.finiteFloats(layered ? "layers_cls" : "cls") : []
                meanPatch = pooled ? try file.finiteFloats(layered ? "layers_mean_patch" : "mean_patch") : []
                if layered { try ["cls", "mean_patch"].forEach { try file.checkFinite($0) } }  // the last block's copies, as Python reads them
            } catch {
                throw fail("\(error)")
            }
            self.dim = d
            self.blocks = blocks
            self.paths = paths
            skipped = FeaturesFile.skipped(file.metadata)
            source = try FeaturesFile.source(file.metadata, fail: fail)
        }

        /// The split these rows make with `labels`.
        func split(labels: [Int], classNames: [String], fail: (String) -> HeadError) throws -> FeatureSplit {
            guard classNames.count >= 2 else { throw fail("its images span \(classNames.count) class folder(s); a classifier needs at least 2") }
            let features = try TokenFeatures(count: count, dim: dim, blocks: blocks, cls: cls, meanPatch: meanPatch)
            return try FeatureSplit(features: features, labels: labels, paths: paths, classNames: classNames, source: source, skipped: skipped)
        }
    }

    /// Where a file's features came from, by its metadata.
    static func source(_ m: [String: String], fail: (String) -> HeadError) throws -> FeatureSource {
        FeatureSource(backboneID: m["model"] ?? "unknown", backboneFingerprint: m["backbone_fingerprint"] ?? "unknown",
                      preprocessing: try preprocessing(m, fail: fail))
    }

    /// The skipped inputs a file lists, as [path, reason] or, in a store of an input list,
    /// [position, path, reason] (malformed entries are left out).
    public static func skipped(_ metadata: [String: String]) -> [SkippedInput] {
        decodeJSON([[String]].self, metadata["skipped"] ?? "[]")?.compactMap { row in
            if row.count == 3, let index = Int(row[0]) { return SkippedInput(index: index, path: row[1], reason: row[2]) }
            return row.count == 2 ? SkippedInput(path: row[0], reason: row[1]) : nil
        } ?? []
    }

    /// The file's `labels` tensor with its `class_names`, or nil when it has none.
    static func storedLabels(_ file: SafeTensorsFile, rows n: Int, fail: (String) -> HeadError) throws -> (labels: [Int], classNames: [String])? {
        guard file.tensors["labels"] != nil else { return nil }
        guard let names = decodeJSON([String].self, file.metadata["class_names"]) else {
            throw fail("it has a labels tensor but no class_names metadata (a JSON list of names)")
        }
        guard file.tensors["labels"]?.shape == [n] else { throw fail("labels must have shape [\(n)]") }
        guard Set(names).count == names.count else { throw fail("its class_names repeat a name") }
        let stored: [Int64]
        do { stored = try file.ints("labels") } catch { throw fail("\(error)") }
        guard stored.allSatisfy({ $0 >= 0 && $0 < Int64(names.count) }) else { throw fail("a label is outside its \(names.count) class names") }
        return (stored.map { Int($0) }, names)
    }

    /// Labels from the images' folder names (`knownClasses` fixes the list).
    static func folderLabels(paths: [String], knownClasses: [String]?, fail: (String) -> HeadError) throws -> (labels: [Int], classNames: [String]) {
        let folders = paths.map { URL(fileURLWithPath: $0).deletingLastPathComponent().lastPathComponent }
        let names = knownClasses ?? Array(Set(folders)).sorted()
        let index = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        var labels: [Int] = []
        for (path, folder) in zip(paths, folders) {
            guard let label = index[folder] else {
                throw fail("\(path) is in folder '\(folder)', which is not a class of the training features (\(names.prefix(10).joined(separator: ", ")))")
            }
            labels.append(label)
        }
        return (labels, names)
    }

    /// The preprocessing recorded by `extract`, read strictly (a file that names an unknown preset
    /// or malformed statistics is refused, not silently read with defaults).
    static func preprocessing(_ m: [String: String], fail: (String) -> HeadError) throws -> Preprocessing {
        guard let presetName = m["preset"], let preset = PreprocessPreset(rawValue: presetName) else {
            throw fail("its metadata has no valid 'preset' (hf, eval or native)")
        }
        guard let sizeText = m["size"], let size = Int(sizeText), size > 0 else { throw fail("its metadata has no valid 'size'") }
        func triple(_ key: String) throws -> [Float] {
            // Cut scalar by scalar, every field a number: a "," after a prepend character counts.
            let fields = ByteText.split(m[key] ?? "", on: ","), v = fields.compactMap { Float($0) }
            guard fields.count == 3, v.count == 3, v.allSatisfy({ $0.isFinite }) else { throw fail("its metadata '\(key)' is not three finite numbers") }
            return v
        }
        let p = Preprocessing(preset: preset, size: size, mean: try triple("mean"), std: try triple("std"))
        guard p.std.allSatisfy({ $0 > 0 }) else { throw fail("its metadata 'std' has a value that is not positive") }
        return p
    }

    static func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String?) -> T? {
        guard let text else { return nil }
        return try? StrictJSONDecoder.decode(type, from: Data(text.utf8))
    }

    static func jsonText<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
