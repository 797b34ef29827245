import Foundation

/// One HTTP request for `HTTPTransfer`.
public struct HTTPRequest: Sendable {
    /// Which redirects are followed (only ever to http or https: any other scheme is refused).
    public enum Redirects: Sendable {
        /// Every redirect.
        case follow
        /// Only those to the request's own origin (a renamed repository); another origin's
        /// answer is returned as it is (a HEAD reads the `Location` of the storage host).
        case sameOrigin
        /// None: the 3xx answer is returned.
        case none
    }

    /// Most redirects followed before the transfer is refused.
    public static let maxRedirects = 10

    public var url: URL
    public var method: String
    public var headers: [String: String]
    /// Sent as `Authorization` to `authorizedOrigin` (scheme, host, port) only: a storage host,
    /// whether named by the first URL or reached by a redirect, never receives it.
    public var authorization: String?
    /// The origin trusted with `authorization` (the hub); `url`'s when nil.
    public var authorizedOrigin: URL?
    public var redirects: Redirects
    /// Seconds without data (or without a connection) before the transfer fails.
    public var idleTimeout: TimeInterval
    /// Most body bytes read: the size the caller expects, or a bound for the file. A body that
    /// goes past it (or a `Content-Length` above it) is cut there and refused. A `Content-Length`
    /// below it bounds the body further: nothing past the announced size is read.
    public var maxBytes: Int64?

    public init(url: URL, method: String = "GET", headers: [String: String] = [:], authorization: String? = nil,
                authorizedOrigin: URL? = nil, redirects: Redirects = .follow, idleTimeout: TimeInterval = 60, maxBytes: Int64? = nil) {
        (self.url, self.method, self.headers, self.authorization) = (url, method, headers, authorization)
        (self.authorizedOrigin, self.redirects, self.idleTimeout) = (authorizedOrigin, redirects, idleTimeout)
        self.maxBytes = maxBytes
    }

    /// The header lines sent to `target` (the first URL or a redirect's): ours, and the
    /// authorization only where `target` has the trusted origin.
    func headerLines(to target: URL) -> [String] {
        var lines = headers.filter { $0.key.lowercased() != "authorization" }.map { "\($0.key): \($0.value)" }.sorted()
        if let authorization, HTTPRequest.sameOrigin(target, authorizedOrigin ?? url) {
            lines.append("Authorization: \(authorization)")
        }
        return lines
    }

    /// Where `response` redirects to, when it is a redirect this request follows; nil to take the
    /// answer as it is. Throws (refused) for a `Location` that is not an http(s) URL with a host:
    /// such a redirect is never re-aimed, whatever the policy.
    func redirectTarget(of response: HTTPResponse) throws -> URL? {
        guard [301, 302, 303, 307, 308].contains(response.status), redirects != .none, let location = response.header("Location") else {
            return nil
        }
        guard let target = URL(string: location, relativeTo: response.url)?.absoluteURL, let scheme = target.scheme?.lowercased(),
              scheme == "http" || scheme == "https", !(target.host ?? "").isEmpty else {
            throw HTTPTransferError(.refused, url: response.url,
                                    reason: "it redirects to '\(URLRedaction.redacted(String(location.prefix(200))))', which is not an http(s) URL; such a redirect is never followed")
        }
        if redirects == .sameOrigin && !HTTPRequest.sameOrigin(target, url) { return nil }
        return target
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

    public init(status: Int, url: URL, headers: [String: String]) {
        (self.status, self.url, self.headers) = (status, url, headers)
    }

    /// A header's value, by case-insensitive name.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// The announced body size (`Content-Length`), nil when absent or not a number.
    public var contentLength: Int64? { header("Content-Length").flatMap { Int64($0) }.flatMap { $0 >= 0 ? $0 : nil } }

    /// The status's standard wording ("not found").
    public var statusText: String {
        let words = [200: "no error", 206: "partial content", 301: "moved permanently", 302: "found", 303: "see other",
                     304: "unmodified", 307: "temporarily redirected", 308: "permanent redirect", 400: "bad request",
                     401: "unauthorized", 403: "forbidden", 404: "not found", 405: "method not allowed",
                     408: "request timed out", 410: "no longer exists", 416: "requested range not satisfiable",
                     429: "too many requests", 500: "internal server error", 502: "bad gateway",
                     503: "service unavailable", 504: "gateway timed out"]
        if let text = words[status] { return text }
        switch status {
        case 100..<200: return "informational"
        case 200..<300: return "success"
        case 300..<400: return "redirected"
        case 400..<500: return "client error"
        default: return "server error"
        }
    }
}

/// A transfer that failed or was refused. Messages never show a URL's user name or password.
public struct HTTPTransferError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// The network failed: no answer, a cut connection, no data for `idleTimeout` seconds.
        /// Worth another try (a resumable download keeps its part).
        case failed
        /// The answer broke the request's limits: more bytes than announced or allowed, a
        /// redirect to something other than http(s), too many redirects, oversized headers.
        case refused
    }

    public let kind: Kind
    /// The URL, user name and password removed.
    public let url: String
    public let reason: String
    public var description: String { "\(url): \(reason)" }

    public init(_ kind: Kind, url: URL, reason: String) {
        self.kind = kind
        self.url = URLRedaction.redacted(url)
        self.reason = reason
    }
}
