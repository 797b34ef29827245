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
        self.path = path
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(path: path) } catch {
            throw TrainingError.badFeaturesFile(path: path, reason: "\(error)")
        }
        func fail(_ reason: String) -> TrainingError { .badFeaturesFile(path: path, reason: reason) }
        guard file.metadata["format"] == "dinoprobe-features-v1" else {
            throw fail("it was not written by `dinoprobe extract` (no dinoprobe-features-v1 metadata)")
        }
        guard let clsShape = file.tensors["cls"]?.shape, clsShape.count == 2, file.tensors["mean_patch"]?.shape == clsShape else {
            throw fail("it lacks cls and mean_patch tensors of shape [N, D]")
        }
        let (n, d) = (clsShape[0], clsShape[1])
        let blocks = file.tensors["layers_cls"]?.shape[1] ?? 1
        let cls = try file.floats(file.tensors["layers_cls"] == nil ? "cls" : "layers_cls")
        let mean = try file.floats(file.tensors["layers_mean_patch"] == nil ? "mean_patch" : "layers_mean_patch")
        guard let pathsJSON = file.metadata["paths"],
              let paths = try? JSONDecoder().decode([String].self, from: Data(pathsJSON.utf8)), paths.count == n else {
            throw fail("its metadata does not list one image path per row")
        }
        self.paths = paths
        features = CachedFeatures(count: n, dim: d, blocks: blocks, cls: cls, meanPatch: mean, sourceIndex: Array(0..<n),
                                  skipped: [], backboneFingerprint: file.metadata["backbone_fingerprint"] ?? "unknown")
        let preset = PreprocessPreset(rawValue: file.metadata["preset"] ?? "hf") ?? .hf
        func floats(_ key: String, _ fallback: [Float]) -> [Float] {
            let v = (file.metadata[key] ?? "").split(separator: ",").compactMap { Float($0) }
            return v.count == 3 ? v : fallback
        }
        preprocessing = Preprocessing(preset: preset, size: Int(file.metadata["size"] ?? "") ?? 224,
                                      mean: floats("mean", Preprocessing.imagenetMean), std: floats("std", Preprocessing.imagenetStd))
        modelID = file.metadata["model"] ?? "unknown"
        if file.tensors["labels"] != nil, let namesJSON = file.metadata["class_names"],
           let names = try? JSONDecoder().decode([String].self, from: Data(namesJSON.utf8)) {
            labels = try file.ints("labels").map { Int($0) }
            classNames = names
            guard labels.allSatisfy({ (0..<names.count).contains($0) }) else { throw fail("a label is outside its \(names.count) class names") }
        } else {
            let folders = paths.map { URL(fileURLWithPath: $0).deletingLastPathComponent().lastPathComponent }
            let names = knownClasses ?? Array(Set(folders)).sorted()
            let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
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
}
