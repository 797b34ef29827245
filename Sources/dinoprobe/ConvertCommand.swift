import ArgumentParser
import CommandLineKit
import Backbone
import Foundation

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert Meta's original DINOv3 checkpoint (.pth) to the Hugging Face layout (config.json + model.safetensors).",
        discussion: examples("convert dinov3_vits16_pretrain_lvd1689m-08c60483.pth --out models/vits16", then: """
        The .pth is read without Python (only tensors and plain containers are unpickled). Tensors \
        keep their stored dtype and are renamed as transformers' own conversion does (fused qkv split \
        into q/k/v, the masked key bias dropped, ls1/ls2.gamma as layer_scale1/2.lambda1, \
        storage_tokens as register_tokens, SwiGLU w1/w2/w3 as gate/up/down_proj). Meta's stored RoPE \
        periods are not written: transformers recomputes them from rope_theta, which differs from \
        Meta's bf16-rounded values by up to 0.2%. `--model FILE.pth` uses the stored periods instead.
        """))

    @Argument(help: ArgumentHelp("Meta's checkpoint, e.g. dinov3_vits16_pretrain_lvd1689m-08c60483.pth.", valueName: "pth"), completion: .file(extensions: ["pth", "pt"]))
    var input: String

    @Option(help: "Output folder (created if needed).", completion: .directory)
    var out: String

    @Option(help: "Architecture, when neither the tensors nor the file name tell.")
    var arch: MetaArchitecture?

    @Flag(help: "Replace a checkpoint already in the output folder.")
    var overwrite = false

    func run() throws {
        let summary = try MetaConversion.convert(URL(fileURLWithPath: input), to: URL(fileURLWithPath: out), arch: arch, overwrite: overwrite)
        let periods = summary.periods.map { "\($0.count) stored RoPE periods left out (recomputed from rope_theta)" } ?? "no stored RoPE periods"
        say("wrote \(out): \(ModelVariant.name(for: summary.config)), \(summary.tensors) tensors, \(summary.parameters.formatted()) parameters (\(summary.dtypes.sorted().joined(separator: ", "))); \(periods)")
    }
}
