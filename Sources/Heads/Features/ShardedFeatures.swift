import Foundation
import SafeTensors
import Support

/// A folder of feature shards written by `dinoprobe extract --shard I/N`: `manifest.json` and one
/// features file per shard, each readable alone. Readers take the shards in order, one open at a
/// time and each checked against the manifest, so memory holds the rows returned and no more.
public enum ShardedFeatures {
    /// The manifest of a folder whose shards are all finished, or an error naming those that are not.
    public static func finishedManifest(folder: String) throws -> ShardManifest {
        guard let manifest = try ShardManifest.read(folder: folder) else {
            throw HeadError.badFeaturesFile(path: folder, reason: "it is a folder without \(ShardManifest.fileName), not the output of `dinoprobe extract --shard`")
        }
        let n = manifest.identity.shards
        let missing = Set(0..<n).subtracting(manifest.done).sorted()
        guard missing.isEmpty else {
            let list = missing.prefix(10).map(String.init).joined(separator: ", ") + (missing.count > 10 ? ", ..." : "")
            throw HeadError.badFeaturesFile(path: folder, reason: "\(missing.count) of its \(n) shards are not finished (\(list)); run them (`dinoprobe extract ... --shard I/\(n)`), then read the folder again")
        }
        return manifest
    }

    /// Opens each shard in order, checks it against the manifest and hands it to `body`.
    static func forEachShard(folder: String, manifest: ShardManifest, _ body: (SafeTensorsFile) throws -> Void) throws {
        for index in 0..<manifest.identity.shards {
            let shard = try Shard(index: index, count: manifest.identity.shards)
            try body(manifest.open(folder + "/" + ShardManifest.fileName(of: shard), in: folder, as: shard,
                                   range: manifest.identity.range(of: shard)))
        }
    }

    /// All rows of the folder's shards in order, as `FeaturesFile.read` returns those of one file.
    public static func read(folder: String, classNames knownClasses: [String]? = nil) throws -> FeatureSplit {
        func fail(_ reason: String) -> HeadError { .badFeaturesFile(path: folder, reason: reason) }
        let manifest = try finishedManifest(folder: folder)
        var all: FeaturesFile.Rows?
        var stored: (labels: [Int], classNames: [String])?
        var shardsWithLabels = 0
        try forEachShard(folder: folder, manifest: manifest) { file in
            let rows = try FeaturesFile.Rows(file: file)
            if let labelled = try FeaturesFile.storedLabels(file, rows: rows.count, fail: fail) {
                guard stored == nil || stored?.classNames == labelled.classNames else { throw fail("its shards have different class_names") }
                stored = ((stored?.labels ?? []) + labelled.labels, labelled.classNames)
                shardsWithLabels += 1
            }
            guard all != nil else { all = rows; return }
            guard all?.dim == rows.dim, all?.blocks == rows.blocks, all?.stages == rows.stages, all?.source == rows.source else {
                throw fail("its shards hold features of different widths, blocks, stage maps or sources")
            }
            all?.cls += rows.cls
            all?.meanPatch += rows.meanPatch
            all?.paths += rows.paths
            all?.skipped += rows.skipped
        }
        guard let all, all.count > 0 else { throw fail("its shards hold no features (every image was skipped)") }
        guard shardsWithLabels == 0 || shardsWithLabels == manifest.identity.shards else { throw fail("some of its shards have labels and some do not") }
        let (labels, classNames) = try stored ?? FeaturesFile.folderLabels(paths: all.paths, knownClasses: knownClasses, fail: fail)
        return try all.split(labels: labels, classNames: classNames, fail: fail)
    }

    /// Writes the shards of `folder` as one features file at `destination` (whole or not at all):
    /// byte for byte the file one process extracting the whole listing writes. Shards are copied
    /// one at a time. Returns the rows and skipped inputs written.
    @discardableResult
    public static func merge(folder: String, to destination: String) throws -> (rows: Int, skipped: Int) {
        func fail(_ reason: String) -> HeadError { .badFeaturesFile(path: folder, reason: reason) }
        let manifest = try finishedManifest(folder: folder)
        try checkNotAnInput(destination, folder: folder, manifest: manifest)
        var writer: FeaturesFile.Writer?
        defer { writer?.discard() }
        var first: (source: FeatureSource, metadata: [String: String])?
        var skipped: [SkippedInput] = []
        try forEachShard(folder: folder, manifest: manifest) { file in
            if first == nil {
                writer = try FeaturesFile.Writer(destination: destination, like: file)
                first = (try FeaturesFile.source(file.metadata, fail: fail), file.metadata)
            }
            skipped += try writer?.appendRows(of: file) ?? []
        }
        guard let writer, let first, writer.count > 0 else { throw fail("its shards hold no features (every image was skipped); nothing written") }
        var extra = first.metadata
        for key in ShardManifest.stampKeys { extra[key] = nil }
        try writer.finish(source: first.source, skipped: skipped, extraMetadata: extra)
        return (writer.count, skipped.count)
    }
}

extension ShardedFeatures {
    /// Refuses a merge destination that is one of the folder's own files (its manifest or a
    /// shard), however it is named: compared by device and inode after following links, so a
    /// symbolic or hard link, `..` or a second spelling of the path is caught too.
    static func checkNotAnInput(_ destination: String, folder: String, manifest: ShardManifest) throws {
        guard let target = try FileSystem.status(destination) else { return }
        let shards = try (0..<manifest.identity.shards).map { try ShardManifest.fileName(of: Shard(index: $0, count: manifest.identity.shards)) }
        for name in [ShardManifest.fileName] + shards {
            let input = folder + "/" + name
            guard let status = try FileSystem.status(input), status.device == target.device, status.inode == target.inode else { continue }
            throw HeadError.badFeaturesFile(path: folder, reason: "the output \(destination) is its \(name), which the merge reads; choose an --out outside the shards' files")
        }
    }
}

extension FeaturesFile.Writer {
    /// A writer of the layout of `file` (a features file as `extract` writes it).
    public convenience init(destination: String, like file: SafeTensorsFile) throws {
        let cls = file.tensors["cls"]?.shape ?? [], registers = file.tensors["registers"]?.shape, patches = file.tensors["patch_tokens"]?.shape
        guard cls.count == 2, let dtype = file.tensors["cls"]?.dtype, let layers = Int(file.metadata["layers"] ?? ""),
              registers.map({ $0.count == 3 }) ?? true, patches.map({ $0.count == 4 }) ?? true else {
            throw HeadError.badFeaturesFile(path: file.path, reason: "its cls, registers or patch_tokens shapes or its layers metadata are malformed")
        }
        try self.init(destination: destination, dim: cls[1], layers: layers, registers: registers?[1] ?? 0, patchTokens: patches != nil,
                      dtype: dtype, grid: patches.map { ($0[1], $0[2]) }, stages: FeaturesFile.stageLayouts(of: file, rows: cls[0]),
                      inputs: file.metadata["inputs"].flatMap { Int($0) }, views: file.metadata["views"].flatMap { Int($0) } ?? 1)
    }
}
