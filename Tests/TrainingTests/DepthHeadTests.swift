import Foundation
import Heads
import SafeTensors
import Support
import Training
import XCTest

/// The depth head's math on small inputs: finite differences, save and load, warm-up state.
final class DepthHeadTests: XCTestCase {
    /// A small head and batch: 2 images of 3x4 patches, C 5, 8 bins, 7x9 labels with holes.
    static func fixture(norm: DepthNormStrategy, bins: DepthBinsStrategy = .linear) throws -> (DepthHead, PatchBatch<Float>) {
        var random = SeededRandom(seed: 5)
        let recipe = DepthHeadRecipe(bins: 8, minDepth: 0.5, maxDepth: 6, binsStrategy: bins, normStrategy: norm)
        var head = try DepthHead(channels: 5, recipe: recipe, metadata: HeadMetadata(kind: .depth), random: &random)
        head.convWeight = random.normals(count: 40, std: 0.5)
        head.convBias = random.normals(count: 8, std: 0.1)
        head.batchNorm.weight = random.normals(count: 5, mean: 1, std: 0.2)
        head.batchNorm.bias = random.normals(count: 5, std: 0.2)
        let features = random.normals(count: 2 * 3 * 4 * 5, mean: 0.3)
        let targets = (0..<(2 * 7 * 9)).map { i in i % 11 == 3 ? 0 : Float(random.uniform() * 5 + 0.7) }
        return (head, PatchBatch(features: features, batch: 2, height: 3, width: 4, targets: targets, targetHeight: 7, targetWidth: 9))
    }

    /// The loss as a function of one parameter value (Double loss from a fresh copy of the head).
    func loss(_ head: DepthHead, _ batch: PatchBatch<Float>, _ name: String, _ index: Int, _ delta: Float) throws -> Float {
        var copy = head
        try copy.updateParameter(name) { $0[index] += delta }
        var random = SeededRandom(seed: 0)
        return try copy.forwardBackward(batch, random: &random).losses[0]
    }

    func testGradientsMatchFiniteDifferences() throws {
        for norm in DepthNormStrategy.allCases {
            for (warm, kernel) in [(false, SoftmaxKernel.scalar), (true, .scalar), (true, .avx2), (false, .automatic)] {
                var (head, batch) = try Self.fixture(norm: norm, bins: norm == .softmax ? .log : .linear)
                head.kernel = kernel
                if warm { head.loss.warmUpCounter = head.loss.warmUpSteps }
                var random = SeededRandom(seed: 0)
                var probe = head
                let g = try probe.forwardBackward(batch, random: &random)
                for (name, gradient) in g.parameters {
                    for index in Swift.stride(from: 0, to: gradient.count, by: max(1, gradient.count / 6)) {
                        let h: Float = 1e-2
                        let numeric = (try loss(head, batch, name, index, h) - loss(head, batch, name, index, -h)) / (2 * h)
                        XCTAssertEqual(gradient[index], numeric, accuracy: 2e-3 + 2e-2 * abs(numeric), "\(norm) \(kernel) warm \(warm) \(name)[\(index)]")
                    }
                }
            }
        }
    }
}

