import Foundation

/// Checks that bytes are the blob an ETag names: an LFS SHA-256 (64 hex digits) is the
/// SHA-256 of the bytes; a git SHA-1 (40) is the SHA-1 of `blob <size>\0` and the bytes.
struct BlobHasher {
    private var digest: Digest

    init(etag: String, size: Int64) {
        if etag.count == 64 {
            digest = Digest(.sha256)
        } else {
            digest = Digest(.sha1)
            digest.update(Data("blob \(size)\u{0}".utf8))
        }
    }

    mutating func update(_ data: Data) { digest.update(data) }

    /// The digest in lowercase hex (does not consume the hasher).
    func hex() -> String { digest.hex() }
}
