import Backbone
import ArgumentParser
import Foundation
import Heads
import Support

/// Times one training step of the linear segmentation head at ADE20K scale: batch 16 of 32x32
/// patch grids (512 px input), D = 384 (ViT-S), 150 classes, 512x512 labels.
enum SegmentationStepBenchmark {
    static func run(batch: Int = 16, grid: Int = 32, dim: Int = 384, classes: Int = 150, label: Int = 512, repeats: Int = 3) throws -> [String: Any] {
        var random = SeededRandom(seed: 3)
        let features = random.normals(count: batch * grid * grid * dim)
        let labels = (0..<(batch * label * label)).map { _ in UInt8(random.int(below: classes)) }
        var head = try LinearSegmenter(dim: dim, classes: classes, seed: 0)
        var optimizer = AdamW(weightDecay: 1e-3)
        var times: [Double] = []
        for i in 0...repeats {
            let t = Date()
            _ = try head.trainStep(features: features, batch: batch, height: grid, width: grid, labels: labels,
                                   labelHeight: label, labelWidth: label, optimizer: &optimizer, learningRate: 1e-3, random: &random)
            if i > 0 { times.append(Date().timeIntervalSince(t)) }  // the first is warm-up
        }
        let median = times.sorted()[times.count / 2]
        say(String(format: "segmentation head step (batch %d, %dx%d patches, D=%d, %d classes, %dx%d labels): %.2f s median of %d",
                     batch, grid, grid, dim, classes, label, label, median, times.count))
        return ["seg_step_seconds": median]
    }
}

struct BenchSegStep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seg-step",
        abstract: "Time one segmentation-head training step at ADE20K scale (batch 16, 32x32 patches, D 384, 150 classes, 512x512 labels).")

    @OptionGroup var bench: BenchOptions

    func run() throws {
        bench.applyThreads()
        try bench.record(try SegmentationStepBenchmark.run())
    }
}
