import Backbone
import ArgumentParser
import CommandLineKit
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
        var times: [Double] = [], cpuTimes: [Double] = []
        for i in 0...repeats {
            let (t, cpu) = (Date(), processCPUSeconds())
            _ = try head.trainStep(features: features, batch: batch, height: grid, width: grid, labels: labels,
                                   labelHeight: label, labelWidth: label, optimizer: &optimizer, learningRate: 1e-3, random: &random)
            if i > 0 {  // the first is warm-up
                times.append(Date().timeIntervalSince(t))
                cpuTimes.append(processCPUSeconds() - cpu)
            }
        }
        let (median, cpuMedian) = (times.sorted()[times.count / 2], cpuTimes.sorted()[cpuTimes.count / 2])
        say(String(format: "segmentation head step (batch %d, %dx%d patches, D=%d, %d classes, %dx%d labels, %@ softmax kernel): %.2f s median of %d (CPU time %.2f s per step, all threads)",
                     batch, grid, grid, dim, classes, label, label, "\(head.softmaxKernel.resolved)", median, times.count, cpuMedian))
        return ["seg_step_seconds": median, "seg_step_cpu_seconds": cpuMedian]
    }

    /// CPU time of the whole process so far (every thread): on a shared machine the wall time
    /// also counts time the threads waited for a core.
    static func processCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}

struct BenchSegStep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seg-step",
        abstract: "Time one segmentation-head training step at ADE20K scale (batch 16, 32x32 patches, D 384, 150 classes, 512x512 labels).",
        discussion: examples("bench seg-step"))

    @OptionGroup var bench: BenchOptions

    func run() throws {
        bench.applyThreads()
        try bench.record(try SegmentationStepBenchmark.run())
    }
}
