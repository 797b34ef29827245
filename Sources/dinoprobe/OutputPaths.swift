import Evaluation
import Support

/// Per-image scores with their image and mask paths as given on the command line (below
/// whichever of `roots`, as typed, holds them).
func spelled(_ scores: [SegmentationImageScore], below roots: [String?]) -> [SegmentationImageScore] {
    func spell(_ path: String) -> String { roots.compactMap { $0 }.lazy.map { FileSystem.spelled(path, below: $0) }.first { $0 != path } ?? path }
    return scores.map { score in
        var s = score
        (s.image, s.mask) = (spell(s.image), spell(s.mask))
        return s
    }
}

extension ClassificationDataOptions {
    /// `paths` of this data set as given on the command line (below --data as typed); the
    /// paths of a downloaded data set stay absolute.
    func spelled(_ paths: [String]) -> [String] {
        guard let data, data.lowercased() != "imagenette" else { return paths }
        return paths.map { FileSystem.spelled($0, below: data) }
    }
}
