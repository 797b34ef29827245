/// A head that maps patch features to `channels` values per patch (class logits, depth): what
/// whole-image and sliding-window inference drive.
public protocol DenseHead: Sendable {
    /// C, the values per pixel.
    var channels: Int { get }
    /// The head's record: recipe (resolution, blocks), classes, backbone.
    var metadata: HeadMetadata { get }
    /// Inference-mode outputs on the patch grid, [batch, height, width, channels], from
    /// features [batch, height, width, dim].
    func logits(features: [Float], batch: Int, height: Int, width: Int) throws -> [Float]
}

extension DenseHead {
    /// Inference-mode outputs upsampled bilinearly (align_corners false) to
    /// [batch, outputHeight, outputWidth, channels].
    public func upsampledLogits(features: [Float], batch: Int, height: Int, width: Int,
                                outputHeight: Int, outputWidth: Int) throws -> [Float] {
        let upsampler = try BilinearUpsampler(inputHeight: height, inputWidth: width, outputHeight: outputHeight, outputWidth: outputWidth)
        return try upsampler.forward(try logits(features: features, batch: batch, height: height, width: width),
                                     batch: batch, channels: channels)
    }
}

extension LinearSegmenter: DenseHead {
    public var channels: Int { classes }
}
