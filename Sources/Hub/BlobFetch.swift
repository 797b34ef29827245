import Foundation
import Support

/// What happened to one file of a download.
public struct HubFile: Sendable, Equatable {
    public var name: String
    public var etag: String
    public var size: Int64
    /// It was already in the cache: nothing was fetched.
    public var cached: Bool
    /// Bytes already there from an earlier, interrupted run (0 for a fresh download).
    public var resumedFrom: Int64
    /// Bytes fetched by this run.
    public var downloaded: Int64
}

/// Fetches one blob into the cache: resumable (HTTP Range onto `blobs/<etag>.incomplete`),
/// bounded (never more bytes than announced), verified (the bytes must hash to the etag) and
/// atomic (renamed onto `blobs/<etag>` only once verified).
struct BlobFetch {
    let client: HubClient
    let repo: HubRepoFolder
    let reporter: Reporter

    func fetch(_ meta: HubFileMetadata) throws -> HubFile {
        var outcome = HubFile(name: meta.file, etag: meta.etag, size: meta.size, cached: true, resumedFrom: 0, downloaded: 0)
        if isPresent(meta) { return outcome }
        do { try FileSystem.createDirectories(repo.blobs) } catch { throw HubError.cache(path: repo.blobs, reason: "\(error)") }
        let lock = try repo.lock(meta.etag) { reporter.note("\(meta.file): waiting for another download of it to finish") }
        defer { withExtendedLifetime(lock) {} }
        if isPresent(meta) { return outcome }  // the other download finished it
        outcome.cached = false
        let partial = try PartialFile(path: repo.partial(meta.etag))
        var hasher = BlobHasher(etag: meta.etag, size: meta.size)
        var start = partial.size
        if start > meta.size {
            try partial.truncate()
            start = 0
        }
        if start > 0 { try partial.forEachChunk { hasher.update($0) } }
        outcome.resumedFrom = start
        if start < meta.size {
            if start > 0 { reporter.note("\(meta.file): resuming at \(start) of \(meta.size) bytes") }
            (outcome.downloaded, outcome.resumedFrom) = try transfer(meta, into: partial, from: start, hasher: &hasher)
        }
        let digest = hasher.hex()
        guard digest == meta.etag else {
            partial.discard()
            throw HubError.checksumMismatch(file: meta.file, expected: meta.etag, got: digest)
        }
        try partial.publish(as: repo.blob(meta.etag))
        return outcome
    }

    /// A blob of the announced size is there (blobs are only ever published verified).
    func isPresent(_ meta: HubFileMetadata) -> Bool {
        guard let status = (try? FileSystem.status(repo.blob(meta.etag), followLinks: false)) ?? nil else { return false }
        return status.kind == .regular && status.size == meta.size
    }

    /// GETs the bytes from `start` on (following redirects; the token goes to the hub only),
    /// appending them; returns how many arrived and from where (0 when the server ignored the
    /// range and sent the whole file). No answer reads past the file's size. A cut connection or
    /// a stalled server throws `interrupted` and keeps the part; a server that breaks the limits
    /// throws `badAnswer` and loses it.
    func transfer(_ meta: HubFileMetadata, into partial: PartialFile, from start: Int64, hasher: inout BlobHasher) throws -> (received: Int64, from: Int64) {
        var headers = ["Accept-Encoding": "identity", "User-Agent": HubClient.userAgent]
        if start > 0 { headers["Range"] = "bytes=\(start)-" }
        let request = HTTPRequest(url: meta.location, headers: headers, authorization: client.authorization,
                                  authorizedOrigin: client.settings.endpoint, redirects: .follow, idleTimeout: client.idleTimeout,
                                  maxBytes: meta.size)
        let sink = BlobSink(meta: meta, partial: partial, start: start, hasher: hasher, client: client,
                            task: reporter.task(meta.file, total: Int(meta.size - start), unit: "bytes"))
        do {
            try HTTPTransfer.perform(request, onResponse: sink.accept, onData: sink.write)
        } catch let error as HTTPTransferError where error.kind == .failed {
            sink.task.finish(Int(sink.received), note: "interrupted")
            throw HubError.interrupted(file: meta.file, received: partial.size, total: meta.size, reason: error.reason)
        } catch let error as HTTPTransferError {
            sink.task.finish(Int(sink.received), note: "refused")
            partial.discard()
            throw HubError.badAnswer(file: meta.file, reason: error.reason)
        } catch {
            sink.task.finish(Int(sink.received), note: "refused")
            if case HubError.badAnswer = error { partial.discard() }
            throw error
        }
        guard partial.size == meta.size else {
            sink.task.finish(Int(sink.received), note: "interrupted")
            throw HubError.interrupted(file: meta.file, received: partial.size, total: meta.size, reason: "the connection ended early")
        }
        sink.task.finish(Int(sink.received), note: sink.start > 0 ? "resumed at \(sink.start) bytes" : "")
        hasher = sink.hasher
        return (sink.received, sink.start)
    }
}

