import Foundation
import Support
import XCTest

/// Builders of hostile files, and a scratch folder per test.
class HostileTestCase: XCTestCase {
    var temp = ""

    override func setUpWithError() throws {
        temp = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-hostile-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: temp)
    }

    /// Writes bytes to `relative` inside the scratch folder; returns the full path.
    @discardableResult
    func write(_ relative: String, _ bytes: Data) throws -> String {
        let path = temp + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try bytes.write(to: URL(fileURLWithPath: path))
        return path
    }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String { try write(relative, Data(text.utf8)) }

    /// Asserts that `body` throws an error whose description contains every fragment, and
    /// returns the description. Timing is checked too: a refusal must be quick.
    @discardableResult
    func assertRefused(_ body: @autoclosure () throws -> Any, _ fragments: [String], within seconds: Double = 2,
                       file: StaticString = #filePath, line: UInt = #line) -> String {
        let start = Date()
        var message = ""
        XCTAssertThrowsError(try body(), file: file, line: line) { message = "\($0)" }
        for fragment in fragments {
            XCTAssertTrue(message.contains(fragment), "expected '\(fragment)' in: \(message)", file: file, line: line)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), seconds, "refusal took too long: \(message)", file: file, line: line)
        return message
    }
}

/// Bytes of safetensors files, well-formed or deliberately not.
enum Bytes {
    /// A file with the given raw header text and data section (the length field is the header's).
    static func safetensors(header: String, data: Data = Data(), declaredLength: UInt64? = nil) -> Data {
        var header = Data(header.utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var length = (declaredLength ?? UInt64(header.count)).littleEndian
        var out = Data(bytes: &length, count: 8)
        out.append(header)
        out.append(data)
        return out
    }

    /// One F32 tensor entry's JSON.
    static func entry(_ name: String, shape: [Int], offsets: (Int, Int), dtype: String = "F32") -> String {
        "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":[\(offsets.0),\(offsets.1)]}"
    }

    static func floats(_ values: [Float]) -> Data { values.withUnsafeBytes { Data($0) } }
}
