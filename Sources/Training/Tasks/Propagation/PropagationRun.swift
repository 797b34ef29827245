import Backbone
import Evaluation
import Foundation
import Images
import Plots
import Support

/// What one video gave: its scores (none when only the first frame is annotated) and a strip of
/// frames with the masks overlaid for the report.
public struct PropagatedVideo: Sendable {
    public var name: String
    public var frames: Int
    public var gridHeight: Int, gridWidth: Int
    public var scores: [VideoObjectScores]
    public var strip: [HTMLReport.GalleryItem]
}

/// Runs DINO's video segmentation protocol on one video after another: frames read as its
/// `read_frame` (short side `scaleSize`, long side rounded down to a multiple of 64, DINO's mean
/// and std), patch tokens of the last block, label propagation, one palette PNG per frame.
public struct PropagationRun: Sendable {
    public let model: DINOv3Model
    public let settings: PropagationSettings
    public let maxPixels: Int
    /// Where each video's tokens are cached (nil: extracted as needed, not kept).
    public let cacheFolder: String?
    /// Frames shown per video in the report.
    public static let stripFrames = 5

    /// Hears of cache entries waited for or found unusable.
    public let reporter: Reporter

    /// Throws when `model`'s patch size does not divide 64 (the protocol's frame sides).
    public init(model: DINOv3Model, settings: PropagationSettings, cacheFolder: String?, maxPixels: Int = ImageDecoder.defaultMaxPixels,
                reporter: Reporter = SilentReporter()) throws {
        guard 64 % model.config.patchSize == 0 else { throw TrainingError.badOption("the protocol needs a patch size dividing 64, this model's is \(model.config.patchSize)") }
        (self.model, self.settings, self.cacheFolder, self.maxPixels, self.reporter) = (model, settings, cacheFolder, maxPixels, reporter)
    }

    /// Propagates every video of `videos` into `folder` (`run`), with progress by frame; a video
    /// that fails is skipped, named with the reason in the reporter's notes and in `failed`.
    public func run(_ videos: [VideoSequence], into folder: String) -> (videos: [PropagatedVideo], failed: [SkippedInput]) {
        let progress = reporter.task("propagate", total: videos.reduce(0) { $0 + $1.frames.count }, unit: "frames")
        var done = 0, results: [PropagatedVideo] = [], failed: [SkippedInput] = []
        for (index, video) in videos.enumerated() {
            do {
                results.append(try run(video, into: folder) { done += 1; progress.update(done, note: video.name) })
            } catch {
                reporter.note("skipped video \(shown(video.name)): \(error)")
                failed.append(SkippedInput(index: index, path: video.name, reason: "\(error)"))
            }
        }
        progress.finish(done)
        return (results, failed)
    }

