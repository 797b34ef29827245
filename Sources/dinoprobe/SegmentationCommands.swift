import ArgumentParser
import Backbone
import Foundation
import Heads
import SafeTensors
import Training
import Support
import Images

/// Which segmentation data set and layout.
struct SegmentationDataOptions: ParsableArguments {
    @Option(help: "Data set root (ADE20K, Pascal VOC 2012, or images/ + masks/ + classes.txt).")
    var data: String

    @Option(help: "Layout: auto, ade20k, voc or folder.")
    var layout: String = "auto"

    func loadValid(_ split: DatasetSplit, folder: URL?) throws -> SegmentationDataset {
        try loadValidSegmentation(root: data, layout: layout, split: split, folder: folder)
    }
}

/// One split of a segmentation data set in `layout`, with its bad pairs removed and reported.
func loadValidSegmentation(root: String, layout: String, split: DatasetSplit, folder: URL?) throws -> SegmentationDataset {
    let dataset: SegmentationDataset
    switch layout {
    case "auto": dataset = try SegmentationDataset.load(root: root, split: split)
    case "ade20k": dataset = try ADE20K.load(root: root, split: split)
    case "voc": dataset = try PascalVOC.load(root: root, split: split)
    case "folder": dataset = try SegmentationFolder.load(root: root, split: split)
    default: throw ValidationError("--layout must be auto, ade20k, voc or folder")
    }
    let progress = ProgressReporter("check \(split.rawValue) pairs", total: dataset.count, unit: "pairs")
    let (valid, skipped) = dataset.validate { done, _ in progress.update(done) }
    progress.finish(dataset.count, note: skipped.isEmpty ? "" : "\(skipped.count) bad")
    try reportSkipped(skipped.map { SkippedInput(index: 0, path: $0.path, reason: $0.reason) }, split: split.rawValue, folder: folder)
    guard valid.count > 0 else { throw ValidationError("no usable image/mask pair in the \(split.rawValue) split of \(root)") }
    return valid
}

