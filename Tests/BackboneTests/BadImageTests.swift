@testable import Backbone
import Foundation
import Support
import TestSupport
import XCTest
import Images

/// Every kind of bad image gives an error naming the file and the reason; batches skip them.
final class BadImageTests: XCTestCase {
    var temp: URL!

    override func setUpWithError() throws {
        temp = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: temp) }

    func write(_ name: String, _ data: Data) throws -> String {
        let path = temp.appendingPathComponent(name).path
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    func assertBad(_ path: String, contains reason: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ImageDecoder.decode(path: path), file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(path), "error does not name the file: \(text)", file: file, line: line)
            XCTAssertTrue(text.lowercased().contains(reason.lowercased()), "expected '\(reason)' in: \(text)", file: file, line: line)
        }
    }

    func fixtureBytes(_ name: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: Fixtures.image(name))) }

    func testZeroByteFile() throws { assertBad(try write("empty.jpg", Data()), contains: "empty") }

    func testMissingFile() { assertBad(temp.appendingPathComponent("nope.jpg").path, contains: "no such file") }

    func testNonImage() throws { assertBad(try write("notes.jpg", Data("hello, I am text".utf8)), contains: "not an image") }

    func testUnsupportedFormatIsNamed() throws {
        assertBad(try write("anim.gif", Data("GIF89a".utf8) + Data(repeating: 0, count: 20)), contains: "GIF")
        assertBad(try write("pic.webp", Data("RIFF".utf8) + Data([0, 0, 0, 0]) + Data("WEBPVP8 ".utf8)), contains: "WebP")
    }

    func testTruncatedJPEG() throws {
        let data = try fixtureBytes("rgb_300x200.jpg")
        assertBad(try write("cut.jpg", data.prefix(data.count / 2)), contains: "truncated")
    }

    func testTruncatedPNG() throws {
        let data = try fixtureBytes("rgba_120x90.png")
        assertBad(try write("cut.png", data.prefix(data.count / 2)), contains: "truncated")
    }

    func testCorruptJPEG() throws {
        var data = try fixtureBytes("rgb_300x200.jpg")
        for i in 2..<200 { data[i] = 0x5A }  // header tables destroyed
        assertBad(try write("corrupt.jpg", data), contains: "corrupt")
    }

    func testCorruptPNG() throws {
        var data = try fixtureBytes("palette_100x140.png")
        for i in 40..<min(data.count, 400) { data[i] ^= 0xA5 }
        assertBad(try write("corrupt.png", data), contains: "corrupt")
    }

    func testDecompressionBombGuard() throws {
        let path = Fixtures.image("rgb_300x200.jpg")
        XCTAssertThrowsError(try ImageDecoder.decode(path: path, maxPixels: 10_000)) { error in
            XCTAssertTrue("\(error)".contains("over the limit"), "\(error)")
            XCTAssertTrue("\(error)".contains("raise the pixel limit"), "\(error)")
        }
        XCTAssertNoThrow(try ImageDecoder.decode(path: path, maxPixels: 60_000))
    }

    func testBatchExtractionSkipsBadFilesAndCarriesOn() throws {
        let good = Fixtures.image("rgb_300x200.jpg")
        let bad = try write("bad.png", Data("junk".utf8))
        let model = try DINOv3Model(folder: Fixtures.model("reg0"))
        let extractor = try FeatureExtractor(model: model, preprocessing: Preprocessing(size: 32), batchSize: 2)
        var indices: [Int] = []
        var skipped: [SkippedInput] = []
        var lastProgress = 0
        try extractor.run(paths: [good, bad, good, good], onBatch: { indices += $0.indices },
                          onSkip: { skipped.append($0) }, onProgress: { lastProgress = $0 })
        XCTAssertEqual(indices, [0, 2, 3])
        XCTAssertEqual(skipped.map(\.index), [1])
        XCTAssertTrue(skipped[0].reason.contains("not an image"))
        XCTAssertEqual(lastProgress, 4)
    }

    /// With one thread or two: the same batches, skips and features (bit for bit), in order.
    func testExtractionIsTheSameWithOneOrTwoThreads() throws {
        let previous = Torch.threads
        defer { Torch.setThreads(previous) }
        let good = ["rgb_300x200.jpg", "grey_97x131.jpg", "cmyk_150x120.jpg"].map(Fixtures.image)
        let bad = try write("bad.jpg", Data("junk".utf8))
        let paths = [good[0], bad, good[1], good[2], good[0], bad, good[1]]
        let model = try DINOv3Model(folder: Fixtures.model("gelu_reg4"))
        let extractor = try FeatureExtractor(model: model, preprocessing: Preprocessing(size: 32), batchSize: 3)
        func run(threads: Int) throws -> (indices: [Int], skipped: [Int], cls: [[UInt32]]) {
            Torch.setThreads(threads)
            var indices: [Int] = [], skipped: [Int] = [], cls: [[UInt32]] = []
            try extractor.run(paths: paths, onBatch: { batch in
                indices += batch.indices
                cls += batch.indices.indices.map { batch.output.cls($0).map(\.bitPattern) }
            }, onSkip: { skipped.append($0.index ?? -1) })
            return (indices, skipped, cls)
        }
        let two = try run(threads: 2)
        let one = try run(threads: 1)
        XCTAssertEqual(two.indices, [0, 2, 3, 4, 6])
        XCTAssertEqual(two.skipped, [1, 5])
        XCTAssertEqual(one.indices, two.indices)
        XCTAssertEqual(one.skipped, two.skipped)
        XCTAssertTrue(one.cls == two.cls, "the CLS tokens differ between one and two threads")
    }

    func testBatchedFeaturesEqualSingleImageFeatures() throws {
        let model = try DINOv3Model(folder: Fixtures.model("gelu_reg4"))
        let paths = ["rgb_300x200.jpg", "grey_97x131.jpg", "cmyk_150x120.jpg"].map(Fixtures.image)
        var batched: [Int: [Float]] = [:], single: [Int: [Float]] = [:]
        for (size, store) in [(3, 0), (1, 1)] {
            let extractor = try FeatureExtractor(model: model, preprocessing: Preprocessing(size: 64), batchSize: size)
            try extractor.run(paths: paths, onBatch: { batch in
                for (b, index) in batch.indices.enumerated() {
                    if store == 0 { batched[index] = Array(batch.output.cls(b)) } else { single[index] = Array(batch.output.cls(b)) }
                }
            })
        }
        for i in 0..<3 { XCTAssertLessThanOrEqual(maxAbsDiff(batched[i]!, single[i]!), 1e-5) }
    }
}
