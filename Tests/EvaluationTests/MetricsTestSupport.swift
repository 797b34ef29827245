import Foundation
import Support

/// A small deterministic random generator (SplitMix64) for the metrics tests.
enum MetricsFixtures {
    static let imagenette = ["tench", "English springer", "cassette player", "chain saw", "church",
                             "French horn", "garbage truck", "gas pump", "golf ball", "parachute"]

    /// A plausible 10-class confusion matrix (mostly diagonal, a few confusions).
    static func imagenetteConfusion() -> [[Int]] {
        var rng = SeededRandom(seed: 7)
        let support = [387, 395, 357, 386, 409, 394, 389, 419, 399, 390]
        var m = [[Int]](repeating: [Int](repeating: 0, count: 10), count: 10)
        for t in 0..<10 {
            var left = support[t]
            for p in 0..<10 where p != t {
                let n = Int.random(in: 0..<100, using: &rng) < 35 ? Int.random(in: 1...(t == 3 ? 40 : 12), using: &rng) : 0
                m[t][p] = n
                left -= n
            }
            m[t][t] = left
        }
        return m
    }

    static func temporaryDirectory(_ tag: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-\(tag)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
