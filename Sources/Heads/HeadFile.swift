import SafeTensors

/// Reading and writing head files: safetensors with `HeadMetadata` in `__metadata__`.
public enum HeadFile {
    /// Opens `path` and checks that it holds a head of `kind`.
    public static func open(_ path: String, kind: HeadKind) throws -> (file: SafeTensorsFile, metadata: HeadMetadata) {
        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile(path: path)
        } catch { throw HeadError.unreadable(path: path, reason: "\(error)") }
        return (file, try metadata(of: file, kind: kind))
    }

    /// The head metadata of an open file, checked to be of `kind`.
    public static func metadata(of file: SafeTensorsFile, kind: HeadKind) throws -> HeadMetadata {
        let path = file.path
        let metadata = try HeadMetadata(safetensorsMetadata: file.metadata, path: path)
        guard metadata.kind == kind else { throw HeadError.wrongKind(path: path, expected: kind, found: metadata.kind.rawValue) }
        return metadata
    }

    /// The shape of tensor `name`, or `missingTensor`.
    public static func shape(_ file: SafeTensorsFile, _ name: String) throws -> [Int] {
        guard let info = file.tensors[name] else { throw HeadError.missingTensor(path: file.path, name: name) }
        return info.shape
    }

    /// Tensor `name` as finite floats, checked against `expected` (its shape).
    public static func floats(_ file: SafeTensorsFile, _ name: String, shape expected: [Int]) throws -> [Float] {
        let found = try shape(file, name)
        guard found == expected else { throw HeadError.wrongShape(path: file.path, name: name, expected: expected, found: found) }
        let values: [Float]
        do {
            values = try file.floats(name)
        } catch let error as SafeTensorsError { throw HeadError.unreadable(path: file.path, reason: error.description) }
        try requireFinite(values, name, path: file.path)
        return values
    }

    /// Writes a head atomically: `tensors` (F32, each checked finite) and `int64s`, with `metadata`
    /// (checked against `classes`) in `__metadata__`. Nothing is written when a check fails.
    public static func save(to path: String, metadata: HeadMetadata, classes: Int,
                     tensors: [(name: String, values: [Float], shape: [Int])],
                            int64s: [(name: String, values: [Int64], shape: [Int])] = []) throws {
        for t in tensors { try requireFinite(t.values, t.name) }
        try metadata.validate(classes: classes, path: path)
        var writer = SafeTensorsWriter(metadata: metadata.safetensorsMetadata)
        for t in tensors { try writer.add(t.name, floats: t.values, shape: t.shape) }
        for t in int64s { try writer.add(t.name, int64s: t.values, shape: t.shape) }
        try writer.write(to: path)
    }

    /// A `BatchNorm2d`'s tensors under `prefix` ("bn", "batchnorm_layer"): `weight`, `bias`,
    /// `running_mean`, `running_var` ([channels], finite, variances not negative) and, when
    /// present, `num_batches_tracked` (an I64 scalar, PyTorch writes it).
    public static func batchNorm(_ file: SafeTensorsFile, prefix: String, channels: Int) throws -> BatchNorm {
        var norm = try BatchNorm(channels: channels)
        norm.weight = try floats(file, prefix + ".weight", shape: [channels])
        norm.bias = try floats(file, prefix + ".bias", shape: [channels])
        norm.runningMean = try floats(file, prefix + ".running_mean", shape: [channels])
        norm.runningVar = try floats(file, prefix + ".running_var", shape: [channels])
        guard norm.runningVar.allSatisfy({ $0 >= 0 }) else {
            throw HeadError.badMetadata(path: file.path, key: prefix + ".running_var", reason: "a running variance is negative; the head is corrupt")
        }
        let tracked = prefix + ".num_batches_tracked"
        if let info = file.tensors[tracked] {
            guard let count = try file.ints(tracked).first, info.shape.reduce(1, *) == 1, count >= 0 else {
                throw HeadError.wrongShape(path: file.path, name: tracked, expected: [], found: info.shape)
            }
            norm.batchesTracked = Int(count)
        }
        return norm
    }

    /// The tensors `batchNorm(_:prefix:channels:)` reads: the F32 ones and `num_batches_tracked`.
    public static func tensors(of norm: BatchNorm, prefix: String)
        -> (floats: [(name: String, values: [Float], shape: [Int])], int64s: [(name: String, values: [Int64], shape: [Int])]) {
        let c = norm.channels
        return ([(prefix + ".weight", norm.weight, [c]), (prefix + ".bias", norm.bias, [c]),
                 (prefix + ".running_mean", norm.runningMean, [c]), (prefix + ".running_var", norm.runningVar, [c])],
                [(prefix + ".num_batches_tracked", [Int64(norm.batchesTracked)], [])])
    }

    /// Throws `unexpectedTensors` when the file has tensors outside `known`.
    public static func rejectUnknownTensors(_ file: SafeTensorsFile, known: Set<String>) throws {
        let unknown = Set(file.tensors.keys).subtracting(known)
        guard unknown.isEmpty else { throw HeadError.unexpectedTensors(path: file.path, names: Array(unknown)) }
    }
}
