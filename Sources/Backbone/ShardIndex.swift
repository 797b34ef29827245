import Foundation
import Support

/// `model.safetensors.index.json`: which shard file holds each tensor, read strictly by
/// `WeightMap` (shard names are relative paths that cannot leave the folder).
public enum ShardIndex {
    /// Largest index file read.
    static let maxFileBytes = WeightMap.maxFileBytes

    /// Tensor name -> shard file name.
    public static func read(path: String) throws -> [String: String] {
        let data: Data
        do { data = try FileSystem.read(path, limit: maxFileBytes) } catch {
            throw BackboneError.badShardIndex(path: path, reason: "cannot read it (\(error))")
        }
        return try parse(data, path: path)
    }

    public static func parse(_ data: Data, path: String) throws -> [String: String] {
        do { return try WeightMap.parse(data) } catch {
            throw BackboneError.badShardIndex(path: path, reason: error.reason)
        }
    }
}