struct TrainSeg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-seg",
        abstract: "Linear segmentation: cache patch features, train the DINOv3 linear head (BN + 1x1 conv), report mIoU on val.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var dataOptions: SegmentationDataOptions
    @OptionGroup var cacheOptions: CacheOptions

    @Option(help: "Input resolution (square, a multiple of 16): 448 for dense work, 224 gives a 14x14 grid.")
    var resolution: Int = 448

    @Option(help: "Optimizer steps (Meta: 40000).")
    var iters: Int = 40_000

    @Option(help: "Batch size.")
    var batchSize: Int = 16

    @Option(help: "AdamW learning rate.")
    var lr: Float = 1e-3

    @Option(help: "AdamW weight decay.")
    var weightDecay: Float = 1e-3

    @Option(help: "Warm-up steps (default: 1500/40000 of --iters).")
    var warmup: Int?

    @Flag(help: "Also cache a mirrored view of every training image (doubles the views).")
    var flip = false

    @Option(help: "Seed.")
    var seed: UInt64 = 0

    @Option(help: "Run folder (default runs/seg-DATE).")
    var out: String?

    @Flag(help: "Replace the head of an earlier run in --out.")
    var overwrite = false

    func validate() throws {
        try Check.multiple(resolution, of: 16, 16...4096, "--resolution")
        try Check.range(iters, 1...100_000_000, "--iters")
        try Check.range(batchSize, 1...4096, "--batch-size")
        try Check.finite(lr, Float.leastNormalMagnitude...10, "--lr")
        try Check.finite(weightDecay, 0...10, "--weight-decay")
        try Check.optionalRange(warmup, 0...iters, "--warmup")
    }

    func run() throws {
        let run = try RunFolder(out, prefix: "seg", overwrite: overwrite, guarding: "head.safetensors")
        defer { run.close() }
        let folder = run.url
        let model = try modelOptions.load()
        let train = try dataOptions.loadValid(.train, folder: folder)
        // A data set without a val split trains without evaluation; any other problem with the
        // val split (unreadable folder, bad class list) is an error, not "no val split".
        let val: SegmentationDataset?
        do { val = try dataOptions.loadValid(.val, folder: folder) } catch let DatasetError.missingSplit(_, path, _) {
            stderrPrint("no val split (\(path) does not exist): the head is trained but not evaluated")
            val = nil
        }
        say("data: \(train.count) train\(val.map { " / \($0.count) val" } ?? "") pairs, \(train.classCount) classes (\(train.layout.rawValue) layout)")
        let key = PatchFeatureStore.key(backboneFingerprint: model.fingerprint, resolution: resolution, flip: flip,
                                        files: train.samples.flatMap { [$0.image, $0.mask] } + ["reduce=\(train.reduceZeroLabel)"])
        let storeFolder = cacheOptions.noCache ? folder : (cacheOptions.cacheDir.map { URL(fileURLWithPath: $0) } ?? FeatureCache.defaultFolder())
        let storePath = storeFolder.appendingPathComponent("patches-\(key).safetensors").path
        let expectation = PatchFeatureStore.Expectation(dim: model.config.hiddenSize, resolution: resolution,
                                                        classes: train.classCount, ignoreIndex: train.ignoreIndex)
        var cached: PatchFeatureStore?
        if !cacheOptions.noCache, FileSystem.exists(storePath) {
            do {
                cached = try PatchFeatureStore(path: storePath, expecting: expectation)
                stderrPrint("train: \(cached?.count ?? 0) views of patch features from the cache (\(storePath))")
            } catch {
                try? FileSystem.removeFile(storePath)
                stderrPrint("train: cache entry \(storePath) is unusable (\(error)); removed it, extracting again")
            }
        }
        let store = try cached ?? PatchFeatureStore.build(model: model, images: train.samples.map(\.image),
                                                          loadMask: { try train.loadMask(for: train.samples[$0]) },
                                                          resolution: resolution, flip: flip, batchSize: cacheOptions.extractBatchSize,
                                                          to: storePath)
        try reportSkipped(store.skipped, split: "train-extraction", folder: folder)
        var settings = SegmentationSettings()
        settings.iterations = iters
        settings.batchSize = batchSize
        settings.learningRate = lr
        settings.weightDecay = weightDecay
        settings.warmup = warmup
        settings.seed = seed
        let metadata = HeadMetadata(kind: .segmenter, featureRecipe: "patch|blocks=1|preset=hf|size=\(resolution)",
                                    backboneID: modelOptions.displayID, backboneFingerprint: model.fingerprint,
                                    classNames: train.classNames, palette: train.palette, inputResolution: resolution,
                                    extra: ["ignore_index": "\(train.ignoreIndex)", "reduce_zero_label": "\(train.reduceZeroLabel)"])
        say("training a linear head on \(store.count) views of \(store.gridHeight)x\(store.gridWidth)x\(store.dim) patch features, \(iters) steps of batch \(batchSize)")
        let progress = ProgressReporter("train", total: iters, unit: "steps")
        var smoothed: Float?
        let head = try SegmentationTraining.train(store: store, classes: train.classCount, settings: settings, metadata: metadata) { step, _, loss in
            smoothed = smoothed.map { 0.98 * $0 + 0.02 * loss } ?? loss
            progress.update(step, note: String(format: "loss %.4f", smoothed ?? loss))
        }
        progress.finish(iters, note: String(format: "loss %.4f", smoothed ?? 0))
        try head.save(to: folder.appendingPathComponent("head.safetensors").path)
        say("saved \(folder.path)/head.safetensors")
        guard let val else {
            say("no val split: skipping evaluation")
            return
        }
        let (metrics, skipped) = try SegmentationTraining.evaluate(head: head, model: model, dataset: val, resolution: resolution,
                                                                  batchSize: cacheOptions.extractBatchSize)
        try reportSkipped(skipped, split: "val", folder: folder)
        let result = metrics.result()
        say(result.table())
        try result.writeJSON(to: folder.appendingPathComponent("metrics.json").path)
        say("wrote \(folder.path)/metrics.json")
    }
}

