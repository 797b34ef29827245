import Backbone
import Datasets
import Foundation
import Heads
import Images
import SafeTensors
import Support

/// What one shard of a store's extraction did (a feature-cache entry or a patch store).
public struct PartsOutcome: Sendable {
    /// The input positions this process was responsible for.
    public var range: Range<Int>
    /// Images extracted now, and images found in parts already written.
    public var extracted: Int
    public var reused: Int
    public var skipped: [SkippedInput]
    /// The parts that now cover the range, in order.
    public var parts: [Range<Int>]
}

/// A cache entry is built in parts: each part holds the features of a range of the input list
/// (`NAME-KEY.part-START-END.safetensors`, starts on whole batches, so every image meets the same
/// batch as in one pass). Parts are written whole, one chunk of about `checkpointEvery` seconds at
/// a time, so a killed extraction continues after its last part; processes given other shards
/// (`--shard I/N`) write the parts of their ranges into the same folder, and the first run that
/// finds the list covered joins the parts into the entry and removes them. Parts are written and
/// removed only under the entry's claim (`CacheEntry`): shared by shards, held alone to join.
extension FeatureCache {
    /// Extracts the parts of `dataset`'s entry that `shard` covers and are not written yet.
    /// `name` and `pooling` as in `split` (the same entry a run without a shard reads).
    public func buildShard(of dataset: ClassificationDataset, shard: Shard, model: DINOv3Model, preprocessing: Preprocessing, layers: [Int],
                           batchSize: Int, maxPixels: Int = ImageDecoder.defaultMaxPixels, checkpointEvery: Double = 300,
                           name: String? = nil, pooling: PatchPooling = .mean, reporter: Reporter = SilentReporter()) throws -> PartsOutcome {
        guard folder != nil else { throw TrainingError.badOption("a sharded extraction writes into the feature cache: drop --no-cache") }
        let name = name ?? dataset.split.rawValue, paths = dataset.paths
        let file = entryPath(name: name, paths: paths, model: model, preprocessing: preprocessing, layers: layers, pooling: pooling)
        let range = shard.range(items: paths.count, alignment: batchSize)
        // Shards write parts side by side; a run joining the entry holds it alone (see CacheEntry).
        let claim = try CacheEntry.claimParts(of: file) {
            reporter.note("waiting for another dinoprobe run (\($0)), which is extracting the features of \(file)")
        }
        defer { claim.release(removingFile: true) }
        if FileSystem.exists(file) { return PartsOutcome(range: range, extracted: 0, reused: range.count, skipped: [], parts: []) }
        return try fillParts(file: file, paths: paths, range: range, model: model, preprocessing: preprocessing, layers: layers,
                             batchSize: batchSize, maxPixels: maxPixels, checkpointEvery: checkpointEvery, pooling: pooling,
                             name: "extract \(name) (shard \(shard))", reporter: reporter)
    }

    /// The file of the entry `split` reads for these inputs (the folder must be set).
    func entryPath(name: String, paths: [String], model: DINOv3Model, preprocessing: Preprocessing, layers: [Int], pooling: PatchPooling) -> String {
        let key = FeatureStoreKey.make(kind: "tokens", model: model, preprocessing: preprocessing, layers: layers, files: paths,
                                       extra: pooling == .mean ? [] : ["patch-pooling=\(pooling.rawValue)"])
        return "\(folder ?? ".")/\(name)-\(key).safetensors"
    }

    /// Which of `count` shards (`Shard.range` with `batchSize`) have their images in the entry or
    /// in its parts by name (parts are checked when read): the shards still to run are the others.
    public func shardsCached(count: Int, of dataset: ClassificationDataset, model: DINOv3Model, preprocessing: Preprocessing, layers: [Int],
                             batchSize: Int, name: String? = nil, pooling: PatchPooling = .mean) throws -> [Bool] {
        let paths = dataset.paths
        let file = entryPath(name: name ?? dataset.split.rawValue, paths: paths, model: model, preprocessing: preprocessing, layers: layers,
                             pooling: pooling)
        let whole = FileSystem.exists(file), parts = Self.partRanges(of: file)
        return try (0..<count).map { i in
            let range = try Shard(index: i, count: count).range(items: paths.count, alignment: batchSize)
            return whole || Self.tiling(parts, over: range).gaps.isEmpty
        }
    }

