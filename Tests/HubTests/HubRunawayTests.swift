import Foundation
import Hub
import Support
import TestSupport
import XCTest

/// Storage hosts that send more than they announce, never stop, or stall: the download stops at
/// the announced size, returns promptly with a clear error, holds no more than a small buffer of
/// memory, and leaves at most its resumable part, never larger than the file. Each run is
/// watched: a transfer that hangs or balloons fails the test instead of the suite.
final class HubRunawayTests: HubTestCase {
    /// Peak memory a download may add (the transfer holds one 64 KiB buffer).
    static let memoryBound: Int64 = 32 << 20

    var weights: Data { hub.files["model.safetensors"] ?? Data() }
    var weightsBlob: String { repoFolder + "/blobs/" + FakeHub.sha256(weights) }

    /// Downloads acme/tiny under a watchdog; fails the test when it does not return in time or
    /// raises the peak memory by more than `memoryBound`.
    func watchedDownload(idleTimeout: TimeInterval = 10, reporter: Reporter = SilentReporter(), within seconds: TimeInterval = 8,
                         file: StaticString = #filePath, line: UInt = #line) throws -> Result<HubSnapshot, Error>? {
        var downloader = try downloader(reporter: reporter)
        downloader.idleTimeout = idleTimeout
        let outcome = Watchdog.run(within: seconds) { [downloader] in try downloader.downloadModel("acme/tiny") }
        XCTAssertNotNil(outcome.result, "the download did not return within \(seconds) s", file: file, line: line)
        if let rise = outcome.peakRise {
            XCTAssertLessThan(rise, Self.memoryBound, "the download raised the peak memory by \(rise >> 20) MiB", file: file, line: line)
        }
        if outcome.result == nil { hub.stop() }  // let the stuck transfer end
        return outcome.result
    }

