import Foundation

/// Builds a safetensors file from in-memory arrays and from raw files streamed in place, then
/// writes it atomically. Tensors keep the order they were added in.
public struct SafeTensorsWriter {
    private enum Payload {
        case bytes(Data)
        case file(path: String)
    }

    private var entries: [(name: String, dtype: SafeTensorsDType, shape: [Int], payload: Payload)] = []
    /// String metadata stored under `__metadata__`.
    public var metadata: [String: String]

    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
    }

    /// Adds float values stored as `dtype` (.f32, .f16 or .bf16).
    public mutating func add(_ name: String, floats: [Float], shape: [Int], dtype: SafeTensorsDType = .f32) {
        precondition(shape.reduce(1, *) == floats.count, "shape \(shape) does not match \(floats.count) values for \(name)")
        let data: Data
        switch dtype {
        case .f16: data = floats.map { FloatConversion.floatToF16($0).littleEndian }.withUnsafeBytes { Data($0) }
        case .bf16: data = floats.map { FloatConversion.floatToBF16($0).littleEndian }.withUnsafeBytes { Data($0) }
        default: data = floats.withUnsafeBytes { Data($0) }
        }
        entries.append((name, dtype == .f16 || dtype == .bf16 ? dtype : .f32, shape, .bytes(data)))
    }

    /// Adds 64-bit integers.
    public mutating func add(_ name: String, int64s: [Int64], shape: [Int]) {
        precondition(shape.reduce(1, *) == int64s.count, "shape \(shape) does not match \(int64s.count) values for \(name)")
        entries.append((name, .i64, shape, .bytes(int64s.map { $0.littleEndian }.withUnsafeBytes { Data($0) })))
    }

    /// Adds bytes (U8).
    public mutating func add(_ name: String, bytes: [UInt8], shape: [Int]) {
        entries.append((name, .u8, shape, .bytes(Data(bytes))))
    }

    /// Adds a tensor whose little-endian bytes are the whole content of the file at `path`
    /// (copied in chunks when the file is written, never loaded whole).
    public mutating func addFile(_ name: String, dtype: SafeTensorsDType, shape: [Int], path: String) {
        entries.append((name, dtype, shape, .file(path: path)))
    }

    /// The JSON header, padded with spaces to a multiple of 8 bytes.
    func header() throws -> Data {
        var object: [String: Any] = [:]
        if !metadata.isEmpty { object["__metadata__"] = metadata }
        var offset = 0
        for entry in entries {
            let length = entry.shape.reduce(1, *) * entry.dtype.size
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
            let expected = entry.shape.reduce(1, *) * entry.dtype.size
            let actual: Int
            switch entry.payload {
            case let .bytes(data): actual = data.count
            case let .file(source):
                actual = ((try? FileManager.default.attributesOfItem(atPath: source)[.size]) as? Int) ?? -1
            }
            guard actual == expected else {
                throw AtomicFile.WriteError(path: path, reason: "tensor '\(entry.name)' has \(actual) bytes, its shape \(entry.shape) needs \(expected)")
            }
        }
        try AtomicFile.write(to: path) { handle in
            var length = UInt64(header.count).littleEndian
            try handle.write(contentsOf: Data(bytes: &length, count: 8))
            try handle.write(contentsOf: header)
            for entry in entries {
                switch entry.payload {
                case let .bytes(data): try handle.write(contentsOf: data)
                case let .file(source):
                    let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: source))
                    defer { try? input.close() }
                    while let chunk = try input.read(upToCount: 8 << 20), !chunk.isEmpty {
                        try handle.write(contentsOf: chunk)
                    }
                }
            }
        }
    }
}
