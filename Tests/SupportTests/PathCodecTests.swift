import Support
import XCTest

final class PathCodecTests: XCTestCase {
    func testEveryByteSequenceRoundTrips() {
        var random = SeededRandom(seed: 7)
        for _ in 0..<2000 {
            let count = random.int(below: 12)
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            XCTAssertEqual(PathCodec.bytes(of: PathCodec.string(fromBytes: bytes)), bytes)
        }
    }

    func testValidUTF8IsKeptAsIs() {
        let name = "café-日本-🙂.jpg"
        XCTAssertEqual(PathCodec.string(fromBytes: Array(name.utf8)), name)
        XCTAssertEqual(PathCodec.bytes(of: name), Array(name.utf8))
    }

    func testInvalidBytesAndEscapeLookalikesAreUnambiguous() {
        let latin1: [UInt8] = Array("caf".utf8) + [0xE9] + Array(".jpg".utf8)
        let s = PathCodec.string(fromBytes: latin1)
        XCTAssertEqual(PathCodec.display(s), "caf\\xE9.jpg")
        // A real U+10FF41 in a name is escaped byte by byte, so it cannot be confused with 0x41.
        let lookalike = Array("\u{10FF41}".utf8)
        XCTAssertEqual(PathCodec.bytes(of: PathCodec.string(fromBytes: lookalike)), lookalike)
        XCTAssertNotEqual(PathCodec.string(fromBytes: lookalike), PathCodec.string(fromBytes: [0x41]))
        // Overlong forms and surrogates are not valid UTF-8.
        for bad: [UInt8] in [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80]] {
            XCTAssertEqual(PathCodec.bytes(of: PathCodec.string(fromBytes: bad)), bad)
            XCTAssertEqual(PathCodec.string(fromBytes: bad).unicodeScalars.count, bad.count)
        }
    }

    func testNULIsRefused() {
        XCTAssertNil(PathCodec.withCString("a\u{0}b") { _ in 1 })
    }
}
