import Foundation

/// A deterministic random number generator: xoshiro256** seeded through SplitMix64, so the same
/// seed gives the same numbers on every run and every platform. Used for head initialisation,
/// dropout masks and shuffling.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    /// The second value of the last Box-Muller pair, returned by the next `normal` call.
    private var spareNormal: Double?

    /// A generator whose whole sequence is determined by `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// A generator for one stream of a seeded family (e.g. image `i` of class `c`): every stream
    /// has its own sequence, whatever order the streams are drawn in.
    public init(seed: UInt64, stream: [UInt64]) {
        var h = FNV1a()
        withUnsafeBytes(of: seed.littleEndian) { h.combine($0) }
        for v in stream { withUnsafeBytes(of: v.littleEndian) { h.combine($0) } }
        self.init(seed: h.value)
    }

    /// The whole state (for training checkpoints): the four words, then the kept normal sample's
    /// bits and whether there is one.
    public var state: [UInt64] {
        [s0, s1, s2, s3, spareNormal?.bitPattern ?? 0, spareNormal == nil ? 0 : 1]
    }

    /// A generator continuing exactly where the one whose `state` this is stopped; nil unless
    /// `state` has six words, the last 0 or 1, and the four state words are not all zero.
    public init?(state: [UInt64]) {
        guard state.count == 6, state[5] <= 1, state[0...3].contains(where: { $0 != 0 }) else { return nil }
        (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3])
        spareNormal = state[5] == 1 ? Double(bitPattern: state[4]) : nil
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotate(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotate(s3, 45)
        return result
    }

    @inline(__always) private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func uniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniformDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * uniform() }

    /// Uniform in [low, high), in double precision.
    public mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * uniformDouble() }

    /// A normal sample (Box-Muller in Double; the pair's second value is kept for the next call).
    public mutating func normal(mean: Float = 0, std: Float = 1) -> Float {
        if let spare = spareNormal {
            spareNormal = nil
            return mean + std * Float(spare)
        }
        let u1 = 1 - uniformDouble()  // (0, 1]: log stays finite
        let u2 = uniformDouble()
        let radius = (-2 * Foundation.log(u1)).squareRoot()
        spareNormal = radius * Foundation.sin(2 * Double.pi * u2)
        return mean + std * Float(radius * Foundation.cos(2 * Double.pi * u2))
    }

    /// `count` normal samples.
    public mutating func normals(count: Int, mean: Float = 0, std: Float = 1) -> [Float] {
        (0..<max(0, count)).map { _ in normal(mean: mean, std: std) }
    }

    /// An integer uniform in 0..<bound (0 when bound <= 0), without modulo bias.
    public mutating func int(below bound: Int) -> Int {
        guard bound > 1 else { return 0 }
        // Lemire's multiply-shift with rejection, written out so it never depends on the stdlib.
        let b = UInt64(bound)
        let threshold = (0 &- b) % b
        while true {
            let (high, low) = next().multipliedFullWidth(by: b)
            if low >= threshold { return Int(high) }
        }
    }

    /// Fisher-Yates shuffle in place.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, int(below: i + 1))
        }
    }

    /// A random permutation of 0..<count.
    public mutating func permutation(_ count: Int) -> [Int] {
        var order = Array(0..<max(0, count))
        shuffle(&order)
        return order
    }
}
