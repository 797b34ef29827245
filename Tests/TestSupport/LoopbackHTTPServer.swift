#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A small HTTP/1.1 server on 127.0.0.1 (a free port) for download tests. Connections are
/// served one at a time; each request is answered by `handler` and the connection closed. It
/// stops by itself after `lifetime` seconds and never serves more than `maxRequests`.
public final class LoopbackHTTPServer: @unchecked Sendable {
    /// A request as it arrived.
    public struct Request: Sendable {
        /// E.g. "GET /a/b HTTP/1.1".
        public var line: String
        public var method: String
        /// The path (and query), still percent-encoded.
        public var target: String
        /// Header names in lower case.
        public var headers: [String: String]
        public func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    /// What the server does once the body (or its first `cutAfter` bytes) is sent.
    public enum Tail: Sendable {
        /// Closes the connection.
        case close
        /// Keeps sending filler bytes until the client hangs up (or `endlessCap` bytes, the
        /// server's stop or its lifetime): a body that never ends.
        case endless
        /// Sends nothing more and keeps the connection open until the client hangs up (or the
        /// server's stop or lifetime): a stalled peer.
        case stall
    }

    /// The most filler bytes an endless tail sends (far more than any test's bound).
    public static let endlessCap = 256 << 20

    /// An answer. `Content-Length` is the body's length unless `headers` sets it, or absent with
    /// an `.endless` tail; a HEAD gets no body. `cutAfter` sends only that many body bytes, then
    /// `tail` (by default closes: a cut connection).
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: Data
        public var cutAfter: Int?
        public var tail: Tail

        public init(status: Int, headers: [String: String] = [:], body: Data = Data(), cutAfter: Int? = nil, tail: Tail = .close) {
            self.status = status
            self.headers = headers
            self.body = body
            self.cutAfter = cutAfter
            self.tail = tail
        }
    }

    public let port: UInt16
    private let listener: Int32
    private let handler: @Sendable (Request) -> Reply
    private let lock = NSLock()
    private var stopped = false
    private var received: [Request] = []
    private let finished = DispatchSemaphore(value: 0)
    private let deadline: Date

    public init(lifetime: TimeInterval = 60, maxRequests: Int = 1000, handler: @escaping @Sendable (Request) -> Reply) throws {
        self.handler = handler
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
        guard bound == 0, listen(fd, 16) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        deadline = Date().addingTimeInterval(lifetime)
        let thread = Thread { [self] in
            serve(maxRequests: maxRequests)
            finished.signal()
        }
        thread.start()
    }

    deinit { stop() }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Every request so far, in order.
    public var requests: [Request] {
        lock.lock(); defer { lock.unlock() }
        return received
    }

    private var isStopped: Bool {
        lock.lock(); defer { lock.unlock() }
        return stopped
    }

    /// Stops accepting and waits (bounded) for the serving thread to end.
    public func stop() {
        lock.lock()
        let first = !stopped
        stopped = true
        lock.unlock()
        if first { _ = finished.wait(timeout: .now() + 5) }
    }

    private func serve(maxRequests: Int) {
        defer { close(listener) }
        var served = 0
        while served < maxRequests, !isStopped, Date() < deadline {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            served += 1
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            if let request = read(client) {
                lock.lock()
                received.append(request)
                lock.unlock()
                respond(handler(request), to: request, on: client)
            }
            close(client)
        }
    }

    /// The request line and headers (the body of a GET or HEAD is empty).
    private func read(_ client: Int32) -> Request? {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while data.count < 65536, data.range(of: Data("\r\n\r\n".utf8)) == nil {
            let n = recv(client, &buffer, buffer.count, 0)
            guard n > 0 else { return nil }
            data.append(contentsOf: buffer[0 ..< n])
        }
        let lines = String(decoding: data, as: UTF8.self).components(separatedBy: "\r\n")
        let first = lines.first ?? ""
        let parts = first.split(separator: " ").map(String.init)
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Request(line: first, method: parts.first ?? "", target: parts.count > 1 ? parts[1] : "", headers: headers)
    }

    private func respond(_ reply: Reply, to request: Request, on client: Int32) {
        var headers = reply.headers
        if !headers.keys.contains(where: { $0.lowercased() == "content-length" }), reply.tail != .endless {
            headers["Content-Length"] = "\(reply.body.count)"
        }
        var head = "HTTP/1.1 \(reply.status) \(HTTPStatus.reason(reply.status))\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        head += "Connection: close\r\n\r\n"
        var out = Data(head.utf8)
        if request.method != "HEAD" { out += reply.body.prefix(reply.cutAfter ?? reply.body.count) }
        guard send(client, out), request.method != "HEAD" else { return }
        switch reply.tail {
        case .close: return
        case .endless:
            let filler = Data(repeating: 0x5A, count: 64 << 10)
            var sent = 0
            while sent < Self.endlessCap, !isStopped, Date() < deadline, send(client, filler) { sent += filler.count }
        case .stall:
            // Silent until the client hangs up (readable with nothing to read) or time is up.
            var byte: UInt8 = 0
            while !isStopped, Date() < deadline {
                var poller = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
                if poll(&poller, 1, 50) > 0, recv(client, &byte, 1, Int32(MSG_DONTWAIT)) <= 0 { return }
            }
        }
    }

    /// Sends all of `data`; false when the client is gone (or stopped reading for 5 s).
    @discardableResult
    private func send(_ client: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return true }
            var offset = 0
            while offset < raw.count {
                #if canImport(Glibc)
                let n = Glibc.send(client, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                #else
                let n = Darwin.send(client, base + offset, raw.count - offset, 0)
                #endif
                guard n > 0 else { return false }
                offset += n
            }
            return true
        }
    }
}

/// Reason phrases for the statuses the tests use.
enum HTTPStatus {
    static func reason(_ status: Int) -> String {
        [200: "OK", 206: "Partial Content", 302: "Found", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
         416: "Range Not Satisfiable", 500: "Internal Server Error"][status] ?? "Status"
    }
}
