import Foundation
import Images
import SafeTensors
import XCTest
@testable import Training

/// Label propagation against DINO's eval_video_segmentation.py run in PyTorch on the same features
/// (scripts/make_propagation_fixtures.py): the same soft labels on the patch grid, the same label maps.
final class LabelPropagationTests: XCTestCase {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/propagation").path

    func testPropagationMatchesDINO() throws {
        let file = try SafeTensorsFile(path: folder + "/features.safetensors")
        let caseJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/case.json"))) as! [String: Any]
        let int = { (key: String) in caseJSON[key] as! Int }
        var settings = PropagationSettings()
        (settings.context, settings.radius, settings.topk, settings.scaleSize) = (int("context"), int("radius"), int("topk"), int("scale_size"))
        let annotation = try MaskDecoder.decode(path: folder + "/first.png")
        let size = try settings.inputSize(width: annotation.width, height: annotation.height)
        let patch = int("patch"), (h, w) = (size.height / patch, size.width / patch)
        XCTAssertEqual([h, w], caseJSON["grid"] as! [Int])
        let (classes, oneHot) = PropagationLabels.oneHot(annotation, gridHeight: h, gridWidth: w)
        XCTAssertEqual(classes, int("classes"))
        XCTAssertEqual(oneHot, try file.floats("first_one_hot"))
        let features = try file.floats("features"), soft = try file.floats("soft"), maps = try file.ints("maps")
        let cells = h * w, dim = features.count / (cells * 7), frame = cells * dim
        var propagator = try LabelPropagator(settings: settings, gridHeight: h, gridWidth: w, dim: dim,
                                             firstFeatures: Array(features[0..<frame]), firstLabels: oneHot)
        var worst: Float = 0, differing = 0
        for t in 1..<7 {
            let labels = try propagator.propagate(Array(features[(t * frame)..<((t + 1) * frame)]))
            let expected = soft[((t - 1) * classes * cells)..<(t * classes * cells)]
            worst = max(worst, zip(labels, expected).map { abs($0 - $1) }.max() ?? 0)
            let map = try PropagationLabels.labelMap(labels, classes: classes, gridHeight: h, gridWidth: w, patch: patch,
                                                     width: annotation.width, height: annotation.height)
            let pixels = annotation.width * annotation.height
            differing += zip(map.labels, maps[((t - 1) * pixels)..<(t * pixels)]).filter { Int64($0) != $1 }.count
        }
        XCTAssertLessThan(worst, 1e-5, "soft labels")
        XCTAssertEqual(differing, 0, "label-map pixels differing from DINO's")
        print("propagation parity: soft labels max |diff| \(worst), label-map pixels differing \(differing)")
    }

    func testQueueHoldsOnlyContextFrames() throws {
        var settings = PropagationSettings()
        (settings.context, settings.radius, settings.topk) = (2, 1, 1)
        // Frame t's features point at t's one-hot direction: the first frame and the last `context` frames are the only sources.
        func frame(_ t: Int) -> [Float] { (0..<4).flatMap { _ in (0..<8).map { $0 == t ? Float(1) : 0 } } }
        var p = try LabelPropagator(settings: settings, gridHeight: 2, gridWidth: 2, dim: 8, firstFeatures: frame(0),
                                    firstLabels: [1, 1, 1, 1, 0, 0, 0, 0])
        for t in 1..<6 { _ = try p.propagate(frame(t)) }
        XCTAssertEqual(p.queuedFrames, 2)
        XCTAssertEqual(LabelPropagator.kthLargest([3, 1, 2], 2), 2)
        XCTAssertEqual(LabelPropagator.kthLargest([3, 1], 3), 0)
        XCTAssertEqual(LabelPropagator.neighbourhoods(height: 3, width: 3, radius: 1)[0], [0, 1, 3, 4])
    }

    func testInputSizeFollowsReadFrame() throws {
        let s = PropagationSettings()
        XCTAssertEqual(try s.inputSize(width: 854, height: 480).width, 832)
        XCTAssertEqual(try s.inputSize(width: 480, height: 854).height, 832)
        XCTAssertEqual(try s.inputSize(width: 500, height: 500).width, 448)  // 480 // 64 * 64, as read_frame
    }
}

/// read_frame's resize: cv2.resize (INTER_LINEAR, 8-bit) reproduced to the bit on fixtures made by OpenCV.
final class OpenCVResizeTests: XCTestCase {
    func testMatchesCv2Resize() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/propagation").path
        let file = try SafeTensorsFile(path: folder + "/resize.safetensors")
        let image = try RGBImage(width: 61, height: 43, pixels: try file.ints("image").map { UInt8($0) })
        var differing = 0
        for name in file.names where name != "image" {
            let sides = name.split(separator: "x").compactMap { Int($0) }
            let ours = try OpenCVResize.linear(image, width: sides[0], height: sides[1])
            let theirs = try file.ints(name).map { UInt8($0) }
            XCTAssertEqual(ours.pixels.count, theirs.count, name)
            differing += zip(ours.pixels, theirs).filter { $0 != $1 }.count
        }
        XCTAssertEqual(differing, 0, "pixel values differing from cv2.resize")
    }
}
