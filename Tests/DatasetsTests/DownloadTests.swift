import Foundation
import Support
import Datasets
import Hub
import TestSupport
import XCTest

/// A one-file server on the shared loopback server, for download tests: it can misbehave on purpose.
final class LoopbackServer: @unchecked Sendable {
    enum Mode: Sendable {
        case serve           // 200 with the whole body
        case cutHalfway      // announces the whole length, sends half, closes
        case status(Int)     // an error status with a short body
        case endless         // no Content-Length, the body followed by filler that never ends
        case lyingLength     // announces the body's length, then keeps sending filler
        case stallHalfway    // announces the whole length, sends half, then nothing (kept open)
    }

    private let server: LoopbackHTTPServer

    init(body: Data, mode: Mode) throws {
        server = try LoopbackHTTPServer(lifetime: 20) { _ in
            let binary = ["Content-Type": "application/octet-stream"]
            switch mode {
            case .serve: return .init(status: 200, headers: binary, body: body)
            case .cutHalfway: return .init(status: 200, headers: binary, body: body, cutAfter: body.count / 2)
            case let .status(code): return .init(status: code, body: Data("not here\n".utf8))
            case .endless: return .init(status: 200, headers: binary, body: body, tail: .endless)
            case .lyingLength: return .init(status: 200, headers: binary.merging(["Content-Length": "\(body.count)"]) { $1 }, body: body, tail: .endless)
            case .stallHalfway: return .init(status: 200, headers: binary, body: body, cutAfter: body.count / 2, tail: .stall)
            }
        }
    }

    var baseURL: String { server.baseURL + "/" }
    var requests: [String] { server.requests.map(\.line) }
    func stop() { server.stop() }
}

/// Collects progress reports from the downloader's queue.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [DownloadProgress] = []
    func add(_ p: DownloadProgress) { lock.lock(); items.append(p); lock.unlock() }
    var all: [DownloadProgress] { lock.lock(); defer { lock.unlock() }; return items }
}

/// Downloading Imagenette from a loopback server: a good archive becomes a ready data set; a bad
/// md5, a cut connection, an HTTP error or a broken archive leave nothing that counts.
final class DownloadTests: DataTempFolderCase {
    var archive = Data()
    var archiveMD5 = ""

    override func setUpWithError() throws {
        try super.setUpWithError()
        // A tiny imagenette2-160 with two classes, packed with tar.
        for p in ["train/n01440764/n01440764_1.JPEG", "train/n02102040/n02102040_1.JPEG",
                  "val/n01440764/ILSVRC2012_val_1.JPEG", "val/n02102040/ILSVRC2012_val_2.JPEG"] {
            try writeImage("src/imagenette2-160/\(p)", width: 24, height: 16)
        }
        try write("src/imagenette2-160/noisy_imagenette.csv", "path,noisy_labels_0,noisy_labels_1,noisy_labels_5,noisy_labels_25,noisy_labels_50,is_valid\n")
        archive = try tgz(of: "imagenette2-160")
        archiveMD5 = Digest.hex(.md5, of: archive)
    }

    func tgz(of folder: String) throws -> Data {
        let out = temp + "/\(folder).tgz"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/tar")
        process.arguments = ["-czf", out, "-C", temp + "/src", folder]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        return try Data(contentsOf: URL(fileURLWithPath: out))
    }

    var destination: String { temp + "/data" }

    func testGoodArchiveBecomesReady() throws {
        let server = try LoopbackServer(body: archive, mode: .serve)
        defer { server.stop() }
        let log = ProgressLog()
        let root = try Imagenette.download(variant: .px160, to: destination, expectedMD5: archiveMD5,
                                           environment: ["DINOPROBE_IMAGENETTE_URL": server.baseURL], idleTimeout: 10) { log.add($0) }
        XCTAssertEqual(root, destination + "/imagenette2-160")
        XCTAssertTrue(DatasetInstaller.isReady(root))
        XCTAssertEqual(entries(destination), ["imagenette2-160"], "temporary files are gone")
        XCTAssertEqual(server.requests, ["GET /imagenette2-160.tgz HTTP/1.1"])
        let last = try XCTUnwrap(log.all.last)
        XCTAssertEqual(last.phase, .extracting)
        let downloaded = try XCTUnwrap(log.all.last { $0.phase == .downloading })
        XCTAssertEqual(downloaded.bytes, Int64(archive.count))
        XCTAssertEqual(downloaded.total, Int64(archive.count))
        XCTAssertEqual(downloaded.fraction, 1)
        XCTAssertTrue(downloaded.description.contains("(100%)"), downloaded.description)

        let located = try Imagenette.locate(variant: .px160, dataDir: destination, environment: ["HOME": temp + "/home"], base: temp)
        XCTAssertEqual(located, root)
        let train = try Imagenette.load(root: located, split: .train)
        XCTAssertEqual(train.classNames, ["tench", "English springer"])
        XCTAssertEqual(train.count, 2)

        // A second call finds it ready and does not download again.
        XCTAssertEqual(try Imagenette.download(variant: .px160, to: destination, baseURL: "http://127.0.0.1:1/", expectedMD5: archiveMD5), root)
    }

