import Datasets
import Support

/// What a retrieval run found: the ground truth, the database as ranked, each evaluated
/// query's ranking and the three setups' scores.
public struct RetrievalResult: Sendable {
    public var groundTruth: RetrievalGroundTruth
    /// Display names of the database images: `imlist`, then the distractors (relative to their folder).
    public var databaseNames: [String]
    public var databasePaths: [String]
    /// Positions into `groundTruth.queries` of the queries evaluated, and their crop files.
    public var evaluated: [Int]
    public var cropPaths: [String]
    public var rankings: [QueryRanking]
    public var scores: [RetrievalProtocol: RetrievalScore]
    public var skippedQueries: [SkippedInput]
    public var skippedDatabase: [SkippedInput]
}

/// A retrieval run: queries cropped to their boxes, the database (and distractors) and the crops
/// turned into vectors, every query ranked against the whole database, revisitop's metrics.
public enum RetrievalRun {
    /// The query crops go into the feature cache (else `scratch`), the database's vectors into `scratch`.
    public static func run(root: String, distractors: String?, extraction: RetrievalExtraction, scratch: String) throws -> RetrievalResult {
        let (cropFolder, vectorFile) = (Self.cropFolder(in: extraction.cache.folder ?? scratch, root: root), scratch + "/.database-vectors.f32")
        let inputs = try Inputs(root: root, distractors: distractors)
        let (gt, names, paths) = (inputs.groundTruth, inputs.names, inputs.paths)
        var skippedDatabase = inputs.problems
        let crops = try QueryCrops.make(gt, images: inputs.images, gndPath: inputs.gndPath, folder: cropFolder, maxPixels: extraction.maxPixels)
        var queryRows: [Float] = []
        let queryVectors = try extraction.vectors(crops.paths, name: "queries") { queryRows += $0 }
        let evaluatedCrops = queryVectors.present
        guard !evaluatedCrops.isEmpty else {
            throw TrainingError.badOption("none of the \(gt.queries.count) queries could be used: \((crops.skipped + queryVectors.skipped).prefix(3).map(\.description).joined(separator: "; "))")
        }
        let file = try VectorFile(path: vectorFile, dim: extraction.width)
        defer { try? FileSystem.removeFile(vectorFile) }
        let database = try extraction.vectors(paths, name: "database") { try file.append($0) }
        try file.finish()
        skippedDatabase += database.skipped
        let rowOf = Dictionary(uniqueKeysWithValues: database.present.enumerated().map { ($1, $0) })
        let evaluated = evaluatedCrops.map { crops.queries[$0] }
        let tracked = evaluated.map { q in (gt.queries[q].easy + gt.queries[q].hard + gt.queries[q].junk).compactMap { rowOf[$0] } }
        let task = extraction.reporter.task("rank", total: database.present.count, unit: "images")
        var rankings = try RetrievalRanking.rank(queries: queryRows, database: file, topK: extraction.settings.topK, tracked: tracked,
                                                 blockRows: RetrievalRanking.blockRows(budget: extraction.settings.rankingMemory << 20, dim: file.dim,
                                                                                       queries: evaluated.count)) { task.update($0) }
        task.finish(database.present.count)
        // Back from rows of the ranked database to database indices.
        for i in rankings.indices {
            rankings[i].top = rankings[i].top.map { (database.present[$0.index], $0.score) }
            rankings[i].positions = Dictionary(uniqueKeysWithValues: rankings[i].positions.map { (database.present[$0.key], $0.value) })
        }
        var scores: [RetrievalProtocol: RetrievalScore] = [:]
        for setup in RetrievalProtocol.allCases {
            scores[setup] = RetrievalMAP.compute(zip(evaluated, rankings).map { q, ranking in
                let sets = setup.sets(gt.queries[q])
                return RetrievalMAP.QueryPositions(positives: Set(sets.ok).compactMap { ranking.positions[$0] }.sorted(),
                                                   junk: Set(sets.junk).compactMap { ranking.positions[$0] }.sorted(), okCount: sets.ok.count)
            })
        }
        let skippedQueries = crops.skipped + queryVectors.skipped.map { s in
            SkippedInput(index: s.index.map { crops.queries[$0] }, path: s.path, reason: s.reason)
        }
        return RetrievalResult(groundTruth: gt, databaseNames: names, databasePaths: paths, evaluated: evaluated,
                               cropPaths: evaluatedCrops.map { crops.paths[$0] }, rankings: rankings, scores: scores,
                               skippedQueries: skippedQueries, skippedDatabase: skippedDatabase)
    }

    /// The folder of the query crops of the data set at `root`, in `folder` (the feature cache:
    /// shards and the final run share them).
    static func cropFolder(in folder: String, root: String) -> String {
        var rootHash = FNV1a()
        rootHash.combine(root)
        return folder + "/retrieval-queries/" + rootHash.hexDigest
    }

    /// The ground truth, the database images (`imlist`, then the distractors) and their names.
    struct Inputs {
        var gndPath: String
        var groundTruth: RetrievalGroundTruth
        var images: ConfinedFolder
        var names: [String]
        var paths: [String]
        var problems: [SkippedInput] = []

        init(root: String, distractors: String?) throws {
            gndPath = try RetrievalGroundTruth.find(in: root)
            groundTruth = try RetrievalGroundTruth.read(path: gndPath)
            images = try ConfinedFolder(root + "/jpg")
            names = groundTruth.imlist
            paths = try groundTruth.imlist.map { [images, gndPath] in try images.resolve($0 + ".jpg", listedIn: gndPath) }
            if let distractors {
                let listing = try ImageFiles.expand([distractors])
                let base = FileSystem.absolute(distractors) + "/"
                names += listing.images.map { ByteText.dropping(prefix: base, from: $0) ?? $0 }
                paths += listing.images
                problems += listing.problems
            }
        }
    }
}
