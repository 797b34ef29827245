#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Support
import Datasets
import XCTest

/// A one-file HTTP/1.1 server on 127.0.0.1 (a free port), for download tests. It answers at most
/// `maxConnections` requests, stops itself after `lifetime` seconds, and can misbehave on purpose.
final class LoopbackServer: @unchecked Sendable {
    enum Mode: Sendable {
        case serve           // 200 with the whole body
        case cutHalfway      // announces the whole length, sends half, closes
        case status(Int)     // an error status with a short body
    }

    let port: UInt16
    private let listener: Int32
    private let body: Data
    private let mode: Mode
    private let lock = NSLock()
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)
    private(set) var requests: [String] = []

    init(body: Data, mode: Mode, maxConnections: Int = 4, lifetime: TimeInterval = 20) throws {
        self.body = body
        self.mode = mode
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, listen(fd, 8) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        let deadline = Date().addingTimeInterval(lifetime)
        let thread = Thread { [self] in
            serve(maxConnections: maxConnections, deadline: deadline)
            finished.signal()
        }
        thread.start()
    }

    var baseURL: String { "http://127.0.0.1:\(port)/" }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    /// Stops accepting and waits (bounded) for the serving thread to end.
    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        _ = finished.wait(timeout: .now() + 5)
    }

    private func serve(maxConnections: Int, deadline: Date) {
        defer { close(listener) }
        var served = 0
        while served < maxConnections, !isStopped, Date() < deadline {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            served += 1
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            handle(client)
            close(client)
        }
    }

    private func handle(_ client: Int32) {
        var request = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while request.count < 65536, request.range(of: Data("\r\n\r\n".utf8)) == nil {
            let n = recv(client, &buffer, buffer.count, 0)
            guard n > 0 else { return }
            request.append(contentsOf: buffer[0 ..< n])
        }
        let line = String(decoding: request.prefix { $0 != 13 }, as: UTF8.self)
        lock.lock()
        requests.append(line)
        lock.unlock()
        switch mode {
        case .serve:
            send(client, header(200, "OK", length: body.count) + body)
        case .cutHalfway:
            send(client, header(200, "OK", length: body.count) + body.prefix(body.count / 2))
        case let .status(code):
            let text = Data("not here\n".utf8)
            send(client, header(code, "Error", length: text.count) + text)
        }
    }

    private func header(_ code: Int, _ reason: String, length: Int) -> Data {
        Data("HTTP/1.1 \(code) \(reason)\r\nContent-Type: application/octet-stream\r\nContent-Length: \(length)\r\nConnection: close\r\n\r\n".utf8)
    }

    private func send(_ client: Int32, _ data: Data) {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                #if canImport(Glibc)
                let n = Glibc.send(client, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                #else
                let n = Darwin.send(client, raw.baseAddress! + offset, raw.count - offset, 0)
                #endif
                guard n > 0 else { return }
                offset += n
            }
        }
    }
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
        archiveMD5 = Checksum.md5Hex(archive)
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
        assertThrows(try Imagenette.download(variant: .px160, to: destination, baseURL: server.baseURL, expectedMD5: Checksum.md5Hex(junk), idleTimeout: 10),
                     ["cannot extract", "tar exited"])
        XCTAssertEqual(entries(destination), [])
    }

    func testArchiveWithoutExpectedFolders() throws {
        try writeImage("src/other/train/a.png", width: 8, height: 8)
        let wrong = try tgz(of: "other")
        let server = try LoopbackServer(body: wrong, mode: .serve)
        defer { server.stop() }
        assertThrows(try Imagenette.download(variant: .px160, to: destination, baseURL: server.baseURL, expectedMD5: Checksum.md5Hex(wrong), idleTimeout: 10),
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
}
