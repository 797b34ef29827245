import Foundation
import SafeTensors
import TorchFile

/// A pickle program written opcode by opcode (protocol 2, as `torch.save` writes state dicts),
/// for building checkpoints and hostile variants of them in tests.
public struct PickleProgram {
    public private(set) var bytes: [UInt8] = [0x80, 2]

    public init() {}

    /// Any opcode with its raw operand bytes.
    public mutating func op(_ code: UInt8, _ operand: [UInt8] = []) { bytes += [code] + operand }

    public mutating func string(_ s: String) { op(0x58, le(UInt64(s.utf8.count), 4) + Array(s.utf8)) }

    /// BININT for values that fit 32 bits, else LONG1.
    public mutating func int(_ v: Int) {
        if let small = Int32(exactly: v) { op(0x4A, le(UInt64(UInt32(bitPattern: small)), 4)) } else { op(0x8A, [8] + le(UInt64(bitPattern: Int64(v)), 8)) }
    }

    public mutating func global(_ module: String, _ name: String) { op(0x63, Array("\(module)\n\(name)\n".utf8)) }
    public mutating func mark() { op(0x28) }
    public mutating func tuple() { op(0x74) }
    public mutating func emptyTuple() { op(0x29) }
    public mutating func emptyDict() { op(0x7D) }
    public mutating func emptyList() { op(0x5D) }
    public mutating func reduce() { op(0x52) }
    public mutating func setItems() { op(0x75) }
    public mutating func append() { op(0x61) }
    public mutating func put(_ index: UInt8) { op(0x71, [index]) }
    public mutating func get(_ index: UInt8) { op(0x68, [index]) }
    public mutating func stop() { op(0x2E) }

    /// A tuple of ints.
    public mutating func ints(_ values: [Int]) {
        mark()
        values.forEach { int($0) }
        tuple()
    }

    /// `_rebuild_tensor_v2(('storage', torch.<storage>, key, 'cpu', count), offset, shape, stride, False, OrderedDict())`.
    public mutating func tensor(storage: String = "FloatStorage", key: String, count: Int, offset: Int = 0, shape: [Int], stride: [Int]? = nil) {
        global("torch._utils", "_rebuild_tensor_v2")
        mark()
        mark()
        string("storage"); global("torch", storage); string(key); string("cpu"); int(count)
        tuple()
        op(0x51)  // BINPERSID
        int(offset)
        ints(shape)
        ints(stride ?? TorchSave.strides(shape))
        op(0x89)  // False
        global("collections", "OrderedDict"); emptyTuple(); reduce()
        tuple()
        reduce()
    }

    private func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
}

/// Writers of PyTorch checkpoints (`torch.save`'s zip of `data.pkl` and `data/<key>` storages).
public enum TorchSave {
    /// One tensor to save, as floats stored in F32 or BF16.
    public struct Saved {
        public var name: String
        public var values: [Float]
        public var shape: [Int]
        public var bf16: Bool

        public init(_ name: String, _ values: [Float], _ shape: [Int], bf16: Bool = false) {
            (self.name, self.values, self.shape, self.bf16) = (name, values, shape, bf16)
        }
    }

    /// The tensors of a checkpoint, in order (read back through TorchCheckpointFile).
    public static func tensors(of path: String) throws -> [Saved] {
        let file = try TorchCheckpointFile(path: path)
        return try file.names.compactMap { name in
            guard let info = file.tensors[name] else { return nil }
            return Saved(name, try file.floats(name), info.shape, bf16: info.dtype == .bf16)
        }
    }

