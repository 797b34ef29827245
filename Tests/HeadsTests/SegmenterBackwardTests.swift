import Heads
import Support
import XCTest

/// A training step without the feature gradient takes the parameter gradients from dzᵀ x̂
/// (one GEMM); they must equal the full back-propagation's.
final class SegmenterBackwardTests: XCTestCase {
    func testParameterGradientsEqualTheFullBackwardPass() throws {
        let (b, h, w, d, k, oh, ow) = (2, 4, 5, 6, 150, 17, 19)
        var head = try LinearSegmenter(dim: d, classes: k, seed: 5)
        head.convWeight = randomArray(k * d, std: 0.5, seed: 51)
        head.convBias = randomArray(k, std: 0.2, seed: 52)
        head.batchNorm.weight = randomArray(d, std: 0.3, seed: 53).map { 1 + $0 }
        head.batchNorm.bias = randomArray(d, std: 0.3, seed: 54)
        let x = randomArray(b * h * w * d, std: 2, seed: 55)
        var random = SeededRandom(seed: 56)
        let labels = (0..<(b * oh * ow)).map { _ in random.uniform() < 0.2 ? 255 : UInt8(random.int(below: k)) }
        var mask = head.dropoutMask(batch: b, random: &random)
        mask[2] = 0
        func step(_ features: Bool) throws -> SegmenterGradients {
            try head.lossAndGradients(features: x, batch: b, height: h, width: w, labels: labels, labelHeight: oh,
                                      labelWidth: ow, channelMask: mask, featureGradient: features)
        }
        let (full, parameters) = (try step(true), try step(false))
        XCTAssertNotNil(full.features)
        XCTAssertNil(parameters.features)
        XCTAssertEqual(parameters.loss, full.loss)
        for (name, value, expected) in [("conv.weight", parameters.convWeight, full.convWeight),
                                        ("conv.bias", parameters.convBias, full.convBias),
                                        ("bn.weight", parameters.bnWeight, full.bnWeight),
                                        ("bn.bias", parameters.bnBias, full.bnBias)] {
            let error = relativeError(value, expected)
            print("parameter-only vs full backward \(name): relative error \(error)")
            XCTAssertLessThan(error, 1e-5, name)
        }
    }
}
