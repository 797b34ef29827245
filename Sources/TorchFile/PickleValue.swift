import SafeTensors

/// What the restricted unpickler builds: plain values, the few allowed callables, storages and
/// tensor records. Nothing else can exist, so nothing else can be called.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case tuple(PickleTuple)
    case list(PickleList)
    case dict(PickleDict)
    case global(PickleGlobal)
    case storage(StorageReference)
    case tensor(TensorRecord)

    /// Nesting depth: 0 for scalars.
    var depth: Int {
        switch self {
        case let .tuple(t): return t.depth
        case let .list(l): return l.depth
        case let .dict(d): return d.depth
        default: return 0
        }
    }

    /// A short description for messages (never the content of strings).
    var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "a bool"
        case .int: return "an int"
        case .float: return "a float"
        case .string: return "a string"
        case .tuple: return "a tuple"
        case .list: return "a list"
        case .dict: return "a dict"
        case let .global(g): return g.name
        case .storage: return "a storage"
        case .tensor: return "a tensor"
        }
    }
}

/// An immutable tuple and its nesting depth.
struct PickleTuple {
    let items: [PickleValue]
    let depth: Int
}

/// A list that can be appended to until it is placed inside another container.
final class PickleList {
    var items: [PickleValue] = []
    var depth = 1
    var frozen = false
}

/// A dict with string keys in insertion order (a plain dict or an OrderedDict), appendable until
/// it is placed inside another container.
final class PickleDict {
    private(set) var keys: [String] = []
    private(set) var values: [String: PickleValue] = [:]
    var depth = 1
    var frozen = false

    /// Adds `key`; false if it is already there (a duplicate, which is refused).
    func insert(_ key: String, _ value: PickleValue) -> Bool {
        guard values[key] == nil else { return false }
        keys.append(key)
        values[key] = value
        return true
    }
}

/// The only Python globals a checkpoint may name.
enum PickleGlobal: Equatable {
    case orderedDict, rebuildTensor, rebuildParameter
    case storageType(SafeTensorsDType)

    /// The allowed (module, name) pairs.
    init?(module: String, name: String) {
        switch (module, name) {
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensor
        case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
        case ("torch", "FloatStorage"): self = .storageType(.f32)
        case ("torch", "HalfStorage"): self = .storageType(.f16)
        case ("torch", "BFloat16Storage"): self = .storageType(.bf16)
        default: return nil
        }
    }

    var name: String {
        switch self {
        case .orderedDict: return "collections.OrderedDict"
        case .rebuildTensor: return "torch._utils._rebuild_tensor_v2"
        case .rebuildParameter: return "torch._utils._rebuild_parameter"
        case let .storageType(dtype): return "the \(dtype.rawValue) storage type"
        }
    }

    /// The allowed names, for messages.
    static let allowed = "collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter, torch.FloatStorage, torch.HalfStorage, torch.BFloat16Storage"
}

/// A storage named by a persistent id: the zip entry `data/<key>` of `count` elements.
struct StorageReference: Equatable {
    let key: String
    let dtype: SafeTensorsDType
    let count: Int
}

/// A tensor as `_rebuild_tensor_v2` describes it: a strided view of a storage (not yet checked
/// against the storage's size; `TorchCheckpointFile` does that).
struct TensorRecord {
    let storage: StorageReference
    let offset: Int
    let shape: [Int]
    let stride: [Int]
}
