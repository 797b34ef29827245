import Foundation
import PackagePlugin

/// Generates `BuildInfo.swift` for the target it is applied to: the git commit the package was
/// built from (with `-dirty` when the working tree had changes), for the records runs leave
/// (`run.json`). The file is rewritten only when the commit changes, so builds stay incremental.
@main
struct BuildInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let folder = context.pluginWorkDirectoryURL.appendingPathComponent("generated")
        let output = folder.appendingPathComponent("BuildInfo.swift")
        let script = """
            set -u
            mkdir -p "$(dirname "$2")"
            commit=$(git -C "$1" rev-parse HEAD 2>/dev/null || echo unknown)
            if [ "$commit" != unknown ] && [ -n "$(git -C "$1" status --porcelain --untracked-files=no 2>/dev/null | head -n 1)" ]; then
              commit="$commit-dirty"
            fi
            text="/// Generated at build time by Plugins/BuildInfo.
            enum BuildInfo { static let commit = \\"$commit\\" }"
            [ -f "$2" ] && [ "$(cat "$2")" = "$text" ] || printf '%s\\n' "$text" > "$2"
            """
        return [.prebuildCommand(displayName: "BuildInfo: git commit", executable: URL(fileURLWithPath: "/bin/sh"),
                                 arguments: ["-c", script, "sh", context.package.directoryURL.path, output.path],
                                 outputFilesDirectory: folder)]
    }
}
