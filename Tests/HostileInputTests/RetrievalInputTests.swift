import Foundation
import Support
import TorchFile
@testable import Training
import XCTest

/// Hostile revisitop ground truths and query boxes: refused by name with the reason.
final class RetrievalInputTests: XCTestCase {
    func refusal(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try PlainPickle.parse(bytes, path: "gnd_x.pkl")
            XCTFail("accepted", file: file, line: line)
            return ""
        } catch { return "\(error)" }
    }

    func testGlobalsAndCallsAreRefused() {
        let global: [UInt8] = [0x80, 3] + Array("cos\nsystem\n".utf8) + [0x58, 2, 0, 0, 0] + Array("ls".utf8) + [0x85, 0x52, 0x2E]
        XCTAssertTrue(refusal(global).contains("names or calls a Python object"))
        let stackGlobal: [UInt8] = [0x80, 4, 0x8C, 2] + Array("os".utf8) + [0x8C, 6] + Array("system".utf8) + [0x93, 0x2E]
        XCTAssertTrue(refusal(stackGlobal).contains("0x93"))
    }

    func testDeepNestingHugeLengthsAndExpansionAreRefused() {
        let deep: [UInt8] = [0x80, 3] + Array(repeating: [0x5D, 0x28], count: 40).flatMap { $0 } + Array(repeating: 0x65, count: 40) + [0x2E]
        XCTAssertTrue(refusal(deep).contains("nested more than"), refusal(deep))
        XCTAssertTrue(refusal([0x80, 3, 0x58, 0xFF, 0xFF, 0xFF, 0xFF, 0x41, 0x2E]).contains("truncated"))
        // A list holding a shared list twice, 30 levels up: 2^30 values once expanded.
        var bomb: [UInt8] = [0x80, 3, 0x5D, 0x28, 0x5D, 0x94]
        for level in 0..<30 { bomb += [0x5D, 0x28, 0x68, UInt8(level), 0x68, UInt8(level), 0x65, 0x94] }
        bomb += [0x65, 0x2E]
        XCTAssertTrue(refusal(bomb).contains("expands into more than"), refusal(bomb))
    }

    func testGroundTruthFieldsAreChecked() throws {
        func parse(_ value: PlainPickle) -> String {
            do { _ = try RetrievalGroundTruth.parse(value, name: "x", path: "gnd_x.pkl"); return "" } catch { return "\(error)" }
        }
        func gt(imlist: [String] = ["a", "b"], q: String = "q", easy: [Int] = [0], bbx: PlainPickle = .list([.float(0), .float(0), .float(1), .float(1)])) -> PlainPickle {
            .dict(["imlist": .list(imlist.map(PlainPickle.string)), "qimlist": .list([.string(q)]),
                   "gnd": .list([.dict(["easy": .list(easy.map(PlainPickle.int)), "hard": .list([]), "junk": .list([]), "bbx": bbx])])])
        }
        XCTAssertEqual(parse(gt()), "")
        XCTAssertTrue(parse(gt(easy: [2])).contains("indices into the 2 database images"))
        XCTAssertTrue(parse(gt(easy: [-1])).contains("indices into"))
        XCTAssertTrue(parse(gt(imlist: ["a", "../../etc/passwd"])).contains("passwd"))
        XCTAssertTrue(parse(gt(q: "/abs/path")).contains("name"))
        XCTAssertTrue(parse(gt(bbx: .list([.float(0)]))).contains("bbx must be 4 numbers"))
        XCTAssertTrue(parse(.list([])).contains("imlist"))
    }

    func testBoxesOutsideTheImageOrNaNAreRefused() {
        for box in [[Double.nan, 0, 5, 5], [0, 0, 11, 5], [-1, 0, 5, 5], [4, 4, 4, 8], [0, 0, .infinity, 5], [0, 0, 5]] {
            XCTAssertThrowsError(try QueryCrops.pixelBox(box, width: 10, height: 10), "\(box)")
        }
        XCTAssertNoThrow(try QueryCrops.pixelBox([0, 0, 10, 10], width: 10, height: 10))
    }
}

/// Query and database names that reach outside `jpg/` through a link are refused by name.
final class RetrievalConfinementTests: XCTestCase {
    func testLinkedQueryOutsideTheRootIsRefused() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("retrieval-link-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/jpg", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/outside", withIntermediateDirectories: true)
        try Data([0xFF, 0xD8]).write(to: URL(fileURLWithPath: root + "/outside/secret.jpg"))
        try FileManager.default.createSymbolicLink(atPath: root + "/jpg/q.jpg", withDestinationPath: root + "/outside/secret.jpg")
        let gt = RetrievalGroundTruth(name: "x", imlist: ["a"], queries: [RetrievalQuery(name: "q", box: nil, easy: [0], hard: [], junk: [])])
        XCTAssertThrowsError(try QueryCrops.make(gt, images: ConfinedFolder(root + "/jpg"), gndPath: root + "/gnd_x.pkl", folder: root + "/crops",
                                                 maxPixels: 1 << 20)) { error in
            XCTAssertTrue("\(error)".contains("'q.jpg'"), "\(error)")
        }
    }
}
