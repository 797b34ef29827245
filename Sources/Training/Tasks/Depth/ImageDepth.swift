import Backbone
import Foundation
import Images
import Plots
import Support

/// The depth of single images with a saved head, for people and for programs: per image a
/// plasma-coloured PNG (near dark, far bright, over that image's own predicted range) and a
/// 16-bit greyscale PNG of the depth in millimetres (0...65535, as NYU's depth files).
public enum ImageDepth {
    public struct Result: Sendable {
        public var width: Int, height: Int
        /// The predicted range in metres (the colour PNG spans it).
        public var nearest: Float, farthest: Float
        /// Files written: `<stem>.depth.png` (colours), `<stem>.depth16.png` (millimetres).
        public var files: [String]
    }

    /// Predicts every image of `paths` (`inference`, flip-averaged with `flip`) at its own size and
    /// writes its two PNGs at `stems[i]` + `.depth.png` / `.depth16.png`. An image that cannot be
    /// read, or whose prediction is not finite (refused, nothing written), goes to `onFailure`.
    public static func run(head: DepthHead, model: DINOv3Model, paths: [String], stems: [String], inference: DenseInference, flip: Bool,
                           maxPixels: Int = ImageDecoder.defaultMaxPixels, onFailure: (SkippedInput) -> Void,
                           onResult: (Int, Result) throws -> Void) throws {
        guard paths.count == stems.count else { throw TrainingError.badOption("one output stem per image") }
        try inference.run(head: head, model: model, paths: paths, batchSize: 4, maxPixels: maxPixels, flipAveraged: flip,
                          onSkip: onFailure) { index, outputs, height, width in
            do {
                let info = try ImageDecoder.info(path: paths[index], maxPixels: maxPixels)
                let depth = try DepthMap.upsampled(outputs, height: height, width: width, toWidth: info.width, height: info.height)
                try onResult(index, try write(depth, stem: stems[index]))
            } catch {
                onFailure(SkippedInput(index: index, path: paths[index], reason: "\(error)"))
            }
        }
    }

    /// Writes `depth`'s two PNGs; refuses a map with a NaN or infinite depth before writing either.
    static func write(_ depth: DepthMap, stem: String) throws -> Result {
        let millimetres = try depth.encoded(scale: 1000)
        let (near, far) = (depth.values.min() ?? 0, depth.values.max() ?? 0)
        let colours = try ColorMap.plasma.image(depth.values, width: depth.width, height: depth.height, range: near...max(far, near + 1e-3))
        let files = ["\(stem).depth.png", "\(stem).depth16.png"]
        try FileSystem.createDirectories(ByteText.parent(of: stem))
        try PNGEncoder.write(colours, to: files[0])
        try GreyPNG16.write(millimetres, to: files[1])
        return Result(width: depth.width, height: depth.height, nearest: near, farthest: far, files: files)
    }
}
