extension LinearSegmenter {
    /// The inference-mode head as one linear map: batch norm with running statistics folded
    /// into the 1x1 conv. `weight` [classes, dim], `bias` [classes];
    /// `logits = features · weightᵀ + bias` equals conv(bn(features)) in eval mode.
    public func foldedLinear() throws -> (weight: [Float], bias: [Float]) {
        try validateParameters()
        return NormalizedConv.folded(weight: convWeight, bias: convBias, batchNorm: batchNorm)
    }

    /// Inference-mode logits at feature resolution, [batch, height, width, classes].
    public func logits(features: [Float], batch: Int, height: Int, width: Int) throws -> [Float] {
        try checkFeatures(features, batch: batch, height: height, width: width)
        let (w, b) = try foldedLinear()
        let n = batch * height * width
        var out = [Float](repeating: 0, count: n * classes)
        features.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                BLAS.linear(x.baseAddress!, rows: n, inputs: dim, weight: w, bias: b, outputs: classes, into: y.baseAddress!)
            }
        }
        return out
    }

    /// The class of every pixel at the label size, [batch, outputHeight, outputWidth]: argmax of
    /// the upsampled inference logits (the first class on ties), one output row at a time.
    public func predict(features: [Float], batch: Int, height: Int, width: Int,
                        outputHeight: Int, outputWidth: Int) throws -> [UInt8] {
        try Self.upsampledArgmax(logits(features: features, batch: batch, height: height, width: width), batch: batch, height: height,
                                 width: width, classes: classes, outputHeight: outputHeight, outputWidth: outputWidth)
    }

    /// Argmax per pixel of `logits` [batch, height, width, classes] upsampled bilinearly
    /// (align_corners false) to [batch, outputHeight, outputWidth] (the first class on ties), one
    /// output row at a time so the upsampled logits never exist whole.
    public static func upsampledArgmax(_ z: [Float], batch: Int, height: Int, width: Int, classes k: Int,
                                       outputHeight: Int, outputWidth: Int) throws -> [UInt8] {
        try require(k > 0 && k <= 256 && z.count == batch * height * width * k, "logits",
                    "\(z.count) values are not [\(batch), \(height), \(width), \(k)] with 1 to 256 classes")
        let upsampler = try BilinearUpsampler(inputHeight: height, inputWidth: width, outputHeight: outputHeight, outputWidth: outputWidth)
        var result = [UInt8](repeating: 0, count: batch * outputHeight * outputWidth)
        var temp = [Float](repeating: 0, count: height * outputWidth * k)
        var row = [Float](repeating: 0, count: outputWidth * k)
        z.withUnsafeBufferPointer { zp in
            temp.withUnsafeMutableBufferPointer { t in
                row.withUnsafeMutableBufferPointer { r in
                    result.withUnsafeMutableBufferPointer { out in
                        for b in 0..<batch {
                            upsampler.widthPass(zp.baseAddress! + b * height * width * k, channels: k, into: t.baseAddress!)
                            for o in 0..<outputHeight {
                                upsampler.outputRow(o, widthPassed: t.baseAddress!, channels: k, into: r.baseAddress!)
                                let target = out.baseAddress! + (b * outputHeight + o) * outputWidth
                                for x in 0..<outputWidth {
                                    let pixel = r.baseAddress! + x * k
                                    var best = 0
                                    for c in 1..<k where pixel[c] > pixel[best] { best = c }
                                    target[x] = UInt8(best)
                                }
                            }
                        }
                    }
                }
            }
        }
        return result
    }
}
