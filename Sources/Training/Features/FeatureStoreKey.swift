import Backbone
import Foundation
import Heads
import Images
import Support

/// The one key scheme of the feature stores: what was extracted (kind, blocks, flips), by which
/// backbone (its weights' fingerprint and the precision and device it ran in), from which images
/// preprocessed how (every file's path, size and modification time). Anything that could change
/// a stored value changes the key, so a store never serves stale or foreign features.
public enum FeatureStoreKey {
    public static func make(kind: String, model: DINOv3Model, preprocessing: Preprocessing, blocks: Int,
                            flip: Bool = false, files: [String], extra: [String] = []) -> String {
        make(kind: kind, model: model, preprocessing: preprocessing, layers: model.lastBlocks(blocks), flip: flip, files: files, extra: extra)
    }

    /// The key of features of the blocks `layers`. The last n blocks hash as they always did
    /// (`blocks=n`), so existing stores stay valid; other selections add the indices.
    public static func make(kind: String, model: DINOv3Model, preprocessing: Preprocessing, layers: [Int],
                            flip: Bool = false, files: [String], extra: [String] = []) -> String {
        let lastN = layers == model.lastBlocks(layers.count)
        var h = FNV1a()
        h.combine("dinoprobe-feature-store-v2")
        h.combine(kind)
        h.combine(model.fingerprint)
        h.combine("\(model.precision.rawValue) \(model.device.rawValue) blocks=\(layers.count) flip=\(flip)")
        h.combine((lastN ? FeatureRecipe(tokens: .cls, blocks: layers.count, preprocessing: preprocessing)
                         : FeatureRecipe(tokens: .cls, layers: layers, preprocessing: preprocessing)).key)
        for item in extra { h.combine(item) }
        for path in files { FileStamp.combine(path, into: &h) }
        return h.hexDigest
    }
}
