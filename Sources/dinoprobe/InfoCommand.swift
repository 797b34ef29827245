import ArgumentParser
import CommandLineKit
import Training

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe a checkpoint: architecture, parameters, tokens and compute at an input size, BLAS and libtorch facts.",
        discussion: examples("info --model models/vits16 --input 512x768", "info --model facebook/dinov3-vitb16-pretrain-lvd1689m"))

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Input height and width for the token and compute arithmetic (HxW or S).")
    var input: String = "224"

    func validate() throws { _ = try Self.sides(input) }

    /// `S` or `HxW`: one or two whole numbers in 1...65536 and nothing else (`abcx32` is refused,
    /// not read as 32).
    static func sides(_ text: String) throws -> (height: Int, width: Int) {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        let sides = parts.compactMap { Int($0) }
        guard (1...2).contains(parts.count), sides.count == parts.count, sides.allSatisfy({ (1...65_536).contains($0) }) else {
            throw ValidationError("--input is '\(text)'; it takes S or HxW, whole numbers in 1...65536, e.g. 224 or 448x640")
        }
        return (sides[0], sides[sides.count - 1])
    }

    func run() throws {
        let (h, w) = try Self.sides(input)
        let model = try modelOptions.load(quiet: true)
        let c = model.config
        guard h % c.patchSize == 0, w % c.patchSize == 0 else {
            throw ValidationError("--input \(h)x\(w): both sides must be multiples of the \(model.convNextConfig == nil ? "patch size" : "output stride") \(c.patchSize)")
        }
        say(ModelSummary.lines(model, height: h, width: w).joined(separator: "\n"))
    }
}