    /// Extracts, chunk by chunk, the positions of `range` that no valid part covers yet.
    func fillParts(file: String, paths: [String], range: Range<Int>, model: DINOv3Model, preprocessing: Preprocessing, layers: [Int],
                   batchSize: Int, maxPixels: Int, checkpointEvery: Double, pooling: PatchPooling = .mean, name: String,
                   reporter: Reporter) throws -> PartsOutcome {
        let valid = try validParts(of: file, inputs: paths.count, model: model, layers: layers) { part, reason in
            reporter.note("\(name): part \(part) is unusable (\(reason)); removed it, extracting its images again")
        }
        let tiling = Self.tiling(valid, over: range)
        var outcome = PartsOutcome(range: range, extracted: 0, reused: range.count - tiling.gaps.reduce(0) { $0 + $1.count }, skipped: [],
                                   parts: tiling.used)
        if outcome.reused > 0 { reporter.note("\(name): \(outcome.reused) of \(range.count) images already extracted in parts of \(file)") }
        let missing = range.count - outcome.reused
        guard missing > 0 else { return outcome }
        let extractor = try FeatureExtractor(model: model, preprocessing: preprocessing, batchSize: batchSize, layers: layers, maxPixels: maxPixels)
        let task = reporter.task(name, total: missing, unit: "images")
        for gap in tiling.gaps {
            try TimedChunks.forEach(in: gap, batchSize: batchSize, seconds: checkpointEvery) { chunk in
                // A part's rows and skipped inputs are numbered within the part.
                let done = outcome.extracted
                let entry = try Extraction.tokens(paths: Array(paths[chunk]), extractor: extractor, dim: model.config.hiddenSize,
                                                  blocks: layers.count, pooling: pooling) { task.update(done + $0) }
                try Self.write(entry, inputs: chunk.count, fingerprint: model.fingerprint, extraMetadata: Self.partMetadata(chunk, of: paths.count),
                               to: Self.partPath(file, chunk))
                outcome.extracted += chunk.count
                outcome.parts.append(chunk)
                outcome.skipped += entry.skipped.map { SkippedInput(index: $0.index.map { $0 + chunk.lowerBound }, path: $0.path, reason: $0.reason) }
            }
        }
        task.finish(missing, note: outcome.skipped.isEmpty ? "" : "\(outcome.skipped.count) skipped")
        outcome.parts.sort { $0.lowerBound < $1.lowerBound }
        return outcome
    }

    /// The entry joined from `parts` (checked by `fillParts`; each is read and checked again as it
    /// is joined), or nil unless they cover every input. Writes the entry and removes the parts.
    func joinParts(file: String, parts: [Range<Int>], inputs: Int, model: DINOv3Model, layers: [Int]) throws -> Entry? {
        let tiling = Self.tiling(parts, over: 0..<inputs)
        guard tiling.gaps.isEmpty else { return nil }
        var features = TokenFeatures(dim: model.config.hiddenSize, blocks: layers.count)
        var sourceIndex: [Int] = [], skipped: [SkippedInput] = []
        for part in tiling.used {
            let entry = try Self.read(SafeTensorsFile(path: Self.partPath(file, part)), inputs: part.count, fingerprint: model.fingerprint,
                                      dim: model.config.hiddenSize, blocks: layers.count)
            let (f, width) = (entry.features, entry.features.blocks * entry.features.dim)
            for row in 0..<f.count {
                try features.append(cls: f.cls[(row * width)..<((row + 1) * width)], meanPatch: f.meanPatch[(row * width)..<((row + 1) * width)])
            }
            sourceIndex += entry.sourceIndex.map { $0 + part.lowerBound }
            skipped += entry.skipped.map { SkippedInput(index: $0.index.map { $0 + part.lowerBound }, path: $0.path, reason: $0.reason) }
        }
        let entry = Entry(features: features, sourceIndex: sourceIndex, skipped: skipped)
        try Self.write(entry, inputs: inputs, fingerprint: model.fingerprint, to: file)
        for part in Self.partRanges(of: file) { try? FileSystem.removeFile(Self.partPath(file, part)) }
        return entry
    }

