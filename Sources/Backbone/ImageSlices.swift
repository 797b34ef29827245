/// How a CPU forward pass over `batch` images is shared among `threads` threads: `slices`, one
/// per thread, of equal length, each run by one thread alone; `rest`, the images an equal split
/// leaves over, run afterwards by all threads together. No slices (everything in `rest`) when
/// there is one thread or fewer images than threads.
struct ImageSlices: Equatable {
    let slices: [Range<Int>]
    let rest: Range<Int>?
}

extension ImageSlices {
    init(batch: Int, threads: Int) {
        guard threads > 1, batch >= threads else {
            self.init(slices: [], rest: batch > 0 ? 0..<batch : nil)
            return
        }
        let each = batch / threads
        self.init(slices: (0..<threads).map { $0 * each..<($0 + 1) * each }, rest: batch % threads == 0 ? nil : threads * each..<batch)
    }
}
