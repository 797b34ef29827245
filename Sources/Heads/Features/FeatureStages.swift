import SafeTensors

extension FeaturesFile {
    /// A ConvNeXt stage map kept per image (`extract --stages`): tensor `stage_<index>`
    /// [N, channels, height, width], the stage's raw NCHW output.
    public struct StageLayout: Sendable, Equatable {
        /// The stage, 0-based.
        public var index: Int
        /// One image's map: [channels, height, width].
        public var shape: [Int]

        /// Throws unless `index` is a stage number and `shape` three positive sizes.
        public init(index: Int, shape: [Int]) throws {
            try require((0..<maxStages).contains(index), "stage index", "\(index) is not in 0..<\(maxStages)")
            try require(shape.count == 3 && shape.allSatisfy { $0 > 0 }, "stage \(index) shape", "\(shape) is not [channels, height, width]")
            _ = try checkedProduct(shape[0], try checkedProduct(shape[1], shape[2], "stage shape"), "stage shape")
            self.index = index
            self.shape = shape
        }

        /// The tensor's name in a features file.
        public var tensorName: String { FeaturesFile.stageTensorName(index) }
        /// Values per image.
        public var size: Int { shape.reduce(1, *) }
    }

    /// Stage indices a features file may hold.
    static let maxStages = 64

    /// The name of stage `index`'s tensor: `stage_<index>`.
    public static func stageTensorName(_ index: Int) -> String { "stage_\(index)" }

    /// The stage of a tensor named `stage_<index>` (canonical decimal), or nil for any other name.
    static func stageIndex(ofTensor name: String) -> Int? {
        guard name.hasPrefix("stage_"), let index = Int(name.dropFirst("stage_".count)), index >= 0,
              stageTensorName(index) == name else { return nil }
        return index
    }

    /// The stage indices of `file`'s stage tensors, ascending.
    static func stageIndices(of file: SafeTensorsFile) -> [Int] {
        file.tensors.keys.compactMap(stageIndex(ofTensor:)).sorted()
    }

    /// The layouts of `file`'s stage tensors, ascending, each checked: float, [rows, C, H, W] (of
    /// `rows` rows when given), and listed by its `stages` metadata (which lists no others).
    static func stageLayouts(of file: SafeTensorsFile, rows: Int? = nil) throws -> [StageLayout] {
        func fail(_ reason: String) -> HeadError { .badFeaturesFile(path: file.path, reason: reason) }
        let indices = stageIndices(of: file)
        let listed = file.metadata["stages"] ?? ""
        guard listed == indices.map(String.init).joined(separator: ",") else {
            throw fail("its 'stages' metadata ('\(listed.prefix(40))') does not list its stage tensors (\(indices.map(stageTensorName)))")
        }
        let floatTypes: Set<SafeTensorsDType> = [.f32, .f16, .bf16]
        return try indices.map { index in
            let name = stageTensorName(index)
            guard let info = file.tensors[name], info.shape.count == 4, floatTypes.contains(info.dtype),
                  rows.map({ info.shape[0] == $0 }) ?? true,
                  let layout = try? StageLayout(index: index, shape: Array(info.shape.dropFirst())) else {
                let shape = file.tensors[name].map { "\($0.dtype.rawValue) \($0.shape)" } ?? "missing"
                throw fail("its \(name) is \(shape), not a float [\(rows.map(String.init) ?? "N"), channels, height, width]")
            }
            return layout
        }
    }
}
