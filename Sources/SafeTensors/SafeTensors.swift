import Foundation

/// Element types of the safetensors format that dinoprobe reads or writes.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64"
    case i64 = "I64", i32 = "I32", u8 = "U8", i8 = "I8", bool = "BOOL"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16: return 2
        case .u8, .i8, .bool: return 1
        }
    }
}

/// Errors met while reading or writing safetensors files; each names the file.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case malformed(path: String, reason: String)
    case missingTensor(path: String, name: String)
    case unsupportedDType(path: String, name: String, dtype: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "cannot read \(path): \(reason)"
        case let .malformed(path, reason): return "\(path) is not a valid safetensors file: \(reason)"
        case let .missingTensor(path, name): return "\(path) has no tensor named '\(name)'"
        case let .unsupportedDType(path, name, dtype):
            return "tensor '\(name)' in \(path) has dtype \(dtype), which dinoprobe cannot convert to float"
        }
    }
}

/// One tensor's entry in a safetensors header.
public struct SafeTensorInfo: Sendable, Equatable {
    public var dtype: SafeTensorsDType
    public var shape: [Int]
    /// Byte range within the data section.
    public var begin: Int
    public var end: Int
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A memory-mapped safetensors file. Tensor bytes are read in place from the mapping; nothing is
/// copied until a caller asks for converted values.
public final class SafeTensorsFile: @unchecked Sendable {
    public let path: String
    public let tensors: [String: SafeTensorInfo]
    public let metadata: [String: String]
    private let data: Data
    private let dataStart: Int

    public init(path: String) throws {
        self.path = path
        let url = URL(fileURLWithPath: path)
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw SafeTensorsError.unreadable(path: path, reason: "\(error.localizedDescription)")
        }
        guard data.count >= 8 else {
            throw SafeTensorsError.malformed(path: path, reason: "file is \(data.count) bytes, shorter than the 8-byte header length")
        }
        let headerLength = data.withUnsafeBytes { raw in
            Int(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)))
        }
        guard headerLength > 0, headerLength <= data.count - 8, headerLength < 100_000_000 else {
            throw SafeTensorsError.malformed(path: path, reason: "header length \(headerLength) does not fit a \(data.count)-byte file")
        }
        dataStart = 8 + headerLength
        let headerData = data.subdata(in: 8..<(8 + headerLength))
        guard let object = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw SafeTensorsError.malformed(path: path, reason: "header is not a JSON object")
        }
        var tensors: [String: SafeTensorInfo] = [:]
        var metadata: [String: String] = [:]
        let dataLength = data.count - dataStart
        for (name, value) in object {
            if name == "__metadata__" {
                for (k, v) in (value as? [String: Any]) ?? [:] { metadata[k] = v as? String ?? "\(v)" }
                continue
            }
            guard let entry = value as? [String: Any],
                  let dtypeName = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int],
                  let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw SafeTensorsError.malformed(path: path, reason: "entry '\(name)' lacks dtype, shape or data_offsets")
            }
            guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
                throw SafeTensorsError.unsupportedDType(path: path, name: name, dtype: dtypeName)
            }
            let info = SafeTensorInfo(dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
            guard info.begin >= 0, info.end <= dataLength, info.end - info.begin == info.elementCount * dtype.size,
                  shape.allSatisfy({ $0 >= 0 }) else {
                throw SafeTensorsError.malformed(path: path, reason: "tensor '\(name)' (\(dtypeName) \(shape)) has byte range \(offsets) inconsistent with its shape or the file size")
            }
            tensors[name] = info
        }
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Calls `body` with the raw bytes of a tensor, in place in the mapping.
    public func withBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let info = tensors[name] else { throw SafeTensorsError.missingTensor(path: path, name: name) }
        return try data.withUnsafeBytes { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[(dataStart + info.begin)..<(dataStart + info.end)]))
        }
    }

    /// Calls `body` with the whole data section (after the header), in place.
    public func withAllData<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try data.withUnsafeBytes { raw in try body(UnsafeRawBufferPointer(rebasing: raw[dataStart...])) }
    }

    /// The tensor's values converted to Float (F32, F16, BF16, F64 and integer types).
    public func floats(_ name: String) throws -> [Float] {
        guard let info = tensors[name] else { throw SafeTensorsError.missingTensor(path: path, name: name) }
        return try withBytes(of: name) { FloatConversion.toFloats($0, dtype: info.dtype, count: info.elementCount) }
    }

    /// The tensor's values as Int64 (integer types only).
    public func ints(_ name: String) throws -> [Int64] {
        guard let info = tensors[name] else { throw SafeTensorsError.missingTensor(path: path, name: name) }
        return try withBytes(of: name) { raw in
            switch info.dtype {
            case .i64: return (0..<info.elementCount).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
            case .i32: return (0..<info.elementCount).map { Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
            case .u8, .bool: return raw.map { Int64($0) }
            case .i8: return raw.map { Int64(Int8(bitPattern: $0)) }
            default: throw SafeTensorsError.unsupportedDType(path: path, name: name, dtype: info.dtype.rawValue)
            }
        }
    }
}