    /// Propagates `video`'s first annotation, writes `folder/NAME/STEM.png` for every frame
    /// (the first annotation itself for frame 0, as the reference) and scores frames 1 to n-2
    /// against the annotations when all frames have one. `onFrame` is called once per frame (as
    /// it is extracted into the cache, or else as it is propagated).
    public func run(_ video: VideoSequence, into folder: String, onFrame: @escaping () -> Void) throws -> PropagatedVideo {
        let first = try MaskDecoder.decode(path: video.annotations[0], maxPixels: maxPixels)
        if let id = first.labels.max(), !PropagationSettings.Ranges.objectID.contains(Int(id)) {
            throw TrainingError.incompatible("\(video.annotations[0]) holds object id \(id); ids \(PropagationSettings.Ranges.objectID) are accepted")
        }
        let (width, height) = (first.width, first.height)
        let start = try videoTokens(video, width: width, height: height, onExtracted: onFrame)
        let (classes, oneHot) = PropagationLabels.oneHot(first, gridHeight: start.gridHeight, gridWidth: start.gridWidth)
        var propagator = try LabelPropagator(settings: settings, gridHeight: start.gridHeight, gridWidth: start.gridWidth,
                                             dim: model.config.hiddenSize, firstFeatures: try start.frame(0), firstLabels: oneHot)
        let palette = video.palette + Palette.voc()[min(video.palette.count, 768)...]
        let shown = Set((0..<Self.stripFrames).map { $0 * (video.frames.count - 1) / (Self.stripFrames - 1) })
        var scorer = video.isAnnotated ? VideoObjectScorer(video: video.name, objects: VideoObjectScorer.objects(inFirstAnnotation: first.labels)) : nil
        var strip: [HTMLReport.GalleryItem] = []
        func finish(frame t: Int, labels: [UInt8]) throws {
            try PNGEncoder.writeIndexed(labels, width: width, height: height, palette: palette, to: "\(folder)/\(video.name)/\(video.stems[t]).png")
            if shown.contains(t) { strip.append(try picture(video.frames[t], labels: labels, palette: palette, classes: classes, caption: "\(video.name) \(video.stems[t])")) }
            if !start.extractedNow { onFrame() }
        }
        try finish(frame: 0, labels: first.labels)
        for t in 1..<video.frames.count {
            let soft = try propagator.propagate(try start.frame(t))
            let map = try PropagationLabels.labelMap(soft, classes: classes, gridHeight: start.gridHeight, gridWidth: start.gridWidth,
                                                     patch: model.config.patchSize, width: width, height: height)
            if scorer != nil, t < video.frames.count - 1 {
                let truth = try MaskDecoder.decode(path: video.annotations[t], maxPixels: maxPixels)
                guard truth.width == width, truth.height == height else {
                    throw TrainingError.incompatible("\(video.annotations[t]) is \(truth.width)x\(truth.height), the first annotation \(width)x\(height)")
                }
                scorer?.add(annotation: truth.labels, prediction: map.labels, width: width, height: height)
            }
            try finish(frame: t, labels: map.labels)
        }
        let scores = scorer?.finish() ?? []
        guard scores.allSatisfy({ [$0.j.mean, $0.j.recall, $0.j.decay, $0.f.mean, $0.f.recall, $0.f.decay].allSatisfy(\.isFinite) }) else {
            throw TrainingError.incompatible("\(video.name): its decay is not finite (davis2017-evaluation keeps frame indices in 8 bits: over 257 frames they wrap)")
        }
        return PropagatedVideo(name: video.name, frames: video.frames.count, gridHeight: start.gridHeight, gridWidth: start.gridWidth,
                               scores: scores, strip: strip)
    }

    /// The patch tokens [cells, dim] of the last block for a frame, read as `read_frame` reads it
    /// (cv2's bilinear resize to the bit, `/ 255`, DINO's mean and std).
    func tokens(_ path: String, width: Int, height: Int) throws -> (tokens: [Float], gridHeight: Int, gridWidth: Int) {
        let file = try ImageDecoder.open(path)
        let info = try ImageDecoder.info(of: file, maxPixels: maxPixels)
        guard info.width == width, info.height == height else {
            throw TrainingError.incompatible("\(path) is \(info.width)x\(info.height), the first annotation \(width)x\(height)")
        }
        let size = try settings.inputSize(width: width, height: height)
        let resized = try OpenCVResize.linear(ImageDecoder.decode(file: file, maxPixels: maxPixels), width: size.width, height: size.height)
        let plane = size.width * size.height
        var values = [Float](repeating: 0, count: 3 * plane)
        for p in 0..<plane { for c in 0..<3 { values[c * plane + p] = Float(resized.pixels[p * 3 + c]) / 255 } }
        let pixels = Preprocessing(mean: settings.mean, std: settings.std).normalise(values, plane: plane)
        let out = try model.forward(pixels: pixels, batch: 1, height: size.height, width: size.width)
        return (Array(out.patchTokens(0)), out.gridHeight, out.gridWidth)
    }

    /// One frame with its label map overlaid, as a report thumbnail.
    func picture(_ path: String, labels: [UInt8], palette: [UInt8], classes: Int, caption: String) throws -> HTMLReport.GalleryItem {
        let image = try ImageDecoder.decode(path: path, maxPixels: maxPixels)
        let names = ["background"] + (1..<max(classes, 1)).map { "object \($0)" }
        let overlay = try SegmentationRendering.overlay(image: image, mask: labels, palette: palette, classNames: names)
        return HTMLReport.GalleryItem(png: try Thumbnail.png(overlay, maxSide: 240), caption: caption)
    }
}
