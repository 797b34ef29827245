import Foundation
import Heads
import SafeTensors
@testable import Training
import XCTest

/// Sliding-window inference against mmsegmentation's slide_inference run in PyTorch
/// (scripts/make_slide_fixtures.py): the same windows, the same averaged logits, the same labels.
final class SlidingWindowTests: XCTestCase {
    let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/slide.safetensors").path

    /// A window that would leave pixels in none is not made: a stride over the crop, a crop or
    /// stride under 1, whether built or decoded (a run's recorded settings).
    func testAWindowThatWouldLeavePixelsUncoveredCannotBeMade() throws {
        XCTAssertEqual(try SlidingWindow(crop: 16, stride: 16).stride, 16)
        XCTAssertEqual(try SlidingWindow(crop: 512).stride, 341)
        XCTAssertThrowsError(try SlidingWindow(crop: 16, stride: 17)) {
            XCTAssertTrue("\($0)".contains("--stride 17 is larger than the crop 16"), "\($0)")
        }
        for (crop, stride) in [(0, 1), (16, 0), (-4, -2), (1, nil)] as [(Int, Int?)] {
            XCTAssertThrowsError(try SlidingWindow(crop: crop, stride: stride), "crop \(crop), stride \(String(describing: stride))")
        }
        let decoder = JSONDecoder()
        XCTAssertThrowsError(try decoder.decode(SlidingWindow.self, from: Data(#"{"crop": 16, "stride": 32}"#.utf8)))
        XCTAssertThrowsError(try decoder.decode(SlidingWindow.self, from: Data(#"{"crop": 0, "stride": 0}"#.utf8)))
        let window = try SlidingWindow(crop: 48, stride: 20)
        XCTAssertEqual(try decoder.decode(SlidingWindow.self, from: JSONEncoder().encode(window)), window)
    }

    func testWindowsAveragingAndLabelsMatchPyTorch() throws {
        let file = try SafeTensorsFile(path: fixture)
        for name in ["wide", "small"] {
            let s = try file.ints("\(name).shape").map { Int($0) }
            let (h, w, crop, stride, k, outH, outW) = (s[0], s[1], s[2], s[3], s[4], s[5], s[6])
            let window = try SlidingWindow(crop: crop, stride: stride)
            let expected = try file.ints("\(name).windows").map { Int($0) }
            let windows = window.windows(height: h, width: w)
            XCTAssertEqual(windows.flatMap { [$0.y1, $0.x1, $0.y2, $0.x2] }, expected, name)
            let all = try file.floats("\(name).logits")
            var parts: [(window: SlidingWindow.Window, logits: [Float])] = []
            var offset = 0
            for win in windows {
                let n = win.height * win.width * k
                parts.append((win, Array(all[offset..<(offset + n)])))
                offset += n
            }
            let averaged = try SlidingWindow.average(parts, height: h, width: w, classes: k)
            let reference = try file.floats("\(name).averaged")
            XCTAssertEqual(averaged.count, reference.count)
            XCTAssertLessThanOrEqual(zip(averaged, reference).map { abs($0 - $1) }.max() ?? 1, 1e-5, name)
            let labels = try LinearSegmenter.upsampledArgmax(averaged, batch: 1, height: h, width: w, classes: k,
                                                             outputHeight: outH, outputWidth: outW)
            let torchLabels = try file.ints("\(name).labels").map { UInt8($0) }
            let agree = zip(labels, torchLabels).filter { $0 == $1 }.count
            XCTAssertEqual(agree, labels.count, "\(name): \(labels.count - agree) labels differ")
        }
    }

    func testMetasADE20KGridAndDefaults() throws {
        // 512 x 683 (ADE20K's short side at 512): 1 x 2 windows of 512, the second flush right.
        let window = try SlidingWindow(crop: 512)
        XCTAssertEqual(window.stride, 341)
        let windows = window.windows(height: 512, width: 683)
        XCTAssertEqual(windows.map { [$0.y1, $0.x1, $0.y2, $0.x2] }, [[0, 0, 512, 512], [0, 171, 512, 683]])
        XCTAssertThrowsError(try SlidingWindow.average([], height: 2, width: 2, classes: 1), "uncovered pixels are an error")
    }
}
