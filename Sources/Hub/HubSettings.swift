import Foundation
import Support

/// Where the hub is, who we are there, and where its files go, read from the environment the
/// way `huggingface_hub` reads it.
public struct HubSettings: Sendable {
    public static let defaultEndpoint = "https://huggingface.co"
    /// Largest token file read.
    static let maxTokenBytes: Int64 = 4096

    /// `$HF_ENDPOINT`, else https://huggingface.co (no trailing slash).
    public var endpoint: URL
    /// `$HF_TOKEN`, else the token file of `huggingface-cli login`; nil when neither is set.
    public var token: String?
    /// `$HF_HUB_OFFLINE` is true: nothing touches the network.
    public var offline: Bool
    /// The hub cache downloads go to: the first of `CacheFolders.hub`.
    public var cacheRoot: String

    public init(endpoint: URL, token: String?, offline: Bool, cacheRoot: String) {
        (self.endpoint, self.token, self.offline, self.cacheRoot) = (endpoint, token, offline, cacheRoot)
    }

    /// Settings from `environment`; throws `HubError.badSetting` for an endpoint that is not an
    /// http(s) URL (or holds a user name or password: never echoed) or a token that could not be
    /// sent in a header.
    public init(environment env: [String: String] = ProcessInfo.processInfo.environment) throws {
        let endpointText = env["HF_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultEndpoint
        endpoint = try Self.endpoint(endpointText)
        offline = Self.isTrue(env["HF_HUB_OFFLINE"])
        cacheRoot = CacheFolders.hub(env).first ?? CacheFolders.userCache(env) + "/huggingface/hub"
        token = try Self.token(env)
    }

    /// `huggingface_hub`'s truth values: 1, ON, YES, TRUE (any case).
    static func isTrue(_ value: String?) -> Bool {
        guard let value else { return false }
        return ["1", "on", "yes", "true"].contains(value.trimmingCharacters(in: .whitespaces).lowercased())
    }

    /// `$HF_HOME`, else `<user cache>/huggingface`.
    static func home(_ env: [String: String]) -> String {
        if let v = env["HF_HOME"], !v.isEmpty { return FileSystem.absolute(v) }
        return CacheFolders.userCache(env) + "/huggingface"
    }

    /// Where `huggingface-cli login` keeps the token: `$HF_TOKEN_PATH`, else `$HF_HOME/token`.
    public static func tokenFile(_ env: [String: String]) -> String {
        if let v = env["HF_TOKEN_PATH"], !v.isEmpty { return FileSystem.absolute(v) }
        return home(env) + "/token"
    }

    static func token(_ env: [String: String]) throws -> String? {
        if let v = env["HF_TOKEN"]?.trimmingCharacters(in: .whitespacesAndNewlines), !v.isEmpty {
            return try checkedToken(v, source: "HF_TOKEN")
        }
        let file = tokenFile(env)
        guard FileSystem.exists(file) else { return nil }
        let text: String
        do { text = try FileSystem.readText(file, limit: maxTokenBytes) } catch {
            throw HubError.badSetting("cannot read the token file \(file) (\(error))")
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : try checkedToken(trimmed, source: file)
    }

    /// A token is visible ASCII only: nothing that could end or add a header line.
    static func checkedToken(_ token: String, source: String) throws -> String {
        guard token.utf8.count <= 1024, token.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw HubError.badSetting("the token in \(source) holds characters a token cannot have (spaces, control characters or non-ASCII)")
        }
        return token
    }

    static func endpoint(_ text: String) throws -> URL {
        var trimmed = text.trimmingCharacters(in: .whitespaces)
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        let shown = PathCodec.display(URLRedaction.redacted(String(text.prefix(200))))
        guard let url = URL(string: trimmed), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil else {
            throw HubError.badSetting("HF_ENDPOINT '\(shown)' is not an http(s) URL such as \(defaultEndpoint)")
        }
        guard url.user == nil, url.password == nil else {
            throw HubError.badSetting("HF_ENDPOINT '\(shown)' holds a user name or password, which dinoprobe does not send: "
                                      + "remove them, and give a token with HF_TOKEN or `huggingface-cli login`")
        }
        return url
    }
}
