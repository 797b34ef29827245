import Foundation
import Hub
import Support

/// Checksums of downloads, computed with OpenSSL (Hub's `Digest`): MD5 (what fast.ai publishes for
/// Imagenette; not for security).
public enum Checksum {
    /// An MD5 computed as bytes arrive.
    public struct MD5Stream {
        private var hasher = Digest(.md5)
        public init() {}
        public mutating func update(_ data: Data) { hasher.update(data) }
        /// 32 hex digits (does not consume the stream).
        public func hexDigest() -> String { hasher.hex() }
    }

    public static func md5Hex(_ data: Data) -> String { Digest.hex(.md5, of: data) }

    /// The MD5 of a regular file, read in place.
    public static func md5Hex(ofFile path: String) throws -> String {
        let file = try MappedFile(path: path)
        var hasher = Digest(.md5)
        file.withBytes { hasher.update($0) }
        return hasher.hex()
    }
}
