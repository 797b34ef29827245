import Datasets
import Foundation
import Images
import Support

/// One video of the DAVIS 2017 semi-supervised layout, checked: frames numbered without gaps,
/// the first frame annotated, and every annotation's palette agreeing with the first's.
public struct VideoSequence: Sendable, Equatable {
    public var name: String
    /// `JPEGImages/480p/NAME/*.jpg` in order, and their stems (`00000`, …).
    public var frames: [String]
    public var stems: [String]
    /// `Annotations/480p/NAME/STEM.png` for every frame when all exist (the video is scored), else the first only.
    public var annotations: [String]
    /// The first annotation's palette (RGB triples), written into every output PNG.
    public var palette: [UInt8]

    /// Whether every frame has an annotation (then J and F are computed).
    public var isAnnotated: Bool { annotations.count == frames.count }
}

/// Reads the DAVIS 2017 layout: `ROOT/JPEGImages/480p/V/*.jpg`, `ROOT/Annotations/480p/V/*.png`
/// (palette PNGs, object id = palette index) and `ROOT/ImageSets/2017/SPLIT.txt` (one video a line).
public enum DAVISVideos {
    /// The videos of `split` (or `only` these names), each checked; those that fail are skipped
    /// with the reason. A list entry naming a path outside the root refuses the list.
    public static func read(root: String, split: String, only: [String]? = nil) throws -> (videos: [VideoSequence], skipped: [SkippedInput]) {
        let names: [String]
        if let only { names = only } else {
            try ConfinedPath.checkName(split, listedIn: "--split")
            let list = root + "/ImageSets/2017/\(split).txt"
            guard let data = FileManager.default.contents(atPath: list), data.count <= 1 << 20 else {
                throw DatasetError.badFile(path: list, reason: "missing, unreadable or over 1 MiB: the DAVIS layout lists its videos in ImageSets/2017/\(split).txt")
            }
            names = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        let listedIn = only == nil ? root + "/ImageSets/2017/\(split).txt" : "--videos"
        let images = try folder(root + "/JPEGImages/480p"), masks = try folder(root + "/Annotations/480p")
        var videos: [VideoSequence] = [], skipped: [SkippedInput] = []
        var firstLine: [[UInt8]: Int] = [:]  // bytes: "e\u{301}" and "\u{e9}" are two folders
        for (line, name) in names.enumerated() {
            let frameFolder = try images.resolve(name, listedIn: listedIn, line: line + 1)
            let maskFolder = try masks.resolve(name, listedIn: listedIn, line: line + 1)
            do {
                // A plain name (no "/", judged on bytes) and none of the run folder's own (`.staging`): it is published.
                guard RunPublication.isPlainName(name),
                      !(PropagationReport.files + ["run.json"]).contains(where: { ByteText.same($0, name) }) else {
                    throw DatasetError.badFile(path: frameFolder, reason: "a video is one folder, not named like an output or the run folder's own files")
                }
                if let first = firstLine[PathCodec.bytes(of: name)] {
                    throw DatasetError.badFile(path: frameFolder, reason: "listed again (first on line \(first + 1) of \(listedIn)); each video is scored once")
                }
                firstLine[PathCodec.bytes(of: name)] = line
                videos.append(try video(name, frames: frameFolder, annotations: maskFolder))
            } catch {
                skipped.append(SkippedInput(index: line, path: name, reason: "\(error)"))
            }
        }
        return (videos, skipped)
    }

    static func folder(_ path: String) throws -> ConfinedFolder {
        do { return try ConfinedFolder(path) } catch { throw DatasetError.badFile(path: path, reason: "missing: not the DAVIS 2017 layout (\(error))") }
    }

    /// One video's frames and annotations, checked.
    static func video(_ name: String, frames folder: String, annotations maskFolder: String) throws -> VideoSequence {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { ByteText.hasSuffix($0, ".jpg") }.sorted()
        guard !files.isEmpty else { throw DatasetError.badFile(path: folder, reason: "no .jpg frames") }
        let stems = files.map { ByteText.dropping(suffix: ".jpg", from: $0) ?? $0 }  // bytes: dropLast(4) could take a U+0600
        let numbers = stems.compactMap { $0.allSatisfy(\.isASCII) ? Int($0) : nil }
        guard numbers.count == stems.count else { throw DatasetError.badFile(path: folder, reason: "frame names must be numbers (00000.jpg, ...)") }
        if let gap = zip(numbers, numbers.dropFirst()).first(where: { $0 == Int.max || $1 != $0 + 1 }) {
            throw DatasetError.badFile(path: folder, reason: "missing frames: \(gap.0) is followed by \(gap.1)")
        }
        let annotations = stems.map { maskFolder + "/" + $0 + ".png" }
        let present = annotations.map { FileManager.default.fileExists(atPath: $0) }
        guard present[0] else { throw DatasetError.badFile(path: annotations[0], reason: "the first frame has no annotation to propagate") }
        let all = present.allSatisfy { $0 }
        if !all, present.dropFirst().contains(true) {
            let missing = zip(stems, present).filter { !$1 }.map(\.0)
            throw DatasetError.badFile(path: maskFolder, reason: "annotations missing for frames \(missing.prefix(5).joined(separator: ", "))\(missing.count > 5 ? ", ..." : "")")
        }
        let used = all ? annotations : [annotations[0]]
        let palette = try MaskDecoder.palette(path: used[0]) ?? Palette.voc()
        for path in used.dropFirst() { try checkPalette(path, against: palette) }
        return VideoSequence(name: name, frames: files.map { folder + "/" + $0 }, stems: stems, annotations: used, palette: palette)
    }

    /// Throws unless `path`'s palette gives every index both palettes have the first's colour.
    static func checkPalette(_ path: String, against first: [UInt8]) throws {
        let colours = try MaskDecoder.palette(path: path) ?? Palette.voc()
        let shared = min(colours.count, first.count)
        if let byte = (0..<shared).first(where: { colours[$0] != first[$0] }) {
            let index = byte / 3, rgb = (index * 3)..<(index * 3 + 3)
            throw DatasetError.badFile(path: path, reason: "its palette gives index \(index) the colour \(colours[rgb].map(String.init)) but the first "
                                       + "frame's gives \(first[rgb].map(String.init)): the object ids would not mean the same objects")
        }
    }
}
