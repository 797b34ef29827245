import Backbone
import Datasets
import Foundation
import Heads
import Images
import SafeTensors
import Support

/// A patch store built in parts by several processes (`train-seg --shard I/N`, `train-depth --shard I/N`): each part is a
/// store of a range of the training pairs (`patches-KEY.part-START-END.safetensors`, starting on
/// whole batches), written whole, chunk by chunk; the run without a shard builds what is still
/// missing and joins the parts into the store, row for row as one process lays it out (with
/// `--flip`, every plain view first, then every mirrored one).
extension DenseStore {
    /// Builds, chunk by chunk (about `checkpointEvery` seconds each), the pairs of `range` that no
    /// valid part (one that opens as a store of this run) covers yet.
    static func fillParts(file: String, range: Range<Int>, batchSize: Int, checkpointEvery: Double,
                          expectation: PatchFeatureStore.Expectation, build: PartBuilder) throws -> PartsOutcome {
        let parts = StoreParts(file: file)
        let valid = try parts.valid { path, _ in _ = try PatchFeatureStore(path: path, expecting: expectation) }
        return try parts.fill(range, valid: valid, batchSize: batchSize, checkpointEvery: checkpointEvery) { try build($0, $1).skipped }
    }

    /// The store joined from `parts` (checked by `fillParts`) when they cover all `count`
    /// pairs (written to `file`, the parts removed), else nil. With `flip`, each part holds its
    /// plain views then its mirrored ones, and so does the store.
    static func joinParts(file: String, parts ranges: [Range<Int>], count: Int, expectation: PatchFeatureStore.Expectation, flip: Bool,
                               metadata: [String: String], model: DINOv3Model) throws -> PatchFeatureStore? {
        let store = StoreParts(file: file)
        guard let used = store.covering(ranges, inputs: count), let first = used.first else { return nil }
        let parts = try used.map { (range: $0, store: try PatchFeatureStore(path: store.path($0))) }
        let shape = (parts[0].store.gridHeight, parts[0].store.gridWidth, parts[0].store.dim)
        guard parts.allSatisfy({ ($0.store.gridHeight, $0.store.gridWidth, $0.store.dim) == shape }) else {
            throw TrainingError.badFeaturesFile(path: store.path(first), reason: "its parts hold patch grids of different shapes")
        }
        if flip, let odd = parts.first(where: { $0.store.count % 2 != 0 }) {
            throw TrainingError.badFeaturesFile(path: odd.store.path, reason: "a part with mirrored views holds an odd number of them")
        }
        let targetType = parts[0].store.targetType
        guard parts.allSatisfy({ $0.store.targetType == targetType }) else {
            throw TrainingError.badFeaturesFile(path: store.path(first), reason: "its parts hold targets of different types")
        }
        let spools = try PatchFeatureStore.Spools(file, targetType: targetType)
        defer { spools.discard() }
        let (featureRow, labelRow) = (2 * shape.0 * shape.1 * shape.2, expectation.resolution * expectation.resolution * targetType.size)
        var rows = 0
        for pass in 0..<(flip ? 2 : 1) {
            for part in parts {
                let n = flip ? part.store.count / 2 : part.store.count
                let rowRange = (pass * n)..<((pass + 1) * n)
                try copyRows(rowRange, of: "patch_tokens", rowBytes: featureRow, from: part.store.file, to: spools.features)
                try copyRows(rowRange, of: "labels", rowBytes: labelRow, from: part.store.file, to: spools.labels)
                rows += n
            }
        }
        let skipped = parts.flatMap { part in part.store.skipped.map { $0.shifted(by: part.range.lowerBound) } }
        let joined = try PatchFeatureStore.finish(spools, count: rows, grid: (shape.0, shape.1), dim: shape.2, resolution: expectation.resolution,
                                                  views: metadata, skipped: skipped, model: model, to: file)
        store.removeAll()
        return joined
    }

    /// Appends rows `rows` of a tensor to a spool, in pieces of at most 64 MB.
    private static func copyRows(_ rows: Range<Int>, of tensor: String, rowBytes: Int, from file: SafeTensorsFile, to output: AtomicFile.Output) throws {
        try file.withBytes(of: tensor) { raw in
            guard rows.upperBound * rowBytes <= raw.count else {
                throw TrainingError.badFeaturesFile(path: file.path, reason: "\(tensor) holds fewer rows than its shape says")
            }
            var offset = rows.lowerBound * rowBytes
            let end = rows.upperBound * rowBytes
            while offset < end {
                let next = min(end, offset + (64 << 20))
                try output.write(contentsOf: [UInt8](raw[offset..<next]))
                offset = next
            }
        }
    }
}
