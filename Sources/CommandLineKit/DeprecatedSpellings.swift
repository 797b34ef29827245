/// The old spellings of the last release, rewritten to today's before a command line is parsed:
/// one table for every command, each use answered with a note naming the new spelling.
public enum DeprecatedSpellings {
    /// One old spelling: the commands that had it, and what it became.
    struct Entry {
        var commands: Set<String>
        var old: String
        var change: Change
    }

    enum Change {
        /// Another flag name, the value kept (`--resolution 448` -> `--size 448`).
        case renamed(String)
        /// The flag dropped, its values kept as arguments (`extract --images a b` -> `extract a b`).
        case arguments
        /// A single whole number became another flag (`--layers 4` -> `--blocks 4`); a list keeps the flag.
        case singleNumber(String)
        /// A flag became a subcommand (`bench --grid` -> `bench grid`).
        case subcommand(String)
    }

    static let probes: Set<String> = ["extract", "train-linear", "train-logreg", "fewshot", "knn", "eval-linear"]
    static let table: [Entry] = [
        Entry(commands: ["train-linear", "train-logreg", "fewshot", "knn", "eval-linear"], old: "--features", change: .renamed("--tokens")),
        Entry(commands: ["segment", "train-seg", "eval-seg"], old: "--resolution", change: .renamed("--size")),
        Entry(commands: ["extract"], old: "--batch-size", change: .renamed("--extract-batch-size")),
        Entry(commands: ["extract"], old: "--images", change: .arguments),
        Entry(commands: probes, old: "--layers", change: .singleNumber("--blocks")),
        Entry(commands: ["bench", "backbone"], old: "--images", change: .renamed("--image-count")),
        Entry(commands: ["bench", "backbone"], old: "--grid", change: .subcommand("grid")),
        Entry(commands: ["bench", "backbone"], old: "--seg-step", change: .subcommand("seg-step")),
    ]

    /// `arguments` (without the program name; the command first) in today's spellings, and a note
    /// per old spelling met.
    public static func rewrite(_ arguments: [String]) -> (arguments: [String], notes: [String]) {
        guard let at = arguments.firstIndex(where: { !$0.hasPrefix("-") }) else { return (arguments, []) }
        let command = arguments[at]
        var out: [String] = [], notes: [String] = [], subcommand: String?
        var i = 0
        while i < arguments.count {
            let word = arguments[i]
            let (flag, inline) = split(word)
            guard let entry = table.first(where: { $0.old == flag && $0.commands.contains(command) }) else {
                out.append(word)
                i += 1
                continue
            }
            switch entry.change {
            case let .renamed(new):
                out.append(inline.map { new + "=" + $0 } ?? new)
                notes.append("\(entry.old) is deprecated; use \(new)")
            case .arguments:
                if let inline { out.append(inline) }
                notes.append("\(entry.old) is deprecated; give the images as arguments")
            case let .singleNumber(new):
                let values = inline.map { [$0] } ?? Array(arguments[(i + 1)...].prefix { !$0.hasPrefix("-") })
                let single = values.count == 1 && Int(values[0]) != nil && arguments.filter({ split($0).flag == flag }).count == 1
                out.append(single ? (inline.map { new + "=" + $0 } ?? new) : word)
                if single { notes.append("\(entry.old) N is deprecated; use \(new) N (\(entry.old) takes two or more block indices)") }
            case let .subcommand(name):
                subcommand = name
                notes.append("bench \(entry.old) is deprecated; use bench \(name)")
            }
            i += 1
        }
        if let subcommand { out.insert(subcommand, at: at + 1) }
        return (out, notes)
    }

    /// `--flag=value` as its two parts; a word without `=` as itself.
    private static func split(_ word: String) -> (flag: String, inline: String?) {
        guard word.hasPrefix("--"), let eq = word.firstIndex(of: "=") else { return (word, nil) }
        return (String(word[..<eq]), String(word[word.index(after: eq)...]))
    }
}
