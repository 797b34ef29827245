import CImageCodecs
import Foundation
import Support

extension ResamplePlan {
    /// The plan as the C codecs take it, for an image with this EXIF orientation.
    func cPlan(orientation: Int) -> ic_resample_plan {
        ic_resample_plan(out_width: Int32(outputWidth), out_height: Int32(outputHeight), crop_x: Int32(cropX),
                         crop_y: Int32(cropY), crop_width: Int32(cropWidth), crop_height: Int32(cropHeight),
                         filter: Int32(bicubic ? IC_RESAMPLE_BICUBIC : IC_RESAMPLE_BILINEAR), orientation: Int32(orientation),
                         mirror: mirrored ? 1 : 0)
    }
}

extension ImageDecoder {
    /// Memory one image's decode and resize may use: 8 bytes per allowed pixel, plus 64 MiB.
    public static func memoryBudget(maxPixels: Int) -> Int64 {
        Int64(max(0, min(maxPixels, maxPixelsLimit))) * 8 + (64 << 20)
    }

    /// Decodes the file and resizes it in one streaming pass (see `ResamplePlan`): the decoded
    /// image is never held whole unless its EXIF orientation swaps the sides or it is an
    /// interlaced PNG, so a huge image costs about `height x cropWidth x 12` bytes.
    /// Returns planar RGB floats [3, cropHeight, cropWidth] in [0, 1].
    public static func decodeResampled(file: MappedFile, info: ImageInfo, plan: ResamplePlan,
                                       maxPixels: Int = defaultMaxPixels) throws -> [Float] {
        try plan.check()
        var c = plan.cPlan(orientation: info.orientation.value)
        var message = [CChar](repeating: 0, count: 512)
        var status: Int32 = 0
        let out = [Float](unsafeUninitializedCapacity: plan.outputCount) { buffer, initialized in
            status = file.withBytes { raw in
                ic_decode_resampled(raw.bindMemory(to: UInt8.self).baseAddress!, raw.count, Int64(maxPixels),
                                    memoryBudget(maxPixels: maxPixels), &c, buffer.baseAddress, &message, message.count)
            }
            if status != 0 { buffer.initialize(repeating: 0) }
            initialized = plan.outputCount
        }
        switch status {
        case 0: return out
        case 2: throw ImageError.tooLarge(path: file.path, width: info.width, height: info.height, limit: maxPixels)
        default: throw ImageError.corrupt(path: file.path, format: info.format.name, reason: cString(message))
        }
    }
}

/// The resampler on an image already in memory (same arithmetic as `decodeResampled`).
public enum ImageResampler {
    /// Planar RGB floats [3, cropHeight, cropWidth] of `image` resized by `plan`.
    public static func resample(_ image: RGBImage, plan: ResamplePlan) throws -> [Float] {
        try plan.check()
        let filter = Int32(plan.bicubic ? IC_RESAMPLE_BICUBIC : IC_RESAMPLE_BILINEAR)
        guard let r = ic_resampler_create(Int32(image.width), Int32(image.height), Int32(plan.outputWidth), Int32(plan.outputHeight),
                                          Int32(plan.cropX), Int32(plan.cropY), Int32(plan.cropWidth), Int32(plan.cropHeight), filter) else {
            throw ImageError.invalid("cannot resize a \(image.width)x\(image.height) image to \(plan.outputWidth)x\(plan.outputHeight)")
        }
        defer { ic_resampler_free(r) }
        var first: Int32 = 0, last: Int32 = 0
        ic_resampler_needed_rows(r, &first, &last)
        image.pixels.withUnsafeBufferPointer { px in
            for y in Int(first)..<Int(last) {
                _ = ic_resampler_push_row(r, Int32(y), px.baseAddress! + y * image.width * 3, plan.mirrored ? 1 : 0)
            }
        }
        var status: Int32 = 0
        let out = [Float](unsafeUninitializedCapacity: plan.outputCount) { buffer, initialized in
            status = ic_resampler_finish(r, buffer.baseAddress)
            if status != 0 { buffer.initialize(repeating: 0) }
            initialized = plan.outputCount
        }
        guard status == 0 else { throw ImageError.invalid("resampling failed") }
        return out
    }
}
