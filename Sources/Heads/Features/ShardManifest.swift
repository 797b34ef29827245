import Foundation
import ImagePreprocessing
import SafeTensors
import Support

/// `manifest.json` of a folder of feature shards (`extract --shard I/N`): what every shard is
/// made from and with (listing, model, recipe, shard count, batch size) and which shards are
/// finished. A shard checks it before starting and refuses a folder begun by another model,
/// recipe or listing; readers check every shard file against it. Updates are made under a lock
/// and written atomically, so shards finishing at once never lose each other's mark.
public struct ShardManifest: Codable, Sendable, Equatable {
    public static let format = "dinoprobe-feature-shards-v1"
    public static let fileName = "manifest.json"
    static let lockName = ".manifest.lock"
    static let maxBytes: Int64 = 8 << 20

    /// Everything a shard's values depend on: shards of equal identities fit together.
    public struct Identity: Codable, Sendable, Equatable {
        public var shards: Int
        /// Images in the listing, and a fingerprint of their paths in order.
        public var images: Int
        public var listingFingerprint: String
        /// Images per forward pass: shards split the listing at multiples of it.
        public var batchSize: Int
        public var backboneID: String
        public var backboneFingerprint: String
        /// Precision and device the backbone ran in.
        public var compute: String
        /// Preprocessing, blocks, patch tokens, dtype and stages, as one line.
        public var recipe: String
        /// The decompression-bomb guard (it decides which images are skipped).
        public var maxPixels: Int

        public init(shards: Int, paths: [String], batchSize: Int, backboneID: String, backboneFingerprint: String,
                    compute: String, preprocessing: Preprocessing, blocks: Int, patchTokens: Bool, dtype: SafeTensorsDType, maxPixels: Int,
                    stages: [Int] = []) {
            self.shards = shards
            images = paths.count
            listingFingerprint = Self.fingerprint(of: paths)
            self.batchSize = batchSize
            self.backboneID = backboneID
            self.backboneFingerprint = backboneFingerprint
            self.compute = compute
            recipe = Self.recipe(preprocessing: preprocessing, blocks: blocks, patchTokens: patchTokens, dtype: dtype, stages: stages)
            self.maxPixels = maxPixels
        }

        /// The recipe line of features made this way (stages only when kept, so older folders still match).
        static func recipe(preprocessing p: Preprocessing, blocks: Int, patchTokens: Bool, dtype: SafeTensorsDType, stages: [Int]) -> String {
            "\(p.preset.rawValue) size=\(p.size) mean=\(p.mean.map { "\($0)" }.joined(separator: ",")) std=\(p.std.map { "\($0)" }.joined(separator: ",")) "
                + "blocks=\(blocks) patch_tokens=\(patchTokens) dtype=\(dtype.rawValue)"
                + (stages.isEmpty ? "" : " stages=\(stages.map(String.init).joined(separator: ","))")
        }

        /// A fingerprint of a listing: its length and every path, in order.
        public static func fingerprint(of paths: [String]) -> String {
            var h = FNV1a()
            h.combine("listing \(paths.count)")
            for path in paths { h.combine(path) }
            return h.hexDigest
        }

        /// A fingerprint of the whole identity, stamped into every shard file.
        public var fingerprint: String {
            var h = FNV1a()
            for part in ["\(shards)", "\(images)", listingFingerprint, "\(batchSize)", backboneFingerprint, compute, recipe, "\(maxPixels)"] { h.combine(part) }
            return h.hexDigest
        }

        /// What differs from `other`, in words (empty when nothing does).
        public func differences(from other: Identity) -> [String] {
            var out: [String] = []
            if backboneFingerprint != other.backboneFingerprint || compute != other.compute {
                out.append("the model (\(backboneFingerprint) \(compute) there, \(other.backboneFingerprint) \(other.compute) here)")
            }
            if recipe != other.recipe || maxPixels != other.maxPixels {
                out.append("the recipe (\(recipe) max_pixels=\(maxPixels) there, \(other.recipe) max_pixels=\(other.maxPixels) here)")
            }
            if images != other.images || listingFingerprint != other.listingFingerprint {
                out.append("the image listing (\(images) images, fingerprint \(listingFingerprint) there; \(other.images), \(other.listingFingerprint) here)")
            }
            if shards != other.shards { out.append("the shard count (\(shards) there, \(other.shards) here)") }
            if batchSize != other.batchSize { out.append("the batch size (\(batchSize) there, \(other.batchSize) here)") }
            return out
        }

        /// This shard's range of the listing.
        public func range(of shard: Shard) -> Range<Int> { shard.range(items: images, alignment: batchSize) }
    }

    public var format: String
    public var identity: Identity
    /// Finished shards, ascending.
    public var done: [Int]

    public init(identity: Identity) {
        format = Self.format
        self.identity = identity
        done = []
    }

    /// The file name of a shard, e.g. `shard-00003-of-00004.safetensors`.
    public static func fileName(of shard: Shard) -> String {
        func padded(_ n: Int) -> String { let s = String(n); return String(repeating: "0", count: max(0, 5 - s.count)) + s }
        return "shard-\(padded(shard.index))-of-\(padded(shard.count)).safetensors"
    }

