import Foundation
import Support

/// `model.safetensors.index.json`: which shard file holds each tensor. Read strictly: duplicate
/// tensor names are refused, and every shard name must be a relative path to a `.safetensors`
/// file with no `..` component, so an index cannot point outside its folder.
public enum ShardIndex {
    /// Largest index file read (a 7B model's is about 50 KB).
    static let maxFileBytes: Int64 = 16 << 20

    /// Tensor name -> shard file name.
    public static func read(path: String) throws -> [String: String] {
        let data: Data
        do { data = try FileSystem.read(path, limit: maxFileBytes) } catch {
            throw BackboneError.badShardIndex(path: path, reason: "cannot read it (\(error))")
        }
        return try parse(data, path: path)
    }

    public static func parse(_ data: Data, path: String) throws -> [String: String] {
        func fail(_ reason: String) -> BackboneError { .badShardIndex(path: path, reason: reason) }
        let json: JSONValue
        do { json = try StrictJSON.parse(data) } catch { throw fail("not valid JSON: \(error)") }
        guard case let .object(members)? = json["weight_map"] else { throw fail("no 'weight_map' object") }
        var map: [String: String] = [:]
        for (tensor, value) in members {
            guard let shard = value.string else { throw fail("the shard of '\(tensor.prefix(80))' is not a file name") }
            try checkShardName(shard, path: path)
            map[tensor] = shard
        }
        guard !map.isEmpty else { throw fail("'weight_map' is empty") }
        return map
    }

    static func checkShardName(_ shard: String, path: String) throws {
        let parts = shard.split(separator: "/", omittingEmptySubsequences: false)
        guard !shard.hasPrefix("/"), shard.hasSuffix(".safetensors"), shard.count <= 4096,
              parts.allSatisfy({ !$0.isEmpty && $0 != ".." && $0 != "." }), !shard.contains("\u{0}") else {
            throw BackboneError.badShardIndex(path: path, reason: "the shard name '\(PathCodec.display(String(shard.prefix(120))))' is not a relative path to a .safetensors file inside the model folder")
        }
    }
}
