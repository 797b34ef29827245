import Foundation
import Hub
import Support
import TestSupport
import XCTest

/// A hostile hub: names from the server never leave the cache folder, and names from the user
/// are checked before any request.
final class HubHostileTests: HubTestCase {
    func testACommitThatIsNotHexIsRefused() throws {
        try serve("gelu_reg4")
        for commit in ["../../../../escape", "4E0B1F7C2D3A59687A1B2C3D4E5F60718293A4B5", "abc", "4e0b1f7c2d3a59687a1b2c3d4e5f60718293a4b/"] {
            hub.misbehave { $0.commitHeader = commit }
            assertHubError(try downloader().downloadModel("acme/tiny"), ["refused the hub's answer for config.json", "is not 40 lowercase hexadecimal digits"])
        }
        XCTAssertEqual(tree(temp).filter { !$0.hasPrefix("home") }, [], "nothing written anywhere")
    }

    func testAnETagThatIsNotAHashIsRefused() throws {
        try serve("gelu_reg4")
        for etag in ["../../../escape", "/etc/passwd", String(repeating: "a", count: 63)] {
            hub.misbehave { $0.etag = ["model.safetensors": etag] }
            assertHubError(try downloader().downloadModel("acme/tiny"), ["model.safetensors", "is neither a git SHA-1 nor an LFS SHA-256"])
        }
        XCTAssertEqual(tree(temp).filter { !$0.hasPrefix("home") }, [])
    }

    func testShardNamesLeavingTheFolderAreRefusedBeforeAnyShardRequest() throws {
        let index = try XCTUnwrap(String(data: Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/sharded/model.safetensors.index.json")), encoding: .utf8))
        for evil in ["../../escape.safetensors", "/etc/escape.safetensors", "sub/../../escape.safetensors", "model.bin"] {
            let files = ["config.json": try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/sharded/config.json")),
                         "model.safetensors.index.json": Data(index.replacingOccurrences(of: "model-00003-of-00005.safetensors", with: evil).utf8)]
            hub?.stop()
            hub = try FakeHub(repoID: "acme/tiny", files: files)
            assertHubError(try downloader().downloadModel("acme/tiny"), ["model.safetensors.index.json", "is not a relative path to a .safetensors file inside the model folder"])
            XCTAssertFalse(hub.requests.contains { $0.target.contains("escape") || $0.target.contains("model-0000") }, evil)
            XCTAssertFalse(FileManager.default.fileExists(atPath: repoFolder + "/snapshots/\(FakeHub.commit)/config.json"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: temp + "/escape.safetensors"))
    }

    func testBadIDsAndRevisionsAreRefusedBeforeAnyRequest() throws {
        try serve("gelu_reg4")
        for id in ["../etc", "acme", "a/b/c", "acme--x/tiny", "acme/..", "/abs/x", "acme/ti ny", "acme/-x"] {
            assertHubError(try downloader().downloadModel(id), ["the model id", "ORG/NAME"])
        }
        for revision in ["../main", "/main", "a//b", "main\n", "re v", ""] {
            assertHubError(try downloader().downloadModel("acme/tiny", revision: revision), ["the revision", "is refused"])
        }
        XCTAssertEqual(hub.requests.count, 0)
    }

    func testARevisionNamedByBranchWritesItsRef() throws {
        try serve("gelu_reg4")
        let snapshot = try downloader().downloadModel("acme/tiny", revision: FakeHub.commit)
        XCTAssertFalse(FileManager.default.fileExists(atPath: repoFolder + "/refs"), "a commit needs no ref")
        XCTAssertEqual(snapshot.folder.lastPathComponent, FakeHub.commit)
        XCTAssertTrue(hub.resolveRequests.allSatisfy { $0.target.contains("/resolve/\(FakeHub.commit)/") })
    }
}
