import SafeTensors

extension LinearClassifier {
    /// Writes the head as safetensors (atomically): `weight` [classes, dim] and `bias` [classes],
    /// F32, with `metadata` in `__metadata__`. PyTorch loads it with
    /// `nn.Linear(dim, classes).load_state_dict(safetensors.torch.load_file(path))`.
    public func save(to path: String) throws {
        try validateParameters()
        try HeadFile.save(to: path, metadata: metadata, classes: classes,
                          tensors: [("weight", weight, [classes, dim]), ("bias", bias, [classes])])
    }

    /// Reads a head written by `save(to:)` (or by PyTorch with the same tensors and metadata).
    /// Throws a `HeadError` naming the problem: unreadable file, not a dinoprobe head, a
    /// segmenter, a missing or extra tensor, a wrong shape, NaN or infinite values, bad metadata.
    public static func load(from path: String) throws -> LinearClassifier {
        try load(file: HeadFile.open(path, kind: .classifier).file)
    }

    /// Reads a head from an open safetensors file (see `load(from:)`).
    public static func load(file: SafeTensorsFile) throws -> LinearClassifier {
        let path = file.path
        let metadata = try HeadFile.metadata(of: file, kind: .classifier)
        try HeadFile.rejectUnknownTensors(file, known: ["weight", "bias"])
        let weightShape = try HeadFile.shape(file, "weight")
        guard weightShape.count == 2, weightShape[0] > 0, weightShape[1] > 0 else {
            throw HeadError.notAHead(path: path, reason: "its 'weight' has shape \(weightShape), not [classes, dim]")
        }
        let (classes, dim) = (weightShape[0], weightShape[1])
        try metadata.validate(classes: classes, path: path)
        return try LinearClassifier(weight: try HeadFile.floats(file, "weight", shape: [classes, dim]),
                                    bias: try HeadFile.floats(file, "bias", shape: [classes]),
                                    dim: dim, classes: classes, metadata: metadata)
    }
}
