import Foundation
import Support

/// Element types of the safetensors format (every byte-sized type of the specification).
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16", f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
    case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8", bool = "BOOL"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64, .i64, .u64: return 8
        case .f32, .i32, .u32: return 4
        case .f16, .bf16, .i16, .u16: return 2
        case .f8e4m3, .f8e5m2, .u8, .i8, .bool: return 1
        }
    }
}

/// Errors met while reading or writing safetensors files; each names the file.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case malformed(path: String, reason: String)
    case missingTensor(path: String, name: String)
    case unsupportedDType(path: String, name: String, dtype: String)
    case nonFinite(path: String, name: String, index: Int)
    case invalidTensor(name: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "cannot read \(path): \(reason)"
        case let .malformed(path, reason): return "\(path) is not a valid safetensors file: \(reason)"
        case let .missingTensor(path, name): return "\(path) has no tensor named '\(name)'"
        case let .unsupportedDType(path, name, dtype):
            return "tensor '\(name)' in \(path) has dtype \(dtype), which dinoprobe cannot use here"
        case let .nonFinite(path, name, index):
            return "tensor '\(name)' in \(path) holds NaN or infinite values (the first at element \(index)); the file is corrupt or came from a diverged run"
        case let .invalidTensor(name, reason): return "cannot write tensor '\(name)': \(reason)"
        }
    }
}

/// One tensor's entry in a safetensors header, checked against the file.
public struct SafeTensorInfo: Sendable, Equatable {
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Byte range within the data section.
    public let begin: Int
    public let end: Int
    /// The product of the shape (checked not to overflow).
    public let elementCount: Int
    public var byteCount: Int { end - begin }
}

/// A validated safetensors file, read in place (memory-mapped): nothing is copied until a caller
/// asks for converted values.
///
/// Everything in the header is checked before use: its length (at most `maxHeaderBytes`), its
/// JSON (strictly, see `HeaderParser`), every shape product and byte count (overflow-checked),
/// and the data ranges, which must tile the data section exactly, in any order, without overlap
/// or holes (as the format specifies; this also rules out two tensors sharing bytes).
public final class SafeTensorsFile: @unchecked Sendable {
    /// Largest header accepted (the reference implementation's limit).
    public static let maxHeaderBytes = 100_000_000

    public let path: String
    public let tensors: [String: SafeTensorInfo]
    /// Tensor names in the order of their data.
    public let names: [String]
    public let metadata: [String: String]
    private let file: MappedFile
    private let dataStart: Int

    /// Maps and validates the file at `path`.
    public convenience init(path: String) throws {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch {
            throw SafeTensorsError.unreadable(path: path, reason: "\(error)")
        }
        try self.init(file: file)
    }

    /// Validates bytes held in memory; `path` names them in messages.
    public convenience init(bytes: Data, path: String) throws {
        try self.init(file: MappedFile(bytes: bytes, path: path))
    }

