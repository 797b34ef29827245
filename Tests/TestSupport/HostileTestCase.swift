#if canImport(XCTest)
import Foundation
import XCTest

/// Builders of hostile files, and a scratch folder per test (shared by the test targets that
/// feed modules hostile input; compiled only where XCTest is).
open class HostileTestCase: XCTestCase {
    public var temp = ""

    override open func setUpWithError() throws {
        temp = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-hostile-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
    }

    override open func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: temp)
    }

    /// Writes bytes to `relative` inside the scratch folder; returns the full path.
    @discardableResult
    public func write(_ relative: String, _ bytes: Data) throws -> String {
        let path = temp + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try bytes.write(to: URL(fileURLWithPath: path))
        return path
    }

    @discardableResult
    public func write(_ relative: String, _ text: String) throws -> String { try write(relative, Data(text.utf8)) }

    /// Asserts that `body` throws an error whose description contains every fragment, and
    /// returns the description. Timing is checked too: a refusal must be quick.
    @discardableResult
    public func assertRefused(_ body: @autoclosure () throws -> Any, _ fragments: [String], within seconds: Double = 2,
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
#endif
