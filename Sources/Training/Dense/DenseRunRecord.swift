extension RunRecord.DataRecord {
    /// The named splits of a dense data set under `root` (image and target file of every pair, in
    /// order); a nil split (a data set without val) is left out.
    public static func dense<D: DenseDataset>(root: String, _ splits: [(name: String, dataset: D?)]) -> Self {
        Self(root: root, splits: splits.reduce(into: [:]) { listed, split in
            guard let d = split.dataset else { return }
            listed[split.name] = .init(paths: (0..<d.count).flatMap { [d.imagePath($0), d.targetPath($0)] })
        })
    }
}
