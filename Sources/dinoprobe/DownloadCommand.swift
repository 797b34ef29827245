import ArgumentParser
import CommandLineKit
import Hub

struct Download: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download a model from the Hugging Face hub into its cache (shared with transformers).",
        discussion: examples("download facebook/dinov3-vits16-pretrain-lvd1689m", then: """
        Fetches config.json, preprocessor_config.json and the safetensors weights (one file, or the \
        index and its shards) into $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub, \
        and prints the snapshot folder. Files already there are not fetched again; a download cut \
        short resumes on the next run. The token comes from $HF_TOKEN, else `huggingface-cli login`'s \
        token file; $HF_ENDPOINT sets the hub; HF_HUB_OFFLINE=1 forbids network access.
        """))

    @Argument(help: ArgumentHelp("Hub id, e.g. \(HubDownloader.exampleID).", valueName: "model-id"))
    var modelID: String

    @Option(help: "Branch, tag or commit hash.")
    var revision = "main"

    func run() throws {
        say(try HubDownloader.download(modelID, revision: revision, reporter: TerminalReporter.shared).folder.path)
    }
}
