import CCurl
import Foundation

/// One request and its answer through libcurl's easy interface, no redirect followed. libcurl
/// calls back synchronously on the caller's thread: the body is handed on in chunks of at most
/// `bufferBytes` as they are read from the socket, so nothing queues up in memory, and a callback
/// that refuses stops the transfer at once (the connection is closed, nothing more is read).
final class CurlExchange {
    /// How the exchange ended.
    enum Outcome {
        /// The final answer, and how many body bytes arrived.
        case answered(HTTPResponse, bytes: Int64)
        /// A redirect the request follows: ask `URL` next.
        case redirect(URL)
    }

    /// The receive buffer, and so the largest chunk handed to `onData`.
    static let bufferBytes = 64 << 10
    /// Most bytes of headers accepted in one answer.
    static let maxHeaderBytes = 256 << 10

    private static let initialized: Bool = dp_curl_global_init() == CURLE_OK

    let request: HTTPRequest
    let target: URL
    let onResponse: (HTTPResponse) throws -> Void
    let onData: (Data) throws -> Void
    private var status: Int?
    private var headers: [String: String] = [:]
    private var headerBytes = 0
    private var response: HTTPResponse?
    private var redirect: URL?
    private var limit: Int64?
    private var bytes: Int64 = 0
    private var failure: Error?
    /// When the last header or body bytes (or the request) went by, in seconds of uptime.
    private var lastActivity = ProcessInfo.processInfo.systemUptime

    init(request: HTTPRequest, target: URL, onResponse: @escaping (HTTPResponse) throws -> Void, onData: @escaping (Data) throws -> Void) {
        (self.request, self.target, self.onResponse, self.onData) = (request, target, onResponse, onData)
    }