    func testBadMD5LeavesNothing() throws {
        let server = try LoopbackServer(body: archive, mode: .serve)
        defer { server.stop() }
        assertThrows(try Imagenette.download(variant: .px160, to: destination, baseURL: server.baseURL, idleTimeout: 10),
                     ["md5 mismatch: expected e793b78cc4c9e9a4ccc0c1155377a412, got \(archiveMD5)",
                      "the download was corrupt or truncated, run again"])
        XCTAssertEqual(entries(destination), [], "no temporary file or folder is left")
        XCTAssertThrowsError(try Imagenette.locate(variant: .px160, dataDir: destination, environment: ["HOME": temp + "/home"], base: temp))
    }

    func testConnectionCutMidwayLeavesNothing() throws {
        let server = try LoopbackServer(body: archive, mode: .cutHalfway)
        defer { server.stop() }
        XCTAssertThrowsError(try Imagenette.download(variant: .px160, to: destination, baseURL: server.baseURL, expectedMD5: archiveMD5, idleTimeout: 10)) { error in
            guard case DatasetError.downloadFailed = error else { return XCTFail("expected downloadFailed, got \(error)") }
            XCTAssertTrue("\(error)".contains("imagenette2-160.tgz"), "\(error)")
        }
        XCTAssertEqual(entries(destination), [])
        XCTAssertThrowsError(try Imagenette.locate(variant: .px160, dataDir: destination, environment: ["HOME": temp + "/home"], base: temp))
    }

    func testHTTPErrorStatus() throws {
        let server = try LoopbackServer(body: archive, mode: .status(404))
        defer { server.stop() }
        assertThrows(try Imagenette.download(variant: .px160, to: destination, baseURL: server.baseURL, expectedMD5: archiveMD5, idleTimeout: 10),
                     ["HTTP 404", "imagenette2-160.tgz"])
        XCTAssertEqual(entries(destination), [])
    }

    func testBrokenArchiveLeavesNothing() throws {
        let junk = Data("this is not a gzip file".utf8)
        let server = try LoopbackServer(body: junk, mode: .serve)
        defer { server.stop() }
        assertThrows(try Imagenette.download(variant: .px160, to: destination, baseURL: server.baseURL, expectedMD5: Digest.hex(.md5, of: junk), idleTimeout: 10),
                     ["cannot extract", "tar exited"])
        XCTAssertEqual(entries(destination), [])
    }

    func testArchiveWithoutExpectedFolders() throws {
        try writeImage("src/other/train/a.png", width: 8, height: 8)
        let wrong = try tgz(of: "other")
        let server = try LoopbackServer(body: wrong, mode: .serve)
        defer { server.stop() }
        assertThrows(try Imagenette.download(variant: .px160, to: destination, baseURL: server.baseURL, expectedMD5: Digest.hex(.md5, of: wrong), idleTimeout: 10),
                     ["the archive has no folder imagenette2-160"])
        XCTAssertEqual(entries(destination), [])
    }

    func testUnfinishedFolderIsNeitherUsedNorTouched() throws {
        let mine = try write("data/imagenette2-160/train/mine.JPEG", "precious")
        assertThrows(try Imagenette.download(variant: .px160, to: destination, baseURL: "http://127.0.0.1:1/", expectedMD5: archiveMD5),
                     [destination + "/imagenette2-160 exists but has no .dinoprobe-ready marker"])
        XCTAssertEqual(try String(contentsOfFile: mine, encoding: .utf8), "precious")
    }

