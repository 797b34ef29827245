import Backbone
import Foundation
import TestSupport
import SafeTensors
import Datasets
import Training
import XCTest
import Images
import Heads

/// train-seg -> eval-seg -> segment on a generated data set whose masks are known exactly.
final class SegmentationCLITests: XCTestCase {
    func testTrainEvaluateAndSegmentEndToEnd() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path
        _ = try SyntheticData.makeSegmentationFolder(root: data, count: 48, valCount: 12, size: 64, seed: 3)
        let run = dir.appendingPathComponent("run").path
        let cache = dir.appendingPathComponent("cache").path
        let train = try CLI.run(["train-seg", "--model", CLI.tinyModel, "--data", data, "--resolution", "128",
                                 "--iters", "400", "--batch-size", "8", "--lr", "0.01", "--flip", "--out", run, "--cache-dir", cache])
        XCTAssertEqual(train.status, 0, train.stderr)
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/metrics.json"))) as! [String: Any]
        let mIoU = try XCTUnwrap(metrics["miou"] as? Double)
        print("train-seg on generated shapes: val mIoU \(mIoU)")
        XCTAssertGreaterThan(mIoU, 0.8, train.stdout)
        XCTAssertTrue(train.stderr.contains("extract patches (flipped)"), train.stderr)

