@_exported import ImagePreprocessing
import Foundation
import Support

/// Preprocessing applied to pixels: the decoding and resizing half, which needs the codecs (the
/// settings themselves live in ImagePreprocessing, which `import Images` re-exports).
extension Preprocessing {
    /// Pixel values [3, H, W] (channel-major), normalised, of an image in memory.
    public func apply(_ image: RGBImage, mirrored: Bool = false) throws -> (pixels: [Float], height: Int, width: Int) {
        let plan = try plan(width: image.width, height: image.height, mirrored: mirrored)
        return (normalised(try ImageResampler.resample(image, plan: plan), plan), plan.cropHeight, plan.cropWidth)
    }

    /// Pixel values [3, H, W] of an image file, decoded and resized in one streaming pass: a
    /// huge image never sits in memory whole (see `ImageDecoder.decodeResampled`).
    public func prepare(file: MappedFile, maxPixels: Int = ImageDecoder.defaultMaxPixels,
                        mirrored: Bool = false) throws -> (pixels: [Float], height: Int, width: Int) {
        let info = try ImageDecoder.info(of: file, maxPixels: maxPixels)
        let plan: ResamplePlan
        do { plan = try self.plan(width: info.width, height: info.height, mirrored: mirrored) } catch let error as ImageError {
            throw ImageError.unsupportedFormat(path: file.path, reason: error.reason)
        }
        let values = try ImageDecoder.decodeResampled(file: file, info: info, plan: plan, maxPixels: maxPixels)
        return (normalised(values, plan), plan.cropHeight, plan.cropWidth)
    }

    /// `(x - mean) / std` per channel, in the buffer it is given (a fresh resize: no copy).
    private func normalised(_ values: consuming [Float], _ plan: ResamplePlan) -> [Float] {
        var out = consume values
        normaliseInPlace(&out, plane: plan.cropWidth * plan.cropHeight)
        return out
    }
}
