import Support
import TorchFile

/// One query of a revisitop ground truth: its image, its box and the database images that are
/// easy or hard positives or junk for it (0-based indices into `imlist`).
public struct RetrievalQuery: Sendable, Equatable {
    public var name: String
    /// x0, y0, x1, y1 as stored (PIL's crop box); nil when the file gives none (no crop).
    public var box: [Double]?
    public var easy: [Int]
    public var hard: [Int]
    public var junk: [Int]

    public init(name: String, box: [Double]?, easy: [Int], hard: [Int], junk: [Int]) {
        (self.name, self.box, self.easy, self.hard, self.junk) = (name, box, easy, hard, junk)
    }
}

/// revisitop's `gnd_<name>.pkl` (Radenović et al. 2018): a dict of `imlist` and `qimlist` (image
/// names without `.jpg`, in `ROOT/jpg/`) and `gnd` (per query a dict of `easy`, `hard`, `junk`
/// index lists and `bbx`). Read with the plain-data unpickler; every field is checked (names are
/// confined to `jpg/`, indices lie in `imlist`), and a file that breaks a rule is refused by name.
public struct RetrievalGroundTruth: Sendable, Equatable {
    public var name: String
    public var imlist: [String]
    public var queries: [RetrievalQuery]

    public init(name: String, imlist: [String], queries: [RetrievalQuery]) {
        (self.name, self.imlist, self.queries) = (name, imlist, queries)
    }

    /// The one `gnd_<name>.pkl` in `root`.
    public static func find(in root: String) throws -> String {
        let found = try FileSystem.list(root).filter { ByteText.hasPrefix($0, "gnd_") && ByteText.hasSuffix($0, ".pkl") }.sorted()
        guard found.count == 1 else {
            throw TrainingError.badOption("\(root) must hold exactly one gnd_<name>.pkl (revisitop's layout), found \(found.isEmpty ? "none" : found.joined(separator: ", "))")
        }
        return root + "/" + found[0]
    }

    /// Reads and checks `path`.
    public static func read(path: String) throws -> RetrievalGroundTruth {
        let stem = ByteText.stem(of: ByteText.name(of: path))
        return try parse(PlainPickle.read(path: path), name: ByteText.dropping(prefix: "gnd_", from: stem) ?? stem, path: path)
    }

    /// Checks a parsed pickle; `path` names it in errors.
    public static func parse(_ value: PlainPickle, name: String, path: String) throws -> RetrievalGroundTruth {
        func fail(_ reason: String) -> TrainingError { .badOption("\(PathCodec.display(path)) is refused: not a revisitop ground truth: \(reason)") }
        guard case let .dict(top) = value, let imlist = strings(top["imlist"]), let qimlist = strings(top["qimlist"]),
              case let .list(gnd)? = top["gnd"] else {
            throw fail("it needs a dict with imlist and qimlist (lists of names) and gnd (a list)")
        }
        guard gnd.count == qimlist.count else { throw fail("gnd has \(gnd.count) entries for \(qimlist.count) queries") }
        for (i, entry) in (imlist + qimlist).enumerated() {
            do { try ConfinedPath.checkName(entry + ".jpg", listedIn: path, line: nil) } catch { throw fail("name \(i): \(error)") }
        }
        var queries: [RetrievalQuery] = []
        for (q, entry) in gnd.enumerated() {
            let label = "query \(q) (\(ConfinedPath.shown(qimlist[q])))"
            guard case let .dict(d) = entry else { throw fail("\(label) is not a dict") }
            var lists: [[Int]] = []
            for key in ["easy", "hard", "junk"] {
                guard let list = indices(d[key]), list.allSatisfy({ (0..<imlist.count).contains($0) }) else {
                    throw fail("\(label): \(key) must be a list of indices into the \(imlist.count) database images")
                }
                lists.append(list)
            }
            var box: [Double]?
            if let raw = d["bbx"] {
                guard let numbers = numbers(raw), numbers.count == 4 else { throw fail("\(label): bbx must be 4 numbers") }
                box = numbers
            }
            queries.append(RetrievalQuery(name: qimlist[q], box: box, easy: lists[0], hard: lists[1], junk: lists[2]))
        }
        return RetrievalGroundTruth(name: name, imlist: imlist, queries: queries)
    }

    private static func strings(_ value: PlainPickle?) -> [String]? {
        guard case let .list(items)? = value else { return nil }
        let out = items.compactMap { item -> String? in if case let .string(s) = item { return s } else { return nil } }
        return out.count == items.count ? out : nil
    }

    private static func indices(_ value: PlainPickle?) -> [Int]? {
        guard case let .list(items)? = value else { return nil }
        let out = items.compactMap { item -> Int? in if case let .int(i) = item { return i } else { return nil } }
        return out.count == items.count ? out : nil
    }

    /// Ints or floats (NaN kept: the box check refuses it by query).
    private static func numbers(_ value: PlainPickle) -> [Double]? {
        guard case let .list(items) = value else { return nil }
        let out = items.compactMap { item -> Double? in
            switch item {
            case let .int(i): return Double(i)
            case let .float(f): return f
            default: return nil
            }
        }
        return out.count == items.count ? out : nil
    }
}
