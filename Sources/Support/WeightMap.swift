import Foundation

/// The `weight_map` of `model.safetensors.index.json` (tensor name -> shard file), read
/// strictly: duplicate tensor names are refused, and every shard name must be a relative path
/// to a `.safetensors` file with no `.`/`..` component, so an index cannot point outside its
/// folder. Shared by the checkpoint loader and the hub downloader.
public enum WeightMap {
    /// Why an index was refused.
    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public let reason: String
        public var description: String { reason }
    }

    /// Largest index file read (a 7B model's is about 50 KB).
    public static let maxFileBytes: Int64 = 16 << 20

    /// Tensor name -> shard file name.
    public static func parse(_ data: Data) throws(Invalid) -> [String: String] {
        let json: JSONValue
        do { json = try StrictJSON.parse(data) } catch { throw Invalid(reason: "not valid JSON: \(error)") }
        guard case let .object(members)? = json["weight_map"] else { throw Invalid(reason: "no 'weight_map' object") }
        var map: [String: String] = [:]
        for (tensor, value) in members {
            guard let shard = value.string else { throw Invalid(reason: "the shard of '\(tensor.prefix(80))' is not a file name") }
            guard isShardName(shard) else {
                throw Invalid(reason: "the shard name '\(PathCodec.display(String(shard.prefix(120))))' is not a relative path to a .safetensors file inside the model folder")
            }
            map[tensor] = shard
        }
        guard !map.isEmpty else { throw Invalid(reason: "'weight_map' is empty") }
        return map
    }

    /// Whether `shard` is a relative path to a `.safetensors` file that stays in its folder.
    public static func isShardName(_ shard: String) -> Bool {
        shard.hasSuffix(".safetensors") && isConfinedRelativePath(shard)
    }

    /// Whether `path` is a relative path that stays inside its folder (`ConfinedPath.problem(with:)`:
    /// no leading `/`, no empty, `.` or `..` component, no NUL or control character, at most 4096 bytes).
    public static func isConfinedRelativePath(_ path: String) -> Bool {
        ConfinedPath.problem(with: path) == nil
    }
}
