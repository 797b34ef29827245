import ArgumentParser
import Backbone
import CommandLineKit
import Foundation
import Heads
import Support
import Training

// The dense heads' training-step benchmarks: segmentation at ADE20K scale, depth at NYU scale.

/// CPU time of the whole process so far (every thread): on a shared machine the wall time
/// also counts time the threads waited for a core.
func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Wall and CPU seconds of each of `repeats` runs of `body` after one untimed warm-up run.
func timedRuns(_ repeats: Int, _ body: () throws -> Void) rethrows -> (wall: [Double], cpu: [Double]) {
    var wall: [Double] = [], cpu: [Double] = []
    for i in 0...repeats {
        let (start, startCPU) = (Date(), processCPUSeconds())
        try body()
        if i > 0 { (wall, cpu) = (wall + [Date().timeIntervalSince(start)], cpu + [processCPUSeconds() - startCPU]) }
    }
    return (wall, cpu)
}

/// The middle value (the upper one of an even count).
func middle(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// Times one training step of the linear segmentation head at ADE20K scale: batch 16 of 32x32
/// patch grids (512 px input), D = 384 (ViT-S), 150 classes, 512x512 labels.
struct BenchSegStep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seg-step",
        abstract: "Time one segmentation-head training step at ADE20K scale (batch 16, 32x32 patches, D 384, 150 classes, 512x512 labels).",
        discussion: examples("bench seg-step"))

    @OptionGroup var bench: BenchOptions

    func run() throws {
        bench.applyThreads()
        let (batch, grid, dim, classes, label) = (16, 32, 384, 150, 512)
        var random = SeededRandom(seed: 3)
        let features = random.normals(count: batch * grid * grid * dim)
        let labels = (0..<(batch * label * label)).map { _ in UInt8(random.int(below: classes)) }
        var head = try LinearSegmenter(dim: dim, classes: classes, seed: 0)
        var optimizer = AdamW(weightDecay: 1e-3)
        let (times, cpuTimes) = try timedRuns(3) {
            _ = try head.trainStep(features: features, batch: batch, height: grid, width: grid, labels: labels,
                                   labelHeight: label, labelWidth: label, optimizer: &optimizer, learningRate: 1e-3, random: &random)
        }
        let (median, cpuMedian) = (middle(times), middle(cpuTimes))
        say(String(format: "segmentation head step (batch %d, %dx%d patches, D=%d, %d classes, %dx%d labels, %@ softmax kernel): %.2f s median of %d (CPU time %.2f s per step, all threads)",
                     batch, grid, grid, dim, classes, label, label, "\(head.softmaxKernel.resolved)", median, times.count, cpuMedian))
        try bench.record(["seg_step_seconds": median, "seg_step_cpu_seconds": cpuMedian])
    }
}

