@testable import Backbone
import Foundation
import XCTest

/// The CPU forward pass split into one slice of images per thread (`ImageSlices`, `TeamTasks`):
/// the plan, the task runner, and outputs equal to an unsplit pass bit for bit.
final class ImageSlicesTests: XCTestCase {
    func testPlanGivesEachThreadAnEqualSliceAndTheRestAfter() {
        XCTAssertEqual(ImageSlices(batch: 8, threads: 2), ImageSlices(slices: [0..<4, 4..<8], rest: nil))
        XCTAssertEqual(ImageSlices(batch: 33, threads: 2), ImageSlices(slices: [0..<16, 16..<32], rest: 32..<33))
        XCTAssertEqual(ImageSlices(batch: 7, threads: 3), ImageSlices(slices: [0..<2, 2..<4, 4..<6], rest: 6..<7))
        XCTAssertEqual(ImageSlices(batch: 1, threads: 2), ImageSlices(slices: [], rest: 0..<1), "fewer images than threads")
        XCTAssertEqual(ImageSlices(batch: 32, threads: 1), ImageSlices(slices: [], rest: 0..<32), "one thread")
        XCTAssertEqual(ImageSlices(batch: 0, threads: 2), ImageSlices(slices: [], rest: nil))
    }

    func testTasksReturnInOrderRunSeriallyInsideAndPassErrorsOn() throws {
        let previous = Torch.threads
        defer { Torch.setThreads(previous) }
        Torch.setThreads(2)
        XCTAssertEqual(TeamTasks.threads, 2)
        let inside = try TeamTasks.run(count: 5) { i in (i * i, TeamTasks.threads) }
        XCTAssertEqual(inside.map(\.0), [0, 1, 4, 9, 16])
        XCTAssertTrue(inside.allSatisfy { $0.1 == 1 }, "a task's ops run on its thread alone")
        XCTAssertEqual(try TeamTasks.run(count: 0) { $0 }, [])
        struct Refused: Error, Equatable { let index: Int }
        XCTAssertThrowsError(try TeamTasks.run(count: 4) { i -> Int in if i >= 2 { throw Refused(index: i) }; return i }) { error in
            XCTAssertEqual(error as? Refused, Refused(index: 2), "the first failing task by index")
        }
    }

    private func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

    /// Batches of 5 and 8 on two threads (slices 2 + 2 and a rest of 1; 4 + 4), with several
    /// kept layers, against the same batch on one thread and against each image alone.
    func testSlicedPassEqualsOneUnsplitPassBitForBit() throws {
        let previous = Torch.threads
        defer { Torch.setThreads(previous) }
        let model = try DINOv3Model(folder: Fixtures.model("gelu_reg4"))
        let fixture = try Fixtures.caseFile("gelu_reg4_nonsquare_b2")
        let shape = fixture.tensors["pixel_values"]!.shape
        let (h, w) = (shape[2], shape[3])
        let two = try fixture.floats("pixel_values")
        let imageSize = 3 * h * w
        for batch in [5, 8] {
            // Distinct images: the fixture's two, then scaled and shifted copies.
            var pixels: [Float] = []
            for b in 0..<batch {
                let (gain, shift) = (1 + Float(b) / 10, Float(b) / 20)
                let source = two[(b % 2 * imageSize)..<((b % 2 + 1) * imageSize)]
                pixels += source.map { $0 * gain - shift }
            }
            Torch.setThreads(2)
            let sliced = try model.forward(pixels: pixels, batch: batch, height: h, width: w, lastLayers: 2)
            Torch.setThreads(1)
            let together = try model.forward(pixels: pixels, batch: batch, height: h, width: w, lastLayers: 2)
            XCTAssertEqual(bits(sliced.lastHiddenState), bits(together.lastHiddenState), "batch \(batch)")
            XCTAssertEqual(sliced.layers.map(bits), together.layers.map(bits), "batch \(batch)")
            Torch.setThreads(2)
            let perImage = try (0..<batch).flatMap { b in
                try model.forward(pixels: Array(pixels[(b * imageSize)..<((b + 1) * imageSize)]), batch: 1, height: h, width: w).lastHiddenState
            }
            XCTAssertEqual(bits(sliced.lastHiddenState), bits(perImage), "batch \(batch) against each image alone")
        }
    }
}