    /// A state dict (an OrderedDict of tensors, one storage each) in the zip format.
    public static func stateDict(_ tensors: [Saved], prefix: String = "archive") -> Data {
        var program = PickleProgram()
        program.global("collections", "OrderedDict"); program.emptyTuple(); program.reduce()
        program.mark()
        var entries: [(String, [UInt8])] = []
        for (i, t) in tensors.enumerated() {
            program.string(t.name)
            program.tensor(storage: t.bf16 ? "BFloat16Storage" : "FloatStorage", key: "\(i)", count: t.values.count, shape: t.shape)
            let bytes = t.bf16 ? t.values.map { FloatConversion.floatToBF16($0) }.withUnsafeBytes { Array($0) } : t.values.withUnsafeBytes { Array($0) }
            entries.append(("\(prefix)/data/\(i)", bytes))
        }
        program.setItems()
        program.stop()
        return archive(program.bytes, prefix: prefix, storages: entries)
    }

    /// A checkpoint of a given pickle program and storage records.
    public static func archive(_ program: [UInt8], prefix: String = "archive", storages: [(String, [UInt8])] = [], zip64: Bool = false) -> Data {
        zip([("\(prefix)/data.pkl", program), ("\(prefix)/byteorder", Array("little".utf8))] + storages + [("\(prefix)/version", Array("3\n".utf8))], zip64: zip64)
    }

    /// Row-major strides of `shape`.
    public static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        for i in stride(from: shape.count - 2, through: 0, by: -1) { s[i] = s[i + 1] * shape[i + 1] }
        return s
    }

    /// A zip archive of stored entries; `zip64` writes ZIP64 records; `method` is claimed in the
    /// headers. Entries over 1 MiB get no checksum (the reader checks data.pkl's only; tests stay fast).
    public static func zip(_ entries: [(String, [UInt8])], zip64: Bool = false, method: UInt16 = 0) -> Data {
        var out = [UInt8](), directory = [UInt8]()
        func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
        for (name, bytes) in entries {
            let offset = UInt64(out.count), size = UInt64(bytes.count), crc = bytes.count > 1 << 20 ? 0 : UInt64(bytes.withUnsafeBytes { CRC32.of($0) })
            let name = Array(name.utf8), big = zip64 ? UInt64(0xFFFF_FFFF) : size
            let localExtra = zip64 ? le(1, 2) + le(16, 2) + le(size, 8) + le(size, 8) : []
            out += le(0x0403_4B50, 4) + le(45, 2) + le(0, 2) + le(UInt64(method), 2) + le(0, 4) + le(crc, 4) + le(big, 4) + le(big, 4)
            out += le(UInt64(name.count), 2) + le(UInt64(localExtra.count), 2) + name + localExtra + bytes
            let extra = zip64 ? le(1, 2) + le(24, 2) + le(size, 8) + le(size, 8) + le(offset, 8) : []
            directory += le(0x0201_4B50, 4) + le(45, 2) + le(45, 2) + le(0, 2) + le(UInt64(method), 2) + le(0, 4) + le(crc, 4)
            directory += le(big, 4) + le(big, 4) + le(UInt64(name.count), 2) + le(UInt64(extra.count), 2) + le(0, 2) + le(0, 2) + le(0, 2)
            directory += le(0, 4) + le(zip64 ? 0xFFFF_FFFF : offset, 4) + name + extra
        }
        let start = UInt64(out.count), count = UInt64(entries.count), size = UInt64(directory.count)
        out += directory
        if zip64 {
            let record = UInt64(out.count)
            out += le(0x0606_4B50, 4) + le(44, 8) + le(45, 2) + le(45, 2) + le(0, 4) + le(0, 4) + le(count, 8) + le(count, 8) + le(size, 8) + le(start, 8)
            out += le(0x0706_4B50, 4) + le(0, 4) + le(record, 8) + le(1, 4)
            out += le(0x0605_4B50, 4) + le(0, 4) + le(0xFFFF, 2) + le(0xFFFF, 2) + le(0xFFFF_FFFF, 4) + le(0xFFFF_FFFF, 4) + le(0, 2)
        } else {
            out += le(0x0605_4B50, 4) + le(0, 4) + le(count, 2) + le(count, 2) + le(size, 4) + le(start, 4) + le(0, 2)
        }
        return Data(out)
    }
}