    /// The parts of `file` that read back as what they claim (a damaged one is removed, and
    /// `unusable` hears of it; a symbolic link is refused, see `refuseLinkedParts`).
    func validParts(of file: String, inputs: Int, model: DINOv3Model, layers: [Int],
                    unusable: (String, Error) -> Void = { _, _ in }) throws -> [Range<Int>] {
        try Self.refuseLinkedParts(of: file)
        return Self.partRanges(of: file).filter { part in
            guard part.upperBound <= inputs else { return false }
            let path = Self.partPath(file, part)
            do {
                let stored = try SafeTensorsFile(path: path)
                guard stored.metadata["part"] == Self.partMetadata(part, of: inputs)["part"] else {
                    throw TrainingError.badFeaturesFile(path: path, reason: "its range does not match its name")
                }
                _ = try Self.read(stored, inputs: part.count, fingerprint: model.fingerprint, dim: model.config.hiddenSize, blocks: layers.count)
                return true
            } catch {
                try? FileSystem.removeFile(path)
                unusable(path, error)
                return false
            }
        }
    }

    /// Throws if a part of `file` is a symbolic link: parts are written and removed by name, and
    /// nothing dinoprobe writes is reached through a link.
    static func refuseLinkedParts(of file: String) throws {
        for part in partRanges(of: file) where try FileSystem.status(partPath(file, part), followLinks: false)?.kind == .symlink {
            throw FileSystemError.symbolicLink(path: partPath(file, part))
        }
    }

    static func partMetadata(_ range: Range<Int>, of inputs: Int) -> [String: String] {
        ["part": "\(range.lowerBound)-\(range.upperBound) of \(inputs)"]
    }

    /// `file` without ".safetensors", then ".part-FIRST-END.safetensors"; cut on bytes, since
    /// `dropLast(12)` on `Character`s would also drop a prepend character before the "." (the
    /// parts of `a\u{600}.safetensors` would be named as those of `a.safetensors`).
    static func partPath(_ file: String, _ range: Range<Int>) -> String {
        (ByteText.dropping(suffix: ".safetensors", from: file) ?? file)
            + String(format: ".part-%010ld-%010ld.safetensors", range.lowerBound, range.upperBound)
    }

    /// The ranges named by the part files of `file` (names that do not parse are ignored). Names
    /// are matched as bytes: `hasPrefix` and `==` would take the parts of `\u{e9}.safetensors`
    /// for those of `e\u{301}.safetensors`, another file.
    static func partRanges(of file: String) -> [Range<Int>] {
        let folder = ByteText.dropLastComponent(file)
        let prefix = ByteText.lastComponent(ByteText.dropping(suffix: ".safetensors", from: file) ?? file) + ".part-"
        return ((try? FileSystem.list(folder.isEmpty ? "." : folder)) ?? []).compactMap { name in
            guard let rest = ByteText.dropping(prefix: prefix, from: name),
                  let range = ByteText.dropping(suffix: ".safetensors", from: rest) else { return nil }
            let fields = ByteText.split(range, on: "-")
            guard fields.count == 2, let lo = Int(fields[0]), let hi = Int(fields[1]), lo < hi,
                  ByteText.same(ByteText.lastComponent(partPath(file, lo..<hi)), name) else { return nil }
            return lo..<hi
        }
    }

    /// Parts chosen to cover `range` from its start (at each position the longest part starting
    /// there), and the positions left uncovered, each gap ending where the next part starts.
    static func tiling(_ parts: [Range<Int>], over range: Range<Int>) -> (used: [Range<Int>], gaps: [Range<Int>]) {
        var used: [Range<Int>] = [], gaps: [Range<Int>] = []
        var cursor = range.lowerBound
        while cursor < range.upperBound {
            if let part = parts.filter({ $0.lowerBound == cursor && $0.upperBound <= range.upperBound }).max(by: { $0.upperBound < $1.upperBound }) {
                used.append(part)
                cursor = part.upperBound
            } else {
                let next = parts.map(\.lowerBound).filter { $0 > cursor && $0 < range.upperBound }.min() ?? range.upperBound
                gaps.append(cursor..<next)
                cursor = next
            }
        }
        return (used, gaps)
    }
}