    /// Reads and checks `folder/manifest.json`; nil when there is none.
    public static func read(folder: String) throws -> ShardManifest? {
        let path = folder + "/" + fileName
        guard FileSystem.exists(path) else { return nil }
        func fail(_ reason: String) -> HeadError { .badFeaturesFile(path: path, reason: reason) }
        let manifest: ShardManifest
        do {
            _ = try FileSystem.confined(path, to: folder)
            manifest = try StrictJSONDecoder.decode(ShardManifest.self, from: FileSystem.read(path, limit: maxBytes))
        } catch {
            throw fail("\(error)")
        }
        let i = manifest.identity
        guard manifest.format == format else { throw fail("it is not a \(format) manifest") }
        guard (1...Shard.maxCount).contains(i.shards), (0...(1 << 40)).contains(i.images), (1...(1 << 20)).contains(i.batchSize),
              [i.listingFingerprint, i.backboneFingerprint, i.compute, i.recipe, i.backboneID].allSatisfy({ $0.utf8.count <= 4096 }) else {
            throw fail("its shard count, image count, batch size or fingerprints are out of range")
        }
        guard manifest.done == Array(Set(manifest.done)).sorted(), manifest.done.allSatisfy({ (0..<i.shards).contains($0) }) else {
            throw fail("its list of finished shards is not ascending shard numbers below \(i.shards)")
        }
        return manifest
    }

    /// Writes `folder/manifest.json` (whole or not at all).
    func write(folder: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(encoder.encode(self), to: folder + "/" + Self.fileName)
    }

    /// Under the folder's manifest lock: creates the manifest for `identity`, or checks that the
    /// one there has this identity (throwing a clear error naming what differs), then applies
    /// `change` and writes it back. Returns the manifest as written.
    @discardableResult
    public static func update(folder: String, identity: Identity, _ change: (inout ShardManifest) -> Void = { _ in }) throws -> ShardManifest {
        let lock = try FolderLock(folder: folder, name: lockName, wait: true)
        defer { lock.release() }
        var manifest = try read(folder: folder) ?? ShardManifest(identity: identity)
        let differences = manifest.identity.differences(from: identity)
        guard differences.isEmpty else {
            throw HeadError.invalidArgument(what: "shard folder \(folder)", detail: "its shards were started with other settings: \(differences.joined(separator: "; ")). Shards of different runs cannot be mixed: use another --out, or remove the folder to start again")
        }
        let before = manifest
        change(&manifest)
        manifest.done = Array(Set(manifest.done)).sorted()
        if manifest != before || !FileSystem.exists(folder + "/" + fileName) { try manifest.write(folder: folder) }
        return manifest
    }

    /// The metadata that marks a file as (part of) `shard` of this identity, covering `range`.
    public func stamp(_ shard: Shard, range: Range<Int>) -> [String: String] {
        ["shard": shard.description, "shard_run": identity.fingerprint, "shard_first": "\(range.lowerBound)", "shard_end": "\(range.upperBound)"]
    }

    static let stampKeys = ["shard", "shard_run", "shard_first", "shard_end"]

    /// Opens the shard or chunk file at `path` (which must resolve inside `folder`) and checks it
    /// is (part of) `shard` of this manifest covering `range`.
    public func open(_ path: String, in folder: String, as shard: Shard, range: Range<Int>) throws -> SafeTensorsFile {
        let file: SafeTensorsFile
        do {
            _ = try FileSystem.confined(path, to: folder)
            file = try SafeTensorsFile(path: path)
        } catch {
            throw HeadError.badFeaturesFile(path: path, reason: "\(error)")
        }
        try check(file, shard: shard, range: range)
        return file
    }

    /// Throws unless `file` is (part of) `shard` of this manifest covering `range`: its stamp,
    /// backbone, preprocessing, blocks, dtype, patch tokens and stages agree, and it has no more rows
    /// than `range` has images.
    public func check(_ file: SafeTensorsFile, shard: Shard, range: Range<Int>) throws {
        func fail(_ reason: String) -> HeadError { .badFeaturesFile(path: file.path, reason: reason) }
        let m = file.metadata
        guard m["format"] == FeaturesFile.format else { throw fail("it was not written by `dinoprobe extract`") }
        let expected = stamp(shard, range: range)
        for key in Self.stampKeys where m[key] != expected[key] {
            let value = expected[key] ?? ""
            throw fail("it is not shard \(shard) of images \(range.lowerBound)..<\(range.upperBound) of this folder's run (its \(key) is '\(m[key]?.prefix(40) ?? "missing")', expected '\(value)'): it was written with another model, recipe or listing; remove it")
        }
        let p = try FeaturesFile.preprocessing(m, fail: fail)
        let rows = file.tensors["cls"]?.shape.first ?? -1
        let recipe = Identity.recipe(preprocessing: p, blocks: Int(m["layers"] ?? "") ?? -1, patchTokens: file.tensors["patch_tokens"] != nil,
                                     dtype: file.tensors["cls"]?.dtype ?? .u8, stages: FeaturesFile.stageIndices(of: file))
        guard m["backbone_fingerprint"] == identity.backboneFingerprint, recipe == identity.recipe else {
            throw fail("its model or recipe (\(m["backbone_fingerprint"]?.prefix(40) ?? "none"), \(recipe)) is not the folder's (\(identity.backboneFingerprint), \(identity.recipe))")
        }
        guard rows >= 0, rows <= range.count else { throw fail("it has \(rows) rows for \(range.count) images") }
    }
}
