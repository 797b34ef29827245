import Foundation
import Support

/// A model at one commit in the hub cache.
public struct HubSnapshot: Sendable {
    /// `models--ORG--NAME/snapshots/<commit>`: the folder `ModelLocator` and `transformers` load.
    public var folder: URL
    public var commit: String
    /// Every file, in the order they were linked (`config.json` last).
    public var files: [HubFile]
}

/// Downloads the files dinoprobe needs of a DINOv3 checkpoint from the Hugging Face hub into
/// the hub cache, speaking `huggingface_hub`'s protocol: a HEAD per file for its commit, blob
/// hash and size, then a GET of the bytes from where the hub redirects.
public struct HubDownloader: Sendable {
    public var settings: HubSettings
    public var reporter: Reporter
    /// Seconds without data before a transfer fails.
    public var idleTimeout: TimeInterval = 60
    /// Largest weight file accepted (a 7B model's shards are under 10 GB).
    public var maxWeightBytes: Int64 = 256 << 30
    /// Largest JSON file accepted.
    public var maxJSONBytes: Int64 = WeightMap.maxFileBytes
    /// Most shards one index may name (as the loader allows).
    public static let maxShards = 4096
    /// A model id, for messages.
    public static let exampleID = HubNames.exampleID

    /// Whether `text` has the shape of a hub id (ORG/NAME), as opposed to a folder path.
    public static func isRepoID(_ text: String) -> Bool { (try? HubNames.repo(text)) != nil }

    public init(settings: HubSettings, reporter: Reporter = SilentReporter()) {
        self.settings = settings
        self.reporter = reporter
    }

    /// `downloadModel` with the hub settings of the environment; the reporter hears where from and
    /// what was fetched.
    public static func download(_ repoID: String, revision: String, reporter: Reporter) throws -> HubSnapshot {
        let settings = try HubSettings()
        if !settings.offline { reporter.note("downloading \(repoID) (\(revision)) from \(URLRedaction.redacted(settings.endpoint)) into \(settings.cacheRoot)") }
        let snapshot = try HubDownloader(settings: settings, reporter: reporter).downloadModel(repoID, revision: revision)
        let fetched = snapshot.files.filter { !$0.cached }
        let megabytes = String(format: "%.1f MB", Double(fetched.reduce(0) { $0 + $1.downloaded }) / 1e6)
        reporter.note("\(repoID): \(fetched.count) file(s) fetched (\(megabytes)), \(snapshot.files.count - fetched.count) already in the cache")
        return snapshot
    }

    /// Fetches `config.json`, `preprocessor_config.json` (when the repository has one) and the
    /// weights (`model.safetensors`, or `model.safetensors.index.json` and its shards) of
    /// `repoID` at `revision`; returns the snapshot. Files in the cache are not fetched again,
    /// a part left by a cut connection is resumed, and `config.json` is linked last, so a
    /// snapshot holding it is whole. Throws `HubError.offline` before any network access when
    /// `HF_HUB_OFFLINE` is set.
    public func downloadModel(_ repoID: String, revision: String = "main") throws -> HubSnapshot {
        guard !settings.offline else { throw HubError.offline(repo: repoID) }
        let (org, name) = try HubNames.repo(repoID)
        try HubNames.checkRevision(revision)
        let client = HubClient(settings: settings, repoID: repoID, idleTimeout: idleTimeout)
        let repo = HubRepoFolder(cacheRoot: settings.cacheRoot, org: org, name: name)
        let fetcher = BlobFetch(client: client, repo: repo, reporter: reporter)

        let config = try client.metadata("config.json", revision: revision, limit: maxJSONBytes)
        let commit = config.commit
        reporter.note("\(repoID) at \(revision): commit \(commit)")
        var files: [HubFile] = []
        func fetch(_ meta: HubFileMetadata) throws {
            guard meta.commit == commit else {
                throw HubError.badAnswer(file: meta.file, reason: "it belongs to commit \(meta.commit), not \(commit) (did the repository change meanwhile? run again)")
            }
            files.append(try fetcher.fetch(meta))
            try repo.link(file: meta.file, commit: commit, etag: meta.etag)
        }

        var plan: [HubFileMetadata] = []
        if let preprocessor = try client.optionalMetadata("preprocessor_config.json", revision: commit, limit: maxJSONBytes) {
            plan.append(preprocessor)
        }
        if let single = try client.optionalMetadata("model.safetensors", revision: commit, limit: maxWeightBytes) {
            plan.append(single)
        } else if let index = try client.optionalMetadata("model.safetensors.index.json", revision: commit, limit: maxJSONBytes) {
            try fetch(index)
            for shard in try shards(in: repo.blob(index.etag)) {
                plan.append(try client.metadata(shard, revision: commit, limit: maxWeightBytes))
            }
        } else {
            throw HubError.noWeights(repo: repoID, revision: revision)
        }
        try checkSpace(for: plan + [config], in: repo, fetcher: fetcher)
        for meta in plan + [config] { try fetch(meta) }
        if revision != commit { try repo.writeRef(revision: revision, commit: commit) }
        return HubSnapshot(folder: URL(fileURLWithPath: repo.snapshot(commit)), commit: commit, files: files)
    }

    /// The shard names of a downloaded index, checked as the loader checks them.
    func shards(in indexBlob: String) throws -> [String] {
        let map: [String: String]
        do { map = try WeightMap.parse(try FileSystem.read(indexBlob, limit: WeightMap.maxFileBytes)) } catch let error as WeightMap.Invalid {
            throw HubError.badAnswer(file: "model.safetensors.index.json", reason: error.reason)
        }
        let shards = Set(map.values).sorted()
        guard shards.count <= Self.maxShards else {
            throw HubError.badAnswer(file: "model.safetensors.index.json", reason: "it names \(shards.count) shard files, more than \(Self.maxShards)")
        }
        return shards
    }

    /// Refuses to start when the disk cannot hold what is still to come.
    func checkSpace(for plan: [HubFileMetadata], in repo: HubRepoFolder, fetcher: BlobFetch) throws {
        let needed = plan.filter { !fetcher.isPresent($0) }.reduce(Int64(0)) { $0 + $1.size }
        if let free = repo.freeBytes(), needed > free {
            throw HubError.cache(path: repo.path, reason: "the download needs \(needed) bytes, only \(free) are free")
        }
    }
}
