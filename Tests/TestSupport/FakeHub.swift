import Foundation
import Hub

/// The Hugging Face hub's download endpoints, played on the loopback server for one repository:
/// HEAD/GET `/{id}/resolve/{revision}/{file}` answer with `X-Repo-Commit`, `ETag` (git SHA-1)
/// or `X-Linked-Etag`/`X-Linked-Size` (LFS SHA-256) as the hub does; `.safetensors` files are
/// LFS and redirect (302) to `http://localhost:PORT/storage/<sha256>`, another origin on the
/// same server standing in for the storage host, which honours `Range`. The `misbehave`
/// switches make it fail in the ways the tests need.
public final class FakeHub: @unchecked Sendable {
    public struct Misbehaviour {
        /// Every resolve request answers this status (401, 403, 404...).
        public var status: Int?
        /// `X-Error-Code` sent with `status`.
        public var errorCode: String?
        /// The first GET of these files sends half the bytes and closes.
        public var cutFirstGet: Set<String> = []
        /// These files are served with one byte changed (their hash stays the true one).
        public var corrupt: Set<String> = []
        /// These files are served with extra bytes past the announced size.
        public var oversized: Set<String> = []
        /// Sent as `X-Repo-Commit` instead of the commit.
        public var commitHeader: String?
        /// Sent as the ETag (or X-Linked-Etag) of a file instead of its hash.
        public var etag: [String: String] = [:]
        /// LFS HEADs answer 200 (no Location); only the GET of the resolve URL redirects.
        public var redirectOnGetOnly = false
        /// `Range` is ignored: the whole file comes with 200.
        public var ignoreRange = false
        /// These files are sent without `Content-Length`, followed by filler that never ends.
        public var endless: Set<String> = []
        /// These files announce their true length, then keep sending filler past it.
        public var lyingLength: Set<String> = []
        /// These files send half their bytes, then nothing, the connection kept open.
        public var stallHalfway: Set<String> = []
        /// Sent as the `Location` of LFS files instead of the storage host's URL.
        public var location: String?
        /// The storage host answers this status.
        public var storageStatus: Int?

        public init() {}
    }

    public static let commit = "4e0b1f7c2d3a59687a1b2c3d4e5f60718293a4b5"
    public let repoID: String
    public let files: [String: Data]
    private let lock = NSLock()
    private var misbehaviour = Misbehaviour()
    private var gets: [String: Int] = [:]
    private var server: LoopbackHTTPServer!

    public init(repoID: String, files: [String: Data]) throws {
        self.repoID = repoID
        self.files = files
        server = try LoopbackHTTPServer(lifetime: 120) { [unowned self] in self.answer($0) }
    }