/// The GET's callbacks: checks the status and range before the first byte, refuses a byte
/// past the announced size, appends, hashes and reports.
private final class BlobSink {
    let meta: HubFileMetadata
    let partial: PartialFile
    let client: HubClient
    let task: ProgressTask
    private(set) var start: Int64
    private(set) var hasher: BlobHasher
    private(set) var received: Int64 = 0

    init(meta: HubFileMetadata, partial: PartialFile, start: Int64, hasher: BlobHasher, client: HubClient, task: ProgressTask) {
        (self.meta, self.partial, self.start, self.hasher, self.client) = (meta, partial, start, hasher, client)
        self.task = task
    }

    private func refuse(_ reason: String) -> HubError { .badAnswer(file: meta.file, reason: reason) }

    func accept(_ response: HTTPResponse) throws {
        switch response.status {
        case 206 where start > 0:
            let range = response.header("Content-Range") ?? ""
            guard range.hasPrefix("bytes \(start)-"), range.hasSuffix("/\(meta.size)") || range.hasSuffix("/*") else {
                throw refuse("asked for bytes from \(start) on, the server sent the range '\(PathCodec.display(String(range.prefix(80))))'")
            }
        case 200:
            if start > 0 {  // the range was ignored: the whole file comes again
                try partial.truncate()
                start = 0
                hasher = BlobHasher(etag: meta.etag, size: meta.size)
            }
        case 416:
            throw refuse("the server has fewer bytes than the \(meta.size) it announced (HTTP 416)")
        default:
            try client.check(response, file: meta.file, revision: meta.commit)
            throw HubError.httpStatus(url: response.url.absoluteString, status: response.status, text: response.statusText)
        }
        if let length = response.header("Content-Length").flatMap({ Int64($0) }), length != meta.size - start {
            throw refuse("the server announces \(length) bytes where \(meta.size - start) were expected")
        }
    }

    func write(_ data: Data) throws {
        guard start + received + Int64(data.count) <= meta.size else {
            throw refuse("the server sent more than the \(meta.size) bytes it announced")
        }
        try partial.append(data)
        hasher.update(data)
        received += Int64(data.count)
        task.update(Int(received))
    }
}

/// Checks that bytes are the blob an ETag names: an LFS SHA-256 (64 hex digits) is the
/// SHA-256 of the bytes; a git SHA-1 (40) is the SHA-1 of `blob <size>\0` and the bytes.
struct BlobHasher {
    private var digest: Digest

    init(etag: String, size: Int64) {
        if etag.count == 64 {
            digest = Digest(.sha256)
        } else {
            digest = Digest(.sha1)
            digest.update(Data("blob \(size)\u{0}".utf8))
        }
    }

    mutating func update(_ data: Data) { digest.update(data) }

    /// The digest in lowercase hex (does not consume the hasher).
    func hex() -> String { digest.hex() }
}
