import Foundation
import Heads
import Support

/// A patch store built in parts by several processes (`train-seg --shard I/N`, `train-depth --shard I/N`): each part is a
/// store of a range of the training pairs (`patches-KEY.part-START-END.safetensors`, starting on
/// whole batches), written whole, chunk by chunk; the run without a shard builds what is still
/// missing and joins the parts into the store, row for row as one process lays it out (with
/// `--flip`, every plain view first, then every mirrored one).
extension DenseStore {
    /// Builds, chunk by chunk (about `checkpointEvery` seconds each), the pairs of `range` (of
    /// `count`) that no valid part (one that opens as a store of this run, in the current format,
    /// its `part` metadata naming its range) covers yet; `reporter` hears of each part refused and removed.
    static func fillParts(file: String, range: Range<Int>, of count: Int, batchSize: Int, checkpointEvery: Double,
                          expectation: PatchFeatureStore.Expectation, reporter: Reporter = SilentReporter(), build: PartBuilder) throws -> PartsOutcome {
        let parts = StoreParts(file: file)
        let valid = try parts.valid(check: { path, part in
            let stored = try PatchFeatureStore(path: path, expecting: expectation), m = stored.file.metadata
            guard m["format"] == FeaturesFile.format, m["inputs"] == "\(part.count)", m["part"] == FeatureCache.partMetadata(part, of: count)["part"] else {
                throw TrainingError.badFeaturesFile(path: path, reason: "not the part of pairs \(part) of \(count) in the current format")
            }
        }, unusable: { reporter.note("train: part \($0) is unusable (\($1)); removed it, extracting its pairs again") })
        return try parts.fill(range, valid: valid, batchSize: batchSize, checkpointEvery: checkpointEvery) {
            try build($0, $1, FeatureCache.partMetadata($0, of: count)).skipped
        }
    }

    /// The store joined from `parts` (checked by `fillParts`; see `StoreParts.join`) when they
    /// cover all `count` pairs (written to `file`, the parts removed), else nil. With `flip`, each
    /// part holds its plain views then its mirrored ones, and so does the store.
    static func joinParts(file: String, parts ranges: [Range<Int>], count: Int, views: Int, flip: Bool,
                          metadata: [String: String]) throws -> PatchFeatureStore? {
        let store = StoreParts(file: file)
        guard let used = store.covering(ranges, inputs: count) else { return nil }
        let parts = try used.map { try PatchFeatureStore(path: store.path($0)) }, first = parts[0]
        guard parts.contains(where: { $0.count > 0 }) else { throw PatchFeatureStore.noUsablePair(among: count, skipped: parts.flatMap(\.skipped)) }
        let writer = try PatchFeatureStore.writer(file, targetType: first.targetType, dim: first.dim, resolution: first.labelHeight, grid: first.gridHeight,
                                                  inputs: count, views: views)
        try store.join(used, into: writer, passes: flip ? 2 : 1, source: FeaturesFile.Rows(file: first.file).source, metadata: metadata)
        return try PatchFeatureStore(path: file)
    }
}
