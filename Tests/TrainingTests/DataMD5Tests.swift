import Foundation
import Training
import XCTest

/// MD5 against the RFC 1321 test suite, and incremental hashing against one-shot hashing.
final class DataMD5Tests: XCTestCase {
    func testRFC1321Vectors() {
        let vectors: [(String, String)] = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
            ("12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a"),
        ]
        for (input, expected) in vectors {
            XCTAssertEqual(MD5.hex(Data(input.utf8)), expected, "md5(\"\(input)\")")
            var h = MD5()
            h.update(Array(input.utf8))
            XCTAssertEqual(h.hexDigest(), expected, "generic update, md5(\"\(input)\")")
        }
    }

    func testIncrementalMatchesOneShotAcrossBlockBoundaries() {
        var generator = SystemRandomNumberGenerator()
        for length in [55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 4097] {
            let bytes = (0 ..< length).map { _ in UInt8.random(in: 0 ... 255, using: &generator) }
            let whole = MD5.hex(Data(bytes))
            var h = MD5()
            var i = 0
            while i < length {
                let n = min(length - i, Int.random(in: 1 ... 70, using: &generator))
                if n % 2 == 0 { h.update(Data(bytes[i ..< i + n])) } else { h.update(bytes[i ..< i + n]) }
                i += n
            }
            XCTAssertEqual(h.hexDigest(), whole, "length \(length)")
            XCTAssertEqual(h.hexDigest(), whole, "digest() must not change the hasher")
        }
    }

    func testFileHashMatchesMd5sum() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-md5-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let data = Data((0 ..< 300_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 7) })
        try data.write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try MD5.hex(fileAt: path), MD5.hex(data))
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/md5sum") else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/md5sum")
        process.arguments = [path]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(String(text.prefix(32)), MD5.hex(data))
    }

    func testMissingFileIsATypedError() {
        XCTAssertThrowsError(try MD5.hex(fileAt: "/nonexistent/dinoprobe.tgz")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/dinoprobe.tgz"))
        }
    }
}
