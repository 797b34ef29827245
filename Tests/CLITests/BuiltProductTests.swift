import Foundation
import TestSupport
import XCTest

/// The CLI tests run the executable the last build made, never an older one.
final class BuiltProductTests: XCTestCase {
    func testTheExecutablesAreNoOlderThanTheirSourcesAndObjects() throws {
        XCTAssertNoThrow(try BuiltProduct.checked("dinoprobe"))
        XCTAssertNoThrow(try BuiltProduct.checked("custom-head"))
    }

    /// A product older than one of the objects it is linked from is refused.
    func testAStaleProductIsRefused() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir.path + "/build/tool.product", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: dir.path + "/build/Mod.build", withIntermediateDirectories: true)
        let (object, product) = (dir.path + "/build/Mod.build/a.swift.o", dir.path + "/build/tool")
        try (object + "\n").write(toFile: dir.path + "/build/tool.product/Objects.LinkFileList", atomically: true, encoding: .utf8)
        for path in [object, product] { XCTAssertTrue(fm.createFile(atPath: path, contents: Data())) }
        let now = Date()
        func age(_ path: String, _ seconds: Double) throws { try fm.setAttributes([.modificationDate: now.addingTimeInterval(-seconds)], ofItemAtPath: path) }
        func check() -> Result<URL, BuiltProduct.Stale> {
            BuiltProduct.check("tool", in: dir.appendingPathComponent("build"))
        }
        try age(object, 20); try age(product, 10)
        XCTAssertEqual(try check().get().path, product)
        try age(object, 5)
        XCTAssertThrowsError(try check().get()) { XCTAssertTrue("\($0)".contains("older than \(object)"), "\($0)") }
        XCTAssertThrowsError(try BuiltProduct.check("missing", in: dir).get()) { XCTAssertTrue("\($0)".contains("no missing in"), "\($0)") }
    }
}
