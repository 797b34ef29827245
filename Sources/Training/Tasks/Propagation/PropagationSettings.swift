/// Settings of video label propagation, with the defaults of DINO's `eval_video_segmentation.py`.
public struct PropagationSettings: TaskSettings {
    /// Previous frames kept in the queue besides the first (`--n_last_frames`).
    public var context = 7
    /// Neighbours whose labels are averaged (`--topk`).
    public var topk = 5
    /// Half-side of the square patch neighbourhood searched (`--size_mask_neighborhood`); 0: the whole frame.
    public var radius = 12
    /// The side frames are scaled to (`read_frame`'s `scale_size`): the short side, the long one rounded down to a multiple of 64.
    public var scaleSize = 480
    /// Affinities are `exp(cosine / temperature)` (the reference divides by 0.1).
    public var temperature: Float = 0.1
    /// `color_normalize`'s statistics (note its std 0.228, not ImageNet's 0.229).
    public var mean: [Float] = [0.485, 0.456, 0.406]
    public var std: [Float] = [0.228, 0.224, 0.225]

    public init() {}

    /// The values a run accepts (the CLI checks its options against them).
    public enum Ranges {
        public static let context = 0...64
        public static let topk = 1...1024
        public static let radius = 0...64
        public static let scaleSize = 64...2048
        /// Object ids a first-frame annotation may hold (the label maps hold ids + 1 channels).
        public static let objectID = 0...63
    }

    /// Every setting in its range.
    public func validate() throws {
        try SettingError.range(context, Ranges.context, "context")
        try SettingError.range(topk, Ranges.topk, "topk")
        try SettingError.range(radius, Ranges.radius, "radius")
        try SettingError.multiple(scaleSize, of: 16, Ranges.scaleSize, "scaleSize")
        try SettingError.finite(temperature, Float.leastNormalMagnitude...100, "temperature")
    }

    /// `read_frame`'s (and `read_seg`'s) input size for a `width` x `height` frame: the short side
    /// at `scaleSize`, the long side `floor(scaleSize * long / short / 64) * 64`.
    public func inputSize(width: Int, height: Int) throws -> (height: Int, width: Int) {
        guard width > 0, height > 0 else { throw TrainingError.badOption("a frame of \(width)x\(height) pixels") }
        func rounded(_ long: Int, _ short: Int) -> Int { Int((Double(scaleSize * long) / Double(short) / 64).rounded(.down)) * 64 }
        let size = height > width ? (rounded(height, width), scaleSize) : (scaleSize, rounded(width, height))
        guard size.0 <= 8192, size.1 <= 8192 else {
            throw TrainingError.badOption("a \(width)x\(height) frame scales to \(size.1)x\(size.0) pixels, over 8192")
        }
        return size
    }
}
