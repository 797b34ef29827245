// swift-tools-version:6.2
import Foundation
import PackageDescription

/// `LIBTORCH=/path/to/libtorch` (a folder with `include/` and `lib/`, e.g. the Python wheel's
/// `torch/` folder or a CUDA build) builds the shim against that libtorch (C++20) instead of
/// Debian's `libtorch-dev` 1.13 (C++17, on the default include and library paths).
let libtorch = ProcessInfo.processInfo.environment["LIBTORCH"].flatMap { $0.isEmpty ? nil : $0 }

let torchCxxSettings: [CXXSetting] = libtorch.map { root in
    [.unsafeFlags(["-I\(root)/include", "-I\(root)/include/torch/csrc/api/include",
                   "-D_GLIBCXX_USE_CXX11_ABI=1", "-DDINOPROBE_LIBTORCH_CUSTOM=1"])]
} ?? []
let torchLinkerSettings: [LinkerSetting] = [
    // openblas: the attention kernel calls cblas_sgemm itself (single-threaded per task).
    .linkedLibrary("torch_cpu"), .linkedLibrary("c10"), .linkedLibrary("openblas"),
] + (libtorch == nil ? [
    // gomp: the attention kernel runs its tasks on libtorch's OpenMP team (libgomp).
    .linkedLibrary("gomp"),
] : []) + (libtorch.map { root in
    [.unsafeFlags(["-L\(root)/lib", "-Xlinker", "-rpath", "-Xlinker", "\(root)/lib",
                   "-Xlinker", "--no-as-needed", "-ltorch", "-Xlinker", "--as-needed"])]
} ?? [])

