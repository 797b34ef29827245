import COpenSSL
import Foundation

/// SHA-256, SHA-1 and MD5 of a stream of bytes, through OpenSSL's libcrypto. A value: a copy
/// goes on hashing independently of the original.
public struct Digest: @unchecked Sendable {  // the context is copied before any shared one is changed
    public enum Algorithm: Sendable { case sha256, sha1, md5 }

    /// An EVP context, freed with its owner.
    private final class Context {
        let pointer: OpaquePointer
        init(copying other: OpaquePointer? = nil, algorithm: Algorithm? = nil) {
            pointer = EVP_MD_CTX_new()!
            if let other { EVP_MD_CTX_copy_ex(pointer, other) }
            if let algorithm {
                let md = switch algorithm { case .sha256: EVP_sha256(); case .sha1: EVP_sha1(); case .md5: EVP_md5() }
                EVP_DigestInit_ex(pointer, md, nil)
            }
        }
        deinit { EVP_MD_CTX_free(pointer) }
    }

    private var context: Context

    public init(_ algorithm: Algorithm) { context = Context(algorithm: algorithm) }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        if !isKnownUniquelyReferenced(&context) { context = Context(copying: context.pointer) }
        EVP_DigestUpdate(context.pointer, bytes.baseAddress, bytes.count)
    }

    public mutating func update(_ data: Data) {
        if !isKnownUniquelyReferenced(&context) { context = Context(copying: context.pointer) }
        let pointer = context.pointer
        data.withUnsafeBytes { _ = EVP_DigestUpdate(pointer, $0.baseAddress, $0.count) }
    }

    /// The digest of the bytes so far (the stream can go on).
    public func bytes() -> [UInt8] {
        let done = Context(copying: context.pointer)
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var count: UInt32 = 0
        EVP_DigestFinal_ex(done.pointer, &out, &count)
        return Array(out.prefix(Int(count)))
    }

    /// The digest so far in lowercase hex.
    public func hex() -> String { bytes().map { String(format: "%02x", $0) }.joined() }

    /// The digest of `data` in lowercase hex.
    public static func hex(_ algorithm: Algorithm, of data: Data) -> String {
        var digest = Digest(algorithm)
        digest.update(data)
        return digest.hex()
    }
}
