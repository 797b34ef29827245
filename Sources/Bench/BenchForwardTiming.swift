import CommandLineKit
import Backbone
import Foundation

/// The backbone-only timings of `bench backbone` at one batch size.
struct ForwardTiming {
    /// Seconds of each timed dinoprobe forward pass.
    var seconds: [Double] = []
    /// Seconds of the reference's forward pass timed right beside each of `seconds` (empty without one).
    var referenceSeconds: [Double] = []
    /// GFLOP/s of the sgemm probe measured just before each of `seconds` (empty when not probing).
    var probeGFLOPs: [Double] = []
    /// Image 0's CLS features from the last pass.
    var cls: [Float] = []
}

extension BenchBackbone {
    /// The pause, untimed, before each timed pass when two processes take turns. OpenMP's idle
    /// threads (libgomp's, in both processes) keep spinning for a while after a parallel region;
    /// without the pause they take the cores from the other side's next pass. Measured here
    /// without it: dinoprobe at batch 1 read 80-81% of the sgemm-bound limit instead of 88-90%,
    /// and transformers at batch 8 read 14.6-14.8 images/s instead of 15.9-16.6.
    static let settleMicroseconds: UInt32 = 50_000

    /// Times `backbone` at `batch` images of `size` x `size` (after one warm-up pass up to 1024 px, as the reference's): at least
    /// `--repeats` passes and `--min-seconds` of them. With a reference, each pass is paired with
    /// one of the reference's, run just before or after it (alternately, so that neither side
    /// always follows the other), each after a pause that lets the other side's threads go idle,
    /// so a ratio per pair compares both under the same conditions. When `probing`, the sgemm rate
    /// is measured just before each pass (then the pause), for the pass's share of the limit.
    func timeForward(_ backbone: DINOv3Model, batch: Int, size: Int, against reference: ReferenceForward?, probing: Bool) throws -> ForwardTiming {
        let pixels = Self.pixels(batch: batch, size: size)
        var timing = ForwardTiming()
        let settle = { if reference != nil || probing { usleep(Self.settleMicroseconds) } }
        func ours() throws {
            if probing {
                settle()
                timing.probeGFLOPs.append(SGEMMProbe.gflops())
            }
            settle()
            let start = Date()
            let out = try backbone.forward(pixels: pixels, batch: batch, height: size, width: size)
            timing.seconds.append(Date().timeIntervalSince(start))
            timing.cls = Array(out.cls(0))
        }
        if size <= 1024 {  // a pass at 2048 px takes a minute; its first touches of memory are under 1% of it
            _ = try backbone.forward(pixels: pixels, batch: batch, height: size, width: size)
            _ = try reference?.seconds(batch: batch, size: size)
        }
        while timing.seconds.count < repeats || (timing.seconds.reduce(0, +) < minSeconds && timing.seconds.count < 1000) {
            guard let reference else { try ours(); continue }
            if timing.seconds.count % 2 == 0 {
                try ours()
                settle()
                timing.referenceSeconds.append(try reference.seconds(batch: batch, size: size))
            } else {
                settle()
                timing.referenceSeconds.append(try reference.seconds(batch: batch, size: size))
                try ours()
            }
        }
        return timing
    }

    /// The `q` quantile of sorted `values` (nearest rank).
    func quantile(_ values: [Double], _ q: Double) -> Double {
        values[min(values.count - 1, max(0, Int((q * Double(values.count)).rounded(.up)) - 1))]
    }
}
