// swift-tools-version:6.2
// libFuzzer targets for every reader of files that come from strangers (see FuzzTargets in the
// main package). Built and run by scripts/fuzz with -sanitize=fuzzer,address and
// -parse-as-library; the C codecs are fuzzed separately under ASan + UBSan (fuzz/c).
import PackageDescription

let targets = ["SafeTensors", "JSON", "Images", "Masks", "Heads", "Features", "Config", "Pth", "CSV", "Lists", "PNG16"]

let package = Package(
    name: "dinoprobe-fuzz",
    dependencies: [.package(name: "dinoprobe", path: "..")],
    targets: [.target(name: "FuzzSupport")] + targets.map {
        .executableTarget(name: "Fuzz\($0)", dependencies: ["FuzzSupport", .product(name: "FuzzTargets", package: "dinoprobe")])
    }
)
