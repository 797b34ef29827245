/// The largest absolute difference between two equally long runs of floats (parity checks).
public func maxAbsDiff<A: Collection, B: Collection>(_ a: A, _ b: B) -> Float where A.Element == Float, B.Element == Float {
    precondition(a.count == b.count, "sizes differ: \(a.count) vs \(b.count)")
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
