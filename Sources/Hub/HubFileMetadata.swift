import Foundation
import Support

/// What the hub says about one file of a repository at a revision (from a HEAD request on
/// `{endpoint}/{repo}/resolve/{revision}/{file}`, as `huggingface_hub` asks it).
public struct HubFileMetadata: Sendable {
    public var file: String
    /// The commit the revision points to (`X-Repo-Commit`), 40 hexadecimal digits.
    public var commit: String
    /// The blob name: the LFS SHA-256 (`X-Linked-Etag`) or the git SHA-1 (`ETag`).
    public var etag: String
    /// Bytes (`X-Linked-Size`, else `Content-Length`).
    public var size: Int64
    /// Where the bytes are fetched: the storage host the hub redirects to, or the hub itself.
    public var location: URL
}

/// HEAD requests to the hub for one repository.
struct HubClient {
    let settings: HubSettings
    let repoID: String
    let idleTimeout: TimeInterval

    static let userAgent = "dinoprobe/0.1; hf_hub-compatible"

    var authorization: String? { settings.token.map { "Bearer \($0)" } }

    func resolveURL(_ file: String, revision: String) throws -> URL {
        let text = settings.endpoint.absoluteString + "/" + repoID + "/resolve/"
            + HubNames.encoded(revision, keepSlash: false) + "/" + HubNames.encoded(file, keepSlash: true)
        guard let url = URL(string: text) else { throw HubError.badSetting("cannot form a URL from \(PathCodec.display(text))") }
        return url
    }

    /// The metadata of `file`, or nil when the revision has no such file (HTTP 404).
    func optionalMetadata(_ file: String, revision: String, limit: Int64) throws -> HubFileMetadata? {
        do { return try metadata(file, revision: revision, limit: limit) } catch HubError.notFound {
            return nil
        }
    }

    /// The metadata of `file`: its commit, blob name and size checked before they name files
    /// (`limit`: the largest size accepted).
    func metadata(_ file: String, revision: String, limit: Int64) throws -> HubFileMetadata {
        try HubNames.checkFile(file)
        let url = try resolveURL(file, revision: revision)
        let request = HTTPRequest(url: url, method: "HEAD", headers: ["Accept-Encoding": "identity", "User-Agent": Self.userAgent],
                                  authorization: authorization, authorizedOrigin: settings.endpoint, redirects: .sameOrigin, idleTimeout: idleTimeout)
        let response: HTTPResponse
        do { response = try HTTPTransfer.perform(request).response } catch let error as HTTPTransferError {
            if error.kind == .refused { throw HubError.badAnswer(file: file, reason: error.reason) }
            throw HubError.unreachable(url: error.url, reason: error.reason)
        }
        try check(response, file: file, revision: revision)
        return try parse(response, file: file, limit: limit)
    }

    /// Maps a refusal to its error: 401/403 explain gated access, 404 a wrong id or revision.
    func check(_ response: HTTPResponse, file: String, revision: String) throws {
        switch response.status {
        case 200..<400: return
        case 401, 403:
            throw HubError.accessDenied(repo: repoID, status: response.status, tokenSent: settings.token != nil,
                                        endpoint: settings.endpoint.absoluteString)
        case 404:
            throw HubError.notFound(repo: repoID, revision: revision, file: file, errorCode: response.header("X-Error-Code"))
        default:
            throw HubError.httpStatus(url: response.url.absoluteString, status: response.status, text: response.statusText)
        }
    }

    func parse(_ response: HTTPResponse, file: String, limit: Int64) throws -> HubFileMetadata {
        func refuse(_ reason: String) -> HubError { .badAnswer(file: file, reason: reason) }
        func shown(_ text: String) -> String { PathCodec.display(String(text.prefix(100))) }
        guard let commit = response.header("X-Repo-Commit") else { throw refuse("no X-Repo-Commit header (is HF_ENDPOINT a hub?)") }
        guard HubNames.isCommit(commit) else { throw refuse("the commit '\(shown(commit))' is not 40 lowercase hexadecimal digits") }
        guard let rawEtag = response.header("X-Linked-Etag") ?? response.header("ETag") else { throw refuse("no ETag header") }
        guard let etag = HubNames.blobName(etag: rawEtag) else {
            throw refuse("the ETag '\(shown(rawEtag))' is neither a git SHA-1 nor an LFS SHA-256")
        }
        guard let sizeText = response.header("X-Linked-Size") ?? response.header("Content-Length"), let size = Int64(sizeText), size >= 0 else {
            throw refuse("no valid size (X-Linked-Size or Content-Length)")
        }
        guard size <= limit else { throw refuse("it is \(size) bytes, more than the \(limit) bytes allowed for it") }
        var location = response.url
        if (300..<400).contains(response.status) {
            guard let text = response.header("Location"), let target = URL(string: text, relativeTo: response.url)?.absoluteURL,
                  let scheme = target.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
                throw refuse("a redirect without a valid http(s) Location")
            }
            location = target
        }
        return HubFileMetadata(file: file, commit: commit, etag: etag, size: size, location: location)
    }
}