struct EvalSeg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-seg",
        abstract: "mIoU, aAcc, mAcc and per-class IoU (mmsegmentation semantics) of a saved head on a data set, or of any tool's prediction masks.",
        discussion: """
        With --head: runs the head on the data set's val split. With --pred and --gt: compares PNG masks \
        with the same stems (class index per pixel); class names from --classes (one per line) or --num-classes.
        """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Head saved by train-seg.")
    var head: String?

    @Option(help: "Data set root (with --head).")
    var data: String?

    @Option(help: "Layout: auto, ade20k, voc or folder (with --head).")
    var layout: String = "auto"

    @Option(help: "Folder of predicted masks (PNG, class index per pixel).")
    var pred: String?

    @Option(help: "Folder of ground-truth masks with the same file stems.")
    var gt: String?

    @Option(help: "Class names, one per line (with --pred/--gt).")
    var classes: String?

    @Option(help: "Number of classes when no --classes file is given.")
    var numClasses: Int?

    @Option(help: "Label ignored in the ground truth.")
    var ignoreIndex: Int = 255

    @Flag(help: "Ground truth stores background as 0 (ADE20K): map 0 to ignore and shift the rest down by one.")
    var reduceZeroLabel = false

    @Option(help: "Folder for metrics.json (and, with --head, the predicted masks).")
    var out: String?

    func validate() throws {
        try Check.optionalRange(numClasses, 1...255, "--num-classes")
        try Check.range(ignoreIndex, 0...255, "--ignore-index")
        guard (head != nil) != (pred != nil) else { throw ValidationError("give --head with --data, or --pred with --gt") }
    }

    func run() throws {
        let run = try out.map { try RunFolder($0, prefix: "eval-seg", overwrite: true, guarding: nil) }
        defer { run?.close() }
        let folder = run?.url
        let result: SegmentationResult
        if let head {
            guard let data else { throw ValidationError("--head needs --data") }
            let segmenter = try LinearSegmenter.load(from: head)
            let val = try loadValidSegmentation(root: data, layout: layout, split: .val, folder: folder)
            guard val.classNames == segmenter.metadata.classNames else {
                throw ValidationError("the head's \(segmenter.classes) classes are not this data set's \(val.classCount)")
            }
            let model = try modelOptions.load()
            let resolution = segmenter.metadata.inputResolution ?? 448
            try segmenter.metadata.checkCompatible(featureRecipe: "patch|blocks=1|preset=hf|size=\(resolution)", backboneFingerprint: model.fingerprint)
            let (metrics, skipped) = try SegmentationTraining.evaluate(head: segmenter, model: model, dataset: val, resolution: resolution) { index, mask, w, h in
                guard let folder else { return }
                let stem = URL(fileURLWithPath: val.samples[index].image).deletingPathExtension().lastPathComponent
                try PNGEncoder.writeIndexed(mask, width: w, height: h, palette: Array(val.palette.prefix(768)),
                                            to: folder.appendingPathComponent("pred/\(stem).png").path)
            }
            try reportSkipped(skipped, split: "val", folder: folder)
            result = metrics.result()
        } else {
            guard let pred, let gt else { throw ValidationError("give --head with --data, or --pred with --gt") }
            result = try compareFolders(pred: pred, gt: gt)
        }
        say(result.table())
        if let folder {
            try result.writeJSON(to: folder.appendingPathComponent("metrics.json").path)
            say("wrote \(folder.path)/metrics.json")
        }
    }

    func compareFolders(pred: String, gt: String) throws -> SegmentationResult {
        let names: [String]? = try classes.map { path in
            try FileSystem.readText(path, limit: 1 << 20).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        guard let count = names?.count ?? numClasses, count > 0, count <= 255 else {
            throw ValidationError("give --classes FILE or --num-classes N (1...255)")
        }
        let gtFiles = try FileManager.default.contentsOfDirectory(atPath: gt).filter { $0.lowercased().hasSuffix(".png") }.sorted()
        guard !gtFiles.isEmpty else { throw ValidationError("no PNG masks in \(gt)") }
        var metrics = try SegmentationMetrics(numClasses: count, ignoreIndex: ignoreIndex, classNames: names)
        var skipped: [SkippedInput] = []
        let progress = ProgressReporter("evaluate", total: gtFiles.count, unit: "masks")
        for (i, name) in gtFiles.enumerated() {
            let gtPath = (gt as NSString).appendingPathComponent(name), predPath = (pred as NSString).appendingPathComponent(name)
            do {
                let truth = try MaskDecoder.decode(path: gtPath)
                let prediction = try MaskDecoder.decode(path: predPath)
                guard truth.width == prediction.width, truth.height == prediction.height else {
                    throw ValidationError("prediction is \(prediction.width)x\(prediction.height), ground truth \(truth.width)x\(truth.height)")
                }
                var labels = truth.labels
                if reduceZeroLabel { labels = labels.map { $0 == 0 ? 255 : ($0 == 255 ? 255 : $0 - 1) } }
                try metrics.add(prediction: prediction.labels, label: labels)
            } catch {
                skipped.append(SkippedInput(index: i, path: predPath, reason: "\(error)"))
            }
            progress.update(i + 1)
        }
        progress.finish(gtFiles.count)
        try reportSkipped(skipped, split: "masks", folder: out.map { URL(fileURLWithPath: $0) })
        return metrics.result()
    }
}
