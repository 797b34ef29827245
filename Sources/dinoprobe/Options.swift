import ArgumentParser
import CommandLineKit
import Backbone
import Datasets
import Foundation
import Heads
import Hub
import Images
import Support
import Training

extension FeatureDType: ExpressibleByArgument {}

/// Where the best learning rate is chosen.
enum SelectOn: String, ExpressibleByArgument, CaseIterable {
    case holdout, val
}

extension SegmentationLayout: ExpressibleByArgument {}

struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Checkpoint folder (config.json + safetensors), Meta's original .pth file, or a hub id found in the local Hugging Face cache.",
                               discussion: "Default: $DINOPROBE_MODEL, else \(ModelLocator.defaultModelID)."), completion: .file())
    var model: String?

    @Flag(help: "If the model is not found locally, download it from the Hugging Face hub into its cache first (see `dinoprobe download`); without this flag dinoprobe never goes online.")
    var download = false

    @Option(help: "Architecture of a Meta .pth whose tensors do not tell (no RoPE periods) and whose file name does not either.")
    var arch: MetaArchitecture?

    @Option(help: "Where the backbone runs.")
    var device: ComputeDevice = .cpu

    @Option(help: "Backbone precision: f32 (default, matches transformers) or bf16 (opt-in; faster on CPUs with AVX512-BF16, features drift).")
    var precision: ComputePrecision = .f32

    @Option(help: "CPU threads for the backbone and BLAS (default: all available cores; at most \(Check.maxThreads)).")
    var threads: Int?

    /// --threads, else every available core.
    var threadCount: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }

    func validate() throws {
        try Check.optionalRange(threads, 1...Check.maxThreads, "--threads")
    }

    /// Finds and loads the model, reporting where it came from.
    func load(quiet: Bool = false) throws -> DINOv3Model {
        // One OpenMP pool of this size serves libtorch and the OpenMP OpenBLAS: no oversubscription.
        Torch.setThreads(threadCount)
        let folder = try locate()
        let start = Date()
        let loaded: DINOv3Model
        do { loaded = try DINOv3Model(folder: folder, device: device, precision: precision, arch: arch) } catch BackboneError.cudaUnavailable {
            throw ValidationError("\(BackboneError.cudaUnavailable); here: pass --device cpu")
        }
        if !quiet {
            Console.err("model: \(loaded.variantName) from \(folder.path) (\(String(format: "%.1f", Date().timeIntervalSince(start)))s, \(device.rawValue), \(precision.rawValue))")
        }
        return loaded
    }

    /// The checkpoint folder; with --download, a hub id missing from the cache is downloaded first
    /// (never replaced by a folder of the working directory with the same name).
    func locate() throws -> URL {
        do { return try ModelLocator.resolve(model, downloading: download) } catch BackboneError.modelNotFound(let spec, _) where download && HubDownloader.isRepoID(spec) {
            return try HubDownloader.download(spec, revision: "main", reporter: TerminalReporter.shared).folder
        }
    }

    /// The id recorded with features and heads: the hub id or folder the user named.
    var displayID: String { model ?? ProcessInfo.processInfo.environment["DINOPROBE_MODEL"] ?? ModelLocator.defaultModelID }
}

/// How images become pixel values, and how large an image may be.
struct ImageOptions: ParsableArguments {
    @Option(help: "Preprocessing: hf (transformers' processor: resize to S x S), eval (short side 256/224*S, centre crop S), native (keep aspect ratio, sides multiples of 16).")
    var preset: PreprocessPreset = .hf

    @Option(help: "Input size S in pixels (native: the short side). A multiple of 16.")
    var size: Int = 224

    @Option(help: "Normalisation mean, R,G,B (satellite weights: 0.430,0.411,0.296).")
    var mean: String = "0.485,0.456,0.406"

    @Option(help: "Normalisation std, R,G,B (satellite weights: 0.213,0.156,0.143).")
    var std: String = "0.229,0.224,0.225"

    @OptionGroup var pixelLimit: PixelLimitOption
    var maxPixels: Int { pixelLimit.maxPixels }

    func validate() throws { _ = try preprocessing() }

    /// The recipe of these options, held to `Preprocessing`'s bounds (the ones head files are
    /// held to), with messages naming the flags.
    func preprocessing() throws -> Preprocessing {
        try Check.multiple(size, of: 16, 16...Preprocessing.maxSize, "--size")
        let p = Preprocessing(preset: preset, size: size, mean: try Check.numbers(mean, count: 3, Preprocessing.meanRange, "--mean"),
                              std: try Check.numbers(std, count: 3, Preprocessing.stdRange, "--std"))
        try p.validate()
        return p
    }
}

/// How many images go through the backbone at once: given, or what a memory budget allows.
struct ExtractionBatchOptions: ParsableArguments {
    @Option(help: "Images per backbone forward pass (default: as many as --memory-budget allows at the input size, at most 32).")
    var extractBatchSize: Int?

    @Option(help: "MiB for the backbone's activations, which sets the default --extract-batch-size (default: 512); when given, an input size one image of which needs more is refused (else, one that needs more than the physical memory).")
    var memoryBudget: Int?

    func validate() throws {
        try Check.optionalRange(extractBatchSize, 1...4096, "--extract-batch-size")
        try Check.optionalRange(memoryBudget, 16...1_048_576, "--memory-budget")
    }

