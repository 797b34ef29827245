import Foundation
import Support

/// Imagenette's `noisy_imagenette.csv`: for every image (path relative to the data set root,
/// e.g. `train/n02979186/n02979186_9036.JPEG`) a wnid label with 0, 1, 5, 25 or 50 % of the train
/// labels changed (columns `path, noisy_labels_0, _1, _5, _25, _50, is_valid`).
public enum NoisyLabels {
    /// The published noise levels, in percent.
    public static let levels = [0, 1, 5, 25, 50]

    /// Relative path -> wnid for one noise level. Throws `DatasetError.badFile` (naming the line)
    /// on a missing file or column or a short row, `ConfinedPath.Refusal` for a path that is not
    /// relative and inside the data set (`..`, absolute, control characters), `invalidParameter`
    /// for other levels.
    public static func read(csvAt path: String, percent: Int) throws -> [String: String] {
        guard levels.contains(percent) else { throw DatasetError.invalidParameter("no Imagenette noisy labels at \(percent)%; use 1, 5, 25 or 50") }
        let text: String
        do { text = try FileSystem.readText(path, limit: 256 << 20) } catch {
            throw DatasetError.badFile(path: path, reason: FileManager.default.fileExists(atPath: path)
                ? "cannot read it as UTF-8 text" : "no such file; noisy labels need the noisy_imagenette.csv that comes with Imagenette")
        }
        var lines = text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).map(String.init)
        guard !lines.isEmpty else { throw DatasetError.badFile(path: path, reason: "the file is empty") }
        let header = fields(lines.removeFirst())
        let column = "noisy_labels_\(percent)"
        guard let pathIndex = header.firstIndex(of: "path"), let labelIndex = header.firstIndex(of: column) else {
            throw DatasetError.badFile(path: path, reason: "the header has no 'path' and '\(column)' columns (found: \(header.joined(separator: ", ")))")
        }
        var table: [String: String] = [:]
        for (i, line) in lines.enumerated() {
            let row = fields(line)
            guard row.count > max(pathIndex, labelIndex) else {
                throw DatasetError.badFile(path: path, reason: "line \(i + 2) has \(row.count) fields, expected \(header.count)")
            }
            // The paths are only looked up, never opened, yet a list naming a path outside the
            // data set is not this data set's list: refused like every other list.
            try ConfinedPath.checkName(row[pathIndex], listedIn: path, line: i + 2)
            table[row[pathIndex]] = row[labelIndex]
        }
        return table
    }

    /// `dataset` (a train split) with each sample's label replaced by the table's; throws if a
    /// sample is not in the table or its label is not one of the data set's classes.
    public static func relabel(_ dataset: ClassificationDataset, with table: [String: String], csvPath: String) throws -> ClassificationDataset {
        let index = Dictionary(uniqueKeysWithValues: dataset.classIDs.enumerated().map { ($1, $0) })
        var result = dataset
        var missing: [String] = []
        for i in result.samples.indices {
            let relative = dataset.relativePath(result.samples[i].path)
            guard let wnid = table[relative] else { missing.append(relative); continue }
            guard let label = index[wnid] else {
                throw DatasetError.badFile(path: csvPath, reason: "label '\(wnid)' for \(relative) is not one of the classes \(dataset.classIDs.joined(separator: ", "))")
            }
            result.samples[i].label = label
        }
        if !missing.isEmpty {
            throw DatasetError.badFile(path: csvPath, reason: "\(missing.count) train image(s) are not listed, e.g. \(missing.prefix(3).joined(separator: ", ")); is the CSV from this copy of Imagenette?")
        }
        return result
    }

    /// Splits one CSV line (double-quoted fields may hold commas; "" is a quote).
    static func fields(_ line: String) -> [String] {
        var result: [String] = []
        var field = ""
        var quoted = false
        var chars = line.makeIterator()
        while let c = chars.next() {
            if quoted {
                if c == "\"" {
                    if let next = chars.next() {
                        if next == "\"" { field.append("\"") } else {
                            quoted = false
                            if next == "," { result.append(field); field = "" } else { field.append(next) }
                        }
                    } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" && field.isEmpty {
                quoted = true
            } else if c == "," {
                result.append(field)
                field = ""
            } else {
                field.append(c)
            }
        }
        result.append(field)
        return result.map { $0.trimmingCharacters(in: .whitespaces) }
    }
}
