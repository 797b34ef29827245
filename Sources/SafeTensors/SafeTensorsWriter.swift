import Foundation
import Support

/// Builds a safetensors file from in-memory arrays and from raw files streamed in place, then
/// writes it atomically. Tensors keep the order they were added in.
public struct SafeTensorsWriter {
    /// Where a tensor's bytes come from when the file is written.
    public typealias Producer = (_ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Void

    private enum Payload {
        case bytes(Data)
        case file(path: String)
        case stream(byteCount: Int, produce: Producer)
    }

    private var entries: [(name: String, dtype: SafeTensorsDType, shape: [Int], payload: Payload)] = []
    /// String metadata stored under `__metadata__`.
    public var metadata: [String: String]

    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
    }

    /// The element count of `shape`, or an error naming the tensor.
    static func elementCount(_ name: String, _ shape: [Int]) throws -> Int {
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard dim >= 0, !overflow else { throw SafeTensorsError.invalidTensor(name: name, reason: "shape \(shape) is invalid") }
            count = product
        }
        return count
    }

    private mutating func append(_ name: String, _ dtype: SafeTensorsDType, _ shape: [Int], _ payload: Payload, count: Int) throws {
        guard try Self.elementCount(name, shape) == count else {
            throw SafeTensorsError.invalidTensor(name: name, reason: "shape \(shape) does not match \(count) values")
        }
        guard name != "__metadata__", !entries.contains(where: { $0.name == name }) else {
            throw SafeTensorsError.invalidTensor(name: name, reason: "the name is used twice")
        }
        entries.append((name, dtype, shape, payload))
    }

    /// Adds float values stored as `dtype` (.f32, .f16 or .bf16).
    public mutating func add(_ name: String, floats: [Float], shape: [Int], dtype: SafeTensorsDType = .f32) throws {
        let data: Data
        switch dtype {
        case .f16: data = floats.map { FloatConversion.floatToF16($0).littleEndian }.withUnsafeBytes { Data($0) }
        case .bf16: data = floats.map { FloatConversion.floatToBF16($0).littleEndian }.withUnsafeBytes { Data($0) }
        default: data = floats.withUnsafeBytes { Data($0) }
        }
        try append(name, dtype == .f16 || dtype == .bf16 ? dtype : .f32, shape, .bytes(data), count: floats.count)
    }

    /// Adds 64-bit integers.
    public mutating func add(_ name: String, int64s: [Int64], shape: [Int]) throws {
        try append(name, .i64, shape, .bytes(int64s.map { $0.littleEndian }.withUnsafeBytes { Data($0) }), count: int64s.count)
    }

    /// Adds bytes (U8).
    public mutating func add(_ name: String, bytes: [UInt8], shape: [Int]) throws {
        try append(name, .u8, shape, .bytes(Data(bytes)), count: bytes.count)
    }

    /// Adds a tensor whose little-endian bytes are the whole content of the file at `path`
    /// (copied in chunks when the file is written, never loaded whole).
    public mutating func addFile(_ name: String, dtype: SafeTensorsDType, shape: [Int], path: String) throws {
        let count = try Self.elementCount(name, shape)
        try append(name, dtype, shape, .file(path: path), count: count)
    }

    /// Adds a tensor whose `byteCount` little-endian bytes `produce` hands to its sink, in one or
    /// more pieces, when the file is written (a slice of a memory-mapped file is never copied whole).
    public mutating func addStream(_ name: String, dtype: SafeTensorsDType, shape: [Int], byteCount: Int, produce: @escaping Producer) throws {
        let count = try Self.elementCount(name, shape)
        guard byteCount == count * dtype.size else {
            throw SafeTensorsError.invalidTensor(name: name, reason: "it has \(byteCount) bytes, its shape \(shape) needs \(count * dtype.size)")
        }
        try append(name, dtype, shape, .stream(byteCount: byteCount, produce: produce), count: count)
    }

    /// The JSON header, padded with spaces to a multiple of 8 bytes.
    func header() throws -> Data {
        var object: [String: Any] = [:]
        if !metadata.isEmpty { object["__metadata__"] = metadata }
        var offset = 0
        for entry in entries {
            let length = try Self.elementCount(entry.name, entry.shape) * entry.dtype.size
            object[entry.name] = ["dtype": entry.dtype.rawValue, "shape": entry.shape, "data_offsets": [offset, offset + length]]
            offset += length
        }
        var json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        return json
    }

    /// Writes the file atomically (whole or not at all).
    public func write(to path: String) throws {
        let header = try header()
        for entry in entries {
            let expected = try Self.elementCount(entry.name, entry.shape) * entry.dtype.size
            let actual: Int64
            switch entry.payload {
            case let .bytes(data): actual = Int64(data.count)
            case let .file(source): actual = (try? FileSystem.status(source))??.size ?? -1
            case let .stream(byteCount, _): actual = Int64(byteCount)
            }
            guard actual == Int64(expected) else {
                throw SafeTensorsError.invalidTensor(name: entry.name, reason: "it has \(actual) bytes, its shape \(entry.shape) needs \(expected)")
            }
        }
        try AtomicFile.write(to: path) { output in
            var length = UInt64(header.count).littleEndian
            try withUnsafeBytes(of: &length) { try output.write($0) }
            try output.write(header)
            for entry in entries {
                switch entry.payload {
                case let .bytes(data): try output.write(data)
                case let .stream(byteCount, produce):
                    let before = output.bytesWritten
                    try produce { try output.write($0) }
                    guard output.bytesWritten - before == Int64(byteCount) else {
                        throw SafeTensorsError.invalidTensor(name: entry.name, reason: "its source gave \(output.bytesWritten - before) bytes, not \(byteCount)")
                    }
                case let .file(source):
                    let input = try MappedFile(path: source)
                    try input.withBytes { raw in
                        var offset = 0
                        while offset < raw.count {
                            let end = min(raw.count, offset + (8 << 20))
                            try output.write(UnsafeRawBufferPointer(rebasing: raw[offset..<end]))
                            offset = end
                        }
                    }
                }
            }
        }
    }
}
