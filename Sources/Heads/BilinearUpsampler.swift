/// Bilinear resizing of channels-last images [batch, height, width, channels] with the semantics
/// of PyTorch `F.interpolate(mode="bilinear", align_corners=False)` (no antialias), up or down,
/// and its exact adjoint (the backward pass).
///
/// Along each axis, output index `o` reads `src = max(0, (o + 0.5) * in/out - 0.5)` between
/// `i0 = min(floor(src), in - 1)` and `i1 = min(i0 + 1, in - 1)` with weights `1 - λ` and `λ`,
/// `λ = src - i0`. These indices and weights are computed once, here, per size pair; resizing is
/// separable (width pass, then height pass) over contiguous channel vectors.
public struct BilinearUpsampler: Sendable {
    public let inputHeight: Int
    public let inputWidth: Int
    public let outputHeight: Int
    public let outputWidth: Int

    /// Source indices and weights along one axis.
    struct Axis: Sendable {
        var lower: [Int]
        var upper: [Int]
        var lowerWeight: [Float]
        var upperWeight: [Float]

        init(input: Int, output: Int) {
            lower = []; upper = []; lowerWeight = []; upperWeight = []
            let scale = Float(input) / Float(output)
            for o in 0..<output {
                if input == output {
                    lower.append(o); upper.append(o); lowerWeight.append(1); upperWeight.append(0)
                    continue
                }
                let src = max(scale * (Float(o) + 0.5) - 0.5, 0)
                let i0 = min(Int(src.rounded(.down)), input - 1)
                let lambda = min(max(src - Float(i0), 0), 1)
                lower.append(i0)
                upper.append(i0 + (i0 < input - 1 ? 1 : 0))
                lowerWeight.append(1 - lambda)
                upperWeight.append(lambda)
            }
        }

        /// The four arrays as buffer pointers (no bounds checks in the inner loops).
        struct Taps {
            let lower: UnsafeBufferPointer<Int>, upper: UnsafeBufferPointer<Int>
            let lowerWeight: UnsafeBufferPointer<Float>, upperWeight: UnsafeBufferPointer<Float>
        }

        func withTaps<R>(_ body: (Taps) throws -> R) rethrows -> R {
            try lower.withUnsafeBufferPointer { lo in
                try upper.withUnsafeBufferPointer { hi in
                    try lowerWeight.withUnsafeBufferPointer { w0 in
                        try upperWeight.withUnsafeBufferPointer { w1 in
                            try body(Taps(lower: lo, upper: hi, lowerWeight: w0, upperWeight: w1))
                        }
                    }
                }
            }
        }
    }

    let rows: Axis
    let columns: Axis

    /// Throws when a size is not positive.
    public init(inputHeight: Int, inputWidth: Int, outputHeight: Int, outputWidth: Int) throws {
        try require(inputHeight > 0 && inputWidth > 0 && outputHeight > 0 && outputWidth > 0, "resize sizes",
                    "\(inputHeight)x\(inputWidth) -> \(outputHeight)x\(outputWidth): all must be positive")
        (self.inputHeight, self.inputWidth, self.outputHeight) = (inputHeight, inputWidth, outputHeight)
        self.outputWidth = outputWidth
        rows = Axis(input: inputHeight, output: outputHeight)
        columns = Axis(input: inputWidth, output: outputWidth)
    }

    /// Resizes `input` [batch, inputHeight, inputWidth, channels] to
    /// [batch, outputHeight, outputWidth, channels].
    public func forward(_ input: [Float], batch: Int, channels: Int) throws -> [Float] {
        try check(input.count, batch: batch, channels: channels, height: inputHeight, width: inputWidth, what: "resize input")
        return eachImage(of: input, batch: batch, channels: channels, from: (inputHeight, inputWidth),
                         to: (outputHeight, outputWidth)) { x, y, temp in
            widthPass(x, channels: channels, into: temp.baseAddress!)
            for r in 0..<outputHeight {
                outputRow(r, widthPassed: temp.baseAddress!, channels: channels, into: y + r * outputWidth * channels)
            }
        }
    }

