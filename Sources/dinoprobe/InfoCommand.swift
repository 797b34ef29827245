import ArgumentParser
import Backbone
import Foundation

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe a checkpoint: architecture, parameters, tokens and compute at an input size, BLAS and libtorch facts.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Input height and width for the token and compute arithmetic (HxW or S).")
    var input: String = "224"

    func run() throws {
        let sides = input.lowercased().split(separator: "x").compactMap { Int($0) }
        guard sides.count == 1 || sides.count == 2, sides.allSatisfy({ (1...65_536).contains($0) }) else {
            throw ValidationError("--input takes S or HxW, e.g. 224 or 448x640")
        }
        let (h, w) = (sides[0], sides.count == 2 ? sides[1] : sides[0])
        let model = try modelOptions.load(quiet: true)
        let c = model.config
        guard h % c.patchSize == 0, w % c.patchSize == 0 else {
            throw ValidationError("--input \(h)x\(w): both sides must be multiples of the patch size \(c.patchSize)")
        }
        let cost = ComputeCost(config: c, height: h, width: w)
        let patches = (h / c.patchSize) * (w / c.patchSize)
        func row(_ k: String, _ v: String) -> String { k.padding(toLength: 22, withPad: " ", startingAt: 0) + v }
        func giga(_ v: Int) -> String { String(format: "%.2f G", Double(v) / 1e9) }
        var lines = [
            row("model", model.variantName),
            row("checkpoint", model.folder.path + (model.usesStoredRoPEPeriods ? " (Meta's layout; RoPE periods as stored)" : "")),
            row("weights", "\(model.storedDTypes.sorted().joined(separator: ", ")), fingerprint \(model.fingerprint)"),
            row("parameters", "\(model.parameterCount.formatted()) (\(String(format: "%.2f", Double(model.parameterCount) / 1e6))M)"),
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
        let blas = FastBLAS.report
        lines += [
            row("libtorch", "\(Torch.version), \(Torch.threads) threads, CUDA \(Torch.cudaAvailable ? "available (\(Torch.cudaDeviceCount) devices)" : "not available")"),
            row("device", model.device.rawValue),
            row("ATen parallel", Torch.parallelInfo.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.contains("backend") || $0.contains("at::get_num_threads") || $0.contains("OpenMP") }.joined(separator: "; ")),
            row("BLAS", "OpenBLAS core \(blas.core), \(blas.threads) threads (\(blas.library))"),
            row("BLAS build", blas.config),
            row("OPENBLAS_CORETYPE", FastBLAS.coreTypeOrigin),
        ]
        say(lines.joined(separator: "\n"))
    }
}
