import CommandLineKit
import Support
import Training

/// Prints what a shard did: each list's skipped inputs (standard error) and share, then `closing`.
func sayShard(_ choice: ShardEnvironment.Choice, _ shares: [ShardShare], closing: String) {
    for share in shares {
        for s in share.skipped { Console.err("skipped \(s)") }
        say(share.line(choice))
    }
    say(closing)
}
