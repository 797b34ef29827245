import ArgumentParser
import CommandLineKit
import Foundation
import Support
import Training

struct BenchCorrespondence: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "correspondence",
        abstract: "Keypoint matching (cosine on the upsampled target grid, argmax) on random patch grids: milliseconds per keypoint.",
        discussion: "scripts/bench_correspondence.py times the PyTorch reference on the same sizes.")

    @OptionGroup var bench: BenchOptions

    @Option(help: "Patch grid side (800 / 16 = 50 for Probe3D's input).")
    var grid = 50

    @Option(help: "Feature width.")
    var dim = 1024

    @Option(help: "Target image width and height (SPair images are about 500 x 375).")
    var image = "500,375"

    @Option(help: "Keypoints matched.")
    var keypoints = 200

    @Option(help: "Keypoints per pair (matched together: one pass over the target grid).")
    var perPair = 10

    func validate() throws {
        try Check.range(grid, 1...256, "--grid")
        try Check.range(dim, 1...8192, "--dim")
        try Check.range(keypoints, 1...100_000, "--keypoints")
        try Check.range(perPair, 1...1000, "--per-pair")
        _ = try Check.integers(image, 1...8192, "--image")
    }

    func run() throws {
        bench.applyThreads()
        let size = try Check.integers(image, 1...8192, "--image")
        guard size.count == 2 else { throw ValidationError("--image takes width,height") }
        var rng = SeededRandom(seed: 30)
        func grid(_ w: Int, _ h: Int) throws -> KeypointFeatureGrid {
            try KeypointFeatureGrid(patchTokens: (0..<(self.grid * self.grid * dim)).map { _ in rng.uniform(-1, 1) }, grid: self.grid, dim: dim,
                                    imageWidth: w, imageHeight: h)
        }
        let (source, target) = (try grid(size[0], size[1]), try grid(size[0], size[1]))
        let points = (0..<keypoints).map { _ in (x: Double(rng.int(below: size[0])), y: Double(rng.int(below: size[1]))) }
        let start = Date()
        for first in stride(from: 0, to: keypoints, by: perPair) {
            _ = try KeypointMatching.match(Array(points[first..<min(first + perPair, keypoints)]), source: source, target: target, window: nil)
        }
        let perKeypoint = Date().timeIntervalSince(start) * 1000 / Double(keypoints)
        say(String(format: "matching: %.3f ms per keypoint (grid %dx%d, dim %d, target %dx%d, %d keypoints, %d per pair)", perKeypoint, self.grid,
                   self.grid, dim, size[0], size[1], keypoints, perPair))
        try bench.record(["ms_per_keypoint": perKeypoint, "grid": self.grid, "dim": dim, "keypoints": keypoints, "per_pair": perPair])
    }
}
