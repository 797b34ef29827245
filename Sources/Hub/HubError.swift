import Foundation
import Support

/// What went wrong fetching from the hub; each message says what to do next, and shows URLs
/// without user names or passwords (`URLRedaction`).
public enum HubError: Error, CustomStringConvertible, Sendable {
    /// An environment setting that cannot be used.
    case badSetting(String)
    /// `HF_HUB_OFFLINE` is set and a download was asked for.
    case offline(repo: String)
    /// A model id, revision or file name that is not allowed (`what` says which).
    case badName(what: String, value: String, rule: String)
    /// HTTP 401 or 403: gated, private, or a token without access.
    case accessDenied(repo: String, status: Int, tokenSent: Bool, endpoint: String)
    /// HTTP 404 for the model or revision (`errorCode`: the hub's `X-Error-Code`, if any).
    case notFound(repo: String, revision: String, file: String, errorCode: String?)
    /// The repository has neither `model.safetensors` nor its index at the revision.
    case noWeights(repo: String, revision: String)
    /// Another status than expected.
    case httpStatus(url: String, status: Int, text: String)
    /// An answer that breaks the protocol or the limits (a hostile or broken server).
    case badAnswer(file: String, reason: String)
    /// The bytes do not hash to what the hub announced; nothing was kept.
    case checksumMismatch(file: String, expected: String, got: String)
    /// The connection failed before the file was whole; the part is kept for the next run.
    case interrupted(file: String, received: Int64, total: Int64, reason: String)
    /// No answer at all (a DNS failure, a refused connection, a time-out).
    case unreachable(url: String, reason: String)
    /// The cache could not be written.
    case cache(path: String, reason: String)

    public var description: String {
        switch self {
        case let .badSetting(text): return text
        case let .offline(repo):
            return "HF_HUB_OFFLINE is set, so \(repo) is not downloaded; unset it (or set it to 0) to allow network access, or use a model already in the cache"
        case let .badName(what, value, rule):
            return "the \(what) '\(PathCodec.display(String(value.prefix(200))))' is refused: \(rule)"
        case let .accessDenied(repo, status, tokenSent, endpoint):
            let why = tokenSent
                ? "the token was sent but gives no access to it (a gated model not yet granted to your account, or a token without read rights)"
                : "no token was sent (neither HF_TOKEN nor a huggingface-cli login token was found)"
            let endpoint = URLRedaction.redacted(endpoint)
            return "the hub refused \(repo) (HTTP \(status)): it is gated or private, or the id is wrong; \(why). "
                + "To get access: 1) open \(endpoint)/\(repo) while logged in and request access (accept the licence); "
                + "2) once granted, create a read token at \(endpoint)/settings/tokens; "
                + "3) run `huggingface-cli login` or export HF_TOKEN=<token>; then run this again"
        case let .notFound(repo, revision, file, code):
            switch code {
            case "RevisionNotFound"?: return "\(repo) has no revision '\(revision)' on the hub (HTTP 404): check --revision (a branch, tag or commit hash)"
            case "EntryNotFound"?: return "\(repo) at revision '\(revision)' has no file \(file) (HTTP 404)"
            default: return "\(repo) at revision '\(revision)' was not found on the hub (HTTP 404): the model id or the revision is wrong (ids are case-sensitive, e.g. facebook/dinov3-vits16-pretrain-lvd1689m)"
            }
        case let .noWeights(repo, revision):
            return "\(repo) at revision '\(revision)' has neither model.safetensors nor model.safetensors.index.json: it is not a safetensors checkpoint dinoprobe can load"
        case let .httpStatus(url, status, text): return "\(URLRedaction.redacted(url)): the server answered HTTP \(status) (\(text)); try again later"
        case let .badAnswer(file, reason): return "refused the hub's answer for \(file): \(reason)"
        case let .checksumMismatch(file, expected, got):
            return "\(file) is corrupt: its hash is \(got), the hub announced \(expected); nothing was kept, run again to download it afresh"
        case let .interrupted(file, received, total, reason):
            return "the download of \(file) stopped after \(received) of \(total) bytes (\(reason)); the part is kept in the cache: run the same command again to resume"
        case let .unreachable(url, reason): return "cannot reach \(URLRedaction.redacted(url)) (\(reason)); check the network, or HF_ENDPOINT"
        case let .cache(path, reason): return "cannot write the hub cache at \(path): \(reason)"
        }
    }
}
