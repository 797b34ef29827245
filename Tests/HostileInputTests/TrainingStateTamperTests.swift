import Foundation
import Evaluation
import Heads
import Support
import Training
import XCTest

/// A checkpoint whose sampler state was altered is refused with a message that says what is
/// wrong and what to do, never one contradicting itself ("saved for 12 samples..., not 12").
final class TrainingStateTamperTests: XCTestCase {
    private func savedState() throws -> TrainingState {
        var sampler = try BatchSampler(count: 12, batchSize: 4)
        var random = SeededRandom(seed: 1)
        _ = sampler.next(using: &random)
        var state = TrainingState()
        sampler.save(into: &state, as: "sampler")
        return state
    }

    private func restoreMessage(_ state: TrainingState) throws -> String {
        var sampler = try BatchSampler(count: 12, batchSize: 4)
        do {
            try sampler.restore(from: state, as: "sampler")
        } catch {
            return "\(error)"
        }
        XCTFail("the tampered state was accepted")
        return ""
    }

    func testTamperedSamplerOrderGetsAMessageThatSaysWhatIsWrong() throws {
        var state = try savedState()
        let second = state.integers["sampler.order"]?[1] ?? 0
        state.integers["sampler.order"]?[0] = second  // a duplicate index
        let message = try restoreMessage(state)
        XCTAssertFalse(message.contains("not 12 in batches of 4"), message)
        XCTAssertTrue(message.contains("damaged"), message)
        XCTAssertTrue(message.contains("--overwrite"), message)

        var outOfRange = try savedState()
        outOfRange.integers["sampler.order"]?[0] = 99
        XCTAssertTrue(try restoreMessage(outOfRange).contains("not an arrangement of the 12 samples"))

        var cursor = try savedState()
        cursor.integers["sampler.cursor"]?[0] = 40
        let cursorMessage = try restoreMessage(cursor)
        XCTAssertTrue(cursorMessage.contains("position 40"), cursorMessage)
        XCTAssertFalse(cursorMessage.contains("not 12 in batches of 4"), cursorMessage)
    }

    func testOtherSettingsStillNameBothSettings() throws {
        var state = try savedState()
        state.integers["sampler.cursor"]?[1] = 10
        let message = try restoreMessage(state)
        XCTAssertTrue(message.contains("saved for 10 samples in batches of 4, not 12 in batches of 4"), message)
    }

    /// NaN and infinities in results are written as null (one JSON encoding for every result
    /// file), never an encoding error thrown half-way through writing a run's results.
    func testNonFiniteNumbersInResultsAreWrittenAsNull() throws {
        struct Row: Encodable { let loss: Float; let values: [Double]; let name: String }
        let data = try MetricsReport.jsonData(Row(loss: .nan, values: [1, .infinity, -.infinity], name: "null"))
        let value = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        XCTAssertTrue(value?["loss"] is NSNull)
        XCTAssertEqual((value?["values"] as? [Any])?.count, 3)
        XCTAssertTrue((value?["values"] as? [Any])?[1] is NSNull)
        XCTAssertEqual(value?["name"] as? String, "null")
    }
}