    /// Every file in the blobs folder is at most `weights.count` bytes (no part outgrows the file).
    func assertNoBlobOutgrowsTheFile(file: StaticString = #filePath, line: UInt = #line) throws {
        for name in tree(repoFolder + "/blobs") {
            let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: repoFolder + "/blobs/" + name)[.size] as? Int)
            XCTAssertLessThanOrEqual(size, weights.count, name, file: file, line: line)
        }
    }

    func testAnEndlessBodyIsCutAtTheAnnouncedSize() throws {
        try serve("gelu_reg4")
        hub.misbehave { $0.endless = ["model.safetensors"] }
        let result = try XCTUnwrap(watchedDownload())
        XCTAssertThrowsError(try result.get()) { error in
            guard case HubError.badAnswer = error else { return XCTFail("expected badAnswer, got \(error)") }
            XCTAssertTrue("\(error)".contains("model.safetensors: the server sent more than the \(weights.count) bytes"), "\(error)")
        }
        try assertNoBlobOutgrowsTheFile()
        XCTAssertFalse(FileManager.default.fileExists(atPath: weightsBlob), "nothing unverified is published")
        hub.misbehave { $0.endless = [] }
        XCTAssertNoThrow(try downloader().downloadModel("acme/tiny"), "a well-behaved server then delivers")
    }

    func testALyingContentLengthIsReadUpToItsLengthOnly() throws {
        try serve("gelu_reg4")
        hub.misbehave { $0.lyingLength = ["model.safetensors"] }
        let result = try XCTUnwrap(watchedDownload())
        XCTAssertNoThrow(try result.get(), "the announced bytes are the file; what follows is never read")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: weightsBlob)), weights)
    }

    func testAStalledStorageHostTimesOutAndKeepsItsPart() throws {
        try serve("gelu_reg4")
        hub.misbehave { $0.stallHalfway = ["model.safetensors"] }
        let result = try XCTUnwrap(watchedDownload(idleTimeout: 1, within: 6))
        XCTAssertThrowsError(try result.get()) { error in
            guard case HubError.interrupted = error else { return XCTFail("expected interrupted, got \(error)") }
            for piece in ["stopped after \(weights.count / 2) of \(weights.count) bytes", "timed out", "run the same command again to resume"] {
                XCTAssertTrue("\(error)".contains(piece), "'\(piece)' missing from: \(error)")
            }
        }
        try assertNoBlobOutgrowsTheFile()
        let part = weightsBlob + ".incomplete"
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: part)[.size] as? Int, weights.count / 2, "the resumable part is kept")
        hub.misbehave { $0.stallHalfway = [] }
        let reporter = RecordingReporter()
        _ = try downloader(reporter: reporter).downloadModel("acme/tiny")
        XCTAssertTrue(reporter.notes.contains("model.safetensors: resuming at \(weights.count / 2) of \(weights.count) bytes"), "\(reporter.notes)")
    }

    func testARedirectToAnotherSchemeIsRefusedNeverReaimed() throws {
        try serve("gelu_reg4")
        for location in ["file:///etc/passwd", "file:/etc/passwd", "ftp://127.0.0.1/etc/passwd", "gopher:///etc/passwd"] {
            for getOnly in [false, true] {  // the HEAD's redirect (same-origin policy), the GET's (followed)
                hub.misbehave { $0.location = location; $0.redirectOnGetOnly = getOnly }
                assertHubError(try downloader().downloadModel("acme/tiny"),
                               ["refused the hub's answer for model.safetensors", "it redirects to '\(location)', which is not an http(s) URL"])
            }
        }
        XCTAssertEqual(hub.requests.filter { $0.target.contains("passwd") }.map(\.line), [], "no redirect was re-aimed at a host")
        try assertNoBlobOutgrowsTheFile()
    }

    func testCredentialsInURLsAreNeverShown() throws {
        for endpoint in ["https://alice:s3cret@hub.example", "alice:s3cret@hub.example", "https://alice:s3cret@hub.example/?x=1"] {
            XCTAssertThrowsError(try HubSettings(environment: ["HF_ENDPOINT": endpoint, "HOME": temp])) { error in
                XCTAssertFalse("\(error)".contains("s3cret") || "\(error)".contains("alice"), "\(error)")
                XCTAssertTrue("\(error)".contains("***@hub.example"), "\(error)")
            }
        }
        try serve("gelu_reg4")
        let storage = "http://alice:s3cret@localhost:\(URL(string: hub.endpoint)?.port ?? 0)/storage/x"
        hub.misbehave { $0.location = storage; $0.storageStatus = 500 }
        let reporter = RecordingReporter()
        assertHubError(try downloader(reporter: reporter).downloadModel("acme/tiny"), ["http://***@localhost:", "HTTP 500"])
        XCTAssertThrowsError(try downloader().downloadModel("acme/tiny")) { XCTAssertFalse("\($0)".contains("s3cret"), "\($0)") }
        XCTAssertFalse((reporter.notes + reporter.finished).contains { $0.contains("s3cret") })
        let unreachable = try XCTUnwrap(URL(string: "http://alice:s3cret@127.0.0.1:1/x"))
        XCTAssertThrowsError(try HTTPTransfer.perform(HTTPRequest(url: unreachable, idleTimeout: 2))) { error in
            XCTAssertEqual((error as? HTTPTransferError)?.kind, .failed)
            XCTAssertTrue("\(error)".hasPrefix("http://***@127.0.0.1:1/x: "), "\(error)")
        }
    }

    func testRedactionRemovesOnlyTheUserInformation() {
        XCTAssertEqual(URLRedaction.redacted("https://u:p@h:8080/a@b?c=@#@"), "https://***@h:8080/a@b?c=@#@")
        XCTAssertEqual(URLRedaction.redacted("https://h/a@b"), "https://h/a@b")
        XCTAssertEqual(URLRedaction.redacted("u:p@h/x"), "***@h/x")
        XCTAssertEqual(URLRedaction.redacted("https://a@b:c@h/"), "https://***@h/")
    }
}
