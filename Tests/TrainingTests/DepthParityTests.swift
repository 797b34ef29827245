import Foundation
import Heads
import SafeTensors
import Support
import Training
import XCTest

/// The depth head against PyTorch running Meta's modules (scripts/make_depth_fixtures.py).
final class DepthParityTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    let file = try! SafeTensorsFile(path: folder.appendingPathComponent("depth.safetensors").path)

    /// Asserts |a - b| <= abs + rel |b| everywhere and prints the largest differences.
    func compare(_ a: [Float], _ b: [Float], _ what: String, abs: Float = 1e-6, rel: Float = 1e-4) {
        XCTAssertEqual(a.count, b.count, what)
        var (maxAbs, maxRel) = (Float(0), Float(0))
        for (x, y) in zip(a, b) {
            maxAbs = max(maxAbs, Swift.abs(x - y))
            maxRel = max(maxRel, Swift.abs(x - y) / max(Swift.abs(y), 1e-30))
            if Swift.abs(x - y) > abs + rel * Swift.abs(y) { XCTFail("\(what): \(x) vs PyTorch \(y)"); return }
        }
        print("vs PyTorch \(what): max abs \(String(format: "%.2e", maxAbs)), max rel \(String(format: "%.2e", maxRel))")
    }

    func head(_ name: String, prefix: String, bins: DepthBinsStrategy, norm: DepthNormStrategy) throws -> DepthHead {
        var bn = try BatchNorm(channels: 6)
        bn.weight = try file.floats("\(name).\(prefix).batchnorm_layer.weight")
        bn.bias = try file.floats("\(name).\(prefix).batchnorm_layer.bias")
        bn.runningMean = try file.floats("\(name).\(prefix).batchnorm_layer.running_mean")
        bn.runningVar = try file.floats("\(name).\(prefix).batchnorm_layer.running_var")
        return try DepthHead(convWeight: file.floats("\(name).\(prefix).conv_depth.weight"), convBias: file.floats("\(name).\(prefix).conv_depth.bias"),
                             batchNorm: bn, recipe: DepthHeadRecipe(bins: 16, binsStrategy: bins, normStrategy: norm),
                             metadata: HeadMetadata(kind: .depth))
    }

    func batch(_ name: String) throws -> PatchBatch<Float> {
        PatchBatch(features: try file.floats("\(name).features"), batch: 2, height: 3, width: 4,
                   targets: try file.floats("\(name).targets"), targetHeight: 7, targetWidth: 9)
    }

    func testHeadForwardBackwardAndStepsMatchPyTorch() throws {
        for bins in DepthBinsStrategy.allCases {
            for norm in DepthNormStrategy.allCases {
                let name = "\(bins)_\(norm)"
                for kernel in [SoftmaxKernel.scalar, .avx2, .automatic] {
                    var model = try head(name, prefix: "init", bins: bins, norm: norm)
                    model.kernel = kernel
                    let b = try batch(name)
                    compare(try model.logits(features: b.features, batch: 2, height: 3, width: 4), try file.floats("\(name).eval.grid"), "\(name) eval depth")
                    for mode in ["warm", "full"] {
                        var trial = model
                        if mode == "full" { trial.loss.warmUpCounter = 100 }
                        var random = SeededRandom(seed: 0)
                        let g = try trial.forwardBackward(b, random: &random)
                        compare(g.losses, try file.floats("\(name).\(mode).loss"), "\(name) \(mode) \(kernel) loss")
                        for (parameter, gradient) in g.parameters {
                            compare(gradient, try file.floats("\(name).\(mode).grad.\(parameter)"), "\(name) \(mode) \(kernel) grad \(parameter)", abs: 1e-6, rel: 2e-4)
                        }
                        if mode == "full" {
                            compare(trial.batchNorm.runningMean, try file.floats("\(name).running_mean"), "\(name) running mean")
                            compare(trial.batchNorm.runningVar, try file.floats("\(name).running_var"), "\(name) running var")
                        }
                    }
                    try checkSteps(model, name: name, batch: b)
                }
            }
        }
    }

    /// Three steps of Meta's loop: SigLoss (in its warm-up), clipping, AdamW with the one-cycle lr and beta1.
    func checkSteps(_ start: DepthHead, name: String, batch: PatchBatch<Float>) throws {
        var model = start
        var optimizer = AdamW(beta1: 0.9, beta2: 0.99, weightDecay: 1e-4)
        let schedule = WarmupOneCycleLR(totalSteps: 6, warmupSteps: 2)
        let clip = try file.floats("\(name).clip")[0]
        var random = SeededRandom(seed: 0)
        for step in 0..<3 {
            optimizer.momentum = schedule.momentum(at: step) ?? 0
            try model.trainStep(batch, optimizer: &optimizer, learningRates: [3e-4 * schedule.factor(at: step)], clipNorm: clip, random: &random)
        }
        compare(model.convWeight, try file.floats("\(name).stepped.conv_depth.weight"), "\(name) 3 steps conv weight", abs: 1e-7, rel: 1e-5)
        compare(model.convBias, try file.floats("\(name).stepped.conv_depth.bias"), "\(name) 3 steps conv bias", abs: 1e-7, rel: 1e-5)
        compare(model.batchNorm.weight, try file.floats("\(name).stepped.batchnorm_layer.weight"), "\(name) 3 steps bn weight", abs: 1e-7, rel: 1e-5)
        compare(model.batchNorm.bias, try file.floats("\(name).stepped.batchnorm_layer.bias"), "\(name) 3 steps bn bias", abs: 1e-7, rel: 1e-5)
        XCTAssertEqual(model.loss.warmUpCounter, 3)
        XCTAssertEqual(model.batchNorm.batchesTracked, 3)
    }

    func testSigLossOnPyTorchDepthsMatches() throws {
        let name = "linear_linear"
        for mode in ["warm", "full"] {
            var loss = SigLoss()
            if mode == "full" { loss.warmUpCounter = 100 }
            let grid = try file.floats("\(name).\(mode).grid")
            let scored = try loss.lossAndGradient(depth: grid, batch: 2, height: 3, width: 4, targets: try file.floats("\(name).targets"),
                                                  targetHeight: 7, targetWidth: 9)
            compare([scored.loss], try file.floats("\(name).\(mode).loss"), "SigLoss \(mode)")
            XCTAssertEqual(scored.validPixels, try file.floats("\(name).targets").filter { $0 != 0 }.count)
            let upsampler = try BilinearUpsampler(inputHeight: 3, inputWidth: 4, outputHeight: 7, outputWidth: 9)
            compare(try upsampler.forward(grid, batch: 2, channels: 1), try file.floats("\(name).\(mode).pred"), "upsampled depth")
        }
        XCTAssertEqual(SigLoss().warmUpSteps, 100)
    }

    func testOneCycleScheduleMatchesMeta() throws {
        let schedule = WarmupOneCycleLR()
        let steps = try file.floats("schedule.steps").map { Int($0) }
        let (rates, betas) = (try file.floats("schedule.lr"), try file.floats("schedule.beta1"))
        compare(steps.map { 3e-4 * schedule.factor(at: $0) }, rates, "one-cycle lr", abs: 0, rel: 1e-6)
        compare(steps.map { schedule.momentum(at: $0) ?? -1 }, betas, "one-cycle beta1", abs: 1e-7, rel: 1e-6)
    }
}
