import Foundation
import Images
import SafeTensors
import Support

/// The features file that `dinoprobe extract` writes (safetensors, readable with Python's
/// `safetensors` as is): `cls` and `mean_patch` [N, D] (the last block), with more blocks
/// `layers_cls` and `layers_mean_patch` [N, L, D] (oldest first), optionally `patch_tokens`
/// [N, h, w, D] and `registers` [N, R, D], and optionally `labels` [N] with `class_names`.
/// Metadata: the image paths in row order, the skipped files, the backbone and its weights
/// fingerprint, and the preprocessing. This is the one reader and the one writer of the format.
public enum FeaturesFile {
    public static let format = "dinoprobe-features-v1"

    /// Reads a features file. Labels come from its `labels` tensor when present, else from each
    /// image's parent folder (the ImageFolder convention); `classNames` fixes the class list
    /// (e.g. the train split's, when reading val). Every tensor's shape is checked against the
    /// others, and every value must be finite.
    public static func read(path: String, classNames: [String]? = nil) throws -> FeatureSplit {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(path: path) } catch {
            throw HeadError.badFeaturesFile(path: path, reason: "\(error)")
        }
        return try read(file: file, classNames: classNames)
    }

    /// Reads an open safetensors file (see `read(path:classNames:)`).
    public static func read(file: SafeTensorsFile, classNames knownClasses: [String]? = nil) throws -> FeatureSplit {
        let path = file.path
        func fail(_ reason: String) -> HeadError { .badFeaturesFile(path: path, reason: reason) }
        guard file.metadata["format"] == format else {
            throw fail("it was not written by `dinoprobe extract` (no \(format) metadata)")
        }
        let floatTypes: Set<SafeTensorsDType> = [.f32, .f16, .bf16]
        guard let clsInfo = file.tensors["cls"], clsInfo.shape.count == 2, floatTypes.contains(clsInfo.dtype),
              let meanInfo = file.tensors["mean_patch"], meanInfo.shape == clsInfo.shape, floatTypes.contains(meanInfo.dtype) else {
            throw fail("it lacks float cls and mean_patch tensors of one shape [N, D]")
        }
        let (n, d) = (clsInfo.shape[0], clsInfo.shape[1])
        guard n > 0, d > 0 else { throw fail("cls has shape [\(n), \(d)]: no features") }
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
        if let patches = file.tensors["patch_tokens"], !(patches.shape.count == 4 && patches.shape[0] == n && patches.shape[3] == d) {
            throw fail("patch_tokens has shape \(patches.shape), not [\(n), h, w, \(d)]")
        }
        if let registers = file.tensors["registers"], !(registers.shape.count == 3 && registers.shape[0] == n && registers.shape[2] == d) {
            throw fail("registers has shape \(registers.shape), not [\(n), R, \(d)]")
        }
        guard let paths = decodeJSON([String].self, file.metadata["paths"]), paths.count == n else {
            throw fail("its metadata does not list one image path per row (\(n) rows)")
        }
        let skipped = decodeJSON([[String]].self, file.metadata["skipped"] ?? "[]")?.compactMap { row in
            row.count == 2 ? SkippedInput(path: row[0], reason: row[1]) : nil
        } ?? []
        let features: TokenFeatures
        do {
            let layered = file.tensors["layers_cls"] != nil
            features = try TokenFeatures(count: n, dim: d, blocks: blocks,
                                         cls: file.finiteFloats(layered ? "layers_cls" : "cls"),
                                         meanPatch: file.finiteFloats(layered ? "layers_mean_patch" : "mean_patch"))
        } catch {
            throw fail("\(error)")
        }
        let source = FeatureSource(backboneID: file.metadata["model"] ?? "unknown",
                                   backboneFingerprint: file.metadata["backbone_fingerprint"] ?? "unknown",
                                   preprocessing: try preprocessing(file.metadata, fail: fail))
        let (labels, classNames) = try self.labels(file, paths: paths, knownClasses: knownClasses, fail: fail)
        guard classNames.count >= 2 else { throw fail("its images span \(classNames.count) class folder(s); a classifier needs at least 2") }
        return try FeatureSplit(features: features, labels: labels, paths: paths, classNames: classNames, source: source, skipped: skipped)
    }

    /// Labels from the file, or from the images' folder names.
    private static func labels(_ file: SafeTensorsFile, paths: [String], knownClasses: [String]?,
                               fail: (String) -> HeadError) throws -> (labels: [Int], classNames: [String]) {
        let n = paths.count
        if file.tensors["labels"] != nil {
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
            let v = (m[key] ?? "").split(separator: ",").compactMap { Float($0) }
            guard v.count == 3, v.allSatisfy({ $0.isFinite }) else { throw fail("its metadata '\(key)' is not three finite numbers") }
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

    /// Writes a features file as rows arrive. CLS and mean-patch rows are kept in memory; patch
    /// tokens, which can be large, are spooled to a temporary file beside the destination and
    /// copied into the final file at the end, which appears whole or not at all.
    public final class Writer {
        public let destination: String
        public let dim: Int
        /// Blocks kept per image (the last `layers` of the backbone).
        public let layers: Int
        public let registers: Int
        public let dtype: SafeTensorsDType
        public private(set) var count = 0
        private var paths: [String] = []
        private var cls: [Float] = []
        private var meanPatch: [Float] = []
        private var layersCLS: [Float] = []
        private var layersMean: [Float] = []
        private var registerTokens: [Float] = []
        private var grid: (Int, Int)?
        private var patchSpool: AtomicFile.Output?

        /// `dtype`: .f32 or .f16.
        public init(destination: String, dim: Int, layers: Int, registers: Int, patchTokens: Bool, dtype: SafeTensorsDType) throws {
            try require(dim > 0 && layers > 0 && registers >= 0, "features layout", "dim, layers and registers out of range")
            try require(dtype == .f32 || dtype == .f16, "features dtype", "f32 or f16")
            self.destination = destination
            self.dim = dim
            self.layers = layers
            self.registers = registers
            self.dtype = dtype
            if patchTokens { patchSpool = try AtomicFile.begin(destination + ".patches") }
        }

        /// Adds one image: CLS and mean-patch tokens of each kept block ([layers, dim] each,
        /// oldest first), and, when writing them, its patch tokens [gh, gw, dim] and registers.
        public func append<C: Collection, M: Collection>(path: String, cls c: C, meanPatch m: M,
                                                         patchTokens: (values: ArraySlice<Float>, gridHeight: Int, gridWidth: Int)? = nil,
                                                         registers r: ArraySlice<Float>? = nil) throws where C.Element == Float, M.Element == Float {
            try require(c.count == layers * dim && m.count == layers * dim, "image features", "expected \(layers) x \(dim) values")
            let last = Array(c.suffix(dim)), lastMean = Array(m.suffix(dim))
            cls += last
            meanPatch += lastMean
            if layers > 1 {
                layersCLS.append(contentsOf: c)
                layersMean.append(contentsOf: m)
            }
            if let spool = patchSpool {
                guard let patchTokens, let r, r.count == registers * dim,
                      patchTokens.values.count == patchTokens.gridHeight * patchTokens.gridWidth * dim,
                      grid == nil || grid! == (patchTokens.gridHeight, patchTokens.gridWidth) else {
                    throw HeadError.invalidArgument(what: "patch tokens", detail: "every image needs patch tokens of one grid and its registers")
                }
                grid = (patchTokens.gridHeight, patchTokens.gridWidth)
                try spool.write(encode(Array(patchTokens.values)))
                registerTokens += r
            }
            paths.append(path)
            count += 1
        }

        private func encode(_ values: [Float]) -> Data {
            dtype == .f16
                ? values.map { FloatConversion.floatToF16($0).littleEndian }.withUnsafeBytes { Data($0) }
                : values.withUnsafeBytes { Data($0) }
        }

        /// Writes the file (whole or not at all) and removes the spool.
        public func finish(source: FeatureSource, skipped: [SkippedInput], extraMetadata: [String: String] = [:]) throws {
            defer { discard() }
            let p = source.preprocessing
            var meta = extraMetadata
            meta["format"] = FeaturesFile.format
            meta["model"] = source.backboneID
            meta["backbone_fingerprint"] = source.backboneFingerprint
            meta["preset"] = p.preset.rawValue
            meta["size"] = "\(p.size)"
            meta["mean"] = p.mean.map { "\($0)" }.joined(separator: ",")
            meta["std"] = p.std.map { "\($0)" }.joined(separator: ",")
            meta["layers"] = "\(layers)"
            meta["paths"] = try jsonText(paths)
            meta["skipped"] = try jsonText(skipped.map { [$0.path, $0.reason] })
            var writer = SafeTensorsWriter(metadata: meta)
            try writer.add("cls", floats: cls, shape: [count, dim], dtype: dtype)
            try writer.add("mean_patch", floats: meanPatch, shape: [count, dim], dtype: dtype)
            if layers > 1 {
                try writer.add("layers_cls", floats: layersCLS, shape: [count, layers, dim], dtype: dtype)
                try writer.add("layers_mean_patch", floats: layersMean, shape: [count, layers, dim], dtype: dtype)
            }
            if let spool = patchSpool, let grid {
                try spool.finishWriting()
                try writer.addFile("patch_tokens", dtype: dtype, shape: [count, grid.0, grid.1, dim], path: spool.temporaryPath)
                try writer.add("registers", floats: registerTokens, shape: [count, registers, dim], dtype: dtype)
            }
            try writer.write(to: destination)
        }

        /// Removes the temporary patch file (after success or failure).
        public func discard() {
            patchSpool?.discard()
            patchSpool = nil
        }
    }
}