    func testStaleTemporariesOfDeadRunsAreRemoved() throws {
        try write("data/.imagenette2-160.download-2147483000-1.tgz", "partial")
        try write("data/.imagenette2-160.extract-2147483000-1/imagenette2-160/x", "partial")
        try write("data/unrelated.txt", "keep")
        let server = try LoopbackServer(body: archive, mode: .serve)
        defer { server.stop() }
        _ = try Imagenette.download(variant: .px160, to: destination, baseURL: server.baseURL, expectedMD5: archiveMD5, idleTimeout: 10)
        XCTAssertEqual(entries(destination), ["imagenette2-160", "unrelated.txt"])
    }

    // Hostile servers (issue 33): every download stops at the announced size or the archive's
    // published size, returns promptly, holds a small buffer of memory and leaves nothing.

    /// Downloads imagenette2-160 from `server` under a watchdog (failing the test when it does
    /// not return in time or raises the peak memory by more than 32 MiB).
    func watchedDownload(_ server: LoopbackServer, idleTimeout: TimeInterval = 10, log: ProgressLog = ProgressLog(),
                         within seconds: TimeInterval = 15, file: StaticString = #filePath, line: UInt = #line) -> Result<String, Error>? {
        let (destination, md5, base) = (destination, archiveMD5, server.baseURL)
        let outcome = Watchdog.run(within: seconds) {
            try Imagenette.download(variant: .px160, to: destination, baseURL: base, expectedMD5: md5, idleTimeout: idleTimeout) { log.add($0) }
        }
        XCTAssertNotNil(outcome.result, "the download did not return within \(seconds) s", file: file, line: line)
        if let rise = outcome.peakRise {
            XCTAssertLessThan(rise, 32 << 20, "the download raised the peak memory by \(rise >> 20) MiB", file: file, line: line)
        }
        if outcome.result == nil { server.stop() }
        return outcome.result
    }

    func testAnEndlessBodyStopsAtThePublishedSize() throws {
        let server = try LoopbackServer(body: archive, mode: .endless)
        defer { server.stop() }
        let log = ProgressLog()
        let result = try XCTUnwrap(watchedDownload(server, log: log))
        let bound = Imagenette.Variant.px160.archiveBytes
        XCTAssertThrowsError(try result.get()) { error in
            guard case DatasetError.downloadFailed = error else { return XCTFail("expected downloadFailed, got \(error)") }
            XCTAssertTrue("\(error)".contains("the server sent more than the \(bound) bytes expected"), "\(error)")
        }
        XCTAssertLessThanOrEqual(log.all.map(\.bytes).max() ?? 0, bound, "nothing past the bound was written")
        XCTAssertEqual(entries(destination), [], "no partial archive is left")
    }

    func testALyingContentLengthIsReadUpToItsLengthOnly() throws {
        let server = try LoopbackServer(body: archive, mode: .lyingLength)
        defer { server.stop() }
        let result = try XCTUnwrap(watchedDownload(server))
        XCTAssertEqual(try result.get(), destination + "/imagenette2-160")
        XCTAssertEqual(entries(destination), ["imagenette2-160"])
    }

    func testAStalledServerTimesOut() throws {
        let server = try LoopbackServer(body: archive, mode: .stallHalfway)
        defer { server.stop() }
        let result = try XCTUnwrap(watchedDownload(server, idleTimeout: 1, within: 6))
        XCTAssertThrowsError(try result.get()) { error in
            guard case DatasetError.downloadFailed = error else { return XCTFail("expected downloadFailed, got \(error)") }
            XCTAssertTrue("\(error)".contains("timed out"), "\(error)")
        }
        XCTAssertEqual(entries(destination), [])
    }

    func testCredentialsInTheURLAreNeverShown() throws {
        let server = try LoopbackServer(body: archive, mode: .status(404))
        defer { server.stop() }
        let base = server.baseURL.replacingOccurrences(of: "http://", with: "http://alice:s3cret@")
        XCTAssertThrowsError(try Imagenette.download(variant: .px160, to: destination, baseURL: base, idleTimeout: 10)) { error in
            XCTAssertTrue("\(error)".contains("download of http://***@127.0.0.1:"), "\(error)")
            XCTAssertFalse("\(error)".contains("s3cret"), "\(error)")
        }
        XCTAssertThrowsError(try Imagenette.locate(variant: .px160, dataDir: destination, environment: ["DINOPROBE_IMAGENETTE_URL": base, "HOME": temp + "/home"],
                                                   base: temp)) { XCTAssertFalse("\($0)".contains("s3cret"), "\($0)") }
    }
}
