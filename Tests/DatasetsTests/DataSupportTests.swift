import Foundation
import Support
import Datasets
import XCTest
import Images

/// Shared helpers for the data set tests: a fresh temporary folder per test and small writers.
class DataTempFolderCase: XCTestCase {
    var temp: String!

    override func setUpWithError() throws {
        temp = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-data-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: temp) }

    /// Writes `content` at `temp/relative`, creating folders; returns the absolute path.
    @discardableResult
    func write(_ relative: String, _ content: String = "x") throws -> String {
        let path = temp + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(content.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func mkdir(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: temp + "/" + relative, withIntermediateDirectories: true)
    }

    /// A flat-grey RGB image file (PNG, or JPEG when the name ends in .jpg/.jpeg).
    @discardableResult
    func writeImage(_ relative: String, width: Int, height: Int) throws -> String {
        let path = temp + "/" + relative
        let image = try RGBImage(width: width, height: height, pixels: [UInt8](repeating: 128, count: width * height * 3))
        if ["jpg", "jpeg"].contains((relative as NSString).pathExtension.lowercased()) {
            try JPEGEncoder.write(image, to: path)
        } else {
            try PNGEncoder.write(image, to: path)
        }
        return path
    }

    /// A greyscale mask PNG (value = label).
    @discardableResult
    func writeGreyMask(_ relative: String, width: Int, height: Int, labels: [UInt8]) throws -> String {
        let path = temp + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try PNGEncoder.encode(pixels: labels, width: width, height: height, channels: 1).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A palette mask PNG (index = label) with the 256-entry VOC colour map.
    @discardableResult
    func writePaletteMask(_ relative: String, width: Int, height: Int, labels: [UInt8]) throws -> String {
        let path = temp + "/" + relative
        try PNGEncoder.writeIndexed(labels, width: width, height: height, palette: Palette.voc(count: 256), to: path)
        return path
    }

    /// Asserts that `body` throws an error whose message contains every one of `parts`.
    func assertThrows<T>(_ body: @autoclosure () throws -> T, _ parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            let text = "\(error)"
            for part in parts {
                XCTAssertTrue(text.contains(part), "expected '\(part)' in: \(text)", file: file, line: line)
            }
        }
    }

    /// Entries of a folder, hidden ones included, sorted.
    func entries(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }
}
