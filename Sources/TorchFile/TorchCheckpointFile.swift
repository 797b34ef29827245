import Foundation
import SafeTensors
import Support

/// One tensor of a PyTorch checkpoint, checked against its storage.
public struct TorchTensorInfo: Sendable, Equatable {
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    public let elementCount: Int
    /// Whether its elements are one row-major run of the storage (then read in place).
    public let isContiguous: Bool
    /// The storage's zip entry, and where the view starts in it (in elements).
    let storageKey: String
    let offset: Int
    let stride: [Int]

    public var byteCount: Int { elementCount * dtype.size }
}

/// A state dict saved by `torch.save` (the zip format of PyTorch 1.6 and later), read without
/// Python: the zip directory by `ZipArchive`, `data.pkl` by the restricted `Unpickler`, and every
/// tensor checked against its storage (sizes and offsets overflow-checked, views inside their
/// storage, storages exactly the size their entries hold). The file is memory-mapped; contiguous
/// tensors are read in place, others gathered on demand (at most their storage's size at a time).
public final class TorchCheckpointFile: @unchecked Sendable {
    /// Largest `data.pkl` accepted (ViT-7B's is about 100 KB).
    public static let maxPickleBytes = 64 << 20

    public let path: String
    /// Tensor names in the order of the state dict.
    public let names: [String]
    public let tensors: [String: TorchTensorInfo]
    private let file: MappedFile
    private let storages: [String: ZipArchive.Entry]

    /// Maps and reads the checkpoint at `path`.
    public convenience init(path: String) throws {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch { throw TorchFileError.unreadable(path: path, reason: "\(error)") }
        try self.init(file: file)
    }

    /// Reads checkpoint bytes held in memory; `path` names them in messages.
    public convenience init(bytes: Data, path: String) throws {
        try self.init(file: MappedFile(bytes: bytes, path: path))
    }

    public init(file: MappedFile) throws {
        let path = file.path
        self.path = path
        self.file = file
        let archive = try ZipArchive(file: file)
        let pickles = archive.entries.keys.filter { ByteText.hasSuffix($0, "/data.pkl") && ByteText.split($0, on: "/").count == 2 }
        guard pickles.count == 1, let pickleName = pickles.first, let pickle = archive.entries[pickleName] else {
            throw TorchFileError.badArchive(path: path, reason: pickles.isEmpty ? "it holds no data.pkl" : "it holds \(pickles.count) data.pkl records")
        }
        let prefix = String(pickleName.dropLast("data.pkl".count))
        if let order = archive.entries[prefix + "byteorder"] {
            let text = file.withBytes(in: order.dataStart..<(order.dataStart + min(order.size, 16))) { String(decoding: $0, as: UTF8.self) }
            guard text == "little" else { throw TorchFileError.badArchive(path: path, reason: "its tensors are stored big-endian") }
        }
        guard pickle.size <= Self.maxPickleBytes else {
            throw TorchFileError.badArchive(path: path, reason: "data.pkl is \(pickle.size) bytes, more than the \(Self.maxPickleBytes) allowed")
        }
        let program = file.withBytes(in: pickle.dataStart..<(pickle.dataStart + pickle.size)) { raw -> (bytes: [UInt8], crc: UInt32) in
            (Array(raw), CRC32.of(raw))
        }
        guard program.crc == pickle.crc32 else { throw TorchFileError.badArchive(path: path, reason: "data.pkl fails its checksum (the file is damaged)") }
        var unpickler = Unpickler(program.bytes)
        let root: PickleValue
        do { root = try unpickler.load() } catch let failure as Unpickler.Failure {
            throw TorchFileError.badPickle(path: path, reason: failure.reason)
        }
        var storages: [String: ZipArchive.Entry] = [:]
        for (key, reference) in unpickler.storages {
            guard let entry = archive.entries[prefix + "data/" + key] else {
                throw TorchFileError.badArchive(path: path, reason: "storage '\(key)' has no data/\(key) record")
            }
            let (bytes, overflow) = reference.count.multipliedReportingOverflow(by: reference.dtype.size)
            guard !overflow, bytes == entry.size else {
                throw TorchFileError.badArchive(path: path, reason: "storage '\(key)' declares \(reference.count) \(reference.dtype.rawValue) elements, but its record holds \(entry.size) bytes")
            }
            storages[key] = entry
        }
        self.storages = storages
        (names, tensors) = try Self.stateDict(root, path: path)
    }

