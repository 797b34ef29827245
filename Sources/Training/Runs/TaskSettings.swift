
/// A task's settings: one `Codable` value holding its defaults (`init()`) and checked against
/// its ranges (`validate()`). The CLI builds it from option groups, run.json records it, and
/// `rerun` reads it back.
public protocol TaskSettings: Codable, Sendable, Equatable {
    init()
    /// Throws `SettingError` naming the first setting outside its range.
    func validate() throws
}

extension TaskSettings {
    /// These settings, checked.
    public func validated() throws -> Self {
        try validate()
        return self
    }
}

/// A setting outside its range: `setting` is its coding key (`batchSize`), `problem` the rest
/// of the sentence (`is 0; it must be in 1...4096`).
public struct SettingError: Error, Equatable, CustomStringConvertible {
    public let setting: String
    public let problem: String

    public init(setting: String, problem: String) {
        (self.setting, self.problem) = (setting, problem)
    }

    public var description: String { "\(setting) \(problem)" }

    /// `value` in `range`.
    public static func range<T: Comparable>(_ value: T, _ range: ClosedRange<T>, _ setting: String) throws {
        guard range.contains(value) else {
            throw SettingError(setting: setting, problem: "is \(value); it must be in \(range.lowerBound)...\(range.upperBound)")
        }
    }

    /// `value` in `range` when there is one.
    public static func range<T: Comparable>(_ value: T?, _ range: ClosedRange<T>, _ setting: String) throws {
        if let value { try self.range(value, range, setting) }
    }

    /// A finite number in `range` (NaN and infinities are refused).
    public static func finite<T: BinaryFloatingPoint>(_ value: T, _ range: ClosedRange<T>, _ setting: String) throws {
        guard value.isFinite, range.contains(value) else {
            throw SettingError(setting: setting, problem: "is \(value); it must be a finite number in \(range.lowerBound)...\(range.upperBound)")
        }
    }

    /// A multiple of `step` in `range`.
    public static func multiple(_ value: Int, of step: Int, _ range: ClosedRange<Int>, _ setting: String) throws {
        try self.range(value, range, setting)
        guard value % step == 0 else { throw SettingError(setting: setting, problem: "is \(value); it must be a multiple of \(step)") }
    }

    /// Finite numbers, each in `range`.
    public static func finite<T: BinaryFloatingPoint>(_ values: [T], _ range: ClosedRange<T>, _ setting: String) throws {
        for value in values { try finite(value, range, setting) }
    }
}

/// The settings of a trained dense task, whose steps default to as many passes over the
/// training images as Meta's recipe makes over its data set.
public protocol DenseTrainingSettings: TaskSettings {
    var iterations: Int { get set }
    var batchSize: Int { get }
    /// Meta's steps, batch size and training images: the passes its recipe makes over its data set.
    static var metaBudget: TrainingBudget { get }
}

extension DenseTrainingSettings {
    /// The default steps for `images` training images in batches of `batchSize`: as many passes
    /// over the data as Meta's recipe makes, at least 100 steps and at most Meta's.
    public static func defaultIterations(images: Int, batchSize: Int) -> Int { metaBudget.steps(images: images, batchSize: batchSize) }
}

extension SegmentationSettings: DenseTrainingSettings {}
extension DepthSettings: DenseTrainingSettings {}