/// Conversions between Float and the half-precision formats, bit for bit as PyTorch does.
public enum FloatConversion {
    /// bfloat16 bits to Float (exact).
    @inline(__always) public static func bf16ToFloat(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Float to bfloat16 bits, rounding to nearest even (NaN stays NaN).
    @inline(__always) public static func floatToBF16(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return 0x7FC0 }
        let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    /// IEEE half bits to Float (exact).
    @inline(__always) public static func f16ToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0 {
            let value = Float(mantissa) * Float(sign == 0 ? 1 : -1) / Float(1 << 24)
            return value
        }
        if exponent == 31 {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | (UInt32(exponent + 112) << 23) | (mantissa << 13))
    }

    /// Float to IEEE half bits, rounding to nearest even.
    @inline(__always) public static func floatToF16(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let absValue = abs(value)
        if value.isNaN { return sign | 0x7E00 }
        if absValue >= 65520 { return sign | 0x7C00 }
        if absValue < 6.103515625e-05 {
            // Subnormal half: value / 2^-24 rounded to nearest even.
            let scaled = (absValue * Float(1 << 24)).rounded(.toNearestOrEven)
            return sign | UInt16(scaled)
        }
        let exponent = Int((bits >> 23) & 0xFF) - 127 + 15
        var mantissa = bits & 0x7F_FFFF
        var halfExponent = UInt32(exponent)
        let roundBit = (mantissa >> 12) & 1
        let sticky = (mantissa & 0xFFF) != 0
        let lsb = (mantissa >> 13) & 1
        mantissa >>= 13
        if roundBit == 1 && (sticky || lsb == 1) {
            mantissa += 1
            if mantissa == 0x400 { mantissa = 0; halfExponent += 1 }
        }
        return sign | UInt16(halfExponent << 10) | UInt16(mantissa)
    }

    /// Converts `count` little-endian values of `dtype` to Float.
    public static func toFloats(_ raw: UnsafeRawBufferPointer, dtype: SafeTensorsDType, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { out, initialized in
            switch dtype {
            case .f32:
                if let base = raw.baseAddress, count > 0 { memcpy(out.baseAddress!, base, count * 4) }
            case .bf16:
                for i in 0..<count { out[i] = bf16ToFloat(raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) }
            case .f16:
                for i in 0..<count { out[i] = f16ToFloat(raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) }
            case .f64:
                for i in 0..<count { out[i] = Float(raw.loadUnaligned(fromByteOffset: i * 8, as: Double.self)) }
            case .i64:
                for i in 0..<count { out[i] = Float(raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)) }
            case .i32:
                for i in 0..<count { out[i] = Float(raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)) }
            case .u8, .bool:
                for i in 0..<count { out[i] = Float(raw[i]) }
            case .i8:
                for i in 0..<count { out[i] = Float(Int8(bitPattern: raw[i])) }
            }
            initialized = count
        }
    }
}
