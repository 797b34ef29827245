import Backbone
import Foundation
import Hub
import Support
import TestSupport
import XCTest

/// Downloads from the fake hub: the cache layout `transformers` uses, loading, caching,
/// resuming, and refusing bytes that are wrong.
final class HubDownloadTests: HubTestCase {
    func testShardedCheckpointFillsTheCacheLayoutAndLoads() throws {
        try serve("sharded")
        let reporter = RecordingReporter()
        let snapshot = try downloader(reporter: reporter).downloadModel("acme/tiny")
        let commit = FakeHub.commit
        XCTAssertEqual(snapshot.commit, commit)
        XCTAssertEqual(snapshot.folder.path, repoFolder + "/snapshots/" + commit)
        XCTAssertEqual(try String(contentsOfFile: repoFolder + "/refs/main", encoding: .utf8), commit)
        let shards = (1...5).map { "model-0000\($0)-of-00005.safetensors" }
        XCTAssertEqual(snapshot.files.map(\.name), ["model.safetensors.index.json", "preprocessor_config.json"] + shards + ["config.json"],
                       "the index first (it names the shards), config.json last (it marks the snapshot whole)")
        // Every snapshot file is a relative link to the blob named by its hash, holding the served bytes.
        for (name, data) in hub.files {
            let link = snapshot.folder.path + "/" + name
            let hash = FakeHub.hash(of: name, data)
            XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), "../../blobs/" + hash)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: link)), data, name)
        }
        XCTAssertEqual(tree(repoFolder + "/blobs").count, hub.files.count, "one blob a file, no .incomplete left")
        for file in snapshot.files {
            XCTAssertEqual([file.downloaded, file.resumedFrom], [Int64(hub.files[file.name]?.count ?? -1), 0], file.name)
            XCTAssertFalse(file.cached)
        }
        XCTAssertTrue(reporter.finished.contains("model-00002-of-00005.safetensors 59544/59544 "), "\(reporter.finished)")

        // ModelLocator finds the snapshot by id, and it loads as the fixture folder does.
        let located = try ModelLocator.resolve("acme/tiny", environment: ["HF_HUB_CACHE": cache])
        XCTAssertEqual(located.path, snapshot.folder.path)
        let model = try DINOv3Model(folder: located)
        let reference = try DINOv3Model(folder: URL(fileURLWithPath: Self.fixtures + "/sharded"))
        XCTAssertEqual(model.parameterCount, reference.parameterCount)
        XCTAssertEqual(model.fingerprint, reference.fingerprint)

        // A second run asks for metadata only: every blob is already there.
        let before = hub.requests.count
        let again = try downloader().downloadModel("acme/tiny")
        XCTAssertTrue(again.files.allSatisfy(\.cached))
        XCTAssertEqual(hub.requests.dropFirst(before).map(\.method), Array(repeating: "HEAD", count: 9))
    }

    func testACutConnectionResumesOnTheNextRun() throws {
        try serve("gelu_reg4")
        hub.misbehave { $0.cutFirstGet = ["model.safetensors"] }
        let weights = try XCTUnwrap(hub.files["model.safetensors"])
        let sha = FakeHub.sha256(weights)
        assertHubError(try downloader().downloadModel("acme/tiny"),
                       ["model.safetensors", "stopped after \(weights.count / 2) of \(weights.count) bytes", "run the same command again to resume"])
        let partial = repoFolder + "/blobs/\(sha).incomplete"
        let kept = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: partial)[.size] as? Int)
        XCTAssertEqual(kept, weights.count / 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: repoFolder + "/blobs/" + sha), "no blob before it is whole")
        XCTAssertThrowsError(try ModelLocator.resolve("acme/tiny", environment: ["HF_HUB_CACHE": cache]),
                             "without config.json the snapshot does not count")

        let reporter = RecordingReporter()
        let snapshot = try downloader(reporter: reporter).downloadModel("acme/tiny")
        let file = try XCTUnwrap(snapshot.files.first { $0.name == "model.safetensors" })
        XCTAssertEqual(file.resumedFrom, Int64(weights.count / 2))
        XCTAssertEqual(file.downloaded, Int64(weights.count - weights.count / 2))
        XCTAssertEqual(hub.storageRequests.last?.header("Range"), "bytes=\(weights.count / 2)-")
        XCTAssertTrue(reporter.notes.contains("model.safetensors: resuming at \(weights.count / 2) of \(weights.count) bytes"), "\(reporter.notes)")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: repoFolder + "/blobs/" + sha)), weights)
        XCTAssertFalse(FileManager.default.fileExists(atPath: partial))
        print("resume: \(file.resumedFrom) bytes kept from the cut run, \(file.downloaded) fetched after it, \(file.size) in all")
        _ = try DINOv3Model(folder: try ModelLocator.resolve("acme/tiny", environment: ["HF_HUB_CACHE": cache]))
    }

    func testAServerIgnoringTheRangeSendsItAllAgain() throws {
        try serve("gelu_reg4")
        hub.misbehave { $0.cutFirstGet = ["model.safetensors"]; $0.ignoreRange = true }
        XCTAssertThrowsError(try downloader().downloadModel("acme/tiny"))
        let snapshot = try downloader().downloadModel("acme/tiny")
        let file = try XCTUnwrap(snapshot.files.first { $0.name == "model.safetensors" })
        XCTAssertEqual([file.resumedFrom, file.downloaded], [0, file.size], "the part was dropped, the whole file taken")
        XCTAssertEqual(try Data(contentsOf: snapshot.folder.appendingPathComponent("model.safetensors")), hub.files["model.safetensors"])
    }

    func testAChecksumMismatchPublishesNothing() throws {
        try serve("gelu_reg4")
        hub.misbehave { $0.corrupt = ["model.safetensors"] }
        let sha = FakeHub.sha256(try XCTUnwrap(hub.files["model.safetensors"]))
        assertHubError(try downloader().downloadModel("acme/tiny"), ["model.safetensors is corrupt", "the hub announced \(sha)", "nothing was kept"])
        XCTAssertEqual(tree(repoFolder + "/blobs"), [FakeHub.gitSHA1(Self.preprocessor)], "only the good file; no part of the bad one")
        XCTAssertFalse(FileManager.default.fileExists(atPath: repoFolder + "/snapshots/\(FakeHub.commit)/model.safetensors"))
        XCTAssertThrowsError(try ModelLocator.resolve("acme/tiny", environment: ["HF_HUB_CACHE": cache]))

        // A file kept in git is checked against its git SHA-1 the same way.
        hub.misbehave { $0.corrupt = ["config.json"] }
        assertHubError(try downloader().downloadModel("acme/tiny"), ["config.json is corrupt"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: repoFolder + "/snapshots/\(FakeHub.commit)/config.json"))
    }

    func testMoreBytesThanAnnouncedAreRefused() throws {
        try serve("gelu_reg4")
        hub.misbehave { $0.oversized = ["model.safetensors"] }
        assertHubError(try downloader().downloadModel("acme/tiny"), ["refused the hub's answer for model.safetensors", "where 304952 were expected"])
        XCTAssertFalse(tree(repoFolder + "/blobs").contains { $0.hasPrefix(FakeHub.sha256(hub.files["model.safetensors"] ?? Data())) })
    }

    func testAFileOverTheLimitIsRefusedBeforeAnyByte() throws {
        try serve("gelu_reg4")
        var small = try downloader()
        small.maxWeightBytes = 1000
        assertHubError(try small.downloadModel("acme/tiny"), ["model.safetensors", "304952 bytes, more than the 1000 bytes allowed"])
        XCTAssertEqual(hub.requests.filter { $0.method == "GET" }.count, 0)
        XCTAssertEqual(tree(cache).filter { $0.contains("blobs/") }, [])
    }
}
