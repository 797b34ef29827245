import Foundation
import Heads
import SafeTensors
import XCTest
import Support

final class LinearSegmenterTests: XCTestCase {
    /// A PyTorch Dropout2d(fixed mask) -> BatchNorm2d -> Conv2d(1x1) -> interpolate -> CE(255)
    /// step: loss, every gradient, running statistics, then eval-mode logits and predictions.
    func testTrainingStepAndInferenceMatchPyTorch() throws {
        var head = try LinearSegmenter.load(from: Fixtures.path("segmenter_head.safetensors"))
        let expected = try Fixtures.file("segmenter_expected.safetensors")
        let size = try JSONDecoder().decode([Int].self, from: Data((expected.metadata["size"] ?? "").utf8))
        let (b, h, w, d, k, oh, ow) = (size[0], size[1], size[2], size[3], size[4], size[5], size[6])
        XCTAssertEqual(head.classes, k)
        XCTAssertEqual(head.dim, d)
        XCTAssertEqual(head.batchNorm.batchesTracked, 7)
        XCTAssertEqual(head.metadata.palette, [0, 0, 0, 255, 0, 0, 0, 255, 0])
        XCTAssertEqual(head.metadata.inputResolution, 112)
        let features = try expected.floats("features")
        let labels = try expected.ints("labels").map { UInt8($0) }
        let g = try head.lossAndGradients(features: features, batch: b, height: h, width: w, labels: labels,
                                          labelHeight: oh, labelWidth: ow, channelMask: try expected.floats("mask"),
                                          featureGradient: true)
        XCTAssertEqual(g.loss, try expected.floats("loss")[0], accuracy: 1e-5)
        let checks: [(String, [Float])] = [
            ("grad.conv.weight", g.convWeight), ("grad.conv.bias", g.convBias), ("grad.bn.weight", g.bnWeight),
            ("grad.bn.bias", g.bnBias), ("grad.features", try XCTUnwrap(g.features)),
        ]
        for (name, value) in checks {
            let error = relativeError(value, try expected.floats(name))
            print("vs PyTorch \(name): relative error \(error)")
            XCTAssertLessThan(error, 1e-4, name)
        }
        head.updateRunningStatistics(g)
        XCTAssertLessThan(maxAbsDiff(head.batchNorm.runningMean, try expected.floats("running_mean")), 1e-6)
        XCTAssertLessThan(maxAbsDiff(head.batchNorm.runningVar, try expected.floats("running_var")), 1e-5)
        XCTAssertEqual(head.batchNorm.batchesTracked, 8)
        let logits = try head.upsampledLogits(features: features, batch: b, height: h, width: w, outputHeight: oh, outputWidth: ow)
        XCTAssertLessThan(maxAbsDiff(logits, try expected.floats("eval.logits")), 1e-5)
        let predictions = try head.predict(features: features, batch: b, height: h, width: w, outputHeight: oh, outputWidth: ow)
        XCTAssertEqual(predictions.map { Int64($0) }, try expected.ints("eval.predictions"))
    }

    /// Every gradient of the full training-mode head (fixed dropout mask, batch norm, conv,
    /// upsampling, cross-entropy with ignored pixels) against finite differences.
    func testFullBackwardMatchesFiniteDifferences() throws {
        let (b, h, w, d, k, oh, ow) = (2, 3, 2, 4, 3, 5, 4)
        var head = try LinearSegmenter(dim: d, classes: k, seed: 1)
        head.convWeight = randomArray(k * d, std: 0.7, seed: 61)
        head.convBias = randomArray(k, std: 0.3, seed: 62)
        head.batchNorm.weight = [1.1, 0.8, 1.3, 0.6]
        head.batchNorm.bias = [0.1, -0.1, 0.2, 0]
        let x = randomArray(b * h * w * d, seed: 63)
        var random = SeededRandom(seed: 64)
        var mask = head.dropoutMask(batch: b, random: &random)
        mask[1] = 0  // make sure a channel is dropped
        var labels = (0..<(b * oh * ow)).map { UInt8($0 % k) }
        for i in stride(from: 0, to: labels.count, by: 5) { labels[i] = 255 }
        func loss(_ s: LinearSegmenter, _ features: [Float]) throws -> Float {
            try s.lossAndGradients(features: features, batch: b, height: h, width: w, labels: labels,
                                   labelHeight: oh, labelWidth: ow, channelMask: mask).loss
        }
        let g = try head.lossAndGradients(features: x, batch: b, height: h, width: w, labels: labels,
                                          labelHeight: oh, labelWidth: ow, channelMask: mask, featureGradient: true)
        assertGradient(g.convWeight, try finiteDifferences(head.convWeight) { v in var s = head; s.convWeight = v; return try loss(s, x) },
                       tolerance: 5e-3, "segmenter conv.weight")
        assertGradient(g.convBias, try finiteDifferences(head.convBias) { v in var s = head; s.convBias = v; return try loss(s, x) },
                       tolerance: 5e-3, "segmenter conv.bias")
        assertGradient(g.bnWeight, try finiteDifferences(head.batchNorm.weight) { v in var s = head; s.batchNorm.weight = v; return try loss(s, x) },
                       tolerance: 5e-3, "segmenter bn.weight")
        assertGradient(g.bnBias, try finiteDifferences(head.batchNorm.bias) { v in var s = head; s.batchNorm.bias = v; return try loss(s, x) },
                       tolerance: 5e-3, "segmenter bn.bias")
        let dx = try XCTUnwrap(g.features)
        assertGradient(dx, try finiteDifferences(x) { try loss(head, $0) }, tolerance: 5e-3, "segmenter features (through dropout)")
        for bb in 0..<b { for p in 0..<(h * w) { XCTAssertEqual(dx[(bb * h * w + p) * d + 1], bb == 0 ? 0 : dx[(bb * h * w + p) * d + 1]) } }
    }

