import ArgumentParser
import Backbone
import Datasets
import Foundation
import Heads
import Images

/// The library types the command lines take as option values.
extension ComputeDevice: ExpressibleByArgument {}
extension MetaArchitecture: ExpressibleByArgument {}
extension ComputePrecision: ExpressibleByArgument {}
extension PreprocessPreset: ExpressibleByArgument {}
extension ProbeOptimizer: ExpressibleByArgument {}
extension DatasetSplit: ExpressibleByArgument {}
extension Imagenette.Variant: ExpressibleByArgument {}
extension LinearSegmenter.TensorNaming: ExpressibleByArgument {}

/// A list option that takes comma-separated values, repeated values, or both:
/// `--lrs 1e-3,1e-2`, `--lrs 1e-3 1e-2` and `--lrs 1e-3 --lrs 1e-2` mean the same.
public struct CommaList<Value: LosslessStringConvertible & Sendable>: ExpressibleByArgument, Sendable {
    public let values: [Value]

    public init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let values = parts.compactMap { Value($0) }
        guard !parts.isEmpty, values.count == parts.count else { return nil }
        self.values = values
        text = parts.joined(separator: ",")
    }

    /// A default value of a list option, shown as typed (`1,2`, not `1.0,2.0`).
    public init(_ values: [Value]) {
        self.values = values
        text = values.map { $0.description.hasSuffix(".0") ? String($0.description.dropLast(2)) : $0.description }.joined(separator: ",")
    }

    /// The values as typed (`1e-3,1e-2`), without spaces.
    public let text: String

    /// For `--help`'s defaults: the values as typed, not the struct.
    public var defaultValueDescription: String { text }
}

extension CommaList: CustomStringConvertible {
    public var description: String { defaultValueDescription }
}

/// A `CommaList` of any value type (for run records).
public protocol CommaListProtocol {
    var anyValues: [Any] { get }
}

extension CommaList: CommaListProtocol {
    public var anyValues: [Any] { values }
}

extension Array {
    /// The values of a list option given as `CommaList`s.
    public func flattened<Value>() -> [Value] where Element == CommaList<Value> { flatMap(\.values) }
}

/// An old spelling of an option, still accepted: its value is used, with a note saying what to
/// write instead.
public func deprecated<T>(_ value: T?, old: String, new: String) -> T? {
    guard let value else { return nil }
    Console.err("note: \(old) is deprecated; use \(new)")
    return value
}

/// Which backbone to run, and where.