        // eval-seg with the saved head reproduces the number.
        let evalOut = dir.appendingPathComponent("eval").path
        let eval = try CLI.run(["eval-seg", "--model", CLI.tinyModel, "--head", run + "/head.safetensors", "--data", data, "--out", evalOut])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let again = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: evalOut + "/metrics.json"))) as! [String: Any]
        XCTAssertEqual(again["miou"] as? Double ?? -1, mIoU, accuracy: 1e-9)
        // per_image.csv: one row per val image; confusion.csv: label x prediction pixel counts
        // whose diagonal and row sums give the per-class intersections and label areas.
        let perImage = try String(contentsOfFile: evalOut + "/per_image.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(perImage.first, "image,mask,pixels,ignored,accuracy,mean_iou,labelled_classes")
        XCTAssertEqual(perImage.count, 1 + 12)
        XCTAssertTrue(perImage.dropFirst().allSatisfy { $0.split(separator: ",")[2] == "4096" }, "64 x 64 pixels each")
        let confusion = try String(contentsOfFile: evalOut + "/confusion.csv", encoding: .utf8).split(separator: "\n")
            .dropFirst().map { $0.split(separator: ",").dropFirst().map { Int64($0)! } }
        let intersect = again["area_intersect"] as? [Int64] ?? [], label = again["area_label"] as? [Int64] ?? []
        XCTAssertEqual(confusion.indices.map { confusion[$0][$0] }, intersect)
        XCTAssertEqual(confusion.map { $0.reduce(0, +) }, label)
        XCTAssertTrue(FileManager.default.fileExists(atPath: evalOut + "/run.json"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/train_log.csv"))
        XCTAssertEqual(try String(contentsOfFile: run + "/train_log.csv", encoding: .utf8).split(separator: "\n").count, 1 + 400)

        // eval-seg on prediction folders (any tool's masks) gives the same numbers again.
        let folders = try CLI.run(["eval-seg", "--pred", evalOut + "/pred", "--gt", data + "/masks/val", "--classes", data + "/classes.txt"])
        XCTAssertEqual(folders.status, 0, folders.stderr)
        XCTAssertTrue(folders.stdout.contains(String(format: "%.2f", 100 * mIoU)), folders.stdout)

        // A second run reuses the cached patch features.
        let second = try CLI.run(["train-seg", "--model", CLI.tinyModel, "--data", data, "--resolution", "128", "--iters", "5",
                                  "--flip", "--out", run, "--overwrite", "--cache-dir", cache])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stderr.contains("from the cache"), second.stderr)

        // segment writes a mask of the image's own size and an overlay with a legend.
        let image = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: data + "/images/val").sorted().first)
        let segOut = dir.appendingPathComponent("seg").path
        let seg = try CLI.run(["segment", "--model", CLI.tinyModel, "--head", run + "/head.safetensors", data + "/images/val/" + image, "--out", segOut],
                              in: dir)
        XCTAssertEqual(seg.status, 0, seg.stderr)
        let stem = "shapes/images/val/" + (image as NSString).deletingPathExtension  // the input's path, mirrored under --out
        let mask = try MaskDecoder.decode(path: segOut + "/\(stem).mask.png")
        XCTAssertEqual([mask.width, mask.height], [64, 64])
        let overlay = try ImageDecoder.decode(path: segOut + "/\(stem).overlay.png")
        // Two images of the same name in different folders, given as folders: both kept.
        try FileManager.default.createDirectory(atPath: dir.path + "/two/a", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir.path + "/two/b", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: data + "/images/val/" + image, toPath: dir.path + "/two/a/same.png")
        try FileManager.default.copyItem(atPath: data + "/images/val/" + image, toPath: dir.path + "/two/b/same.png")
        let both = try CLI.run(["segment", "--model", CLI.tinyModel, "--head", run + "/head.safetensors", "two", "--out", "both"], in: dir)
        XCTAssertEqual(both.status, 0, both.stderr)
        for folder in ["a", "b"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.path + "/both/two/\(folder)/same.mask.png"), folder)
        }
        XCTAssertGreaterThanOrEqual(overlay.height, 64)  // the legend may be taller than a tiny image
        XCTAssertGreaterThan(overlay.width, 64)  // the legend panel
        XCTAssertTrue(seg.stdout.contains("%"), seg.stdout)
    }

    /// Meta's multi-layer head: patch tokens of several blocks concatenated; eval-seg and segment
    /// read the same blocks from the head's recipe; train-linear takes the same --layers.
    func testMultiLayerHeads() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path
        _ = try SyntheticData.makeSegmentationFolder(root: data, count: 8, valCount: 3, size: 32, seed: 6)
        let run = dir.appendingPathComponent("run").path
        let train = try CLI.run(["train-seg", "--model", CLI.tinyModel, "--data", data, "--size", "32", "--iters", "20", "--layers", "0,1",
                                 "--no-cache", "--out", run, "--head-naming", "meta"])
        XCTAssertEqual(train.status, 0, train.stderr)
        let head = try LinearSegmenter.load(from: run + "/head.safetensors")
        XCTAssertEqual(head.dim, 2 * 48, "two blocks of the 48-wide tiny model")
        XCTAssertEqual(try head.metadata.recipe().layers, [0, 1])
        XCTAssertNotNil(try SafeTensorsFile(path: run + "/head.safetensors").tensors["batchnorm_layer.weight"])
        let trained = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/metrics.json"))) as! [String: Any]
        let evalOut = dir.appendingPathComponent("eval").path
        let eval = try CLI.run(["eval-seg", "--model", CLI.tinyModel, "--head", run + "/head.safetensors", "--data", data, "--out", evalOut])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let again = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: evalOut + "/metrics.json"))) as! [String: Any]
        XCTAssertEqual(again["miou"] as? Double ?? -1, trained["miou"] as? Double ?? -2, accuracy: 1e-12)
        let seg = try CLI.run(["segment", "--model", CLI.tinyModel, "--head", run + "/head.safetensors", CLI.fixtureImages + "/rgb_300x200.jpg",
                               "--out", dir.appendingPathComponent("seg").path])
        XCTAssertEqual(seg.status, 0, seg.stderr)
        // Sliding-window inference (3 x 3 windows of 16 over each 32 x 32 image), recorded in run.json.
        let slideOut = dir.appendingPathComponent("slide").path
        let slide = try CLI.run(["eval-seg", "--model", CLI.tinyModel, "--head", run + "/head.safetensors", "--data", data,
                                 "--inference", "slide", "--crop", "16", "--stride", "8", "--out", slideOut])
        XCTAssertEqual(slide.status, 0, slide.stderr)
        XCTAssertTrue(slide.stdout.contains("inference: slide (crop 16, stride 8)"), slide.stdout)
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: slideOut + "/run.json"))) as! [String: Any]
        XCTAssertEqual((record["options"] as? [String: Any])?["inference"] as? String, "slide")
        let slideSegment = try CLI.run(["segment", "--model", CLI.tinyModel, "--head", run + "/head.safetensors", CLI.fixtureImages + "/rgb_300x200.jpg",
                                        "--inference", "slide", "--out", dir.appendingPathComponent("seg-slide").path])
        XCTAssertEqual(slideSegment.status, 0, slideSegment.stderr)
        let refused = try CLI.run(["eval-seg", "--head", run + "/head.safetensors", "--data", data, "--crop", "16"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--inference slide"), refused.stderr)
        let bad = try CLI.run(["train-seg", "--model", CLI.tinyModel, "--data", data, "--size", "32", "--iters", "2", "--layers", "0,5",
                               "--no-cache", "--out", dir.appendingPathComponent("bad").path])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("blocks 0 to 1"), bad.stderr)

        let classes = dir.appendingPathComponent("classes").path
        _ = try SyntheticData.makeClassificationFolder(root: classes, classes: 3, perClass: 8, valPerClass: 3, size: 32, seed: 1)
        let linear = dir.appendingPathComponent("linear").path
        let probe = try CLI.run(["train-linear", "--model", CLI.tinyModel, "--data", classes, "--size", "32", "--layers", "0,1", "--epochs", "1",
                                 "--iters-per-epoch", "5", "--no-cache", "--out", linear])
        XCTAssertEqual(probe.status, 0, probe.stderr)
        let classifier = try LinearClassifier.load(from: linear + "/head.safetensors")
        XCTAssertEqual(classifier.dim, 3 * 48, "CLS of blocks 0 and 1, then the mean patch")
        XCTAssertEqual(try classifier.metadata.recipe().layers, [0, 1])
        let classify = try CLI.run(["classify", "--model", CLI.tinyModel, "--head", linear + "/head.safetensors", classes + "/val"])
        XCTAssertEqual(classify.status, 0, classify.stderr)
    }

    func testSegmentWithoutHeadWritesPCAAndClusters() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["segment", "--model", CLI.tinyModel, "rgb_300x200.jpg", "--clusters", "3", "--resolution", "64", "--out", dir.path],
                            in: URL(fileURLWithPath: CLI.fixtureImages))
        XCTAssertEqual(r.status, 0, r.stderr)
        for suffix in ["pca", "clusters", "clusters-overlay"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("rgb_300x200.\(suffix).png").path), suffix)
        }
        let pca = try ImageDecoder.decode(path: dir.appendingPathComponent("rgb_300x200.pca.png").path)
        XCTAssertEqual([pca.width, pca.height], [300, 200])
    }

    func testBadSegmentationPairsAreSkippedAndReported() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path
        _ = try SyntheticData.makeSegmentationFolder(root: data, count: 8, valCount: 2, size: 32, seed: 1)
        let masks = try FileManager.default.contentsOfDirectory(atPath: data + "/masks/train").sorted()
        try FileManager.default.removeItem(atPath: data + "/masks/train/" + masks[0])
        let r = try CLI.run(["train-seg", "--model", CLI.tinyModel, "--data", data, "--resolution", "32", "--iters", "3",
                             "--out", dir.appendingPathComponent("run").path, "--no-cache"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("skipped"), r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("run/skipped-train.txt").path))
    }

    /// train-seg --augment N: N of Meta's augmented views per pair, cached by seed, recorded in run.json.
    func testAugmentedViewsAreCachedAndRecorded() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path
        _ = try SyntheticData.makeSegmentationFolder(root: data, count: 8, valCount: 2, size: 48, seed: 5)
        let cache = dir.appendingPathComponent("cache").path, run = dir.appendingPathComponent("run").path
        func train(seed: Int) throws -> (status: Int32, stdout: String, stderr: String) {
            let r = try CLI.run(["train-seg", "--model", CLI.tinyModel, "--data", data, "--size", "32", "--augment", "3", "--iters", "4",
                                 "--seed", "\(seed)", "--cache-dir", cache, "--overwrite", "--out", run])
            return (r.status, r.stdout, r.stderr)
        }
        let first = try train(seed: 1)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("augmented: 3 views per training pair"), first.stdout)
        XCTAssertTrue(first.stdout.contains("on 24 views"), first.stdout)
        let record = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/run.json"))) as? [String: Any])
        XCTAssertNotNil((record["notes"] as? [String: String])?["augmentation"])
        let metrics = try Data(contentsOf: URL(fileURLWithPath: run + "/metrics.json"))
        let again = try train(seed: 1)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("from the cache"), again.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: run + "/metrics.json")), metrics, "cached views give the same run")
        let other = try train(seed: 2)
        XCTAssertEqual(other.status, 0, other.stderr)
        XCTAssertFalse(other.stderr.contains("from the cache"), "another seed draws other views")
        let refused = try CLI.run(["train-seg", "--model", CLI.tinyModel, "--data", data, "--augment", "2", "--flip", "--out", run])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--flip"), refused.stderr)
    }

    /// train-seg under a scheduler: each shard caches its part of the patch store and stops; the
    /// run without a shard joins the parts (plain views, then mirrored ones) and trains exactly as
    /// one process does. A missing shard is built by the joining run itself.
    func testShardedPatchStoreEqualsOneProcess() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path
        _ = try SyntheticData.makeSegmentationFolder(root: data, count: 10, valCount: 2, size: 48, seed: 8)
        let cache = dir.appendingPathComponent("cache").path
        func train(_ extra: [String], out: String = "run", env: [String: String] = [:]) throws -> CLI.Result {
            try CLI.run(["train-seg", "--model", CLI.tinyModel, "--data", data, "--size", "32", "--iters", "6", "--flip",
                         "--extract-batch-size", "2", "--overwrite", "--out", dir.appendingPathComponent(out).path] + extra, environment: env)
        }
        for shard in [0, 2] {  // shard 1 of 3 never runs
            let r = try train(["--cache-dir", cache], env: ["RANK": "\(shard)", "WORLD_SIZE": "3"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("shard \(shard)/3 (from RANK/WORLD_SIZE) of train"), r.stdout)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("run").path), "a shard opens no run folder")
        let joined = try train(["--cache-dir", cache])
        XCTAssertEqual(joined.status, 0, joined.stderr)
        XCTAssertTrue(joined.stderr.contains("6 of 10 pairs from the parts"), joined.stderr)
        let left = try FileManager.default.contentsOfDirectory(atPath: cache)
        XCTAssertEqual(left.filter { $0.contains(".part-") }, [], "parts are removed once joined")
        let single = try train(["--no-cache"], out: "single")
        XCTAssertEqual(single.status, 0, single.stderr)
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("run/metrics.json")),
                       try Data(contentsOf: dir.appendingPathComponent("single/metrics.json")))
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("run/train_log.csv"), encoding: .utf8),
                       try String(contentsOf: dir.appendingPathComponent("single/train_log.csv"), encoding: .utf8))
        let refused = try train(["--no-cache", "--shard", "0/2"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--no-cache"), refused.stderr)
    }

    func testNoCacheLeavesNoPatchStoreBehind() throws {
        // --no-cache once built the (multi-GB at scale) patch store inside the run folder and
        // left it there.
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path
        _ = try SyntheticData.makeSegmentationFolder(root: data, count: 6, valCount: 2, size: 32, seed: 2)
        let run = dir.appendingPathComponent("run").path
        let r = try CLI.run(["train-seg", "--model", CLI.tinyModel, "--data", data, "--size", "32", "--iters", "3", "--out", run, "--no-cache"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let left = try FileManager.default.contentsOfDirectory(atPath: run).filter { $0.hasSuffix(".safetensors") || $0.contains("dinoprobe-tmp") }
        XCTAssertEqual(left, ["head.safetensors"])
    }

    func testSegmentChecksTheHeadItIsGiven() throws {
        // segment once compared a head's recipe with itself; now a head of other features, or of
        // another backbone, is refused.
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = CLI.fixtureImages + "/rgb_300x200.jpg"
        func head(_ name: String, recipe: FeatureRecipe, fingerprint: String) throws -> String {
            let metadata = HeadMetadata(kind: .segmenter, featureRecipe: recipe.key, backboneFingerprint: fingerprint, classNames: ["a", "b"])
            let path = dir.appendingPathComponent(name).path
            try LinearSegmenter(dim: 48, classes: 2, metadata: metadata).save(to: path)
            return path
        }
        let fingerprint = try DINOv3Model(folder: URL(fileURLWithPath: CLI.tinyModel)).fingerprint
        let cls = try head("cls.safetensors", recipe: FeatureRecipe(tokens: .cls, blocks: 1), fingerprint: fingerprint)
        let r = try CLI.run(["segment", "--model", CLI.tinyModel, "--head", cls, image, "--out", dir.appendingPathComponent("o1").path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("not a segmentation head"), r.stderr)
        let foreign = try head("foreign.safetensors", recipe: SegmentationRun.recipe(resolution: 64), fingerprint: "0123456789abcdef")
        let f = try CLI.run(["segment", "--model", CLI.tinyModel, "--head", foreign, image, "--out", dir.appendingPathComponent("o2").path])
        XCTAssertNotEqual(f.status, 0)
        XCTAssertTrue(f.stderr.contains("0123456789abcdef"), f.stderr)
        // A good head runs at its own size by default.
        let good = try head("good.safetensors", recipe: SegmentationRun.recipe(resolution: 64), fingerprint: fingerprint)
        let g = try CLI.run(["segment", "--model", CLI.tinyModel, "--head", good, image, "--out", dir.appendingPathComponent("o3").path])
        XCTAssertEqual(g.status, 0, g.stderr)
        XCTAssertTrue(g.stdout.contains("features 4x6 at 96x64"), g.stdout)
        // A stride over the crop leaves pixels in no window: refused before any image, not at the first wide one.
        let gap = try CLI.run(["segment", "--model", CLI.tinyModel, "--head", good, image, "--inference", "slide", "--crop", "16",
                               "--stride", "32", "--out", dir.appendingPathComponent("o4").path])
        XCTAssertNotEqual(gap.status, 0)
        XCTAssertTrue(gap.stderr.contains("--stride 32 is larger than the crop 16"), gap.stderr)
    }
}
