import Foundation
import Support

/// Errors of the backbone: finding and loading checkpoints, reading images, running the model.
/// Each message says what went wrong and what to do about it.
public enum BackboneError: Error, CustomStringConvertible {
    case modelNotFound(spec: String, searched: [String])
    /// `--model` names a path (not a hub id) where nothing is; `similar`: names close to it.
    case noSuchModelPath(String, similar: [String])
    case badConfig(path: String, reason: String)
    case missingWeights(folder: String)
    case missingTensor(key: String, expectedShape: [Int])
    case unexpectedTensors(keys: [String])
    case shapeMismatch(key: String, expected: [Int], found: [Int], file: String)
    case unsupportedDType(key: String, dtype: String)
    case badShardIndex(path: String, reason: String)
    case ambiguousTensor(key: String, first: String, second: String)
    case nonFiniteWeights(key: String, file: String)
    case outsideModelFolder(String)
    case metaCheckpoint(path: String, reason: String)
    case badInput(String)
    case cudaUnavailable

    public var description: String {
        switch self {
        case let .modelNotFound(spec, searched):
            let repo = spec.contains("/") ? shown(spec) : "facebook/dinov3-vits16-pretrain-lvd1689m"
            return """
            no DINOv3 weights found for '\(shown(spec))'. dinoprobe looked in:
            \(searched.map { "  - \(shown($0))" }.joined(separator: "\n"))
            The weights are gated (DINOv3 License). To get them:
              1. request access at https://huggingface.co/\(repo)
              2. log in: `huggingface-cli login` (or `hf auth login`)
              3. download: `dinoprobe download \(repo)` (or add --download
                 to the command), which fills the Hugging Face cache; `hf download` and `git clone` work too
            then name that folder as the model (dinoprobe: --model PATH), set DINOPROBE_MODEL, or leave it in the Hugging Face cache.
            """
        case let .noSuchModelPath(spec, similar):
            return "--model \(shown(spec)): no such folder or file\(Suggestions.didYouMean(similar))"
        case let .badConfig(path, reason): return "bad model config \(path): \(reason)"
        case let .missingWeights(folder):
            return "\(folder) has a config.json but neither model.safetensors nor model.safetensors.index.json; download the weights into it (PyTorch .bin checkpoints are not read: convert them with `safetensors`)"
        case let .missingTensor(key, shape): return "checkpoint is missing tensor '\(key)' (expected shape \(shape))"
        case let .unexpectedTensors(keys):
            return "checkpoint has tensors this architecture does not use: \(keys.prefix(8).joined(separator: ", "))\(keys.count > 8 ? " and \(keys.count - 8) more" : ""); is config.json the one that belongs to these weights?"
        case let .shapeMismatch(key, expected, found, file):
            return "tensor '\(key)' in \(file) has shape \(found), but config.json implies \(expected)"
        case let .unsupportedDType(key, dtype): return "tensor '\(key)' has dtype \(dtype); DINOv3 weights must be F32, BF16 or F16"
        case let .badShardIndex(path, reason): return "bad shard index \(path): \(reason)"
        case let .ambiguousTensor(key, first, second):
            return "the checkpoint holds '\(key)' twice (\(first); \(second)); dinoprobe refuses to guess which one is meant: remove the duplicate"
        case let .nonFiniteWeights(key, file):
            return "tensor '\(key)' in \(file) holds NaN or infinite values: the checkpoint is corrupt (download it again)"
        case let .outsideModelFolder(message): return message
        case let .metaCheckpoint(path, reason): return "cannot read \(path) as a DINOv3 checkpoint in Meta's layout: \(reason)"
        case let .badInput(message): return message
        case .cudaUnavailable:
            return "CUDA was asked for, but this libtorch (\(Torch.version)) sees no CUDA device (it is a CPU-only build, or no GPU and driver are present); run on the CPU, or on a GPU machine build dinoprobe against a CUDA libtorch with LIBTORCH=/path/to/libtorch"
        }
    }
}

extension BackboneError: MultilineMessage {
    /// The list of places searched is one line each (its values are `shown`).
    public var keepsLineBreaks: Bool {
        if case .modelNotFound = self { return true }
        return false
    }
}
