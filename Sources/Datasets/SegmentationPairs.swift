import Foundation
import Support

/// Pairing images with masks by file stem.
enum SegmentationPairs {
    /// One sample per image in `imageFolder` (not recursive), with mask `maskFolder/<stem>.png`,
    /// sorted by image path. The mask may be missing (reported by `check`).
    static func pair(imageFolder: String, maskFolder: String) throws -> [SegmentationSample] {
        try ImageFiles.images(in: imageFolder).map { image in
            let stem = ((image as NSString).lastPathComponent as NSString).deletingPathExtension
            return SegmentationSample(image: image, mask: maskFolder + "/" + stem + ".png")
        }
    }
}
