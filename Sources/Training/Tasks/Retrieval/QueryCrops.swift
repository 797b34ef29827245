import Foundation
import Images
import Support

/// The query images cut to their boxes as PIL's `Image.crop` cuts them (each coordinate rounded
/// half to even, as Python's `round`), saved as PNG files (lossless: the features see the
/// decoded pixels). A crop file is rewritten only when its bytes change, so the feature cache
/// (keyed by file size and time) keeps its entries. A query whose box is not finite or not
/// inside its image, or whose image cannot be read, is skipped with the reason.
public enum QueryCrops {
    public static func make(_ gt: RetrievalGroundTruth, images: ConfinedFolder, gndPath: String, folder: String,
                            maxPixels: Int) throws -> (paths: [String], queries: [Int], skipped: [SkippedInput]) {
        try FileSystem.createDirectories(folder)
        var paths: [String] = [], queries: [Int] = [], skipped: [SkippedInput] = []
        for (q, query) in gt.queries.enumerated() {
            let source = try images.resolve(query.name + ".jpg", listedIn: gndPath)
            do {
                let image = try ImageDecoder.decode(path: source, maxPixels: maxPixels)
                let crop = try query.box.map { try cropped(image, box: try pixelBox($0, width: image.width, height: image.height)) } ?? image
                let destination = folder + String(format: "/q%05d.png", q)
                let data = try PNGEncoder.encode(pixels: crop.pixels, width: crop.width, height: crop.height, channels: 3)
                if (try? FileSystem.read(destination, limit: Int64(data.count))) != data { try AtomicFile.write(data, to: destination) }
                paths.append(destination)
                queries.append(q)
            } catch {
                skipped.append(SkippedInput(index: q, path: source, reason: "query \(q): \(error)"))
            }
        }
        return (paths, queries, skipped)
    }

    /// PIL's integer box (x0, y0, x1, y1) of `box`, checked to lie inside the image and hold pixels.
    public static func pixelBox(_ box: [Double], width: Int, height: Int) throws -> (x0: Int, y0: Int, x1: Int, y1: Int) {
        guard box.count == 4, box.allSatisfy({ $0.isFinite && abs($0) < 1e9 }) else {
            throw ImageError.invalid("its box \(box) is not four finite coordinates")
        }
        let r = box.map { Int($0.rounded(.toNearestOrEven)) }
        guard r[0] >= 0, r[1] >= 0, r[0] < r[2], r[1] < r[3], r[2] <= width, r[3] <= height else {
            throw ImageError.invalid("its box \(box) (pixels \(r)) is empty or reaches outside the \(width)x\(height) image")
        }
        return (r[0], r[1], r[2], r[3])
    }

    static func cropped(_ image: RGBImage, box: (x0: Int, y0: Int, x1: Int, y1: Int)) throws -> RGBImage {
        let w = box.x1 - box.x0
        var pixels: [UInt8] = []
        pixels.reserveCapacity(w * (box.y1 - box.y0) * 3)
        for y in box.y0..<box.y1 { pixels += image.pixels[((y * image.width + box.x0) * 3)..<((y * image.width + box.x1) * 3)] }
        return try RGBImage(width: w, height: box.y1 - box.y0, pixels: pixels)
    }
}