    /// The name -> tensor entries of the root dict, each checked against its storage.
    private static func stateDict(_ root: PickleValue, path: String) throws -> ([String], [String: TorchTensorInfo]) {
        guard case let .dict(dict) = root else {
            throw TorchFileError.badPickle(path: path, reason: "the file holds \(root.kind), not a state dict (a dict of tensors)")
        }
        guard !dict.keys.isEmpty else { throw TorchFileError.badPickle(path: path, reason: "the state dict is empty") }
        var tensors: [String: TorchTensorInfo] = [:]
        for name in dict.keys {
            guard case let .tensor(record)? = dict.values[name] else {
                throw TorchFileError.badPickle(path: path, reason: "'\(TorchFileError.clip(name))' holds \(dict.values[name]?.kind ?? "nothing"), not a tensor (a training checkpoint? dinoprobe reads state dicts like Meta's released backbones)")
            }
            tensors[name] = try info(record, name: name, path: path)
        }
        return (dict.keys, tensors)
    }

    /// Checks that the strided view lies inside its storage, with no arithmetic overflow.
    private static func info(_ r: TensorRecord, name: String, path: String) throws -> TorchTensorInfo {
        func fail(_ reason: String) -> TorchFileError { .badTensor(path: path, name: TorchFileError.clip(name), reason: reason) }
        var count = 1, extent = r.offset, contiguous = true
        for (size, stride) in zip(r.shape, r.stride).reversed() {
            // Row-major: each dimension's stride is the element count of the dimensions after it.
            if size > 1 && stride != count { contiguous = false }
            let (product, o1) = count.multipliedReportingOverflow(by: size)
            let (span, o2) = max(size - 1, 0).multipliedReportingOverflow(by: stride)
            let (sum, o3) = extent.addingReportingOverflow(span)
            guard !o1, !o2, !o3 else { throw fail("its size \(r.shape) and stride \(r.stride) overflow") }
            (count, extent) = (product, sum)
        }
        if count > 0 {
            guard extent < r.storage.count else {
                throw fail("its view (offset \(r.offset), size \(r.shape), stride \(r.stride)) reaches past the end of its \(r.storage.count)-element storage")
            }
        } else if r.offset > r.storage.count {
            throw fail("its offset \(r.offset) lies past the end of its \(r.storage.count)-element storage")
        }
        // A strided view never reads more elements than its storage holds: gathering is bounded.
        guard contiguous || count <= r.storage.count else { throw fail("a strided view larger than its storage") }
        return TorchTensorInfo(dtype: r.storage.dtype, shape: r.shape, elementCount: count, isContiguous: contiguous,
                               storageKey: r.storage.key, offset: r.offset, stride: r.stride)
    }

    /// Calls `body` with the tensor's bytes in row-major order: in place in the mapping when it
    /// is contiguous, else gathered into a temporary buffer.
    public func withBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let info = tensors[name], let entry = storages[info.storageKey] else { throw TorchFileError.missingTensor(path: path, name: name) }
        let size = info.dtype.size
        let storage = entry.dataStart..<(entry.dataStart + entry.size)
        if info.isContiguous {
            let start = entry.dataStart + info.offset * size
            return try file.withBytes(in: start..<(start + info.byteCount), body)
        }
        return try file.withBytes(in: storage) { raw in
            var gathered = [UInt8](repeating: 0, count: info.byteCount)
            var index = [Int](repeating: 0, count: info.shape.count)
            for element in 0..<info.elementCount {
                let source = info.offset + zip(index, info.stride).reduce(0) { $0 + $1.0 * $1.1 }
                for b in 0..<size { gathered[element * size + b] = raw[source * size + b] }
                var d = info.shape.count - 1
                while d >= 0 {
                    index[d] += 1
                    if index[d] < info.shape[d] { break }
                    index[d] = 0
                    d -= 1
                }
            }
            return try gathered.withUnsafeBytes(body)
        }
    }

    /// The tensor's values as Float.
    public func floats(_ name: String) throws -> [Float] {
        guard let info = tensors[name] else { throw TorchFileError.missingTensor(path: path, name: name) }
        return try withBytes(of: name) { FloatConversion.toFloats($0, dtype: info.dtype, count: info.elementCount) ?? [] }
    }

    /// Throws `nonFinite` if the tensor holds NaN or infinity (read in place when contiguous).
    public func checkFinite(_ name: String) throws {
        guard let info = tensors[name] else { throw TorchFileError.missingTensor(path: path, name: name) }
        if let bad = try withBytes(of: name, { FloatConversion.firstNonFinite($0, dtype: info.dtype, count: info.elementCount) }) {
            throw TorchFileError.nonFinite(path: path, name: name, index: bad)
        }
    }

    /// Calls `body` with the whole file, in place (for fingerprints).
    public func withFileBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try file.withBytes(body) }
}
