/// The k largest values of a row with their indices, best first; equal values keep the lower
/// index first. A bounded min-heap (worst entry at the root) over one pass.
struct KNNTopK {
    struct Entry: Equatable {
        var similarity: Float
        var index: Int
    }

    let capacity: Int
    private var heap: [Entry] = []
    /// The selection of the last `select`, best first.
    private(set) var best: [Entry] = []

    init(capacity: Int) {
        self.capacity = capacity
        heap.reserveCapacity(capacity)
        best.reserveCapacity(capacity)
    }

    /// Whether `a` ranks after `b` (lower value, or equal value and higher index).
    @inline(__always)
    private static func worse(_ a: Entry, _ b: Entry) -> Bool {
        a.similarity != b.similarity ? a.similarity < b.similarity : a.index > b.index
    }

    mutating func select(_ row: UnsafeBufferPointer<Float>) {
        heap.removeAll(keepingCapacity: true)
        let k = min(capacity, row.count)
        guard k > 0 else { best = []; return }
        for i in 0..<row.count {
            let e = Entry(similarity: row[i], index: i)
            if heap.count < k {
                heap.append(e)
                siftUp(heap.count - 1)
            } else if Self.worse(heap[0], e) {
                heap[0] = e
                siftDown(0)
            }
        }
        best = heap.sorted { Self.worse($1, $0) }
    }

    private mutating func siftUp(_ start: Int) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.worse(heap[i], heap[parent]) else { return }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        let n = heap.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < n && Self.worse(heap[l], heap[m]) { m = l }
            if r < n && Self.worse(heap[r], heap[m]) { m = r }
            if m == i { return }
            heap.swapAt(i, m)
            i = m
        }
    }
}
