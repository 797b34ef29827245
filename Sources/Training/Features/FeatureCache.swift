import Backbone
import Datasets
import Foundation
import Heads
import Images
import SafeTensors
import Support

/// Classification features of data-set splits, extracted once per (backbone weights and
/// precision, preprocessing, image listing) and reused by later runs (see `FeatureStoreKey`).
/// Entries are written whole or not at all; a damaged entry is removed and rebuilt. Runs sharing
/// the folder extract each entry once: see `CacheEntry` (a second run waits for the first).
public struct FeatureCache: Sendable {
    /// The cache folder; nil disables caching.
    public let folder: String?

    public init(folder: String?) { self.folder = folder }

    /// Blocks extracted for `recipe`: its explicit blocks, or the last max(n, 4) (capped at the
    /// backbone's depth), so one cache entry serves every last-n recipe of Meta's protocol.
    public static func storedLayers(for recipe: FeatureRecipe, depth: Int) -> [Int] {
        recipe.layers ?? Array(max(0, depth - min(max(recipe.blocks, 4), depth))..<depth)
    }

    /// Token features of every image of `dataset` (from the cache, or extracted and stored),
    /// with labels, paths and provenance. Unreadable images are skipped and listed. `name`
    /// (default: the split's) names the entry's file and its progress; `pooling` says what its
    /// `mean_patch` rows hold (the mean patch token, or GeM: then keyed apart).
    public func split(of dataset: ClassificationDataset, model: DINOv3Model, backboneID: String, preprocessing: Preprocessing,
                      layers: [Int], batchSize: Int, maxPixels: Int = ImageDecoder.defaultMaxPixels, checkpointEvery: Double = 300,
                      name: String? = nil, pooling: PatchPooling = .mean, reporter: Reporter = SilentReporter()) throws -> FeatureSplit {
        let name = name ?? dataset.split.rawValue
        let paths = dataset.paths
        let entry: Entry
        if folder != nil {
            let file = entryPath(name: name, paths: paths, model: model, preprocessing: preprocessing, layers: layers, pooling: pooling)
            let read = { () throws -> Entry in
                let found = try Self.read(SafeTensorsFile(path: file), inputs: paths.count, fingerprint: model.fingerprint,
                                          dim: model.config.hiddenSize, blocks: layers.count)
                reporter.note("\(name): \(found.features.count) feature rows from the cache (\(file))")
                return found
            }
            entry = try CacheEntry.obtain(file, read: read, make: {
                // In parts (see StoreParts): parts left by a killed run or by shards are reused.
                let filled = try fillParts(file: file, paths: paths, range: 0..<paths.count, model: model, preprocessing: preprocessing,
                                           layers: layers, batchSize: batchSize, maxPixels: maxPixels, checkpointEvery: checkpointEvery,
                                           pooling: pooling, name: "extract \(name)", reporter: reporter)
                guard let joined = try joinParts(file: file, parts: filled.parts, inputs: paths.count, model: model, preprocessing: preprocessing,
                                                 layers: layers) else {
                    throw TrainingError.badFeaturesFile(path: file, reason: "its parts do not cover the inputs")
                }
                return joined
            }, waiting: { reporter.note("\(name): waiting for another dinoprobe run (\($0)), which is extracting these features into \(file)") },
               unusable: { reporter.note("\(name): cache entry \(file) is unusable (\($0)); removed it, extracting again") })
        } else {
            entry = try Extraction.tokens(model: model, paths: paths, preprocessing: preprocessing, layers: layers,
                                          batchSize: batchSize, maxPixels: maxPixels, pooling: pooling, name: "extract \(name)", reporter: reporter)
        }
        let labels = dataset.labels
        return try FeatureSplit(features: entry.features, labels: entry.sourceIndex.map { labels[$0] },
                                paths: entry.sourceIndex.map { paths[$0] }, classNames: dataset.classNames,
                                source: FeatureSource(backboneID: backboneID, backboneFingerprint: model.fingerprint, preprocessing: preprocessing,
                                                      layers: layers == model.lastBlocks(layers.count) ? nil : layers),
                                skipped: dataset.listingProblems + entry.skipped)
    }

