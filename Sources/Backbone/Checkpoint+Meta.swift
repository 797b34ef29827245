import CTorch
import Foundation
import SafeTensors
import Support
import TorchFile

extension Checkpoint {
    /// Loads Meta's `.pth` at `url` (see `MetaLayout` for the names): the architecture is read
    /// from the shapes (`arch` or the file name supplies the head count when the RoPE periods
    /// are absent), every tensor in the file is checked finite, and the stored RoPE periods are
    /// kept for the forward pass, as Meta's model uses them.
    convenience init(metaFile url: URL, arch: MetaArchitecture?) throws {
        let file = try TorchCheckpointFile(path: url.path)
        let layout = try MetaLayout(file: file, arch: arch, fileName: url.lastPathComponent)
        try Self.checkFinite(file)
        var tensors: [String: Tensor] = [:]
        for t in layout.tensors where !t.shape.contains(0) {
            tensors[t.name] = try Self.tensor(t, of: file)
        }
        var hasher = FNV1a()
        for name in file.names {
            hasher.combine(name)
            if let info = file.tensors[name] { hasher.combine("\(info.dtype.rawValue)\(info.shape)") }
        }
        file.withFileBytes { Self.sample($0, into: &hasher) }
        self.init(location: url, config: layout.config, tensors: tensors,
                  parameterCount: layout.tensors.reduce(0) { $0 + $1.shape.reduce(1, *) },
                  storedDTypes: Set(layout.tensors.map(\.dtype.rawValue)), fingerprint: hasher.hexDigest, ropePeriods: layout.ropePeriods)
    }

    /// Refuses a file holding NaN or infinity in any tensor, used or not.
    static func checkFinite(_ file: TorchCheckpointFile) throws {
        if let i = firstFailure(file.names.count, { try file.checkFinite(file.names[$0]) }) {
            throw BackboneError.nonFiniteWeights(key: file.names[i], file: file.path)
        }
    }

    /// The float32 tensor of a planned Hugging Face tensor: viewed in place when its Meta tensor
    /// is contiguous F32, converted otherwise.
    private static func tensor(_ t: MetaLayout.Planned, of file: TorchCheckpointFile) throws -> Tensor {
        switch t.source {
        case let .values(values):
            return try Tensor(values, shape: t.shape)
        case let .bytes(name, range):
            let inPlace = file.tensors[name]?.isContiguous ?? false
            let dtype = try torchType(t.dtype, key: t.name)
            return try file.withBytes(of: name) { raw in
                let part = UnsafeRawBufferPointer(rebasing: raw[range])
                if inPlace { return try float32(viewing: part, shape: t.shape, dtype: dtype, owner: file, key: t.name) }
                guard let values = FloatConversion.toFloats(part, dtype: t.dtype, count: t.shape.reduce(1, *)) else {
                    throw BackboneError.unsupportedDType(key: t.name, dtype: t.dtype.rawValue)
                }
                return try Tensor(values, shape: t.shape)
            }
        }
    }
}
