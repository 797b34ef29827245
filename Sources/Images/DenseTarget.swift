/// A per-pixel target of a dense task (a class mask, a depth map): its values
/// row-major, how it is resized, cropped, padded and flipped, and which value counts in no loss
/// or metric. The patch stores and augmentations move targets only through these rules.
public protocol DenseTarget: Sendable {
    /// One pixel's target (`UInt8` class, `Float` depth).
    associatedtype Value: Sendable, Equatable
    var width: Int { get }
    var height: Int { get }
    /// [height, width], row-major.
    var values: [Value] { get }
    /// The value of pixels that count nowhere (padding, no label, no depth).
    static var ignoredValue: Value { get }
    /// A target of `width * height` values (the caller has checked the count).
    init(uncheckedWidth width: Int, height: Int, values: [Value])
    /// The values resized to `width` x `height` by this target's rule.
    func resizedValues(width: Int, height: Int) -> [Value]
}

extension DenseTarget {
    /// Resized to `width` x `height` by the target's rule.
    public func resized(width: Int, height: Int) -> Self {
        Self(uncheckedWidth: width, height: height, values: resizedValues(width: width, height: height))
    }

    /// Mirrored left to right.
    public func mirrored() -> Self {
        var out = values
        for y in 0..<height { out[(y * width)..<((y + 1) * width)].reverse() }
        return Self(uncheckedWidth: width, height: height, values: out)
    }

    /// The `width` x `height` window whose top-left pixel is (`x`, `y`); it must lie inside.
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> Self {
        var out: [Value] = []
        out.reserveCapacity(w * h)
        for row in y..<(y + h) { out += values[(row * width + x)..<(row * width + x + w)] }
        return Self(uncheckedWidth: w, height: h, values: out)
    }

    /// The values resized to `width` x `height` by nearest neighbour as torch's
    /// `interpolate(mode="nearest")`: source index floor(dst x (in / out)) in float32.
    public func resizedNearest(width: Int, height: Int) -> [Value] {
        func source(_ i: Int, from input: Int, to output: Int) -> Int {
            if input == output { return i }
            let scale = Float(input) / Float(output)
            return min(Int((Float(i) * scale).rounded(.down)), input - 1)
        }
        let columns = (0..<width).map { source($0, from: self.width, to: width) }
        let values = self.values
        var out: [Value] = []
        out.reserveCapacity(width * height)
        for y in 0..<height {
            let row = source(y, from: self.height, to: height) * self.width
            for x in 0..<width { out.append(values[row + columns[x]]) }
        }
        return out
    }

    /// Padded at the right and bottom with `fill` to `width` x `height` (at least its own size).
    public func padded(width w: Int, height h: Int, fill: Value = Self.ignoredValue) -> Self {
        var out = [Value](repeating: fill, count: w * h)
        for y in 0..<height { out.replaceSubrange((y * w)..<(y * w + width), with: values[(y * width)..<((y + 1) * width)]) }
        return Self(uncheckedWidth: w, height: h, values: out)
    }
}

extension LabelMask: DenseTarget {
    public var values: [UInt8] { labels }
    /// mmsegmentation's ignore index.
    public static var ignoredValue: UInt8 { 255 }

    public init(uncheckedWidth width: Int, height: Int, values: [UInt8]) {
        self.init(uncheckedWidth: width, height: height, labels: values)
    }

    /// Nearest neighbour, as torch's `interpolate(mode="nearest")` (`resizedNearest`).
    public func resizedValues(width: Int, height: Int) -> [UInt8] { resizedNearest(width: width, height: height) }
}
