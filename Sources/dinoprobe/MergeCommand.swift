import ArgumentParser
import CommandLineKit
import Heads
import Support

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join the shards of a sharded `extract` into one features file.",
        discussion: examples("merge shards/ --out features.safetensors", then: """
        FOLDER is the --out of `extract --shard I/N` with every shard finished. The file written is \
        byte for byte the one a single `extract` of the whole listing writes. Every consumer also \
        reads the folder directly, so merging is only needed to hand over one file.
        """))

    @Argument(help: "The shards' folder.", completion: .directory)
    var folder: String

    @Option(help: "Output safetensors file (written whole or not at all).", completion: .file())
    var out: String

    @Flag(help: "Replace an existing output file.")
    var overwrite = false

    func run() throws {
        try AtomicFile.checkWritable(out)
        if FileSystem.exists(out) && !overwrite {
            throw ValidationError("\(out) already exists; choose another --out, or pass --overwrite to replace it")
        }
        guard FileSystem.isDirectory(folder) else { throw ValidationError("\(folder) is not a folder of shards (the --out of `extract --shard`)") }
        let (rows, skipped) = try ShardedFeatures.merge(folder: folder, to: out)
        say("wrote \(out): \(rows) images\(skipped == 0 ? "" : ", \(skipped) skipped")")
    }
}
