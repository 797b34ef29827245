import Foundation

/// The rows a probe on cached features works with: every train and val row for a feature recipe,
/// the part of train it fits on and the rows it chooses its hyperparameter on (a stratified
/// hold-out of train, or val), and the metadata its head will carry.
struct ProbeInputs {
    let train: LabelledFeatures
    let val: LabelledFeatures
    private(set) var fitting: LabelledFeatures
    let choosing: LabelledFeatures
    let recipe: FeatureRecipe
    let metadata: HeadMetadata

    /// Throws when the splits do not match, the hold-out fraction is out of (0, 0.5), or fewer
    /// than two classes are left to fit on.
    /// With `augmented`, the heads fit on those views of the kept training images instead of the
    /// images' own features; selection still uses the held-out images' own features.
    init(train trainSplit: FeatureSplit, val valSplit: FeatureSplit, tokens: FeatureTokens, blocks: Int,
         selection: ProbeSelection, seed: UInt64, augmented: AugmentedViews? = nil) throws {
        try trainSplit.checkMatches(valSplit)
        train = try trainSplit.labelled(tokens, blocks: blocks)
        val = try valSplit.labelled(tokens, blocks: blocks)
        switch selection {
        case let .holdout(fraction):
            try require(fraction.isFinite && fraction > 0 && fraction < 0.5, "hold-out fraction", "must be in (0, 0.5), got \(fraction)")
            let split = train.stratifiedSplit(fraction: fraction, seed: seed)
            (fitting, choosing) = (train.rows(split.keep), train.rows(split.holdout))
        case .val:
            (fitting, choosing) = (train, val)
        }
        try require(Set(fitting.labels).count >= 2, "training features", "fewer than 2 classes have training samples")
        recipe = trainSplit.recipe(tokens, blocks: blocks)
        metadata = HeadMetadata(kind: .classifier, featureRecipe: recipe.key, backboneID: trainSplit.source.backboneID,
                                backboneFingerprint: trainSplit.source.backboneFingerprint, classNames: trainSplit.classNames,
                                inputResolution: recipe.preprocessing.size, extra: ["selected_on": selection.name])
        if let augmented {
            let views = try augmented.features.vectors(tokens, blocks: blocks)
            try require(views.width == train.width && augmented.image.allSatisfy({ (0..<train.count).contains($0) }), "augmented views",
                        "their width or image indices do not match the training features")
            let all = LabelledFeatures(values: views.values, labels: augmented.image.map { train.labels[$0] }, width: views.width)
            var kept = Set(0..<train.count)
            if case let .holdout(fraction) = selection { kept = Set(train.stratifiedSplit(fraction: fraction, seed: seed).keep) }
            fitting = all.rows(augmented.image.indices.filter { kept.contains(augmented.image[$0]) })
        }
    }
}

/// Extra training views of the training images (e.g. Meta's random resized crops): their
/// features, and for each row the training row (image) it was made from.
public struct AugmentedViews: Sendable {
    public var features: TokenFeatures
    public var image: [Int]

    public init(features: TokenFeatures, image: [Int]) throws {
        try require(features.count == image.count, "augmented views", "\(features.count) rows for \(image.count) image indices")
        self.features = features
        self.image = image
    }
}
