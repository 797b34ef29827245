import Foundation

/// A small deterministic random generator (SplitMix64) for the metrics tests.
struct MetricsRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Roughly standard normal (sum of uniforms).
    mutating func normal() -> Float {
        var s: Float = 0
        for _ in 0..<12 { s += Float.random(in: 0..<1, using: &self) }
        return s - 6
    }
}

enum MetricsFixtures {
    static let imagenette = ["tench", "English springer", "cassette player", "chain saw", "church",
                             "French horn", "garbage truck", "gas pump", "golf ball", "parachute"]

    /// A plausible 10-class confusion matrix (mostly diagonal, a few confusions).
    static func imagenetteConfusion() -> [[Int]] {
        var rng = MetricsRandom(seed: 7)
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
