import Foundation
import Hub
import Support

/// Streams an HTTP(S) resource into a file, hashing it (MD5) on the way and reporting progress.
public enum HTTPDownloader {
    /// What arrived.
    public struct Result: Sendable {
        public var bytes: Int64
        /// MD5 of the bytes written, 32 hex digits.
        public var md5: String
    }

    /// Downloads `url` into a new file at `path`, reading at most `maxBytes` (the file's known size
    /// or a bound for it) and never past the announced size. Fails with
    /// `DatasetError.downloadFailed` on a non-2xx status, a network error, `idleTimeout` seconds
    /// without data, more bytes than `maxBytes`, or fewer bytes than the server announced. The
    /// file is written through `AtomicFile` (never through a link planted at `path`): it appears
    /// whole, and on failure nothing is left.
    public static func download(from url: URL, to path: String, maxBytes: Int64, idleTimeout: TimeInterval = 60,
                                progress: (@Sendable (DownloadProgress) -> Void)? = nil) throws -> Result {
        let output = try AtomicFile.begin(path)
        defer { output.discard() }
        let sink = DownloadSink(output: output, progress: progress)
        do {
            let request = HTTPRequest(url: url, headers: ["Accept-Encoding": "identity"], idleTimeout: idleTimeout, maxBytes: maxBytes)
            try HTTPTransfer.perform(request, onResponse: sink.accept, onData: sink.write)
        } catch let error as HTTPTransferError {
            throw DatasetError.downloadFailed(url: URLRedaction.redacted(url), reason: error.reason)
        } catch let reason as DownloadSink.Refusal {
            throw DatasetError.downloadFailed(url: URLRedaction.redacted(url), reason: reason.text)
        }
        if let total = sink.total, sink.bytes != total {
            throw DatasetError.downloadFailed(url: URLRedaction.redacted(url), reason: "the connection ended after \(sink.bytes) of \(total) bytes")
        }
        do { try output.commit() } catch {
            throw DatasetError.badFile(path: path, reason: "cannot save the download (\(error)); is the disk full?")
        }
        if sink.lastReportedBytes != sink.bytes {
            progress?(DownloadProgress(bytes: sink.bytes, total: sink.total, bytesPerSecond: sink.rate))
        }
        return Result(bytes: sink.bytes, md5: sink.md5.hex())
    }
}

/// Writes the body to a file, hashing it and reporting progress about 4 times a second
/// (called on the transfer's queue, read after it ends).
private final class DownloadSink {
    struct Refusal: Error { let text: String }

    let output: AtomicFile.Output
    let progress: (@Sendable (DownloadProgress) -> Void)?
    private(set) var md5 = Digest(.md5)
    private(set) var bytes: Int64 = 0
    private(set) var total: Int64?
    private let start = Date()
    private var lastReport = Date.distantPast
    private(set) var lastReportedBytes: Int64 = -1

    init(output: AtomicFile.Output, progress: (@Sendable (DownloadProgress) -> Void)?) {
        self.output = output
        self.progress = progress
    }

    var rate: Double { Double(bytes) / max(Date().timeIntervalSince(start), 1e-3) }

    func accept(_ response: HTTPResponse) throws {
        guard (200 ..< 300).contains(response.status) else {
            throw Refusal(text: "the server answered HTTP \(response.status) (\(response.statusText))")
        }
        total = response.header("Content-Length").flatMap { Int64($0) }
    }

    func write(_ data: Data) throws {
        do { try output.write(data) } catch {
            throw Refusal(text: "cannot write to disk (\(error)); is the disk full?")
        }
        md5.update(data)
        bytes += Int64(data.count)
        let now = Date()
        if let progress, now.timeIntervalSince(lastReport) >= 0.25 {
            lastReport = now
            lastReportedBytes = bytes
            progress(DownloadProgress(bytes: bytes, total: total, bytesPerSecond: rate))
        }
    }
}
