import Crypto
import Foundation

/// Checks that bytes are the blob an ETag names: an LFS SHA-256 (64 hex digits) is the
/// SHA-256 of the bytes; a git SHA-1 (40) is the SHA-1 of `blob <size>\0` and the bytes.
struct BlobHasher {
    private var sha256: SHA256?
    private var sha1: Insecure.SHA1?

    init(etag: String, size: Int64) {
        if etag.count == 64 {
            sha256 = SHA256()
        } else {
            var git = Insecure.SHA1()
            git.update(data: Data("blob \(size)\u{0}".utf8))
            sha1 = git
        }
    }

    mutating func update(_ data: Data) {
        sha256?.update(data: data)
        sha1?.update(data: data)
    }

    /// The digest in lowercase hex (does not consume the hasher).
    func hex() -> String {
        let bytes: [UInt8] = sha256.map { Array($0.finalize()) } ?? sha1.map { Array($0.finalize()) } ?? []
        return bytes.map { String(format: "%02x", $0) }.joined()
    }
}
