import ArgumentParser
import CommandLineKit
import Evaluation
import Foundation
import Support
import Training

/// Times one frame of DAVIS-sized label propagation without the backbone: a 30x52 patch grid
/// (480x832 input), D = 384 (ViT-S), the first frame and 7 previous ones, radius 12, top 5,
/// 4 labels; the label map at 480x854; J and F of one object on it.
struct BenchPropagation: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "propagation",
        abstract: "Time one DAVIS-sized frame of label propagation (30x52 patches, D 384, 8 context frames), its label map and J/F.")

    @OptionGroup var bench: BenchOptions

    func run() throws {
        bench.applyThreads()
        let (grid, dim, classes, repeats) = ((30, 52), 384, 4, 5)
        var random = SeededRandom(seed: 4)
        let cells = grid.0 * grid.1
        let labels = (0..<(classes * cells)).map { i in Float(i / cells == (i % cells) % classes ? 1 : 0) }
        var propagator = try LabelPropagator(settings: PropagationSettings(), gridHeight: grid.0, gridWidth: grid.1, dim: dim,
                                             firstFeatures: random.normals(count: cells * dim), firstLabels: labels)
        for _ in 0..<7 { _ = try propagator.propagate(random.normals(count: cells * dim)) }
        var step: [Double] = [], upsample: [Double] = [], metric: [Double] = []
        for _ in 0..<repeats {
            let frame = random.normals(count: cells * dim)
            var t = Date()
            let soft = try propagator.propagate(frame)
            step.append(Date().timeIntervalSince(t))
            t = Date()
            let map = try PropagationLabels.labelMap(soft, classes: classes, gridHeight: grid.0, gridWidth: grid.1, patch: 16, width: 854, height: 480)
            upsample.append(Date().timeIntervalSince(t))
            let predicted = map.labels.map { $0 == 1 }, truth = map.labels.indices.map { ($0 / 854 + $0 % 854) % 300 < 150 }
            t = Date()
            _ = VideoSegmentationMetrics.jaccard(annotation: truth, segmentation: predicted)
            _ = VideoSegmentationMetrics.boundaryF(segmentation: predicted, annotation: truth, width: 854, height: 480)
            metric.append(Date().timeIntervalSince(t))
        }
        say(String(format: "label propagation (%dx%d patches, D=%d, 8 context frames, radius 12, top 5): %.1f ms a frame; label map at 480x854: %.1f ms; J and F of one object: %.1f ms (medians of %d)",
                   grid.0, grid.1, dim, 1000 * middle(step), 1000 * middle(upsample), 1000 * middle(metric), repeats))
        try bench.record(["propagate_seconds": middle(step), "label_map_seconds": middle(upsample), "jf_seconds": middle(metric)])
    }
}
