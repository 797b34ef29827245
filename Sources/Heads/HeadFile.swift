import SafeTensors

/// Reading and writing head files: safetensors with `HeadMetadata` in `__metadata__`.
enum HeadFile {
    /// Opens `path` and checks that it holds a head of `kind`.
    static func open(_ path: String, kind: HeadKind) throws -> (file: SafeTensorsFile, metadata: HeadMetadata) {
        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile(path: path)
        } catch {
            throw HeadError.unreadable(path: path, reason: "\(error)")
        }
        return (file, try metadata(of: file, kind: kind))
    }

    /// The head metadata of an open file, checked to be of `kind`.
    static func metadata(of file: SafeTensorsFile, kind: HeadKind) throws -> HeadMetadata {
        let path = file.path
        let metadata = try HeadMetadata(safetensorsMetadata: file.metadata, path: path)
        guard metadata.kind == kind else {
            throw HeadError.wrongKind(path: path, expected: kind, found: metadata.kind.rawValue)
        }
        return metadata
    }

    /// The shape of tensor `name`, or `missingTensor`.
    static func shape(_ file: SafeTensorsFile, _ name: String) throws -> [Int] {
        guard let info = file.tensors[name] else { throw HeadError.missingTensor(path: file.path, name: name) }
        return info.shape
    }

    /// Tensor `name` as finite floats, checked against `expected` (its shape).
    static func floats(_ file: SafeTensorsFile, _ name: String, shape expected: [Int]) throws -> [Float] {
        let found = try shape(file, name)
        guard found == expected else {
            throw HeadError.wrongShape(path: file.path, name: name, expected: expected, found: found)
        }
        let values: [Float]
        do {
            values = try file.floats(name)
        } catch let error as SafeTensorsError {
            throw HeadError.unreadable(path: file.path, reason: error.description)
        }
        try requireFinite(values, name, path: file.path)
        return values
    }

    /// Writes a head atomically: `tensors` (F32, each checked finite) and `int64s`, with `metadata`
    /// (checked against `classes`) in `__metadata__`. Nothing is written when a check fails.
    static func save(to path: String, metadata: HeadMetadata, classes: Int,
                     tensors: [(name: String, values: [Float], shape: [Int])],
                     int64s: [(name: String, values: [Int64], shape: [Int])] = []) throws {
        for t in tensors { try requireFinite(t.values, t.name) }
        try metadata.validate(classes: classes, path: path)
        var writer = SafeTensorsWriter(metadata: metadata.safetensorsMetadata)
        for t in tensors { try writer.add(t.name, floats: t.values, shape: t.shape) }
        for t in int64s { try writer.add(t.name, int64s: t.values, shape: t.shape) }
        try writer.write(to: path)
    }

    /// Throws `unexpectedTensors` when the file has tensors outside `known`.
    static func rejectUnknownTensors(_ file: SafeTensorsFile, known: Set<String>) throws {
        let unknown = Set(file.tensors.keys).subtracting(known)
        guard unknown.isEmpty else { throw HeadError.unexpectedTensors(path: file.path, names: Array(unknown)) }
    }
}