/// Times one training step of the linear depth head at NYU scale, Meta's recipe: batch 16 of 26x34
/// patch grids (the 416x544 crop), D = 384 (ViT-S), 256 bins, 416x544 labels (10% without depth),
/// SigLoss past its warm-up, clipping at 35, AdamW and the one-cycle schedule; with a reference
/// Python, PyTorch's step of Meta's modules (scripts/bench_depth_step.py) in the same run.
struct BenchDepthStep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "depth-step",
        abstract: "Time one depth-head training step at NYU scale (batch 16, 26x34 patches, D 384, 256 bins, 416x544 labels) beside PyTorch.")

    @OptionGroup var bench: BenchOptions

    @Option(help: "Timed steps per round (after one warm-up); the best and the median are reported.")
    var repeats: Int = 5

    @Option(help: "A Python with torch: times PyTorch's step of Meta's modules between two rounds of dinoprobe's and reports the ratio.")
    var referencePython: String?

    @Option(help: "The reference's script (with --reference-python).")
    var referenceScript: String = "scripts/bench_depth_step.py"

    func validate() throws { try Check.range(repeats, 1...100, "--repeats") }

    func run() throws {
        bench.applyThreads()
        let kernel = SoftmaxKernel.automatic.resolved
        var step = try DepthStep()
        var (times, cpu) = try step.time(repeats: repeats)
        var figures: [String: Any] = ["depth_step_kernel": "\(kernel)", "threads": bench.threads]
        if let referencePython {
            let reference = try Self.reference(python: referencePython, script: referenceScript, threads: bench.threads, repeats: repeats)
            let again = try step.time(repeats: repeats)
            (times, cpu) = (times + again.wall, cpu + again.cpu)
            let torchBest = reference["depth_step_best_seconds"] as? Double ?? .nan
            figures["torch_depth_step_best_seconds"] = torchBest
            figures["torch_depth_step_seconds"] = reference["depth_step_seconds"]
            figures["torch_depth_step_cpu_seconds"] = reference["depth_step_cpu_seconds"]
            figures["torch"] = reference["torch"]
            say(String(format: "PyTorch %@ depth step: best %.3f s, median %.3f s (CPU time %.3f s per step, all threads)",
                       reference["torch"] as? String ?? "?", torchBest, reference["depth_step_seconds"] as? Double ?? .nan,
                       reference["depth_step_cpu_seconds"] as? Double ?? .nan))
            figures["speedup"] = torchBest / times.min()!
        }
        let (best, median, cpuMedian) = (times.min()!, middle(times), middle(cpu))
        (figures["depth_step_best_seconds"], figures["depth_step_seconds"], figures["depth_step_cpu_seconds"]) = (best, median, cpuMedian)
        say(String(format: "dinoprobe depth step (batch 16, 26x34 patches, D 384, 256 bins, 416x544 labels, %@ kernels, %d threads): best %.3f s, median %.3f s of %d (CPU time %.3f s per step)",
                   "\(kernel)", bench.threads, best, median, times.count, cpuMedian))
        if let speedup = figures["speedup"] as? Double { say(String(format: "dinoprobe is %.2fx faster (best against best)", speedup)) }
        try bench.record(figures)
    }

    /// Runs the reference script once and returns its JSON line.
    static func reference(python: String, script: String, threads: Int, repeats: Int) throws -> [String: Any] {
        let process = Process(), output = Pipe()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, "--threads", "\(threads)", "--repeats", "\(repeats)"]
        process.standardOutput = output
        do { try process.run() } catch { throw BenchReferenceError("cannot start \(python) \(script): \(error.localizedDescription)") }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw BenchReferenceError("the reference failed (status \(process.terminationStatus)) or wrote no JSON line")
        }
        return object
    }
}

/// The benchmark's head, batch and optimizer.
struct DepthStep {
    var head: DepthHead
    let batch: PatchBatch<Float>
    var optimizer = AdamW(beta1: 0.9, beta2: 0.99, weightDecay: 1e-4)
    let schedule = WarmupOneCycleLR()
    var step = 0

    init() throws {
        var random = SeededRandom(seed: 3)
        let (b, h, w, d, height, width) = (16, 26, 34, 384, 416, 544)
        head = try DepthHead(channels: d, recipe: DepthHeadRecipe(), metadata: HeadMetadata(kind: .depth), random: &random)
        head.loss.warmUpCounter = head.loss.warmUpSteps
        let targets: [Float] = (0..<(b * height * width)).map { _ in random.uniform() < 0.1 ? 0 : random.uniform(Float(0.5), 9.5) }
        batch = PatchBatch(features: random.normals(count: b * h * w * d), batch: b, height: h, width: w, targets: targets,
                           targetHeight: height, targetWidth: width)
    }

    /// Wall and CPU seconds of each of `repeats` steps after one untimed step.
    mutating func time(repeats: Int) throws -> (wall: [Double], cpu: [Double]) {
        var random = SeededRandom(seed: 0)
        return try timedRuns(repeats) {
            optimizer.momentum = schedule.momentum(at: step) ?? optimizer.momentum
            try head.trainStep(batch, optimizer: &optimizer, learningRates: [3e-4 * schedule.factor(at: step)], clipNorm: 35, random: &random)
            step += 1
        }
    }
}
