import Foundation

/// Turning long series into polylines a picture can show.
enum LineDecimation {
    /// The unbroken runs of `points` (nil breaks a line).
    static func runs(_ points: [CGPoint?]) -> [[CGPoint]] {
        var runs: [[CGPoint]] = [], current: [CGPoint] = []
        for p in points {
            if let p { current.append(p) } else if !current.isEmpty { runs.append(current); current = [] }
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }

    /// `run` with, per pixel column, only its first, lowest, highest and last point (in their
    /// order), which looks the same at one pixel per column.
    static func decimate(_ run: [CGPoint]) -> [CGPoint] {
        var out: [CGPoint] = []
        var start = 0
        while start < run.count {
            let column = run[start].x.rounded(.down)
            var end = start + 1
            while end < run.count, run[end].x.rounded(.down) == column { end += 1 }
            if end - start <= 4 {
                out += run[start..<end]
            } else {
                let group = start..<end
                let low = group.min { run[$0].y < run[$1].y } ?? start
                let high = group.max { run[$0].y < run[$1].y } ?? start
                out += Set([start, low, high, end - 1]).sorted().map { run[$0] }
            }
            start = end
        }
        return out
    }
}