/// Saving and loading: Meta's state-dict names, PyTorch-made heads, resume state.
final class DepthHeadPersistenceTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    struct Listing: Decodable {
        struct Tensor: Decodable { let name: String, shape: [Int], dtype: String }
        let channels: Int, bins: Int, tensors: [Tensor]
    }

    func testSavedHeadHasMetaStateDictNamesShapesAndTypes() throws {
        let listing = try JSONDecoder().decode(Listing.self, from: Data(contentsOf: Self.folder.appendingPathComponent("depth_state_dict.json")))
        var random = SeededRandom(seed: 1)
        let head = try DepthHead(channels: listing.channels, recipe: DepthHeadRecipe(bins: listing.bins), metadata: HeadMetadata(kind: .depth),
                                 random: &random)
        let path = try temporaryPath("head.safetensors")
        try head.save(to: path)
        let file = try SafeTensorsFile(path: path)
        XCTAssertEqual(Set(file.tensors.keys), Set(listing.tensors.map(\.name)))
        let dtypes = ["float32": "F32", "int64": "I64"]
        for t in listing.tensors {
            XCTAssertEqual(file.tensors[t.name]?.shape, t.shape, t.name)
            XCTAssertEqual(file.tensors[t.name]?.dtype.rawValue, dtypes[t.dtype], t.name)
        }
        let loaded = try DepthHead.load(from: path)
        XCTAssertEqual(loaded.recipe, head.recipe)
        XCTAssertEqual(loaded.convWeight, head.convWeight)
        XCTAssertEqual(loaded.metadata.kind, .depth)
    }

    func testPyTorchStateDictLoadsAndGivesPyTorchDepths() throws {
        let head = try DepthHead.load(from: Self.folder.appendingPathComponent("depth_head.safetensors").path)
        XCTAssertEqual(head.recipe, DepthHeadRecipe(bins: 16, binsStrategy: .log))
        XCTAssertEqual(head.batchNorm.batchesTracked, 1)
        let expected = try SafeTensorsFile(path: Self.folder.appendingPathComponent("depth_head_expected.safetensors").path)
        let depth = try head.logits(features: expected.floats("features"), batch: 2, height: 3, width: 4)
        let reference = try expected.floats("depth")
        let worst = zip(depth, reference).map { abs($0 - $1) / $1 }.max() ?? 1
        print("vs PyTorch loaded head depths: max rel \(String(format: "%.2e", worst))")
        XCTAssertLessThan(worst, 1e-5)
    }

    func testResumeStateKeepsWarmUpCounter() throws {
        var random = SeededRandom(seed: 2)
        var head = try DepthHead(channels: 4, recipe: DepthHeadRecipe(bins: 8), metadata: HeadMetadata(kind: .depth), random: &random)
        head.loss.warmUpCounter = 37
        head.batchNorm.batchesTracked = 37
        var state = TrainingState()
        head.save(into: &state, as: "head")
        var other = try DepthHead(channels: 4, recipe: DepthHeadRecipe(bins: 8), metadata: HeadMetadata(kind: .depth), random: &random)
        try other.restore(from: state, as: "head")
        XCTAssertEqual(other.loss.warmUpCounter, 37)
        XCTAssertEqual(other.convWeight, head.convWeight)
        XCTAssertEqual(other.batchNorm.batchesTracked, 37)
    }

    /// 8 steps of the shared loop with Meta's pieces (one-cycle lr and beta1, clipping, SigLoss
    /// crossing its warm-up at step 5); resumed from step 3 or 6 it ends bit for bit where the
    /// uninterrupted run ends.
    func testLoopWithOneCycleAndClippingResumesBitExact() throws {
        let (start, batch) = try DepthHeadTests.fixture(norm: .linear)
        func train(_ saving: StateSaving) throws -> DepthHead {
            var head = start
            head.loss.warmUpSteps = 5
            var optimizer = AdamW(beta1: 0.9, beta2: 0.99, weightDecay: 1e-4)
            var loop = try TrainingLoop(name: "depth", settings: ["lr": 3e-4], steps: 8, batchSize: 1, seed: 3,
                                        schedule: WarmupOneCycleLR(totalSteps: 8, warmupSteps: 2), learningRates: [3e-2], series: ["depth"],
                                        saving: saving)
            loop.gradientClip = 0.05
            _ = try loop.run(&head, optimizer: &optimizer, samples: 1) { _ in batch }
            XCTAssertEqual(optimizer.beta1, WarmupOneCycleLR(totalSteps: 8, warmupSteps: 2).momentum(at: 7))
            return head
        }
        var saved: [Int: TrainingState] = [:]
        let whole = try train(StateSaving(interval: 0, inputs: "d") { state, step in saved[step] = state })
        XCTAssertEqual(whole.loss.warmUpCounter, 5)
        XCTAssertNotEqual(whole.convWeight, start.convWeight)
        for step in [3, 6] {
            let resumed = try train(StateSaving(resumeFrom: try XCTUnwrap(saved[step]), inputs: "d") { _, _ in })
            XCTAssertEqual(resumed.convWeight.map(\.bitPattern), whole.convWeight.map(\.bitPattern), "from step \(step)")
            XCTAssertEqual(resumed.batchNorm.runningVar.map(\.bitPattern), whole.batchNorm.runningVar.map(\.bitPattern))
            XCTAssertEqual(resumed.loss.warmUpCounter, 5)
        }
    }

    func temporaryPath(_ name: String) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("depth-head-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder.appendingPathComponent(name).path
    }
}
