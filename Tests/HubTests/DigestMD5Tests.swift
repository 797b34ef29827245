import Hub
import Foundation
import XCTest

/// The download checksums (`Digest`'s MD5, through OpenSSL) against the RFC 1321 test suite,
/// streamed and whole.
final class DigestMD5Tests: XCTestCase {
    let vectors: [(String, String)] = [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
        ("12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a"),
    ]

    func testRFC1321VectorsWholeAndStreamed() {
        for (i, (input, expected)) in vectors.enumerated() {
            let data = Data(input.utf8)
            XCTAssertEqual(Digest.hex(.md5, of: data), expected, "md5(\"\(input)\")")
            var stream = Digest(.md5)
            var offset = 0
            while offset < data.count {
                let n = min(data.count - offset, 1 + i * 7 % 13)
                stream.update(data.subdata(in: offset..<(offset + n)))
                offset += n
            }
            XCTAssertEqual(stream.hex(), expected, "streamed md5(\"\(input)\")")
        }
    }
}