    /// Loads every file of a fixture folder.
    public convenience init(repoID: String, folder: String) throws {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
        }
        try self.init(repoID: repoID, files: files)
    }

    public func misbehave(_ change: (inout Misbehaviour) -> Void) {
        lock.lock(); defer { lock.unlock() }
        change(&misbehaviour)
    }

    public func stop() { server.stop() }

    public var endpoint: String { server.baseURL }
    public var storageOrigin: String { "http://localhost:\(server.port)" }
    public var requests: [LoopbackHTTPServer.Request] { server.requests }
    public var resolveRequests: [LoopbackHTTPServer.Request] { requests.filter { $0.target.contains("/resolve/") } }
    public var storageRequests: [LoopbackHTTPServer.Request] { requests.filter { $0.target.hasPrefix("/storage/") } }

    public static func isLFS(_ name: String) -> Bool { name.hasSuffix(".safetensors") }

    public static func sha256(_ data: Data) -> String { Digest.hex(.sha256, of: data) }

    /// The git blob SHA-1, which the hub sends as the ETag of a file kept in git.
    public static func gitSHA1(_ data: Data) -> String {
        Digest.hex(.sha1, of: Data("blob \(data.count)\u{0}".utf8) + data)
    }

    public static func hash(of name: String, _ data: Data) -> String { isLFS(name) ? sha256(data) : gitSHA1(data) }

    private func answer(_ request: LoopbackHTTPServer.Request) -> LoopbackHTTPServer.Reply {
        lock.lock(); defer { lock.unlock() }
        if request.target.hasPrefix("/storage/") { return storage(request) }
        let prefix = "/\(repoID)/resolve/"
        guard request.target.hasPrefix(prefix) else {
            return .init(status: 404, headers: ["X-Error-Code": "RepoNotFound"], body: Data("Repository not found".utf8))
        }
        if let status = misbehaviour.status {
            return .init(status: status, headers: misbehaviour.errorCode.map { ["X-Error-Code": $0] } ?? [:], body: Data("refused".utf8))
        }
        let rest = request.target.dropFirst(prefix.count)
        guard let slash = rest.firstIndex(of: "/") else { return .init(status: 404) }
        let revision = rest[..<slash].removingPercentEncoding ?? ""
        let name = rest[rest.index(after: slash)...].removingPercentEncoding ?? ""
        guard revision == "main" || revision == Self.commit else {
            return .init(status: 404, headers: ["X-Error-Code": "RevisionNotFound"], body: Data("Invalid rev id".utf8))
        }
        guard let data = files[name] else {
            return .init(status: 404, headers: ["X-Error-Code": "EntryNotFound"], body: Data("Entry not found".utf8))
        }
        let hash = misbehaviour.etag[name] ?? Self.hash(of: name, data)
        var headers = ["X-Repo-Commit": misbehaviour.commitHeader ?? Self.commit]
        guard Self.isLFS(name) else {
            headers["ETag"] = "\"\(hash)\""
            return request.method == "HEAD" ? .init(status: 200, headers: headers.merging(["Content-Length": "\(data.count)"]) { $1 })
                                             : body(name, data, request, headers: headers)
        }
        headers["X-Linked-Etag"] = "\"\(hash)\""
        headers["X-Linked-Size"] = "\(data.count)"
        headers["ETag"] = "W/\"pointer\""
        if request.method == "HEAD" && misbehaviour.redirectOnGetOnly {
            return .init(status: 200, headers: headers.merging(["Content-Length": "\(data.count)"]) { $1 })
        }
        headers["Location"] = misbehaviour.location ?? "\(storageOrigin)/storage/\(Self.sha256(data))"
        return .init(status: 302, headers: headers)
    }

    /// The storage host: the bytes of a blob by its SHA-256, with `Range: bytes=N-`.
    private func storage(_ request: LoopbackHTTPServer.Request) -> LoopbackHTTPServer.Reply {
        if let status = misbehaviour.storageStatus { return .init(status: status, body: Data("refused".utf8)) }
        let sha = String(request.target.dropFirst("/storage/".count))
        guard let (name, data) = files.first(where: { Self.sha256($0.value) == sha }) else { return .init(status: 404) }
        return body(name, data, request, headers: [:])
    }

    /// The bytes of `name`, or the range asked for, spoilt as `misbehaviour` says.
    private func body(_ name: String, _ data: Data, _ request: LoopbackHTTPServer.Request, headers: [String: String]) -> LoopbackHTTPServer.Reply {
        var served = data
        if misbehaviour.corrupt.contains(name), !served.isEmpty { served[served.count / 2] ^= 0xFF }
        if misbehaviour.oversized.contains(name) { served += Data(repeating: 7, count: 1000) }
        gets[name, default: 0] += 1
        if misbehaviour.endless.contains(name) { return .init(status: 200, headers: headers, body: served, tail: .endless) }
        if misbehaviour.lyingLength.contains(name) {
            return .init(status: 200, headers: headers.merging(["Content-Length": "\(served.count)"]) { $1 }, body: served, tail: .endless)
        }
        if misbehaviour.stallHalfway.contains(name) { return .init(status: 200, headers: headers, body: served, cutAfter: served.count / 2, tail: .stall) }
        let cut = misbehaviour.cutFirstGet.contains(name) && gets[name] == 1 ? served.count / 2 : nil
        if !misbehaviour.ignoreRange, let range = request.header("Range"), range.hasPrefix("bytes="), range.hasSuffix("-"),
           let start = Int(range.dropFirst(6).dropLast()) {
            guard start < served.count else { return .init(status: 416) }
            return .init(status: 206, headers: headers.merging(["Content-Range": "bytes \(start)-\(served.count - 1)/\(served.count)"]) { $1 },
                         body: served.subdata(in: start..<served.count), cutAfter: cut)
        }
        return .init(status: 200, headers: headers, body: served, cutAfter: cut)
    }
}
