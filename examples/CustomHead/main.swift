// Meta's linear probe on features from `dinoprobe extract`, with `import Heads` only (no
// libtorch): read the train and val features, train the 13-rate grid, choose the rate on a
// held-out tenth of train, report val metrics, and save the head, which `dinoprobe classify`
// then uses on new images (and PyTorch loads into nn.Linear).
//
//   dinoprobe extract photos/train --out train.safetensors
//   dinoprobe extract photos/val --out val.safetensors
//   swift run custom-head train.safetensors val.safetensors head.safetensors
//   dinoprobe classify --head head.safetensors new-photo.jpg
//
// Labels come from each image's parent folder name, as in an ImageFolder. TRAIN and VAL may also
// be the folders of a sharded extract (`dinoprobe extract ... --shard I/N`), read shard by shard.
import Foundation
import Heads

let arguments = CommandLine.arguments
guard arguments.count == 4 else {
    print("usage: custom-head TRAIN.safetensors VAL.safetensors OUT-HEAD.safetensors")
    exit(2)
}
do {
    let train = try FeaturesFile.read(path: arguments[1])
    let val = try FeaturesFile.read(path: arguments[2], classNames: train.classNames)
    var settings = LinearProbeSettings()  // Meta's: 13 rates, SGD, cosine, 10 x 1250 steps of 128
    settings.iterationsPerEpoch = 100     // a quick run; remove for the full protocol
    let probe = try LinearProbe.run(train: train, val: val, tokens: .clsAvgpool, blocks: 1, settings: settings)
    print(probe.table)
    print(probe.valMetrics.table())
    try probe.head.save(to: arguments[3])
    print("saved \(arguments[3])")
} catch {
    print("error: \(error)")
    exit(1)
}