let package = Package(
    name: "dinoprobe",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "dinoprobe", targets: ["dinoprobe"]),
        .executable(name: "dinoprobe-bench", targets: ["Bench"]),
        .library(name: "Heads", targets: ["Heads"]),
        .library(name: "Support", targets: ["Support"]),
        .library(name: "SafeTensors", targets: ["SafeTensors"]),
        .library(name: "TorchFile", targets: ["TorchFile"]),
        .library(name: "Images", targets: ["Images"]),
        // The fuzz targets' entry points, shared by fuzz/ and the regression tests.
        .library(name: "FuzzTargets", targets: ["FuzzTargets"]),
        .library(name: "Backbone", targets: ["Backbone"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "Hub", targets: ["Hub"]),
        .library(name: "Evaluation", targets: ["Evaluation"]),
        .library(name: "Plots", targets: ["Plots"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C API over libtorch's ATen: tensors in and out, and the few ops the backbone needs.
        .target(
            name: "CTorch",
            dependencies: ["CPackedGEMM", "CSegKernels"],
            cxxSettings: torchCxxSettings,
            linkerSettings: torchLinkerSettings
        ),
        // JPEG/PNG decoding through libjpeg-turbo and libpng (setjmp error handling lives in C).
        .target(
            name: "CImageCodecs",
            linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("png16"), .linkedLibrary("z")]
        ),
        // Softmax cross-entropy kernels (fused with bilinear upsampling) on SLEEF's vector exp. Built
        // with -O2 in every configuration, as CPackedGEMM: debug test runs exercise the kernels as
        // shipped, at their speed.
        .target(
            name: "CSegKernels",
            cSettings: [.define("DINOPROBE_HAVE_SLEEF", .when(platforms: [.linux])), .unsafeFlags(["-O2"])],
            linkerSettings: [.linkedLibrary("sleef", .when(platforms: [.linux]))]
        ),
        // The backbone's linear layers on weights packed once (AVX-512 / AVX2 micro-kernels). Built
        // with -O2 in every configuration, so debug test runs exercise the kernels as shipped.
        .target(
            name: "CPackedGEMM",
            dependencies: ["CSegKernels"],
            cSettings: [.unsafeFlags(["-O2"])]
        ),
        // CBLAS from OpenBLAS.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // HTTP(S) transfers through libcurl's easy interface (Hub's HTTPTransfer).
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // SHA-256, SHA-1 and MD5 from OpenSSL's libcrypto (Hub's Digest; libcurl loads it anyway).
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // 2-D vector graphics (anti-aliased shapes and text) from Debian's cairo.
        .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),
        // Files, paths, hashing, the seeded RNG, progress reporting: what every other module builds on.
        .target(name: "Support"),
        // The safetensors format: a validated reader (mmap views) and a streamed writer.
        .target(name: "SafeTensors", dependencies: ["Support"]),
        // PyTorch's torch.save zip format, read without Python: a store-only zip reader, a restricted
        // unpickler (tensors and plain containers only), tensors viewed in place.
        .target(name: "TorchFile", dependencies: ["SafeTensors", "Support"]),
        // Preprocessing settings, their bounds and the resize plans they give, and image errors:
        // values only, no codecs (what Heads records about features). `import Images` re-exports it.
        .target(name: "ImagePreprocessing"),
        // Decoding, EXIF, resampling and preprocessing, label masks, PNG/JPEG writing.
        .target(name: "Images", dependencies: ["CImageCodecs", "ImagePreprocessing", "Support"]),
        // Metrics (mmsegmentation and scikit-learn semantics) and their JSON/CSV/text reports; draws nothing.
        .target(name: "Evaluation", dependencies: ["Support"]),
        // Pictures drawn with cairo (confusion matrices, segmentation overlays, loss curves) and HTML reports.
        .target(name: "Plots", dependencies: ["CCairo", "Evaluation", "Images", "Support"]),
        // Heads and everything that trains or uses them on features: no libtorch, no image codecs.
        .target(name: "Heads", dependencies: ["COpenBLAS", "CSegKernels", "Evaluation", "ImagePreprocessing", "SafeTensors", "Support"]),
        // HTTP transfers (shared with Datasets) and Hugging Face hub downloads into the hub cache: no libtorch.
        .target(name: "Hub", dependencies: ["CCurl", "COpenSSL", "Support"]),
        // Data sets: ImageFolder, Imagenette (and its installer), ADE20K, VOC, plain folders, synthetic.
        .target(name: "Datasets", dependencies: ["Hub", "Images", "Support"]),
        // The frozen DINOv3 backbone on libtorch.
        .target(name: "Backbone", dependencies: ["CTorch", "Images", "SafeTensors", "Support", "TorchFile"]),
        // Feature stores and the runs that tie data sets, backbone and heads together.
        .target(name: "Training", dependencies: ["Backbone", "CSegKernels", "Datasets", "Evaluation", "Heads", "Images", "Plots", "SafeTensors", "Support"]),
        .target(name: "FuzzTargets", dependencies: ["Backbone", "Datasets", "Heads", "Images", "SafeTensors", "Support", "TorchFile", "Training"]),
        // What both command lines share: the terminal, option checks, list options, help examples.
        .target(name: "CommandLineKit", dependencies: [
            "Backbone", "Datasets", "Heads", "Images", "Support", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(
            name: "dinoprobe",
            dependencies: [
                "Backbone", "COpenBLAS", "CommandLineKit", "Datasets", "Evaluation", "Heads", "Hub", "Images", "Plots", "SafeTensors", "Support",
                "Training", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            plugins: ["BuildInfo"]
        ),
        // dinoprobe-bench: the benchmarks, side by side with the Python references (`dinoprobe bench` runs it).
        .executableTarget(
            name: "Bench",
            dependencies: [
                "Backbone", "COpenBLAS", "CommandLineKit", "Datasets", "Evaluation", "Heads", "Images", "SafeTensors", "Support", "Training",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The git commit the executable was built from, for run records.
        .plugin(name: "BuildInfo", capability: .buildTool()),
        // examples/CustomHead: a custom head on extracted features with `import Heads` only.
        .executableTarget(name: "custom-head", dependencies: ["Heads", "Support"], path: "examples/CustomHead"),
        .testTarget(name: "SupportTests", dependencies: ["Support"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors", "Support", "TestSupport"]),
        .testTarget(name: "TorchFileTests", dependencies: ["TorchFile", "TestSupport"]),
        .testTarget(name: "ImagesTests", dependencies: ["Images", "SafeTensors", "Support", "TestSupport"]),
        .testTarget(name: "BackboneTests", dependencies: ["Backbone", "CPackedGEMM", "CSegKernels", "Images", "SafeTensors", "Support", "TestSupport", "TorchFile"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "HeadsTests", dependencies: ["Heads", "Evaluation", "Images", "SafeTensors", "Support"], exclude: ["Fixtures"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Hub", "Images", "Support", "TestSupport"]),
        .testTarget(name: "HubTests", dependencies: ["Backbone", "Hub", "Support", "TestSupport"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Support"]),
        .testTarget(name: "PlotsTests", dependencies: ["Plots", "Evaluation", "Images", "Support", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Heads", "Backbone", "Datasets", "Evaluation", "Images", "Plots", "SafeTensors", "Support"],
                    exclude: ["Fixtures"]),
        // Running the built executable, a headless browser, a loopback HTTP server, a fake hub and PyTorch checkpoint writers (no XCTest dependency, shared by test targets).
        .target(name: "TestSupport", dependencies: ["Heads", "Hub", "SafeTensors", "TorchFile"], path: "Tests/TestSupport"),
        // The test targets that run the executables depend on them, so `swift test` compiles them
        // (TestSupport's BuiltProduct relinks a stale executable before a test runs it).
        .testTarget(name: "CLITests", dependencies: ["Backbone", "Datasets", "Heads", "Images", "SafeTensors", "Support", "TestSupport", "Training",
                                                     "dinoprobe", "custom-head", "Bench"]),
        .testTarget(name: "HostileInputTests",
                    dependencies: ["Backbone", "Datasets", "Evaluation", "FuzzTargets", "Heads", "Images", "SafeTensors", "Support", "TestSupport", "Training",
                                   "dinoprobe"],
                    exclude: ["Fixtures"]),
    ],
    // Debian's libtorch 1.13 wants C++17; newer libtorch headers require C++20.
    cxxLanguageStandard: libtorch == nil ? .cxx17 : .cxx20
)