    func testAllIgnoredPixelsGiveZeroLossAndGradients() throws {
        let head = try LinearSegmenter(dim: 3, classes: 2, seed: 0)
        var random = SeededRandom(seed: 0)
        let g = try head.lossAndGradients(features: randomArray(2 * 2 * 2 * 3, seed: 1), batch: 2, height: 2, width: 2,
                                          labels: [UInt8](repeating: 255, count: 2 * 4 * 4), labelHeight: 4, labelWidth: 4,
                                          random: &random)
        XCTAssertEqual(g.loss, 0)
        XCTAssertEqual(g.validPixels, 0)
        XCTAssertEqual(g.convWeight, [Float](repeating: 0, count: 6))
        XCTAssertEqual(g.bnWeight, [0, 0, 0])
    }

    func testFoldedLinearEqualsEvalBatchNormThenConv() throws {
        var head = try LinearSegmenter(dim: 4, classes: 3, seed: 2)
        head.batchNorm.weight = [1.5, 0.5, 1, 2]
        head.batchNorm.bias = [0.1, 0.2, -0.3, 0]
        head.batchNorm.runningMean = [0.5, -1, 0, 2]
        head.batchNorm.runningVar = [2, 0.5, 1, 4]
        let x = randomArray(6 * 4, seed: 3)
        let normed = try head.batchNorm.forwardInference(x, rows: 6)
        var expected: [Float] = []
        for i in 0..<6 {
            for c in 0..<3 {
                expected.append(head.convBias[c] + (0..<4).reduce(Float(0)) { $0 + head.convWeight[c * 4 + $1] * normed[i * 4 + $1] })
            }
        }
        XCTAssertLessThan(maxAbsDiff(try head.logits(features: x, batch: 1, height: 2, width: 3), expected), 1e-6)
    }

    /// A tiny problem where each pixel's class is the argmax of its first 3 feature channels:
    /// AdamW training must drive the loss down and get most pixels right.
    func testTrainingLearnsASimpleSegmentation() throws {
        let (b, h, w, d, k) = (4, 4, 4, 6, 3)
        var head = try LinearSegmenter(dim: d, classes: k, seed: 0)
        var optimizer = AdamW(weightDecay: 1e-3)
        var random = SeededRandom(seed: 5)
        let x = randomArray(b * h * w * d, seed: 71)
        let labels = (0..<(b * h * w)).map { p -> UInt8 in
            let v = x[(p * d)..<(p * d + 3)]
            return UInt8(v.firstIndex(of: v.max()!)! - p * d)
        }
        let schedule = LearningRateSchedule(totalSteps: 150, warmupSteps: 10)
        var first: Float = 0, last: Float = 0
        for step in 0..<150 {
            last = try head.trainStep(features: x, batch: b, height: h, width: w, labels: labels, labelHeight: h, labelWidth: w,
                                      optimizer: &optimizer, learningRate: schedule.learningRate(base: 0.05, step: step),
                                      random: &random)
            if step == 0 { first = last }
        }
        let predicted = try head.predict(features: x, batch: b, height: h, width: w, outputHeight: h, outputWidth: w)
        let accuracy = Float(zip(predicted, labels).filter { $0 == $1 }.count) / Float(labels.count)
        print("segmenter toy training: loss \(first) -> \(last), pixel accuracy \(accuracy)")
        XCTAssertLessThan(last, first * 0.5)
        XCTAssertGreaterThan(accuracy, 0.9)
        XCTAssertEqual(head.batchNorm.batchesTracked, 150)
    }

    func testInvalidInputsThrow() throws {
        XCTAssertThrowsError(try LinearSegmenter(dim: 4, classes: 256))
        let head = try LinearSegmenter(dim: 2, classes: 2)
        XCTAssertThrowsError(try head.lossAndGradients(features: [1, 2, 3, 4], batch: 1, height: 1, width: 2, labels: [0, 2],
                                                       labelHeight: 1, labelWidth: 2, channelMask: [1, 1])) {
            XCTAssertEqual($0 as? HeadError, .labelOutOfRange(label: 2, classes: 2, position: 1))
        }
        XCTAssertThrowsError(try head.lossAndGradients(features: [1, 2, 3], batch: 1, height: 1, width: 2, labels: [0, 1],
                                                       labelHeight: 1, labelWidth: 2, channelMask: [1, 1]))
        XCTAssertThrowsError(try head.predict(features: [1, 2, 3, 4], batch: 1, height: 1, width: 2, outputHeight: 0, outputWidth: 2))
    }
}
