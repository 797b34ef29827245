import Backbone
import Foundation
import SafeTensors

/// Features brought by the user: a file written by `dinoprobe extract`. Labels come from a
/// `labels` tensor with `class_names` metadata when present, else from each image's parent
/// folder name (the ImageFolder convention).
public struct FeaturesFile: Sendable {
    public let path: String
    public let features: CachedFeatures
    /// Image path of each row.
    public let paths: [String]
    /// Label of each row, and the class names (sorted folder names unless the file names them).
    public let labels: [Int]
    public let classNames: [String]
    /// The recipe's preprocessing, from the metadata.
    public let preprocessing: Preprocessing
    public let modelID: String

    public init(path: String, classNames knownClasses: [String]? = nil) throws {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(path: path) } catch {
            throw TrainingError.badFeaturesFile(path: path, reason: "\(error)")
        }
        try self.init(file: file, classNames: knownClasses)
    }

    /// Reads an open safetensors file (see `init(path:classNames:)`).
    public init(file: SafeTensorsFile, classNames knownClasses: [String]? = nil) throws {
        let path = file.path
        self.path = path
        func fail(_ reason: String) -> TrainingError { .badFeaturesFile(path: path, reason: reason) }
        guard file.metadata["format"] == "dinoprobe-features-v1" else {
            throw fail("it was not written by `dinoprobe extract` (no dinoprobe-features-v1 metadata)")
        }
        // Every tensor's shape is checked against the others before anything is read.
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
                  file.tensors["layers_mean_patch"]?.shape == layers.shape,
                  floatTypes.contains(layers.dtype), file.tensors["layers_mean_patch"].map({ floatTypes.contains($0.dtype) }) == true else {
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
        guard let pathsJSON = file.metadata["paths"],
              let paths = try? JSONDecoder().decode([String].self, from: Data(pathsJSON.utf8)), paths.count == n else {
            throw fail("its metadata does not list one image path per row (\(n) rows)")
        }
        let cls: [Float], mean: [Float]
        do {
            cls = try file.finiteFloats(blocks > 1 || file.tensors["layers_cls"] != nil ? "layers_cls" : "cls")
            mean = try file.finiteFloats(file.tensors["layers_mean_patch"] != nil ? "layers_mean_patch" : "mean_patch")
        } catch {
            throw fail("\(error)")
        }
        self.paths = paths
        features = CachedFeatures(count: n, dim: d, blocks: blocks, cls: cls, meanPatch: mean, sourceIndex: Array(0..<n),
                                  skipped: [], backboneFingerprint: file.metadata["backbone_fingerprint"] ?? "unknown")
        preprocessing = try Self.preprocessing(file.metadata, fail: fail)
        modelID = file.metadata["model"] ?? "unknown"
        if file.tensors["labels"] != nil {
            guard let namesJSON = file.metadata["class_names"],
                  let names = try? JSONDecoder().decode([String].self, from: Data(namesJSON.utf8)) else {
                throw fail("it has a labels tensor but no class_names metadata (a JSON list of names)")
            }
            guard file.tensors["labels"]?.shape == [n] else { throw fail("labels must have shape [\(n)]") }
            guard Set(names).count == names.count else { throw fail("its class_names repeat a name") }
            let stored: [Int64]
            do { stored = try file.ints("labels") } catch { throw fail("\(error)") }
            guard stored.allSatisfy({ $0 >= 0 && $0 < Int64(names.count) }) else { throw fail("a label is outside its \(names.count) class names") }
            labels = stored.map { Int($0) }
            classNames = names
        } else {
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
            self.labels = labels
            classNames = names
        }
        guard classNames.count >= 2 else { throw fail("its images span \(classNames.count) class folder(s); a classifier needs at least 2") }
    }

    /// The preprocessing recorded by `extract`, read strictly (a file that names an unknown preset
    /// or malformed statistics is refused, not silently read with defaults).
    static func preprocessing(_ m: [String: String], fail: (String) -> TrainingError) throws -> Preprocessing {
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
}
