import Foundation
import Support
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Streams an HTTP(S) resource into a file, hashing it (MD5) on the way and reporting progress.
public enum HTTPDownloader {
    /// What arrived.
    public struct Result: Sendable {
        public var bytes: Int64
        /// MD5 of the bytes written, 32 hex digits.
        public var md5: String
    }

    /// Downloads `url` into a new file at `path`. Fails with `DatasetError.downloadFailed` on a
    /// non-2xx status, a network error, `idleTimeout` seconds without data, or fewer bytes than
    /// the server announced. On failure the partly written file is left for the caller to remove.
    public static func download(from url: URL, to path: String, idleTimeout: TimeInterval = 60,
                                progress: (@Sendable (DownloadProgress) -> Void)? = nil) throws -> Result {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw DatasetError.badFile(path: path, reason: "cannot create the download file (permissions or disk full?)")
        }
        defer { try? handle.close() }
        let sink = DownloadSink(url: url, handle: handle, progress: progress)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = idleTimeout
        configuration.timeoutIntervalForResource = 7 * 24 * 3600
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: configuration, delegate: sink, delegateQueue: queue)
        session.dataTask(with: url).resume()
        sink.done.wait()
        session.finishTasksAndInvalidate()
        let outcome = sink.outcome()
        if let failure = outcome.failure { throw DatasetError.downloadFailed(url: url.absoluteString, reason: failure) }
        if let total = outcome.total, outcome.bytes != total {
            throw DatasetError.downloadFailed(url: url.absoluteString, reason: "the connection ended after \(outcome.bytes) of \(total) bytes")
        }
        do { try handle.synchronize() } catch {
            throw DatasetError.badFile(path: path, reason: "cannot flush the download to disk (\(error.localizedDescription))")
        }
        if outcome.lastReported != outcome.bytes {
            progress?(DownloadProgress(bytes: outcome.bytes, total: outcome.total, bytesPerSecond: outcome.rate))
        }
        return Result(bytes: outcome.bytes, md5: outcome.md5)
    }
}

/// URLSession delegate writing the body to a file; state behind a lock (delegate calls come on
/// one serial queue, `outcome()` is read after `done`).
private final class DownloadSink: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let url: URL
    let handle: FileHandle
    let progress: (@Sendable (DownloadProgress) -> Void)?
    let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var md5 = Checksum.MD5Stream()
    private var bytes: Int64 = 0
    private var total: Int64?
    private var failure: String?
    private let start = Date()
    private var lastReport = Date.distantPast
    private var lastReportedBytes: Int64 = -1

    init(url: URL, handle: FileHandle, progress: (@Sendable (DownloadProgress) -> Void)?) {
        self.url = url
        self.handle = handle
        self.progress = progress
    }

    func outcome() -> (bytes: Int64, total: Int64?, md5: String, failure: String?, rate: Double, lastReported: Int64) {
        lock.lock()
        defer { lock.unlock() }
        let elapsed = max(Date().timeIntervalSince(start), 1e-3)
        return (bytes, total, md5.hexDigest(), failure, Double(bytes) / elapsed, lastReportedBytes)
    }

    private func fail(_ reason: String) {
        lock.lock()
        if failure == nil { failure = reason }
        lock.unlock()
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
        if let http = response as? HTTPURLResponse, !(200 ..< 300).contains(http.statusCode) {
            fail("the server answered HTTP \(http.statusCode) (\(HTTPURLResponse.localizedString(forStatusCode: http.statusCode)))")
            completionHandler(.cancel)
            return
        }
        lock.lock()
        total = response.expectedContentLength >= 0 ? response.expectedContentLength : nil
        lock.unlock()
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        lock.lock()
        guard failure == nil else { lock.unlock(); return }
        do {
            try handle.write(contentsOf: data)
        } catch {
            failure = "cannot write to disk (\(error.localizedDescription)); is the disk full?"
            lock.unlock()
            dataTask.cancel()
            return
        }
        md5.update(data)
        bytes += Int64(data.count)
        let now = Date()
        var report: DownloadProgress?
        if progress != nil, now.timeIntervalSince(lastReport) >= 0.25 {
            lastReport = now
            lastReportedBytes = bytes
            report = DownloadProgress(bytes: bytes, total: total, bytesPerSecond: Double(bytes) / max(now.timeIntervalSince(start), 1e-3))
        }
        lock.unlock()
        if let report { progress?(report) }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let error {
            let text = (error as NSError).localizedDescription
            fail(text.isEmpty ? "\(error)" : text)
        }
        done.signal()
    }
}
