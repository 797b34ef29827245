import Foundation
import Support
import XCTest

/// The strict JSON reader and decoder: what RFC 8259 allows is read, nothing else is.
final class StrictJSONTests: XCTestCase {
    func parse(_ text: String) throws -> JSONValue { try StrictJSON.parse(Data(text.utf8)) }

    func testValidDocuments() throws {
        XCTAssertEqual(try parse(#" {"a": [1, -2.5e3, true, false, null, "\u00e9\ud83d\ude00\n"], "b": {}} "#)["a"],
                       .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null, .string("é😀\n")]))
        XCTAssertEqual(try parse("12").int, 12)
        XCTAssertNil(try parse("1.5").int)
        XCTAssertEqual(try parse("1.5").double, 1.5)
        XCTAssertNil(try parse("1e400").double)
    }

    func testInvalidDocumentsAreRefused() {
        for bad in ["", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "+1", "NaN", "'a'", "{\"a\" 1}", "[1] 2",
                    "\"\\x\"", "\"\u{01}\"", "{\"a\":1,\"a\":2}", String(repeating: "[", count: 100) + String(repeating: "]", count: 100)] {
            XCTAssertThrowsError(try parse(bad), bad)
        }
    }

    func testDecodingIsExact() throws {
        struct Config: Decodable, Equatable { var n: Int; var x: Double; var flag: Bool; var name: String; var list: [UInt8] }
        let ok = try StrictJSONDecoder.decode(Config.self, from: Data(#"{"n": 384.0, "x": 1e-5, "flag": true, "name": "s", "list": [1, 255]}"#.utf8))
        XCTAssertEqual(ok, Config(n: 384, x: 1e-5, flag: true, name: "s", list: [1, 255]))
        for bad in [#"{"n": 3.5, "x": 1, "flag": true, "name": "s", "list": []}"#,
                    #"{"n": 99999999999999999999, "x": 1, "flag": true, "name": "s", "list": []}"#,
                    #"{"n": 1, "x": 1e999, "flag": true, "name": "s", "list": []}"#,
                    #"{"n": 1, "x": 1, "flag": 1, "name": "s", "list": []}"#,
                    #"{"n": 1, "x": 1, "flag": true, "name": "s", "list": [256]}"#] {
            XCTAssertThrowsError(try StrictJSONDecoder.decode(Config.self, from: Data(bad.utf8)), bad)
        }
    }
}