    /// What a cache entry holds: the rows that were read, where each came from in the input
    /// list, and the inputs that were skipped.
    public struct Entry: Sendable {
        public var features: TokenFeatures
        public var sourceIndex: [Int]
        public var skipped: [SkippedInput]
    }

    /// The format cache entries were written in before they became features files (still read).
    static let legacyFormat = "dinoprobe-feature-cache-v1"

    /// Writes `entry` of the inputs `paths` as a features file (see `FeaturesFile`) that names each
    /// row's input (`source_index`) and each skipped input's position.
    static func write(_ entry: Entry, paths: [String], source: FeatureSource, viewsPerInput: Int = 1, extraMetadata: [String: String] = [:],
                      to path: String) throws {
        let f = entry.features, width = entry.features.blocks * entry.features.dim
        let writer = try FeaturesFile.Writer(destination: path, dim: f.dim, layers: f.blocks, registers: 0, patchTokens: false, dtype: .f32,
                                             inputs: paths.count, views: viewsPerInput)
        defer { writer.discard() }
        for (row, input) in entry.sourceIndex.enumerated() {
            let values = (row * width)..<((row + 1) * width)
            try writer.append(path: paths[input], input: input, cls: f.cls[values], meanPatch: f.meanPatch[values])
        }
        try writer.finish(source: source, skipped: entry.skipped, extraMetadata: extraMetadata)
    }

    /// Reads and checks an entry (a features file of an input list, or an entry in the legacy
    /// format): every tensor against the others and against what the run expects (each input not
    /// skipped has exactly `viewsPerInput` rows, in input order, and the skipped ones none), all
    /// values finite.
    public static func read(_ file: SafeTensorsFile, inputs: Int, fingerprint: String, dim: Int, blocks: Int,
                            viewsPerInput: Int = 1) throws -> Entry {
        func fail(_ reason: String) -> TrainingError { .badFeaturesFile(path: file.path, reason: reason) }
        let m = file.metadata
        guard [FeaturesFile.format, legacyFormat].contains(m["format"]), m["backbone_fingerprint"] == fingerprint,
              m["inputs"] == "\(inputs)", (m["views"] ?? "1") == "\(viewsPerInput)" else {
            throw fail("not a cache entry of these inputs and weights")
        }
        let features: TokenFeatures
        if m["format"] == legacyFormat {
            guard let shape = file.tensors["cls"]?.shape, shape.count == 3, shape[1] == blocks, shape[2] == dim,
                  file.tensors["mean_patch"]?.shape == shape else { throw fail("its tensors do not have the shapes [N, \(blocks), \(dim)]") }
            features = try TokenFeatures(count: shape[0], dim: dim, blocks: blocks, cls: file.finiteFloats("cls"), meanPatch: file.finiteFloats("mean_patch"))
        } else {
            let rows = try FeaturesFile.Rows(file: file)
            guard rows.dim == dim, rows.blocks == blocks else { throw fail("it holds \(rows.blocks) blocks of \(rows.dim), not \(blocks) of \(dim)") }
            features = try TokenFeatures(count: rows.count, dim: dim, blocks: blocks, cls: rows.cls, meanPatch: rows.meanPatch)
        }
        let n = features.count, skipped = FeaturesFile.skipped(m)
        guard file.tensors["source_index"]?.shape == [n] else { throw fail("its source_index is not one input per row") }
        let sourceIndex = try file.ints("source_index").map { Int($0) }
        let skippedSet = Set(skipped.compactMap(\.index))
        var perInput = [Int](repeating: 0, count: inputs)
        for i in sourceIndex where (0..<inputs).contains(i) { perInput[i] += 1 }
        guard n == viewsPerInput * (inputs - skipped.count), skippedSet.count == skipped.count,
              skippedSet.allSatisfy({ (0..<inputs).contains($0) }), zip(sourceIndex, sourceIndex.dropFirst()).allSatisfy({ $0 <= $1 }),
              sourceIndex.allSatisfy({ (0..<inputs).contains($0) }),
              perInput.indices.allSatisfy({ perInput[$0] == (skippedSet.contains($0) ? 0 : viewsPerInput) }) else {
            throw fail("its rows and skipped inputs do not account for the \(inputs) inputs exactly once")
        }
        return Entry(features: features, sourceIndex: sourceIndex, skipped: skipped)
    }
}
