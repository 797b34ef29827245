import Datasets
import Foundation
import Support
import XCTest

/// The download checksums (swift-crypto's MD5) against the RFC 1321 test suite, streamed and
/// whole, and on a file.
final class DataMD5Tests: XCTestCase {
    let vectors: [(String, String)] = [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
        ("12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a"),
    ]

    func testRFC1321VectorsWholeStreamedAndFromAFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-md5-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (i, (input, expected)) in vectors.enumerated() {
            let data = Data(input.utf8)
            XCTAssertEqual(Checksum.md5Hex(data), expected, "md5(\"\(input)\")")
            var stream = Checksum.MD5Stream()
            var offset = 0
            while offset < data.count {
                let n = min(data.count - offset, 1 + i * 7 % 13)
                stream.update(data.subdata(in: offset..<(offset + n)))
                offset += n
            }
            XCTAssertEqual(stream.hexDigest(), expected, "streamed md5(\"\(input)\")")
            let path = folder.appendingPathComponent("v\(i)").path
            try data.write(to: URL(fileURLWithPath: path))
            XCTAssertEqual(try Checksum.md5Hex(ofFile: path), expected)
        }
    }

    func testMissingFileIsATypedError() {
        XCTAssertThrowsError(try Checksum.md5Hex(ofFile: "/nonexistent/dinoprobe.tgz")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/dinoprobe.tgz"))
        }
    }
}
