import Foundation
import Support

/// The rules that names from the user or from the server meet before they name a URL or a
/// file in the cache.
enum HubNames {
    /// `ORG/NAME` split in two. Each part: 1 to 96 of `A-Z a-z 0-9 . _ -`, not starting or
    /// ending with `.` or `-`, without `--` or `..` (the hub's own rule; `--` would break the
    /// cache folder name).
    static func repo(_ id: String) throws -> (org: String, name: String) {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        func valid(_ p: String) -> Bool {
            (1...96).contains(p.count) && p.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
                && !p.contains("--") && !p.contains("..") && !".-".contains(p.first ?? ".") && !".-".contains(p.last ?? ".")
        }
        guard parts.count == 2, valid(parts[0]), valid(parts[1]) else {
            throw HubError.badName(what: "model id", value: id, rule: "a hub id is ORG/NAME, e.g. \(exampleID), made of letters, digits, '.', '_' and '-'")
        }
        return (parts[0], parts[1])
    }

    static let exampleID = "facebook/dinov3-vits16-pretrain-lvd1689m"

    /// A branch, tag or commit: 1 to 256 of `A-Z a-z 0-9 . _ - + /`, a relative path that stays
    /// inside `refs/` (it names the file holding its commit).
    static func checkRevision(_ revision: String) throws {
        guard (1...256).contains(revision.count),
              revision.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-+/".contains($0)) }),
              WeightMap.isConfinedRelativePath(revision) else {
            throw HubError.badName(what: "revision", value: revision, rule: "a revision is a branch, tag or commit hash such as main, v1.0 or refs/pr/1")
        }
    }

    /// A commit hash as the hub sends it: 40 lowercase hexadecimal digits.
    static func isCommit(_ text: String) -> Bool {
        text.utf8.count == 40 && text.utf8.allSatisfy(isLowerHex)
    }

    /// The blob name for an ETag header value: `W/` and quotes removed, then 40 (git SHA-1) or
    /// 64 (LFS SHA-256) lowercase hexadecimal digits; nil for anything else.
    static func blobName(etag raw: String) -> String? {
        var text = Substring(raw.trimmingCharacters(in: .whitespaces))
        if text.hasPrefix("W/") { text = text.dropFirst(2) }
        if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") { text = text.dropFirst().dropLast() }
        guard text.utf8.count == 40 || text.utf8.count == 64, text.utf8.allSatisfy(isLowerHex) else { return nil }
        return String(text)
    }

    /// A repository file name: a relative path that stays in the snapshot folder, of
    /// `A-Z a-z 0-9 . _ - /` only.
    static func checkFile(_ name: String) throws {
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-/".contains($0)) }),
              WeightMap.isConfinedRelativePath(name), name.count <= 1024 else {
            throw HubError.badName(what: "file name", value: name, rule: "a repository file name is a relative path inside the model folder (no '..', no leading '/')")
        }
    }

    /// Percent-encoded for a URL path: everything but unreserved characters (and `/` when
    /// `keepSlash`).
    static func encoded(_ text: String, keepSlash: Bool) -> String {
        var allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        if keepSlash { allowed.insert("/") }
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte)
    }
}
