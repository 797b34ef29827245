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
        var h = FNV1a()
        h.combine("dinoprobe-feature-store-v2")
        h.combine(kind)
        h.combine(model.fingerprint)
        h.combine("\(model.precision.rawValue) \(model.device.rawValue) blocks=\(blocks) flip=\(flip)")
        h.combine(FeatureRecipe(tokens: .cls, blocks: blocks, preprocessing: preprocessing).key)
        for item in extra { h.combine(item) }
        for path in files { FileStamp.combine(path, into: &h) }
        return h.hexDigest
    }
}