    /// The adjoint of `forward`: the gradient with respect to the input, [batch, inputHeight,
    /// inputWidth, channels], of a gradient [batch, outputHeight, outputWidth, channels].
    public func backward(_ gradient: [Float], batch: Int, channels: Int) throws -> [Float] {
        try check(gradient.count, batch: batch, channels: channels, height: outputHeight, width: outputWidth, what: "resize gradient")
        return eachImage(of: gradient, batch: batch, channels: channels, from: (outputHeight, outputWidth),
                         to: (inputHeight, inputWidth)) { dy, dx, temp in
            temp.update(repeating: 0)
            for r in 0..<outputHeight {
                outputRowBackward(r, rowGradient: dy + r * outputWidth * channels, channels: channels,
                                  widthPassedGradient: temp.baseAddress!)
            }
            widthPassBackward(temp.baseAddress!, channels: channels, into: dx)
        }
    }

    /// Calls `body(source image, zeroed result image, scratch)` for each image of a batch, the
    /// scratch buffer holding one width-passed image [inputHeight, outputWidth, channels].
    private func eachImage(of source: [Float], batch: Int, channels: Int, from: (Int, Int), to: (Int, Int),
                           _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutableBufferPointer<Float>) -> Void) -> [Float] {
        let sourceSize = from.0 * from.1 * channels, resultSize = to.0 * to.1 * channels
        var result = [Float](repeating: 0, count: batch * resultSize)
        guard !result.isEmpty else { return result }
        var temp = [Float](repeating: 0, count: inputHeight * outputWidth * channels)
        source.withUnsafeBufferPointer { x in
            result.withUnsafeMutableBufferPointer { y in
                temp.withUnsafeMutableBufferPointer { t in
                    for b in 0..<batch { body(x.baseAddress! + b * sourceSize, y.baseAddress! + b * resultSize, t) }
                }
            }
        }
        return result
    }

    private func check(_ count: Int, batch: Int, channels: Int, height: Int, width: Int, what: String) throws {
        try require(batch >= 0 && channels > 0 && count == batch * height * width * channels, what,
                    "\(count) values are not [\(batch), \(height), \(width), \(channels)]")
    }

    // MARK: Per-image passes (used by the segmenter to stream one output row at a time)

    /// [inputHeight, inputWidth, C] -> [inputHeight, outputWidth, C].
    func widthPass(_ image: UnsafePointer<Float>, channels c: Int, into temp: UnsafeMutablePointer<Float>) {
        columns.withTaps { taps in
            for r in 0..<inputHeight {
                let source = image + r * inputWidth * c, target = temp + r * outputWidth * c
                for o in 0..<outputWidth {
                    let a = source + taps.lower[o] * c, b = source + taps.upper[o] * c, t = target + o * c
                    let (wa, wb) = (taps.lowerWeight[o], taps.upperWeight[o])
                    for k in 0..<c { t[k] = wa * a[k] + wb * b[k] }
                }
            }
        }
    }

    /// Output row `r` ([outputWidth, C]) from the width-passed image.
    func outputRow(_ r: Int, widthPassed temp: UnsafePointer<Float>, channels c: Int, into row: UnsafeMutablePointer<Float>) {
        let stride = outputWidth * c
        let a = temp + rows.lower[r] * stride, b = temp + rows.upper[r] * stride
        let (wa, wb) = (rows.lowerWeight[r], rows.upperWeight[r])
        for k in 0..<stride { row[k] = wa * a[k] + wb * b[k] }
    }

    /// Adjoint of `outputRow`: adds row `r`'s gradient into the width-passed gradient.
    func outputRowBackward(_ r: Int, rowGradient g: UnsafePointer<Float>, channels c: Int,
                           widthPassedGradient temp: UnsafeMutablePointer<Float>) {
        let stride = outputWidth * c
        let a = temp + rows.lower[r] * stride, b = temp + rows.upper[r] * stride
        let (wa, wb) = (rows.lowerWeight[r], rows.upperWeight[r])
        for k in 0..<stride { a[k] += wa * g[k] }
        for k in 0..<stride { b[k] += wb * g[k] }
    }

    /// Adjoint of `widthPass`: adds into `image` ([inputHeight, inputWidth, C]).
    func widthPassBackward(_ temp: UnsafePointer<Float>, channels c: Int, into image: UnsafeMutablePointer<Float>) {
        columns.withTaps { taps in
            for r in 0..<inputHeight {
                let target = image + r * inputWidth * c, source = temp + r * outputWidth * c
                for o in 0..<outputWidth {
                    let a = target + taps.lower[o] * c, b = target + taps.upper[o] * c, g = source + o * c
                    let (wa, wb) = (taps.lowerWeight[o], taps.upperWeight[o])
                    for k in 0..<c { a[k] += wa * g[k] }
                    for k in 0..<c { b[k] += wb * g[k] }
                }
            }
        }
    }
}