    /// Images per forward pass of `model` at `height` x `width` (square when `width` is nil),
    /// keeping `layers` blocks (and a ConvNeXt's `stages` maps): `given` (else --extract-batch-size),
    /// or what the budget allows.
    func batchSize(_ model: DINOv3Model, height: Int, width: Int? = nil, layers: Int = 1, stages: [Int] = [], given: Int? = nil) -> Int {
        given ?? extractBatchSize
            ?? ForwardMemory.batchSize(model, height: height, width: width ?? height, layers: layers, stages: stages,
                                       budget: (memoryBudget ?? ForwardMemory.defaultBudget >> 20) << 20)
    }
}

/// Where cached features live: `--cache-dir`, or nowhere with `--no-cache`.
struct CacheFolderOptions: ParsableArguments {
    @Option(help: "Feature cache folder (default: $DINOPROBE_CACHE or ~/.cache/dinoprobe/features).", completion: .directory)
    var cacheDir: String?

    @Flag(help: "Extract features afresh and do not store them.")
    var noCache = false

    /// The cache folder, or nil with --no-cache.
    var folder: String? { noCache ? nil : cacheDir.map(FileSystem.absolute) ?? CacheFolders.features() }
}

/// Where features are cached, and how many images go through the backbone at once.
struct CacheOptions: ParsableArguments {
    @OptionGroup var location: CacheFolderOptions

    @OptionGroup var batching: ExtractionBatchOptions

    /// See `ExtractionBatchOptions.batchSize`.
    func batchSize(_ model: DINOv3Model, height: Int, width: Int? = nil, layers: Int = 1) -> Int {
        batching.batchSize(model, height: height, width: width, layers: layers)
    }

    /// The (cached) features of a train and a val split through `model` at `preprocessing`, blocks `layers`.
    func splits(train: ClassificationDataset, val: ClassificationDataset, model: DINOv3Model, backboneID: String, preprocessing: Preprocessing,
                layers: [Int], maxPixels: Int) throws -> (train: FeatureSplit, val: FeatureSplit) {
        try ProbeFeatures.extract(train: train, val: val, cache: cache, model: model, backboneID: backboneID, preprocessing: preprocessing,
                                  layers: layers, batchSize: batchSize(model, height: preprocessing.size, layers: layers.count),
                                  maxPixels: maxPixels, reporter: TerminalReporter.shared)
    }

    /// The cache folder, or nil with --no-cache.
    var folder: String? { location.folder }

    var cache: FeatureCache { FeatureCache(folder: folder) }
}

/// Which classification data set, and where it lives.
struct ClassificationDataOptions: ParsableArguments {
    @Option(help: "'imagenette' (found locally or downloaded), or an ImageFolder root holding train/<class>/* and val/<class>/*.", completion: .directory)
    var data: String?

    @Option(help: "Folder searched first for (and receiving) a downloaded data set; also $DINOPROBE_DATA.", completion: .directory)
    var dataDir: String?

    @Option(help: "Imagenette variant.")
    var variant: Imagenette.Variant = .px320

    @Option(help: "Imagenette noisy labels: train on the CSV's 1, 5, 25 or 50 percent noisy labels.")
    var noisy: Int?

    @Flag(help: "Never download: fail if the data set is not present.")
    var noDownload = false

    func validate() throws {
        if let noisy, ![1, 5, 25, 50].contains(noisy) { throw ValidationError("--noisy must be 1, 5, 25 or 50") }
        if noisy != nil, data?.lowercased() != "imagenette" { throw ValidationError("--noisy applies to --data imagenette only") }
    }

    /// Train and val splits, checked before any compute is spent.
    func load(reporter: Reporter) throws -> (train: ClassificationDataset, val: ClassificationDataset) {
        guard let data else { throw ValidationError("--data is required: 'imagenette' or an ImageFolder root") }
        if let local = try loadLocal() { return local }
        let progress = DownloadLine()
        defer { progress.end() }
        return try ClassificationSource(data: data, dataDir: dataDir, variant: variant, noisy: noisy, download: !noDownload)
            .load(reporter: reporter, progress: { progress.show($0) })
    }
}

/// Prints the skipped inputs of a split and writes them to the run folder.
func reportSkipped(_ skipped: [SkippedInput], split: String, folder: RunFolder?) throws {
    guard !skipped.isEmpty else { return }
    RunFolder.skippedLines(skipped, split: split).forEach { Console.err($0) }
    try folder?.writeSkipped(skipped.map { "\($0.path)\t\($0.reason)" }, split: split)
}

/// `reportSkipped` for a train and a val split.
func reportSkipped(_ splits: (train: FeatureSplit, val: FeatureSplit), folder: RunFolder?) throws {
    try reportSkipped(splits.train.skipped, split: "train", folder: folder)
    try reportSkipped(splits.val.skipped, split: "val", folder: folder)
}

/// The decompression-bomb guard every command that decodes images takes.
struct PixelLimitOption: ParsableArguments {
    @Option(help: "Refuse images with more pixels than this (decoding one image takes at most about 8 bytes per allowed pixel).")
    var maxPixels: Int = ImageDecoder.defaultMaxPixels

    func validate() throws { try Check.range(maxPixels, 1...ImageDecoder.maxPixelsLimit, "--max-pixels") }
}
