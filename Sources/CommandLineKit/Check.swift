import ArgumentParser
import Support

/// Checks on option values, done in `validate()` before any work: every integer has a range
/// (so arithmetic on it cannot overflow), every real number must be finite and in range.
public enum Check {
    /// Most CPU threads accepted (far above any machine dinoprobe runs on; keeps pools sane).
    public static let maxThreads = 256

    public static func range<T: Comparable>(_ value: T, _ range: ClosedRange<T>, _ flag: String) throws {
        guard range.contains(value) else {
            throw ValidationError("\(flag) is \(value); it must be in \(range.lowerBound)...\(range.upperBound)")
        }
    }

    public static func optionalRange<T: Comparable>(_ value: T?, _ range: ClosedRange<T>, _ flag: String) throws {
        if let value { try self.range(value, range, flag) }
    }

    /// A finite number in `range` (NaN and infinities are refused).
    public static func finite<T: BinaryFloatingPoint>(_ value: T, _ range: ClosedRange<T>, _ flag: String) throws {
        guard value.isFinite, range.contains(value) else {
            throw ValidationError("\(flag) is \(value); it must be a finite number in \(range.lowerBound)...\(range.upperBound)")
        }
    }

    /// A folder at `path` (given as `flag`), refused before any work with the names beside it
    /// that are close.
    public static func folder(_ path: String, _ flag: String) throws {
        guard !FileSystem.isDirectory(path) else { return }
        let what = FileSystem.exists(path) ? "is not a folder" : "no such folder"
        throw ValidationError("\(flag) \(shown(path)): \(what)\(Suggestions.didYouMean(Suggestions.siblings(of: path)))")
    }

    /// A multiple of `step` in `range`.
    public static func multiple(_ value: Int, of step: Int, _ range: ClosedRange<Int>, _ flag: String) throws {
        try self.range(value, range, flag)
        guard value % step == 0 else { throw ValidationError("\(flag) is \(value); it must be a multiple of \(step)") }
    }

    /// `count` comma-separated finite numbers, each in `range`.
    public static func numbers(_ text: String, count: Int, _ range: ClosedRange<Float>, _ flag: String) throws -> [Float] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let values = parts.compactMap { Float($0) }
        guard parts.count == count, values.count == count else {
            throw ValidationError("\(flag) needs \(count) comma-separated numbers, got '\(text)'")
        }
        for v in values { try finite(v, range, flag) }
        return values
    }

    /// Integers from a comma-separated list, each in `range`.
    public static func integers(_ text: String, _ range: ClosedRange<Int>, _ flag: String) throws -> [Int] {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let values = parts.compactMap { Int($0) }
        guard !parts.isEmpty, values.count == parts.count else { throw ValidationError("\(flag) takes integers such as 1,8,32, got '\(text)'") }
        for v in values { try self.range(v, range, flag) }
        return values
    }

    /// Distinct integers in ascending order from a comma-separated list, each in `range`.
    public static func ascendingIntegers(_ text: String, _ range: ClosedRange<Int>, _ flag: String) throws -> [Int] {
        let values = try integers(text, range, flag)
        guard zip(values, values.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw ValidationError("\(flag) is '\(text)'; list each value once, in ascending order (e.g. \(Array(range.prefix(3)).map(String.init).joined(separator: ",")))")
        }
        return values
    }
}
