import Backbone
import Foundation

/// Which tokens make a classification feature vector (reference doc section 4). Registers are
/// never used.
public enum FeatureTokens: String, Sendable, Codable, CaseIterable {
    /// CLS of each of the last n blocks, concatenated.
    case cls
    /// CLS of each of the last n blocks, then the mean patch token of the last block (DINOv3's default).
    case clsAvgpool = "cls+avgpool"
}

/// A complete description of the features a head consumes: tokens, blocks, preprocessing.
/// Heads record it, and refuse features made another way.
public struct FeatureRecipe: Sendable, Codable, Equatable {
    public var tokens: FeatureTokens
    /// Last n blocks (1 or 4 in Meta's protocol).
    public var blocks: Int
    public var preprocessing: Preprocessing

    public init(tokens: FeatureTokens = .clsAvgpool, blocks: Int = 1, preprocessing: Preprocessing = Preprocessing()) {
        self.tokens = tokens
        self.blocks = blocks
        self.preprocessing = preprocessing
    }

    /// Feature width for a backbone of width `dim`.
    public func width(dim: Int) -> Int { blocks * dim + (tokens == .clsAvgpool ? dim : 0) }

    /// A stable one-line description, e.g. "cls+avgpool|blocks=1|preset=hf|size=224|mean=…|std=…".
    public var summary: String {
        let p = preprocessing
        func list(_ v: [Float]) -> String { v.map { String(format: "%g", $0) }.joined(separator: ",") }
        return "\(tokens.rawValue)|blocks=\(blocks)|preset=\(p.preset.rawValue)|size=\(p.size)|mean=\(list(p.mean))|std=\(list(p.std))"
    }
}
