// Train a custom linear head on features extracted by `dinoprobe extract`, with `import Heads`
// only (no libtorch): load the features, train with SGD and a cosine schedule, save a head that
// PyTorch loads into nn.Linear.
//
//   dinoprobe extract --images photos/train --out train.safetensors
//   swift run custom-head train.safetensors head.safetensors
//
// Labels come from each image's parent folder name, as in an ImageFolder.
import Foundation
import Heads
import SafeTensors
import Support

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    print("usage: custom-head FEATURES.safetensors OUT-HEAD.safetensors")
    exit(2)
}
do {
    let file = try SafeTensorsFile(path: arguments[1])
    let features = try file.floats("cls")                                   // [N, D] CLS features
    guard let shape = file.tensors["cls"]?.shape, shape.count == 2 else { throw HeadError.invalidArgument(what: arguments[1], detail: "no cls tensor [N, D]: write it with dinoprobe extract") }
    let paths = try JSONDecoder().decode([String].self, from: Data((file.metadata["paths"] ?? "[]").utf8))
    let folders = paths.map { URL(fileURLWithPath: $0).deletingLastPathComponent().lastPathComponent }
    let classes = Array(Set(folders)).sorted()
    let labels = folders.map { classes.firstIndex(of: $0)! }

    var head = try LinearClassifier(dim: shape[1], classes: classes.count, seed: 0)
    var optimizer = SGD(momentum: 0.9)
    let steps = 500, batch = min(64, labels.count)
    let schedule = LearningRateSchedule(totalSteps: steps, warmupSteps: 25)
    var random = SeededRandom(seed: 0)
    for step in 0..<steps {
        let rows = (0..<batch).map { _ in random.int(below: labels.count) }
        let x = rows.flatMap { features[($0 * shape[1])..<(($0 + 1) * shape[1])] }
        let loss = try head.trainStep(features: x, labels: rows.map { labels[$0] }, optimizer: &optimizer,
                                      learningRate: schedule.learningRate(base: 0.05, step: step))
        if step % 100 == 0 { print("step \(step): loss \(loss)") }
    }
    print("train accuracy: \(try head.accuracy(features: features, labels: labels))")
    head.metadata.classNames = classes
    try head.save(to: arguments[2])
    print("saved \(arguments[2])")
} catch {
    print("error: \(error)")
    exit(1)
}
