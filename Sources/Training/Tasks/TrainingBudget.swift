/// A published recipe's training budget carried over to another data set: as many passes over
/// the data as the recipe makes (its steps x batch / its training images), at least 100 steps and
/// at most the recipe's own steps.
public struct TrainingBudget: Sendable, Equatable {
    public var steps: Int, batchSize: Int, trainImages: Int

    public init(steps: Int, batchSize: Int, trainImages: Int) {
        (self.steps, self.batchSize, self.trainImages) = (steps, batchSize, trainImages)
    }

    /// The steps for `images` training images in batches of `batchSize`.
    public func steps(images: Int, batchSize: Int) -> Int {
        let passes = Double(steps * self.batchSize) / Double(trainImages)
        let scaled = (passes * Double(max(images, 1)) / Double(max(batchSize, 1))).rounded(.up)
        return Int(min(max(scaled, 100), Double(steps)))
    }
}