    /// Sends the request and reads the answer. Errors thrown by the callbacks are rethrown as
    /// they are; refusals and network failures throw `HTTPTransferError`.
    func run() throws -> Outcome {
        guard Self.initialized, let handle = curl_easy_init() else {
            throw HTTPTransferError(.failed, url: target, reason: "libcurl could not be initialised")
        }
        defer { curl_easy_cleanup(handle) }
        var list: UnsafeMutablePointer<curl_slist>?
        for line in request.headerLines(to: target) { list = curl_slist_append(list, line) }
        defer { curl_slist_free_all(list) }
        let errorText = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorText.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorText.deallocate() }
        let context = Unmanaged.passUnretained(self).toOpaque()
        let code: CURLcode = withExtendedLifetime(self) {
            guard configure(handle, headers: list, errorText: errorText, context: context) else { return CURLE_FAILED_INIT }
            return curl_easy_perform(handle)
        }
        if let redirect { return .redirect(redirect) }
        if let failure { throw failure }
        guard code == CURLE_OK else { throw HTTPTransferError(.failed, url: target, reason: Self.describe(code, errorText)) }
        guard let response else { throw HTTPTransferError(.failed, url: target, reason: "no answer") }
        return .answered(response, bytes: bytes)
    }

    /// Sets every option; false if libcurl refused one.
    private func configure(_ handle: UnsafeMutableRawPointer, headers list: UnsafeMutablePointer<curl_slist>?,
                           errorText: UnsafeMutablePointer<CChar>, context: UnsafeMutableRawPointer) -> Bool {
        let idleMilliseconds = Int(min(max(request.idleTimeout * 1000, 1), Double(Int32.max)).rounded(.up))
        let method = request.method.uppercased()
        var codes: [CURLcode] = [
            dp_curl_set_string(handle, CURLOPT_URL, target.absoluteString),
            // No other protocol (file://, ftp://...), and no redirect followed by libcurl itself.
            dp_curl_set_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"),
            dp_curl_set_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"),
            dp_curl_set_long(handle, CURLOPT_FOLLOWLOCATION, 0),
            dp_curl_set_long(handle, CURLOPT_NOSIGNAL, 1),
            dp_curl_set_long(handle, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1),
            dp_curl_set_long(handle, CURLOPT_BUFFERSIZE, Self.bufferBytes),
            dp_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT_MS, idleMilliseconds),
            // A stalled peer: the progress callback (called at least once a second) stops a
            // transfer that saw no byte for `idleTimeout` seconds.
            dp_curl_set_long(handle, CURLOPT_NOPROGRESS, 0),
            dp_curl_set_progress(handle) { context, _, _, _, _ in
                guard let context else { return 1 }
                return Unmanaged<CurlExchange>.fromOpaque(context).takeUnretainedValue().stalled() ? 1 : 0
            },
            dp_curl_set_pointer(handle, CURLOPT_XFERINFODATA, context),
            dp_curl_set_list(handle, CURLOPT_HTTPHEADER, list),
            dp_curl_set_pointer(handle, CURLOPT_ERRORBUFFER, errorText),
            dp_curl_set_callback(handle, CURLOPT_HEADERFUNCTION) { pointer, size, count, context in
                guard let pointer, let context else { return 0 }
                let line = String(decoding: UnsafeRawBufferPointer(start: pointer, count: size * count), as: UTF8.self)
                return Unmanaged<CurlExchange>.fromOpaque(context).takeUnretainedValue().header(line) ? size * count : 0
            },
            dp_curl_set_pointer(handle, CURLOPT_HEADERDATA, context),
            dp_curl_set_callback(handle, CURLOPT_WRITEFUNCTION) { pointer, size, count, context in
                guard let pointer, let context else { return 0 }
                let chunk = UnsafeRawBufferPointer(start: pointer, count: size * count)
                return Unmanaged<CurlExchange>.fromOpaque(context).takeUnretainedValue().body(chunk) ? size * count : 0
            },
            dp_curl_set_pointer(handle, CURLOPT_WRITEDATA, context),
        ]
        switch method {
        case "GET": codes.append(dp_curl_set_long(handle, CURLOPT_HTTPGET, 1))
        case "HEAD": codes.append(dp_curl_set_long(handle, CURLOPT_NOBODY, 1))
        default: codes.append(dp_curl_set_string(handle, CURLOPT_CUSTOMREQUEST, method))
        }
        return codes.allSatisfy { $0 == CURLE_OK }
    }

    /// Whether no byte came for `idleTimeout` seconds (then the transfer fails).
    private func stalled() -> Bool {
        guard failure == nil, redirect == nil else { return true }
        let idle = ProcessInfo.processInfo.systemUptime - lastActivity
        guard idle > request.idleTimeout else { return false }
        return !refuse(HTTPTransferError(.failed, url: target, reason: "timed out: no data for \(String(format: "%g", request.idleTimeout)) s (the server stalled)"))
    }

    /// One header line (the status line, a header, or the blank line ending them); false stops.
    private func header(_ line: String) -> Bool {
        guard failure == nil, redirect == nil else { return false }
        lastActivity = ProcessInfo.processInfo.systemUptime
        guard response == nil else { return true }  // trailers after the body
        headerBytes += line.utf8.count
        guard headerBytes <= Self.maxHeaderBytes else {
            return refuse(HTTPTransferError(.refused, url: target, reason: "the answer's headers exceed \(Self.maxHeaderBytes) bytes"))
        }
        let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("HTTP/") {  // a new answer (after an interim 1xx)
            status = text.split(separator: " ").dropFirst().first.flatMap { Int($0) }
            headers = [:]
        } else if text.isEmpty {
            guard let status, !(100..<200).contains(status) else { return true }
            return headersEnded(HTTPResponse(status: status, url: target, headers: headers))
        } else if let colon = text.firstIndex(of: ":") {
            headers[text[..<colon].trimmingCharacters(in: .whitespaces).lowercased()] = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return true
    }

    /// The headers are in: a redirect to follow stops here; otherwise the body's bound is set
    /// and the caller sees the answer.
    private func headersEnded(_ answer: HTTPResponse) -> Bool {
        do {
            if let next = try request.redirectTarget(of: answer) {
                redirect = next
                return false
            }
            try onResponse(answer)
            if request.method.uppercased() != "HEAD" {
                if let announced = answer.contentLength, let most = request.maxBytes, announced > most {
                    throw HTTPTransferError(.refused, url: target, reason: "the server announces \(announced) bytes, more than the \(most) expected")
                }
                limit = [answer.contentLength, request.maxBytes].compactMap { $0 }.min()
            }
        } catch { return refuse(error) }
        response = answer
        return true
    }

    /// A chunk of the body; false stops the transfer (refused, or over the bound).
    private func body(_ chunk: UnsafeRawBufferPointer) -> Bool {
        guard failure == nil, response != nil else { return false }
        lastActivity = ProcessInfo.processInfo.systemUptime
        if let limit, bytes + Int64(chunk.count) > limit {
            let what = limit == response?.contentLength ? "announced" : "expected"
            return refuse(HTTPTransferError(.refused, url: target, reason: "the server sent more than the \(limit) bytes \(what)"))
        }
        do { try onData(Data(chunk)) } catch { return refuse(error) }
        bytes += Int64(chunk.count)
        return true
    }

    private func refuse(_ error: Error) -> Bool {
        if failure == nil { failure = error }
        return false
    }

    /// libcurl's failure in words: its detailed message if any, else the code's.
    static func describe(_ code: CURLcode, _ errorText: UnsafeMutablePointer<CChar>) -> String {
        let detail = String(cString: errorText).trimmingCharacters(in: .whitespacesAndNewlines)
        let text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        return code == CURLE_OPERATION_TIMEDOUT ? "timed out: \(text)" : text
    }
}
