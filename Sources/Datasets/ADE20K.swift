import Foundation
import Support

/// ADE20K (SceneParsing, `ADEChallengeData2016`): `images/{training,validation}/*.jpg` with grey
/// masks `annotations/{training,validation}/*.png` of the same stem. Value 0 is "other" and is
/// ignored (reduce-zero-label), 1...150 are the classes.
public enum ADE20K {
    /// The folder the archive unpacks to.
    public static let folderName = "ADEChallengeData2016"

    /// The folder holding `images/` and `annotations/`: `root` itself or `root/ADEChallengeData2016`.
    public static func resolveRoot(_ root: String) -> String? {
        ImageFiles.locateRoot(root, nested: [folderName]) {
            FileSystem.isDirectory($0 + "/images/training") || FileSystem.isDirectory($0 + "/images/validation")
        }
    }

    /// Lists `split` (train = training, val = validation). Throws `DatasetError.missingFolder` for
    /// a missing images or annotations folder and `emptySplit` if it holds no images.
    public static func load(root: String, split: DatasetSplit) throws -> SegmentationDataset {
        let given = FileSystem.absolute(root)
        let hint = "expected \(folderName)/images/{training,validation}/*.jpg and \(folderName)/annotations/{training,validation}/*.png"
        guard let base = resolveRoot(given) else {
            throw DatasetError.missingFolder(path: given + "/images/training", what: "ADE20K images folder", hint: hint)
        }
        let name = split == .train ? "training" : "validation"
        let images = base + "/images/" + name
        let masks = base + "/annotations/" + name
        guard FileSystem.isDirectory(images) else { throw DatasetError.missingSplit(split: split, path: images, hint: hint) }
        guard FileSystem.isDirectory(masks) else { throw DatasetError.missingFolder(path: masks, what: "ADE20K annotations folder", hint: hint) }
        let samples = try PairedFolders.pair(imageFolder: images, targetFolder: masks).map { SegmentationSample(image: $0.image, mask: $0.target) }
        guard !samples.isEmpty else { throw DatasetError.emptySplit(folder: images, hint: hint) }
        return SegmentationDataset(root: base, split: split, layout: .ade20k, samples: samples, classNames: classNames,
                                   palette: palette, reduceZeroLabel: true)
    }

    /// The 150 class names in label order (mmsegmentation's `ADE20KDataset`).
    public static let classNames: [String] = [
        "wall", "building", "sky", "floor", "tree", "ceiling", "road", "bed", "windowpane", "grass", "cabinet",
        "sidewalk", "person", "earth", "door", "table", "mountain", "plant", "curtain", "chair", "car", "water",
        "painting", "sofa", "shelf", "house", "sea", "mirror", "rug", "field", "armchair", "seat", "fence", "desk",
        "rock", "wardrobe", "lamp", "bathtub", "railing", "cushion", "base", "box", "column", "signboard",
        "chest of drawers", "counter", "sand", "sink", "skyscraper", "fireplace", "refrigerator", "grandstand",
        "path", "stairs", "runway", "case", "pool table", "pillow", "screen door", "stairway", "river", "bridge",
        "bookcase", "blind", "coffee table", "toilet", "flower", "book", "hill", "bench", "countertop", "stove",
        "palm", "kitchen island", "computer", "swivel chair", "boat", "bar", "arcade machine", "hovel", "bus",
        "towel", "light", "truck", "tower", "chandelier", "awning", "streetlight", "booth", "television receiver",
        "airplane", "dirt track", "apparel", "pole", "land", "bannister", "escalator", "ottoman", "bottle",
        "buffet", "poster", "stage", "van", "ship", "fountain", "conveyer belt", "canopy", "washer", "plaything",
        "swimming pool", "stool", "barrel", "basket", "waterfall", "tent", "bag", "minibike", "cradle", "oven",
        "ball", "food", "step", "tank", "trade name", "microwave", "pot", "animal", "bicycle", "lake",
        "dishwasher", "screen", "blanket", "sculpture", "hood", "sconce", "vase", "traffic light", "tray",
        "ashcan", "fan", "pier", "crt screen", "plate", "monitor", "bulletin board", "shower", "radiator",
        "glass", "clock", "flag",
    ]

