import Foundation
import Support

/// A pickle of plain data only (None, bools, ints, floats, strings, lists, tuples read as lists,
/// and dicts with string keys), such as revisitop's `gnd_<name>.pkl`. Read by the restricted
/// `Unpickler` with every global, call and persistent id refused, nesting bounded, and the values
/// built (memo references copied) within a fixed budget of nodes, so a file cannot make the
/// reader run code or expand into more than `maxNodes` values.
public indirect enum PlainPickle: Sendable, Equatable {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case list([PlainPickle])
    case dict([String: PlainPickle])

    /// Most values a file may expand into (a shared list counts at every place it is used).
    public static let maxNodes = 2_000_000
    /// Largest file read.
    public static let maxBytes = 512 << 20

    /// Reads and checks the pickle at `path`.
    public static func read(path: String) throws -> PlainPickle {
        let data = try FileSystem.read(path, limit: Int64(maxBytes))
        return try parse([UInt8](data), path: path)
    }

    /// Parses pickle bytes; `path` names them in errors.
    public static func parse(_ bytes: [UInt8], path: String) throws -> PlainPickle {
        var unpickler = Unpickler(bytes, plainOnly: true)
        var budget = maxNodes
        do {
            return try convert(try unpickler.load(), budget: &budget)
        } catch let failure as Unpickler.Failure { throw TorchFileError.badPickle(path: path, reason: failure.reason) }
    }

    private static func convert(_ value: PickleValue, budget: inout Int) throws -> PlainPickle {
        budget -= 1
        guard budget >= 0 else { throw Unpickler.Failure(reason: "it expands into more than \(maxNodes) values (shared references repeated?)") }
        switch value {
        case .none: return .none
        case let .bool(b): return .bool(b)
        case let .int(i): return .int(i)
        case let .float(f): return .float(f)
        case let .string(s): return .string(s)
        case let .tuple(t): return .list(try t.items.map { try convert($0, budget: &budget) })
        case let .list(l): return .list(try l.items.map { try convert($0, budget: &budget) })
        case let .dict(d):
            var out: [String: PlainPickle] = [:]
            for key in d.keys { out[key] = try convert(d.values[key] ?? .none, budget: &budget) }
            return .dict(out)
        case .global, .storage, .tensor: throw Unpickler.Failure(reason: "it holds \(value.kind), not plain data")
        }
    }
}

extension PlainPickle {
    /// The value as a protocol-3 pickle program (what Python 3's `pickle.dump` writes for plain
    /// data; dict keys in sorted order), readable by `parse` and by Python.
    public func pickled() -> [UInt8] {
        var out: [UInt8] = [0x80, 3]
        write(into: &out)
        out.append(0x2E)  // STOP
        return out
    }

    private func write(into out: inout [UInt8]) {
        func little<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        switch self {
        case .none: out.append(0x4E)
        case let .bool(b): out.append(b ? 0x88 : 0x89)
        case let .int(i):
            if let small = Int32(exactly: i) { out.append(0x4A); little(small) } else { out += [0x8A, 8]; little(Int64(i)) }
        case let .float(f): out.append(0x47); withUnsafeBytes(of: f.bitPattern.bigEndian) { out += $0 }
        case let .string(s): out.append(0x58); little(UInt32(s.utf8.count)); out += s.utf8
        case let .list(items):
            out += [0x5D, 0x28]  // EMPTY_LIST, MARK
            for item in items { item.write(into: &out) }
            out.append(0x65)  // APPENDS
        case let .dict(d):
            out += [0x7D, 0x28]  // EMPTY_DICT, MARK
            for key in d.keys.sorted() {
                PlainPickle.string(key).write(into: &out)
                d[key]?.write(into: &out)
            }
            out.append(0x75)  // SETITEMS
        }
    }
}
