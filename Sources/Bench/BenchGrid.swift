import Backbone
import ArgumentParser
import CommandLineKit
import Foundation
import Heads
import Training
import Support

/// The linear-probe grid benchmark: Meta's 13 learning rates trained together for
/// `steps` optimizer steps of `batch` on `count` x `dim` features of `classes` classes.
struct BenchGrid: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grid",
        abstract: "Time the linear-probe grid: 13 heads, 12,500 steps of batch 128 on 9,469 x 768 features, 10 classes.",
        discussion: examples("bench grid --threads 8"))

    @OptionGroup var bench: BenchOptions

    func run() throws {
        bench.applyThreads()
        let (count, dim, classes, steps, batch) = (9469, 768, 10, 12_500, 128)
        let train = syntheticFeatures(count: count, dim: dim, classes: classes)
        var settings = LinearProbeSettings()
        settings.batchSize = batch
        settings.epochs = 10
        settings.iterationsPerEpoch = steps / 10
        let start = Date()
        let (_, result, _) = try LinearProbe.train(train, selection: train.rows(Array(0..<1000)), classes: classes,
                                                settings: settings, metadata: HeadMetadata(kind: .classifier))
        let seconds = Date().timeIntervalSince(start)
        say(String(format: "linear-probe grid: 13 heads, %d steps of batch %d on %d x %d features, %d classes: %.1f s (%.2f ms/step), best holdout top-1 %.1f%%",
                     result.steps, batch, count, dim, classes, seconds, 1000 * seconds / Double(result.steps),
                     100 * result.selectionAccuracy[result.bestIndex]))
        try bench.record(["grid_seconds": seconds, "grid_steps": result.steps, "grid_ms_per_step": 1000 * seconds / Double(result.steps)])
    }
}

/// The benchmarks' features: `count` x `dim` Gaussian clusters, one centre per class
/// (N(0, centreSpread²) per dimension), unit noise, label i % classes; from `SeededRandom(seed: 7)`.
func syntheticFeatures(count: Int, dim: Int, classes: Int, centreSpread: Float = 0.3) -> LabelledFeatures {
    var random = SeededRandom(seed: 7)
    let centres = random.normals(count: classes * dim, std: centreSpread)
    var values = [Float](repeating: 0, count: count * dim)
    var labels = [Int](repeating: 0, count: count)
    for i in 0..<count {
        let c = i % classes
        labels[i] = c
        for d in 0..<dim { values[i * dim + d] = centres[c * dim + d] + random.normal() }
    }
    return LabelledFeatures(values: values, labels: labels, width: dim)
}