    /// The standard ADE20K display palette (mmsegmentation's), RGB triples in label order.
    public static let palette: [UInt8] = [
        120, 120, 120, 180, 120, 120, 6, 230, 230, 80, 50, 50, 4, 200, 3, 120, 120, 80, 140, 140, 140, 204, 5, 255,
        230, 230, 230, 4, 250, 7, 224, 5, 255, 235, 255, 7, 150, 5, 61, 120, 120, 70, 8, 255, 51, 255, 6, 82,
        143, 255, 140, 204, 255, 4, 255, 51, 7, 204, 70, 3, 0, 102, 200, 61, 230, 250, 255, 6, 51, 11, 102, 255,
        255, 7, 71, 255, 9, 224, 9, 7, 230, 220, 220, 220, 255, 9, 92, 112, 9, 255, 8, 255, 214, 7, 255, 224,
        255, 184, 6, 10, 255, 71, 255, 41, 10, 7, 255, 255, 224, 255, 8, 102, 8, 255, 255, 61, 6, 255, 194, 7,
        255, 122, 8, 0, 255, 20, 255, 8, 41, 255, 5, 153, 6, 51, 255, 235, 12, 255, 160, 150, 20, 0, 163, 255,
        140, 140, 140, 250, 10, 15, 20, 255, 0, 31, 255, 0, 255, 31, 0, 255, 224, 0, 153, 255, 0, 0, 0, 255,
        255, 71, 0, 0, 235, 255, 0, 173, 255, 31, 0, 255, 11, 200, 200, 255, 82, 0, 0, 255, 245, 0, 61, 255,
        0, 255, 112, 0, 255, 133, 255, 0, 0, 255, 163, 0, 255, 102, 0, 194, 255, 0, 0, 143, 255, 51, 255, 0,
        0, 82, 255, 0, 255, 41, 0, 255, 173, 10, 0, 255, 173, 255, 0, 0, 255, 153, 255, 92, 0, 255, 0, 255,
        255, 0, 245, 255, 0, 102, 255, 173, 0, 255, 0, 20, 255, 184, 184, 0, 31, 255, 0, 255, 61, 0, 71, 255,
        255, 0, 204, 0, 255, 194, 0, 255, 82, 0, 10, 255, 0, 112, 255, 51, 0, 255, 0, 194, 255, 0, 122, 255,
        0, 255, 163, 255, 153, 0, 0, 255, 10, 255, 112, 0, 143, 255, 0, 82, 0, 255, 163, 255, 0, 255, 235, 0,
        8, 184, 170, 133, 0, 255, 0, 255, 92, 184, 0, 255, 255, 0, 31, 0, 184, 255, 0, 214, 255, 255, 0, 112,
        92, 255, 0, 0, 224, 255, 112, 224, 255, 70, 184, 160, 163, 0, 255, 153, 0, 255, 71, 255, 0, 255, 0, 163,
        255, 204, 0, 255, 0, 143, 0, 255, 235, 133, 255, 0, 255, 0, 235, 245, 0, 255, 255, 0, 122, 255, 245, 0,
        10, 190, 212, 214, 255, 0, 0, 204, 255, 20, 0, 255, 255, 255, 0, 0, 153, 255, 0, 41, 255, 0, 255, 204,
        41, 0, 255, 41, 255, 0, 173, 0, 255, 0, 245, 255, 71, 0, 255, 122, 0, 255, 0, 255, 184, 0, 92, 255,
        184, 255, 0, 0, 133, 255, 255, 214, 0, 25, 194, 194, 102, 255, 0, 92, 0, 255,
    ]
}
