import Foundation
import Datasets
import XCTest

/// Per-image outputs mirror the inputs' paths, so that no two inputs share an output name.
final class OutputNameTests: XCTestCase {
    func testNamesMirrorPathsAndNeverCollide() {
        let cwd = FileManager.default.currentDirectoryPath
        let names = ImageFiles.outputNames(for: [
            "photos/a/img_000.png", "photos/b/img_000.png",  // same name, two folders
            cwd + "/photos/c/x.jpg",                          // absolute inside the current folder
            "/elsewhere/data/y.jpeg",                          // outside it
            "same/pic.jpg", "same/pic.png",                    // same stem, two formats
            "noext",
        ])
        XCTAssertEqual(names, ["photos/a/img_000", "photos/b/img_000", "photos/c/x", "elsewhere/data/y",
                               "same/pic.jpg", "same/pic.png", "noext"])
        XCTAssertEqual(Set(names).count, names.count)
    }

    func testAFileNamedTwiceIsListedOnce() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("names-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/sub/a.png", contents: Data([0x89, 0x50, 0x4E, 0x47])))
        let listing = try ImageFiles.expand([dir + "/sub/a.png", dir, dir + "/sub/../sub/a.png"])
        XCTAssertEqual(listing.images, [dir + "/sub/a.png"])
    }
}
