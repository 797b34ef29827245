// A custom head on features from `dinoprobe extract`, trained by dinoprobe's own TrainingLoop with
// `import Heads` (and Support, for the seeded random stream; no libtorch): a cosine classifier, logits = 16 · cos(feature, class weight).
//
//   dinoprobe extract photos/train --out train.safetensors
//   dinoprobe extract photos/val --out val.safetensors
//   swift run custom-head train.safetensors val.safetensors head.safetensors
//
// Labels come from each image's parent folder (ImageFolder). The head file is a safetensors file
// (`f.head.weight`, classes x dim) that `safetensors.torch.load_file` reads.
import Foundation
import Heads
import Support

struct CosineClassifier: TrainableHead {
    typealias Batch = LabelledFeatures
    var weight: [Float], classes: Int, dim: Int, scale: Float = 16
    var metadata: HeadMetadata

    func logits(_ x: [Float], rows: Int) -> [Float] {
        let (xn, wn) = (normalized(x, width: dim), normalized(weight, width: dim))
        return (0..<rows * classes).map { i in
            let (r, k) = (i / classes, i % classes)
            return scale * (0..<dim).reduce(0) { $0 + xn[r * dim + $1] * wn[k * dim + $1] }
        }
    }
    mutating func forwardBackward(_ b: LabelledFeatures, random: inout SeededRandom) throws -> HeadGradients {
        let (loss, dLogits) = try SoftmaxCrossEntropy().lossAndGradient(logits: logits(b.values, rows: b.count), labels: b.labels, classes: classes)
        let xn = normalized(b.values, width: dim)
        var grad = [Float](repeating: 0, count: weight.count)
        for k in 0..<classes {  // d loss / d w_k through w_k / |w_k|
            let w = weight[(k * dim)..<((k + 1) * dim)], norm = max(w.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
            let g = (0..<dim).map { j in (0..<b.count).reduce(0) { $0 + scale * dLogits[$1 * classes + k] * xn[$1 * dim + j] } }
            let along = zip(g, w).reduce(0) { $0 + $1.0 * $1.1 } / (norm * norm)
            for j in 0..<dim { grad[k * dim + j] = (g[j] - along * w[w.startIndex + j]) / norm }
        }
        return HeadGradients(losses: [loss], parameters: [("weight", grad)])
    }
    mutating func updateParameter(_ name: String, _ update: (inout [Float]) throws -> Void) throws { try update(&weight) }
    func save(into state: inout TrainingState, as prefix: String) { state.floats[prefix + ".weight"] = weight }
    mutating func restore(from state: TrainingState, as prefix: String) throws { weight = try state.floats(prefix + ".weight", count: weight.count) }
}

func normalized(_ v: [Float], width: Int) -> [Float] {
    stride(from: 0, to: v.count, by: width).flatMap { s in
        let row = v[s..<(s + width)], norm = max(row.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
        return row.map { $0 / norm }
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 4 else { print("usage: custom-head TRAIN.safetensors VAL.safetensors OUT-HEAD.safetensors"); exit(2) }
do {
    let trainSplit = try FeaturesFile.read(path: arguments[1])
    var train = try trainSplit.labelled(.cls, blocks: 1)
    var val = try FeaturesFile.read(path: arguments[2], classNames: trainSplit.classNames).labelled(.cls, blocks: 1)
    let mean = (0..<train.width).map { j in stride(from: j, to: train.values.count, by: train.width).reduce(0) { $0 + train.values[$1] } / Float(train.count) }
    for i in train.values.indices { train.values[i] -= mean[i % train.width] }  // centred: cosines of raw CLS are all near 1
    for i in val.values.indices { val.values[i] -= mean[i % val.width] }
    let classes = trainSplit.classNames.count
    var random = SeededRandom(seed: 0)
    var head = CosineClassifier(weight: (0..<classes * train.width).map { _ in random.normal(std: 0.01) }, classes: classes,
                                dim: train.width, metadata: HeadMetadata(kind: .classifier, classNames: trainSplit.classNames))
    let loop = try TrainingLoop(name: "cosine-classifier", settings: ["scale": 16], steps: 300, batchSize: 32, seed: 0,
                                schedule: LearningRateSchedule(totalSteps: 300), learningRates: [0.1], series: ["cosine"])
    var sgd = SGD(momentum: 0.9)
    let outcome = try loop.run(&head, optimizer: &sgd, samples: train.count, batch: { train.rows($0) })
    let valLogits = head.logits(val.values, rows: val.count)
    var correct = 0
    for r in 0..<val.count {
        let row = Array(valLogits[(r * classes)..<((r + 1) * classes)])
        if row.firstIndex(of: row.max() ?? 0) == val.labels[r] { correct += 1 }
    }
    let accuracy = Double(correct) / Double(max(val.count, 1))
    print(String(format: "final training loss %.4f, val top-1 %.2f%% on %d images", outcome.finalLosses[0], 100 * accuracy, val.count))
    var state = TrainingState()
    head.save(into: &state, as: "head")
    try state.write(to: arguments[3])
    print("saved \(arguments[3])")
} catch {
    print("error: \(error)")
    exit(1)
}
