import SafeTensors

extension LinearSegmenter {
    /// Tensor names in head files, as the state dict of a PyTorch module with submodules
    /// `bn = nn.BatchNorm2d(dim)` and `conv = nn.Conv2d(dim, classes, 1)`.
    public enum TensorName {
        public static let convWeight = "conv.weight"
        public static let convBias = "conv.bias"
        public static let bnWeight = "bn.weight"
        public static let bnBias = "bn.bias"
        public static let bnRunningMean = "bn.running_mean"
        public static let bnRunningVar = "bn.running_var"
        public static let bnBatchesTracked = "bn.num_batches_tracked"
    }

    /// Writes the head as safetensors (atomically): `conv.weight` [K, D, 1, 1], `conv.bias` [K],
    /// `bn.weight`, `bn.bias`, `bn.running_mean`, `bn.running_var` [D] (F32),
    /// `bn.num_batches_tracked` (I64 scalar), with `metadata` in `__metadata__`.
    public func save(to path: String) throws {
        try validateParameters()
        try HeadFile.save(to: path, metadata: metadata, classes: classes,
                          tensors: [(TensorName.convWeight, convWeight, [classes, dim, 1, 1]), (TensorName.convBias, convBias, [classes]),
                                    (TensorName.bnWeight, batchNorm.weight, [dim]), (TensorName.bnBias, batchNorm.bias, [dim]),
                                    (TensorName.bnRunningMean, batchNorm.runningMean, [dim]),
                                    (TensorName.bnRunningVar, batchNorm.runningVar, [dim])],
                          int64s: [(TensorName.bnBatchesTracked, [Int64(batchNorm.batchesTracked)], [])])
    }

    /// Reads a head written by `save(to:)` or by PyTorch (`bn.num_batches_tracked` optional).
    /// Throws a `HeadError` naming the problem.
    public static func load(from path: String) throws -> LinearSegmenter {
        try load(file: HeadFile.open(path, kind: .segmenter).file)
    }

    /// Reads a head from an open safetensors file (see `load(from:)`).
    public static func load(file: SafeTensorsFile) throws -> LinearSegmenter {
        let path = file.path
        let metadata = try HeadFile.metadata(of: file, kind: .segmenter)
        let names: Set<String> = [TensorName.convWeight, TensorName.convBias, TensorName.bnWeight, TensorName.bnBias,
                                  TensorName.bnRunningMean, TensorName.bnRunningVar, TensorName.bnBatchesTracked]
        try HeadFile.rejectUnknownTensors(file, known: names)
        let shape = try HeadFile.shape(file, TensorName.convWeight)
        guard shape.count == 4, shape[0] > 0, shape[1] > 0, shape[2] == 1, shape[3] == 1 else {
            throw HeadError.notAHead(path: path, reason: "its '\(TensorName.convWeight)' has shape \(shape), not [classes, dim, 1, 1]")
        }
        let (classes, dim) = (shape[0], shape[1])
        guard classes <= 255 else {
            throw HeadError.notAHead(path: path, reason: "it has \(classes) classes; segmenters have at most 255 (UInt8 labels)")
        }
        try metadata.validate(classes: classes, path: path)
        var norm = try BatchNorm(channels: dim)
        norm.weight = try HeadFile.floats(file, TensorName.bnWeight, shape: [dim])
        norm.bias = try HeadFile.floats(file, TensorName.bnBias, shape: [dim])
        norm.runningMean = try HeadFile.floats(file, TensorName.bnRunningMean, shape: [dim])
        norm.runningVar = try HeadFile.floats(file, TensorName.bnRunningVar, shape: [dim])
        guard norm.runningVar.allSatisfy({ $0 >= 0 }) else {
            throw HeadError.badMetadata(path: path, key: TensorName.bnRunningVar, reason: "a running variance is negative; the head is corrupt")
        }
        if file.tensors[TensorName.bnBatchesTracked] != nil {
            let tracked = try file.ints(TensorName.bnBatchesTracked)
            guard tracked.count == 1, let count = tracked.first, count >= 0 else {
                throw HeadError.wrongShape(path: path, name: TensorName.bnBatchesTracked, expected: [],
                                           found: file.tensors[TensorName.bnBatchesTracked]?.shape ?? [])
            }
            norm.batchesTracked = Int(count)
        }
        return try LinearSegmenter(convWeight: try HeadFile.floats(file, TensorName.convWeight, shape: [classes, dim, 1, 1]),
                                   convBias: try HeadFile.floats(file, TensorName.convBias, shape: [classes]),
                                   batchNorm: norm, metadata: metadata)
    }
}
