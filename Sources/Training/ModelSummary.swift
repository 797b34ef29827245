import Backbone
import Foundation
import Heads

/// What `dinoprobe info` tells about a checkpoint at an input size: architecture, parameters,
/// tokens and compute by part, and the libtorch and BLAS set-up, one aligned "name  value" line each.
public enum ModelSummary {
    /// The lines for `model` at `height`x`width` (sides multiples of the patch size or output stride).
    public static func lines(_ model: DINOv3Model, height h: Int, width w: Int) -> [String] {
        let c = model.config
        var lines = [
            row("model", model.variantName),
            row("checkpoint", model.folder.path + (model.usesStoredRoPEPeriods ? " (Meta's layout; RoPE periods as stored)" : "")),
            row("weights", "\(model.storedDTypes.sorted().joined(separator: ", ")), fingerprint \(model.fingerprint)"),
            row("parameters", "\(model.parameterCount.formatted()) (\(String(format: "%.2f", Double(model.parameterCount) / 1e6))M)"),
        ]
        if let convNext = model.convNextConfig {
            lines += describe(convNext, height: h, width: w, macs: model.multiplyAdds(height: h, width: w))
        } else {
            lines += describe(c, height: h, width: w)
        }
        let blas = FastBLAS.report
        lines += [
            row("libtorch", "\(Torch.version), \(Torch.threads) threads, CUDA \(Torch.cudaAvailable ? "available (\(Torch.cudaDeviceCount) devices)" : "not available")"),
            row("device", model.device.rawValue),
            row("ATen parallel", Torch.parallelInfo.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.contains("backend") || $0.contains("at::get_num_threads") || $0.contains("OpenMP") }.joined(separator: "; ")),
            row("BLAS", "OpenBLAS core \(blas.core), \(blas.threads) threads (\(blas.library))"),
            row("BLAS build", blas.config),
            row("OPENBLAS_CORETYPE", FastBLAS.coreTypeOrigin),
            row("dinoprobe kernels", FastBLAS.ownKernels),
        ]
        return lines
    }

    private static func row(_ k: String, _ v: String) -> String { k.padding(toLength: 22, withPad: " ", startingAt: 0) + v }
    private static func giga(_ v: Int) -> String { String(format: "%.2f G", Double(v) / 1e9) }

    /// A ConvNeXt: its stages, output grid and compute.
    private static func describe(_ c: DINOv3ConvNextConfig, height h: Int, width w: Int, macs: Int) -> [String] {
        let s = DINOv3ConvNextConfig.stride
        return [
            row("stages", "widths \(c.hiddenSizes.map(String.init).joined(separator: "/")), blocks \(c.depths.map(String.init).joined(separator: "/"))"),
            row("block", "depthwise 7x7 conv, LayerNorm, MLP 4x (\(c.hiddenAct)), layer scale"),
            row("output", "pooled feature (as CLS) + last-stage map at stride \(s), width \(c.hiddenSizes[3])"),
            "",
            row("input", "\(h)x\(w) -> \(h / s)x\(w / s) map"),
            row("tokens", "\((h / s) * (w / s)) map positions + 1 pooled = \((h / s) * (w / s) + 1)"),
            row("multiply-adds/image", giga(macs)),
            row("FLOPs/image", "\(giga(2 * macs)) (2 per multiply-add)"),
            "",
        ]
    }

    /// A ViT: its blocks, tokens and compute by part.
    private static func describe(_ c: DINOv3Config, height h: Int, width w: Int) -> [String] {
        let cost = ComputeCost(config: c, height: h, width: w)
        let patches = (h / c.patchSize) * (w / c.patchSize)
        return [
            row("width (D)", "\(c.hiddenSize)"),
            row("depth", "\(c.numHiddenLayers) blocks"),
            row("heads", "\(c.numAttentionHeads) x \(c.headDim)"),
            row("MLP", "\(c.useGatedMLP ? "gated (\(c.hiddenAct))" : c.hiddenAct), \(c.intermediateSize)"),
            row("q/k/v/o bias", [c.queryBias, c.keyBias, c.valueBias, c.projBias].map { $0 ? "yes" : "no" }.joined(separator: "/")),
            row("registers", "\(c.numRegisterTokens)"),
            row("patch size", "\(c.patchSize)"),
            row("RoPE theta", "\(c.ropeTheta)"),
            "",
            row("input", "\(h)x\(w) -> \(h / c.patchSize)x\(w / c.patchSize) patches"),
            row("tokens", "\(patches) patches + 1 CLS + \(c.numRegisterTokens) registers = \(cost.tokens)"),
            row("multiply-adds/image", "\(giga(cost.multiplyAdds)) (patch embed \(giga(cost.patchEmbedding)), q/k/v/o \(giga(cost.projections)), attention \(giga(cost.attention)), MLP \(giga(cost.mlp)))"),
            row("FLOPs/image", "\(giga(cost.flops)) (2 per multiply-add)"),
            row("", "(the often-quoted estimate, \(giga(cost.projections + cost.mlp))FLOPs, counts a multiply-add as one FLOP and leaves out attention and the patch embedding)"),
            "",
        ]
    }
}
