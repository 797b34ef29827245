import ArgumentParser
import CommandLineKit
import Backbone
import Datasets
import Training

struct Extract: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Extract CLS, mean-patch (and optionally patch and register) features of images into a safetensors file.",
        discussion: examples("extract photos/ --out features.safetensors", "extract data/train --out train.safetensors --blocks 4 --patch-tokens", then: """
        Tensors written: cls [N, D] (pooler_output), mean_patch [N, D]; with --blocks L > 1 also \
        layers_cls and layers_mean_patch [N, L, D] (oldest block first, after the final norm); with \
        --patch-tokens, patch_tokens [N, h, w, D] and registers [N, R, D]; of a ConvNeXt with \
        --stages, stage_<i> [N, C_i, H_i, W_i] (each stage's raw map, before the final norm, as \
        transformers' hidden_states[i + 1]). Metadata: the image paths (in row order), skipped \
        files, model, weights fingerprint and preprocessing settings.

        Sharded (--shard I/N, or from the environment: a Slurm array, an srun step, a Kubernetes \
        Indexed Job with --shards N, or RANK/WORLD_SIZE): --out is a folder holding manifest.json \
        and one features file per shard; each process extracts its contiguous part of the listing, \
        checkpoints it as it goes (a rerun continues), and never redoes a finished shard. Read the \
        folder directly (train-linear --features-file) or join it with `dinoprobe merge`.
        """))

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var imageOptions: ImageOptions

    @Argument(help: "Image files, or folders searched recursively for images.", completion: .file())
    var inputs: [String] = []

    @Option(help: "Output safetensors file (written whole or not at all); with sharding, the shards' folder.", completion: .file())
    var out: String

    @Flag(help: "Replace an existing output file.")
    var overwrite = false

    @Flag(help: "Also write patch tokens [N, h, w, D] and register tokens [N, R, D].")
    var patchTokens = false

    @Option(help: "A ConvNeXt's stages (0-3, ascending, comma-separated, e.g. 0,1,2,3) whose raw maps to keep as stage_<i> [N, C_i, H_i, W_i].")
    var stages: String?

    @Option(help: "Also keep the normed outputs of the last N blocks (layers_cls, layers_mean_patch).")
    var blocks: Int?

    @OptionGroup var batching: ExtractionBatchOptions

    @Option(help: "Store features as f32 or f16.")
    var dtype: FeatureDType = .f32

    @OptionGroup var sharding: ShardOptions

    func validate() throws {
        try Check.range(blocks ?? 1, 1...1024, "--blocks")
        _ = try stageList()
        guard !inputs.isEmpty else { throw ValidationError("name at least one image file or folder") }
    }

    func run() throws {
        let blocks = self.blocks ?? 1
        let shard = try sharding.resolve()
        // The output first: a bad destination must not cost an extraction; a file is claimed until written.
        if let shard { try ExtractionOutput.checkShardFolder(out, shard: shard, overwrite: overwrite) }
        let claim = shard == nil ? try ExtractionOutput.claimFile(out, overwrite: overwrite) : nil
        defer { claim?.release(removingFile: true) }
        let listing = try ImageFiles.expand(inputs)
        guard !listing.images.isEmpty else { throw ValidationError("no image files found in \(inputs.joined(separator: ", "))") }
        let preprocessing = try imageOptions.preprocessing()
        let stages = try stageList()
        for (flag, asked) in [("--patch-tokens", patchTokens), ("--stages", !stages.isEmpty)] where asked && preprocessing.preset == .native {
            throw ValidationError("\(flag) needs one input size for all images: use --preset hf or eval (native keeps each image's aspect ratio, so grids differ)")
        }
        let model = try modelOptions.load()
        if !stages.isEmpty && model.convNextConfig == nil {
            throw ValidationError("--stages applies to ConvNeXt models; \(model.variantName) is a ViT (for its blocks, see --blocks)")
        }
        // Refused before any work when one image needs more than --memory-budget (or, without it, the physical memory).
        try ForwardMemory.checkOneImageFits(model, height: preprocessing.size, width: preprocessing.size, layers: blocks, stages: stages,
                                            limit: batching.memoryBudget.map { $0 << 20 }, limitName: batching.memoryBudget == nil ? "the physical memory" : "--memory-budget")
        let batchSize = batching.batchSize(model, height: preprocessing.size, layers: blocks, stages: stages, given: batching.extractBatchSize)
        let settings = ExtractionSettings(preprocessing: preprocessing, blocks: blocks, patchTokens: patchTokens, stages: stages, dtype: dtype,
                                          batchSize: batchSize, maxPixels: imageOptions.maxPixels)
        if let shard {
            return try sharding.extract(shard, into: out, model: model, backboneID: modelOptions.displayID, listing: listing, settings: settings)
        }
        let (rows, skipped) = try Extraction.featuresFile(model: model, backboneID: modelOptions.displayID, paths: listing.images, settings: settings,
                                                           destination: out, skippedBefore: listing.problems, reporter: TerminalReporter.shared)
        for s in skipped { Console.err("skipped \(s)") }
        say(ExtractionOutput.wroteLine(out, rows: rows, width: model.config.hiddenSize, settings: settings, skipped: skipped.count))
    }

    /// --stages as a list (empty when not given).
    func stageList() throws -> [Int] {
        try stages.map { try Check.ascendingIntegers($0, 0...(DINOv3ConvNextConfig.stageCount - 1), "--stages") } ?? []
    }
}
