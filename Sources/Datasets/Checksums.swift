import Crypto
import Foundation
import Support

/// Checksums of downloads, computed with swift-crypto: MD5 (what fast.ai publishes for
/// Imagenette; not for security).
public enum Checksum {
    /// An MD5 computed as bytes arrive.
    public struct MD5Stream {
        private var hasher = Insecure.MD5()
        public init() {}
        public mutating func update(_ data: Data) { hasher.update(data: data) }
        /// 32 hex digits (does not consume the stream).
        public func hexDigest() -> String { hex(hasher.finalize()) }
    }

    public static func md5Hex(_ data: Data) -> String { hex(Insecure.MD5.hash(data: data)) }

    /// The MD5 of a regular file, read in place.
    public static func md5Hex(ofFile path: String) throws -> String {
        let file = try MappedFile(path: path)
        var hasher = Insecure.MD5()
        file.withBytes { hasher.update(bufferPointer: $0) }
        return hex(hasher.finalize())
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
