import Foundation
import SafeTensors
import Support

/// Writes a checkpoint folder (config.json + model.safetensors) of the real layout with random
/// weights of realistic scale: for benchmarks and demos where the gated weights are absent.
public enum RandomCheckpoint {
    public static func write(config: DINOv3Config, to folder: URL, seed: UInt64 = 0) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var random = SeededRandom(seed: seed)
        func next() -> Float { random.uniform(-1, 1) }
        var writer = SafeTensorsWriter(metadata: ["format": "pt", "generator": "dinoprobe RandomCheckpoint seed \(seed)"])
        for (name, shape) in config.tensorShapes.sorted(by: { $0.key < $1.key }) {
            let count = shape.reduce(1, *)
            let values: [Float]
            if name.hasSuffix("lambda1") {
                values = (0..<count).map { _ in 0.65 + 0.35 * next() }
            } else if name.contains("norm") && name.hasSuffix("weight") {
                values = (0..<count).map { _ in 1 + 0.1 * next() }
            } else if name.hasSuffix("bias") {
                values = (0..<count).map { _ in 0.05 * next() }
            } else if shape.count >= 2 && !name.contains("token") {
                let scale = Float(3).squareRoot() / Float(shape.dropFirst().reduce(1, *)).squareRoot()
                values = (0..<count).map { _ in scale * next() }
            } else {
                values = (0..<count).map { _ in next() }
            }
            try writer.add(name, floats: values, shape: shape)
        }
        try writer.write(to: folder.appendingPathComponent("model.safetensors").path)
        try AtomicFile.write(Data(config.jsonText().utf8), to: folder.appendingPathComponent("config.json").path)
    }
}
