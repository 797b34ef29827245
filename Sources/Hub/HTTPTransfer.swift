import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP request for `HTTPTransfer`.
public struct HTTPRequest: Sendable {
    /// Which redirects are followed.
    public enum Redirects: Sendable {
        /// Every redirect.
        case follow
        /// Only those to the request's own origin (a renamed repository); another origin's
        /// answer is returned as it is (a HEAD reads the `Location` of the storage host).
        case sameOrigin
        /// None: the 3xx answer is returned.
        case none
    }

    public var url: URL
    public var method: String
    public var headers: [String: String]
    /// Sent as `Authorization` to `authorizedOrigin` (scheme, host, port) only: a storage host,
    /// whether named by the first URL or reached by a redirect, never receives it.
    public var authorization: String?
    /// The origin trusted with `authorization` (the hub); `url`'s when nil.
    public var authorizedOrigin: URL?
    public var redirects: Redirects
    /// Seconds without data before the transfer fails.
    public var idleTimeout: TimeInterval

    public init(url: URL, method: String = "GET", headers: [String: String] = [:], authorization: String? = nil,
                authorizedOrigin: URL? = nil, redirects: Redirects = .follow, idleTimeout: TimeInterval = 60) {
        self.url = url
        self.method = method
        self.headers = headers
        self.authorization = authorization
        self.authorizedOrigin = authorizedOrigin
        self.redirects = redirects
        self.idleTimeout = idleTimeout
    }

    /// The request as sent to `target` (the first URL or a redirect's): our headers, and the
    /// authorization only where `target` has the trusted origin.
    func urlRequest(to target: URL) -> URLRequest {
        var request = URLRequest(url: target)
        request.httpMethod = method
        request.cachePolicy = .reloadIgnoringLocalCacheData
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.setValue(nil, forHTTPHeaderField: "Authorization")
        if let authorization, HTTPRequest.sameOrigin(target, authorizedOrigin ?? url) {
            request.setValue(authorization, forHTTPHeaderField: "Authorization")
        }
        return request
    }

    /// Scheme, host and port (defaults filled in) are equal.
    static func sameOrigin(_ a: URL, _ b: URL) -> Bool {
        func origin(_ u: URL) -> String {
            let scheme = (u.scheme ?? "").lowercased()
            return "\(scheme)://\((u.host ?? "").lowercased()):\(u.port ?? (scheme == "https" ? 443 : 80))"
        }
        return origin(a) == origin(b)
    }
}

/// The status line and headers of an answer.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// The URL that answered (after the redirects that were followed).
    public var url: URL
    /// Header names in lower case.
    public var headers: [String: String]

    /// A header's value, by case-insensitive name.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// The status's standard wording ("not found").
    public var statusText: String { HTTPURLResponse.localizedString(forStatusCode: status) }
}

/// A network failure (no answer, a cut connection, a time-out), in the system's words.
public struct HTTPTransferError: Error, CustomStringConvertible, Sendable {
    public let url: String
    public let reason: String
    public var description: String { "\(url): \(reason)" }
}

/// Synchronous HTTP(S) through URLSession, streaming the body to a callback. Shared by the data
/// set installer and the hub downloader.
public enum HTTPTransfer {
    /// Sends `request`. `onResponse` sees the status and headers before any body byte and may
    /// throw to stop; `onData` gets each chunk of the body and may throw to stop. Errors thrown
    /// by the callbacks are rethrown as they are; network failures throw `HTTPTransferError`.
    /// Returns the answer and how many body bytes arrived.
    @discardableResult
    public static func perform(_ request: HTTPRequest,
                               onResponse: @escaping (HTTPResponse) throws -> Void = { _ in },
                               onData: @escaping (Data) throws -> Void = { _ in }) throws -> (response: HTTPResponse, bytes: Int64) {
        let sink = TransferSink(request: request, onResponse: onResponse, onData: onData)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = request.idleTimeout
        configuration.timeoutIntervalForResource = 7 * 24 * 3600
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: configuration, delegate: sink, delegateQueue: queue)
        session.dataTask(with: request.urlRequest(to: request.url)).resume()
        sink.done.wait()
        session.finishTasksAndInvalidate()
        return try sink.result()
    }
}

/// URLSession delegate handing the answer to the callbacks; state behind a lock (delegate calls
/// come on one serial queue, `result()` is read after `done`).
private final class TransferSink: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let request: HTTPRequest
    let onResponse: (HTTPResponse) throws -> Void
    let onData: (Data) throws -> Void
    let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var response: HTTPResponse?
    private var bytes: Int64 = 0
    private var failure: Error?

    init(request: HTTPRequest, onResponse: @escaping (HTTPResponse) throws -> Void, onData: @escaping (Data) throws -> Void) {
        self.request = request
        self.onResponse = onResponse
        self.onData = onData
    }

    func result() throws -> (response: HTTPResponse, bytes: Int64) {
        lock.lock(); defer { lock.unlock() }
        if let failure { throw failure }
        guard let response else { throw HTTPTransferError(url: request.url.absoluteString, reason: "no answer") }
        return (response, bytes)
    }

    private func fail(_ error: Error) {
        lock.lock()
        if failure == nil { failure = error }
        lock.unlock()
    }

    private var failed: Bool { lock.lock(); defer { lock.unlock() }; return failure != nil }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
        guard let target = newRequest.url else { return completionHandler(nil) }
        switch request.redirects {
        case .follow: completionHandler(request.urlRequest(to: target))
        case .sameOrigin: completionHandler(HTTPRequest.sameOrigin(target, request.url) ? request.urlRequest(to: target) : nil)
        case .none: completionHandler(nil)
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
        guard let http = response as? HTTPURLResponse else {
            fail(HTTPTransferError(url: request.url.absoluteString, reason: "not an HTTP answer"))
            return completionHandler(.cancel)
        }
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        let answer = HTTPResponse(status: http.statusCode, url: http.url ?? request.url, headers: headers)
        lock.lock()
        self.response = answer
        lock.unlock()
        do { try onResponse(answer) } catch {
            fail(error)
            return completionHandler(.cancel)
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard !failed else { return }
        do {
            try onData(data)
            lock.lock()
            bytes += Int64(data.count)
            lock.unlock()
        } catch {
            fail(error)
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let error {
            let text = (error as NSError).localizedDescription
            fail(HTTPTransferError(url: request.url.absoluteString, reason: text.isEmpty ? "\(error)" : text))
        }
        done.signal()
    }
}
