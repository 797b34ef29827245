import Foundation
import SafeTensors
import Support
import TestSupport
import XCTest

/// Class 1: every size, offset, shape product and header length read from a file is checked;
/// ambiguous and overlapping containers are refused.
final class ContainerArithmeticTests: HostileTestCase {
    func open(_ data: Data) throws -> SafeTensorsFile { try SafeTensorsFile(bytes: data, path: "hostile.safetensors") }

    func testHeaderLengthsThatDoNotFit() {
        // A length field over the cap, over the file, the full 64 bits, and a file shorter than it.
        assertRefused(try open(Bytes.safetensors(header: "{}", declaredLength: UInt64.max)), ["more than the 100000000 allowed"])
        assertRefused(try open(Bytes.safetensors(header: "{}", declaredLength: 1 << 62)), ["allowed"])
        assertRefused(try open(Bytes.safetensors(header: "{}", declaredLength: 5_000)), ["does not fit"])
        assertRefused(try open(Data([1, 2, 3])), ["shorter than the 8-byte header length"])
        assertRefused(try open(Bytes.safetensors(header: "{}", declaredLength: 0)), ["does not fit"])
    }

    func testOffsetsAndShapesThatOverflowOrLie() {
        let data = Bytes.floats([1, 2])
        let cases: [(String, String)] = [
            ("{\(Bytes.entry("a", shape: [4294967296, 4294967296], offsets: (0, 8)))}", "overflows"),
            ("{\(Bytes.entry("a", shape: [9223372036854775807, 2], offsets: (0, 8)))}", "overflows"),
            ("{\(Bytes.entry("a", shape: [2], offsets: (0, 9223372036854775807)))}", "does not match its shape"),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,18446744073709551615]}}", "not a non-negative integer that fits"),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", "not a non-negative integer"),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", "not a non-negative integer"),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2e0],\"data_offsets\":[0,8]}}", "not a non-negative integer"),
            ("{\(Bytes.entry("a", shape: [2], offsets: (8, 0)))}", "does not match its shape"),
            ("{\(Bytes.entry("a", shape: [3], offsets: (0, 12)))}", "outside the 8-byte data section"),
            ("{\(Bytes.entry("a", shape: [1], offsets: (0, 4)))}", "the tensors cover 4"),
            ("{\(Bytes.entry("a", shape: [1], offsets: (4, 8)))}", "unused bytes before tensor 'a'"),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", "more than 16 values"),
            ("{\"a\":{\"dtype\":\"F4\",\"shape\":[2],\"data_offsets\":[0,8]}}", "dtype F4"),
        ]
        for (header, fragment) in cases {
            assertRefused(try open(Bytes.safetensors(header: header, data: data)), [fragment])
        }
    }

    func testOverlappingRangesAndDuplicateKeysAreRefused() {
        let data = Bytes.floats([1, 2])
        // Two tensors sharing bytes: results would depend on which one a reader trusts.
        let overlap = "{\(Bytes.entry("a", shape: [2], offsets: (0, 8))),\(Bytes.entry("b", shape: [1], offsets: (4, 8)))}"
        assertRefused(try open(Bytes.safetensors(header: overlap, data: data)), ["overlaps the data of another tensor"])
        let duplicate = "{\(Bytes.entry("a", shape: [1], offsets: (0, 4))),\(Bytes.entry("a", shape: [1], offsets: (4, 8)))}"
        assertRefused(try open(Bytes.safetensors(header: duplicate, data: data)), ["the key 'a' appears twice"])
        let metadata = "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"},\(Bytes.entry("a", shape: [2], offsets: (0, 8)))}"
        assertRefused(try open(Bytes.safetensors(header: metadata, data: data)), ["__metadata__ has the key 'k' twice"])
        let field = "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,8]}}"
        assertRefused(try open(Bytes.safetensors(header: field, data: data)), ["has 'dtype' twice"])
    }

    func testMalformedHeadersFailFastWithoutTrapping() {
        let data = Bytes.floats([1, 2])
        let deep = String(repeating: "[", count: 100_000)
        let cases: [(String, String)] = [
            ("{\"a\":\(deep)", "not an object"),
            ("[1,2]", "must be a JSON object"),
            ("{\"__metadata__\":{\"k\":3}}", "is not a string"),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"extra\":1}}", "unknown field 'extra'"),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", "lacks dtype, shape or a pair of data_offsets"),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", "lacks dtype"),
            ("{} garbage", "unexpected bytes after the header"),
            ("{\"\\ud800\":1}", "unpaired surrogate"),
            ("{\"a\u{01}\":1}", "raw control character"),
        ]
        for (header, fragment) in cases {
            assertRefused(try open(Bytes.safetensors(header: header, data: data)), [fragment])
        }
        var invalidUTF8 = Bytes.safetensors(header: "{\"ab\":1}")
        invalidUTF8[10] = 0xFF
        assertRefused(try open(invalidUTF8), ["invalid UTF-8"])
    }

    func testTooManyTensorsIsBoundedNotAllocated() {
        // 70,000 empty tensors: over the cap of 65,536, refused while parsing.
        let entries = (0..<70_000).map { Bytes.entry("t\($0)", shape: [0], offsets: (0, 0)) }.joined(separator: ",")
        assertRefused(try open(Bytes.safetensors(header: "{\(entries)}")), ["more than 65536 tensors"], within: 5)
    }

    func testHeaderAtTheCapParsesWithinASmallMemoryBudget() throws {
        // A 64 MB header (one long metadata string): parsing keeps about one copy of it.
        let value = String(repeating: "x", count: 64 << 20)  // near the cap
        let data = Bytes.safetensors(header: "{\"__metadata__\":{\"k\":\"\(value)\"}}")
        let before = residentMegabytes()
        let file = try open(data)
        let after = residentMegabytes()
        XCTAssertEqual(file.metadata["k"]?.utf8.count, 64 << 20)
        XCTAssertLessThan(after - before, 3 * 64 + 16, "parsing a 64 MB header took \(after - before) MB")
    }

    func testValidFilesStillRead() throws {
        let data = Bytes.floats([1, 2, 3])
        let header = "{\"__metadata__\":{\"k\":\"v\"},\(Bytes.entry("b", shape: [1], offsets: (8, 12))),\(Bytes.entry("a", shape: [2], offsets: (0, 8))),\(Bytes.entry("e", shape: [0, 7], offsets: (12, 12)))}"
        let file = try open(Bytes.safetensors(header: header, data: data))
        XCTAssertEqual(file.names, ["a", "b", "e"])
        XCTAssertEqual(try file.floats("a"), [1, 2])
        XCTAssertEqual(try file.floats("b"), [3])
        XCTAssertEqual(try file.floats("e"), [])
        XCTAssertEqual(file.metadata, ["k": "v"])
    }

    /// Resident memory of this process in MB.
    func residentMegabytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kb / 1024
    }
}
