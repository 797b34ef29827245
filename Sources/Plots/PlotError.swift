/// Errors of the drawing itself. Bad input (sizes that disagree, no data) is reported as
/// `MetricsError`, like the metrics the pictures show.
public enum PlotError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The picture would exceed `Canvas.maxSide` pixels a side or `Canvas.maxPixels` in all.
    case tooLarge(width: Int, height: Int)
    /// cairo refused to draw (its status message).
    case cairo(String)

    public var description: String {
        switch self {
        case let .tooLarge(width, height):
            return "a \(width)x\(height) picture is too large (at most \(Canvas.maxSide) pixels a side, \(Canvas.maxPixels) pixels in all)"
        case let .cairo(message): return "drawing failed: \(message)"
        }
    }
}
