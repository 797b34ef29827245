import Foundation

/// Where dinoprobe keeps what it can rebuild (feature caches, downloaded data sets) and where
/// the Hugging Face hub keeps models: one resolver for all of them, reading the environment
/// the way each owner documents it.
public enum CacheFolders {
    public typealias Environment = [String: String]

    /// `$XDG_CACHE_HOME`, else `~/.cache`.
    public static func userCache(_ env: Environment = ProcessInfo.processInfo.environment) -> String {
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty { return FileSystem.absolute(xdg) }
        let home = env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return FileSystem.absolute(home + "/.cache")
    }

    /// Feature caches: `$DINOPROBE_CACHE`, else `<user cache>/dinoprobe/features`.
    public static func features(_ env: Environment = ProcessInfo.processInfo.environment) -> String {
        if let v = env["DINOPROBE_CACHE"], !v.isEmpty { return FileSystem.absolute(v) }
        return userCache(env) + "/dinoprobe/features"
    }

    /// Downloaded data sets: `<user cache>/dinoprobe/datasets`.
    public static func datasets(_ env: Environment = ProcessInfo.processInfo.environment) -> String {
        userCache(env) + "/dinoprobe/datasets"
    }

    /// Hugging Face hub caches, in the order `huggingface_hub` reads them: `$HF_HUB_CACHE`,
    /// `$HUGGINGFACE_HUB_CACHE`, `$HF_HOME/hub`, `<user cache>/huggingface/hub` (duplicates dropped).
    public static func hub(_ env: Environment = ProcessInfo.processInfo.environment) -> [String] {
        var result: [String] = []
        if let v = env["HF_HUB_CACHE"], !v.isEmpty { result.append(FileSystem.absolute(v)) }
        if let v = env["HUGGINGFACE_HUB_CACHE"], !v.isEmpty { result.append(FileSystem.absolute(v)) }
        if let v = env["HF_HOME"], !v.isEmpty { result.append(FileSystem.absolute(v) + "/hub") }
        result.append(userCache(env) + "/huggingface/hub")
        var seen = Set<String>()
        return result.filter { seen.insert($0).inserted }
    }
}

/// What identifies a file's content cheaply for cache keys: its path, size and modification
/// time (to the nanosecond). Any change to the file, or another file at the path, changes it.
public enum FileStamp {
    /// Adds `path`'s stamp to `hasher` ("missing" when nothing is there).
    public static func combine(_ path: String, into hasher: inout FNV1a) {
        hasher.combine(path)
        if let status = (try? FileSystem.status(path)) ?? nil {
            hasher.combine("\(status.size) \(status.modificationTime)")
        } else {
            hasher.combine("missing")
        }
    }
}
