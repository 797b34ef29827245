/// Settings of the SPair keypoint-correspondence protocol (docs/protocols.md, "Keypoint correspondence").
public struct CorrespondenceSettings: TaskSettings {
    /// SPair split: test, val or trn.
    public var split = "test"
    /// Categories evaluated (empty: all).
    public var categories: [String] = []
    /// At most this many pairs per category, in file-name order (nil: all).
    public var limit: Int?
    /// Side of the square model input (Probe3D's `image_size`: 800).
    public var size = 800
    /// Soft-argmax window half-width in target pixels (nil: plain argmax).
    public var softArgmaxWindow: Int?
    /// Memory for the patch features of images kept between pairs, in MiB.
    public var cacheMegabytes = 2048

    public init() {}

    /// Every setting in its range.
    public func validate() throws {
        guard SPairData.splits.contains(split) else { throw SettingError(setting: "split", problem: "must be one of \(SPairData.splits.joined(separator: ", "))") }
        if categories.contains(where: \.isEmpty) { throw SettingError(setting: "categories", problem: "names no category") }
        try SettingError.range(limit, Ranges.limit, "limit")
        try SettingError.multiple(size, of: 16, Ranges.size, "size")
        try SettingError.range(softArgmaxWindow, Ranges.softArgmaxWindow, "softArgmaxWindow")
        try SettingError.range(cacheMegabytes, Ranges.cacheMegabytes, "cacheMegabytes")
    }

    /// The values a run accepts (the CLI checks its options against them).
    public enum Ranges {
        public static let size = 16...4096
        public static let limit = 1...1_000_000
        public static let softArgmaxWindow = 0...256
        public static let cacheMegabytes = 16...1_048_576
    }
}
