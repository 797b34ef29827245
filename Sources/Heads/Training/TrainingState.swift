import Foundation
import SafeTensors
import Support

/// Everything a training loop needs to continue exactly where it stopped: named float and
/// integer arrays (parameters, optimizer moments, sampler order, random state) and a few
/// strings (the step, what the run was started with). Saved as one safetensors file, written
/// whole or not at all.
public struct TrainingState: Sendable {
    public var floats: [String: [Float]] = [:]
    public var integers: [String: [Int64]] = [:]
    public var info: [String: String] = [:]

    /// The `kind` a state file declares in its metadata.
    static let formatKey = "dinoprobe_training_state"

    public init() {}

    /// Writes the state atomically to `path`. Values are stored as they are (a diverged head's
    /// NaN included: the state is not a result, and resuming must be exact).
    public func write(to path: String) throws {
        var writer = SafeTensorsWriter(metadata: info.merging([Self.formatKey: "1"]) { _, new in new })
        for (name, values) in floats.sorted(by: { $0.key < $1.key }) { try writer.add("f." + name, floats: values, shape: [values.count]) }
        for (name, values) in integers.sorted(by: { $0.key < $1.key }) { try writer.add("i." + name, int64s: values, shape: [values.count]) }
        try writer.write(to: path)
    }

    /// Reads a state written by `write(to:)`. Throws `HeadError.badTrainingState` for anything else.
    public static func read(from path: String) throws -> TrainingState {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(path: path) } catch {
            throw HeadError.badTrainingState(path: path, reason: "\(error)")
        }
        guard file.metadata[formatKey] == "1" else {
            throw HeadError.badTrainingState(path: path, reason: "not a dinoprobe training state")
        }
        var state = TrainingState()
        state.info = file.metadata.filter { $0.key != formatKey }
        do {
            for (name, info) in file.tensors {
                guard info.shape.count == 1 else { throw HeadError.badTrainingState(path: path, reason: "tensor '\(name)' is not one-dimensional") }
                if name.hasPrefix("f."), info.dtype == .f32 {
                    state.floats[String(name.dropFirst(2))] = try file.floats(name)
                } else if name.hasPrefix("i."), info.dtype == .i64 {
                    state.integers[String(name.dropFirst(2))] = try file.ints(name)
                } else {
                    throw HeadError.badTrainingState(path: path, reason: "unexpected tensor '\(name)'")
                }
            }
        } catch let error as SafeTensorsError { throw HeadError.badTrainingState(path: path, reason: error.description) }
        return state
    }

    /// The float array `name`, which must hold `count` values.
    public func floats(_ name: String, count: Int) throws -> [Float] {
        guard let values = floats[name], values.count == count else {
            throw HeadError.badTrainingState(path: "", reason: "'\(name)' is missing or has \(floats[name]?.count ?? 0) values instead of \(count)")
        }
        return values
    }

    /// The integer array `name`, which must hold `count` values (any count when nil).
    public func integers(_ name: String, count: Int? = nil) throws -> [Int64] {
        guard let values = integers[name], count.map({ values.count == $0 }) ?? true else {
            throw HeadError.badTrainingState(path: "", reason: "'\(name)' is missing or has the wrong number of values")
        }
        return values
    }

    /// The string `name`.
    public func string(_ name: String) throws -> String {
        guard let value = info[name] else { throw HeadError.badTrainingState(path: "", reason: "'\(name)' is missing") }
        return value
    }
}

/// A part of a training loop whose state goes into a `TrainingState` under a name prefix.
public protocol Resumable {
    /// Adds this part's state under `prefix`.
    func save(into state: inout TrainingState, as prefix: String)
    /// Replaces this part's state with the one saved under `prefix`; throws when it is missing
    /// or does not fit (other shapes, other settings).
    mutating func restore(from state: TrainingState, as prefix: String) throws
}

extension SeededRandom: Resumable {
    public func save(into state: inout TrainingState, as prefix: String) {
        state.integers[prefix] = self.state.map { Int64(bitPattern: $0) }
    }

    public mutating func restore(from state: TrainingState, as prefix: String) throws {
        guard let restored = SeededRandom(state: try state.integers(prefix, count: 6).map { UInt64(bitPattern: $0) }) else {
            throw HeadError.badTrainingState(path: "", reason: "'\(prefix)' is not a random generator state")
        }
        self = restored
    }
}

extension BatchSampler: Resumable {
    public func save(into state: inout TrainingState, as prefix: String) {
        state.integers[prefix + ".order"] = order.map(Int64.init)
        state.integers[prefix + ".cursor"] = [Int64(cursor), Int64(count), Int64(batchSize)]
    }

    public mutating func restore(from state: TrainingState, as prefix: String) throws {
        let header = try state.integers(prefix + ".cursor", count: 3)
        let order = try state.integers(prefix + ".order")
        guard header[1] == count, header[2] == batchSize else {
            throw HeadError.badTrainingState(path: "", reason: "the batch sampler was saved for \(header[1]) samples in batches of \(header[2]), not \(count) in batches of \(batchSize); resume with the data and --batch-size the run started with, or start again with --overwrite")
        }
        let isPermutation = order.isEmpty || (order.count == count && order.allSatisfy { $0 >= 0 && $0 < count } && Set(order).count == count)
        guard isPermutation, header[0] >= 0, header[0] <= order.count else {
            let what = isPermutation ? "its position \(header[0]) lies outside its \(order.count) shuffled indices"
                : "its shuffled order (\(order.count) indices) is not an arrangement of the \(count) samples 0 to \(count - 1)"
            throw HeadError.badTrainingState(path: "", reason: "the batch sampler's state is damaged: \(what); the file was altered or corrupted, so start again with --overwrite")
        }
        self.order = order.map { Int($0) }
        cursor = Int(header[0])
    }
}
