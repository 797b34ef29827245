import Foundation

/// How much memory a forward pass needs per image, and so how many images fit a budget.
/// The figures estimate the transient tensors at the busiest point of a block (float32
/// throughout: the softmax is computed in float32 whatever the precision), calibrated on peak
/// RSS measured at several batch sizes. ViT-S/16 at 448: with the fused CPU attention kernel,
/// `extract` grew by 48 MB per image between batch 8 and 16 (estimate 46 MB); with attention in
/// ATen ops (other devices and precisions), 61-70 MB per image (estimate 71 MB).
public enum ForwardMemory {
    /// Images per forward pass when nothing else is said: as many as `defaultBudget` allows,
    /// at most this many.
    public static let defaultMaxBatch = 32
    /// The default activation budget, 512 MiB (ViT-S/16 on the CPU in float32: batch 32 at 224,
    /// 11 at 448, 8 at 512; with attention in ATen ops: 32, 7 and 5).
    public static let defaultBudget = 512 << 20

    /// Bytes of transient tensors one image needs in `model`'s forward pass at `height` x `width`,
    /// keeping `layers` blocks' outputs (and a ConvNeXt's `stages` maps).
    public static func bytesPerImage(_ model: DINOv3Model, height: Int, width: Int, layers: Int = 1, stages: [Int] = []) -> Int {
        if let convNext = model.convNextConfig {
            // Each kept map twice: the tensor and its float32 copy.
            let kept = stages.compactMap { try? convNext.stageShape($0, height: height, width: width) }.reduce(0) { $0 + $1.reduce(1, *) }
            return convNextBytes(convNext, height: height, width: width) + 8 * kept
        }
        return vitBytes(model.config, height: height, width: width, layers: layers, fusedAttention: model.usesFusedAttention)
    }

    /// ViT. With attention in ATen ops: the scores, their softmax and its workspace (3 x heads x
    /// T^2), about a dozen T x D buffers (residual, norm, q/k/v and their rotated copies,
    /// attention output, projection), the MLP's hidden activations (2 x T x F, 3 x T x F gated)
    /// and the kept outputs. The fused kernel keeps no scores per image (each thread reuses tiles
    /// of 96 x 512 scores; each image's packed keys and values are 2 x T x D), so only the linear
    /// terms remain, with the input pixels and the extraction pipeline's batches in flight as
    /// measured (24 x T x D, 3 x T x F). A single large image needs less than this: its blocks are
    /// mapped and unmapped rather than kept in the heap (ct_keep_freed_memory), and it has no batch
    /// in flight. Measured peak RSS of `extract` on one image, ViT-S/16 (with about 0.3 GB of
    /// libraries and weights): 1.07 GB at 2048 px (estimate 0.96 GB of activations), 1.81 GB at
    /// 4096 px (estimate 3.8 GB).
    static func vitBytes(_ config: DINOv3Config, height: Int, width: Int, layers: Int, fusedAttention: Bool) -> Int {
        let p = max(config.patchSize, 1)
        let tokens = 1 + config.numRegisterTokens + (height / p) * (width / p)
        let (heads, dim, mlp) = (config.numAttentionHeads, config.hiddenSize, config.intermediateSize)
        let kept = (layers + 1) * tokens * dim
        if fusedAttention { return 4 * (24 * tokens * dim + 3 * tokens * mlp + kept) }
        let floats = 3 * heads * tokens * tokens + 12 * tokens * dim + (config.useGatedMLP ? 3 : 2) * tokens * mlp + kept
        return 4 * floats
    }

    /// ConvNeXt: the first stage's block is the largest (depthwise output, norm, 4x-wide MLP and
    /// its activation, residual: about 12 x H/4 x W/4 x C0).
    static func convNextBytes(_ config: DINOv3ConvNextConfig, height: Int, width: Int) -> Int {
        var (h, w, largest) = (height / 4, width / 4, 0)
        for (i, c) in config.hiddenSizes.enumerated() {
            if i > 0 { (h, w) = (h / 2, w / 2) }
            largest = max(largest, 12 * h * w * c)
        }
        return 4 * largest
    }

    /// Throws, before any work, when one image at `height` x `width` needs more than `limit` bytes
    /// of activations (the default: the machine's physical memory), naming the figure it needs.
    public static func checkOneImageFits(_ model: DINOv3Model, height: Int, width: Int, layers: Int = 1, stages: [Int] = [],
                                         limit: Int? = nil, limitName: String = "the physical memory") throws {
        let need = bytesPerImage(model, height: height, width: width, layers: layers, stages: stages)
        let limit = limit ?? Int(clamping: ProcessInfo.processInfo.physicalMemory)
        guard need > limit else { return }
        throw BackboneError.badInput("one \(width)x\(height) image needs about \(need >> 20) MiB for the backbone's activations, more than \(limitName) (\(limit >> 20) MiB)")
    }

    /// Images per forward pass so that their transient memory stays within `budget` bytes: at
    /// least 1, at most `maxBatch`.
    public static func batchSize(_ model: DINOv3Model, height: Int, width: Int, layers: Int = 1, stages: [Int] = [],
                                 budget: Int = defaultBudget, maxBatch: Int = defaultMaxBatch) -> Int {
        let perImage = max(bytesPerImage(model, height: height, width: width, layers: layers, stages: stages), 1)
        return min(max(budget / perImage, 1), max(maxBatch, 1))
    }
}
