/// One ConvNeXt stage's raw output over a batch, as float32 on the CPU: `transformers`'
/// `DINOv3ConvNextModel(..., output_hidden_states=True).hidden_states[stage + 1]` (entry 0 there
/// is the input itself), the output of the stage's last block, before the final LayerNorm.
public struct StageMap: Sendable {
    /// The stage, 0-based: 0 at stride 4, 1 at 8, 2 at 16, 3 at 32.
    public let stage: Int
    public let batch: Int, channels: Int, height: Int, width: Int
    /// [batch, channels, height, width], row-major (NCHW).
    public let values: [Float]

    /// [batch, channels, height, width].
    public var shape: [Int] { [batch, channels, height, width] }

    /// Image `b`'s map: [channels, height, width].
    public func image(_ b: Int) -> ArraySlice<Float> {
        let size = channels * height * width
        return values[(b * size)..<((b + 1) * size)]
    }
}

extension DINOv3Model {
    /// Throws unless `stages` is empty or an ascending list of distinct stage indices of this
    /// model, which must then be a ConvNeXt (a ViT has no stages).
    public func checkStages(_ stages: [Int]) throws {
        guard !stages.isEmpty else { return }
        guard let convNext = convNextConfig else {
            throw BackboneError.badInput("stage maps \(stages) were asked for, but \(variantName) is a ViT: only ConvNeXts have stages")
        }
        let count = convNext.hiddenSizes.count
        guard stages.allSatisfy({ (0..<count).contains($0) }), zip(stages, stages.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw BackboneError.badInput("stages \(stages) were asked for: give ascending, distinct stage indices from 0 to \(count - 1)")
        }
    }
}
