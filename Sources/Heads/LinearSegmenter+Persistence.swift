import SafeTensors

extension LinearSegmenter {
    /// How the tensors of a head file are named: as the state dict of a PyTorch module with
    /// submodules `bn = nn.BatchNorm2d(dim)` and `conv = nn.Conv2d(dim, classes, 1)` (dinoprobe's),
    /// or as Meta's `LinearHead` in `dinov3/eval/segmentation` names them (`batchnorm_layer`, `conv`).
    public enum TensorNaming: String, Sendable, CaseIterable {
        case dinoprobe, meta

        /// The prefix of the BatchNorm tensors.
        public var batchNorm: String { self == .meta ? "batchnorm_layer" : "bn" }
        public var convWeight: String { "conv.weight" }
        public var convBias: String { "conv.bias" }

        var all: Set<String> {
            Set([convWeight, convBias] + ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"].map { batchNorm + "." + $0 })
        }
    }

    /// Writes the head as safetensors (atomically): `conv.weight` [K, D, 1, 1], `conv.bias` [K],
    /// the BatchNorm's `weight`, `bias`, `running_mean`, `running_var` [D] (F32) and
    /// `num_batches_tracked` (I64 scalar) under `naming`'s prefix, with `metadata` in `__metadata__`.
    public func save(to path: String, naming: TensorNaming) throws {
        try validateParameters()
        let norm = HeadFile.tensors(of: batchNorm, prefix: naming.batchNorm)
        try HeadFile.save(to: path, metadata: metadata, classes: classes,
                          tensors: [(naming.convWeight, convWeight, [classes, dim, 1, 1]), (naming.convBias, convBias, [classes])] + norm.floats,
                          int64s: norm.int64s)
    }

    /// `save(to:naming:)` with dinoprobe's names.
    public func save(to path: String) throws { try save(to: path, naming: .dinoprobe) }

    /// Reads a head written by `save(to:)` under either naming, or by PyTorch
    /// (`num_batches_tracked` optional). Throws a `HeadError` naming the problem.
    public static func load(from path: String) throws -> LinearSegmenter {
        try load(file: HeadFile.open(path, kind: .segmenter).file)
    }

    /// The naming a head file uses; a file mixing both is refused (it would be ambiguous).
    static func naming(of file: SafeTensorsFile) throws -> TensorNaming {
        let uses = TensorNaming.allCases.filter { n in file.tensors.keys.contains { $0.hasPrefix(n.batchNorm + ".") } }
        guard uses.count <= 1 else {
            throw HeadError.notAHead(path: file.path, reason: "it holds BatchNorm tensors under both 'bn.' and 'batchnorm_layer.'; keep one set")
        }
        return uses.first ?? .dinoprobe
    }

    /// Reads a head from an open safetensors file (see `load(from:)`).
    public static func load(file: SafeTensorsFile) throws -> LinearSegmenter {
        let path = file.path
        let metadata = try HeadFile.metadata(of: file, kind: .segmenter)
        let n = try naming(of: file)
        try HeadFile.rejectUnknownTensors(file, known: n.all)
        let shape = try HeadFile.shape(file, n.convWeight)
        guard shape.count == 4, shape[0] > 0, shape[1] > 0, shape[2] == 1, shape[3] == 1 else {
            throw HeadError.notAHead(path: path, reason: "its '\(n.convWeight)' has shape \(shape), not [classes, dim, 1, 1]")
        }
        let (classes, dim) = (shape[0], shape[1])
        guard classes <= 255 else {
            throw HeadError.notAHead(path: path, reason: "it has \(classes) classes; segmenters have at most 255 (UInt8 labels)")
        }
        try metadata.validate(classes: classes, path: path)
        let norm = try HeadFile.batchNorm(file, prefix: n.batchNorm, channels: dim)
        return try LinearSegmenter(convWeight: try HeadFile.floats(file, n.convWeight, shape: [classes, dim, 1, 1]),
                                   convBias: try HeadFile.floats(file, n.convBias, shape: [classes]),
                                   batchNorm: norm, metadata: metadata)
    }
}