    public init(file: MappedFile) throws {
        path = file.path
        self.file = file
        let path = file.path
        func malformed(_ reason: String) -> SafeTensorsError { .malformed(path: path, reason: reason) }
        guard file.count >= 8 else { throw malformed("the file is \(file.count) bytes, shorter than the 8-byte header length") }
        let declared = file.withBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self)) }
        guard declared <= UInt64(Self.maxHeaderBytes) else {
            throw malformed("the header length field says \(declared) bytes, more than the \(Self.maxHeaderBytes) allowed")
        }
        let headerLength = Int(declared)
        guard headerLength >= 2, headerLength <= file.count - 8 else {
            throw malformed("the header length \(headerLength) does not fit a \(file.count)-byte file")
        }
        dataStart = 8 + headerLength
        let parsed: (entries: [(String, HeaderParser.Entry)], metadata: [String: String])
        do {
            parsed = try file.withBytes(in: 8..<dataStart) { try HeaderParser.parse($0) }
        } catch let failure as HeaderParser.Failure { throw malformed(failure.reason) }
        let dataLength = file.count - dataStart
        var tensors: [String: SafeTensorInfo] = [:]
        tensors.reserveCapacity(parsed.entries.count)
        for (name, entry) in parsed.entries {
            let clipped = HeaderParser.clip(name)
            guard let dtype = SafeTensorsDType(rawValue: entry.dtype) else {
                throw SafeTensorsError.unsupportedDType(path: path, name: clipped, dtype: HeaderParser.clip(entry.dtype))
            }
            var count = 1
            for dim in entry.shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dim)
                guard !overflow else { throw malformed("the shape \(entry.shape) of '\(clipped)' overflows") }
                count = product
            }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.size)
            guard !overflow, entry.begin <= entry.end, entry.end <= dataLength, entry.end - entry.begin == bytes else {
                throw malformed("tensor '\(clipped)' (\(dtype.rawValue) \(entry.shape)) has the byte range [\(entry.begin), \(entry.end)), which does not match its shape or lies outside the \(dataLength)-byte data section")
            }
            tensors[name] = SafeTensorInfo(dtype: dtype, shape: entry.shape, begin: entry.begin, end: entry.end, elementCount: count)
        }
        let ordered = try Self.tiledOrder(parsed.entries.map(\.0), tensors: tensors, dataLength: dataLength, malformed: malformed)
        self.tensors = tensors
        names = ordered
        metadata = parsed.metadata
    }

    /// The tensor names by data offset, checked to tile the data section: sorted by start, each
    /// begins where the last ended, the last ends where the section does.
    private static func tiledOrder(_ names: [String], tensors: [String: SafeTensorInfo], dataLength: Int,
                                   malformed: (String) -> SafeTensorsError) throws -> [String] {
        let ordered = names.compactMap { name in tensors[name].map { (name, $0) } }.sorted { a, b in
            a.1.begin != b.1.begin ? a.1.begin < b.1.begin : a.1.end < b.1.end
        }
        var cursor = 0
        for (name, info) in ordered {
            guard info.begin == cursor else {
                throw malformed(info.begin < cursor
                    ? "tensor '\(HeaderParser.clip(name))' overlaps the data of another tensor"
                    : "the data section has unused bytes before tensor '\(HeaderParser.clip(name))'")
            }
            cursor = info.end
        }
        guard cursor == dataLength else {
            throw malformed("the data section is \(dataLength) bytes but the tensors cover \(cursor)")
        }
        return ordered.map(\.0)
    }

    /// Calls `body` with the raw bytes of a tensor, in place in the mapping.
    public func withBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let info = tensors[name] else { throw SafeTensorsError.missingTensor(path: path, name: name) }
        return try file.withBytes(in: (dataStart + info.begin)..<(dataStart + info.end), body)
    }

    /// Calls `body` with the whole data section (after the header), in place.
    public func withAllData<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try file.withBytes(in: dataStart..<file.count, body)
    }

    /// The tensor's values converted to Float (F32, F16, BF16, F64 and integer types).
    public func floats(_ name: String) throws -> [Float] {
        guard let info = tensors[name] else { throw SafeTensorsError.missingTensor(path: path, name: name) }
        guard let values = try withBytes(of: name, { FloatConversion.toFloats($0, dtype: info.dtype, count: info.elementCount) }) else {
            throw SafeTensorsError.unsupportedDType(path: path, name: name, dtype: info.dtype.rawValue)
        }
        return values
    }

    /// The tensor's values converted to Float, refusing NaN and infinities.
    public func finiteFloats(_ name: String) throws -> [Float] {
        let values = try floats(name)
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw SafeTensorsError.nonFinite(path: path, name: name, index: bad)
        }
        return values
    }

    /// Throws `nonFinite` if a floating-point tensor holds NaN or infinity (read in place), among
    /// its elements `elements` (in storage order; all of them when nil).
    public func checkFinite(_ name: String, elements: Range<Int>? = nil) throws {
        guard let info = tensors[name] else { throw SafeTensorsError.missingTensor(path: path, name: name) }
        let range = elements ?? 0..<info.elementCount
        guard range.lowerBound >= 0, range.upperBound <= info.elementCount else {
            throw SafeTensorsError.malformed(path: path, reason: "tensor '\(name)' has no elements \(range)")
        }
        let bad = try withBytes(of: name) { bytes in
            FloatConversion.firstNonFinite(UnsafeRawBufferPointer(rebasing: bytes[(range.lowerBound * info.dtype.size)...]),
                                           dtype: info.dtype, count: range.count)
        }
        if let bad { throw SafeTensorsError.nonFinite(path: path, name: name, index: range.lowerBound + bad) }
    }

    /// The tensor's values as Int64 (integer and bool types only).
    public func ints(_ name: String) throws -> [Int64] {
        guard let info = tensors[name] else { throw SafeTensorsError.missingTensor(path: path, name: name) }
        return try withBytes(of: name) { raw in
            let n = info.elementCount
            switch info.dtype {
            case .i64: return (0..<n).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
            case .i32: return (0..<n).map { Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
            case .i16: return (0..<n).map { Int64(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: Int16.self))) }
            case .u32: return (0..<n).map { Int64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            case .u16: return (0..<n).map { Int64(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
            case .u8, .bool: return raw.map { Int64($0) }
            case .i8: return raw.map { Int64(Int8(bitPattern: $0)) }
            default: throw SafeTensorsError.unsupportedDType(path: path, name: name, dtype: info.dtype.rawValue)
            }
        }
    }
}
